import { readFileSync } from 'node:fs';
import { addFixture, backendConformance, floats, ifShared, sharedPath, tensor, type ModelFixture } from '@respai/core/testing';
import { createTfliteBackend } from './index.js';
import { ensureTfliteBuilt } from './testing/build.js';
import { TensorType, binaryModel, denseClassifier } from './testing/tflite-writer.js';

// The suite every respai backend passes, on models this package writes (mnist_model_quant.tflite, whose exact scores are unknown, is in backend.test.ts).
const add = addFixture('ADD (FLOAT32)', binaryModel('ADD', TensorType.FLOAT32, [2, 2]));
const mul: ModelFixture = {
  name: 'MUL (INT32)',
  blob: binaryModel('MUL', TensorType.INT32, [3]),
  inputs: [tensor('INT32', [3], [2, -3, 65536]), tensor('INT32', [3], [5, 7, 3])],
  expected: [tensor('INT32', [3], [10, -21, 196608])],
  inputDtypes: ['INT32', 'INT32'],
};
const quantized: ModelFixture = {
  name: 'ADD (UINT8, quantized)',
  blob: binaryModel('ADD', TensorType.UINT8, [4], { scale: 0.5, zeroPoint: 0 }),
  inputs: [tensor('UINT8', [4], [1, 2, 3, 100]), tensor('UINT8', [4], [4, 5, 6, 100])],
  expected: [tensor('UINT8', [4], [5, 7, 9, 200])],
  inputDtypes: ['UINT8', 'UINT8'],
  outputDtypes: ['UINT8'],
};
const dense: ModelFixture = {
  name: 'FULLY_CONNECTED + ARG_MAX (two outputs, FLOAT and INT64)',
  blob: denseClassifier(
    [
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 3],
      [1, 1, 1],
    ],
    [0, 0, 0, -10],
  ),
  inputs: [floats([1, 3], [1, 2, 0.5])],
  expected: [floats([1, 4], [1, 4, 1.5, -6.5]), tensor('INT64', [1], [1n])],
  inputNames: ['x'],
  outputNames: ['scores', 'class'],
  outputDtypes: ['FLOAT', 'INT64'],
};
backendConformance({
  title: 'TFLITE backend conformance',
  backend: () => {
    ensureTfliteBuilt();
    return createTfliteBackend();
  },
  settings: { threadsPerQueue: 2, intraOpParallelism: 1 },
  fixtures: {
    valid: [add, mul, quantized, dense],
    garbage: [
      ...ifShared('TFLITE conformance: graph.pb (a TF GraphDef) as garbage', ['models/graph.pb'], () => readFileSync(sharedPath('models/graph.pb'))),
      // The right identifier in front of bytes that are no flatbuffer.
      Buffer.concat([Buffer.from([16, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(64, 0xab)]),
    ],
  },
  timeoutMs: 20_000,
});
