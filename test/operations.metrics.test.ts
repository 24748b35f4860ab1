/**
 * /metrics, /healthz and /readyz end to end against the built server: /metrics is scraped before
 * and after runs of every backend (ONNX, TORCH, TF, TFLITE) and a TorchScript script, and each
 * counter and histogram must have moved by exactly the runs made; label values are capped;
 * /readyz answers 503 with its reason while the data set loads, then 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { OnnxType, identityModel } from '@respai/backend-onnx/testing';
import { mulModel } from '@respai/backend-tf/testing';
import { TensorType, binaryModel } from '@respai/backend-tflite/testing';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { freePort } from './helpers/redis-server.js';

type Client = ReturnType<typeof createClient>;
type Arg = string | Buffer;
const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);

/** Every sample of a scrape by its series (`name{labels}`), as Prometheus reads them. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

const scrape = async (port: number) => parse((await get(port, '/metrics')).body);

describe('/metrics', () => {
  let server: RunningServer;
  let mport: number;
  let c: Client;
  const cmd = (...a: Arg[]) => c.sendCommand(a) as Promise<unknown>;

  beforeAll(async () => {
    mport = await freePort();
    server = await startServer(['--metrics-port', String(mport)]);
    c = createClient({ socket: { port: server.port } });
    await c.connect();
  }, 60_000);
  afterAll(async () => {
    await c?.quit().catch(() => undefined);
    await server?.stop();
  });

  it('serves the Prometheus text format, /healthz, and refuses other paths and methods', async () => {
    const m = await get(mport, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(m.body).toContain('# TYPE respai_model_run_seconds histogram');
    expect(m.body).toContain('# TYPE respai_commands_total counter');
    expect(m.body).toContain('# TYPE process_cpu_user_seconds_total counter');
    // The process's metrics, read at scrape time (no GC observer or loop monitor between scrapes).
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(m.body)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(20 * 2 ** 20);
    expect(value('process_open_fds')).toBeGreaterThan(3);
    expect(value('process_max_fds')).toBeGreaterThan(value('process_open_fds'));
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(value('process_start_time_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(value('nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(value('nodejs_heap_size_total_bytes'));
    expect(value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.body).toContain(`nodejs_version_info{version="${process.version}"`);
    expect(m.body).not.toContain('nodejs_gc_duration_seconds');
    expect(await get(mport, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(mport, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
    expect((await get(mport, '/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${mport}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('counters and histograms move by exactly the runs of each backend and script', async () => {
    const models: [string, string, Arg[], Arg[]][] = [
      ['m:onnx', 'ONNX', ['BLOB', identityModel(OnnxType.FLOAT, ['N', 2])], ['x']],
      ['m:torch', 'TORCH', ['BLOB', torchModelBlob('def forward(self, a, b):\n    return a + b\n')], ['x', 'x']],
      ['m:tf', 'TF', ['INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c', 'BLOB', mulModel()], ['x', 'x']],
      ['m:tflite', 'TFLITE', ['BLOB', binaryModel('ADD', TensorType.FLOAT32, [1, 2])], ['x', 'x']],
    ];
    for (const [key, backend, args] of models) expect(await cmd('AI.MODELSTORE', key, backend, 'CPU', ...args)).toBe('OK');
    expect(await cmd('AI.SCRIPTSTORE', 's:torch', 'CPU', 'ENTRY_POINTS', '1', 'twice', 'SOURCE', 'def twice(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] * 2\n')).toBe('OK');
    expect(await cmd('AI.TENSORSET', 'x', 'FLOAT', '1', '2', 'BLOB', f32(1, 2))).toBe('OK');
    expect(await cmd('AI.TENSORSET', 'bad', 'FLOAT', '1', '3', 'BLOB', f32(1, 2, 3))).toBe('OK');

    const before = await scrape(mport);
    const RUNS = 3;
    for (const [key, , , inputs] of models) {
      for (let i = 0; i < RUNS; i++) {
        expect(await cmd('AI.MODELEXECUTE', key, 'INPUTS', String(inputs.length), ...inputs, 'OUTPUTS', '1', `out:${key}`)).toBe('OK');
      }
    }
    // A run the backend refuses (a [1,3] input for a [N,2] model): a run, and an error.
    await expect(cmd('AI.MODELEXECUTE', 'm:onnx', 'INPUTS', '1', 'bad', 'OUTPUTS', '1', 'y')).rejects.toThrow();
    for (let i = 0; i < 2; i++) {
      expect(await cmd('AI.SCRIPTEXECUTE', 's:torch', 'twice', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y2')).toBe('OK');
    }
    const after = await scrape(mport);
    const delta = (series: string) => (after.get(series) ?? 0) - (before.get(series) ?? 0);

    let allRuns = 0;
    for (const [key, backend] of models) {
      const l = `key="${key}",backend="${backend}",device="CPU"`;
      const runs = RUNS + (backend === 'ONNX' ? 1 : 0);
      allRuns += runs;
      expect(delta(`respai_model_runs_total{${l}}`), key).toBe(runs);
      expect(delta(`respai_model_errors_total{${l}}`), key).toBe(backend === 'ONNX' ? 1 : 0);
      expect(delta(`respai_model_run_seconds_count{${l}}`), key).toBe(runs);
      expect(delta(`respai_model_run_seconds_bucket{${l},le="+Inf"}`), key).toBe(runs);
      expect(delta(`respai_model_run_seconds_sum{${l}}`), key).toBeGreaterThan(0);
      // Buckets are cumulative: never decreasing, up to the count.
      const buckets = [...after].filter(([s]) => s.startsWith(`respai_model_run_seconds_bucket{${l},`)).map(([, v]) => v);
      expect(buckets.length).toBe(17);
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      // No batching here: every backend run served one request.
      expect(delta(`respai_batch_size_count{key="${key}"}`), key).toBe(runs);
      expect(delta(`respai_batch_size_bucket{key="${key}",le="1"}`), key).toBe(runs);
      expect(delta(`respai_batch_size_sum{key="${key}"}`), key).toBe(runs);
    }
    expect(delta('respai_script_runs_total{key="s:torch",device="CPU"}')).toBe(2);
    expect(delta('respai_script_errors_total{key="s:torch",device="CPU"}')).toBe(0);
    expect(delta('respai_script_run_seconds_count{key="s:torch",device="CPU"}')).toBe(2);
    expect(delta('respai_queue_wait_seconds_count{device="CPU"}')).toBe(allRuns + 2);
    expect(delta('respai_queue_wait_seconds_bucket{device="CPU",le="+Inf"}')).toBe(allRuns + 2);
    expect(after.get('respai_queue_depth{device="CPU"}')).toBe(0);
    expect(delta('respai_commands_total{command="ai.modelexecute"}')).toBe(allRuns);
    expect(delta('respai_command_errors_total{command="ai.modelexecute"}')).toBe(1);
    expect(delta('respai_commands_total{command="ai.scriptexecute"}')).toBe(2);
    expect(after.get('respai_keys{type="model"}')).toBe(4);
    expect(after.get('respai_keys{type="script"}')).toBe(1);
    // x, bad, four outputs and y2 (the refused run wrote nothing).
    expect(after.get('respai_keys{type="tensor"}')).toBe(7);
    expect(after.get('respai_connected_clients')).toBe(1);
    expect(after.get('respai_ready')).toBe(1);
  }, 120_000);

  it('counts rejected commands as errors of their command, unknown ones as `unknown`', async () => {
    const before = await scrape(mport);
    await expect(cmd('GET')).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    await expect(cmd('NOSUCHCOMMAND')).rejects.toThrow('ERR unknown command');
    const after = await scrape(mport);
    const delta = (s: string) => (after.get(s) ?? 0) - (before.get(s) ?? 0);
    expect(delta('respai_command_errors_total{command="get"}')).toBe(1);
    expect(delta('respai_commands_total{command="get"}')).toBe(0);
    expect(delta('respai_command_errors_total{command="unknown"}')).toBe(1);
  });
});

describe('/metrics label values are capped (metrics-max-keys)', () => {
  it('keys past the cap share the `other` series', async () => {
    const mport = await freePort();
    const server = await startServer(['--metrics-port', String(mport), '--metrics-max-keys', '2']);
    const c = createClient({ socket: { port: server.port } });
    try {
      await c.connect();
      expect(await c.sendCommand(['AI.TENSORSET', 'x', 'FLOAT', '1', '2', 'VALUES', '1', '2'])).toBe('OK');
      for (const key of ['k1', 'k2', 'k3', 'k4']) {
        expect(await c.sendCommand(['AI.MODELSTORE', key, 'ONNX', 'CPU', 'BLOB', identityModel(OnnxType.FLOAT, ['N', 2])])).toBe('OK');
        expect(await c.sendCommand(['AI.MODELEXECUTE', key, 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y'])).toBe('OK');
      }
      const m = await scrape(mport);
      expect(m.get('respai_model_runs_total{key="k1",backend="ONNX",device="CPU"}')).toBe(1);
      expect(m.get('respai_model_runs_total{key="k2",backend="ONNX",device="CPU"}')).toBe(1);
      expect(m.get('respai_model_runs_total{key="other",backend="ONNX",device="CPU"}')).toBe(2);
      expect([...m.keys()].some((s) => s.includes('"k3"') || s.includes('"k4"'))).toBe(false);
    } finally {
      await c.quit().catch(() => undefined);
      await server.stop();
    }
  }, 60_000);
});

describe('/readyz', () => {
  it('answers 503 with the reason while the data set loads, then 200', async () => {
    const first = await startServer([]);
    const c = createClient({ socket: { port: first.port } });
    await c.connect();
    const dataDir = ((await c.sendCommand(['CONFIG', 'GET', 'dir'])) as string[])[1]!;
    const pairs: string[] = [];
    for (let i = 0; i < 2000; i++) pairs.push(`k${i}`, 'v');
    expect(await c.sendCommand(['MSET', ...pairs])).toBe('OK');
    expect(await c.sendCommand(['SAVE'])).toBe('OK');
    await c.quit();
    // The snapshot stays: the second server reads it (1 ms a key) from the same directory.
    const mport = await freePort();
    const starting = startServer(['--dir', dataDir, '--metrics-port', String(mport), '--key-load-delay', '1000']);
    const seen = new Set<string>();
    let second: RunningServer | undefined;
    void starting.then((s) => (second = s));
    while (second === undefined) {
      const r = await get(mport, '/readyz').catch(() => undefined);
      if (r !== undefined) seen.add(`${r.status} ${r.body.trim()}`);
      await new Promise((res) => setTimeout(res, 10));
    }
    await first.stop();
    try {
      expect(seen).toContain('503 not ready: loading the data set');
      expect(await get(mport, '/healthz')).toMatchObject({ status: 200 });
      expect(await get(mport, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
      const m = await scrape(mport);
      expect(m.get('respai_keys{type="string"}')).toBe(2000);
    } finally {
      await second.stop();
    }
  }, 60_000);
});
