import { readFileSync } from 'node:fs';
import { addFixture, backendConformance, ensureBuilt, floats, ifShared, packageDir, sharedPath, tensor, type ModelFixture } from '@respai/core/testing';
import { createOnnxBackend } from './index.js';
import { OnnxType, binaryModel, identityModel } from './testing/onnx-writer.js';

// The suite every respai backend passes, on models this package writes (and the shared ones when present).
const add = addFixture('Add (FLOAT, dynamic batch)', binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]));
const mul: ModelFixture = {
  name: 'Mul (INT64)',
  blob: binaryModel('Mul', OnnxType.INT64, [3], [3], [3]),
  inputs: [tensor('INT64', [3], [2n, -3n, 9007199254740993n]), tensor('INT64', [3], [5n, 7n, 1n])],
  expected: [tensor('INT64', [3], [10n, -21n, 9007199254740993n])],
  inputDtypes: ['INT64', 'INT64'],
};
const strings: ModelFixture = {
  name: 'Identity (STRING)',
  blob: identityModel(OnnxType.STRING, ['N']),
  inputs: [tensor('STRING', [3], ['hé', '', 'three'])],
  expected: [tensor('STRING', [3], ['hé', '', 'three'])],
  inputNames: ['x'],
  outputNames: ['y'],
};
const iris: ModelFixture[] = ifShared('ONNX conformance: linear_iris.onnx', ['models/linear_iris.onnx'], () => ({
  name: 'linear_iris.onnx',
  blob: readFileSync(sharedPath('models/linear_iris.onnx')),
  inputs: [floats([1, 4], [5.1, 3.5, 1.4, 0.2])],
  expected: [floats([1, 1], [-0.090524077415466309])],
  inputNames: ['float_input'],
  outputNames: ['variable'],
  tolerance: { atol: 1e-6 },
}));

backendConformance({
  title: 'ONNX backend conformance',
  backend: () => {
    ensureBuilt(packageDir('backend-onnx'));
    return createOnnxBackend();
  },
  settings: { threadsPerQueue: 2, intraOpParallelism: 1 },
  fixtures: {
    valid: [add, mul, strings, ...iris],
    garbage: ifShared('ONNX conformance: graph.pb (a TF GraphDef) as garbage', ['models/graph.pb'], () => readFileSync(sharedPath('models/graph.pb'))),
  },
  timeoutMs: 20_000,
});
