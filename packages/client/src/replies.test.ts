import { describe, expect, it } from 'vitest';
import { parseModelGet, parseRunInfo, parseVersions } from './client.js';
import { RespaiError } from './errors.js';
import { blobOf, pairs, status, tensorReply } from './replies.js';

const b = (s: string) => Buffer.from(s);

describe('reply parsing', () => {
  it('tensor replies, with the fields as Buffers (node-redis) or strings', () => {
    const blob = Buffer.from(new Float32Array([1, 2]).buffer);
    expect(tensorReply([b('dtype'), b('FLOAT'), b('shape'), [1, 2], b('blob'), blob])).toEqual({ dtype: 'FLOAT', shape: [1, 2], data: new Float32Array([1, 2]) });
    expect(tensorReply(['dtype', 'UINT8', 'shape', [2], 'blob', Buffer.from([7, 8])]).data).toEqual(new Uint8Array([7, 8]));
    expect(() => tensorReply(['dtype', 'UINT32', 'shape', [1], 'blob', Buffer.alloc(4)])).toThrow('the server sent an unknown dtype UINT32');
    expect(() => tensorReply(['dtype', 'FLOAT', 'shape', [1]])).toThrow("the reply has no 'blob' field");
  });

  it('MODELGET: settings, the blob joined from chunks', () => {
    const r = [
      b('backend'), b('TF'), b('device'), b('CPU'), b('tag'), b('v1'), b('batchsize'), 4, b('minbatchsize'), 2,
      b('inputs'), [b('a'), b('b')], b('outputs'), [b('c')], b('minbatchtimeout'), 7, b('blob'), [b('ab'), b('cd'), b('e')],
    ];
    expect(parseModelGet(r)).toEqual({
      backend: 'TF', device: 'CPU', tag: 'v1', batchSize: 4, minBatchSize: 2, minBatchTimeout: 7, inputs: ['a', 'b'], outputs: ['c'], blob: b('abcde'),
    });
    expect(blobOf(b('xyz'))).toEqual(b('xyz'));
  });

  it('AI.INFO: RESP2 sends the average as a string, RESP3 as a double; batch sizes as a map', () => {
    const base = ['key', 'm', 'type', 'MODEL', 'backend', 'ONNX', 'device', 'CPU', 'tag', '', 'duration', 10, 'samples', 6, 'calls', 3, 'errors', 0, 'runs', 2];
    expect(parseRunInfo([...base, 'avg_batch_size', b('1.5'), 'batch_sizes', [1, 1, 2, 1]])).toMatchObject({ runs: 2, avgBatchSize: 1.5, batchSizes: new Map([[1, 1], [2, 1]]) });
    expect(parseRunInfo([...base, 'avg_batch_size', 1.5, 'batch_sizes', []]).avgBatchSize).toBe(1.5);
    // A script, and the original engine: no respai additions.
    expect(parseRunInfo(base.slice(0, 18))).toEqual({ key: 'm', type: 'MODEL', backend: 'ONNX', device: 'CPU', tag: '', duration: 10, samples: 6, calls: 3, errors: 0 });
  });

  it('status: OK as string or Buffer; TIMEDOUT is a RespaiError', () => {
    expect(status('OK', 'X')).toBe('OK');
    expect(status(b('OK'), 'X')).toBe('OK');
    const e = (() => {
      try {
        status(b('TIMEDOUT'), 'AI.MODELEXECUTE');
      } catch (x) {
        return x;
      }
    })();
    expect(RespaiError.isInstance(e) && e.timedOut && e.command).toBe('AI.MODELEXECUTE');
    expect(() => status(3, 'X')).toThrow('X: expected OK, got number');
  });

  it('AI.INFO versions keep their labels; integers become text', () => {
    expect(parseVersions([b('Version'), b('1.2.7'), b('RDB Encoding version'), 4])).toEqual({ Version: '1.2.7', 'RDB Encoding version': '4' });
  });

  it('pairs lower-cases the names', () => {
    expect([...pairs([b('Version'), b('1')]).keys()]).toEqual(['version']);
  });
});
