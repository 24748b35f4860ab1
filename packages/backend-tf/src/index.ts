import { createTfBackend } from './backend.js';

/**
 * `@respai/backend-tf`: the TF backend of respai. Its default export is the backend object the
 * engine loads (AI.CONFIG LOADBACKEND TF, or lazily on the first TF model).
 */
export default createTfBackend();

export { createTfBackend, type TfBackendOptions } from './backend.js';
export { prepareGraph, sniff, type IOSpec, type PreparedGraph } from './graph.js';
export { TF_ERR } from './messages.js';
export { CONVERTER_VERSION, EXECUTOR_OPS, WASM_MISSING_OPS } from './ops.js';
export type { ComputeBackend } from './runtime.js';
