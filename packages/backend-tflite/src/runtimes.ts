/**
 * The runtimes a TFLITE model can run on. Each model is checked on all of them when stored (see
 * probe.ts) and runs on the fastest one whose outputs match the reference's.
 *
 * - `tflite-2.2`: TFLite 2.2's C library, shipped by node-tflite (respai's runtime until now,
 *   and the reference every other runtime must agree with).
 * - `tflite-2.9`: TFLite 2.9's C library, shipped by tfjs-tflite-node, its built-in kernels.
 * - `tflite-2.9-xnnpack`: the same with the XNNPACK delegate, quantized (QS8, QU8) operators
 *   included: the fast path on x86 for float and int8 models.
 * - `litert`: LiteRT.js (current LiteRT with XNNPACK, in wasm): runs models with operators or
 *   operator versions neither C library knows.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { LITERT_VERSION, LiteRtInterpreter, liteRtBuild } from './litert.js';
import { nativeAddon, type NativeInterpreter, type NativeLibrary } from './native.js';
import type { WireModelInfo, WireOutput } from './protocol.js';

export const RUNTIMES = ['tflite-2.2', 'tflite-2.9', 'tflite-2.9-xnnpack', 'litert'] as const;
export type RuntimeId = (typeof RUNTIMES)[number];

export function isRuntimeId(s: string): s is RuntimeId {
  return (RUNTIMES as readonly string[]).includes(s);
}

/** An interpreter of any runtime: what workers hold and the probe times. */
export interface Interpreter {
  describe(): WireModelInfo;
  run(inputs: readonly { dims: readonly number[]; data: Uint8Array }[]): WireOutput[];
  close(): void;
}

const require = createRequire(import.meta.url);
const packagePath = (name: string, ...rest: string[]) => join(dirname(require.resolve(`${name}/package.json`)), ...rest);

/** The C libraries, by runtime (node-tflite and tfjs-tflite-node ship them for linux x86-64). */
const LIBRARY_FILES = {
  '2.2': () => packagePath('node-tflite', 'tflite/linux_x86_64/libtensorflowlite_c.so'),
  '2.9': () => packagePath('tfjs-tflite-node', 'cc_deps/linux_amd64/libtensorflowlite_c.so'),
} as const;

const libraries = new Map<keyof typeof LIBRARY_FILES, NativeLibrary>();

/** A TFLite C library, opened on first use (once per thread: the process shares one copy). */
export function library(version: keyof typeof LIBRARY_FILES): NativeLibrary {
  let lib = libraries.get(version);
  if (lib === undefined) {
    lib = new (nativeAddon().Library)(LIBRARY_FILES[version]());
    libraries.set(version, lib);
  }
  return lib;
}

/** XNNPACK delegate flags: signed and unsigned 8-bit quantized operators too (TFLite 2.9's QS8 | QU8). */
const XNNPACK_QUANTIZED = 1 | 2;

/** The runtime's name and version as INFO shows them, e.g. `TFLite 2.9.0 + XNNPACK`. */
export function runtimeLabel(id: RuntimeId, numThreads = 1): string {
  switch (id) {
    case 'tflite-2.2':
      return `TFLite ${library('2.2').version}`;
    case 'tflite-2.9':
      return `TFLite ${library('2.9').version}`;
    case 'tflite-2.9-xnnpack':
      return `TFLite ${library('2.9').version} + XNNPACK`;
    case 'litert':
      return `LiteRT.js ${LITERT_VERSION} (wasm, ${liteRtBuild(numThreads)})`;
  }
}

/** An interpreter of `runtime` for the model `bytes`; throws the runtime's reason when it refuses it. */
export async function openInterpreter(runtime: RuntimeId, bytes: Uint8Array, numThreads: number): Promise<Interpreter> {
  if (runtime === 'litert') return LiteRtInterpreter.open(bytes, numThreads);
  const Native = nativeAddon().Interpreter;
  const native = (lib: NativeLibrary, xnnpack: number): NativeInterpreter => new Native(lib, bytes, numThreads, xnnpack);
  if (runtime === 'tflite-2.2') return native(library('2.2'), -1);
  if (runtime === 'tflite-2.9') return native(library('2.9'), -1);
  return native(library('2.9'), XNNPACK_QUANTIZED);
}
