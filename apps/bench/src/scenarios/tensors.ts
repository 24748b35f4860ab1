import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseBytes, parseList, parsePositiveInt } from '../args.js';
import {
  encodeCommand,
  formatRate,
  ProgressLine,
  runLoad,
  sendBatch,
  type LoadResult,
} from '../loadgen/index.js';
import { barChartSvg } from '../plot.js';
import {
  compare,
  comparisonTable,
  formatBytes,
  resultBase,
  textTable,
  toCsv,
  writeFile,
  type Comparison,
  type Row,
  rowOf,
} from '../report.js';
import { repoRoot, startRedis, startRespai, type ServerHandle } from '../servers.js';

export const usage = `tensors: AI.TENSORSET / AI.TENSORGET on respai vs SET / GET of the same bytes on redis-server

  Tensors are UINT8 with one element per payload byte: AI.TENSORSET key UINT8 <n> BLOB <n bytes>.
  Each client uses its own key (bench:t:<i>); GET runs read keys set just before measuring.
  Per configuration the floor (redis) runs first, then respai, so machine noise hits both.

options:
  --payloads LIST     payload sizes (default 1k,64k,1m)
  --clients LIST      concurrent clients; several values sweep concurrency (default 50)
  --pipelines LIST    requests in flight per client (default 1,16)
  --ops LIST          set,get (default both)
  --window-ms N       measurement window (default 2000; --quick: 500)
  --max-windows N     give up on stability after N windows (default 10; --quick: 5)
  --quick             short windows, for a smoke run
  --rounds N          measure each configuration N times, alternating which target goes first,
                      and report each target's median run (default 1: redis, then respai)
  --thread T          main | worker: where the load generator runs (default main)
  --no-memory         skip the RSS-per-tensor measurement
  --memory-count N    tensors stored for the RSS measurement (default 1000, 1 MiB each)
  --ours T            respai (default) | redis: "redis" pits two redis-servers against each
                      other with SET/GET, to check the generator is fair (ratios should be ~1)
  --out DIR           where results go (default <repo>/bench-results)`;

type Op = 'set' | 'get';

interface Target {
  name: string;
  kind: 'redis' | 'respai';
  server: ServerHandle;
}

/** Throughput targets from the issue; never relaxed by changing what is measured. */
const TARGETS: { applies: (c: Comparison) => boolean; min: number; what: string }[] = [
  { applies: (c) => c.payload === 1024 && c.pipeline === 1, min: 0.6, what: '1 KiB, pipeline 1' },
  { applies: (c) => c.payload === 1024 * 1024, min: 0.8, what: '1 MiB' },
];

function verdict(c: Comparison): string {
  const t = TARGETS.find((t) => t.applies(c));
  if (!t) return '';
  return `${c.ratio >= t.min ? 'PASS' : 'MISS'} >=${t.min}`;
}

function setCommand(kind: Target['kind'], key: string, blob: Buffer): Buffer {
  return kind === 'redis'
    ? encodeCommand(['SET', key, blob])
    : encodeCommand(['AI.TENSORSET', key, 'UINT8', blob.length, 'BLOB', blob]);
}

function getCommand(kind: Target['kind'], key: string): Buffer {
  return kind === 'redis' ? encodeCommand(['GET', key]) : encodeCommand(['AI.TENSORGET', key, 'BLOB']);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      payloads: { type: 'string', default: '1k,64k,1m' },
      clients: { type: 'string', default: '50' },
      pipelines: { type: 'string', default: '1,16' },
      ops: { type: 'string', default: 'set,get' },
      'window-ms': { type: 'string' },
      'max-windows': { type: 'string' },
      quick: { type: 'boolean', default: false },
      thread: { type: 'string', default: 'main' },
      'no-memory': { type: 'boolean', default: false },
      'memory-count': { type: 'string', default: '1000' },
      ours: { type: 'string', default: 'respai' },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      rounds: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const payloads = parseList(values.payloads, parseBytes);
  const clients = parseList(values.clients, (s) => parsePositiveInt(s, '--clients'));
  const pipelines = parseList(values.pipelines, (s) => parsePositiveInt(s, '--pipelines'));
  const ops = parseList(values.ops, (s) => {
    if (s !== 'set' && s !== 'get') throw new Error(`--ops: unknown op ${s}`);
    return s as Op;
  });
  const windowMs = values['window-ms']
    ? parsePositiveInt(values['window-ms'], '--window-ms')
    : values.quick
      ? 500
      : 2000;
  const maxWindows = values['max-windows']
    ? parsePositiveInt(values['max-windows'], '--max-windows')
    : values.quick
      ? 5
      : 10;
  const warmupMs = Math.min(windowMs, 1000);
  if (values.thread !== 'main' && values.thread !== 'worker')
    throw new Error(`--thread: main or worker, got ${values.thread}`);
  const thread = values.thread;
  const rounds = parsePositiveInt(values.rounds, '--rounds');
  const memoryCount = parsePositiveInt(values['memory-count'], '--memory-count');
  const selfCheck = values.ours === 'redis';
  if (!selfCheck && values.ours !== 'respai') throw new Error(`--ours: respai or redis, got ${values.ours}`);

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const oursName = selfCheck ? 'redis-b' : 'respai';
  const floor: Target = { name: 'redis', kind: 'redis', server: await startRedis() };
  const targets: Target[] = [floor];
  try {
    targets.push({
      name: oursName,
      kind: selfCheck ? 'redis' : 'respai',
      server: selfCheck ? await startRedis() : await startRespai(),
    });
    for (const t of targets) log(`${t.name}: pid ${t.server.pid}, port ${t.server.port}`);
    if (selfCheck) log('self-check: both targets are redis-server; these are not respai results');

    const measure = async (
      t: Target,
      op: Op,
      payload: number,
      blob: Buffer,
      c: number,
      pipeline: number,
      round: number,
    ): Promise<LoadResult> => {
      const key = (i: number) => `bench:t:${i}`;
      if (op === 'get') {
        const pre = await sendBatch(
          t.server.port,
          Array.from({ length: c }, (_, i) => setCommand(t.kind, key(i), blob)),
        );
        if (pre.errors > 0) throw new Error(`${t.name}: pre-setting keys failed: ${pre.firstError}`);
      }
      const label = `tensors ${t.name} ${op} ${formatBytes(payload)}${rounds > 1 ? ` round ${round + 1}/${rounds}` : ''}`;
      const r = await runLoad({
        port: t.server.port,
        connections: c,
        pipeline,
        requests: (i) => (op === 'set' ? setCommand(t.kind, key(i), blob) : getCommand(t.kind, key(i))),
        windowMs,
        warmupMs,
        maxWindows,
        thread,
        onProgress: progress.reporter(label),
      });
      log(
        `${label} c=${c} p=${pipeline}: ${formatRate(r.opsPerSec)} ops/s, p50 ${r.p50Us.toFixed(0)}us, ` +
          `p99 ${r.p99Us.toFixed(0)}us, ${r.windows.length} windows${r.stable ? '' : ' UNSTABLE'}` +
          (r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''),
      );
      return r;
    };

    const rows: Row[] = [];
    for (const payload of payloads) {
      const blob = randomBytes(payload);
      for (const pipeline of pipelines) {
        for (const c of clients) {
          for (const op of ops) {
            // Rounds after the first swap the order (ABBA...), so slow drift in machine load
            // does not always favour whichever target runs first.
            const runs = new Map<Target, LoadResult[]>(targets.map((t) => [t, []]));
            for (let round = 0; round < rounds; round++) {
              for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
                runs.get(t)!.push(await measure(t, op, payload, blob, c, pipeline, round));
              }
            }
            for (const t of targets) {
              const r = median(runs.get(t)!);
              rows.push(rowOf({ scenario: 'tensors', op, target: t.name, payload, concurrency: c, pipeline }, r));
            }
          }
        }
      }
    }
    progress.clear();

    const cmps = compare(rows, floor.name, oursName);
    const base = resultBase(values.out, 'tensors');
    const csv = writeFile(`${base}.csv`, toCsv(rows));
    const svg = writeFile(`${base}.svg`, plot(cmps, floor.name, oursName, selfCheck));
    console.log(`\ntensors: ${oursName} vs ${floor.name} (ratio = ${oursName} ops/s / ${floor.name} ops/s)`);
    console.log(
      selfCheck
        ? 'self-check: both targets run SET/GET on redis-server; ratios far from 1 are generator or machine noise.'
        : `${oursName} runs AI.TENSORSET/AI.TENSORGET (UINT8, n = payload bytes); redis runs SET/GET.`,
    );
    console.log(`~ marks a throughput that never stabilised within ${maxWindows} windows.\n`);
    console.log(comparisonTable(cmps, floor.name, oursName, selfCheck ? undefined : verdict));
    for (const r of rows)
      if (r.errors > 0) console.log(`! ${r.target} ${r.op} ${formatBytes(r.payload)}: ${r.errors} errors, first: ${r.firstError}`);
    if (!selfCheck) {
      console.log('');
      for (const t of TARGETS) {
        const hit = cmps.filter(t.applies);
        if (hit.length === 0) continue;
        const worst = Math.min(...hit.map((c) => c.ratio));
        console.log(`target ratio >= ${t.min} at ${t.what}: ${worst >= t.min ? 'PASS' : 'MISS'} (worst ${worst.toFixed(2)})`);
      }
    }

    // RSS on fresh servers: after the throughput runs, allocator caches would blur the figure.
    for (const t of targets) await t.server.stop();
    targets.length = 0;
    let memCsv: string | undefined;
    if (!values['no-memory']) {
      const mem: MemoryRow[] = [];
      for (const kind of ['redis', selfCheck ? 'redis' : 'respai'] as const) {
        const name = mem.length === 0 ? floor.name : oursName;
        const server = kind === 'redis' ? await startRedis() : await startRespai();
        targets.push({ name, kind, server });
        try {
          mem.push(await measureMemory(name, kind, server, memoryCount, 1 << 20, log));
        } catch (e) {
          log(`${name}: memory measurement failed: ${(e as Error).message}`);
        } finally {
          await server.stop();
          targets.pop();
        }
      }
      console.log(`\nRSS per ${formatBytes(1 << 20)} value, ${memoryCount} distinct keys, fresh servers:\n`);
      console.log(
        textTable(
          ['target', 'RSS before', 'RSS after', 'per value', 'overhead/value'],
          mem.map((m) => [
            m.target,
            formatMiB(m.rssBefore),
            formatMiB(m.rssAfter),
            formatBytes(Math.round(m.perValue)),
            `${(m.overhead / 1024).toFixed(1)} KiB (${((m.overhead / m.payload) * 100).toFixed(1)}%)`,
          ]),
        ),
      );
      memCsv = writeFile(
        `${base}-memory.csv`,
        'scenario,target,count,payload,rss_before,rss_after,per_value_bytes,overhead_bytes\n' +
          mem
            .map((m) =>
              ['tensors', m.target, m.count, m.payload, m.rssBefore, m.rssAfter, m.perValue.toFixed(0), m.overhead.toFixed(0)].join(','),
            )
            .join('\n') +
          '\n',
      );
    }
    console.log(`\nwrote ${csv}\nwrote ${svg}${memCsv ? `\nwrote ${memCsv}` : ''}`);
    return 0;
  } finally {
    progress.clear();
    for (const t of targets) await t.server.stop();
  }
}

/** The run with the median throughput (the lower middle one for an even count). */
function median(runs: readonly LoadResult[]): LoadResult {
  const sorted = [...runs].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface MemoryRow {
  target: string;
  count: number;
  payload: number;
  rssBefore: number;
  rssAfter: number;
  perValue: number;
  overhead: number;
}

function formatMiB(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

async function measureMemory(
  name: string,
  kind: Target['kind'],
  server: ServerHandle,
  count: number,
  payload: number,
  log: (s: string) => void,
): Promise<MemoryRow> {
  const settle = () => new Promise((r) => setTimeout(r, 1000));
  const blob = randomBytes(payload);
  await settle();
  const rssBefore = server.rssBytes();
  // In chunks, so the generator never holds `count` encoded MiB-sized requests at once.
  for (let i = 0; i < count; i += 50) {
    const reqs: Buffer[] = [];
    for (let j = i; j < Math.min(count, i + 50); j++) reqs.push(setCommand(kind, `bench:m:${j}`, blob));
    const r = await sendBatch(server.port, reqs, 4);
    if (r.errors > 0) throw new Error(`storing values: ${r.firstError}`);
  }
  await settle();
  const rssAfter = server.rssBytes();
  const perValue = (rssAfter - rssBefore) / count;
  log(`${name}: RSS ${formatMiB(rssBefore)} -> ${formatMiB(rssAfter)} for ${count} x ${formatBytes(payload)}`);
  return { target: name, count, payload, rssBefore, rssAfter, perValue, overhead: perValue - payload };
}

function plot(cmps: readonly Comparison[], floor: string, ours: string, selfCheck: boolean): string {
  const panels = (['set', 'get'] as const)
    .map((op) => ({
      title:
        op === 'set'
          ? `write: ${floor} SET vs ${ours} ${selfCheck ? 'SET' : 'AI.TENSORSET'}`
          : `read: ${floor} GET vs ${ours} ${selfCheck ? 'GET' : 'AI.TENSORGET'}`,
      groups: cmps
        .filter((c) => c.op === op)
        .map((c) => ({
          label: [formatBytes(c.payload), `c=${c.concurrency} p=${c.pipeline}`],
          values: { [floor]: c.floor.opsPerSec, [ours]: c.ours.opsPerSec },
          note: `${c.ratio.toFixed(2)}x`,
        })),
    }))
    .filter((p) => p.groups.length > 0);
  return barChartSvg({
    title: `tensors: ${ours} vs ${floor} (note: ${ours}/${floor} throughput)`,
    yLabel: 'ops/s',
    xLabel: 'payload; c = concurrent clients, p = pipeline depth',
    series: [floor, ours],
    panels,
  });
}
