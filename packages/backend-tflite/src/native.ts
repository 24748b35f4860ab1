import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { WireModelInfo, WireOutput } from './protocol.js';

/** A TFLite C library, opened by path (native/addon.cc). */
export interface NativeLibrary {
  /** TfLiteVersion(), e.g. `2.2.0`. */
  readonly version: string;
  /** Whether it exports the XNNPACK delegate. */
  readonly xnnpack: boolean;
}

/** One TFLite interpreter (native/addon.cc); synchronous, used by one thread only. */
export interface NativeInterpreter {
  describe(): WireModelInfo;
  run(inputs: readonly { dims: readonly number[]; data: Uint8Array }[]): WireOutput[];
  close(): void;
}

export interface NativeAddon {
  readonly Library: new (path: string) => NativeLibrary;
  /** `xnnpackFlags` < 0: no XNNPACK delegate; else the delegate with these flags. */
  readonly Interpreter: new (library: NativeLibrary, bytes: Uint8Array, numThreads: number, xnnpackFlags: number) => NativeInterpreter;
}

let addon: NativeAddon | undefined;

/** The addon, built by scripts/build-native.mjs (the package's build). */
export function nativeAddon(): NativeAddon {
  if (addon !== undefined) return addon;
  const path = fileURLToPath(new URL('../native/build/Release/respai_tflite.node', import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`the TFLITE addon is not built (${path} is missing): run \`pnpm --filter @respai/backend-tflite build\``);
  }
  addon = createRequire(import.meta.url)(path) as NativeAddon;
  return addon;
}
