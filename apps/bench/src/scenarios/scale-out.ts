import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { commonOptions, parsePositiveInt } from '../args.js';
import { encodeCommand, formatRate, ProgressLine, runLoad, sendBatch, type LoadResult } from '../loadgen/index.js';
import { blobOf, onnxFixture } from '../models.js';
import { machineLine, resultBase, textTable, writeFile } from '../report.js';
import { cpuUs, startRedis, startRespai, type ServerHandle } from '../servers.js';

export const usage = `scale-out: respai over an external keyspace (docs/scale-out.md)

  cost   the same requests through respai with its embedded keyspace and through respai over a
         standalone redis-server (--keyspace-url), same run, alternating: AI.TENSORSET and
         AI.TENSORGET of 1 KiB and 64 KiB UINT8 tensors, AI.MODELEXECUTE of the ONNX "tiny" model
         (x[1,8] @ W, Relu) and "mnist" (a 784-128-10 MLP). Targets: MODELEXECUTE tiny >= 0.5x,
         TENSORGET 64 KiB >= 0.6x of the embedded keyspace.
  scale  1 and then 2 respai nodes over one 3-master Cluster (redis-cli --cluster create), every
         connection running AI.MODELEXECUTE mnist on its own hash tag (16 tags, one model copy per
         tag, so the slots of all masters are used): total requests/s, and CPU time per request of
         each respai node and of the masters (utime + stime from /proc over the run, divided by
         its requests). On a 2-core machine two nodes cannot run faster than one; the CPU per
         request is what the projection in docs/scale-out.md uses.

options:
  --parts LIST        cost,scale (default both)
  --clients N         connections (default 16)
  --window-ms N       measurement window (default 2000; --quick: 500)
  --rounds N          cost: rounds, alternating which keyspace goes first (default 3)
  --quick             short windows, one round
  --out DIR           where results go (default <repo>/bench-results)`;

interface Workload {
  name: string;
  /** Run once before measuring (stores the model, sets the input). */
  setup: (tag: string) => Buffer[];
  request: (tag: string, conn: number) => Buffer;
}

const TINY = onnxFixture('tiny');
const MNIST = onnxFixture('mnist');

function tensorWorkloads(): Workload[] {
  const out: Workload[] = [];
  for (const size of [1024, 65536]) {
    const blob = randomBytes(size);
    const kb = `${size / 1024} KiB`;
    out.push({
      name: `TENSORSET ${kb}`,
      setup: () => [],
      request: (tag, c) => encodeCommand(['AI.TENSORSET', `t{${tag}}${c}`, 'UINT8', String(size), 'BLOB', blob]),
    });
    out.push({
      name: `TENSORGET ${kb}`,
      setup: (tag) => [encodeCommand(['AI.TENSORSET', `g{${tag}}`, 'UINT8', String(size), 'BLOB', blob])],
      request: (tag) => encodeCommand(['AI.TENSORGET', `g{${tag}}`, 'BLOB']),
    });
  }
  return out;
}

function modelWorkload(name: string, f: typeof TINY): Workload {
  return {
    name: `MODELEXECUTE ${name}`,
    setup: (tag) => [
      encodeCommand(['AI.MODELSTORE', `m{${tag}}`, 'ONNX', 'CPU', 'BLOB', f.blob]),
      encodeCommand(['AI.TENSORSET', `x{${tag}}`, 'FLOAT', ...f.dims.map(String), 'BLOB', blobOf(f.data)]),
    ],
    request: (tag, c) => encodeCommand(['AI.MODELEXECUTE', `m{${tag}}`, 'INPUTS', '1', `x{${tag}}`, 'OUTPUTS', '1', `y{${tag}}${c}`]),
  };
}

interface Sample {
  opsPerSec: number;
  /** Per server pid: CPU µs per request (over the whole load, warm-up included). */
  cpuUsPerReq: Map<number, number>;
  errors: number;
  firstError: string | undefined;
}

/** Runs `loads` (one per node) at once; CPU of `pids` is read around the whole run. */
async function measure(loads: Parameters<typeof runLoad>[0][], pids: readonly number[]): Promise<Sample> {
  const before = pids.map(cpuUs);
  const t0 = process.hrtime.bigint();
  const results: LoadResult[] = await Promise.all(loads.map((l) => runLoad(l)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ops = results.reduce((n, r) => n + r.opsPerSec, 0);
  // Requests over the run ~ throughput x duration (the windows and the warm-up run at one pace).
  const requests = ops * seconds;
  return {
    opsPerSec: ops,
    cpuUsPerReq: new Map(pids.map((p, i) => [p, (cpuUs(p) - before[i]!) / requests])),
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
  };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function prepare(port: number, w: Workload, tags: readonly string[]): Promise<void> {
  const r = await sendBatch(port, tags.flatMap((t) => w.setup(t)), 4);
  if (r.errors > 0) throw new Error(`${w.name}: setup failed: ${r.firstError}`);
}

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 60_000 }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out)));
  });
}

async function startCluster(log: (s: string) => void): Promise<ServerHandle[]> {
  const masters: ServerHandle[] = [];
  for (let i = 0; i < 3; i++) masters.push(await startRedis(undefined, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']));
  await cli(['--cluster', 'create', ...masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  for (let n = 0; n < 300; n++) {
    const ok = await Promise.all(masters.map((m) => cli(['-p', String(m.port), 'CLUSTER', 'INFO']).then((s) => s.includes('cluster_state:ok'))));
    if (ok.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`cluster: masters on ${masters.map((m) => m.port).join(', ')}`);
  return masters;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      parts: { type: 'string', default: 'cost,scale' },
      clients: { type: 'string', default: '16' },
      'window-ms': { type: 'string' },
      rounds: { type: 'string' },
      ...commonOptions(),
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const parts = values.parts.split(',');
  const clients = parsePositiveInt(values.clients, '--clients');
  const windowMs = values['window-ms'] ? parsePositiveInt(values['window-ms'], '--window-ms') : values.quick ? 500 : 2000;
  const rounds = values.rounds ? parsePositiveInt(values.rounds, '--rounds') : values.quick ? 1 : 3;
  const progress = new ProgressLine();
  const log = (s: string) => {
    progress.clear();
    process.stderr.write(`${s}\n`);
  };
  const load = (port: number, w: Workload, tags: readonly string[], connections: number, label: string, offset = 0) => ({
    port,
    connections,
    pipeline: 1,
    requests: (c: number) => w.request(tags[(c + offset) % tags.length]!, c + offset),
    windowMs,
    warmupMs: Math.min(windowMs, 1000),
    maxWindows: values.quick ? 3 : 6,
    onProgress: progress.reporter(label),
  });
  const report: string[] = [machineLine()];
  const csv: string[] = ['part,workload,target,nodes,ops_per_sec,respai_cpu_us_per_req,store_cpu_us_per_req,errors,respai_main_thread_cpu_us_per_req'];
  const servers: ServerHandle[] = [];
  try {
    if (parts.includes('cost')) {
      const store = await startRedis();
      servers.push(store);
      const embedded = await startRespai();
      const external = await startRespai(undefined, ['--keyspace-url', `redis://127.0.0.1:${store.port}`]);
      servers.push(embedded, external);
      const targets = [
        { name: 'embedded', server: embedded, pids: [embedded.pid] },
        { name: 'external', server: external, pids: [external.pid, store.pid] },
      ];
      const workloads = [...tensorWorkloads(), modelWorkload('tiny', TINY), modelWorkload('mnist', MNIST)];
      const rows: string[][] = [];
      for (const w of workloads) {
        const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
        for (const t of targets) await prepare(t.server.port, w, ['1']);
        for (let r = 0; r < rounds; r++) {
          for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
            const s = await measure([load(t.server.port, w, ['1'], clients, `${w.name} ${t.name}`)], t.pids);
            log(`${w.name} ${t.name} round ${r + 1}/${rounds}: ${formatRate(s.opsPerSec)} ops/s${s.errors ? `, ${s.errors} errors: ${s.firstError}` : ''}`);
            samples.get(t.name)!.push(s);
          }
        }
        const pick = (name: string, f: (s: Sample) => number) => median(samples.get(name)!.map(f));
        const emb = pick('embedded', (s) => s.opsPerSec);
        const ext = pick('external', (s) => s.opsPerSec);
        const embCpu = pick('embedded', (s) => s.cpuUsPerReq.get(embedded.pid)!);
        const extCpu = pick('external', (s) => s.cpuUsPerReq.get(external.pid)!);
        const storeCpu = pick('external', (s) => s.cpuUsPerReq.get(store.pid)!);
        rows.push([w.name, formatRate(emb), formatRate(ext), (ext / emb).toFixed(2), embCpu.toFixed(1), extCpu.toFixed(1), storeCpu.toFixed(1)]);
        const errs = (n: string) => samples.get(n)!.reduce((x, s) => x + s.errors, 0);
        csv.push(`cost,${w.name},embedded,1,${emb.toFixed(0)},${embCpu.toFixed(2)},,${errs('embedded')}`);
        csv.push(`cost,${w.name},external,1,${ext.toFixed(0)},${extCpu.toFixed(2)},${storeCpu.toFixed(2)},${errs('external')}`);
      }
      report.push(
        `\ncost: respai over a standalone redis-server vs the embedded keyspace, ${clients} connections, pipeline 1, median of ${rounds} rounds`,
        textTable(['workload', 'embedded ops/s', 'external ops/s', 'ratio', 'emb CPU us/req', 'ext CPU us/req', 'store CPU us/req'], rows),
      );
      for (const s of servers.splice(0)) await s.stop();
    }

    if (parts.includes('scale')) {
      const masters = await startCluster(log);
      servers.push(...masters);
      const seeds = masters.map((m) => `127.0.0.1:${m.port}`).join(',');
      const nodes = [await startRespai(undefined, ['--keyspace-cluster-nodes', seeds]), await startRespai(undefined, ['--keyspace-cluster-nodes', seeds])];
      servers.push(...nodes);
      const tags = Array.from({ length: 16 }, (_, i) => String(i));
      const w = modelWorkload('mnist', MNIST);
      await prepare(nodes[0]!.port, w, tags);
      // Each node loads its 16 model copies before anything is measured.
      for (const node of nodes) {
        const r = await sendBatch(node.port, tags.map((t) => w.request(t, 0)), 4);
        if (r.errors > 0) throw new Error(`warm-up: ${r.firstError}`);
      }
      const rows: string[][] = [];
      for (const n of [1, 2]) {
        const used = nodes.slice(0, n);
        const per = Math.ceil(clients / n);
        const s = await measure(
          used.map((node, i) => load(node.port, w, tags, per, `scale ${n} node(s) node ${i + 1}`, i * per)),
          [...used.map((u) => u.pid), ...used.map((u) => -u.pid), ...masters.map((m) => m.pid)],
        );
        const nodeCpu = used.map((u) => s.cpuUsPerReq.get(u.pid)!);
        const mainCpu = used.map((u) => s.cpuUsPerReq.get(-u.pid)! * n);
        const storeCpu = masters.reduce((x, m) => x + s.cpuUsPerReq.get(m.pid)!, 0);
        // CPU per request of one node, counted over the requests that node served (an even share).
        const perNode = nodeCpu.map((c) => c * n);
        log(`scale ${n} node(s): ${formatRate(s.opsPerSec)} ops/s, respai CPU/req per node ${perNode.map((c) => c.toFixed(0)).join(', ')} us${s.errors ? `, ${s.errors} errors: ${s.firstError}` : ''}`);
        rows.push([String(n), formatRate(s.opsPerSec), perNode.map((c) => c.toFixed(1)).join(' / '), mainCpu.map((c) => c.toFixed(1)).join(' / '), storeCpu.toFixed(1)]);
        csv.push(`scale,MODELEXECUTE mnist,cluster,${n},${s.opsPerSec.toFixed(0)},${perNode.map((c) => c.toFixed(2)).join(' ')},${storeCpu.toFixed(2)},${s.errors},${mainCpu.map((c) => c.toFixed(2)).join(' ')}`);
      }
      report.push(
        `\nscale: AI.MODELEXECUTE mnist through 1 and 2 respai nodes over a 3-master Cluster, ${clients} connections in all`,
        textTable(['nodes', 'total ops/s', 'respai CPU us/req (each node)', 'of it, main thread', 'masters CPU us/req (all 3)'], rows),
      );
    }
  } finally {
    progress.clear();
    for (const s of servers) await s.stop();
  }
  const base = resultBase(values.out, 'scale-out');
  const csvPath = writeFile(`${base}.csv`, csv.join('\n') + '\n');
  console.log(report.join('\n'));
  console.log(`\nwrote ${csvPath}`);
  return 0;
}
