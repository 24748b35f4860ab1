import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, hostname, totalmem } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseBytes, parseList, parsePositiveInt } from '../args.js';
import { encodeCommand, formatRate, ProgressLine, runLoad, type LoadResult } from '../loadgen/index.js';
import { barChartSvg } from '../plot.js';
import { compare, comparisonTable, formatBytes, resultBase, rowOf, textTable, toCsv, writeFile, type Row } from '../report.js';
import { repoRoot, startRedis, startRespai, type ServerHandle } from '../servers.js';

export const usage = `durability: write throughput with appendonly off / everysec / always, respai vs redis-server

  respai: AI.TENSORSET key UINT8 <n> BLOB <n bytes>; redis: SET key <n bytes>, each client its own
  key. Per fsync mode both servers start fresh with the same settings (redis-server --appendonly
  yes --appendfsync <mode>; respai --appendonly yes --appendfsync <mode>; "off" is appendonly no
  for both, no snapshots either) and their files go to a fresh directory under --data-dir, which
  must be on the disk being measured (not tmpfs). The floor (redis) runs first, then respai.

options:
  --modes LIST        off,everysec,always (default all three)
  --payload SIZE      value size (default 1k)
  --clients LIST      concurrent clients (default 50)
  --pipelines LIST    requests in flight per client (default 1)
  --window-ms N       measurement window (default 2000; --quick: 500)
  --max-windows N     give up on stability after N windows (default 10; --quick: 5)
  --rounds N          measure each configuration N times, alternating the order; report medians
  --quick             short windows, for a smoke run
  --data-dir DIR      where the servers' files go (default <repo>/bench-results/durability-data)
  --out DIR           where results go (default <repo>/bench-results)`;

type Mode = 'off' | 'everysec' | 'always';
const MODES: readonly Mode[] = ['off', 'everysec', 'always'];

interface Target {
  name: 'redis' | 'respai';
  server: ServerHandle;
}

function setCommand(t: Target['name'], key: string, blob: Buffer): Buffer {
  return t === 'redis' ? encodeCommand(['SET', key, blob]) : encodeCommand(['AI.TENSORSET', key, 'UINT8', blob.length, 'BLOB', blob]);
}

function modeArgs(mode: Mode, dir: string): string[] {
  return mode === 'off' ? ['--dir', dir] : ['--dir', dir, '--appendonly', 'yes', '--appendfsync', mode];
}

/** One INFO field from a server (fsync counts, AOF size). */
function infoField(port: number, section: string, field: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    const done = (v: string | undefined) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(undefined));
    s.on('connect', () => s.write(encodeCommand(['INFO', section])));
    s.on('data', (b) => {
      got += b.toString('latin1');
      const m = /^[$=](\d+)\r\n/.exec(got);
      if (m && got.length >= m[0].length + Number(m[1])) {
        const line = new RegExp(`^${field}:(.*)\\r$`, 'm').exec(got);
        done(line?.[1]);
      }
    });
    s.on('error', () => done(undefined));
  });
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      modes: { type: 'string', default: MODES.join(',') },
      payload: { type: 'string', default: '1k' },
      clients: { type: 'string', default: '50' },
      pipelines: { type: 'string', default: '1' },
      'window-ms': { type: 'string' },
      'max-windows': { type: 'string' },
      rounds: { type: 'string', default: '1' },
      quick: { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: join(repoRoot, 'bench-results', 'durability-data') },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const modes = parseList(values.modes, (s) => {
    if (!MODES.includes(s as Mode)) throw new Error(`--modes: unknown mode ${s} (off, everysec, always)`);
    return s as Mode;
  });
  const payload = parseBytes(values.payload);
  const clients = parseList(values.clients, (s) => parsePositiveInt(s, '--clients'));
  const pipelines = parseList(values.pipelines, (s) => parsePositiveInt(s, '--pipelines'));
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const maxWindows = values['max-windows'] ? parsePositiveInt(values['max-windows'], '--max-windows') : values.quick ? 5 : 10;
  const rounds = parsePositiveInt(values.rounds, '--rounds');
  const warmupMs = Math.min(windowMs, 1000);
  const blob = randomBytes(payload);

  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  mkdirSync(values['data-dir'], { recursive: true });
  const rows: Row[] = [];
  const fsyncNotes: string[] = [];
  const running: Target[] = [];
  const dirs: string[] = [];
  try {
    for (const mode of modes) {
      const redisDir = mkdtempSync(join(values['data-dir'], `redis-${mode}-`));
      const respaiDir = mkdtempSync(join(values['data-dir'], `respai-${mode}-`));
      dirs.push(redisDir, respaiDir);
      const targets: Target[] = [
        { name: 'redis', server: await startRedis(undefined, modeArgs(mode, redisDir)) },
        { name: 'respai', server: await startRespai(undefined, modeArgs(mode, respaiDir)) },
      ];
      running.push(...targets);
      log(`mode ${mode}: redis pid ${targets[0]!.server.pid}, respai pid ${targets[1]!.server.pid}`);
      for (const pipeline of pipelines) {
        for (const c of clients) {
          const runs = new Map<Target, LoadResult[]>(targets.map((t) => [t, []]));
          for (let round = 0; round < rounds; round++) {
            for (const t of round % 2 === 0 ? targets : [...targets].reverse()) {
              const label = `durability ${mode} ${t.name} ${formatBytes(payload)}${rounds > 1 ? ` round ${round + 1}/${rounds}` : ''}`;
              const r = await runLoad({
                port: t.server.port,
                connections: c,
                pipeline,
                requests: (i) => setCommand(t.name, `bench:d:${i}`, blob),
                windowMs,
                warmupMs,
                maxWindows,
                onProgress: progress.reporter(label),
              });
              log(
                `${label} c=${c} p=${pipeline}: ${formatRate(r.opsPerSec)} ops/s, p50 ${r.p50Us.toFixed(0)}us, p99 ${r.p99Us.toFixed(0)}us` +
                  `${r.stable ? '' : ' UNSTABLE'}${r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''}`,
              );
              runs.get(t)!.push(r);
            }
          }
          for (const t of targets) {
            const r = [...runs.get(t)!].sort((a, b) => a.opsPerSec - b.opsPerSec)[Math.floor((rounds - 1) / 2)]!;
            rows.push(rowOf({ scenario: 'durability', op: mode, target: t.name, payload, concurrency: c, pipeline }, r));
          }
        }
      }
      if (mode !== 'off') {
        const fsyncs = Number(await infoField(targets[1]!.server.port, 'persistence', 'aof_fsyncs'));
        const cmds = Number(await infoField(targets[1]!.server.port, 'stats', 'total_commands_processed'));
        const size = Number(await infoField(targets[1]!.server.port, 'persistence', 'aof_current_size'));
        if (fsyncs > 0) fsyncNotes.push(`respai ${mode}: ${fsyncs} fdatasyncs for ~${cmds} commands (${(cmds / fsyncs).toFixed(1)} per fsync), AOF ${formatBytes(size)}`);
      }
      for (const t of targets) await t.server.stop();
      running.length = 0;
    }
  } finally {
    progress.clear();
    for (const t of running) await t.server.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }

  const cmps = compare(rows, 'redis', 'respai');
  const base = resultBase(values.out, 'durability');
  const csv = writeFile(`${base}.csv`, toCsv(rows));
  const svg = writeFile(
    `${base}.svg`,
    barChartSvg({
      title: `durability: AI.TENSORSET vs SET of ${formatBytes(payload)} by appendfsync (note: respai/redis)`,
      yLabel: 'ops/s',
      xLabel: 'appendonly mode; c = clients, p = pipeline',
      series: ['redis', 'respai'],
      panels: [
        {
          title: `writes of ${formatBytes(payload)}`,
          groups: cmps.map((c) => ({
            label: [c.op, `c=${c.concurrency} p=${c.pipeline}`],
            values: { redis: c.floor.opsPerSec, respai: c.ours.opsPerSec },
            note: `${c.ratio.toFixed(2)}x`,
          })),
        },
      ],
    }),
  );
  console.log(`\ndurability: respai AI.TENSORSET vs redis SET, ${formatBytes(payload)}, per appendfsync mode (op column = mode)`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'} (${arch()}), ${formatBytes(totalmem())} RAM, host ${hostname()}`);
  console.log(`~ marks a throughput that never stabilised within ${maxWindows} windows.\n`);
  console.log(comparisonTable(cmps, 'redis', 'respai'));
  // What durability costs each server: throughput relative to its own appendonly-off run.
  const offOf = (t: string, r: Row) => rows.find((x) => x.target === t && x.op === 'off' && x.concurrency === r.concurrency && x.pipeline === r.pipeline);
  const rel = rows
    .filter((r) => r.op !== 'off')
    .map((r) => {
      const off = offOf(r.target, r);
      return [r.target, r.op, `c=${r.concurrency} p=${r.pipeline}`, off ? `${((r.opsPerSec / off.opsPerSec) * 100).toFixed(0)}%` : '-'];
    });
  if (rel.length > 0) console.log(`\nthroughput relative to the same server with appendonly off:\n\n${textTable(['target', 'mode', 'load', 'of off'], rel)}`);
  if (fsyncNotes.length > 0) console.log(`\n${fsyncNotes.join('\n')}`);
  for (const r of rows) if (r.errors > 0) console.log(`! ${r.target} ${r.op}: ${r.errors} errors, first: ${r.firstError}`);
  console.log(`\nwrote ${csv}\nwrote ${svg}`);
  return 0;
}
