import { computeSettings, type ComputeSettings } from './args.js';
import { Client, floats } from './client.js';
import { measuredOf, runInProcess, type Measured } from './direct.js';
import { encodeCommand, formatRate, ProgressLine, runLoad, sendBatch, type Arg } from './loadgen/index.js';
import { blobOf } from './models.js';
import { barChartSvg } from './plot.js';
import { machineLine, resultBase, textTable, toCsv, writeFile, type Row } from './report.js';
import { startRespai, type ServerHandle } from './servers.js';
import { warmUp } from './warmup.js';

/**
 * The compute-path comparison shared by the backend scenarios (torch, tf; onnx has its own copy
 * with extras): a model run through the server against the same runtime called in this process,
 * swept over concurrency, with the targets of the onnx scenario.
 */

export type Mode = 'exec' | 'roundtrip';

export const MODES: readonly Mode[] = ['exec', 'roundtrip'];

/**
 * The common part of a compute scenario's command line: prints `usage` and gives undefined for
 * --help (the scenario then returns 0), else `--modes` and the settings of computeOptions.
 */
export function computeArgs(
  values: Parameters<typeof computeSettings>[0] & { help: boolean; modes: string },
  usage: string,
): { modes: Mode[]; bench: ComputeSettings } | undefined {
  if (values.help) {
    console.log(usage);
    return undefined;
  }
  return { modes: parseModes(values.modes), bench: computeSettings(values) };
}

/** `--modes`: a comma-separated list of MODES. */
export function parseModes(s: string): Mode[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map((x) => {
      if (!MODES.includes(x as Mode)) throw new Error(`--modes: unknown mode ${x}`);
      return x as Mode;
    });
}

/** Targets from the issues, the same for every backend; never relaxed by changing what is measured. */
export const ADDED_P50_US = 100;
export const THROUGHPUT_SHARE = 0.85;

export interface ComputeInput {
  dims: number[];
  data: Float32Array;
}

export interface ComputeModel {
  name: string;
  /** Where the model came from, for the report. */
  source: string;
  blob: Buffer;
  /** FLOAT inputs, in MODELEXECUTE's INPUTS order. */
  inputs: ComputeInput[];
  /** AI.MODELSTORE's arguments between the key and BLOB (backend, device, INPUTS/OUTPUTS). */
  storeArgs: Arg[];
  /** How many outputs the model has (default 1); output 0 is the one compared and fetched. */
  outputs?: number;
}

/** The in-process floor for one model. */
export interface Floor {
  /** One run, as the backend's worker (or addon thread) does it. */
  run(): Promise<unknown>;
  /** Output 0 of one run, to check the server computes the same. */
  output(): Promise<Float32Array>;
  close(): Promise<void> | void;
}

export interface ComputeOptions {
  scenario: string;
  backend: 'ONNX' | 'TORCH' | 'TF' | 'TFLITE';
  /** What the floor is, for the report ("libtorch through the addon, in this process"). */
  floorName: string;
  models: ComputeModel[];
  modes: readonly Mode[];
  levels: number[];
  windowMs: number;
  warmupMs: number;
  maxWindows: number;
  /** Unmeasured load on each model before its first measurement (see warmup.ts). */
  serverWarmupMs: number;
  /** Server options (threads, parallelism). */
  serverArgs: string[];
  /** Environment for the server process (e.g. the TF compute backend). */
  serverEnv?: Record<string, string>;
  /** Makes the floor of a model; called once per model, before any server starts. */
  floor(m: ComputeModel): Promise<Floor>;
  /** Runs while the server is still up, after the measurements (extra measurements of a scenario). */
  after?: (port: number, log: (s: string) => void) => Promise<void>;
  out: string;
  /** Lines for the head of the report (settings, the floor's load times), read when it prints. */
  head: () => string[];
}

export interface LoadFigures {
  rssStart: number;
  loadBackendMs: number;
  rssBackend: number;
  storeMs: Map<string, number>;
  rssModels: number;
  rssAfter: number;
}

const fmtMs = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export async function runCompute(o: ComputeOptions): Promise<number> {
  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const rows: Row[] = [];
  const push = (m: ComputeModel, op: string, target: string, c: number, r: Measured) => {
    const payload = m.inputs.reduce((a, x) => a + x.data.byteLength, 0);
    rows.push({ scenario: o.scenario, op: `${m.name}:${op}`, target, payload, concurrency: c, pipeline: 1, ...r });
    log(
      `${o.scenario} ${m.name} ${op} ${target} c=${c}: ${formatRate(r.opsPerSec)} runs/s, p50 ${r.p50Us.toFixed(0)}us, ` +
        `p99 ${r.p99Us.toFixed(0)}us${r.stable ? '' : ' UNSTABLE'}${r.errors ? `, ${r.errors} errors, first: ${r.firstError}` : ''}`,
    );
  };

  // The floor first, with no server running.
  const expected = new Map<string, Float32Array>();
  for (const m of o.models) {
    const floor = await o.floor(m);
    try {
      expected.set(m.name, await floor.output());
      for (const c of o.levels) {
        const r = await runInProcess({
          call: () => floor.run(),
          concurrency: c,
          windowMs: o.windowMs,
          warmupMs: o.warmupMs,
          maxWindows: o.maxWindows,
          onProgress: progress.reporter(`${o.scenario} ${m.name} direct`),
        });
        push(m, 'direct', 'direct', c, r);
      }
    } finally {
      await floor.close();
    }
  }

  let server: ServerHandle | undefined;
  let client: Client | undefined;
  let load: LoadFigures | undefined;
  try {
    const env = o.serverEnv ?? {};
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      server = await startRespai(undefined, o.serverArgs);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    log(`respai: pid ${server.pid}, port ${server.port}`);
    client = await Client.connect(server.port);
    const rssStart = server.rssBytes();
    let t0 = performance.now();
    // By package name: the server resolves respai's own backends from its BACKENDSPATH.
    await client.ok(['AI.CONFIG', 'LOADBACKEND', o.backend, `@respai/backend-${o.backend.toLowerCase()}`]);
    const loadBackendMs = performance.now() - t0;
    const rssBackend = server.rssBytes();
    const storeMs = new Map<string, number>();
    for (const m of o.models) {
      t0 = performance.now();
      await client.ok(['AI.MODELSTORE', `bench:m:${m.name}`, ...m.storeArgs, 'BLOB', m.blob]);
      storeMs.set(m.name, performance.now() - t0);
    }
    const rssModels = server.rssBytes();
    log(
      `respai RSS ${mib(rssStart)} at start, ${mib(rssBackend)} after LOADBACKEND ${o.backend} (${fmtMs(loadBackendMs)} ms), ` +
        `${mib(rssModels)} with the models stored`,
    );

    const maxC = Math.max(...o.levels);
    for (const m of o.models) {
      const key = `bench:m:${m.name}`;
      const inKey = (i: number, k: number) => `bench:in:${i}:${k}`;
      const setInputs = (i: number) =>
        m.inputs.map((x, k) => encodeCommand(['AI.TENSORSET', inKey(i, k), 'FLOAT', ...x.dims, 'BLOB', blobOf(x.data)]));
      const setup = await sendBatch(server.port, Array.from({ length: maxC }, (_, i) => setInputs(i)).flat());
      if (setup.errors > 0) throw new Error(`setting up ${m.name}: ${setup.firstError}`);
      const execArgs = (i: number): Arg[] => [
        'AI.MODELEXECUTE', key, 'INPUTS', m.inputs.length, ...m.inputs.map((_, k) => inKey(i, k)),
        'OUTPUTS', m.outputs ?? 1, `bench:out:${i}`, ...Array.from({ length: (m.outputs ?? 1) - 1 }, (_, k) => `bench:out:${i}:${k + 1}`),
      ];
      const getArgs = (i: number): Arg[] => ['AI.TENSORGET', `bench:out:${i}`, 'BLOB'];
      const exec = (i: number) => encodeCommand(execArgs(i));
      const get = (i: number) => encodeCommand(getArgs(i));
      await checkOutput(client, m, execArgs(0), getArgs(0), expected.get(m.name)!);
      log(`${o.scenario} ${m.name}: server warm-up ${o.serverWarmupMs} ms`);
      await warmUp(server.port, o.serverWarmupMs, Math.min(4, maxC), (i) => Buffer.concat([...setInputs(i), exec(i), get(i)]), 1, m.inputs.length + 2);
      for (const mode of o.modes) {
        for (const c of o.levels) {
          const r = await runLoad({
            port: server.port,
            connections: c,
            requests: (i) => (mode === 'exec' ? exec(i) : Buffer.concat([...setInputs(i), exec(i), get(i)])),
            repliesPerRequest: mode === 'exec' ? 1 : m.inputs.length + 2,
            windowMs: o.windowMs,
            warmupMs: o.warmupMs,
            maxWindows: o.maxWindows,
            onProgress: progress.reporter(`${o.scenario} ${m.name} ${mode}`),
          });
          push(m, mode, 'respai', c, measuredOf(r));
        }
      }
    }
    load = { rssStart, loadBackendMs, rssBackend, storeMs, rssModels, rssAfter: server.rssBytes() };
    await o.after?.(server.port, log);
  } finally {
    progress.clear();
    client?.close();
    await server?.stop();
  }

  const { body, verdicts } = compareRows(rows, o.models, o.modes, o.levels);
  const base = resultBase(o.out, o.scenario);
  const csv = writeFile(`${base}.csv`, toCsv(rows));
  const loadCsv = writeFile(`${base}-load.csv`, loadCsvText(load, o.models));
  const svg = writeFile(`${base}.svg`, computePlot(o.scenario, o.floorName, rows, o.models, o.modes, o.levels));
  console.log(`\n${o.scenario}: respai vs ${o.floorName}`);
  console.log(machineLine());
  for (const l of o.head()) console.log(l);
  for (const m of o.models) console.log(`  ${m.name}: ${m.source}`);
  console.log('~ marks a throughput that never stabilised.\n');
  console.log(
    textTable(
      ['model mode', 'c', 'direct runs/s', 'respai runs/s', 'ratio', 'direct p50', 'respai p50', 'added p50', 'direct p99', 'respai p99', 'errors'],
      body,
    ),
  );
  console.log(`\n${verdicts.join('\n')}`);
  console.log(
    `\nserver (respai, ${o.backend}): RSS ${mib(load.rssStart)} at start; AI.CONFIG LOADBACKEND ${o.backend} took ` +
      `${fmtMs(load.loadBackendMs)} ms, RSS then ${mib(load.rssBackend)} (+${mib(load.rssBackend - load.rssStart)}); ` +
      `first MODELSTORE of ${o.models.map((m) => `${m.name} ${fmtMs(load!.storeMs.get(m.name)!)} ms`).join(', ')}; ` +
      `RSS with the models stored ${mib(load.rssModels)}, after the runs ${mib(load.rssAfter)}`,
  );
  console.log(`\nwrote ${csv}\nwrote ${loadCsv}\nwrote ${svg}`);
  return 0;
}

/** One roundtrip through the server, compared with the floor's output: a benchmark of wrong results is no benchmark. */
async function checkOutput(client: Client, m: ComputeModel, exec: Arg[], get: Arg[], want: Float32Array): Promise<void> {
  await client.ok(exec);
  const got = floats(await client.ok(get));
  if (got.length !== want.length) throw new Error(`${m.name}: the server returned ${got.length} floats, the floor ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 1e-5 + 1e-4 * Math.abs(want[i]!)) {
      throw new Error(`${m.name}: output[${i}] is ${got[i]} through the server, ${want[i]} in-process`);
    }
  }
}

function loadCsvText(load: LoadFigures, models: readonly ComputeModel[]): string {
  const lines = ['what,value,unit', `server_rss_start,${load.rssStart},bytes`, `loadbackend,${load.loadBackendMs.toFixed(1)},ms`];
  lines.push(`server_rss_backend,${load.rssBackend},bytes`);
  for (const m of models) lines.push(`modelstore_${m.name},${load.storeMs.get(m.name)!.toFixed(1)},ms`);
  lines.push(`server_rss_models,${load.rssModels},bytes`, `server_rss_after_runs,${load.rssAfter},bytes`);
  return `${lines.join('\n')}\n`;
}

/** The comparison table body and the PASS/MISS lines, as the onnx scenario prints them. */
export function compareRows(
  rows: readonly Row[],
  models: readonly { name: string }[],
  modes: readonly Mode[],
  levels: readonly number[],
): { body: string[][]; verdicts: string[] } {
  const byKey = new Map(rows.map((r) => [`${r.op}|${r.target}|${r.concurrency}`, r]));
  const body: string[][] = [];
  const verdicts: string[] = [];
  for (const m of models) {
    const direct = rows.filter((r) => r.op === `${m.name}:direct`);
    const bestDirect = Math.max(...direct.map((r) => r.opsPerSec));
    const d1 = byKey.get(`${m.name}:direct|direct|${levels[0]}`);
    for (const mode of modes) {
      const ours = rows.filter((r) => r.op === `${m.name}:${mode}`);
      for (const o of ours) {
        const d = byKey.get(`${m.name}:direct|direct|${o.concurrency}`)!;
        body.push([
          `${m.name} ${mode}`,
          String(o.concurrency),
          formatRate(d.opsPerSec) + (d.stable ? '' : '~'),
          formatRate(o.opsPerSec) + (o.stable ? '' : '~'),
          (o.opsPerSec / d.opsPerSec).toFixed(2),
          `${d.p50Us.toFixed(0)}us`,
          `${o.p50Us.toFixed(0)}us`,
          `${(o.p50Us - d.p50Us).toFixed(0)}us`,
          `${d.p99Us.toFixed(0)}us`,
          `${o.p99Us.toFixed(0)}us`,
          String(o.errors),
        ]);
      }
      if (mode !== 'exec' || !d1) continue;
      const o1 = byKey.get(`${m.name}:exec|respai|${levels[0]}`)!;
      const bestOurs = Math.max(...ours.map((r) => r.opsPerSec));
      const added = o1.p50Us - d1.p50Us;
      verdicts.push(
        `${m.name}: p50 at c=${levels[0]} ${o1.p50Us.toFixed(0)}us vs direct ${d1.p50Us.toFixed(0)}us (+${added.toFixed(0)}us): ` +
          `${added <= ADDED_P50_US ? 'PASS' : 'MISS'} <= +${ADDED_P50_US}us`,
        `${m.name}: best throughput ${formatRate(bestOurs)} vs direct best ${formatRate(bestDirect)} ` +
          `(${((bestOurs / bestDirect) * 100).toFixed(0)}%): ${bestOurs >= THROUGHPUT_SHARE * bestDirect ? 'PASS' : 'MISS'} >= ${THROUGHPUT_SHARE * 100}%`,
      );
    }
  }
  return { body, verdicts };
}

function computePlot(
  scenario: string,
  floorName: string,
  rows: readonly Row[],
  models: readonly { name: string }[],
  modes: readonly Mode[],
  levels: readonly number[],
): string {
  const series = ['direct', ...modes.map((m) => `respai ${m}`)];
  const panels = models.map((m) => ({
    title: `${m.name}: runs/s by concurrency`,
    groups: levels.map((c) => {
      const v: Record<string, number> = {};
      const d = rows.find((r) => r.op === `${m.name}:direct` && r.concurrency === c);
      if (d) v.direct = d.opsPerSec;
      for (const mode of modes) {
        const o = rows.find((r) => r.op === `${m.name}:${mode}` && r.concurrency === c);
        if (o) v[`respai ${mode}`] = o.opsPerSec;
      }
      const e = rows.find((r) => r.op === `${m.name}:${modes[0]}` && r.concurrency === c);
      return { label: [`c=${c}`], values: v, ...(d && e ? { note: `${(e.opsPerSec / d.opsPerSec).toFixed(2)}x` } : {}) };
    }),
  }));
  return barChartSvg({
    title: `${scenario}: respai vs ${floorName} (note over each group: ${modes[0]}/direct)`,
    yLabel: 'runs/s',
    xLabel: 'c = requests in flight (connections, or concurrent in-process calls)',
    series,
    panels,
    footer: machineLine(),
  });
}
