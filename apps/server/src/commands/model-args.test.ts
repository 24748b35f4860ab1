import { describe, expect, it } from 'vitest';
import { errorOf } from './test-helpers.js';
import { parseModelExecute, parseModelRun, parseModelStore } from './model-args.js';

const args = (line: string): Buffer[] => (line === '' ? [] : line.split(' ').map((x) => Buffer.from(x, 'latin1')));

describe('AI.MODELSTORE arguments', () => {
  it('options, TF names with counts, blob chunks concatenated; the device as written', () => {
    const s = parseModelStore(args('TF cpu:01 TAG t BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 7 INPUTS 2 a b OUTPUTS 1 c BLOB xy z'));
    expect(s).toMatchObject({ backend: 'TF', batchSize: 4, minBatchSize: 2, minBatchTimeout: 7, inputs: ['a', 'b'], outputs: ['c'] });
    expect(s.device).toEqual({ type: 'CPU', index: 1, name: 'CPU:1', written: 'cpu:01' });
    expect(s.tag.toString()).toBe('t');
    expect(s.blob.toString()).toBe('xyz');
    // MINBATCHSIZE 0 needs no BATCHSIZE (the original checks the value, after reading it).
    expect(parseModelStore(args('ONNX CPU MINBATCHSIZE 0 BLOB x'))).toMatchObject({ minBatchSize: 0 });
  });

  it.each([
    ['PORCH CPU BLOB x', 'ERR unsupported backend'],
    ['ONNX TPU BLOB x', 'ERR Invalid DEVICE'],
    ['ONNX CPU:123456 BLOB x', 'ERR Invalid DEVICE'],
    ['ONNX CPU BATCHSIZE x BLOB m', 'ERR Invalid argument for BATCHSIZE'],
    ['ONNX CPU MINBATCHSIZE x BLOB m', 'ERR Invalid argument for MINBATCHSIZE'],
    ['ONNX CPU MINBATCHSIZE 2 BLOB m', 'ERR MINBATCHSIZE specified without BATCHSIZE'],
    ['ONNX CPU BATCHSIZE 2 MINBATCHTIMEOUT x BLOB m', 'ERR Invalid argument for MINBATCHTIMEOUT'],
    ['ONNX CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB m', 'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE'],
    ['ONNX CPU TAG', 'ERR Insufficient arguments, missing model BLOB'],
    ['ONNX CPU INPUTS 1 a BLOB m', 'ERR INPUTS argument should not be specified for this backend'],
    ['ONNX CPU NOT_BLOB m', 'ERR Invalid argument, expected BLOB'],
    ['ONNX CPU BLOB', 'ERR Insufficient arguments, missing model BLOB'],
    ['TF CPU BLOB m', 'ERR INPUTS not specified for TF'],
    ['TF CPU INPUTS bad_count BLOB m', 'ERR Invalid argument for input_count'],
    ['TF CPU INPUTS 0 OUTPUTS 1 c BLOB m', 'ERR Invalid argument for input_count'],
    ['TF CPU INPUTS 2 a', 'ERR number of model inputs does not match the number of given arguments'],
    ['TF CPU INPUTS 2 a b', 'ERR OUTPUTS not specified for TF'],
    ['TF CPU INPUTS 2 a b OUTPUTS bad_count', 'ERR Invalid argument for output_count'],
    ['TF CPU INPUTS 2 a b OUTPUTS 1', 'ERR number of model outputs does not match the number of given arguments'],
    ['TF CPU INPUTS 2 a b OUTPUTS 1 mul', 'ERR Invalid argument, expected BLOB'],
    ['TF CPU INPUTS 2 a b OUTPUTS 1 mul NOTBLOB m', 'ERR Invalid argument, expected BLOB'],
  ])('%s -> %s', (line, text) => {
    expect(errorOf(() => parseModelStore(args(line)))).toBe(text);
  });
});

describe('AI.MODELSET arguments (deprecated)', () => {
  it('TF names without counts; everything from BLOB on is the blob', () => {
    expect(parseModelStore(args('TF CPU TAG t INPUTS a b OUTPUTS c BLOB x y'), true)).toMatchObject({ inputs: ['a', 'b'], outputs: ['c'] });
  });

  it.each([
    ['TORCH BLOB m', 'ERR Invalid DEVICE'],
    ['TORCH CPU', 'ERR Insufficient arguments, missing model BLOB'],
    ['TORCH CPU MINBATCHSIZE 2 BLOB m', 'ERR MINBATCHSIZE specified without BATCHSIZE'],
    ['TORCH CPU MINBATCHSIZE x BLOB m', 'ERR MINBATCHSIZE specified without BATCHSIZE'],
    ['TORCH CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB m', 'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE'],
    ['TORCH CPU MINBATCHTIMEOUT 5 BLOB m', 'ERR MINBATCHTIMEOUT specified without BATCHSIZE'],
    ['TORCH CPU BATCHSIZE 2 NOT_BLOB', 'ERR Insufficient arguments, missing model BLOB'],
    ['TORCH CPU BATCHSIZE 2 BLOB', 'ERR Insufficient arguments, missing model BLOB'],
    ['TORCH CPU JUNK BLOB m', 'ERR Invalid argument, expected BLOB'],
    ['TF CPU BLOB m', 'ERR Insufficient arguments, INPUTS and OUTPUTS not specified'],
    ['TF CPU not_inputs BLOB m', 'ERR INPUTS not specified'],
    ['TF CPU INPUTS a b', 'ERR OUTPUTS not specified'],
    ['TF CPU INPUTS a b OUTPUTS mul', 'ERR Insufficient arguments, missing model BLOB'],
  ])('%s -> %s', (line, text) => {
    expect(errorOf(() => parseModelStore(args(line), true))).toBe(text);
  });
});

describe('AI.MODELEXECUTE and AI.MODELRUN arguments', () => {
  const model = { inputs: 2, outputs: 1 };
  it.each([
    ['INPUTS x a b OUTPUTS 1 c', 'ERR Invalid argument for input_count'],
    ['INPUTS 0 OUTPUTS 1 c', 'ERR Input count must be a positive integer'],
    ['INPUTS 1 a OUTPUTS 1 c', 'Number of keys given as INPUTS here does not match model definition'],
    ['INPUTS 2 a b NOT_OUTPUTS 1 c', 'ERR OUTPUTS not specified'],
    ['INPUTS 2 a b OUTPUTS x c', 'ERR Invalid argument for output_count'],
    ['INPUTS 2 a b OUTPUTS 0', 'ERR Output count must be a positive integer'],
    ['INPUTS 2 a b OUTPUTS 1', 'ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments'],
    ['INPUTS 2 a b OUTPUTS 1 c junk', 'Invalid argument: junk'],
    ['INPUTS 2 a b OUTPUTS 1 c TIMEOUT', 'ERR No value provided for TIMEOUT'],
  ])('MODELEXECUTE %s -> %s', (line, text) => {
    expect(errorOf(() => parseModelExecute(args(line), model))).toBe(text);
  });

  it('MODELRUN: after OUTPUTS every word is an output; a missing OUTPUTS is an output count that does not match', () => {
    expect(parseModelRun(args('TIMEOUT 5 INPUTS a b OUTPUTS c'), model)).toEqual({ inputs: ['a', 'b'], outputs: ['c'], timeoutMs: 5 });
    expect(errorOf(() => parseModelRun(args('INPUTS a b OUTPUTS c OUTPUTS'), model))).toBe('Number of keys given as OUTPUTS here does not match model definition');
    expect(errorOf(() => parseModelRun(args('INPUTS a b'), model))).toBe('Number of keys given as OUTPUTS here does not match model definition');
    expect(errorOf(() => parseModelRun(args('a b OUTPUTS c'), model))).toBe('ERR INPUTS not specified');
  });
});
