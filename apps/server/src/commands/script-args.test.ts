import { describe, expect, it } from 'vitest';
import { errorOf } from './test-helpers.js';
import { parseScriptExecute, parseScriptRun } from './script-args.js';

const args = (line: string): Buffer[] => (line === '' ? [] : line.split(' ').map((x) => Buffer.from(x, 'latin1')));
const exec = (line: string, inDag = false) => parseScriptExecute(args(line), { inDag });

describe('AI.SCRIPTEXECUTE arguments', () => {
  it('every section, in any order after the first; LIST_INPUTS keeps its place among the inputs', () => {
    expect(exec('s f KEYS 2 k1 k2 INPUTS 2 a b LIST_INPUTS 2 c d ARGS 1 3 OUTPUTS 1 o TIMEOUT 50')).toEqual({
      key: 's', fn: 'f', keys: ['k1', 'k2'], inputs: [{ value: 'a' }, { value: 'b' }, { list: ['c', 'd'] }], args: ['3'], outputs: ['o'], timeoutMs: 50,
    });
    expect(exec('s f INPUTS 1 a OUTPUTS 1 o ARGS 1 x KEYS 1 k')).toMatchObject({ keys: ['k'], args: ['x'], outputs: ['o'] });
    expect(exec('s f INPUTS 0')).toMatchObject({ inputs: [] });
  });

  it("inside a DAG: KEYS may come anywhere (redisai-py sends it), TIMEOUT is refused once the op parsed", () => {
    expect(exec('s f INPUTS 1 a KEYS 1 {1} OUTPUTS 1 o', true)).toMatchObject({ keys: ['{1}'], outputs: ['o'] });
    expect(exec('s f OUTPUTS 1 o', true)).toMatchObject({ outputs: ['o'] });
    expect(errorOf(() => exec('s f INPUTS 1 a TIMEOUT 5', true))).toBe('ERR TIMEOUT not allowed within a DAG command');
    expect(errorOf(() => exec('s f INPUTS 1 a TIMEOUT x', true))).toBe('ERR Invalid value for TIMEOUT');
  });

  it.each([
    ['s', "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command"],
    ['s f', 'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command'],
    ['s f OUTPUTS 1 o', 'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command'],
    ['s f JUNK', 'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command'],
    ['s f KEYS 1', 'ERR Missing arguments after KEYS keyword'],
    ['s f KEYS x k', 'ERR Invalid or negative value found in number of KEYS'],
    ['s f KEYS 0 k', 'ERR Invalid or negative value found in number of KEYS'],
    ['s f KEYS 3 k j', 'ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments'],
    ['s f KEYS 1 {1} ARGS', 'ERR Invalid arguments provided to AI.SCRIPTEXECUTE'],
    ['s f INPUTS OUTPUTS', 'ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE'],
    ['s f INPUTS', 'ERR Invalid arguments provided to AI.SCRIPTEXECUTE'],
    ['s f INPUTS 2 a', 'ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments'],
    ['s f INPUTS -1 a', 'ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments'],
    ['s f INPUTS 1 a ARGS x', 'ERR Invalid argument for keys count in AI.SCRIPTEXECUTE'],
    ['s f INPUTS 1 a ARGS 2 x', 'ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments'],
    ['s f INPUTS 1 a OUTPUTS x', 'ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE'],
    ['s f INPUTS 1 a OUTPUTS 2 o', 'ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments'],
    ['s f INPUTS 1 a INPUTS 1 b', 'ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command'],
    ['s f KEYS 1 k INPUTS 1 a KEYS 1 k', 'ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command'],
    ['s f INPUTS 1 a ARGS 1 x ARGS 1 y', 'ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command'],
    ['s f INPUTS 1 a OUTPUTS 1 o OUTPUTS 1 p', 'ERR Already Encountered OUTPUTS scope in AI.SCRIPTEXECUTE command'],
    ['s f INPUTS 1 a TIMEOUT', 'ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE'],
    ['s f INPUTS 1 a TIMEOUT TIMEOUT', 'ERR Invalid value for TIMEOUT'],
    ['s f INPUTS 1 a TIMEOUT 0', 'ERR Invalid value for TIMEOUT'],
    ['s f INPUTS 1 a TIMEOUT 5 OUTPUTS 1 o', 'ERR Encountered problem parsing AI.SCRIPTEXECUTE'],
    ['s f INPUTS 1 a nope', 'ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: nope'],
  ])('%s -> %s', (line, text) => {
    expect(errorOf(() => exec(line))).toBe(text);
  });

  it('an unexpected argument is quoted up to 128 bytes', () => {
    const a = [...args('s f INPUTS 1 a'), Buffer.alloc(100_000, 0x41)];
    expect(errorOf(() => parseScriptExecute(a, { inDag: false }))).toBe(`ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${'A'.repeat(128)}`);
  });
});

describe('AI.SCRIPTRUN arguments (deprecated)', () => {
  it('inputs, the $ list after them, outputs, TIMEOUT anywhere; none of the sections required', () => {
    expect(parseScriptRun(args('s f TIMEOUT 9 INPUTS a $ b c OUTPUTS o'))).toEqual({
      key: 's', fn: 'f', keys: [], inputs: [{ value: 'a' }, { list: ['b', 'c'] }], args: [], outputs: ['o'], timeoutMs: 9,
    });
    expect(parseScriptRun(args('s f INPUTS a OUTPUTS o TIMEOUT 9'))).toMatchObject({ outputs: ['o'], timeoutMs: 9 });
    expect(parseScriptRun(args('s f OUTPUTS o'))).toMatchObject({ inputs: [], outputs: ['o'] });
  });

  it.each([
    ['s', "ERR wrong number of arguments for 'AI.SCRIPTRUN' command"],
    ['s f INPUTS $ a $ b', 'ERR Already encountered a variable size list of tensors'],
    ['s f $ a', 'ERR Encountered a variable size list of tensors outside of input section'],
    ['s f OUTPUTS o $', 'ERR Encountered a variable size list of tensors outside of input section'],
    ['s f INPUTS a INPUTS b', 'ERR Already encountered an INPUTS keyword in SCRIPTRUN'],
    ['s f INPUTS a OUTPUTS o INPUTS b', 'ERR Already encountered an INPUTS section in SCRIPTRUN'],
    ['s f OUTPUTS o OUTPUTS p', 'ERR Already encountered an OUTPUTS keyword in SCRIPTRUN'],
    ['s f TIMEOUT 5 TIMEOUT 5', 'ERR Already encountered an TIMEOUT section in SCRIPTRUN'],
    ['s f TIMEOUT x INPUTS a', 'ERR Invalid value for TIMEOUT'],
    ['s f a', 'ERR Unrecongnized parameter to SCRIPTRUN'],
  ])('%s -> %s', (line, text) => {
    expect(errorOf(() => parseScriptRun(args(line)))).toBe(text);
  });
});
