import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBackend } from '../backend/registry.js';
import {
  BACKEND_API_VERSION,
  BACKEND_NAMES,
  RunNotStarted,
  type QueuedRun,
  type Backend,
  type BackendSettings,
  type Device,
  type LoadedModel,
  type ModelLoadRequest,
} from '../backend/spi.js';
import { Tensor, type DType } from '../tensor/index.js';
import { Rng } from './fuzz.js';
import { silentLogger, tensorDiff } from './helpers.js';

/** A model every backend under test must load and run to known outputs. */
export interface ModelFixture {
  /** Shown in test names. */
  name: string;
  blob: Buffer;
  /** The inputs of one run, in the model's input order. */
  inputs: Tensor[];
  /** What that run must give, in the model's output order. */
  expected: Tensor[];
  /** The names the loaded model must report, when the fixture knows them. */
  inputNames?: string[];
  outputNames?: string[];
  /** The dtypes the loaded model must declare (undefined entries are not checked). */
  inputDtypes?: (DType | undefined)[];
  outputDtypes?: (DType | undefined)[];
  /** Overrides of the load request (TF: `inputs`/`outputs` node names; `batchSize`; `device`). */
  loadRequest?: Partial<ModelLoadRequest>;
  /** Float comparison; default atol 1e-5, rtol 1e-4. */
  tolerance?: { atol?: number; rtol?: number };
  /**
   * What a run gives when input 0 comes as zeros of another dtype (INT8, or DOUBLE for an INT8
   * input). Unset: it must reject. Set for runtimes that take any dtype (TorchScript graphs are
   * untyped and promote): the outputs it must resolve to.
   */
  wrongDtypeRunsTo?: Tensor[];
}

export interface BackendConformanceOptions {
  /**
   * Makes the backend under test (its package's default export). Called once; the suite then calls
   * `init` once and, at the end, the backend's `dispose`: hand it an instance nothing else uses.
   */
  backend: () => Backend | Promise<Backend>;
  /** Given to `init`; default: runtime defaults, 4 threads per queue, a silent logger. */
  settings?: Partial<BackendSettings>;
  fixtures: {
    /** At least one. */
    valid: ModelFixture[];
    /** Blobs the backend must refuse, besides random bytes, an empty buffer and truncated valid blobs. */
    garbage?: Buffer[];
  };
  /** Bound on each load, run and dispose (ms); default 10 000. */
  timeoutMs?: number;
  /** Concurrent runs per model, on slots 0..n-1; default settings.threadsPerQueue. */
  concurrency?: number;
  /** The title of the suite; default `backend conformance`. */
  title?: string;
}

const CPU: Device = { type: 'CPU', index: undefined, name: 'CPU' };

/**
 * Registers vitest suites checking what every respai backend must do: its shape, init, loading
 * valid models and reporting their inputs and outputs, running them to known outputs (alone,
 * concurrently on different slots, after a failed run), refusing garbage blobs and bad runs with an
 * Error (never a crash, never a hang), and disposal. Call it at the top level of a test file:
 *
 * ```ts
 * backendConformance({ backend: () => onnxBackend, fixtures: { valid: [addFixture] } });
 * ```
 */
export function backendConformance(opts: BackendConformanceOptions): void {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const settings: BackendSettings = {
    intraOpParallelism: 0,
    interOpParallelism: 0,
    modelExecutionTimeoutMs: 5000,
    backendMemoryLimitMb: 0,
    threadsPerQueue: 4,
    log: silentLogger,
    ...opts.settings,
  };
  const concurrency = Math.max(1, opts.concurrency ?? settings.threadsPerQueue);
  const itTimeout = timeoutMs * 3;
  const valid = opts.fixtures.valid;

  let backend: Backend | undefined;
  let initError: unknown;
  let initCalled = false;
  const b = (): Backend => {
    if (backend === undefined) throw new Error('the backend factory failed (see beforeAll)');
    return backend;
  };

  const request = (f: Pick<ModelFixture, 'blob' | 'loadRequest'>): ModelLoadRequest => ({
    blob: f.blob,
    device: CPU,
    inputs: [],
    outputs: [],
    batchSize: 0,
    ...f.loadRequest,
  });
  const load = (f: Pick<ModelFixture, 'name' | 'blob' | 'loadRequest'>): Promise<LoadedModel> =>
    bounded(() => b().loadModel(request(f)), timeoutMs, `loading ${f.name}`);
  const run = (m: LoadedModel, inputs: readonly Tensor[], slot: number, what: string): Promise<Tensor[]> =>
    bounded(() => m.run(inputs, { slot }), timeoutMs, what);
  const dispose = (m: LoadedModel, what: string): Promise<void> =>
    bounded(() => m.dispose(), timeoutMs, `disposing ${what}`);
  const checkOutputs = (f: ModelFixture, out: Tensor[]) => {
    expect(Array.isArray(out), `${f.name}: run must resolve with an array`).toBe(true);
    expect(out.length, `${f.name}: number of outputs`).toBe(f.expected.length);
    out.forEach((t, i) => {
      expect(t, `${f.name}: output ${i} must be a Tensor`).toBeInstanceOf(Tensor);
      expect(tensorDiff(t, f.expected[i]!, f.tolerance), `${f.name}: output ${i}`).toBeUndefined();
    });
  };
  /** Awaits a promise that must reject; returns the reason, failing when it resolves. */
  const rejection = async (fn: () => Promise<unknown>, what: string): Promise<unknown> => {
    let value: unknown;
    try {
      value = await bounded(fn, timeoutMs, what);
    } catch (e) {
      if (e instanceof NotSettled) throw e;
      expect(isErrorLike(e), `${what}: must reject with an Error, got ${String(e)}`).toBe(true);
      return e;
    }
    if (value !== null && typeof value === 'object' && typeof (value as LoadedModel).dispose === 'function') {
      await Promise.resolve((value as LoadedModel).dispose()).catch(() => undefined);
    }
    throw new Error(`${what}: resolved, but it must reject`);
  };

  describe(opts.title ?? 'backend conformance', () => {
    beforeAll(async () => {
      backend = await opts.backend();
      if (backend?.init !== undefined) {
        initCalled = true;
        try {
          await bounded(() => b().init!(settings), timeoutMs, 'init');
        } catch (e) {
          initError = e;
        }
      }
    }, itTimeout);

    afterAll(async () => {
      if (backend?.dispose !== undefined) await bounded(() => b().dispose!(), timeoutMs, 'backend dispose');
    }, itTimeout);

    describe('shape', () => {
      it('is an object the engine accepts', () => {
        expect(() => checkBackend(b())).not.toThrow();
        expect(typeof b().loadModel).toBe('function');
        expect(typeof b().supportsDevice).toBe('function');
      });

      it(`has apiVersion ${BACKEND_API_VERSION}, a backend name and a version string`, () => {
        expect(b().apiVersion).toBe(BACKEND_API_VERSION);
        expect(BACKEND_NAMES).toContain(b().name);
        expect(typeof b().version).toBe('string');
        expect(b().version.length).toBeGreaterThan(0);
      });

      it('supports CPU devices; answers for GPU without throwing', () => {
        for (const d of [CPU, { type: 'CPU', index: 0, name: 'CPU:0' }, { type: 'CPU', index: 1, name: 'CPU:1' }] as Device[]) {
          expect(b().supportsDevice(d), d.name).toBe(true);
        }
        for (const d of [{ type: 'GPU', index: undefined, name: 'GPU' }, { type: 'GPU', index: 0, name: 'GPU:0' }] as Device[]) {
          expect(typeof b().supportsDevice(d), d.name).toBe('boolean');
        }
      });

      it('init, called once with the settings, resolves', () => {
        expect(initCalled, 'init is called when the backend has one').toBe(b().init !== undefined);
        expect(initError, `init rejected: ${String((initError as Error | undefined)?.message ?? initError)}`).toBeUndefined();
      });

      it('has at least one valid fixture to check', () => {
        expect(valid.length).toBeGreaterThan(0);
      });
    });

    for (const f of valid) {
      describe(`model ${f.name}`, () => {
        let model: LoadedModel | undefined;
        let loadError: unknown;
        const m = (): LoadedModel => {
          if (model === undefined) throw new Error(`${f.name} did not load: ${String((loadError as Error | undefined)?.message ?? loadError)}`);
          return model;
        };
        beforeAll(async () => {
          try {
            model = await load(f);
          } catch (e) {
            loadError = e;
          }
        }, itTimeout);
        afterAll(async () => {
          if (model !== undefined) await dispose(model, f.name);
        }, itTimeout);

        it('loads and reports its inputs and outputs', () => {
          const lm = m();
          expect(Array.isArray(lm.inputs)).toBe(true);
          expect(Array.isArray(lm.outputs)).toBe(true);
          expect(lm.inputs.length, 'number of inputs').toBe(f.inputs.length);
          expect(lm.outputs.length, 'number of outputs').toBe(f.expected.length);
          for (const s of [...lm.inputs, ...lm.outputs]) expect(typeof s.name).toBe('string');
          if (f.inputNames !== undefined) expect(lm.inputs.map((s) => s.name)).toEqual(f.inputNames);
          if (f.outputNames !== undefined) expect(lm.outputs.map((s) => s.name)).toEqual(f.outputNames);
          f.inputDtypes?.forEach((d, i) => {
            if (d !== undefined) expect(lm.inputs[i]?.dtype, `input ${i} dtype`).toBe(d);
          });
          f.outputDtypes?.forEach((d, i) => {
            if (d !== undefined) expect(lm.outputs[i]?.dtype, `output ${i} dtype`).toBe(d);
          });
        });

        it('runs to the expected outputs, leaving its inputs unchanged, twice alike', async () => {
          const before = f.inputs.map((t) => Buffer.from(t.data));
          checkOutputs(f, await run(m(), f.inputs, 0, `running ${f.name}`));
          f.inputs.forEach((t, i) => expect(t.data.equals(before[i]!), `input ${i} was modified`).toBe(true));
          checkOutputs(f, await run(m(), f.inputs, 0, `running ${f.name} again`));
        }, itTimeout);

        it(`${concurrency} concurrent runs on different slots are all correct`, async () => {
          const outs = await Promise.all(
            Array.from({ length: concurrency }, (_, slot) => run(m(), f.inputs, slot, `run on slot ${slot}`)),
          );
          for (const out of outs) checkOutputs(f, out);
        }, itTimeout);

        it('rejects a run with too few or too many inputs', async () => {
          if (f.inputs.length > 0) await rejection(() => m().run(f.inputs.slice(0, -1), { slot: 0 }), 'a run with too few inputs');
          await rejection(() => m().run([...f.inputs, f.inputs[0] ?? Tensor.zeros('FLOAT', [1])], { slot: 0 }), 'a run with too many inputs');
        }, itTimeout);

        it.skipIf(f.inputs.length === 0)(
          f.wrongDtypeRunsTo === undefined ? 'rejects a run with a wrong input dtype' : 'runs a wrong input dtype to what the runtime promotes it to',
          async () => {
            const first = f.inputs[0]!;
            const other: DType = first.dtype === 'INT8' ? 'DOUBLE' : 'INT8';
            const wrong = [Tensor.zeros(other, first.shape), ...f.inputs.slice(1)];
            const what = `a run with input 0 as ${other} instead of ${first.dtype}`;
            if (f.wrongDtypeRunsTo === undefined) await rejection(() => m().run(wrong, { slot: 0 }), what);
            else checkOutputs({ ...f, expected: f.wrongDtypeRunsTo }, await run(m(), wrong, 0, what));
          },
          itTimeout,
        );

        it('runs correctly after a failed run', async () => {
          const bad = f.inputs.length > 0 ? f.inputs.slice(0, -1) : [Tensor.zeros('FLOAT', [1])];
          await bounded(() => m().run(bad, { slot: 0 }), timeoutMs, 'a failing run').catch((e: unknown) => {
            if (e instanceof NotSettled) throw e;
          });
          checkOutputs(f, await run(m(), f.inputs, 0, 'the run after the failed one'));
        }, itTimeout);

        it('queued runs (runsPerSlot > 1): in order on a slot; withdrawn ones never run; past-deadline ones never start', async () => {
          const depth = b().runsPerSlot ?? 1;
          if (depth <= 1) {
            expect(b().runsPerSlot === undefined || b().runsPerSlot === 1, 'runsPerSlot is 1 or unset').toBe(true);
            return;
          }
          const queued = (deadline = Infinity): QueuedRun => ({ deadline, withdraw: undefined, computeUs: undefined });
          const qs = Array.from({ length: depth }, () => queued());
          const runs = qs.map((q) => bounded(() => m().run(f.inputs, { slot: 0, queued: q }), timeoutMs, 'a queued run'));
          // Withdrawn before it started, it rejects RunNotStarted('withdrawn'); already started, it completes.
          const last = qs[depth - 1]!;
          expect(typeof last.withdraw, 'the backend sets withdraw on a queued run').toBe('function');
          const withdrawn = last.withdraw!();
          const settled = await Promise.allSettled(runs);
          settled.slice(0, -1).forEach((r) => {
            expect(r.status).toBe('fulfilled');
            checkOutputs(f, (r as PromiseFulfilledResult<Tensor[]>).value);
          });
          const lastResult = settled[depth - 1]!;
          if (withdrawn) {
            expect(lastResult.status).toBe('rejected');
            expect((lastResult as PromiseRejectedResult).reason).toBeInstanceOf(RunNotStarted);
            expect(((lastResult as PromiseRejectedResult).reason as RunNotStarted).reason).toBe('withdrawn');
          } else {
            expect(lastResult.status).toBe('fulfilled');
          }
          for (const q of qs.slice(0, -1)) expect(q.computeUs, 'computeUs reported').toBeGreaterThanOrEqual(0);
          await expect(bounded(() => m().run(f.inputs, { slot: 0, queued: queued(Date.now() - 1) }), timeoutMs, 'a late run')).rejects.toMatchObject({
            reason: 'timeout',
          });
          checkOutputs(f, await run(m(), f.inputs, 0, 'a run after the queued ones'));
        }, itTimeout);

        it('dispose resolves; the backend then loads and runs the same blob again', async () => {
          const first = await load(f);
          checkOutputs(f, await run(first, f.inputs, 0, 'run before dispose'));
          await dispose(first, 'a model');
          const second = await load(f);
          checkOutputs(f, await run(second, f.inputs, 0, 'run of a model loaded after a dispose'));
          await dispose(second, 'the reloaded model');
        }, itTimeout);

        it('disposing one model leaves another loaded one working', async () => {
          const a = await load(f);
          const other = await load(f);
          await dispose(a, 'a model');
          checkOutputs(f, await run(other, f.inputs, 0, 'run of the model that stayed'));
          await dispose(other, 'the model that stayed');
        }, itTimeout);
      });
    }

    it('different models run concurrently, each on its own slot', async () => {
      const models = await Promise.all(valid.map((f) => load(f)));
      try {
        const outs = await Promise.all(models.map((lm, i) => run(lm, valid[i]!.inputs, i % concurrency, `concurrent ${valid[i]!.name}`)));
        outs.forEach((out, i) => checkOutputs(valid[i]!, out));
      } finally {
        await Promise.all(models.map((lm) => dispose(lm, 'a model')));
      }
    }, itTimeout);

    describe('garbage blobs are refused with an Error', () => {
      const base = valid[0]?.loadRequest ?? {};
      const cases: { name: string; blob: Buffer }[] = [
        { name: 'an empty buffer', blob: Buffer.alloc(0) },
        { name: '1 random byte', blob: randomBytes(1, 1) },
        { name: '64 random bytes', blob: randomBytes(64, 2) },
        { name: '4 KiB of random bytes', blob: randomBytes(4096, 3) },
        { name: '4 KiB of zeros', blob: Buffer.alloc(4096) },
        ...valid.flatMap((f) => [
          { name: `the first half of ${f.name}`, blob: f.blob.subarray(0, Math.floor(f.blob.length / 2)) },
        ]),
        ...(opts.fixtures.garbage ?? []).map((blob, i) => ({ name: `garbage fixture #${i}`, blob })),
      ];
      for (const c of cases) {
        it(`refuses ${c.name}`, async () => {
          const e = await rejection(() => b().loadModel(request({ blob: c.blob, loadRequest: base })), `loading ${c.name}`);
          expect(isErrorLike(e)).toBe(true);
        }, itTimeout);
      }

      it('still loads and runs valid models after refusing garbage', async () => {
        const f = valid[0];
        if (f === undefined) return;
        const lm = await load(f);
        checkOutputs(f, await run(lm, f.inputs, 0, 'run after garbage loads'));
        await dispose(lm, f.name);
      }, itTimeout);
    });
  });
}

/** Thrown when a backend call neither resolved nor rejected in time. */
class NotSettled extends Error {}

/** Calls `fn` (a sync throw counts as a rejection) and bounds the wait for it to settle. */
function bounded<T>(fn: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NotSettled(`${what} did not settle within ${ms} ms`)), ms);
    new Promise<T>((r) => r(fn())).then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function isErrorLike(e: unknown): boolean {
  return e instanceof Error || (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string');
}

/** Deterministic pseudo-random bytes: the low byte of each of the generator's 32-bit draws. */
function randomBytes(n: number, seed: number): Buffer {
  const r = new Rng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (r.next() * 4294967296) & 0xff;
  return out;
}
