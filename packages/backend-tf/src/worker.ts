import { serveWorker, transfer, workerInput } from '@respai/core/worker';
import { initTf, loadModel, runModel, unloadModel, type ComputeBackend, type WireTensor } from './runtime.js';

/** One TF worker thread: a tfjs instance holding the models of one device slot. */

export interface TfWorkerData {
  readonly backend: ComputeBackend;
}

const { backend } = workerInput<TfWorkerData>();
const init = initTf(backend);
// An init failure surfaces on the first call instead of as an unhandled rejection.
init.catch(() => undefined);

serveWorker({
  info: () => init,
  load: async (id: number, blob: Uint8Array, inputs: string[], outputs: string[]) => {
    await init;
    return loadModel(id, blob, inputs, outputs);
  },
  run: async (id: number, inputs: WireTensor[]) => {
    await init;
    const out = await runModel(id, inputs);
    return transfer(
      out,
      out.map((t) => t.data),
    );
  },
  unload: (id: number) => unloadModel(id),
});
