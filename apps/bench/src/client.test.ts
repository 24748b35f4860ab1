import { describe, expect, it } from 'vitest';
import { findError, pairs, parseReply, RespError } from './client.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('parseReply', () => {
  it('parses every RESP2 type, nested arrays and null bulks', () => {
    const wire = b('*5\r\n+OK\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n-ERR bad\r\n$0\r\n\r\n');
    const r = parseReply(wire)!;
    expect(r.end).toBe(wire.length);
    const v = r.value as unknown[];
    expect(v.slice(0, 2)).toEqual(['OK', 42]);
    expect((v[2] as Buffer).toString()).toBe('abc');
    expect(v[3]).toBeNull();
    const inner = v[4] as unknown[];
    expect(inner[0]).toBeInstanceOf(RespError);
    expect((inner[0] as RespError).message).toBe('ERR bad');
    expect((inner[1] as Buffer).length).toBe(0);
  });

  it('returns undefined until a reply is whole, fed byte by byte', () => {
    const wire = b('*2\r\n$5\r\nhe\r\nl\r\n:7\r\n');
    for (let n = 0; n < wire.length; n++) expect(parseReply(wire.subarray(0, n))).toBeUndefined();
    const v = parseReply(wire)!.value as unknown[];
    expect((v[0] as Buffer).toString()).toBe('he\r\nl'); // bulk bodies are counted, not scanned
    expect(v[1]).toBe(7);
  });

  it('finds an error nested in a DAG reply; pairs() reads AI.INFO', () => {
    const dag = parseReply(b('*3\r\n+OK\r\n-ERR model failed\r\n$2\r\nNA\r\n'))!.value;
    expect(findError(dag)?.message).toBe('ERR model failed');
    expect(findError(parseReply(b('*1\r\n+OK\r\n'))!.value)).toBeUndefined();
    const info = pairs(parseReply(b('*4\r\n$4\r\nruns\r\n:3\r\n$14\r\navg_batch_size\r\n$3\r\n2.5\r\n'))!.value);
    expect(info.get('runs')).toBe(3);
    expect((info.get('avg_batch_size') as Buffer).toString()).toBe('2.5');
  });
});
