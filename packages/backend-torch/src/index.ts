import { TorchBackend } from './backend.js';

export { TorchBackend, TorchModel, TorchScript, TORCH_VERSION } from './backend.js';
export { bindArgs, isEntryPoint } from './bind.js';
export { cleanTorchMessage } from './messages.js';

/** The backend the engine loads (AI.CONFIG LOADBACKEND TORCH, or lazily on first use). */
const backend: TorchBackend = new TorchBackend();
export default backend;
