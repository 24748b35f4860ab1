import { addFixture, backendConformance, createMockBackend, floats, mockModelBlob, tensor, type ModelFixture } from '@respai/core/testing';

// The suite against the mock backend: proves the suite runs, and the mock is a conforming backend.
const add = addFixture('add (FLOAT)', mockModelBlob({ op: 'add', dtype: 'FLOAT' }));
const mulInt: ModelFixture = {
  name: 'mul (INT64)',
  blob: mockModelBlob({ op: 'mul', dtype: 'INT64', inputs: ['x', 'y'], outputs: ['z'] }),
  inputs: [tensor('INT64', [3], [2n, -3n, 9007199254740993n]), tensor('INT64', [3], [5n, 7n, 1n])],
  expected: [tensor('INT64', [3], [10n, -21n, 9007199254740993n])],
  inputNames: ['x', 'y'],
  outputNames: ['z'],
};
const slowIdentity: ModelFixture = {
  name: 'sleep 5 ms (two outputs)',
  blob: mockModelBlob({ op: 'sleep', ms: 5, dtype: 'STRING', outputs: ['p', 'q'] }),
  inputs: [tensor('STRING', [2], ['hé', ''])],
  expected: [tensor('STRING', [2], ['hé', '']), tensor('STRING', [2], ['hé', ''])],
  outputNames: ['p', 'q'],
};

backendConformance({
  title: 'mock backend conformance',
  backend: () => createMockBackend({ name: 'ONNX', version: '9.9.9' }),
  fixtures: {
    valid: [add, mulInt, slowIdentity],
    garbage: [Buffer.from('{"op":"nope"}'), Buffer.from('[1,2]'), Buffer.from('{"op":"add","inputs":["only-one"]}'), Buffer.from([0xff, 0xfe, 0x7b])],
  },
  timeoutMs: 2000,
});

// The factory may be async and the settings partial.
backendConformance({
  title: 'mock backend conformance (async factory, 2 threads per queue)',
  backend: async () => createMockBackend({ name: 'TFLITE', loadDelayMs: 1 }),
  settings: { threadsPerQueue: 2 },
  fixtures: { valid: [add] },
  timeoutMs: 2000,
});
