import { createConnection, type Socket } from 'node:net';

export type Arg = string | number | Buffer;

/** A RESP multibulk request, as clients send them. */
export function encode(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Where the reply starting at `pos` ends (exclusive), or -1 when `buf` does not hold all of it yet.
 * RESP2 and RESP3 types; attributes and pushes are counted as aggregates.
 */
export function replyEnd(buf: Buffer, pos: number): number {
  const lf = buf.indexOf(10, pos);
  if (lf < 0) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, lf - 1);
  let end = lf + 1;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return end;
    case '$': case '=': case '!': {
      const n = Number(line);
      if (n < 0) return end;
      return buf.length >= end + n + 2 ? end + n + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(line);
      if (n < 0) return end;
      if (type === '%' || type === '|') n *= 2;
      for (let i = 0; i < n; i++) {
        end = replyEnd(buf, end);
        if (end < 0) return -1;
      }
      return type === '|' ? replyEnd(buf, end) : end;
    }
    default:
      throw new Error(`bad reply type ${JSON.stringify(type)} at ${pos}: ${buf.toString('latin1', pos, pos + 40)}`);
  }
}

/**
 * One connection that returns every reply as its raw bytes (latin1 text), so two servers can be
 * compared byte for byte. Replies come back in request order.
 */
export class RawClient {
  private buf = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: string) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      for (;;) {
        if (this.buf.length === 0 || this.waiting.length === 0) break;
        const end = replyEnd(this.buf, 0);
        if (end < 0) break;
        const r = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(end);
        this.waiting.shift()!.resolve(r);
      }
    });
    const fail = () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.reject(new Error('connection closed'));
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  call(...args: Arg[]): Promise<string> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(encode(args));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
