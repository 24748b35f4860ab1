import { describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { RespaiClient } from './client.js';

const ai = new RespaiClient(createClient()); // never connected: args() sends nothing

describe('the DAG builder', () => {
  it('header in the reference order, then one |> per op', () => {
    const dag = ai
      .dag({ load: ['a'], persist: ['c'], timeout: 50 })
      .tensorSet('b', new Float32Array([1]))
      .modelExecute('m', { inputs: ['a', 'b'], outputs: ['c'] })
      .scriptExecute('s', 'f', { inputs: ['c', 2], outputs: ['d'] })
      .tensorGet('d');
    expect(dag.args().map((a) => (Buffer.isBuffer(a) ? a.toString('latin1') : a))).toEqual([
      'AI.DAGEXECUTE', 'LOAD', '1', 'a', 'PERSIST', '1', 'c', 'TIMEOUT', '50',
      '|>', 'AI.TENSORSET', 'b', 'FLOAT', '1', 'BLOB', '\0\0\x80?',
      '|>', 'AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c',
      '|>', 'AI.SCRIPTEXECUTE', 's', 'f', 'INPUTS', '2', 'c', '2', 'OUTPUTS', '1', 'd',
      '|>', 'AI.TENSORGET', 'd', 'META', 'BLOB',
    ]);
    expect(dag.routingKey()).toBe('a');
  });

  it('ROUTING: as given, else the first model or script key when nothing else names a key', () => {
    expect(ai.dag({ routing: 'r', load: ['a'] }).args().slice(0, 6)).toEqual(['AI.DAGEXECUTE', 'LOAD', '1', 'a', 'ROUTING', 'r']);
    const ro = ai.dag({ readOnly: true }).tensorSet('x', [1], { dtype: 'INT8' }).modelExecute('m', { inputs: ['x'], outputs: ['y'] });
    expect(ro.args().slice(0, 3)).toEqual(['AI.DAGEXECUTE_RO', 'ROUTING', 'm']);
    // Nothing to route by: the server's own error tells the user.
    expect(ai.dag().tensorSet('x', [1], { dtype: 'INT8' }).args().slice(0, 2)).toEqual(['AI.DAGEXECUTE', '|>']);
  });
});
