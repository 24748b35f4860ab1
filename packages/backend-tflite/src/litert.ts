/**
 * LiteRT.js (`@litertjs/core`: Google's current TFLite runtime, XNNPACK, compiled to wasm) as one
 * of the TFLITE backend's runtimes, driven through its low-level API: tensor buffers of any element
 * type are created and filled byte for byte, so the INT64 inputs and outputs the package's
 * high-level `Tensor` refuses (`Element type INT64 is not supported`) pass as they are.
 *
 * The package is written for browsers. In Node its Emscripten loader runs as a CommonJS script
 * (the package is `type: module`, so it is evaluated here rather than required), its relaxed-SIMD
 * build needs V8's `--experimental-wasm-relaxed-simd` before Node 22 (set at run time when the
 * engine lacks it; the SIMD-only "compat" build otherwise), and its threaded build starts its
 * pthreads as worker threads running `litert-pthread.cjs`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import { builtModuleUrl } from '@respai/core/worker';
import type { WireModelInfo, WireOutput, WireTensorInfo } from './protocol.js';

const require = createRequire(import.meta.url);
const packageDir = dirname(require.resolve('@litertjs/core/package.json'));

/** `@litertjs/core`'s version (2.5.3). */
export const LITERT_VERSION: string = (require('@litertjs/core/package.json') as { version: string }).version;

// ---- the parts of the wasm module's API used here (see the package's dist/index.d.ts) ----------
interface Deletable {
  delete(): void;
}
interface Vector<T> extends Deletable {
  size(): number;
  get(i: number): T;
}
interface Enum<T = number> {
  value: T;
}
interface Layout extends Deletable {
  dimensions(): Vector<number>;
}
interface RankedTensorType extends Deletable {
  elementType(): Enum;
  layout(): Layout;
  bytes(): number;
}
interface Signature extends Deletable {
  inputNames(): Vector<string>;
  outputNames(): Vector<string>;
}
interface LrtModel extends Deletable {
  getNumSignatures(): number;
  getSignature(i: number): Signature;
  getInputTensorType(signature: number, i: number): RankedTensorType;
  getOutputTensorType(signature: number, i: number): RankedTensorType;
}
interface TensorBuffer extends Deletable {
  lock(mode: Enum): number;
  unlock(): void;
  size(): number;
  tensorType(): RankedTensorType;
}
interface CompiledModel extends Deletable {
  run(signature: number, inputs: TensorBuffer[]): TensorBuffer[] | Vector<TensorBuffer> | Promise<TensorBuffer[]>;
}
interface LiteRtWasm {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(p: number): void;
  LiteRtEnvironment: { create(gpu: null): Deletable };
  loadModel(env: Deletable, ptr: number, size: number): LrtModel;
  compileModel(env: Deletable, model: LrtModel, options: { accelerator: 'wasm'; cpuOptions: { numThreads: number } }): CompiledModel | Promise<CompiledModel>;
  LiteRtTensorBuffer: { createManaged(env: Deletable, type: Enum, tensorType: RankedTensorType, size: number): TensorBuffer };
  LiteRtTensorBufferType: { HOST_MEMORY: Enum };
  LiteRtTensorBufferLockMode: { READ: Enum; WRITE: Enum };
}

/** Which wasm build runs: relaxed SIMD (fastest), threaded (relaxed SIMD + pthreads) or compat (SIMD). */
export type LiteRtBuild = 'relaxed' | 'threaded' | 'compat';

// A module of one function using a relaxed-SIMD instruction (i8x16.relaxed_swizzle).
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, 0x2b, 1, 0x29, 0, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0xfd, 0x0c,
  ...new Array<number>(16).fill(0), 0xfd, 0x80, 0x02, 0x0b,
]);

/** WebAssembly, which the ES2023 lib (no DOM) does not declare. */
declare const WebAssembly: { validate(bytes: Uint8Array): boolean };

let relaxed: boolean | undefined;

/** Whether wasm relaxed SIMD compiles here, turning on V8's flag for it when Node lacks it by default. */
export function relaxedSimd(): boolean {
  if (relaxed !== undefined) return relaxed;
  relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE);
  if (!relaxed) {
    // Node 20's V8 has relaxed SIMD behind a flag (on by default from Node 22); it is read when a
    // module compiles, so setting it before LiteRT's first compile is enough.
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE);
  }
  return relaxed === true;
}

/** The build for `numThreads` interpreter threads (threads need relaxed SIMD, as LiteRT.js requires). */
export function liteRtBuild(numThreads: number): LiteRtBuild {
  if (!relaxedSimd()) return 'compat';
  return numThreads > 1 ? 'threaded' : 'relaxed';
}

const FILES: Record<LiteRtBuild, string> = {
  relaxed: 'litert_wasm_internal.js',
  threaded: 'litert_wasm_threaded_internal.js',
  compat: 'litert_wasm_compat_internal.js',
};

/** Evaluates one of the package's Emscripten loaders as the CommonJS script it is; returns its factory. */
export function liteRtFactory(build: LiteRtBuild, poolSize: number): (module: object) => Promise<LiteRtWasm> {
  const file = join(packageDir, 'wasm', FILES[build]);
  const fn = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname, navigator) {${readFileSync(file, 'utf8')}\n})`, { filename: file }) as (
    ...args: unknown[]
  ) => void;
  const module = { exports: {} as unknown };
  // `navigator.hardwareConcurrency` sizes the threaded build's pthread pool (Node 20 has no navigator).
  fn(module.exports, createRequire(file), module, file, dirname(file), { hardwareConcurrency: poolSize });
  return module.exports as (module: object) => Promise<LiteRtWasm>;
}

/** LiteRT's log lines (its own INFO lines are many): the last few, for error texts. */
const recent: string[] = [];
const remember = (line: string) => {
  if (/^(INFO|WARNING):/.test(line) || line.includes('INFO: ')) return;
  recent.push(line);
  if (recent.length > 8) recent.shift();
};

interface Loaded {
  wasm: LiteRtWasm;
  env: Deletable;
}
const instances = new Map<string, Promise<Loaded>>();

/** This thread's LiteRT instance for `build` (each worker thread compiles its own: ~9 MB of wasm). */
function instance(build: LiteRtBuild, numThreads: number): Promise<Loaded> {
  const key = `${build}:${numThreads}`;
  let p = instances.get(key);
  if (p === undefined) {
    p = (async () => {
      if (build !== 'compat' && !relaxedSimd()) throw new Error('this Node cannot compile wasm relaxed SIMD');
      const dir = join(packageDir, 'wasm');
      const wasm = await liteRtFactory(build, numThreads)({
        locateFile: (path: string) => join(dir, path),
        mainScriptUrlOrBlob: fileURLToPath(builtModuleUrl(import.meta.url, 'litert-pthread.cjs')),
        print: remember,
        printErr: remember,
      });
      return { wasm, env: wasm.LiteRtEnvironment.create(null) };
    })();
    p.catch(() => instances.delete(key));
    instances.set(key, p);
  }
  return p;
}

const vectorToArray = <T>(v: Vector<T>): T[] => {
  const out: T[] = [];
  for (let i = 0; i < v.size(); i++) out.push(v.get(i));
  v.delete();
  return out;
};

function dimsOf(t: RankedTensorType): number[] {
  const layout = t.layout();
  const dims = vectorToArray(layout.dimensions());
  layout.delete();
  return dims;
}

/** Why a LiteRT call failed: its exception and the log lines before it. */
function failure(e: unknown, what: string): Error {
  const message = e instanceof Error ? e.message : String(e);
  const log = recent.splice(0).join('; ');
  return new Error(`${what}: ${message}${log ? ` (${log})` : ''}`);
}

/** One model compiled by LiteRT.js, with the same surface as a native interpreter. */
export class LiteRtInterpreter {
  private closed = false;

  private constructor(
    private readonly wasm: LiteRtWasm,
    private readonly env: Deletable,
    private readonly ptr: number,
    private readonly model: LrtModel,
    private readonly compiled: CompiledModel,
    private readonly info: WireModelInfo,
  ) {}

  static async open(bytes: Uint8Array, numThreads: number): Promise<LiteRtInterpreter> {
    const { wasm, env } = await instance(liteRtBuild(numThreads), Math.max(1, numThreads));
    // The model reads its bytes in place for as long as it lives: they go into the wasm heap.
    const ptr = wasm._malloc(bytes.length);
    wasm.HEAPU8.set(bytes, ptr);
    let model: LrtModel | undefined;
    try {
      model = wasm.loadModel(env, ptr, bytes.length);
      // One entry point: MODELEXECUTE binds inputs by position, and several signatures would not say which.
      if (model.getNumSignatures() !== 1) throw new Error(`the model has ${model.getNumSignatures()} signatures; LiteRT runs models of one here`);
      const sig = model.getSignature(0);
      const describe = (names: string[], type: (i: number) => RankedTensorType): WireTensorInfo[] =>
        names.map((name, i) => {
          const t = type(i);
          const info = { name, type: t.elementType().value, dims: dimsOf(t), scale: 0, zeroPoint: 0 };
          t.delete();
          return info;
        });
      const info: WireModelInfo = {
        inputs: describe(vectorToArray(sig.inputNames()), (i) => model!.getInputTensorType(0, i)),
        outputs: describe(vectorToArray(sig.outputNames()), (i) => model!.getOutputTensorType(0, i)),
      };
      sig.delete();
      const compiled = await wasm.compileModel(env, model, { accelerator: 'wasm', cpuOptions: { numThreads: Math.max(1, numThreads) } });
      return new LiteRtInterpreter(wasm, env, ptr, model, compiled, info);
    } catch (e) {
      model?.delete();
      wasm._free(ptr);
      throw failure(e, 'LiteRT could not load the model');
    }
  }

  describe(): WireModelInfo {
    return this.info;
  }

  /**
   * Runs on inputs of the model's declared shapes (LiteRT.js compiles a model for its shapes and
   * has no resize); outputs copied out of the wasm heap.
   */
  run(inputs: readonly { dims: readonly number[]; data: Uint8Array }[]): WireOutput[] {
    if (this.closed) throw new Error('the LiteRT model was closed');
    const w = this.wasm;
    const specs = this.info.inputs;
    if (inputs.length !== specs.length) throw new Error(`expected ${specs.length} inputs, got ${inputs.length}`);
    const buffers: TensorBuffer[] = [];
    let outputs: TensorBuffer[] = [];
    try {
      inputs.forEach((input, i) => {
        const spec = specs[i]!;
        if (input.dims.length !== spec.dims.length || input.dims.some((d, k) => d !== spec.dims[k])) {
          throw new Error(`input '${spec.name}' must have shape [${spec.dims.join(', ')}] on LiteRT, which cannot resize inputs; got [${input.dims.join(', ')}]`);
        }
        const type = this.model.getInputTensorType(0, i);
        const size = type.bytes();
        if (input.data.byteLength !== size) {
          type.delete();
          throw new Error(`input ${i} has ${input.data.byteLength} bytes where the model's tensor holds ${size}`);
        }
        const buffer = w.LiteRtTensorBuffer.createManaged(this.env, w.LiteRtTensorBufferType.HOST_MEMORY, type, size);
        type.delete();
        buffers.push(buffer);
        const at = buffer.lock(w.LiteRtTensorBufferLockMode.WRITE);
        w.HEAPU8.set(input.data, at);
        buffer.unlock();
      });
      const out = this.compiled.run(0, buffers);
      if (out instanceof Promise) throw new Error('this LiteRT build runs asynchronously');
      outputs = Array.isArray(out) ? out : vectorToArray(out);
      return outputs.map((buffer, i) => {
        const type = buffer.tensorType();
        const spec = this.info.outputs[i]!;
        const info = { name: spec.name, type: type.elementType().value, dims: dimsOf(type), scale: 0, zeroPoint: 0 };
        type.delete();
        const at = buffer.lock(w.LiteRtTensorBufferLockMode.READ);
        const data = w.HEAPU8.slice(at, at + buffer.size()).buffer;
        buffer.unlock();
        return { ...info, data };
      });
    } catch (e) {
      throw failure(e, 'LiteRT failed to run the model');
    } finally {
      for (const b of buffers) b.delete();
      for (const b of outputs) b.delete();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.compiled.delete();
    this.model.delete();
    this.wasm._free(this.ptr);
  }
}
