import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePositiveInt } from '../args.js';
import { Client } from '../client.js';
import { encodeCommand, sendBatch } from '../loadgen/index.js';
import { formatBytes, machineLine, resultBase, textTable, writeFile } from '../report.js';
import { freePort, repoRoot, respaiCli } from '../servers.js';

export const usage = `rdb: SAVE and start-up load of an RDB snapshot, respai (tensors) vs redis-server (strings)

  The same bytes both ways: respai holds AI.TENSORSET k UINT8 <n> BLOB <n bytes> (its snapshot
  writes them as the original engine's AI_TENSOR values), redis-server SET k <n bytes>. Values are
  random (incompressible, like float tensors); both servers run with their default rdbcompression
  yes. Per data set and round: fill both, time SAVE on each, stop them, then time a fresh start
  of each on its snapshot: "load" is what the server logs (DB loaded from disk: N seconds),
  "ready" is spawn to the first PONG (process start included). Rounds alternate which server goes
  first; medians are reported. Files go under --data-dir, which should be on the disk measured.

options:
  --sets LIST      data sets, count x size (default 1000x1m,100000x1k)
  --rounds N       rounds per data set (default 3; --quick: 1)
  --quick          100x1m,10000x1k, one round (a smoke run)
  --data-dir DIR   where the servers' files go (default <repo>/bench-results/rdb-data)
  --out DIR        where results go (default <repo>/bench-results)`;

interface DataSet {
  count: number;
  size: number;
  label: string;
}

function parseSets(s: string): DataSet[] {
  return s.split(',').map((x) => {
    const m = /^(\d+)x(\d+)([km]?)$/i.exec(x.trim());
    if (!m) throw new Error(`bad data set '${x}' (count x size, e.g. 1000x1m)`);
    const mul = { '': 1, k: 1024, m: 1 << 20 }[m[3]!.toLowerCase() as '' | 'k' | 'm'];
    return { count: Number(m[1]), size: Number(m[2]) * mul, label: `${m[1]} x ${formatBytes(Number(m[2]) * mul)}` };
  });
}

interface Proc {
  child: ChildProcess;
  port: number;
  output(): string;
}

/** Starts a server process and resolves once it answers PING with PONG (not -LOADING); returns the ms it took. */
async function launch(cmd: string, args: string[], port: number): Promise<{ p: Proc; readyMs: number }> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  child.stderr!.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
  const p: Proc = { child, port, output: () => out };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited: ${out}`);
    try {
      const c = await Client.connect(port);
      const r = await c.call(['PING']);
      c.close();
      if (r === 'PONG') break;
    } catch {
      /* not listening yet */
    }
    if (performance.now() - t0 > 600_000) throw new Error(`${cmd} did not become ready`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { p, readyMs: performance.now() - t0 };
}

function stop(p: Proc): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

const targets = {
  redis: {
    start: (port: number, dir: string) => launch('redis-server', ['--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], port),
    set: (key: string, v: Buffer) => encodeCommand(['SET', key, v]),
  },
  respai: {
    start: (port: number, dir: string) => launch(process.execPath, [respaiCli, '--port', String(port), '--dir', dir, '--loglevel', 'notice'], port),
    set: (key: string, v: Buffer) => encodeCommand(['AI.TENSORSET', key, 'UINT8', v.length, 'BLOB', v]),
  },
} as const;
type Target = keyof typeof targets;

/** The seconds a server logged for loading its snapshot. */
function loggedLoadMs(out: string): number | undefined {
  const m = /DB loaded from disk: ([\d.]+) seconds/.exec(out);
  return m ? Number(m[1]) * 1000 : undefined;
}

interface Measure {
  saveMs: number;
  loadMs: number;
  readyMs: number;
  fileBytes: number;
}

async function measure(t: Target, set: DataSet, dir: string, values: Buffer[]): Promise<Measure> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const { p } = await targets[t].start(port, dir);
  try {
    const batch = Math.max(1, Math.floor((64 << 20) / set.size));
    for (let i = 0; i < set.count; i += batch) {
      const reqs: Buffer[] = [];
      for (let j = i; j < Math.min(set.count, i + batch); j++) reqs.push(targets[t].set(`bench:t:${j}`, values[j % values.length]!));
      const r = await sendBatch(port, reqs, 32);
      if (r.errors > 0) throw new Error(`${t}: fill failed: ${r.firstError}`);
    }
    const c = await Client.connect(port);
    const t0 = performance.now();
    await c.ok(['SAVE']);
    const saveMs = performance.now() - t0;
    c.close();
    await stop(p);
    const fileBytes = statSync(join(dir, 'dump.rdb')).size;
    const port2 = await freePort();
    const { p: p2, readyMs } = await targets[t].start(port2, dir);
    // The log line may reach the pipe just after the first PONG.
    for (let i = 0; i < 300 && loggedLoadMs(p2.output()) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    const loadMs = loggedLoadMs(p2.output()) ?? NaN;
    const c2 = await Client.connect(port2);
    const n = await c2.call(['DBSIZE']);
    c2.close();
    await stop(p2);
    if (n !== set.count) throw new Error(`${t}: ${String(n)} keys after the restart, ${set.count} expected`);
    return { saveMs, loadMs, readyMs, fileBytes };
  } finally {
    await stop(p);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sets: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: join(repoRoot, 'bench-results', 'rdb-data') },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const sets = parseSets(values.sets ?? (values.quick ? '100x1m,10000x1k' : '1000x1m,100000x1k'));
  const rounds = values.rounds !== undefined ? parsePositiveInt(values.rounds, '--rounds') : values.quick ? 1 : 3;
  mkdirSync(values['data-dir'], { recursive: true });
  const base = mkdtempSync(join(values['data-dir'], 'run-'));
  const csv: string[] = ['target,count,payload,save_ms,load_ms,ready_ms,file_bytes'];
  const table: string[][] = [];
  try {
    for (const set of sets) {
      // 16 distinct random values, reused: incompressible, without holding the whole set here.
      const pool = Array.from({ length: 16 }, () => randomBytes(set.size));
      const got: Record<Target, Measure[]> = { redis: [], respai: [] };
      for (let r = 0; r < rounds; r++) {
        const order: Target[] = r % 2 === 0 ? ['redis', 'respai'] : ['respai', 'redis'];
        for (const t of order) {
          process.stderr.write(`rdb: ${set.label}, round ${r + 1}/${rounds}, ${t}...\n`);
          got[t].push(await measure(t, set, join(base, t), pool));
        }
      }
      const med = (t: Target, k: keyof Measure) => median(got[t].map((m) => m[k]));
      for (const t of ['redis', 'respai'] as Target[]) {
        csv.push([t, set.count, set.size, med(t, 'saveMs').toFixed(1), med(t, 'loadMs').toFixed(1), med(t, 'readyMs').toFixed(1), med(t, 'fileBytes')].join(','));
      }
      const ratio = (k: keyof Measure) => (med('respai', k) / med('redis', k)).toFixed(2);
      table.push(
        ['SAVE', set.label, ms(med('redis', 'saveMs')), ms(med('respai', 'saveMs')), ratio('saveMs')],
        ['load (logged)', set.label, ms(med('redis', 'loadMs')), ms(med('respai', 'loadMs')), ratio('loadMs')],
        ['start to PONG', set.label, ms(med('redis', 'readyMs')), ms(med('respai', 'readyMs')), ratio('readyMs')],
        ['file size', set.label, formatBytes(med('redis', 'fileBytes')), formatBytes(med('respai', 'fileBytes')), ratio('fileBytes')],
      );
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const text = `${machineLine()}\nrounds: ${rounds} (medians)\n` + textTable(['what', 'data set', 'redis', 'respai', 'ratio'], table);
  console.log(text);
  const out = resultBase(values.out, 'rdb');
  writeFile(`${out}.csv`, csv.join('\n') + '\n');
  writeFile(`${out}.txt`, text + '\n');
  return 0;
}
