import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { parseList, parsePositiveInt } from '../args.js';
import { Client } from '../client.js';
import { barChartSvg, type BarGroup } from '../plot.js';
import { machineLine, resultBase, textTable, writeFile } from '../report.js';
import { cpuUs, repoRoot, respaiCli, startRespai, type ServerHandle } from '../servers.js';
import { mnistSample } from '../models.js';
import { tfliteCase } from './tflite.js';

export const usage = `ab: the same workloads against two respai builds (A and B) in one run, alternating, with redis-benchmark

  For a change to a hot path: keep a build of main from before the change beside the new one (a
  git worktree of the old commit, built) and compare. Each round starts A and B afresh (order
  alternating between rounds), stores the models and tensors, warms up, then runs redis-benchmark
  for every workload and concurrency. Reported per row: each build's median requests/s over the
  rounds, B/A, and each server's CPU time per request (utime + stime of the server process over the
  run / requests). Only same-run ratios mean anything on a shared machine.

  Workloads (models from ../shared/models where present, else the project's own):
    torch-tiny      AI.MODELEXECUTE of a + b on FLOAT [2,2] (pt-minimal.pt)
    onnx-mnist      AI.MODELEXECUTE of mnist.onnx on one.raw
    dag-mnist       AI.DAGEXECUTE LOAD 1 one |> AI.MODELEXECUTE mnist ... |> AI.TENSORGET out BLOB
    tflite-mnist    AI.MODELEXECUTE of mnist_model_quant.tflite on one.raw
    tflite-tiny     AI.MODELEXECUTE of the TFLITE fixture ADD on two FLOAT [1,8] (tflite scenario's tiny)
    tflite-mlp      AI.MODELEXECUTE of the TFLITE fixture MLP 784-128-10 on FLOAT [1,1,28,28] (its mnist)
    tf-graph        AI.MODELEXECUTE of graph.pb (a * b) on FLOAT [2,2]
    tensorset       AI.TENSORSET t FLOAT 16 VALUES 1..16
    tensorget       AI.TENSORGET t BLOB (a FLOAT [16] tensor)
    script-tiny     AI.SCRIPTEXECUTE of a TorchScript a + b on FLOAT [2,2]

options:
  --a PATH            build A's server (apps/server/dist/cli.js of a worktree; default: this build)
  --b PATH            build B's server (default: this build)
  --workloads LIST    (default torch-tiny,onnx-mnist,dag-mnist,tensorset)
  --concurrency LIST  redis-benchmark -c levels (default 1,8,50)
  --requests N        requests per measurement (default 20000)
  --rounds N          rounds, alternating A-B / B-A (default 3)
  --server-args "..." extra flags for both servers (e.g. "--threads-per-queue 2")
  --a-args=...        extra flags for A only; --b-args=... for B only (the same build with and
                      without an option: "--b-args=--metrics-port 9121"; the = is needed)
  --out DIR           where results go (default <repo>/bench-results)`;

interface Workload {
  /** Stores what the command needs. */
  setup(c: Client): Promise<void>;
  command: string[];
}

const SHARED = resolve(repoRoot, '../shared/models');
const shared = (f: string): Buffer | undefined => (existsSync(join(SHARED, f)) ? readFileSync(join(SHARED, f)) : undefined);

function oneRaw(): Buffer {
  const s = mnistSample();
  return shared('one.raw') ?? Buffer.from(s.buffer, s.byteOffset, s.byteLength);
}

async function tinyTorch(): Promise<Buffer> {
  const pt = shared('pt-minimal.pt');
  if (pt !== undefined) return pt;
  const { torchModelBlob } = await import('@respai/backend-torch/testing');
  return torchModelBlob('def forward(self, a, b):\n    return a + b\n');
}

const ab2x2 = async (c: Client) => {
  await c.ok(['AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3']);
  await c.ok(['AI.TENSORSET', 'b', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3']);
};

function need(f: string): Buffer {
  const b = shared(f);
  if (b === undefined) throw new Error(`workload needs ../shared/models/${f}`);
  return b;
}

/** A TFLITE fixture stored as `tfl-<name>`, its inputs beside it; the command runs it. */
function tfliteWorkload(name: 'tiny' | 'mnist'): Workload {
  const m = tfliteCase(name);
  const key = `tfl-${name}`;
  const ins = m.inputs.map((_, i) => `${key}-in${i}`);
  return {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', key, 'TFLITE', 'CPU', 'BLOB', m.blob]);
      for (const [i, x] of m.inputs.entries()) {
        await c.ok(['AI.TENSORSET', ins[i]!, 'FLOAT', ...x.dims.map(String), 'BLOB', Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)]);
      }
    },
    command: ['AI.MODELEXECUTE', key, 'INPUTS', String(ins.length), ...ins, 'OUTPUTS', '1', `${key}-out`],
  };
}

const WORKLOADS: Record<string, Workload> = {
  'torch-tiny': {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', 'pt', 'TORCH', 'CPU', 'BLOB', await tinyTorch()]);
      await ab2x2(c);
    },
    command: ['AI.MODELEXECUTE', 'pt', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c'],
  },
  'onnx-mnist': {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', need('mnist.onnx')]);
      await c.ok(['AI.TENSORSET', 'one', 'FLOAT', '1', '1', '28', '28', 'BLOB', oneRaw()]);
    },
    command: ['AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'one', 'OUTPUTS', '1', 'out'],
  },
  'dag-mnist': {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', need('mnist.onnx')]);
      await c.ok(['AI.TENSORSET', 'one', 'FLOAT', '1', '1', '28', '28', 'BLOB', oneRaw()]);
    },
    command: 'AI.DAGEXECUTE LOAD 1 one |> AI.MODELEXECUTE mnist INPUTS 1 one OUTPUTS 1 out |> AI.TENSORGET out BLOB'.split(' '),
  },
  'tflite-mnist': {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', 'tfl', 'TFLITE', 'CPU', 'BLOB', need('mnist_model_quant.tflite')]);
      await c.ok(['AI.TENSORSET', 'one', 'FLOAT', '1', '1', '28', '28', 'BLOB', oneRaw()]);
    },
    command: ['AI.MODELEXECUTE', 'tfl', 'INPUTS', '1', 'one', 'OUTPUTS', '2', 'cls', 'scores'],
  },
  // The TFLITE backend's own fixtures (the tflite scenario's tiny ADD and MLP): a run costs
  // 4-12 us, so these show the server's per-run cost on this backend.
  'tflite-tiny': tfliteWorkload('tiny'),
  'tflite-mlp': tfliteWorkload('mnist'),
  'tf-graph': {
    setup: async (c) => {
      await c.ok(['AI.MODELSTORE', 'tfg', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', need('graph.pb')]);
      await ab2x2(c);
    },
    command: ['AI.MODELEXECUTE', 'tfg', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c'],
  },
  tensorset: {
    setup: async () => undefined,
    command: ['AI.TENSORSET', 't', 'FLOAT', '16', 'VALUES', ...Array.from({ length: 16 }, (_, i) => String(i + 1))],
  },
  tensorget: {
    setup: async (c) => {
      await c.ok(['AI.TENSORSET', 'g', 'FLOAT', '16', 'VALUES', ...Array.from({ length: 16 }, (_, i) => String(i + 1))]);
    },
    command: ['AI.TENSORGET', 'g', 'BLOB'],
  },
  'script-tiny': {
    setup: async (c) => {
      await c.ok(['AI.SCRIPTSTORE', 'scr', 'CPU', 'ENTRY_POINTS', '1', 'add', 'SOURCE', 'def add(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + tensors[1]\n']);
      await ab2x2(c);
    },
    command: ['AI.SCRIPTEXECUTE', 'scr', 'add', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c'],
  },
};

/** Runs redis-benchmark; resolves with requests per second. */
function redisBenchmark(port: number, clients: number, requests: number, command: readonly string[]): Promise<number> {
  return new Promise((resolveRps, reject) => {
    const p = spawn('redis-benchmark', ['-p', String(port), '-c', String(clients), '-n', String(requests), '--csv', ...command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => /^"[^"]*","[\d.]+"/.test(l));
      if (code !== 0 || line === undefined) return reject(new Error(`redis-benchmark failed (${code}): ${out.slice(-500)}`));
      resolveRps(Number(line.split(',')[1]!.replace(/"/g, '')));
    });
  });
}

interface Sample {
  rps: number;
  cpuUsPerReq: number;
}

async function measure(server: ServerHandle, w: Workload, clients: number, requests: number): Promise<Sample> {
  const before = cpuUs(server.pid);
  const rps = await redisBenchmark(server.port, clients, requests, w.command);
  const after = cpuUs(server.pid);
  return { rps, cpuUsPerReq: (after - before) / requests };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      a: { type: 'string', default: respaiCli },
      b: { type: 'string', default: respaiCli },
      workloads: { type: 'string', default: 'torch-tiny,onnx-mnist,dag-mnist,tensorset' },
      concurrency: { type: 'string', default: '1,8,50' },
      requests: { type: 'string', default: '20000' },
      rounds: { type: 'string', default: '3' },
      'server-args': { type: 'string', default: '' },
      'a-args': { type: 'string', default: '' },
      'b-args': { type: 'string', default: '' },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const names = parseList(values.workloads, (s) => {
    if (WORKLOADS[s] === undefined) throw new Error(`--workloads: unknown workload ${s}`);
    return s;
  });
  const levels = parseList(values.concurrency, (s) => parsePositiveInt(s, '--concurrency'));
  const requests = parsePositiveInt(values.requests, '--requests');
  const rounds = parsePositiveInt(values.rounds, '--rounds');
  const builds = { A: resolve(values.a), B: resolve(values.b) };
  const words = (s: string) => s.split(' ').filter((x) => x.length > 0);
  const extra = { A: [...words(values['server-args']), ...words(values['a-args'])], B: [...words(values['server-args']), ...words(values['b-args'])] };
  const when = new Date();
  console.log(machineLine(when));
  console.log(`A: ${builds.A} ${extra.A.join(' ')}\nB: ${builds.B} ${extra.B.join(' ')}`);

  const samples = new Map<string, { A: Sample[]; B: Sample[] }>();
  const rowKey = (w: string, c: number) => `${w}\t${c}`;
  for (let r = 0; r < rounds; r++) {
    const order: ('A' | 'B')[] = r % 2 === 0 ? ['A', 'B'] : ['B', 'A'];
    for (const which of order) {
      const server = await startRespai(undefined, extra[which], builds[which]);
      try {
        const c = await Client.connect(server.port);
        for (const name of names) await WORKLOADS[name]!.setup(c);
        c.close();
        for (const name of names) {
          const w = WORKLOADS[name]!;
          await redisBenchmark(server.port, 8, Math.min(requests, 5000), w.command); // warm-up
          for (const level of levels) {
            const s = await measure(server, w, level, requests);
            const k = rowKey(name, level);
            const entry = samples.get(k) ?? { A: [], B: [] };
            entry[which].push(s);
            samples.set(k, entry);
            process.stderr.write(`round ${r + 1}/${rounds} ${which} ${name} c=${level}: ${s.rps.toFixed(0)} req/s, ${s.cpuUsPerReq.toFixed(1)} us CPU/req\n`);
          }
        }
      } finally {
        await server.stop();
      }
    }
  }

  const header = ['workload', 'c', 'A req/s', 'B req/s', 'B/A', 'A CPU us/req', 'B CPU us/req'];
  const body: string[][] = [];
  const groups: BarGroup[] = [];
  const csv = ['workload,clients,a_rps,b_rps,ratio,a_cpu_us_per_req,b_cpu_us_per_req'];
  for (const [k, { A, B }] of samples) {
    const [name, level] = k.split('\t') as [string, string];
    const a = median(A.map((s) => s.rps));
    const b = median(B.map((s) => s.rps));
    const ac = median(A.map((s) => s.cpuUsPerReq));
    const bc = median(B.map((s) => s.cpuUsPerReq));
    body.push([name, level, a.toFixed(0), b.toFixed(0), (b / a).toFixed(2), ac.toFixed(1), bc.toFixed(1)]);
    csv.push([name, level, a.toFixed(0), b.toFixed(0), (b / a).toFixed(3), ac.toFixed(2), bc.toFixed(2)].join(','));
    groups.push({ label: [name, `c=${level}`], values: { A: a, B: b }, note: `${(b / a).toFixed(2)}x` });
  }
  const table = textTable(header, body);
  console.log(`\n${table}\n(median of ${rounds} rounds; ${requests} requests per measurement)`);
  const base = resultBase(values.out, 'ab', when);
  writeFile(`${base}.csv`, csv.join('\n') + '\n');
  writeFile(`${base}.txt`, `${machineLine(when)}\nA: ${builds.A} ${extra.A.join(' ')}\nB: ${builds.B} ${extra.B.join(' ')}\n\n${table}\n`);
  writeFile(
    `${base}.svg`,
    barChartSvg({
      title: 'A/B: requests/s of two respai builds (redis-benchmark)',
      yLabel: 'requests/s',
      series: ['A', 'B'],
      panels: [{ title: 'workload, clients', groups }],
      footer: machineLine(when),
    }),
  );
  console.log(`results: ${base}.{csv,txt,svg}`);
  return 0;
}
