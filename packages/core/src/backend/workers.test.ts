import { afterEach, describe, expect, it } from 'vitest';
import { RespaiError } from '../errors.js';
import { DeviceWorkers, WorkerCallError, WorkerGoneError, WorkerRpc, WorkerTimeoutError } from './workers.js';

// Workers cannot load TypeScript, so this one speaks serveWorker's wire protocol by hand
// (the ONNX backend's tests run the real serveWorker from the build).
const source = `
import { parentPort, workerData, threadId } from 'node:worker_threads';
const busy = new Int32Array(workerData.rpcBusy);
// A latch the test holds: [0] entered, [1] released, [2] returned.
const latch = (sab) => {
  const l = new Int32Array(sab);
  Atomics.store(l, 0, 1);
  Atomics.notify(l, 0);
  while (Atomics.load(l, 1) === 0) Atomics.wait(l, 1, 0);
  Atomics.store(l, 2, 1);
  return 'released';
};
const handlers = {
  echo: (x) => x,
  data: () => workerData.data,
  threadId: () => threadId,
  fail: (m) => { throw new TypeError(m); },
  respai: (m) => { const e = new Error(m); e.name = 'RespaiError'; throw e; },
  sum: (ab) => new Float64Array(ab).reduce((a, b) => a + b, 0),
  latch,
  exit: (code) => process.exit(code),
  bytes: (n) => ({ transfer: new Uint8Array(n).fill(7).buffer }),
};
parentPort.on('message', async ({ id, method, args }) => {
  Atomics.add(busy, 0, 1);
  let reply, list = [];
  try {
    let value = await handlers[method](...args);
    if (value && value.transfer) { list = [value.transfer]; value = value.transfer; }
    reply = { id, ok: true, value };
  } catch (e) {
    reply = { id, ok: false, error: { name: e.name, message: e.message, respai: e.name === 'RespaiError' } };
  }
  Atomics.sub(busy, 0, 1);
  Atomics.notify(busy, 0);
  parentPort.postMessage(reply, list);
});`;
const url = new URL(`data:text/javascript,${encodeURIComponent(source)}`);

/** A call the worker cannot return from until the test says so (a native call that takes a while). */
class Latch {
  readonly sab = new SharedArrayBuffer(12);
  private readonly view = new Int32Array(this.sab);
  /** Resolves once the worker is inside the call. */
  async entered(): Promise<void> {
    while (Atomics.load(this.view, 0) === 0) await new Promise((r) => setImmediate(r));
  }
  release(): void {
    Atomics.store(this.view, 1, 1);
    Atomics.notify(this.view, 1);
  }
  /** Whether the worker's handler returned. */
  get returned(): boolean {
    return Atomics.load(this.view, 2) === 1;
  }
}

const open: WorkerRpc[] = [];
function rpc(options: Partial<ConstructorParameters<typeof WorkerRpc>[0]> = {}): WorkerRpc {
  const w = new WorkerRpc({ url, ...options });
  open.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

describe('WorkerRpc', () => {
  it('starts on the first call and answers calls with the handlers results', async () => {
    const w = rpc({ workerData: { hello: 'there' } });
    expect(w.running).toBe(false);
    expect(await w.call('echo', [{ a: [1, 2], b: 'x' }])).toEqual({ a: [1, 2], b: 'x' });
    expect(w.running).toBe(true);
    expect(await w.call('data')).toEqual({ hello: 'there' });
  });

  it('moves transferred buffers both ways', async () => {
    const w = rpc();
    const ab = new Float64Array([1, 2, 3.5]).buffer;
    expect(await w.call('sum', [ab], { transfer: [ab] })).toBe(6.5);
    expect(ab.byteLength).toBe(0); // detached: moved, not copied
    const back = await w.call<ArrayBuffer>('bytes', [3]);
    expect([...new Uint8Array(back)]).toEqual([7, 7, 7]);
  });

  it('re-throws handler errors with their message; a RespaiError stays one', async () => {
    const w = rpc();
    const e = await w.call('fail', ['bad input']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerCallError);
    expect((e as WorkerCallError).message).toBe('bad input');
    expect((e as WorkerCallError).remoteName).toBe('TypeError');
    const r = await w.call('respai', ['ERR exact text']).catch((x: unknown) => x);
    expect(RespaiError.isInstance(r)).toBe(true);
    expect((r as Error).message).toBe('ERR exact text');
  });

  it('rejects a call past its time limit at once, and the next call gets a fresh worker', async () => {
    const spawned: number[] = [];
    const lost: string[] = [];
    const w = rpc({
      onSpawn: async (call) => {
        spawned.push((await call('threadId')) as number);
      },
      onLost: (why) => lost.push(why),
    });
    const first = await w.call<number>('threadId');
    // The worker stays inside the call until released: the caller is answered without waiting for it.
    const latch = new Latch();
    const e = await w.call('latch', [latch.sab], { timeoutMs: 50 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerTimeoutError);
    expect((e as WorkerTimeoutError).timeoutMs).toBe(50);
    expect(latch.returned).toBe(false);
    latch.release();
    expect(lost).toEqual(["worker retired: a 'latch' call exceeded 50 ms"]);
    const second = await w.call<number>('threadId');
    expect(second).not.toBe(first);
    expect(spawned).toEqual([first, second]);
  });

  it('rejects calls of a worker that exits and starts another on the next call', async () => {
    const w = rpc();
    const first = await w.call<number>('threadId');
    const e = await w.call('exit', [3]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WorkerGoneError);
    expect((e as Error).message).toBe('worker exited with code 3');
    expect(w.running).toBe(false);
    expect(await w.call<number>('threadId')).not.toBe(first);
  });

  it('does not start a worker for a call with spawn: false', async () => {
    const w = rpc();
    expect(await w.call('echo', [1], { spawn: false })).toBeUndefined();
    expect(w.running).toBe(false);
  });

  it('close waits for a busy worker and refuses later calls', async () => {
    const w = rpc();
    const latch = new Latch();
    const busy = w.call('latch', [latch.sab]).catch((x: unknown) => x);
    await latch.entered();
    let closed = false;
    const closing = w.close().then(() => (closed = true));
    // Terminating it inside the (simulated native) call would be unsafe: close waits for it. (Were
    // it not to wait, the worker would be gone well within this grace, its handler not returned.)
    await Promise.race([closing, new Promise((r) => setTimeout(r, 100))]);
    expect(closed).toBe(false);
    latch.release();
    await closing;
    expect(latch.returned).toBe(true);
    expect(await busy).toBeInstanceOf(WorkerGoneError);
    await expect(w.call('echo', [1])).rejects.toBeInstanceOf(WorkerGoneError);
  });
});

describe('DeviceWorkers', () => {
  it('maps slot k of a device to worker k of that device, creating handles on first use', async () => {
    const made: string[] = [];
    const pool = new DeviceWorkers({
      size: 2,
      create: (device, i) => {
        made.push(`${device}#${i}`);
        return rpc();
      },
    });
    expect(made).toEqual([]);
    const a0 = pool.forSlot('CPU', 0);
    expect(made).toEqual(['CPU#0', 'CPU#1']);
    expect(pool.forSlot('CPU', 0)).toBe(a0);
    expect(pool.forSlot('CPU', 1)).not.toBe(a0);
    expect(pool.of('CPU')).toEqual([a0, pool.forSlot('CPU', 1)]);
    expect(pool.forSlot('CPU:1', 0)).not.toBe(a0);
    expect(pool.list()).toEqual(['CPU', 'CPU:1']);
    // Two slots are two threads.
    const [t0, t1] = await Promise.all([pool.forSlot('CPU', 0).call('threadId'), pool.forSlot('CPU', 1).call('threadId')]);
    expect(t0).not.toBe(t1);
    await pool.close();
    expect(pool.list()).toEqual([]);
  });
});
