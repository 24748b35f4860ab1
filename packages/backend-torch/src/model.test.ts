import { beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_API_VERSION, RunNotStarted, Tensor, checkBackend, type DType, type LoadedModel, type QueuedRun, type ScriptHost, type ScriptReply } from '@respai/core';
import { memoryLogger, turnsWhile } from '@respai/core/testing';
import backend, { TORCH_VERSION, TorchBackend } from './index.js';
import { addon } from './native.js';
import { itShared } from '@respai/core/testing';
import { CPU, GPU, PT_MINIMAL, floats, patchZipEntry, ptMinimal, settings, values, zip } from './test-helpers.js';
import { torchModelBlob } from './testing.js';

const b = new TorchBackend();
beforeAll(() => b.init(settings));

const load = (blob: Buffer): Promise<LoadedModel> => b.loadModel({ blob, device: CPU, inputs: [], outputs: [], batchSize: 0 });
const failure = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
};
const model = (src: string): Promise<LoadedModel> => load(torchModelBlob(src));

const ADD = 'def forward(self, a, b):\n    return a + b\n';

describe('the backend object', () => {
  it('is the default export: a TORCH backend the engine accepts, reporting libtorch 1.13.1', () => {
    expect(checkBackend(backend, 'TORCH')).toBe(backend);
    expect(backend.apiVersion).toBe(BACKEND_API_VERSION);
    expect(backend.name).toBe('TORCH');
    expect(backend.version).toBe(TORCH_VERSION);
    expect(TORCH_VERSION).toBe('1.13.1');
  });

  it('runs on CPU devices only', async () => {
    expect(b.supportsDevice(CPU)).toBe(true);
    expect(b.supportsDevice({ type: 'CPU', index: 1, name: 'CPU:1' })).toBe(true);
    expect(b.supportsDevice(GPU)).toBe(false);
    expect(await failure(b.loadModel({ blob: torchModelBlob(ADD), device: GPU, inputs: [], outputs: [], batchSize: 0 }))).toBe(
      'ERR GPU requested but TORCH has no GPU support here',
    );
  });

  it('init applies INTRA_OP_PARALLELISM, and INTER_OP_PARALLELISM while it still can', () => {
    const log = memoryLogger();
    b.init({ ...settings, intraOpParallelism: 1, interOpParallelism: 3, log });
    expect(addon.threads().intraOp).toBe(1);
    expect(addon.threads().interOp).toBe(3);
    // libtorch fixes the inter-op pool once set: a second value is logged, not applied.
    b.init({ ...settings, intraOpParallelism: 2, interOpParallelism: 2, log });
    expect(addon.threads().intraOp).toBe(2);
    expect(addon.threads().interOp).toBe(3);
    expect(log.entries.some((e) => e.level === 'warn' && /INTER_OP_PARALLELISM 2 not applied/.test(e.msg))).toBe(true);
  });
});

describe('models', () => {
  itShared('pt-minimal.pt: inputs a, b, one unnamed output, 2x2 + 2x2', PT_MINIMAL, async () => {
    const m = await load(ptMinimal());
    expect(m.inputs.map((s) => s.name)).toEqual(['a', 'b']);
    expect(m.outputs.map((s) => s.name)).toEqual(['']);
    const a = floats([2, 2], [2, 3, 2, 3]);
    const [out] = await m.run([a, a], { slot: 0 });
    expect(out!.dtype).toBe('FLOAT');
    expect(out!.shape).toEqual([2, 2]);
    expect(values(out!)).toEqual([4, 6, 4, 6]);
    await m.dispose();
  });

  it('reports input names from forward, and one output per tuple element', async () => {
    const one = await model(ADD);
    expect(one.inputs.map((s) => s.name)).toEqual(['a', 'b']);
    expect(one.outputs).toEqual([{ name: '' }]);
    const three = await model('def forward(self, x, y, z):\n    return x, y + z, x * 2\n');
    expect(three.inputs.map((s) => s.name)).toEqual(['x', 'y', 'z']);
    expect(three.outputs).toEqual([{ name: '' }, { name: '' }, { name: '' }]);
    const t = floats([2], [1, 2]);
    const out = await three.run([t, t, t], { slot: 0 });
    expect(out.map(values)).toEqual([
      [1, 2],
      [2, 4],
      [2, 4],
    ]);
  });

  const samples: Record<Exclude<DType, 'STRING' | 'UINT16'>, (number | bigint)[]> = {
    FLOAT: [1.5, -2.25, 3e38, 0],
    DOUBLE: [1.5, -2.25, 1e300, Number.MIN_VALUE],
    INT8: [-128, 127, 0, -1],
    INT16: [-32768, 32767, 1, -1],
    INT32: [-2147483648, 2147483647, 7, -7],
    INT64: [-(2n ** 63n), 2n ** 63n - 1n, 5n, -5n],
    UINT8: [0, 255, 128, 1],
    BOOL: [1, 0, 0, 1],
  };
  it.each(Object.keys(samples) as (keyof typeof samples)[])('%s tensors round trip exactly', async (dtype) => {
    const m = await model('def forward(self, x):\n    return x.clone()\n');
    const values4 = samples[dtype].map(String).map((s) => Buffer.from(s));
    const t = Tensor.fromValues(dtype, [2, 2], values4);
    const [out] = await m.run([t], { slot: 0 });
    expect(out!.dtype).toBe(dtype);
    expect(out!.shape).toEqual([2, 2]);
    expect(out!.data.equals(t.data)).toBe(true);
  });

  it('UINT16 (no torch 1.13 type) is widened to INT32; STRING is refused', async () => {
    const m = await model('def forward(self, x):\n    return x + 1\n');
    const t = Tensor.fromValues('UINT16', [3], ['0', '65535', '7'].map((s) => Buffer.from(s)));
    const [out] = await m.run([t], { slot: 0 });
    expect(out!.dtype).toBe('INT32');
    expect(values(out!)).toEqual([1, 65536, 8]);
    const s = Tensor.fromValues('STRING', [1], [Buffer.from('x')]);
    expect(await failure(m.run([s], { slot: 0 }))).toBe('TORCH cannot take STRING tensors: torch has no string tensor type');
  });

  it('scalars come back with an empty shape; half precision comes back as FLOAT', async () => {
    const m = await model('def forward(self, x):\n    return x.sum(), x.half() * 2\n');
    const [sum, half] = await m.run([floats([3], [1, 2, 3.5])], { slot: 0 });
    expect(sum!.shape).toEqual([]);
    expect(values(sum!)).toEqual([6.5]);
    expect(half!.dtype).toBe('FLOAT');
    expect(values(half!)).toEqual([2, 4, 7]);
  });

  it('refuses outputs respai cannot hold, with the reason', async () => {
    const x = floats([2], [1, 2]);
    expect(await failure((await model('def forward(self, x):\n    return x[0:0]\n')).run([x], { slot: 0 }))).toBe(
      'output 0 is empty (shape [0]); respai tensors need every dimension > 0',
    );
    expect(await failure((await model('def forward(self, x):\n    return torch.view_as_complex(x)\n')).run([x], { slot: 0 }))).toBe(
      'output 0 has dtype ComplexFloat, which respai tensors cannot hold',
    );
    expect(await failure((await model('def forward(self, x) -> int:\n    return 3\n')).run([x], { slot: 0 }))).toBe(
      "the model's forward returned int; it must return a Tensor, or a tuple or list of Tensors",
    );
  });

  it('never writes into its input tensors, even when the model modifies its arguments', async () => {
    const m = await model('def forward(self, x):\n    x.add_(1)\n    return x\n');
    const x = floats([2], [1, 2]);
    const before = Buffer.from(x.data);
    const [out] = await m.run([x], { slot: 0 });
    expect(values(out!)).toEqual([2, 3]);
    expect(x.data.equals(before)).toBe(true);
  });

  it('reports runtime errors from the model, and runs fine afterwards', async () => {
    const m = await model(ADD);
    const msg = await failure(m.run([floats([2], [1, 2]), floats([3], [1, 2, 3])], { slot: 0 }));
    expect(msg).toMatch(/The size of tensor a \(2\) must match the size of tensor b \(3\)/);
    expect(msg).not.toMatch(/frame #|Exception raised from/); // no C++ backtrace
    expect(await failure(m.run([floats([2], [1, 2])], { slot: 0 }))).toMatch(/forward\(\) is missing value for argument 'b'/);
    const [out] = await m.run([floats([1], [1]), floats([1], [2])], { slot: 0 });
    expect(values(out!)).toEqual([3]);
  });

  it('runs many calls concurrently, each with its own result', async () => {
    const m = await model('def forward(self, x, k):\n    y = x\n    for i in range(20):\n        y = torch.tanh(y @ x)\n    return y * 0 + k\n');
    const x = floats([64, 64], Array.from({ length: 64 * 64 }, (_, i) => (i % 7) / 100));
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => m.run([x, floats([1], [i])], { slot: i % 2 })));
    outs.forEach(([out], i) => {
      expect(out!.shape).toEqual([64, 64]);
      expect(new Set(values(out!))).toEqual(new Set([i]));
    });
  });

  it('keeps the event loop responsive during a heavy run', async () => {
    const m = await model('def forward(self, x):\n    y = x\n    for i in range(12):\n        y = torch.tanh(y @ x)\n    return y\n');
    const n = 384;
    const x = floats([n, n], Array.from({ length: n * n }, (_, i) => ((i % 13) - 6) / 1000));
    // Event-loop turns while the run is in flight: a run computing on this thread leaves none.
    const run = m.run([x], { slot: 0 });
    expect(await turnsWhile(run)).toBeGreaterThan(10);
    expect((await run)[0]!.shape).toEqual([n, n]);
  });

  it('dispose: later runs reject, a run already in flight completes', async () => {
    const m = await model('def forward(self, x):\n    y = x\n    for i in range(5):\n        y = torch.tanh(y @ x)\n    return y\n');
    const x = floats([128, 128], new Array<number>(128 * 128).fill(0.01));
    const inFlight = m.run([x], { slot: 0 });
    await m.dispose();
    expect((await inFlight)[0]!.shape).toEqual([128, 128]);
    expect(await failure(m.run([x], { slot: 0 }))).toBe('the model was disposed');
  });
});

describe('bad model blobs are refused with a clear error', () => {
  const valid = torchModelBlob(ADD);

  it('garbage and empty blobs', async () => {
    expect(await failure(load(Buffer.from('definitely not a model')))).toBe(
      'this is not a TorchScript model: a TorchScript model is the zip archive written by torch.jit.save',
    );
    expect(await failure(load(Buffer.alloc(0)))).toBe('the model blob is empty');
  });

  it('Python pickles (legacy torch.save)', async () => {
    for (const proto of [2, 3, 4]) {
      expect(await failure(load(Buffer.from([0x80, proto, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20])))).toBe(
        'this is a Python pickle (torch.save), not a TorchScript model: export the model with torch.jit.script(model) ' +
          'or torch.jit.trace(model, example) and save it with torch.jit.save',
      );
    }
  });

  it('torch.save zip archives (no code/ directory)', async () => {
    const saved = zip({ 'archive/data.pkl': Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]), 'archive/data/0': Buffer.alloc(16), 'archive/version': '3\n' });
    expect(await failure(load(saved))).toBe(
      'this is a torch.save archive (weights or a pickled nn.Module), not a TorchScript model: export the model with ' +
        'torch.jit.script(model) or torch.jit.trace(model, example) and save it with torch.jit.save',
    );
  });

  it('archives of a newer file format version, naming both versions', async () => {
    const newer = patchZipEntry(valid, '/version', '99');
    expect(await failure(load(newer))).toBe(
      'this TorchScript archive has file format version 99, newer than this server\'s libtorch 1.13.1 reads (versions 1 to 10): ' +
        'it was saved by a newer PyTorch; save it with PyTorch 1.13 or older',
    );
    // An archive that fails to load and carries PyTorch 2.1's serialization id: the likely cause is named.
    const v2 = zip({
      'archive/.data/serialization_id': '1234567890',
      'archive/.data/version': '10\n',
      'archive/data.pkl': Buffer.from([0x80, 0x02, 0x2e]),
      'archive/code/__torch__.py': '',
    });
    expect(await failure(load(v2))).toBe(
      'could not load the TorchScript model: PytorchStreamReader failed locating file constants.pkl: file not found ' +
        "(the archive was saved by PyTorch 2.1 or later; this server's libtorch is 1.13.1: save it with PyTorch 1.13 or older)",
    );
  });

  it('truncated archives and zips that are not TorchScript', async () => {
    for (const cut of [10, valid.length >> 1, valid.length - 10]) {
      expect(await failure(load(valid.subarray(0, cut)))).toMatch(/^the TorchScript archive is corrupt or truncated \(.+\)$/);
    }
    expect(await failure(load(zip({ 'notes/readme.txt': 'hello', 'notes/version': '3\n' })))).toBe(
      'this zip archive is not a TorchScript model (it has no code/ directory)',
    );
  });

  it('loads valid models after all of that', async () => {
    const m = await load(valid);
    const [out] = await m.run([floats([1], [1]), floats([1], [1])], { slot: 0 });
    expect(values(out!)).toEqual([2]);
  });
});

describe('queued runs (the engine hands each slot several runs: RunContext.queued)', () => {
  // A model that takes a while: a loop of matmuls on a [64, 64] input.
  const SLOW = 'def forward(self, x):\n    y = x\n    for i in range(200):\n        y = torch.matmul(y, x) / 64.0\n    return y\n';
  const x = () => floats([64, 64], Array.from({ length: 64 * 64 }, (_, i) => (i % 7) / 7));
  const queued = (deadline = Infinity): QueuedRun => ({ deadline, withdraw: undefined, computeUs: undefined });

  it('runs of one slot go in order on one thread; each reports its compute time and can be withdrawn until it starts', async () => {
    const m = await model(SLOW);
    const a = model(ADD);
    const add = await a;
    const q = [queued(), queued(), queued()];
    const first = m.run([x()], { slot: 0, queued: q[0]! });
    const second = add.run([floats([1], [1]), floats([1], [2])], { slot: 0, queued: q[1]! });
    const third = add.run([floats([1], [3]), floats([1], [4])], { slot: 0, queued: q[2]! });
    expect(typeof q[1]!.withdraw).toBe('function');
    // The second waits behind the first on slot 0's lane: withdrawn, it never starts.
    expect(q[1]!.withdraw!()).toBe(true);
    expect(q[1]!.withdraw!()).toBe(false);
    await first;
    await expect(second).rejects.toBeInstanceOf(RunNotStarted);
    await expect(second).rejects.toMatchObject({ reason: 'withdrawn' });
    expect(values((await third)[0]!)).toEqual([7]);
    expect(q[0]!.computeUs).toBeGreaterThan(0);
    expect(q[2]!.computeUs).toBeGreaterThanOrEqual(0);
  });

  it('a started run cannot be withdrawn', async () => {
    // A script that calls redis.execute: when the host is called, the run has certainly started.
    const script = await b.loadScript!({
      source: "def f(t: List[Tensor], k: List[str], a: List[str]):\n    redis.execute('PING', [])\n    return t[0]\n",
      device: CPU,
      entryPoints: ['f'],
    });
    const q = queued();
    let answer!: (r: ScriptReply) => void;
    let entered!: () => void;
    const called = new Promise<void>((r) => (entered = r));
    const host: ScriptHost = {
      execute: () => {
        entered();
        return new Promise((r) => (answer = r));
      },
      modelExecute: () => Promise.reject(new Error('unused')),
    };
    const result = script.run('f', [[floats([1], [5])], [], []], [], host, { slot: 3, queued: q });
    await called;
    expect(q.withdraw!()).toBe(false);
    answer('PONG');
    expect(values((await result)[0]!)).toEqual([5]);
    await script.dispose();
  });

  it('a run still waiting at its deadline never starts: RunNotStarted(timeout)', async () => {
    const m = await model(SLOW);
    const add = await model(ADD);
    const blocker = m.run([x()], { slot: 2, queued: queued() });
    const late = add.run([floats([1], [1]), floats([1], [2])], { slot: 2, queued: queued(Date.now() + 1) });
    await blocker;
    await expect(late).rejects.toMatchObject({ reason: 'timeout' });
  });

  it("a script's model_execute does not queue behind the script (no lane: it would wait for itself)", async () => {
    const add = await model(ADD);
    expect(values((await add.run([floats([1], [1]), floats([1], [2])], { slot: 0 }))[0]!)).toEqual([3]);
  });
});
