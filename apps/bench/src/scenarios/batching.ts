import { parseArgs } from 'node:util';
import { commonOptions, parseList, parsePositiveInt } from '../args.js';
import { Client, pairs, type RespValue } from '../client.js';
import { measuredOf, type Measured } from '../direct.js';
import { encodeCommand, formatRate, ProgressLine, runLoad } from '../loadgen/index.js';
import { mnistSample, onnxMlp } from '../models.js';
import { dagArgs, dagOutput, maxRelDiff, separateArgs } from '../pipeline.js';
import { barChartSvg } from '../plot.js';
import { machineLine, resultBase, textTable, toCsv, writeFile, type Row } from '../report.js';
import { startRespai, type ServerHandle } from '../servers.js';
import { serverWarmupMs, warmUp } from '../warmup.js';

export const usage = `batching: closed-loop clients on one model stored with BATCHSIZE 8, 16, 32 vs without batching (0)

  Model: an mnist-sized MLP built with backend-onnx's writer, batch dimension symbolic:
  x [N,784] -> MatMul+Add (128) -> Relu -> MatMul+Add -> y [N,10], seeded random weights.
  Each client sends one inference at a time with its own input (a different pseudo-random image):
  by default one AI.DAGEXECUTE ROUTING m |> AI.TENSORSET a |> AI.MODELEXECUTE m |> AI.TENSORGET b BLOB
  (the one-round-trip form RedisAI documents for inference; nothing is written to the keyspace), or
  with --request separate the three commands on the client's own keys, each awaiting its reply.
  Every configuration is its own model key on ONE server process (same blob, own ONNX session), so
  all of them meet the same process, worker and allocator; each measurement has its own warm-up,
  and --rounds N repeats the whole set in alternating order and reports each configuration's
  median run. Before measuring, concurrent requests on each batched key are checked against the
  unbatched key's outputs (each request must get its own rows back).
  AI.INFO <key> (statistics reset before each measurement) gives the runs and the average batch formed.
  Target (issue 8): with 32 clients, batched throughput >= 2.5x the unbatched throughput.

options:
  --clients N              closed-loop clients (default 32)
  --batch-sizes LIST       BATCHSIZE values, 0 = no batching (default 0,8,16,32)
  --min-batch-sizes LIST   also sweep MINBATCHSIZE for each BATCHSIZE > 0 (default: none; e.g. 4,8)
  --min-batch-timeout MS   MINBATCHTIMEOUT with MINBATCHSIZE (default: none)
  --request R              dag | separate (default dag)
  --hidden N               the MLP's hidden width (default 128)
  --intra-op N             the server's ONNX intra-op threads (default 1)
  --threads-per-queue N    the server's run slots per device queue (default 1)
  --rounds N               repeat every configuration N times, alternating the order (default 1)
  --window-ms N            measurement window (default 2000; --quick: 500)
  --max-windows N          give up on stability after N windows (default 10; --quick: 5)
  --server-warmup-ms N     unmeasured load before the first measurement, shared out over the
                           configurations (default 3000; --quick: 1000; at least 500 each)
  --quick                  short windows, for a smoke run
  --out DIR                where results go (default <repo>/bench-results)`;

/** Target from the issue; never relaxed by changing what is measured. */
const TARGET_GAIN = 2.5;
const TARGET_CLIENTS = 32;

interface Config {
  label: string;
  batchSize: number;
  minBatchSize: number;
  key: string;
}

interface RunFigures extends Measured {
  round: number;
  runs: number;
  calls: number;
  avgBatch: number;
  batchSizes: string;
}

const fmtUs = (us: number) => (us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : us >= 1000 ? `${(us / 1000).toFixed(2)}ms` : `${us.toFixed(0)}us`);

const num = (v: RespValue | undefined): number => (Buffer.isBuffer(v) ? Number(v.toString()) : typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/** AI.INFO's batch histogram ([size, count, ...]) as "size x count" for the most frequent sizes. */
function topSizes(v: RespValue | undefined, n = 3): string {
  if (!Array.isArray(v)) return '';
  const all: [number, number][] = [];
  for (let i = 0; i + 1 < v.length; i += 2) all.push([num(v[i]), num(v[i + 1])]);
  return all
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([s, c]) => `${s}x${c}`)
    .join(' ');
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: String(TARGET_CLIENTS) },
      'batch-sizes': { type: 'string', default: '0,8,16,32' },
      'min-batch-sizes': { type: 'string', default: '' },
      'min-batch-timeout': { type: 'string' },
      request: { type: 'string', default: 'dag' },
      hidden: { type: 'string', default: '128' },
      'intra-op': { type: 'string', default: '1' },
      'threads-per-queue': { type: 'string', default: '1' },
      rounds: { type: 'string', default: '1' },
      'window-ms': { type: 'string' },
      'max-windows': { type: 'string' },
      'server-warmup-ms': { type: 'string' },
      ...commonOptions(),
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const clients = parsePositiveInt(values.clients, '--clients');
  const sizes = parseList(values['batch-sizes'], (s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--batch-sizes: not a size: ${s}`);
    return n;
  });
  if (!sizes.includes(0)) sizes.unshift(0); // the unbatched baseline is always measured
  const mins = parseList(values['min-batch-sizes'], (s) => parsePositiveInt(s, '--min-batch-sizes'));
  const minTimeout = values['min-batch-timeout'] ? parsePositiveInt(values['min-batch-timeout'], '--min-batch-timeout') : undefined;
  if (values.request !== 'dag' && values.request !== 'separate') throw new Error(`--request: dag or separate, got ${values.request}`);
  const request = values.request;
  const hidden = parsePositiveInt(values.hidden, '--hidden');
  const intraOp = parsePositiveInt(values['intra-op'], '--intra-op');
  const tpq = parsePositiveInt(values['threads-per-queue'], '--threads-per-queue');
  const rounds = parsePositiveInt(values.rounds, '--rounds');
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const maxWindows = values['max-windows'] ? parsePositiveInt(values['max-windows'], '--max-windows') : values.quick ? 5 : 10;
  const warmupMs = Math.min(windowMs, 1000);
  const serverWarmup = serverWarmupMs(values['server-warmup-ms'], values.quick);

  const configs: Config[] = [];
  for (const bs of sizes) {
    configs.push({ label: `bs${bs}`, batchSize: bs, minBatchSize: 0, key: `bench:b:bs${bs}` });
    if (bs === 0) continue;
    for (const min of mins) {
      if (min > bs) continue;
      configs.push({ label: `bs${bs}/min${min}`, batchSize: bs, minBatchSize: min, key: `bench:b:bs${bs}:min${min}` });
    }
  }
  const blob = onnxMlp(hidden);
  const dims = [1, 784];
  const inputs = Array.from({ length: clients }, (_, i) => mnistSample(1000 + i));

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const results = new Map<string, RunFigures[]>(configs.map((c) => [c.label, []]));
  let server: ServerHandle | undefined;
  let client: Client | undefined;
  try {
    server = await startRespai(undefined, ['--intra-op-parallelism', String(intraOp), '--threads-per-queue', String(tpq)]);
    log(`respai: pid ${server.pid}, port ${server.port}`);
    client = await Client.connect(server.port);
    for (const c of configs) {
      const batching: (string | number)[] = [];
      if (c.batchSize > 0) batching.push('BATCHSIZE', c.batchSize);
      if (c.minBatchSize > 0) batching.push('MINBATCHSIZE', c.minBatchSize);
      if (c.minBatchSize > 0 && minTimeout !== undefined) batching.push('MINBATCHTIMEOUT', minTimeout);
      await client.ok(['AI.MODELSTORE', c.key, 'ONNX', 'CPU', ...batching, 'BLOB', blob]);
    }
    await checkBatches(server.port, client, configs, dims, inputs, log);
    const request1 = (c: Config) => (i: number) =>
      request === 'dag'
        ? encodeCommand(dagArgs(c.key, dims, inputs[i]!))
        : separateArgs(c.key, `bench:in:${i}`, `bench:out:${i}`, dims, inputs[i]!).map(encodeCommand);
    if (serverWarmup > 0) {
      const each = Math.max(500, serverWarmup / configs.length);
      log(`batching: server warm-up ${each.toFixed(0)} ms per configuration`);
      for (const c of configs) await warmUp(server.port, each, clients, request1(c), request === 'separate' ? 3 : 1);
    }

    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? configs : [...configs].reverse();
      for (const c of order) {
        await client.ok(['AI.INFO', c.key, 'RESETSTAT']);
        const r = await runLoad({
          port: server.port,
          connections: clients,
          requests: request1(c),
          chain: request === 'separate' ? 3 : 1,
          windowMs,
          warmupMs,
          maxWindows,
          onProgress: progress.reporter(`batching ${c.label}${rounds > 1 ? ` round ${round + 1}` : ''}`),
        });
        const info = pairs(await client.ok(['AI.INFO', c.key]));
        const fig: RunFigures = {
          ...measuredOf(r),
          round,
          runs: num(info.get('runs')),
          calls: num(info.get('calls')),
          avgBatch: num(info.get('avg_batch_size')),
          batchSizes: topSizes(info.get('batch_sizes')),
        };
        results.get(c.label)!.push(fig);
        log(
          `batching ${c.label} c=${clients}: ${formatRate(r.opsPerSec)} inferences/s, p50 ${r.p50Us.toFixed(0)}us, p99 ${r.p99Us.toFixed(0)}us, ` +
            `avg batch ${fig.avgBatch.toFixed(2)}${r.stable ? '' : ' UNSTABLE'}${r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''}`,
        );
      }
    }
  } finally {
    progress.clear();
    client?.close();
    await server?.stop();
  }

  // Each configuration's median run (by throughput), as the tensors scenario reports rounds.
  const chosen = new Map<string, RunFigures>();
  for (const c of configs) {
    const runs = results.get(c.label)!;
    // The median run (the upper one of an even count): its p50/p99 come with its throughput.
    chosen.set(c.label, [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec)[runs.length >> 1]!);
  }
  const base = chosen.get('bs0')!;
  const rows: Row[] = [];
  const body: string[][] = [];
  const verdicts: string[] = [];
  for (const c of configs) {
    const r = chosen.get(c.label)!;
    rows.push({ scenario: 'batching', op: c.label, target: request, payload: 784 * 4, concurrency: clients, pipeline: 1, ...r });
    const gain = r.opsPerSec / base.opsPerSec;
    const goal = c.batchSize > 0 ? `${gain >= TARGET_GAIN ? 'PASS' : 'MISS'} >=${TARGET_GAIN}x` : '';
    body.push([
      c.label,
      String(clients),
      formatRate(r.opsPerSec) + (r.stable ? '' : '~'),
      `${gain.toFixed(2)}x`,
      fmtUs(r.p50Us),
      fmtUs(r.p99Us),
      Number.isFinite(r.avgBatch) ? r.avgBatch.toFixed(2) : '?',
      r.batchSizes,
      String(r.errors),
      goal,
    ]);
  }
  const batched = configs.filter((c) => c.batchSize > 0);
  if (batched.length > 0) {
    const best = batched.reduce((a, b) => (chosen.get(b.label)!.opsPerSec > chosen.get(a.label)!.opsPerSec ? b : a));
    const gain = chosen.get(best.label)!.opsPerSec / base.opsPerSec;
    verdicts.push(
      `best: ${best.label} at ${gain.toFixed(2)}x the unbatched throughput with ${clients} clients: ` +
        `${gain >= TARGET_GAIN ? 'PASS' : 'MISS'} >= ${TARGET_GAIN}x` +
        (clients === TARGET_CLIENTS ? '' : ` (the target is stated for ${TARGET_CLIENTS} clients)`),
    );
    for (const c of batched) {
      const g = chosen.get(c.label)!.opsPerSec / base.opsPerSec;
      verdicts.push(`  ${c.label}: ${g.toFixed(2)}x: ${g >= TARGET_GAIN ? 'PASS' : 'MISS'}`);
    }
  }

  const out = resultBase(values.out, 'batching');
  const csv = writeFile(`${out}.csv`, toCsv(rows));
  const roundsCsv = writeFile(`${out}-rounds.csv`, roundsCsvText(configs, results));
  const svg = writeFile(`${out}.svg`, plot(configs, chosen, clients, request));
  const reqText =
    request === 'dag'
      ? 'one AI.DAGEXECUTE (TENSORSET + MODELEXECUTE + TENSORGET, DAG-local) per inference'
      : 'AI.TENSORSET + AI.MODELEXECUTE + AI.TENSORGET per inference, each awaiting its reply';
  console.log(`\nbatching: ${clients} closed-loop clients, ${reqText}`);
  console.log(machineLine());
  console.log(
    `  model: generated MLP x[N,784] -> ${hidden} (Relu) -> 10, batch dimension symbolic; ONNX intra-op ${intraOp}, threads-per-queue ${tpq}` +
      `${minTimeout !== undefined ? `, MINBATCHTIMEOUT ${minTimeout} ms` : ''}; ${rounds} round${rounds === 1 ? '' : 's'} (median run shown)`,
  );
  console.log('  avg batch and sizes: AI.INFO of the key over the measurement (warm-up included); sizes as size x runs. ~: never stabilised.\n');
  console.log(
    textTable(['config', 'clients', 'inferences/s', 'vs bs0', 'p50', 'p99', 'avg batch', 'batch sizes', 'errors', 'goal'], body),
  );
  console.log(`\n${verdicts.join('\n')}`);
  console.log(`\nwrote ${csv}\nwrote ${roundsCsv}\nwrote ${svg}`);
  return 0;
}

/**
 * Concurrent requests with distinct inputs on each batched key must get exactly what the
 * unbatched key gives each input alone: batching that mixes up rows would make any speed-up moot.
 */
async function checkBatches(
  port: number,
  client: Client,
  configs: readonly Config[],
  dims: number[],
  inputs: readonly Float32Array[],
  log: (s: string) => void,
): Promise<void> {
  const n = Math.min(inputs.length, 16);
  const want: Float32Array[] = [];
  for (let i = 0; i < n; i++) want.push(await dagOutput(client, dagArgs('bench:b:bs0', dims, inputs[i]!)));
  const conns = await Promise.all(Array.from({ length: n }, () => Client.connect(port)));
  try {
    for (const c of configs) {
      if (c.batchSize === 0) continue;
      // A MINBATCHSIZE above n without a timeout would wait forever: such a key is not checked.
      if (c.minBatchSize > n) continue;
      const got = await Promise.all(conns.map((k, i) => dagOutput(k, dagArgs(c.key, dims, inputs[i]!))));
      got.forEach((g, i) => {
        if (maxRelDiff(g, want[i]!) > 1e-5) throw new Error(`${c.label}: request ${i} of a concurrent burst got another request's output, or a wrong one`);
      });
      const info = pairs(await client.ok(['AI.INFO', c.key]));
      log(`batching ${c.label}: ${n} concurrent requests checked, ${num(info.get('runs'))} runs for ${num(info.get('calls'))} calls`);
    }
  } finally {
    for (const k of conns) k.close();
  }
}

function roundsCsvText(configs: readonly Config[], results: ReadonlyMap<string, RunFigures[]>): string {
  const lines = ['config,batch_size,min_batch_size,round,ops_per_s,p50_us,p99_us,errors,stable,runs,calls,avg_batch_size'];
  for (const c of configs) {
    for (const r of results.get(c.label)!) {
      lines.push(
        [c.label, c.batchSize, c.minBatchSize, r.round + 1, r.opsPerSec.toFixed(1), r.p50Us.toFixed(1), r.p99Us.toFixed(1), r.errors, r.stable, r.runs, r.calls, r.avgBatch.toFixed(3)].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function plot(configs: readonly Config[], chosen: ReadonlyMap<string, RunFigures>, clients: number, request: string): string {
  const base = chosen.get('bs0')!;
  const label = (c: Config) => [c.label, `avg ${chosen.get(c.label)!.avgBatch.toFixed(1)}`];
  return barChartSvg({
    title: `batching: ${clients} clients (${request}), BATCHSIZE vs none`,
    yLabel: 'inferences/s',
    xLabel: 'configuration (avg = average batch formed)',
    series: ['inferences/s', 'p50', 'p99'],
    panels: [
      {
        title: `throughput (note: vs bs0; target >= ${TARGET_GAIN}x)`,
        groups: configs.map((c) => {
          const r = chosen.get(c.label)!;
          return { label: label(c), values: { 'inferences/s': r.opsPerSec }, note: `${(r.opsPerSec / base.opsPerSec).toFixed(2)}x` };
        }),
      },
      {
        title: 'latency per inference: p50 and p99',
        yLabel: 'latency (us)',
        groups: configs.map((c) => {
          const r = chosen.get(c.label)!;
          return { label: label(c), values: { p50: r.p50Us, p99: r.p99Us } };
        }),
      },
    ],
    panelScale: true,
    footer: machineLine(),
  });
}
