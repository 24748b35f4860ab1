/**
 * The TFLITE worker thread: holds TFLite interpreters and runs them, so the synchronous
 * `Invoke` never blocks the server's event loop.
 */
import { serveWorker, transfer, workerInput } from '@respai/core/worker';
import { nativeAddon, type NativeInterpreter } from './native.js';
import type { WireInput, WireModelInfo, WorkerSettings } from './protocol.js';

const settings = workerInput<WorkerSettings>();
const addon = nativeAddon();
const interpreters = new Map<number, NativeInterpreter>();

function load(id: number, bytes: Uint8Array): WireModelInfo {
  // Idempotent: a respawned worker's reload and the load that raced it share one interpreter.
  let it = interpreters.get(id);
  if (it === undefined) {
    try {
      it = new addon.Interpreter(bytes, settings.numThreads);
    } catch (e) {
      // Store-time failures (bytes, unknown ops, a graph TFLite cannot prepare) say so.
      throw new Error(`Invalid TFLITE model: ${(e as Error).message}`);
    }
    interpreters.set(id, it);
  }
  return it.describe();
}

function run(id: number, inputs: readonly WireInput[]) {
  const it = interpreters.get(id);
  if (it === undefined) throw new Error(`model #${id} is not loaded in this worker`);
  const outputs = it.run(inputs.map((i) => ({ dims: i.dims, data: new Uint8Array(i.data) })));
  return transfer(outputs, outputs.map((o) => o.data));
}

function unload(id: number): void {
  interpreters.get(id)?.close();
  interpreters.delete(id);
}

serveWorker({ load, run, unload });
