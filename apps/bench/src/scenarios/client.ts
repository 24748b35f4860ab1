import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { RespaiClient, decodeTensor, encodeTensor } from '@respai/client';
import { commonOptions, parseBytes, parseList, parsePositiveInt } from '../args.js';
import { machineLine, resultBase, textTable, toCsv, writeFile, type Row } from '../report.js';
import { startRespai } from '../servers.js';

export const usage = `client: @respai/client's tensorSet / tensorGet against the same connection's raw command with a hand-made Buffer

  raw set:     sendCommand(['AI.TENSORSET', key, 'FLOAT', n, 'BLOB', buf]) with buf made once, up front
  client set:  ai.tensorSet(key, float32Array)        (a Buffer view over the array, no copy)
  raw get:     sendCommand(['AI.TENSORGET', key, 'BLOB']) -> Buffer
  client get:  ai.tensorGet(key) -> { dtype, shape, data: Float32Array } (META BLOB, parsed, viewed)
  Both go through the same connection in the same process; each round runs a short batch of raw
  and one of client back to back (alternating which goes first), and gives one paired ratio
  client time / raw time: a paired ratio cancels the load drifts of a shared machine that
  separate medians do not. The overhead is the median ratio - 1 (with the middle half of the
  ratios beside it); the goal is under 5%. "client code per call" times the client's own
  work (encodeTensor / decodeTensor) in-process, and its share of a raw round trip; "bench CPU per
  request" is the bench process's own CPU time (process.cpuUsage) per request on each side, which
  other processes' load disturbs far less than wall time.

options:
  --payload N         tensor size (default 1m)
  --libs LIST         node-redis,ioredis (default both)
  --inflight LIST     requests in flight on the connection (default 1,8)
  --rounds N          rounds per configuration (default 801; --quick: 51)
  --ops N             requests per batch and side (default: the in-flight count, one wave; at 1 in
                      flight every raw request is paired with the client request next to it)
  --quick             fewer requests, for a smoke run
  --out DIR           where results go (default <repo>/bench-results)`;

type Lib = 'node-redis' | 'ioredis';
type Op = 'set' | 'get';

interface Conn {
  ai: RespaiClient;
  raw(args: (string | Buffer)[]): Promise<unknown>;
  close(): Promise<unknown>;
}

async function open(lib: Lib, port: number): Promise<Conn> {
  if (lib === 'node-redis') {
    const c = createClient({ socket: { port, host: '127.0.0.1' } });
    await c.connect();
    // Bulk strings as Buffers, as the client asks for them: the same decoding work on both sides.
    const opts = { typeMapping: { 36: Buffer } } as const;
    return { ai: new RespaiClient(c), raw: (a) => c.sendCommand(a, opts), close: () => c.close() };
  }
  const c = new Redis({ port, host: '127.0.0.1' });
  return { ai: new RespaiClient(c), raw: (a) => c.callBuffer(String(a[0]), ...a.slice(1)), close: () => c.quit() };
}

/** CPU time (user + system) this process spent in the last `timed` call, in µs. */
let lastCpuUs = 0;

/** `ops` calls of `one(i)`, `inflight` at a time; the wall time in ms (the process's CPU time in lastCpuUs). */
async function timed(ops: number, inflight: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inflight }, async (_, lane) => {
      while (next < ops) {
        next++;
        await one(lane);
      }
    }),
  );
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  lastCpuUs = used.user + used.system;
  return wall;
}

/**
 * The client's own work per call, without the network: building TENSORSET's arguments from the
 * typed array, and turning a TENSORGET reply's blob into a typed array. On a busy machine the A/B
 * medians above swing by more than this whole cost; this figure does not.
 */
function clientCpuUs(data: Float32Array, blob: Buffer): { set: number; get: number } {
  const reps = 2000;
  const per = (f: () => unknown) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    return Number(process.hrtime.bigint() - t) / 1e3 / reps;
  };
  return { set: per(() => encodeTensor(data)), get: per(() => decodeTensor('FLOAT', [data.length], blob)) };
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;
const median = (xs: number[]) => quantile(xs, 0.5);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      payload: { type: 'string', default: '1m' },
      libs: { type: 'string', default: 'node-redis,ioredis' },
      inflight: { type: 'string', default: '1,8' },
      rounds: { type: 'string' },
      ops: { type: 'string' },
      ...commonOptions(),
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const payload = parseBytes(values.payload);
  const libs = parseList(values.libs, (s) => {
    if (s !== 'node-redis' && s !== 'ioredis') throw new Error(`--libs: node-redis or ioredis, got ${s}`);
    return s as Lib;
  });
  const inflights = parseList(values.inflight, (s) => parsePositiveInt(s, '--inflight'));
  const rounds = values.rounds ? parsePositiveInt(values.rounds, '--rounds') : values.quick ? 51 : 801;
  const opsOption = values.ops ? parsePositiveInt(values.ops, '--ops') : undefined;
  if (payload % 4 !== 0) throw new Error('--payload: a multiple of 4 bytes (FLOAT elements)');

  const n = payload / 4;
  const data = new Float32Array(n).map((_, i) => i % 1000);
  const buf = Buffer.from(data.buffer.slice(0)); // the hand-made Buffer of the raw side
  const when = new Date();
  const server = await startRespai();
  const rows: Row[] = [];
  const table: string[][] = [];
  let worst = 0;
  try {
    process.stderr.write(`respai: pid ${server.pid}, port ${server.port}\n`);
    for (const lib of libs) {
      const conn = await open(lib, server.port);
      try {
        for (const inflight of inflights) {
          const ops = opsOption ?? inflight;
          const keys = Array.from({ length: inflight }, (_, i) => `bench:client:${i}`);
          const variants: Record<`${Op}:${'raw' | 'client'}`, (lane: number) => Promise<unknown>> = {
            'set:raw': (l) => conn.raw(['AI.TENSORSET', keys[l]!, 'FLOAT', String(n), 'BLOB', buf]),
            'set:client': (l) => conn.ai.tensorSet(keys[l]!, data),
            'get:raw': (l) => conn.raw(['AI.TENSORGET', keys[l]!, 'BLOB']),
            'get:client': (l) => conn.ai.tensorGet(keys[l]!),
          };
          // Both sides must move the same bytes: check once before measuring.
          await variants['set:client'](0);
          const back = (await conn.raw(['AI.TENSORGET', keys[0]!, 'BLOB'])) as Buffer;
          if (!back.equals(buf)) throw new Error('the client stored other bytes than the raw command');
          for (const op of ['set', 'get'] as const) {
            const ms: Record<'raw' | 'client', number[]> = { raw: [], client: [] };
            const ratios: number[] = [];
            const cpuUs: Record<'raw' | 'client', number[]> = { raw: [], client: [] };
            await timed(Math.max(ops, 20), inflight, variants[`${op}:raw`]); // warm-up, unmeasured
            await timed(Math.max(ops, 20), inflight, variants[`${op}:client`]);
            for (let r = 0; r < rounds; r++) {
              const order = r % 2 === 0 ? (['raw', 'client'] as const) : (['client', 'raw'] as const);
              for (const side of order) {
                ms[side].push(await timed(ops, inflight, variants[`${op}:${side}`]));
                cpuUs[side].push(lastCpuUs / ops);
              }
              ratios.push(ms.client.at(-1)! / ms.raw.at(-1)!);
            }
            const raw = median(ms.raw);
            const client = median(ms.client);
            const overhead = median(ratios) - 1;
            const [q1, q3] = [quantile(ratios, 0.25) - 1, quantile(ratios, 0.75) - 1];
            worst = Math.max(worst, overhead);
            for (const side of ['raw', 'client'] as const) {
              const t = side === 'raw' ? raw : client;
              rows.push({
                scenario: 'client',
                op,
                target: `${lib}:${side}`,
                payload,
                concurrency: 1,
                pipeline: inflight,
                opsPerSec: (ops / t) * 1000,
                p50Us: (t / ops) * 1000 * inflight,
                p90Us: 0,
                p99Us: 0,
                errors: 0,
                stable: true,
              });
            }
            const cpu = clientCpuUs(data, buf)[op];
            table.push([
              `${op}`,
              lib,
              String(inflight),
              ((ops / raw) * 1000).toFixed(0),
              ((ops / client) * 1000).toFixed(0),
              pct(overhead),
              `${pct(q1)} .. ${pct(q3)}`,
              `${median(cpuUs.raw).toFixed(0)} / ${median(cpuUs.client).toFixed(0)} us`,
              `${cpu.toFixed(1)} us (${((cpu / ((raw / ops) * 1000 * inflight)) * 100).toFixed(2)}%)`,
              overhead < 0.05 ? 'PASS <5%' : 'MISS <5%',
            ]);
            process.stderr.write(`${op} ${lib} inflight ${inflight}: median batch raw ${raw.toFixed(2)} ms, client ${client.toFixed(2)} ms, paired overhead ${pct(overhead)}\n`);
          }
        }
      } finally {
        await conn.close();
      }
    }
  } finally {
    await server.stop();
  }
  const base = resultBase(values.out, 'client', when);
  writeFile(`${base}.csv`, toCsv(rows));
  console.log(machineLine(when));
  console.log(`payload ${payload} bytes (FLOAT [${n}]), ${rounds} rounds, each a batch of ${opsOption ?? 'in-flight'} requests per side; ops/s: median batch; overhead: median paired ratio - 1\n`);
  console.log(textTable(['op', 'library', 'in flight', 'raw ops/s', 'client ops/s', 'overhead', 'middle half', 'bench CPU per request raw / client', 'client code per call', 'goal'], table));
  console.log(`\nworst overhead ${(worst * 100).toFixed(1)}%; csv: ${base}.csv`);
  return 0;
}
