import { TfliteBackend, type TfliteBackendOptions } from './backend.js';

export { TfliteBackend, feedDims, type TfliteBackendOptions } from './backend.js';
export { TFLITE_ERR, cleanTfliteMessage } from './messages.js';
export { RUNTIMES, type RuntimeId } from './runtimes.js';
export type { CandidateReport, Choice } from './choose.js';

/** A new, independent TFLITE backend (own workers); the default export is one of these. */
export function createTfliteBackend(options?: TfliteBackendOptions): TfliteBackend {
  return new TfliteBackend(options);
}

/** The backend the engine loads (AI.CONFIG LOADBACKEND TFLITE, or lazily on first use). */
const backend: TfliteBackend = createTfliteBackend();
export default backend;
