import { OnnxBackend, type OnnxBackendOptions } from './backend.js';

export { OnnxBackend, ORT_VERSION, type OnnxBackendOptions } from './backend.js';
export { cleanOrtMessage, ONNX_ERR } from './messages.js';

/** A new, independent ONNX backend (own workers); the default export is one of these. */
export function createOnnxBackend(options?: OnnxBackendOptions): OnnxBackend {
  return new OnnxBackend(options);
}

/** The backend the engine loads (AI.CONFIG LOADBACKEND ONNX, or lazily on first use). */
const backend: OnnxBackend = createOnnxBackend();
export default backend;
