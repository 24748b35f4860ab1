import type { Tensor } from '@respai/core';
import { addon } from './native.js';
import type { TorchModel } from './backend.js';

export * from './fuzz/archive.js';
export * from './fuzz/source.js';

/**
 * A TorchScript model archive (torch.jit.save format) whose methods are `source`, e.g.
 * `def forward(self, a, b):\n    return a + b\n`, with `parameters` as `self.<name>`: fixtures made
 * by this project's own code.
 */
export function torchModelBlob(source: string, parameters?: Record<string, Tensor>): Buffer {
  return addon.saveModule(source, parameters);
}

/**
 * The two halves of a TORCH MODELSTORE / SCRIPTSTORE, for measuring what the check costs: the
 * check in a forked child alone, and the load in this process alone (no check: measurements only).
 */
export const storeHalves = {
  checkModel: (blob: Buffer) => addon.probeModel(blob, 60_000, 2 ** 31 + 4 * blob.length),
  loadModelUnchecked: async (blob: Buffer) => addon.disposeModel((await addon.loadModel(blob)).handle),
  checkScript: (source: string) => addon.probeScript(source, 60_000, 2 ** 31 + 64 * source.length),
  compileScriptUnchecked: async (source: string) => addon.disposeScript((await addon.compileScript(source)).handle),
};

/** ns per forward of `model` in a C++ loop on the calling thread (blocks it: measurements only). */
export function benchForward(model: TorchModel, inputs: readonly Tensor[], iterations: number): number {
  return addon.benchForward((model as unknown as { handle: object }).handle, inputs, iterations);
}
