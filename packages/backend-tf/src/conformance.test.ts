import { readFileSync } from 'node:fs';
import { Tensor } from '@respai/core';
import { backendConformance, ensureBuilt, floats, ifShared, packageDir, sharedPath, type ModelFixture } from '@respai/core/testing';
import { createTfBackend } from './index.js';
import { mlpModel, mulModel } from './testing/models.js';
import { randoms } from './testing/reference.js';

const x = floats([2, 2], [2, 3, 2, 3]);
const mul = (name: string, blob: Buffer): ModelFixture => ({
  name,
  blob,
  inputs: [x, x],
  expected: [floats([2, 2], [4, 9, 4, 9])],
  inputNames: ['a', 'b'],
  outputNames: ['mul'],
  inputDtypes: ['FLOAT', 'FLOAT'],
  outputDtypes: ['FLOAT'],
  loadRequest: { inputs: ['a', 'b'], outputs: ['mul'] },
});

const mlp = mlpModel(32);
const image = randoms(784, 11);
const probs = mlp.reference(image, [1, 28, 28]);

backendConformance({
  backend: () => {
    ensureBuilt(packageDir('backend-tf'));
    return createTfBackend();
  },
  // Two workers per device: each starts its own tfjs (seconds on a busy machine).
  settings: { threadsPerQueue: 2 },
  timeoutMs: 30_000,
  fixtures: {
    valid: [
      mul('a*b written by GraphDefWriter', mulModel()),
      ...ifShared('TF conformance: graph.pb', ['models/graph.pb'], () => mul('graph.pb', readFileSync(sharedPath('models/graph.pb')))),
      {
        name: 'MLP',
        blob: mlp.blob,
        inputs: [Tensor.fromBlob('FLOAT', [1, 28, 28], Buffer.from(image.buffer))],
        expected: [Tensor.fromBlob('FLOAT', [1, 10], Buffer.from(Float32Array.from(probs.data).buffer))],
        inputNames: ['input'],
        outputNames: ['output'],
        loadRequest: { inputs: mlp.inputs, outputs: mlp.outputs },
        tolerance: { atol: 1e-4, rtol: 0 },
      },
    ],
    garbage: [
      // An ONNX ModelProto's start (ir_version, producer_name, graph), a zip, a SavedModel.
      Buffer.from([0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63, 0x68, 0x3a, 0x02, 0x0a, 0x00]),
      Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]),
      Buffer.from([0x08, 0x01, 0x12, 0x02, 0x0a, 0x00]),
    ],
  },
  title: 'TF backend conformance',
});
