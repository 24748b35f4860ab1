import net from 'node:net';
import { encodeCommand, type Arg } from './loadgen/index.js';

/**
 * A minimal RESP2 client for set-up and checks (reading AI.INFO, checking a DAG's reply), never
 * for measuring: the load generator only counts replies, this one parses them. Error replies are
 * values (`RespError`), so an error nested in a DAG's array reply stays visible.
 */

export class RespError {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | Buffer | null | RespError | RespValue[];

/**
 * Parses one reply at `buf[pos]`; undefined when the buffer does not hold a whole reply yet.
 * Bulk strings come back as Buffers (copies), integers as numbers, simple strings as strings.
 */
export function parseReply(buf: Buffer, pos = 0): { value: RespValue; end: number } | undefined {
  if (pos >= buf.length) return undefined;
  const lf = buf.indexOf(10, pos);
  if (lf === -1) return undefined;
  const line = buf.toString('latin1', pos + 1, buf[lf - 1] === 13 ? lf - 1 : lf);
  const next = lf + 1;
  switch (buf[pos]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RespError(buf.toString('utf8', pos + 1, lf - 1)), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: Buffer.from(buf.subarray(next, next + n)), end: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at);
        if (r === undefined) return undefined;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`RESP: unexpected reply type byte 0x${buf[pos]!.toString(16)}`);
  }
}

/** The first error in a reply, however deep (a DAG reports a failed op inline). */
export function findError(v: RespValue): RespError | undefined {
  if (v instanceof RespError) return v;
  if (Array.isArray(v)) {
    for (const x of v) {
      const e = findError(x);
      if (e) return e;
    }
  }
  return undefined;
}

/** A flat [name, value, name, value, ...] reply (AI.INFO key) as a map with string keys. */
export function pairs(v: RespValue): Map<string, RespValue> {
  const m = new Map<string, RespValue>();
  if (!Array.isArray(v)) return m;
  for (let i = 0; i + 1 < v.length; i += 2) {
    const k = v[i]!;
    m.set(Buffer.isBuffer(k) ? k.toString('latin1') : String(k), v[i + 1]!);
  }
  return m;
}

/** One connection; commands are answered in order. */
export class Client {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (v: RespValue) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      for (;;) {
        let r: ReturnType<typeof parseReply>;
        try {
          r = parseReply(this.buf);
        } catch (e) {
          this.failAll(e as Error);
          return;
        }
        if (r === undefined) break;
        this.buf = this.buf.subarray(r.end);
        this.waiting.shift()?.resolve(r.value);
      }
    });
    socket.on('error', (e) => this.failAll(e));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host, noDelay: true });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new Client(s));
      });
      s.once('error', reject);
    });
  }

  /** Sends one command; resolves with its reply, an error reply included (as a RespError). */
  call(args: readonly Arg[]): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Like `call`, but an error reply (top level or nested) rejects, naming the command. */
  async ok(args: readonly Arg[]): Promise<RespValue> {
    const v = await this.call(args);
    const e = findError(v);
    if (e) throw new Error(`${String(args[0])} ${typeof args[1] === 'string' ? args[1] : ''}: ${e.message}`);
    return v;
  }

  close(): void {
    this.socket.destroy();
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(e);
  }
}

/** One command on a fresh connection. */
export async function call(port: number, args: readonly Arg[]): Promise<RespValue> {
  const c = await Client.connect(port);
  try {
    return await c.call(args);
  } finally {
    c.close();
  }
}

/** Float32 view of a TENSORGET BLOB reply (copied, so alignment never matters). */
export function floats(v: RespValue): Float32Array {
  if (!Buffer.isBuffer(v)) throw new Error('expected a bulk string (a tensor blob)');
  const copy = new Uint8Array(v);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.length / 4));
}
