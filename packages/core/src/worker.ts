/**
 * `@respai/core/worker`: what code inside a backend's worker thread or check process needs from
 * core, without the engine, the keyspace or persistence (each worker is an isolate of its own, and
 * every module it loads costs memory once per worker).
 */
export { Transfer, WorkerCallError, serveWorker, transfer, workerInput, type WorkerHandler } from './backend/workers.js';
export { PROBE_REFUSED_EXIT } from './backend/probe.js';
export { E, RespaiError, echo, fail } from './errors.js';
export type { DType } from './tensor/dtype.js';
export { builtModuleUrl } from './backend/module-url.js';
