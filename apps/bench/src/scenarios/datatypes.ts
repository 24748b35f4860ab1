import { parseArgs } from 'node:util';
import { commonOptions, parseList, parsePositiveInt } from '../args.js';
import { encodeCommand, formatRate, ProgressLine, runLoad, sendBatch, type LoadResult } from '../loadgen/index.js';
import { compare, comparisonTable, machineLine, resultBase, toCsv, writeFile, type Row } from '../report.js';
import { startRedis, startRespai, type ServerHandle } from '../servers.js';

export const usage = `datatypes: lists, hashes and Lua on respai vs the same commands on redis-server

  The same requests go to both servers (lists, hashes and EVAL are Redis commands):
    lpush   LPUSH bench:l:<c> <16 bytes>           (each client its own list)
    lrange  LRANGE bench:l:<c> 0 9                 (on a 100-element list)
    hset    HSET bench:h:<c> f<n % 100> <16 bytes> (each client its own hash)
    hget    HGET bench:h:<c> f<n % 100>
    eval    EVAL of a 3-command script (INCR, HSET, LRANGE) on the client's keys
  Per configuration the two targets alternate (ABBA over --rounds); each target's median run counts.

options:
  --ops LIST          lpush,lrange,hset,hget,eval (default all)
  --clients LIST      concurrent clients (default 50)
  --pipelines LIST    requests in flight per client (default 1,16)
  --window-ms N       measurement window (default 2000; --quick: 500)
  --max-windows N     give up on stability after N windows (default 10; --quick: 5)
  --rounds N          runs per target and configuration (default 2)
  --quick             short windows, for a smoke run
  --out DIR           where results go (default <repo>/bench-results)`;

const OPS = ['lpush', 'lrange', 'hset', 'hget', 'eval'] as const;
type Op = (typeof OPS)[number];

const SCRIPT = "redis.call('INCR', KEYS[1]) redis.call('HSET', KEYS[2], 'f', ARGV[1]) return redis.call('LRANGE', KEYS[3], 0, 4)";
const VALUE = 'v'.repeat(16);

function request(op: Op, c: number, n: number): Buffer {
  switch (op) {
    case 'lpush':
      return encodeCommand(['LPUSH', `bench:l:${c}`, VALUE]);
    case 'lrange':
      return encodeCommand(['LRANGE', `bench:r:${c}`, 0, 9]);
    case 'hset':
      return encodeCommand(['HSET', `bench:h:${c}`, `f${n % 100}`, VALUE]);
    case 'hget':
      return encodeCommand(['HGET', `bench:g:${c}`, `f${n % 100}`]);
    case 'eval':
      return encodeCommand(['EVAL', SCRIPT, 3, `bench:e:{${c}}:n`, `bench:e:{${c}}:h`, `bench:r:${c}`, VALUE]);
  }
}

/** Lists of 100 elements and hashes of 100 fields for the read ops, one per client. */
async function prepare(port: number, clients: number): Promise<void> {
  const reqs: Buffer[] = [];
  for (let c = 0; c < clients; c++) {
    reqs.push(encodeCommand(['DEL', `bench:r:${c}`, `bench:g:${c}`]));
    reqs.push(encodeCommand(['RPUSH', `bench:r:${c}`, ...Array.from({ length: 100 }, (_, i) => `${VALUE}${i}`)]));
    reqs.push(encodeCommand(['HSET', `bench:g:${c}`, ...Array.from({ length: 100 }, (_, i) => [`f${i}`, VALUE]).flat()]));
  }
  const r = await sendBatch(port, reqs);
  if (r.errors > 0) throw new Error(`preparing keys failed: ${r.firstError}`);
}

function median(rs: LoadResult[]): LoadResult {
  return [...rs].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor((rs.length - 1) / 2)]!;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ops: { type: 'string', default: OPS.join(',') },
      clients: { type: 'string', default: '50' },
      pipelines: { type: 'string', default: '1,16' },
      'window-ms': { type: 'string' },
      'max-windows': { type: 'string' },
      rounds: { type: 'string', default: '2' },
      ...commonOptions(),
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const ops = parseList(values.ops, (s) => {
    if (!(OPS as readonly string[]).includes(s)) throw new Error(`--ops: unknown op ${s}`);
    return s as Op;
  });
  const clients = parseList(values.clients, (s) => parsePositiveInt(s, '--clients'));
  const pipelines = parseList(values.pipelines, (s) => parsePositiveInt(s, '--pipelines'));
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const maxWindows = values['max-windows'] ? parsePositiveInt(values['max-windows'], '--max-windows') : values.quick ? 5 : 10;
  const rounds = parsePositiveInt(values.rounds, '--rounds');

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const targets: { name: string; server: ServerHandle }[] = [];
  try {
    targets.push({ name: 'redis', server: await startRedis() });
    targets.push({ name: 'respai', server: await startRespai() });
    const rows: Row[] = [];
    for (const pipeline of pipelines) {
      for (const c of clients) {
        for (const t of targets) await prepare(t.server.port, c);
        for (const op of ops) {
          const runs = new Map(targets.map((t) => [t, [] as LoadResult[]]));
          for (let round = 0; round < rounds; round++) {
            for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
              const counters = new Array<number>(c).fill(0);
              const label = `datatypes ${t.name} ${op} c=${c} p=${pipeline}`;
              const r = await runLoad({
                port: t.server.port,
                connections: c,
                pipeline,
                requests: (i) => request(op, i, counters[i]!++),
                windowMs,
                warmupMs: Math.min(windowMs, 1000),
                maxWindows,
                onProgress: progress.reporter(label),
              });
              log(`${label}: ${formatRate(r.opsPerSec)} ops/s, p50 ${r.p50Us.toFixed(0)}us, p99 ${r.p99Us.toFixed(0)}us${r.errors ? `, ${r.errors} errors: ${r.firstError}` : ''}`);
              runs.get(t)!.push(r);
            }
          }
          for (const t of targets) {
            const r = median(runs.get(t)!);
            rows.push({
              scenario: 'datatypes', op, target: t.name, payload: 16, concurrency: c, pipeline,
              opsPerSec: r.opsPerSec, p50Us: r.p50Us, p90Us: r.p90Us, p99Us: r.p99Us, errors: r.errors, stable: r.stable, firstError: r.firstError,
            });
          }
        }
      }
    }
    progress.clear();
    const base = resultBase(values.out, 'datatypes');
    writeFile(`${base}.csv`, toCsv(rows));
    console.log(`\ndatatypes: respai vs redis, the same commands (ratio = respai ops/s / redis ops/s)\n${machineLine()}\n`);
    console.log(comparisonTable(compare(rows, 'redis', 'respai'), 'redis', 'respai'));
    return rows.some((r) => r.errors > 0) ? 1 : 0;
  } finally {
    for (const t of targets) await t.server.stop();
  }
}
