import { tmpdir } from 'node:os';
import type { Backend, BackendLogger, BackendName, BackendSettings, Device } from '../backend/spi.js';
import type { ModelFixture } from './conformance.js';
import { Engine, type EngineConfig, type ModelSpec } from '../engine/engine.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import { MemoryKeyspace } from '../keyspace/memory.js';
import { DTYPES, Tensor, type DType } from '../tensor/index.js';
import { createMockBackend, mockModelBlob, type MockBackend, type MockBackendOptions, type MockModelDef } from './mock-backend.js';

/** A tensor from plain values (numbers, bigints, or strings for STRING). */
export function tensor(dtype: DType, shape: readonly number[], values: readonly (number | bigint | string)[]): Tensor {
  return Tensor.fromValues(
    dtype,
    shape,
    values.map((v) => Buffer.from(String(v), 'utf8')),
  );
}

/** A FLOAT tensor. */
export function floats(shape: readonly number[], values: readonly number[]): Tensor {
  return tensor('FLOAT', shape, values);
}

/** The values of a tensor as plain JS values (STRING elements as utf-8 strings). */
export function plainValues(t: Tensor): (number | bigint | string)[] {
  return t.values().map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

/**
 * Why `actual` differs from `expected`, or undefined when they match: same dtype, same shape,
 * equal values (floats within `atol + rtol * |expected|`; NaN matches NaN).
 */
export function tensorDiff(actual: Tensor, expected: Tensor, tol: { atol?: number; rtol?: number } = {}): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return `shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]`;
  }
  const a = actual.values();
  const e = expected.values();
  const float = DTYPES[expected.dtype].kind === 'float';
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    if (Buffer.isBuffer(y)) {
      if (!Buffer.isBuffer(x) || !x.equals(y)) return `element ${i}: ${String(x)}, expected ${y.toString('utf8')}`;
    } else if (float) {
      const p = x as number;
      const q = y as number;
      const close = Number.isNaN(q) ? Number.isNaN(p) : p === q || Math.abs(p - q) <= atol + rtol * Math.abs(q);
      if (!close) {
        return `element ${i}: ${p}, expected ${q}`;
      }
    } else if (x !== y) {
      return `element ${i}: ${String(x)}, expected ${String(y)}`;
    }
  }
  return undefined;
}

export const silentLogger: BackendLogger = { debug() {}, info() {}, warn() {} };

export interface LogEntry {
  level: 'debug' | 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that keeps what it was given in `entries`. */
export function memoryLogger(): BackendLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (msg: string, fields?: Record<string, unknown>) => {
    entries.push({ level, msg, fields });
  };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn') };
}

export const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };

/** A device object for `CPU`, `CPU:1`, `GPU:0`... (not validated: use parseDevice for that). */
export function device(name: string): Device {
  const [type, index] = name.toUpperCase().split(':') as ['CPU' | 'GPU', string | undefined];
  return { type, index: index === undefined ? undefined : Number(index), name: name.toUpperCase() };
}

/** AI.MODELSTORE's parsed request for a mock model: ONNX on CPU, no batching, unless overridden. */
export function mockModelSpec(def: MockModelDef, overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    backend: 'ONNX',
    device: CPU,
    tag: Buffer.alloc(0),
    batchSize: 0,
    minBatchSize: 0,
    minBatchTimeout: 0,
    inputs: [],
    outputs: [],
    blob: mockModelBlob(def),
    ...overrides,
  };
}

export interface TestEngineOptions {
  /** Backends to register (default: one mock ONNX backend); give at least one. */
  backends?: MockBackendOptions[];
  config?: Partial<EngineConfig>;
  keyspace?: Keyspace;
  log?: BackendLogger;
  /** Package overrides for lazily loaded backends. */
  backendPackages?: Partial<Record<BackendName, string>>;
}

export interface TestEngine {
  engine: Engine;
  keyspace: Keyspace;
  /** The first registered mock backend. */
  backend: MockBackend;
  backends: MockBackend[];
  /** Stores a mock model under `key` (through the engine, as AI.MODELSTORE would). */
  store(key: string, def: MockModelDef, overrides?: Partial<ModelSpec>): Promise<void>;
  /** Sets a tensor key. */
  setTensor(key: string, t: Tensor): void;
  /** The tensor at `key`, or undefined. */
  getTensor(key: string): Tensor | undefined;
  /** Closes the engine and the keyspace. */
  close(): Promise<void>;
}

/**
 * An Engine over a fresh MemoryKeyspace (no active expiry, default release-on-drop) with mock
 * backends registered, for engine and command tests.
 */
export async function createTestEngine(opts: TestEngineOptions = {}): Promise<TestEngine> {
  const keyspace = opts.keyspace ?? new MemoryKeyspace({ activeExpiryMs: 0 });
  const engine = new Engine({
    keyspace,
    log: opts.log ?? silentLogger,
    config: { backendsPath: tmpdir(), ...opts.config },
    ...(opts.backendPackages === undefined ? {} : { backendPackages: opts.backendPackages }),
  });
  const backends: MockBackend[] = [];
  for (const o of opts.backends ?? [{}]) {
    const b = createMockBackend(o);
    await engine.registry.register(b);
    backends.push(b);
  }
  return {
    engine,
    keyspace,
    backend: backends[0]!,
    backends,
    store: (key, def, overrides) => engine.storeModel(key, mockModelSpec(def, overrides)),
    setTensor: (key, t) => keyspace.set(key, { type: 'tensor', value: t }),
    getTensor: (key) => keyspace.getTyped(key, 'tensor'),
    close: async () => {
      await engine.close();
      keyspace.close();
    },
  };
}

/** Resolves once `cond()` holds (checked every few ms); rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`waitFor: condition still false after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * How many times the event loop turned (setImmediate) while `p` was in flight. A run computing on
 * this thread, or one that blocks it, leaves at most one; a run on another thread leaves as many as
 * the loop can turn meanwhile. Resolves once `p` settled (a rejection is not rethrown).
 */
export async function turnsWhile(p: Promise<unknown>): Promise<number> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  let turns = 0;
  while (!settled) {
    await new Promise((r) => setImmediate(r));
    turns++;
  }
  await p.catch(() => undefined);
  return turns;
}

/**
 * The conformance fixture every backend starts with: `c = a + b` on FLOAT [2, 2], inputs named
 * a and b, the output c (the model `blob` is the backend's own, written by its package).
 */
export function addFixture(name: string, blob: Buffer, extra: Partial<ModelFixture> = {}): ModelFixture {
  return {
    name,
    blob,
    inputs: [floats([2, 2], [1, 2, 3, 4]), floats([2, 2], [0.5, 0.25, -3, 1e-3])],
    expected: [floats([2, 2], [1.5, 2.25, 0, 4.001])],
    inputNames: ['a', 'b'],
    outputNames: ['c'],
    inputDtypes: ['FLOAT', 'FLOAT'],
    outputDtypes: ['FLOAT'],
    ...extra,
  };
}

/**
 * Backends for a test file: `make()` one, `init` it with test settings (`defaults`, then `over`,
 * on the runtime defaults with a logger whose calls are recorded), keep it for `disposeAll`.
 */
export function testBackends<B extends Backend>(make: () => B, defaults: Partial<BackendSettings> = {}) {
  const made: B[] = [];
  const log = memoryLogger();
  const settings = (over: Partial<BackendSettings> = {}): BackendSettings => ({
    intraOpParallelism: 1,
    interOpParallelism: 0,
    modelExecutionTimeoutMs: 0,
    backendMemoryLimitMb: 0,
    threadsPerQueue: 2,
    log,
    ...defaults,
    ...over,
  });
  return {
    log,
    settings,
    newBackend(over: Partial<BackendSettings> = {}): B {
      const b = make();
      void b.init?.(settings(over));
      made.push(b);
      return b;
    },
    async disposeAll(): Promise<void> {
      await Promise.all(made.splice(0).map((b) => b.dispose?.()));
    },
  };
}
