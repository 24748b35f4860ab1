import { describe, expect, it } from 'vitest';
import { RespaiError } from './errors.js';

describe('RespaiError', () => {
  it('carries the text as sent, its prefix, the command and the DAG op', () => {
    const e = new RespaiError('WRONGTYPE Operation against a key holding the wrong kind of value', 'AI.TENSORGET');
    expect([e.message, e.code, e.command, e.op, e.timedOut, e.name]).toEqual([e.text, 'WRONGTYPE', 'AI.TENSORGET', undefined, false, 'RespaiError']);
    expect(new RespaiError('Number of keys given as INPUTS here does not match model definition', 'X').code).toBeUndefined();
    expect(new RespaiError('ERR x', 'AI.DAGEXECUTE', { op: 2 }).op).toBe(2);
    expect(new RespaiError('TIMEDOUT', 'X').timedOut).toBe(true);
  });

  it('isInstance holds across copies of the package (a symbol marker, not the class)', () => {
    const e = new RespaiError('ERR x', 'X');
    expect(RespaiError.isInstance(e)).toBe(true);
    expect(RespaiError.isInstance(Object.assign(new Error('ERR x'), { [Symbol.for('@respai/client.RespaiError')]: true }))).toBe(true);
    expect(RespaiError.isInstance(new Error('ERR x'))).toBe(false);
    expect(RespaiError.isInstance(null)).toBe(false);
  });
});
