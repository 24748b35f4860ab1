import { describe, expect, it, vi } from 'vitest';
import type { ModelLoadRequest } from '../backend/spi.js';
import { Tensor } from '../tensor/index.js';
import { CPU, device, floats, plainValues, tensor, tensorDiff, turnsWhile } from './helpers.js';
import { createMockBackend, mockModelBlob, parseMockModel, type MockModel, type MockModelDef } from './mock-backend.js';

const req = (def: MockModelDef | Buffer, over: Partial<ModelLoadRequest> = {}): ModelLoadRequest => ({
  blob: Buffer.isBuffer(def) ? def : mockModelBlob(def),
  device: CPU,
  inputs: [],
  outputs: [],
  batchSize: 0,
  ...over,
});

describe('mock model blobs', () => {
  it('round-trip and get default names', () => {
    expect(parseMockModel(mockModelBlob({ op: 'add' }))).toMatchObject({ op: 'add', inputs: ['a', 'b'], outputs: ['c'] });
    expect(parseMockModel(mockModelBlob({ op: 'sleep', ms: 3 }))).toMatchObject({ op: 'sleep', ms: 3, inputs: ['x'], outputs: ['y'] });
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['not JSON', Buffer.from('{"op":')],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a number', Buffer.from('5')],
    ['an array', Buffer.from('[]')],
    ['an unknown op', Buffer.from('{"op":"divide"}')],
    ['negative ms', Buffer.from('{"op":"sleep","ms":-1}')],
    ['a bad dtype', Buffer.from('{"op":"identity","dtype":"FLOAT128"}')],
    ['add with 3 inputs', Buffer.from('{"op":"add","inputs":["a","b","c"]}')],
    ['add of STRING', Buffer.from('{"op":"add","dtype":"STRING"}')],
    ['no outputs', Buffer.from('{"op":"identity","outputs":[]}')],
  ])('refuses %s', (_, blob) => {
    expect(() => parseMockModel(blob)).toThrow(/^mock: /);
  });
});

describe('MockBackend', () => {
  it('counts init, records settings, supports CPU always and GPU on request', async () => {
    const b = createMockBackend({ name: 'TORCH' });
    expect(b.name).toBe('TORCH');
    await b.init({ intraOpParallelism: 1, interOpParallelism: 2, modelExecutionTimeoutMs: 3, backendMemoryLimitMb: 4, threadsPerQueue: 5, log: console });
    expect(b.initCalls).toBe(1);
    expect(b.settings?.threadsPerQueue).toBe(5);
    expect(b.supportsDevice(device('CPU:3'))).toBe(true);
    expect(b.supportsDevice(device('GPU:0'))).toBe(false);
    expect(createMockBackend({ gpu: true }).supportsDevice(device('GPU'))).toBe(true);
    await expect(createMockBackend({ initError: 'no runtime' }).init(b.settings!)).rejects.toThrow('no runtime');
  });

  it('computes add / mul for every numeric dtype', async () => {
    const b = createMockBackend();
    const add = await b.loadModel(req({ op: 'add' }));
    const mul = await b.loadModel(req({ op: 'mul' }));
    for (const dt of ['FLOAT', 'DOUBLE', 'INT8', 'INT16', 'INT32', 'UINT8', 'UINT16'] as const) {
      const x = tensor(dt, [3], [1, 2, 3]);
      const y = tensor(dt, [3], [4, 5, 6]);
      expect(plainValues((await add.run([x, y], { slot: 0 }))[0]!), dt).toEqual([5, 7, 9]);
      expect(plainValues((await mul.run([x, y], { slot: 0 }))[0]!), dt).toEqual([4, 10, 18]);
    }
    const big = tensor('INT64', [1], [1n << 60n]);
    expect(plainValues((await add.run([big, big], { slot: 0 }))[0]!)).toEqual([1n << 61n]);
    await expect(add.run([floats([2], [1, 2]), floats([1], [1])], { slot: 0 })).rejects.toThrow(/shapes/);
    await expect(add.run([floats([1], [1]), tensor('DOUBLE', [1], [1])], { slot: 0 })).rejects.toThrow(/FLOAT and DOUBLE/);
    await expect(add.run([tensor('BOOL', [1], [1]), tensor('BOOL', [1], [1])], { slot: 0 })).rejects.toThrow(/numeric/);
  });

  it('identity cycles inputs over outputs; batchbad adds a row; fail rejects; wrong counts reject', async () => {
    const b = createMockBackend();
    const id = await b.loadModel(req({ op: 'identity', inputs: ['p', 'q'], outputs: ['r', 's', 't'] }));
    const p = floats([1], [1]);
    const q = floats([1], [2]);
    expect(await id.run([p, q], { slot: 0 })).toEqual([p, q, p]);
    await expect(id.run([p], { slot: 0 })).rejects.toThrow('mock: expected 2 inputs, got 1');

    const bad = await b.loadModel(req({ op: 'batchbad' }));
    expect((await bad.run([floats([2, 3], [1, 2, 3, 4, 5, 6])], { slot: 0 }))[0]!.shape).toEqual([3, 3]);
    const fail = await b.loadModel(req({ op: 'fail', message: 'boom' }));
    await expect(fail.run([p], { slot: 0 })).rejects.toThrow('boom');
  });

  it('records runs, batches, slots, concurrency, conflicts; sleep uses a timer', async () => {
    const b = createMockBackend();
    const m = await b.loadModel(req({ op: 'sleep', ms: 20 }));
    const t = floats([4, 1], [1, 2, 3, 4]);
    vi.useFakeTimers();
    try {
      const runs = [m.run([t], { slot: 0 }), m.run([t], { slot: 1 }), m.run([t], { slot: 1 })];
      let settled = 0;
      for (const r of runs) void r.then(() => settled++);
      await vi.advanceTimersByTimeAsync(19);
      expect(settled).toBe(0);
      expect(b.running).toBe(3);
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(3);
    } finally {
      vi.useRealTimers();
    }
    expect(b.maxRunning).toBe(3);
    expect(b.running).toBe(0);
    expect(b.slots).toEqual([0, 1, 1]);
    expect(b.slotConflicts).toBe(1); // two runs on slot 1 of one device at once
    expect(b.runLog.map((r) => r.batch)).toEqual([4, 4, 4]);
    expect(b.runLog.every((r) => r.ok === true && r.endedAt !== undefined)).toBe(true);
    // Same slot on another device is no conflict.
    const other = await b.loadModel(req({ op: 'sleep', ms: 5 }, { device: device('CPU:1') }));
    b.resetCounters();
    await Promise.all([m.run([t], { slot: 0 }), other.run([t], { slot: 0 })]);
    expect(b.slotConflicts).toBe(0);
  });

  it('dispose: counts, flags a dispose during a run, and refuses runs afterwards', async () => {
    const b = createMockBackend();
    const m = (await b.loadModel(req({ op: 'sleep', ms: 10 }))) as MockModel;
    const run = m.run([floats([1], [1])], { slot: 0 });
    m.dispose();
    await expect(run).rejects.toThrow('mock: disposed during run');
    expect(m.disposedWhileRunning).toBe(true);
    await expect(m.run([floats([1], [1])], { slot: 0 })).rejects.toThrow('mock: run after dispose');
    expect(b.disposedModels).toEqual([m]);
  });

  it('busy blocks the event loop for ms', async () => {
    const b = createMockBackend();
    const m = await b.loadModel(req({ op: 'busy', ms: 15 }));
    // A clock that moves one ms each time it is read: the loop reads it until 15 ms have passed.
    let clock = 1_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock++);
    try {
      const p = m.run([floats([1], [1])], { slot: 0 });
      expect(clock).toBeGreaterThan(1_000 + 15); // synchronously, before the first await
      await p;
    } finally {
      now.mockRestore();
    }
  });
});

describe('turnsWhile', () => {
  it('counts no more than one turn for a run that blocks the loop, many for one that does not', async () => {
    const b = createMockBackend();
    const busy = await b.loadModel(req({ op: 'busy', ms: 30 }));
    expect(await turnsWhile(busy.run([floats([1], [1])], { slot: 0 }))).toBeLessThanOrEqual(1);
    const timer = await b.loadModel(req({ op: 'sleep', ms: 30 }));
    expect(await turnsWhile(timer.run([floats([1], [1])], { slot: 0 }))).toBeGreaterThan(10);
  });
});

describe('tensorDiff', () => {
  it('compares dtype, shape, values with float tolerance and NaN', () => {
    expect(tensorDiff(floats([2], [1, 2]), floats([2], [1, 2.00001]))).toBeUndefined();
    expect(tensorDiff(floats([2], [1, 2]), floats([2], [1, 2.1]))).toMatch(/element 1/);
    expect(tensorDiff(floats([2], [1, 2]), floats([1, 2], [1, 2]))).toMatch(/shape/);
    expect(tensorDiff(floats([1], [1]), tensor('DOUBLE', [1], [1]))).toMatch(/dtype/);
    expect(tensorDiff(floats([1], [NaN]), floats([1], [NaN]))).toBeUndefined();
    expect(tensorDiff(floats([1], [Infinity]), floats([1], [Infinity]))).toBeUndefined();
    expect(tensorDiff(tensor('INT32', [1], [1]), tensor('INT32', [1], [2]))).toMatch(/element 0/);
    expect(tensorDiff(tensor('STRING', [1], ['a']), tensor('STRING', [1], ['b']))).toMatch(/element 0/);
    expect(tensorDiff(Tensor.zeros('INT64', [2]), tensor('INT64', [2], [0n, 0n]))).toBeUndefined();
  });
});
