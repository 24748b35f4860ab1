import { describe, expect, it } from 'vitest';
import { describeOutput, isScores, topK } from './table.js';

describe('output summaries', () => {
  const scores = { dtype: 'FLOAT', shape: [1, 4], data: new Float32Array([0.1, 0.7, 0.15, 0.05]) } as const;
  it('one row of float scores is a classifier output: top-k, best first', () => {
    expect(isScores(scores)).toBe(true);
    expect(topK(scores, 2)).toEqual([[1, Math.fround(0.7)], [2, Math.fround(0.15)]]);
    expect(describeOutput('probs', scores, 2, 'out/probs.npy')).toBe(
      'probs: FLOAT [1, 4] -> out/probs.npy\n  rank  class   score\n  1     1       0.7\n  2     2       0.15',
    );
  });
  it('anything else: the first ten values', () => {
    const batch = { dtype: 'FLOAT', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } as const;
    expect(isScores(batch)).toBe(false);
    expect(describeOutput('y', { dtype: 'INT64', shape: [12], data: new BigInt64Array(12).fill(3n) }, 5)).toBe(
      'y: INT64 [12]\n  3 3 3 3 3 3 3 3 3 3 ... (12 values)',
    );
    expect(describeOutput('s', { dtype: 'STRING', shape: [1], data: ['a b'] }, 5)).toBe('s: STRING [1]\n  "a b"');
  });
});
