import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { CHECKED_IGNORED_ATTRS, EXECUTOR_OPS, HARMLESS_IGNORED_ATTRS, WASM_MISSING_OPS } from './ops.js';

describe('the executor op table', () => {
  it('src/generated/executor-ops.ts and the README op list match the installed tfjs-converter', () => {
    const script = fileURLToPath(new URL('../scripts/gen-ops.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('maps the ops a frozen Keras/MobileNet graph uses', () => {
    for (const op of ['Placeholder', 'Const', 'Identity', 'MatMul', 'BiasAdd', 'Relu', 'Relu6', 'Softmax', 'Conv2D', 'DepthwiseConv2dNative',
      'FusedBatchNormV3', 'AvgPool', 'MaxPool', 'Squeeze', 'Reshape', 'StatelessWhile', 'StatelessIf', 'Switch', 'Merge']) {
      expect(EXECUTOR_OPS[op], op).toBeDefined();
    }
  });

  it('every attr the executor ignores is either harmless or checked at load', () => {
    const uncovered = Object.entries(EXECUTOR_OPS).flatMap(([op, o]) =>
      o.ignoredAttrs.filter((a) => !HARMLESS_IGNORED_ATTRS.has(a) && CHECKED_IGNORED_ATTRS[a] === undefined).map((a) => `${op}.${a}`),
    );
    expect(uncovered).toEqual([]);
  });
});

describe('the wasm backend', () => {
  it('lacks exactly the kernels WASM_MISSING_OPS accounts for (a tfjs upgrade that changes this fails here)', () => {
    const kernels = (b: string) => new Set(tf.getKernelsForBackend(b).map((k) => k.kernelName));
    const wasm = kernels('wasm');
    const missing = [...kernels('cpu')].filter((k) => !wasm.has(k)).sort();
    // Training-only kernels (backprop of filters), Draw (canvas), Ragged* and UnsortedSegmentSum (no
    // mapped TF op uses them) need no entry; the rest map to the TF ops in WASM_MISSING_OPS.
    expect(missing).toEqual([
      'Complex', 'ComplexAbs', 'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput',
      'Draw', 'Einsum', 'FFT', 'IFFT', 'Imag', 'RaggedGather', 'RaggedRange', 'RaggedTensorToTensor', 'Real', 'StaticRegexReplace',
      'UnsortedSegmentSum',
    ]);
    for (const op of ['Complex', 'ComplexAbs', 'Einsum', 'FFT', 'IFFT', 'RFFT', 'IRFFT', 'Imag', 'Real', 'StaticRegexReplace']) {
      expect(WASM_MISSING_OPS.has(op), op).toBe(true);
    }
  });
});
