/**
 * The TFLITE worker thread: holds interpreters (of the runtime chosen for each model) and runs
 * them, so the synchronous `Invoke` never blocks the server's event loop.
 */
import { serveWorker, transfer, workerInput } from '@respai/core/worker';
import type { WireInput, WireModelInfo, WorkerSettings } from './protocol.js';
import { openInterpreter, type Interpreter, type RuntimeId } from './runtimes.js';

const settings = workerInput<WorkerSettings>();
const interpreters = new Map<number, Promise<Interpreter>>();

async function load(id: number, bytes: Uint8Array, runtime: RuntimeId): Promise<WireModelInfo> {
  // Idempotent: a respawned worker's reload and the load that raced it share one interpreter.
  let it = interpreters.get(id);
  if (it === undefined) {
    it = openInterpreter(runtime, bytes, settings.numThreads).catch((e: unknown) => {
      interpreters.delete(id);
      // Store-time failures (bytes, unknown ops, a graph the runtime cannot prepare) say so.
      throw new Error(`Invalid TFLITE model: ${(e as Error).message}`);
    });
    interpreters.set(id, it);
  }
  return (await it).describe();
}

async function run(id: number, inputs: readonly WireInput[]) {
  const it = await interpreters.get(id);
  if (it === undefined) throw new Error(`model #${id} is not loaded in this worker`);
  const outputs = it.run(inputs.map((i) => ({ dims: i.dims, data: new Uint8Array(i.data) })));
  return transfer(outputs, outputs.map((o) => o.data));
}

async function unload(id: number): Promise<void> {
  const it = interpreters.get(id);
  interpreters.delete(id);
  (await it?.catch(() => undefined))?.close();
}

serveWorker({ load, run, unload });
