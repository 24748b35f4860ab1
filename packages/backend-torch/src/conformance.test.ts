import { Tensor } from '@respai/core';
import { backendConformance, ifShared, type ModelFixture } from '@respai/core/testing';
import { TorchBackend } from './index.js';
import { PT_MINIMAL, floats, ptMinimal, zip } from './test-helpers.js';
import { torchModelBlob } from './testing.js';

const a = floats([2, 2], [2, 3, 2, 3]);
const fixtures: ModelFixture[] = [
  {
    name: 'add (built here)',
    blob: torchModelBlob('def forward(self, a, b):\n    return a + b\n'),
    inputs: [a, a],
    expected: [floats([2, 2], [4, 6, 4, 6])],
    inputNames: ['a', 'b'],
    outputNames: [''],
    // TorchScript graphs are untyped: INT8 zeros + FLOAT promote to FLOAT.
    wrongDtypeRunsTo: [floats([2, 2], [2, 3, 2, 3])],
  },
  {
    name: 'two outputs (built here)',
    blob: torchModelBlob('def forward(self, x):\n    return x * 2, x.sum()\n'),
    inputs: [a],
    expected: [floats([2, 2], [4, 6, 4, 6]), floats([], [10])],
    inputNames: ['x'],
    outputNames: ['', ''],
    wrongDtypeRunsTo: [Tensor.zeros('INT8', [2, 2]), Tensor.fromValues('INT64', [], [Buffer.from('0')])],
  },
];
fixtures.push(
  ...ifShared('TORCH conformance: pt-minimal.pt', PT_MINIMAL, () => ({
    name: 'pt-minimal.pt',
    blob: ptMinimal(),
    inputs: [a, a],
    expected: [floats([2, 2], [4, 6, 4, 6])],
    inputNames: ['a', 'b'],
    outputNames: [''],
    wrongDtypeRunsTo: [floats([2, 2], [2, 3, 2, 3])],
  })),
);

backendConformance({
  backend: () => new TorchBackend(),
  fixtures: {
    valid: fixtures,
    garbage: [
      Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8]),
      zip({ 'archive/data.pkl': Buffer.from([0x80, 0x02, 0x7d, 0x2e]), 'archive/version': '3\n' }),
    ],
  },
  title: 'TORCH backend conformance',
});
