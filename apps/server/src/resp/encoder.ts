import { formatDouble } from './format.js';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NilArray,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from './reply.js';

/** Buffer bulks at least this large are queued by reference instead of copied. */
export const BIG_BULK = 16 * 1024;
const SCRATCH_SIZE = 64 * 1024;
const MAX_HEADER = 24; // type byte + int64 digits + CRLF, rounded up
const SHORT = 64; // strings up to this length take the JS ASCII path

const INT64_MIN = -9223372036854775808;
const INT64_LIMIT = 9223372036854775808; // 2^63, the first double above INT64_MAX

/**
 * Encodes replies for one connection. Small replies are written into a scratch buffer; what
 * take() hands out is a view of the scratch that is never written again, and later replies go
 * on after it, so there is neither a copy nor an allocation per reply. A fresh scratch is
 * allocated only when the current one is full.
 */
export class ReplyWriter {
  proto: 2 | 3;

  private buf: Buffer = Buffer.allocUnsafe(0);
  private start = 0; // first byte of buf not yet sealed into `chunks`
  private pos = 0; // write position in buf
  private chunks: Buffer[] = [];
  private sealed = 0; // bytes in `chunks`

  constructor(proto: 2 | 3) {
    this.proto = proto;
  }

  get size(): number {
    return this.sealed + this.pos - this.start;
  }

  /** Appends a reply. Throws (leaving nothing of it behind) on a value that is not a Reply. */
  write(reply: Reply): void {
    const { buf, start, pos, sealed } = this;
    const nChunks = this.chunks.length;
    try {
      this.encode(reply);
    } catch (e) {
      // The old scratch's bytes after `pos` were never handed out, so they are free again.
      this.buf = buf;
      this.start = start;
      this.pos = pos;
      this.sealed = sealed;
      this.chunks.length = nChunks;
      throw e;
    }
  }

  /** The encoded bytes since the last take(); the caller owns them from now on. */
  take(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    this.sealed = 0;
    return out;
  }

  private encode(r: Reply): void {
    const resp3 = this.proto === 3;
    if (r === null) {
      this.raw(resp3 ? '_\r\n' : '$-1\r\n');
    } else if (typeof r === 'number') {
      this.integer(r);
    } else if (typeof r === 'string') {
      this.bulkString(r);
    } else if (r instanceof Uint8Array) {
      this.bulkBytes(r);
    } else if (Array.isArray(r)) {
      const items = r as readonly Reply[];
      this.header(0x2a, items.length);
      for (const item of items) this.encode(item);
    } else if (typeof r === 'bigint') {
      this.raw(`:${r}\r\n`);
    } else if (r instanceof SimpleString) {
      this.line(0x2b, r.value);
    } else if (r instanceof ErrorReply) {
      this.line(0x2d, r.text);
    } else if (r instanceof DoubleReply) {
      const s = formatDouble(r.value);
      if (resp3) this.raw(`,${s}\r\n`);
      else this.bulkString(s);
    } else if (r instanceof MapReply) {
      const entries = r.entries;
      if (resp3) this.header(0x25, entries.length);
      else this.header(0x2a, entries.length * 2);
      for (const [k, v] of entries) {
        this.encode(k);
        this.encode(v);
      }
    } else if (r instanceof SetReply) {
      this.header(resp3 ? 0x7e : 0x2a, r.items.length);
      for (const item of r.items) this.encode(item);
    } else if (r instanceof VerbatimReply) {
      if (resp3) {
        const fmtLen = Buffer.byteLength(r.format, 'utf8');
        const textLen = Buffer.byteLength(r.text, 'utf8');
        this.header(0x3d, fmtLen + 1 + textLen);
        this.ensure(fmtLen + 1 + textLen + 2);
        this.pos += this.buf.write(r.format, this.pos, 'utf8');
        this.buf[this.pos++] = 0x3a;
        this.pos += this.buf.write(r.text, this.pos, 'utf8');
        this.crlf();
      } else {
        this.bulkString(r.text);
      }
    } else if (r instanceof BoolReply) {
      if (resp3) this.raw(r.value ? '#t\r\n' : '#f\r\n');
      else this.raw(r.value ? ':1\r\n' : ':0\r\n');
    } else if (r instanceof NilArray) {
      this.raw(resp3 ? '_\r\n' : '*-1\r\n');
    } else {
      throw new TypeError(`not a reply: ${describe(r)}`);
    }
  }

  private integer(n: number): void {
    if (!Number.isInteger(n) || n < INT64_MIN || n >= INT64_LIMIT) {
      throw new TypeError(`integer reply is not a 64-bit integer: ${n}`);
    }
    if (Number.isSafeInteger(n)) {
      this.header(0x3a, n);
    } else {
      // String() would print the shortest round-trip digits padded with zeros, not the value.
      this.raw(`:${BigInt(n)}\r\n`);
    }
  }

  private bulkString(s: string): void {
    if (s.length <= SHORT && this.shortAscii(s, true)) return;
    const len = Buffer.byteLength(s, 'utf8');
    this.header(0x24, len);
    this.ensure(len + 2);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    this.crlf();
  }

  /**
   * Writes a short string as a bulk (`bulk`) or as the text of a simple line, if it is ASCII:
   * a JS loop beats the native UTF-8 calls at this size. False, with nothing written, otherwise.
   */
  private shortAscii(s: string, bulk: boolean): boolean {
    const n = s.length;
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return false;
    if (bulk) this.header(0x24, n);
    this.ensure(n + 2);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      b[p++] = !bulk && (c === 0x0d || c === 0x0a) ? 0x20 : c;
    }
    b[p++] = 0x0d;
    b[p++] = 0x0a;
    this.pos = p;
    return true;
  }

  private bulkBytes(b: Uint8Array): void {
    this.header(0x24, b.length);
    if (b.length >= BIG_BULK) {
      this.seal();
      const chunk = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
      this.chunks.push(chunk);
      this.sealed += chunk.length;
      this.ensure(2);
    } else {
      this.ensure(b.length + 2);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
    this.crlf();
  }

  /** `<type><text>\r\n` for simple strings and errors: CR and LF would break the framing. */
  private line(type: number, text: string): void {
    this.ensure(1);
    this.buf[this.pos++] = type;
    if (text.length <= SHORT && this.shortAscii(text, false)) return;
    if (text.includes('\r') || text.includes('\n')) text = text.replace(/[\r\n]/g, ' ');
    const len = Buffer.byteLength(text, 'utf8');
    this.ensure(len + 2);
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.crlf();
  }

  /** `<type><n>\r\n` for a safe integer n. */
  private header(type: number, n: number): void {
    this.ensure(MAX_HEADER);
    const b = this.buf;
    let p = this.pos;
    b[p++] = type;
    if (n < 0) {
      b[p++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    for (let i = p + digits - 1; i >= p; i--) {
      b[i] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
    p += digits;
    b[p++] = 0x0d;
    b[p++] = 0x0a;
    this.pos = p;
  }

  /** A short ASCII string written as is. */
  private raw(s: string): void {
    const n = s.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private crlf(): void {
    this.buf[this.pos++] = 0x0d;
    this.buf[this.pos++] = 0x0a;
  }

  private ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.seal();
    this.buf = Buffer.allocUnsafe(Math.max(SCRATCH_SIZE, n));
    this.start = 0;
    this.pos = 0;
  }

  private seal(): void {
    if (this.pos === this.start) return;
    this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.sealed += this.pos - this.start;
    this.start = this.pos;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
