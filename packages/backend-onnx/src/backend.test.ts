import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  BACKEND_API_VERSION,
  DTYPE_NAMES,
  Engine,
  MemoryKeyspace,
  Tensor,
  parseDevice,
  type BackendSettings,
  type DType,
  type LoadedModel,
  type QueuedRun,
} from '@respai/core';
import { createOnnxBackend, type OnnxBackend } from './index.js';
import { ensureBuilt, itShared, packageDir as pkgDir, repoRoot, sharedPath, testBackends, turnsWhile } from '@respai/core/testing';
import { OnnxType, binaryModel, encodeModel, identityModel, matmulChainModel, type OnnxElemType } from './testing/onnx-writer.js';

const packageDir = pkgDir('backend-onnx');
const sharedModels = sharedPath('models');
const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn() };
const { newBackend, settings, disposeAll } = testBackends(createOnnxBackend, { log });

let backend: OnnxBackend;
beforeAll(() => {
  ensureBuilt(packageDir);
  backend = newBackend();
}, 120_000);
afterAll(async () => {
  await disposeAll();
});

const load = (blob: Buffer, b: OnnxBackend = backend): Promise<LoadedModel> =>
  b.loadModel({ blob, device: parseDevice('CPU'), inputs: [], outputs: [], batchSize: 0 });
const loadError = (blob: Buffer, b: OnnxBackend = backend): Promise<string> =>
  load(blob, b).then(
    () => 'loaded',
    (e: Error) => e.message,
  );
const tensor = (dtype: DType, shape: number[], values: readonly (string | number)[]): Tensor =>
  Tensor.fromValues(dtype, shape, values.map((v) => Buffer.from(String(v))));
const ones = (rows: number, cols: number): Tensor =>
  Tensor.fromBlob('FLOAT', [rows, cols], Buffer.from(new Float32Array(rows * cols).fill(1).buffer));

const onnxTypeOf: { readonly [K in DType]: OnnxElemType } = {
  FLOAT: OnnxType.FLOAT,
  DOUBLE: OnnxType.DOUBLE,
  INT8: OnnxType.INT8,
  INT16: OnnxType.INT16,
  INT32: OnnxType.INT32,
  INT64: OnnxType.INT64,
  UINT8: OnnxType.UINT8,
  UINT16: OnnxType.UINT16,
  BOOL: OnnxType.BOOL,
  STRING: OnnxType.STRING,
};
const sample: { readonly [K in DType]: readonly string[] } = {
  FLOAT: ['1.5', '-2', '0.25', '3e10'],
  DOUBLE: ['0.1', '-1e300', '5', '0'],
  INT8: ['-128', '127', '0', '-1'],
  INT16: ['-32768', '32767', '1', '-2'],
  INT32: ['-2147483648', '2147483647', '7', '-7'],
  INT64: ['-9223372036854775808', '9223372036854775807', '42', '-42'],
  UINT8: ['0', '255', '1', '128'],
  UINT16: ['0', '65535', '2', '40000'],
  BOOL: ['1', '0', '0', '1'],
  STRING: ['a', 'héllo wörld', '', 'x y'],
};

// 2·N·512²·20 flops: about 0.25 ms per row on one core here, so N picks the run time.
const heavy = matmulChainModel(512, 20);

describe('the ONNX backend', () => {
  it('identifies itself with onnxruntime-node version', () => {
    const pkg = createRequire(join(packageDir, 'package.json'))('onnxruntime-node/package.json') as { version: string };
    expect(backend.name).toBe('ONNX');
    expect(backend.apiVersion).toBe(BACKEND_API_VERSION);
    expect(backend.version).toBe(pkg.version);
    expect(backend.version).toMatch(/^1\.\d+\.\d+/);
  });

  it('refuses GPU devices; the engine replies its catalog text', async () => {
    expect(backend.supportsDevice(parseDevice('GPU'))).toBe(false);
    expect(backend.supportsDevice(parseDevice('gpu:1'))).toBe(false);
    expect(backend.supportsDevice(parseDevice('CPU'))).toBe(true);
    expect(backend.supportsDevice(parseDevice('CPU:1'))).toBe(true);

    const engine = new Engine({ keyspace: new MemoryKeyspace(), config: { backendsPath: repoRoot, intraOpParallelism: 1 }, log });
    await engine.registry.register(createOnnxBackend(), 'ONNX');
    const spec = (device: string) => ({
      backend: 'ONNX' as const,
      device: parseDevice(device),
      tag: Buffer.alloc(0),
      batchSize: 0,
      minBatchSize: 0,
      minBatchTimeout: 0,
      inputs: [],
      outputs: [],
      blob: identityModel(OnnxType.FLOAT),
    });
    await expect(engine.createModel(spec('GPU'))).rejects.toThrow('ERR GPU requested but ONNX has no GPU support here');
    const model = await engine.createModel(spec('CPU'));
    expect(model.meta.inputs).toEqual(['x']);
    expect(model.meta.outputs).toEqual(['y']);
    model.release();
    await engine.close();
  });

  it.each(DTYPE_NAMES)('passes %s through Identity unchanged, on both slots', async (dtype) => {
    const m = await load(identityModel(onnxTypeOf[dtype], ['N', 2]));
    expect(m.inputs).toEqual([{ name: 'x', dtype, shape: ['N', 2] }]);
    expect(m.outputs).toEqual([{ name: 'y', dtype, shape: ['N', 2] }]);
    const x = tensor(dtype, [2, 2], sample[dtype]);
    const before = Buffer.from(x.data);
    for (const slot of [0, 1]) {
      const [y] = await m.run([x], { slot });
      expect(y!.dtype).toBe(dtype);
      expect(y!.shape).toEqual([2, 2]);
      expect(y!.data.equals(x.data)).toBe(true);
    }
    // The stored tensor was copied, not moved or changed.
    expect(x.data.equals(before)).toBe(true);
    await m.dispose();
  });

  it('runs a scalar and a dynamic batch dimension', async () => {
    const s = await load(identityModel(OnnxType.DOUBLE, []));
    const [y] = await s.run([tensor('DOUBLE', [], [2.5])], { slot: 0 });
    expect(y!.shape).toEqual([]);
    expect(y!.values()).toEqual([2.5]);
    const free = await load(identityModel(OnnxType.UINT8, [null, 2]));
    expect(free.inputs).toEqual([{ name: 'x', dtype: 'UINT8', shape: [-1, 2] }]);
    await free.dispose();
    const m = await load(identityModel(OnnxType.INT32, ['batch', 3]));
    const [z] = await m.run([tensor('INT32', [4, 3], [...Array(12).keys()])], { slot: 1 });
    expect(z!.shape).toEqual([4, 3]);
    expect(z!.values()).toEqual([...Array(12).keys()]);
    await Promise.all([s.dispose(), m.dispose()]);
  });

  it('runs models of several inputs: Add, Mul, MatMul, Relu', async () => {
    const add = await load(binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]));
    expect(add.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    expect(add.outputs.map((o) => o.name)).toEqual(['c']);
    const [sum] = await add.run([tensor('FLOAT', [2, 2], [2, 3, 2, 3]), tensor('FLOAT', [2, 2], [2, 3, 2, 3])], { slot: 0 });
    expect(sum!.values()).toEqual([4, 6, 4, 6]);

    const mul = await load(binaryModel('Mul', OnnxType.INT64, [3], [3], [3]));
    const [prod] = await mul.run([tensor('INT64', [3], [2, -3, 4]), tensor('INT64', [3], [5, 6, -7])], { slot: 1 });
    expect(prod!.values()).toEqual([10n, -18n, -28n]);

    const matmul = await load(binaryModel('MatMul', OnnxType.DOUBLE, [2, 3], [3, 2], [2, 2]));
    const [mm] = await matmul.run([tensor('DOUBLE', [2, 3], [1, 2, 3, 4, 5, 6]), tensor('DOUBLE', [3, 2], [1, 0, 0, 1, 1, 1])], {
      slot: 0,
    });
    expect(mm!.values()).toEqual([4, 5, 10, 11]);

    const relu = await load(
      encodeModel({
        nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [4] } }],
        outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [4] } }],
      }),
    );
    const [r] = await relu.run([tensor('FLOAT', [4], [-1, 2, -3, 4])], { slot: 0 });
    expect(r!.values()).toEqual([0, 2, 0, 4]);
    await Promise.all([add, mul, matmul, relu].map((m) => m.dispose()));
  });

  it('runs ONNX-ML operators (LinearRegressor)', async () => {
    const m = await load(
      encodeModel(
        {
          nodes: [
            {
              op: 'LinearRegressor',
              domain: 'ai.onnx.ml',
              inputs: ['x'],
              outputs: ['y'],
              attrs: { coefficients: { floats: [1, 2, 3, 4] }, intercepts: { floats: [0.5] } },
            },
          ],
          inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: ['N', 4] } }],
          outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: ['N', 1] } }],
        },
        { opsets: [{ domain: 'ai.onnx.ml', version: 1 }] },
      ),
    );
    const [y] = await m.run([tensor('FLOAT', [2, 4], [1, 1, 1, 1, 1, 0, 0, 0])], { slot: 0 });
    expect(y!.shape).toEqual([2, 1]);
    expect(y!.values()).toEqual([10.5, 1.5]);
    await m.dispose();
  });

  itShared('runs linear_iris.onnx (LinearRegressor made by skl2onnx)', ['models/linear_iris.onnx'], async () => {
    const m = await load(readFileSync(join(sharedModels, 'linear_iris.onnx')));
    expect(m.inputs).toEqual([{ name: 'float_input', dtype: 'FLOAT', shape: [1, 4] }]);
    expect(m.outputs).toEqual([{ name: 'variable', dtype: 'FLOAT', shape: [1, 1] }]);
    const [y] = await m.run([tensor('FLOAT', [1, 4], [5.1, 3.5, 1.4, 0.2])], { slot: 0 });
    expect(y!.values()[0]).toBeCloseTo(-0.090524077415466309, 6);
    await m.dispose();
  });

  itShared('runs mnist.onnx on one.raw: the digit is 1', ['models/mnist.onnx', 'models/one.raw'], async () => {
    const m = await load(readFileSync(join(sharedModels, 'mnist.onnx')));
    expect(m.inputs.map((i) => i.name)).toEqual(['Input3']);
    const [scores] = await m.run([Tensor.fromBlob('FLOAT', [1, 1, 28, 28], readFileSync(join(sharedModels, 'one.raw')))], { slot: 1 });
    expect(scores!.shape).toEqual([1, 10]);
    const v = scores!.values() as number[];
    expect(v.indexOf(Math.max(...v))).toBe(1);
    await m.dispose();
  });

  it('refuses bytes that are no ONNX model with onnxruntime own text', async () => {
    expect(await loadError(Buffer.alloc(0))).toBe('ERR Model data pointer is null.');
    expect(await loadError(Buffer.from('this is not a model, just some bytes'))).toBe(
      'ERR Failed to load model because protobuf parsing failed.',
    );
    expect(await loadError(matmulChainModel(64, 2).subarray(0, 2000))).toBe('ERR Failed to load model because protobuf parsing failed.');
    // A model that parses but is wrong: an op that does not exist.
    const bad = encodeModel({
      nodes: [{ op: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [1] } }],
      outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [1] } }],
    });
    expect(await loadError(bad)).toMatch(/^ERR .*NoSuchOp/);
  });

  itShared('refuses a TF graph as RedisAI did: "No graph was found in the protobuf."', ['models/graph.pb', 'models/linear_iris.onnx'], async () => {
    expect(await loadError(readFileSync(join(sharedModels, 'graph.pb')))).toBe('ERR No graph was found in the protobuf.');
    const iris = readFileSync(join(sharedModels, 'linear_iris.onnx'));
    expect(await loadError(iris.subarray(0, iris.length >> 1))).toBe('ERR Failed to load model because protobuf parsing failed.');
  });

  it("a classifier's ZipMap output becomes its probabilities FLOAT [N, classes]; other sequences and maps, and types respai has no dtype for, are refused", async () => {
    const zipmap = encodeModel(
      {
        nodes: [
          { op: 'Identity', inputs: ['x'], outputs: ['label'] },
          { op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['x'], outputs: ['probabilities'], attrs: { classlabels_int64s: { ints: [0, 1, 2] } } },
        ],
        inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [1, 3] } }],
        outputs: [
          { name: 'label', type: { tensor: OnnxType.FLOAT, shape: [1, 3] } },
          { name: 'probabilities', type: { sequence: { map: { key: OnnxType.INT64, value: { tensor: OnnxType.FLOAT } } } } },
        ],
      },
      { opsets: [{ domain: 'ai.onnx.ml', version: 1 }] },
    );
    const m = await load(zipmap);
    expect(m.outputs).toEqual([
      { name: 'label', dtype: 'FLOAT', shape: [1, 3] },
      { name: 'probabilities', dtype: 'FLOAT', shape: [1, 3] },
    ]);
    const [, probs] = await m.run([tensor('FLOAT', [1, 3], [0.25, 0.5, 0.25])], { slot: 0 });
    expect(probs!.shape).toEqual([1, 3]);
    expect([...new Float32Array(probs!.data.buffer.slice(probs!.data.byteOffset, probs!.data.byteOffset + 12))]).toEqual([0.25, 0.5, 0.25]);
    await m.dispose();
    const sequence = encodeModel({
      nodes: [{ op: 'SequenceConstruct', inputs: ['x', 'x'], outputs: ['s'] }],
      inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [2] } }],
      outputs: [{ name: 's', type: { sequence: { tensor: OnnxType.FLOAT } } }],
    });
    expect(await loadError(sequence)).toBe(
      "ERR ONNX model output 's' is not a tensor but a sequence or map; respai returns tensors only (of those, it turns a classifier's final ZipMap into its probabilities tensor)",
    );
    expect(await loadError(identityModel(OnnxType.FLOAT16, [2]))).toBe("ERR ONNX model input 'x' has type float16, which no respai dtype holds");
  });

  it('names the input given a wrong dtype; passes onnxruntime shape errors on as they are', async () => {
    const m = await load(binaryModel('Add', OnnxType.FLOAT, [2, 2], [2, 2], [2, 2]));
    const f = (shape: number[]) => tensor('FLOAT', shape, Array(shape.reduce((a, b) => a * b, 1)).fill(1));
    const err = (inputs: Tensor[]) =>
      m.run(inputs, { slot: 0 }).then(
        () => 'ran',
        (e: Error) => e.message,
      );
    expect(await err([f([2, 2])])).toBe('ERR Expected 2 inputs but got 1');
    expect(await err([tensor('DOUBLE', [2, 2], [1, 2, 3, 4]), f([2, 2])])).toBe("ERR ONNX model input 'a' expects FLOAT, got DOUBLE");
    expect(await err([f([2, 2]), tensor('INT64', [2, 2], [1, 2, 3, 4])])).toBe("ERR ONNX model input 'b' expects FLOAT, got INT64");
    expect(await err([f([3, 2]), f([2, 2])])).toBe(
      'ERR Got invalid dimensions for input: a for the following indices  index: 0 Got: 3 Expected: 2  Please fix either the inputs/outputs or the model.',
    );
    expect(await err([f([2, 2]), f([2, 2, 2])])).toBe(
      'ERR Invalid rank for input: b Got: 3 Expected: 2 Please fix either the inputs/outputs or the model.',
    );
    // Still fine afterwards.
    const [c] = await m.run([f([2, 2]), f([2, 2])], { slot: 0 });
    expect(c!.values()).toEqual([2, 2, 2, 2]);
    await m.dispose();
  });

  it('runs on two slots at once', async () => {
    const m = await load(heavy);
    const [a, b] = await Promise.all([m.run([ones(64, 512)], { slot: 0 }), m.run([ones(32, 512)], { slot: 1 })]);
    expect(a![0]!.shape).toEqual([64, 512]);
    expect(b![0]!.shape).toEqual([32, 512]);
    expect(new Set(a![0]!.values())).toEqual(new Set([1]));
    await m.dispose();
  }, 30_000);

  it('a disposed model answers so on every slot', async () => {
    const m = await load(identityModel(OnnxType.FLOAT));
    await m.run([ones(1, 2)], { slot: 1 });
    await m.dispose();
    for (const slot of [0, 1]) await expect(m.run([ones(1, 2)], { slot })).rejects.toThrow('ERR the ONNX model was disposed');
  });

  it('keeps the event loop free while a model computes', async () => {
    const m = await load(heavy);
    await m.run([ones(1, 512)], { slot: 0 });
    // Event-loop turns while the run is in flight: a run computing on this thread leaves none.
    const run = m.run([ones(2048, 512)], { slot: 0 });
    expect(await turnsWhile(run)).toBeGreaterThan(10);
    expect((await run)[0]!.shape).toEqual([2048, 512]);
    await m.dispose();
  }, 30_000);
});

describe('MODEL_EXECUTION_TIMEOUT', () => {
  it('answers at the limit, replaces the worker, and the slot runs again; the other slot is unaffected', async () => {
    const limited = newBackend({ modelExecutionTimeoutMs: 150 });
    const m = await load(heavy, limited);
    await Promise.all([m.run([ones(1, 512)], { slot: 0 }), m.run([ones(1, 512)], { slot: 1 })]);
    // Queued as the engine queues it: its record tells whether onnxruntime returned (computeUs is
    // the worker's own measure, written when the run returns).
    const queued: QueuedRun = { deadline: Infinity, withdraw: undefined, computeUs: undefined };
    const long = m.run([ones(4096, 512)], { slot: 0, queued }).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    // Slot 1 has a worker of its own: it keeps answering meanwhile.
    const [other] = await m.run([ones(2, 512)], { slot: 1 });
    expect(other!.shape).toEqual([2, 512]);
    expect(await long).toBe('ERR ONNX model run exceeded MODEL_EXECUTION_TIMEOUT (150 ms)');
    // Answered at the limit, while onnxruntime was still computing (1 s or more of work): the record
    // is abandoned, not read, so the engine times the run itself (the worker may still write it).
    expect(queued.computeUs).toBeUndefined();
    expect(log.warn).toHaveBeenCalledWith('ONNX run exceeded MODEL_EXECUTION_TIMEOUT; its worker was replaced', {
      device: 'CPU',
      slot: 0,
      timeoutMs: 150,
    });
    // A fresh worker with the model reloaded serves slot 0.
    const [y] = await m.run([ones(3, 512)], { slot: 0 });
    expect(y!.shape).toEqual([3, 512]);
    await m.dispose();
    await limited.dispose(); // waits for the replaced worker to come back from onnxruntime
  }, 30_000);
});

describe('BACKEND_MEMORY_LIMIT', () => {
  it('warns that it cannot cap native memory, and refuses models whose bytes alone exceed it', async () => {
    log.warn.mockClear();
    const small = newBackend({ backendMemoryLimitMb: 1, threadsPerQueue: 1 });
    expect(log.warn).toHaveBeenCalledWith(
      'ONNX: BACKEND_MEMORY_LIMIT is only checked against model sizes; the runtime cannot cap the memory it allocates',
      { backendMemoryLimitMb: 1 },
    );
    // 600 x 600 float32 weights: 1.4 MB.
    expect(await loadError(matmulChainModel(600, 1), small)).toBe(
      'ERR BACKEND_MEMORY_LIMIT (1 MB) exceeded: ONNX sessions would hold at least 2 MB (model bytes x THREADS_PER_QUEUE)',
    );
  });
});

describe('backend dispose', () => {
  it('ends the workers and their models; a later load starts afresh', async () => {
    const b = newBackend({ threadsPerQueue: 1 });
    const before = await load(identityModel(OnnxType.FLOAT), b);
    await b.dispose();
    await expect(before.run([ones(1, 2)], { slot: 0 })).rejects.toThrow('ERR the ONNX backend was shut down');
    await before.dispose();
    const after = await load(identityModel(OnnxType.FLOAT), b);
    const [y] = await after.run([ones(1, 2)], { slot: 0 });
    expect(y!.values()).toEqual([1, 1]);
  }, 30_000);
});

describe('process exit', () => {
  it('waits for a worker inside onnxruntime instead of aborting the process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'respai-onnx-'));
    try {
      const modelPath = join(dir, 'heavy.onnx');
      writeFileSync(modelPath, heavy);
      const script = `
        import backend from ${JSON.stringify(pathToFileURL(join(packageDir, 'dist/index.js')).href)};
        import { Tensor, parseDevice } from '@respai/core';
        import { readFileSync } from 'node:fs';
        backend.init({ intraOpParallelism: 1, interOpParallelism: 0, modelExecutionTimeoutMs: 0, backendMemoryLimitMb: 0, threadsPerQueue: 1, log: console });
        const m = await backend.loadModel({ blob: readFileSync(${JSON.stringify(modelPath)}), device: parseDevice('CPU'), inputs: [], outputs: [], batchSize: 0 });
        void m.run([Tensor.fromBlob('FLOAT', [1024, 512], Buffer.alloc(1024 * 512 * 4))], { slot: 0 });
        setTimeout(() => process.exit(0), 50);`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr).not.toMatch(/terminate called/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
