export { main, program } from './program.js';
export { connectionConfig, type ConnectionOptions } from './connect.js';
export { detectBackend, npyOf, tensorFromImage, tensorFromNpy, tensorFromRaw } from './files.js';
export { onnxInputs, type OnnxInput } from './onnx-inputs.js';
