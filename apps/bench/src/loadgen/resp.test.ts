import { describe, expect, it } from 'vitest';
import { encodeCommand, ReplyScanner } from './resp.js';

/** Feeds `data` in pieces of `step` bytes; returns replies completed per piece, summed. */
function scan(data: Buffer, step: number, sc = new ReplyScanner()): number {
  let n = 0;
  for (let i = 0; i < data.length; i += step) n += sc.feed(data.subarray(i, i + step));
  return n;
}

const sample = Buffer.from(
  [
    '+OK\r\n',
    ':42\r\n',
    '$5\r\nhello\r\n',
    '$-1\r\n',
    '$0\r\n\r\n',
    '*3\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n$-1\r\n', // nested array
    '*0\r\n',
    '*-1\r\n',
    '-ERR unknown command\r\n',
    '%1\r\n+k\r\n+v\r\n', // RESP3 map
    '_\r\n',
    '$4\r\n\r\n\r\n\r\n', // a bulk body full of CRLFs must not be read as headers
  ].join(''),
);

describe('ReplyScanner', () => {
  it('counts reply boundaries however the stream is chunked', () => {
    for (const step of [1, 2, 3, 7, 16, sample.length]) expect(scan(sample, step)).toBe(12);
  });

  it('counts errors and keeps the first message', () => {
    const sc = new ReplyScanner();
    const data = Buffer.from('+OK\r\n-ERR first\r\n*2\r\n:1\r\n-WRONGTYPE nested\r\n-ERR third\r\n');
    expect(scan(data, 5, sc)).toBe(4);
    expect(sc.errors).toBe(3);
    expect(sc.firstError).toBe('ERR first');
  });

  it('skips multi-MiB bulk bodies spread over many chunks', () => {
    const size = 5 * 1024 * 1024;
    const body = Buffer.alloc(size, 0x0a); // all LFs: any peek into the body would miscount
    const data = Buffer.concat([Buffer.from(`$${size}\r\n`), body, Buffer.from('\r\n:1\r\n')]);
    const sc = new ReplyScanner();
    expect(scan(data, 65536, sc)).toBe(2);
    expect(scan(data, 999_983, sc)).toBe(2); // chunk edges inside the header and the trailing CRLF
    expect(sc.errors).toBe(0);
  });

  it('only reads the given range of a reused buffer', () => {
    const buf = Buffer.from('+OK\r\n+STALE\r\n');
    expect(new ReplyScanner().feed(buf, 0, 5)).toBe(1);
  });

  it('rejects bytes that are not RESP', () => {
    expect(() => new ReplyScanner().feed(Buffer.from('HTTP/1.1 400\r\n'))).toThrow(/unexpected reply type/);
  });
});

describe('encodeCommand', () => {
  it('encodes a multibulk with binary arguments', () => {
    const blob = Buffer.from([0, 13, 10, 255]);
    expect(encodeCommand(['SET', 'k', blob]).toString('latin1')).toBe(
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n\x00\r\n\xff\r\n',
    );
    expect(encodeCommand(['AI.TENSORSET', 'k', 'UINT8', 4]).toString()).toBe(
      '*4\r\n$12\r\nAI.TENSORSET\r\n$1\r\nk\r\n$5\r\nUINT8\r\n$1\r\n4\r\n',
    );
  });
});
