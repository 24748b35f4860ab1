import { RespaiError } from '@respai/core';
import { describe, expect, it } from 'vitest';
import { parseModelStore } from './model-args.js';

const args = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x));
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (RespaiError.isInstance(e)) return e.message;
    throw e;
  }
  throw new Error('expected a RespaiError');
}

describe('AI.MODELSTORE batching options, as the original checks them', () => {
  it('accepts zeros without BATCHSIZE (what the original\'s AOF rewrite writes)', () => {
    const s = parseModelStore(args('ONNX', 'CPU', 'TAG', 't', 'BATCHSIZE', '0', 'MINBATCHSIZE', '0', 'MINBATCHTIMEOUT', '0', 'BLOB', 'x'));
    expect([s.batchSize, s.minBatchSize, s.minBatchTimeout]).toEqual([0, 0, 0]);
  });
  it('refuses non-zero values without what they need', () => {
    expect(errorOf(() => parseModelStore(args('ONNX', 'CPU', 'MINBATCHSIZE', '2', 'BLOB', 'x')))).toBe('ERR MINBATCHSIZE specified without BATCHSIZE');
    expect(errorOf(() => parseModelStore(args('ONNX', 'CPU', 'BATCHSIZE', '2', 'MINBATCHTIMEOUT', '5', 'BLOB', 'x')))).toBe('ERR MINBATCHTIMEOUT specified without MINBATCHSIZE');
  });
  it('the deprecated AI.MODELSET refuses the keyword itself', () => {
    expect(errorOf(() => parseModelStore(args('ONNX', 'CPU', 'MINBATCHSIZE', '0', 'BLOB', 'x'), true))).toBe('ERR MINBATCHSIZE specified without BATCHSIZE');
  });
});
