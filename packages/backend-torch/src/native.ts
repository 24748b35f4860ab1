import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { DType, ScriptParamType } from '@respai/core';

/** What the addon reads from a tensor; a respai `Tensor` is one (the addon reads its fields). */
export interface NativeTensorIn {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Buffer;
}

/** A tensor from the addon: its Buffer is libtorch's memory, freed when the Buffer is collected. */
export type RawTensor = [dtype: DType, shape: number[], data: Buffer];

export interface NativeParam {
  readonly name: string;
  /** TorchScript's annotation, e.g. `List[Tensor]`, `Optional[int]`. */
  readonly type: string;
  readonly kind: ScriptParamType;
  readonly hasDefault: boolean;
}

export interface NativeFunction {
  readonly name: string;
  readonly params: readonly NativeParam[];
}

/**
 * A script argument bound to its parameter type (tags match the addon's `Arg`):
 * tensor, int, float, str, bool, list of one of those, None.
 */
export type WireScalar =
  | readonly [0, NativeTensorIn]
  | readonly [1, bigint]
  | readonly [2, number]
  | readonly [3, string | Buffer]
  | readonly [4, boolean]
  | readonly [6];
export type WireArg = WireScalar | readonly [5, 0 | 1 | 2 | 3 | 4, readonly unknown[]];

export const HOST_EXECUTE = 0;
export const HOST_MODEL_EXECUTE = 1;

/**
 * Called on the JS thread while a script's worker thread waits: `redis.execute` (kind 0: name is
 * the command, payload its arguments) or `redisAI.model_execute` (kind 1: name is the model key,
 * payload its inputs). Must call `done` exactly once: `done(null, reply)` or `done(message)`.
 */
export type HostCallback = (
  kind: number,
  name: string,
  payload: Buffer[] | RawTensor[],
  nOutputs: number,
  done: (error: string | null, value?: unknown) => void,
) => void;

export interface TorchAddon {
  /** libtorch's version. */
  readonly version: string;
  /** INTRA_OP / INTER_OP_PARALLELISM (0 = libtorch's default); returns warnings. */
  init(intraOp: number, interOp: number): string[];
  threads(): { intraOp: number; interOp: number; parallel: string };
  loadModel(blob: Buffer): Promise<{ handle: object; inputs: string[]; nOutputs: number }>;
  /**
   * Runs a model: on lane `lane` (the thread of one engine slot, in order) with control record
   * `cell` (-1: none) and a deadline in ms since the epoch (0: none); without a lane, at once on a
   * pool thread. A run that did not start rejects with an error whose `respaiNotStarted` says why.
   */
  runModel(handle: object, inputs: readonly NativeTensorIn[], lane?: number, cell?: number, deadline?: number): Promise<RawTensor[]>;
  /** Registers the run control records (see RunControl in backend.ts). */
  setRunControl(view: Int32Array, size: number): void;
  disposeModel(handle: object): void;
  /** ns per forward, in a C++ loop on the calling thread (measurements only). */
  benchForward(handle: object, inputs: readonly NativeTensorIn[], iterations: number): number;
  compileScript(source: string): Promise<{ handle: object; functions: NativeFunction[] }>;
  runScript(handle: object, fn: string, args: readonly WireArg[], host: HostCallback, lane?: number, cell?: number, deadline?: number): Promise<RawTensor[]>;
  disposeScript(handle: object): void;
  /** Tests only: a module with the given methods (`def forward(self, ...)`), torch.jit.save'd. */
  saveModule(source: string): Buffer;
}

const ADDON = '../native/build/Release/respai_torch.node';

function loadAddon(): TorchAddon {
  const path = fileURLToPath(new URL(ADDON, import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`the TORCH backend's native addon is not built (${path}): run the @respai/backend-torch build`);
  }
  try {
    return createRequire(import.meta.url)(path) as TorchAddon;
  } catch (e) {
    // Typically libtorch missing: the Debian package libtorch1.13 (scripts/bootstrap installs libtorch-dev).
    throw new Error(`cannot load the TORCH backend's native addon: ${(e as Error).message}`);
  }
}

/** The addon, loaded once per process (per worker thread). */
export const addon: TorchAddon = loadAddon();
