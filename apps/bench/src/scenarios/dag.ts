import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { computeOptions, computeSettings, parseList } from '../args.js';
import { Client } from '../client.js';
import { measuredOf } from '../direct.js';
import { encodeCommand, formatRate, ProgressLine, runLoad } from '../loadgen/index.js';
import { onnxFixture, type OnnxFixture } from '../models.js';
import { dagArgs, dagOutput, maxRelDiff, separateArgs, separateOutput } from '../pipeline.js';
import { barChartSvg } from '../plot.js';
import { machineLine, resultBase, textTable, toCsv, writeFile, type Row } from '../report.js';
import { repoRoot, startRespai, type ServerHandle } from '../servers.js';
import { warmUp } from '../warmup.js';

export const usage = `dag: one AI.DAGEXECUTE (TENSORSET + MODELEXECUTE + TENSORGET) vs the same three commands sent separately

  dag:       AI.DAGEXECUTE ROUTING m |> AI.TENSORSET a FLOAT <dims> BLOB <x> |> AI.MODELEXECUTE m INPUTS 1 a
             OUTPUTS 1 b |> AI.TENSORGET b BLOB   (one round trip; a and b DAG-local, nothing persisted)
  separate:  AI.TENSORSET in:<i> ..., then AI.MODELEXECUTE m INPUTS 1 in:<i> OUTPUTS 1 out:<i>, then
             AI.TENSORGET out:<i> BLOB, each sent when the previous reply is in (a client awaiting each call)
  pipelined: (on request) the same three commands written at once, replies awaited together
  One sample = one inference (all three steps); its latency runs from the first write to the last
  reply. Each client has its own keys. Per concurrency level the modes run back to back (separate
  first), on one server. Models (ONNX, built with backend-onnx's writer): tiny (x[1,8] @ W[8,8],
  Relu: the per-request cost) and mnist (MLP 784-128-10, seeded random weights).

options:
  --models LIST         tiny,mnist (default both)
  --modes LIST          separate,dag,pipelined (default separate,dag)
  --concurrency LIST    clients, the levels of the sweep (default 1,2,4,8,16,32)
  --intra-op N          the server's ONNX intra-op threads (default 1)
  --threads-per-queue N the server's run slots per device queue (default 1)
  --window-ms N         measurement window (default 2000; --quick: 500)
  --max-windows N       give up on stability after N windows (default 10; --quick: 5)
  --server-warmup-ms N  unmeasured load on each model (both shapes) before its first measurement
                        (default 3000; --quick: 1000): a fresh server runs slow for its first seconds
  --quick               short windows, for a smoke run
  --out DIR             where results go (default <repo>/bench-results)`;

type Mode = 'separate' | 'dag' | 'pipelined';
const MODES: readonly Mode[] = ['separate', 'dag', 'pipelined'];

const fmtUs = (us: number) => (us >= 10_000 ? `${(us / 1000).toFixed(1)}ms` : us >= 1000 ? `${(us / 1000).toFixed(2)}ms` : `${us.toFixed(0)}us`);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'tiny,mnist' },
      modes: { type: 'string', default: 'separate,dag' },
      ...computeOptions(join(repoRoot, 'bench-results')),
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const models = parseList(values.models, (s) => {
    if (s !== 'tiny' && s !== 'mnist') throw new Error(`--models: unknown model ${s} (tiny, mnist)`);
    return onnxFixture(s);
  });
  const modes = parseList(values.modes, (s) => {
    if (!MODES.includes(s as Mode)) throw new Error(`--modes: unknown mode ${s} (${MODES.join(', ')})`);
    return s as Mode;
  });
  const bench = computeSettings(values);
  const { levels, intraOp, windowMs, maxWindows } = bench;
  const tpq = bench.threadsPerQueue;
  const warmupMs = Math.min(windowMs, 1000);
  const serverWarmup = bench.serverWarmupMs;

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const rows: Row[] = [];
  let server: ServerHandle | undefined;
  let client: Client | undefined;
  try {
    server = await startRespai(undefined, ['--intra-op-parallelism', String(intraOp), '--threads-per-queue', String(tpq)]);
    log(`respai: pid ${server.pid}, port ${server.port}`);
    client = await Client.connect(server.port);
    for (const m of models) {
      const key = `bench:m:${m.name}`;
      await client.ok(['AI.MODELSTORE', key, 'ONNX', 'CPU', 'BLOB', m.blob]);
      const sep = (i: number) => separateArgs(key, `bench:in:${i}`, `bench:out:${i}`, m.dims, m.data);
      // Both shapes compute the same thing: checked once before measuring.
      const viaDag = await dagOutput(client, dagArgs(key, m.dims, m.data));
      const viaSep = await separateOutput(client, sep(0));
      if (viaDag.length !== m.outWidth || maxRelDiff(viaDag, viaSep) > 1e-6) {
        throw new Error(`${m.name}: the DAG's output differs from the separate commands' output`);
      }
      log(`dag ${m.name}: server warm-up ${serverWarmup} ms`);
      const wc = Math.min(4, Math.max(...levels));
      await warmUp(server.port, serverWarmup / 2, wc, (i) => sep(i).map(encodeCommand), 3);
      await warmUp(server.port, serverWarmup / 2, wc, () => encodeCommand(dagArgs(key, m.dims, m.data)));
      for (const c of levels) {
        for (const mode of modes) {
          const r = await runLoad({
            port: server.port,
            connections: c,
            requests: (i) =>
              mode === 'dag'
                ? encodeCommand(dagArgs(key, m.dims, m.data))
                : mode === 'separate'
                  ? sep(i).map(encodeCommand)
                  : Buffer.concat(sep(i).map(encodeCommand)),
            chain: mode === 'separate' ? 3 : 1,
            repliesPerRequest: mode === 'pipelined' ? 3 : 1,
            windowMs,
            warmupMs,
            maxWindows,
            onProgress: progress.reporter(`dag ${m.name} ${mode}`),
          });
          rows.push({ scenario: 'dag', op: m.name, target: mode, payload: m.data.byteLength, concurrency: c, pipeline: 1, ...measuredOf(r) });
          log(
            `dag ${m.name} ${mode} c=${c}: ${formatRate(r.opsPerSec)} inferences/s, p50 ${r.p50Us.toFixed(0)}us, p99 ${r.p99Us.toFixed(0)}us` +
              `${r.stable ? '' : ' UNSTABLE'}${r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''}`,
          );
        }
      }
    }
  } finally {
    progress.clear();
    client?.close();
    await server?.stop();
  }

  const find = (m: string, mode: Mode, c: number) => rows.find((r) => r.op === m && r.target === mode && r.concurrency === c);
  const base: Mode = modes.includes('separate') ? 'separate' : modes[0]!;
  const others = modes.filter((x) => x !== base);
  const body: string[][] = [];
  const summary: string[] = [];
  for (const m of models) {
    for (const c of levels) {
      const b = find(m.name, base, c)!;
      for (const mode of others) {
        const o = find(m.name, mode, c)!;
        body.push([
          `${m.name} ${mode}`,
          String(c),
          formatRate(b.opsPerSec) + (b.stable ? '' : '~'),
          formatRate(o.opsPerSec) + (o.stable ? '' : '~'),
          `${(o.opsPerSec / b.opsPerSec).toFixed(2)}x`,
          fmtUs(b.p50Us),
          fmtUs(o.p50Us),
          `${(100 * (1 - o.p50Us / b.p50Us)).toFixed(0)}%`,
          fmtUs(b.p99Us),
          fmtUs(o.p99Us),
          `${b.errors}/${o.errors}`,
        ]);
      }
    }
    for (const mode of others) {
      const gains = levels.map((c) => find(m.name, mode, c)!.opsPerSec / find(m.name, base, c)!.opsPerSec);
      const c1 = levels[0]!;
      const b1 = find(m.name, base, c1)!;
      const o1 = find(m.name, mode, c1)!;
      summary.push(
        `${m.name}: ${mode} vs ${base}: throughput x${Math.min(...gains).toFixed(2)}..x${Math.max(...gains).toFixed(2)} over the sweep; ` +
          `at c=${c1} p50 ${fmtUs(o1.p50Us)} vs ${fmtUs(b1.p50Us)} (${(b1.p50Us - o1.p50Us).toFixed(0)}us saved per inference)`,
      );
    }
  }
  const other = others.length === 1 ? others[0]! : 'mode';
  const out = resultBase(bench.out, 'dag');
  const csv = writeFile(`${out}.csv`, toCsv(rows));
  const svg = writeFile(`${out}.svg`, plot(rows, models, modes, levels));
  console.log(`\ndag: one AI.DAGEXECUTE vs TENSORSET + MODELEXECUTE + TENSORGET (ONNX, intra-op ${intraOp}, threads-per-queue ${tpq})`);
  console.log(machineLine());
  for (const m of models) console.log(`  ${m.name}: ${m.source}`);
  console.log('Throughput in inferences/s (one sample = all three steps); gain = mode/base; p50 saved = 1 - mode/base. ~: never stabilised.\n');
  console.log(
    textTable(
      ['model mode', 'c', `${base}/s`, `${other}/s`, 'gain', `${base} p50`, `${other} p50`, 'p50 saved', `${base} p99`, `${other} p99`, 'errors'],
      body,
    ),
  );
  console.log(`\n${summary.join('\n')}`);
  console.log(`\nwrote ${csv}\nwrote ${svg}`);
  return 0;
}

function plot(rows: readonly Row[], models: readonly OnnxFixture[], modes: readonly Mode[], levels: readonly number[]): string {
  const panels = models.flatMap((m) => {
    const at = (c: number, mode: Mode) => rows.find((r) => r.op === m.name && r.target === mode && r.concurrency === c);
    const groups = (what: 'opsPerSec' | 'p50Us') =>
      levels.map((c) => {
        const v: Record<string, number> = {};
        for (const mode of modes) {
          const r = at(c, mode);
          if (r) v[mode] = r[what];
        }
        const s = at(c, 'separate');
        const d = at(c, 'dag');
        const note = s && d ? (what === 'opsPerSec' ? `${(d.opsPerSec / s.opsPerSec).toFixed(2)}x` : `-${(100 * (1 - d.p50Us / s.p50Us)).toFixed(0)}%`) : undefined;
        return { label: [`c=${c}`], values: v, ...(note ? { note } : {}) };
      });
    return [
      { title: `${m.name}: inferences/s by clients (note: dag/separate)`, groups: groups('opsPerSec') },
      { title: `${m.name}: p50 latency by clients (note: dag's saving)`, groups: groups('p50Us'), yLabel: 'p50 (us)' },
    ];
  });
  return barChartSvg({
    title: 'dag: one AI.DAGEXECUTE vs three separate commands',
    yLabel: 'inferences/s',
    xLabel: 'c = concurrent clients, one request in flight each',
    series: [...modes],
    panels,
    panelScale: true,
    footer: machineLine(),
  });
}
