import { describe, expect, it } from 'vitest';
import { keyPlan, planKeys } from './plan.js';

const b = (...a: string[]) => a.map((s) => Buffer.from(s));
const reads = (p: ReturnType<typeof keyPlan>) => Object.fromEntries(p.reads);

describe('keyPlan', () => {
  it('MODELEXECUTE: the model, its inputs, its outputs (write only)', () => {
    const p = keyPlan('ai.modelexecute', b('m{1}', 'INPUTS', '2', 'a{1}', 'b{1}', 'OUTPUTS', '1', 'c{1}', 'TIMEOUT', '5'));
    expect(reads(p)).toEqual({ 'm{1}': 'model', 'a{1}': 'tensor', 'b{1}': 'tensor' });
    expect([...p.writes]).toEqual(['c{1}']);
    expect(planKeys(p)).toEqual(['m{1}', 'a{1}', 'b{1}', 'c{1}']);
  });

  it('an input that is also an output is read', () => {
    const p = keyPlan('ai.modelexecute', b('m', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'x'));
    expect(reads(p)).toEqual({ m: 'model', x: 'tensor' });
    expect([...p.writes]).toEqual(['x']);
  });

  it('malformed counts give a smaller plan (the command parser says what is wrong)', () => {
    expect(reads(keyPlan('ai.modelexecute', b('m', 'INPUTS', 'x', 'a', 'OUTPUTS', '-1', 'c')))).toEqual({ m: 'model' });
    expect(reads(keyPlan('ai.modelexecute', b('m', 'INPUTS', '99', 'a')))).toEqual({ m: 'model' });
  });

  it('MODELRUN without counts; TIMEOUT skipped', () => {
    const p = keyPlan('ai.modelrun', b('m', 'TIMEOUT', '9', 'INPUTS', 'a', 'b', 'OUTPUTS', 'c'));
    expect(reads(p)).toEqual({ m: 'model', a: 'tensor', b: 'tensor' });
    expect([...p.writes]).toEqual(['c']);
  });

  it('SCRIPTEXECUTE: the script, INPUTS and LIST_INPUTS read, OUTPUTS written, KEYS named', () => {
    const p = keyPlan('ai.scriptexecute', b('s{2}', 'fn', 'KEYS', '1', '{2}', 'INPUTS', '1', 'a{2}', 'LIST_INPUTS', '2', 'l1{2}', 'l2{2}', 'ARGS', '1', 'x', 'OUTPUTS', '1', 'o{2}'));
    expect(reads(p)).toEqual({ 's{2}': 'script', 'a{2}': 'tensor', 'l1{2}': 'tensor', 'l2{2}': 'tensor' });
    expect([...p.writes]).toEqual(['o{2}']);
    expect([...p.named]).toEqual(['{2}']);
  });

  it('DAGs: LOAD read, PERSIST written, each op key read, KEYS and ROUTING named', () => {
    const p = keyPlan(
      'ai.dagexecute',
      b('LOAD', '1', 'in', 'PERSIST', '1', 'out', 'ROUTING', 'r', '|>', 'AI.MODELEXECUTE', 'm', 'INPUTS', '1', 'in', 'OUTPUTS', '1', 'mid',
        '|>', 'AI.SCRIPTEXECUTE', 's', 'f', 'KEYS', '1', 'k', 'INPUTS', '1', 'mid', 'OUTPUTS', '1', 'out', '|>', 'AI.TENSORGET', 'out'),
    );
    expect(reads(p)).toEqual({ in: 'tensor', m: 'model', s: 'script' });
    expect([...p.writes]).toEqual(['out']);
    expect([...p.named].sort()).toEqual(['k', 'r']);
  });

  it('tensors', () => {
    expect(reads(keyPlan('ai.tensorget', b('t', 'META')))).toEqual({ t: 'tensor' });
    expect([...keyPlan('ai.tensorset', b('t', 'FLOAT', '1', 'VALUES', '1')).writes]).toEqual(['t']);
    expect(planKeys(keyPlan('ai.tensorget', []))).toEqual([]);
  });
});
