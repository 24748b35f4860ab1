import { E, RespaiError } from '@respai/core';

export interface DecoderLimits {
  /** proto-max-bulk-len: the largest bulk a client may declare. */
  maxBulkLen: number;
  /** PROTO_INLINE_MAX_SIZE: the most bytes an inline request, or a `*`/`$` count line, may take. */
  maxInlineLen?: number;
  /** The largest multibulk count; Redis 7 allows up to INT_MAX. */
  maxMultibulkLen?: number;
}

export const DEFAULT_MAX_INLINE_LEN = 64 * 1024;
export const DEFAULT_MAX_MULTIBULK_LEN = 2147483647;

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

// Parser states: what the bytes at the read position are expected to be.
const IDLE = 0; // the start of a request, type not yet known
const INLINE = 1; // an inline request line
const COUNT = 2; // a `*<n>` line
const HEADER = 3; // a `$<len>` line
const BULK = 4; // bulk payload plus its CRLF

const EMPTY = Buffer.alloc(0);
/** Chunks smaller than this are copied together while data is pending (see push). */
const TINY = 1024;
const SPILL_SIZE = 16 * 1024;

/**
 * Incremental RESP request decoder, faithful to Redis 7's processMultibulkBuffer and
 * processInlineBuffer, including their leniencies: the byte after a line's `\r` and the two
 * bytes after a bulk payload are skipped without being checked.
 *
 * Received chunks are queued by reference (only tiny ones extending pending data are merged):
 * a bulk that lies in one chunk is returned as a view of it, and one spanning chunks is copied
 * once, when its last byte arrives. Memory held is proportional to the bytes received, whatever
 * length a client declares, and no byte is scanned twice while a line is awaited.
 */
export class RespDecoder {
  limits: DecoderLimits;
  /**
   * Redis's authRequired(c): while set, multibulks of more than 10 arguments and bulks over
   * 16 KiB are refused, so an unauthenticated client cannot make the server buffer much.
   * The connection keeps it current (it is read as each length is parsed).
   */
  authRequired = false;

  // Queue of received chunks; q[qi] is read from offset `off`. Consumed slots are cleared so
  // their memory can go; the array is compacted lazily.
  private q: Buffer[] = [];
  private qi = 0;
  private off = 0;
  private avail = 0;
  // Where tiny chunks are coalesced: `tail` is the view of `spill` that is q's last entry.
  private spill: Buffer = EMPTY;
  private spillUsed = 0;
  private tail: Buffer | null = null;

  // Scan cursor for the pending line terminator, so a line arriving a byte at a time is scanned
  // once overall: chunk index, offset to resume from, and the request-relative position of the
  // chunk's byte 0.
  private sc = 0;
  private so = 0;
  private sbase = 0;

  private state = IDLE;
  private remaining = 0; // bulks still expected in the current multibulk
  private bulkLen = 0;
  private args: Buffer[] = [];
  private frameUsed = 0; // bytes already consumed by the request being decoded
  private failed: RespaiError | null = null;

  constructor(limits: DecoderLimits) {
    this.limits = limits;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    this.avail += n;
    const q = this.q;
    // A request arriving whole is queued by reference (zero-copy). Tiny chunks that extend
    // pending data, as a slow trickle sends them, are copied together instead: a Buffer per
    // byte would hold some hundred bytes of overhead for each byte received.
    if (n < TINY && q.length > this.qi) {
      const last = q[q.length - 1]!;
      if (last === this.tail && this.spillUsed + n <= this.spill.length) {
        chunk.copy(this.spill, this.spillUsed);
        this.spillUsed += n;
        q[q.length - 1] = this.tail = this.spill.subarray(0, this.spillUsed);
        return;
      }
      if (last.length < TINY) {
        this.spill = Buffer.allocUnsafeSlow(SPILL_SIZE);
        last.copy(this.spill, 0);
        chunk.copy(this.spill, last.length);
        this.spillUsed = last.length + n;
        q[q.length - 1] = this.tail = this.spill.subarray(0, this.spillUsed);
        return;
      }
    }
    q.push(chunk);
  }

  /** Bytes received but not yet returned as (or skipped with) a complete request. */
  get buffered(): number {
    return this.avail + this.frameUsed;
  }

  next(): Buffer[] | null {
    if (this.failed) throw this.failed;
    for (;;) {
      switch (this.state) {
        case IDLE: {
          if (this.avail === 0) return null;
          this.state = this.q[this.qi]![this.off] === STAR ? COUNT : INLINE;
          this.frameUsed = 0;
          this.resetScan();
          break;
        }

        case INLINE: {
          const nl = this.find(LF);
          if (nl < 0) {
            if (this.avail > this.maxInline()) this.fail('too big inline request');
            return null;
          }
          // Past the limit whatever the reads were: Redis reads 16 KiB at a time, so a line of
          // 80 KiB or more is always held without its newline there and refused.
          if (nl > this.maxInline()) this.fail('too big inline request');
          let line = this.take(nl);
          this.skip(1);
          if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
          const argv = splitArgs(line);
          if (argv === null) this.fail('unbalanced quotes in request');
          this.endFrame();
          if (argv.length > 0) return argv;
          break;
        }

        case COUNT: {
          const cr = this.find(CR);
          if (cr < 0) {
            if (this.avail > this.maxInline()) this.fail('too big mbulk count string');
            return null;
          }
          if (cr + 2 > this.avail) return null; // the byte after `\r` is not here yet
          const n = this.lineInt(cr);
          const max = this.limits.maxMultibulkLen ?? DEFAULT_MAX_MULTIBULK_LEN;
          if (n === null || n > max) this.fail('invalid multibulk length');
          if (n > 10 && this.authRequired) this.fail('unauthenticated multibulk length');
          this.skip(cr + 2);
          if (n <= 0) {
            this.endFrame();
            break;
          }
          this.remaining = n;
          this.state = HEADER;
          break;
        }

        case HEADER: {
          const cr = this.find(CR);
          if (cr < 0) {
            if (this.avail > this.maxInline()) this.fail('too big bulk count string');
            return null;
          }
          if (cr + 2 > this.avail) return null;
          const c = this.q[this.qi]![this.off]!;
          if (c !== DOLLAR) {
            // Redis strips CR/LF from error texts; `%c` of any other byte is the byte itself.
            const ch = c === CR || c === LF ? ' ' : String.fromCharCode(c);
            this.fail(`expected '$', got '${ch}'`);
          }
          const n = this.lineInt(cr);
          if (n === null || n < 0 || n > this.limits.maxBulkLen) this.fail('invalid bulk length');
          if (n > 16384 && this.authRequired) this.fail('unauthenticated bulk length');
          this.skip(cr + 2);
          this.bulkLen = n;
          this.state = BULK;
          break;
        }

        case BULK: {
          if (this.avail < this.bulkLen + 2) return null;
          this.args.push(this.take(this.bulkLen));
          this.skip(2);
          if (--this.remaining > 0) {
            this.state = HEADER;
            break;
          }
          const argv = this.args;
          this.args = [];
          this.endFrame();
          return argv;
        }
      }
    }
  }

  private maxInline(): number {
    return this.limits.maxInlineLen ?? DEFAULT_MAX_INLINE_LEN;
  }

  private fail(what: string): never {
    this.failed = new RespaiError(E.protocol(what));
    throw this.failed;
  }

  private endFrame(): void {
    this.state = IDLE;
    this.frameUsed = 0;
  }

  private resetScan(): void {
    this.sc = this.qi;
    this.so = this.off;
    this.sbase = -this.off;
  }

  /** Position of the first `byte` from the read position, or -1; resumes where it last stopped. */
  private find(byte: number): number {
    const q = this.q;
    if (this.sc >= q.length) return -1;
    for (;;) {
      const c = q[this.sc]!;
      const i = c.indexOf(byte, this.so);
      if (i >= 0) {
        this.so = i;
        return this.sbase + i;
      }
      // The cursor stays on the last chunk, which push() may still extend.
      if (this.sc + 1 === q.length) {
        this.so = c.length;
        return -1;
      }
      this.sbase += c.length;
      this.sc++;
      this.so = 0;
    }
  }

  /** The integer between the line's first byte (`*` or `$`) and its `\r` at `cr`. */
  private lineInt(cr: number): number | null {
    const h = this.q[this.qi]!;
    if (this.off + cr <= h.length) return parseLL(h, this.off + 1, this.off + cr);
    const line = this.peekCopy(cr); // a line split across chunks: rare and short
    return parseLL(line, 1, cr);
  }

  private peekCopy(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let w = 0;
    for (let i = this.qi, o = this.off; w < n; i++, o = 0) {
      const c = this.q[i]!;
      w += c.copy(out, w, o, Math.min(c.length, o + n - w));
    }
    return out;
  }

  /** The next n bytes: a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const h = this.q[this.qi];
    if (h !== undefined && h.length - this.off >= n) {
      const view = h.subarray(this.off, this.off + n);
      this.skip(n);
      return view;
    }
    const out = this.peekCopy(n);
    this.skip(n);
    return out;
  }

  private skip(n: number): void {
    this.avail -= n;
    this.frameUsed += n;
    const q = this.q;
    while (n > 0) {
      const h = q[this.qi]!;
      const left = h.length - this.off;
      if (n < left) {
        this.off += n;
        break;
      }
      n -= left;
      q[this.qi++] = EMPTY;
      this.off = 0;
    }
    if (this.qi === q.length) {
      q.length = 0;
      this.qi = 0;
    } else if (this.qi >= 1024 && this.qi * 2 >= q.length) {
      this.q = q.slice(this.qi);
      this.qi = 0;
    }
    this.resetScan();
  }
}

/** Redis's string2ll: strict decimal (no `+`, spaces or leading zeros, no `-0`), 64-bit range. */
function parseLL(b: Buffer, start: number, end: number): number | null {
  const len = end - start;
  if (len === 0 || len >= 21) return null;
  if (len === 1 && b[start] === 0x30) return 0;
  let p = start;
  const neg = b[p] === 0x2d;
  if (neg && ++p === end) return null;
  const d0 = b[p]! - 0x30;
  if (d0 < 1 || d0 > 9) return null;
  let v = d0;
  for (p++; p < end; p++) {
    const d = b[p]! - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  if (v > Number.MAX_SAFE_INTEGER) {
    // Only the range check needs exactness; callers compare against far smaller limits.
    const big = BigInt(b.toString('latin1', neg ? start + 1 : start, end));
    if (big > (neg ? 9223372036854775808n : 9223372036854775807n)) return null;
  }
  return neg ? -v : v;
}

// C isspace() in the C locale: the blanks sdssplitargs skips and accepts after a closing quote.
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

// What ends an unquoted token in sdssplitargs: narrower than isspace (no \v, \f).
function endsToken(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Redis's sdssplitargs, byte for byte; null on unbalanced quotes. It reads the line as a C
 * string, so an embedded NUL ends it. Plain tokens are returned as views of the line.
 */
export function splitArgs(line: Buffer): Buffer[] | null {
  const nul = line.indexOf(0);
  const n = nul < 0 ? line.length : nul;
  const at = (i: number): number => (i < n ? line[i]! : 0);
  const argv: Buffer[] = [];
  let p = 0;
  for (;;) {
    while (p < n && isSpace(line[p]!)) p++;
    if (p >= n) return argv;

    const start = p;
    while (p < n && !endsToken(line[p]!) && line[p] !== 0x22 && line[p] !== 0x27) p++;
    if (p >= n || endsToken(line[p]!)) {
      argv.push(line.subarray(start, p));
      if (p < n) p++;
      continue;
    }

    // The token has quotes: build it byte by byte, mirroring the C loop.
    const out: number[] = [];
    for (let i = start; i < p; i++) out.push(line[i]!);
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && hexVal(at(p + 2)) >= 0 && hexVal(at(p + 3)) >= 0) {
          out.push(hexVal(at(p + 2)) * 16 + hexVal(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== 0) {
          p++;
          const e = at(p);
          out.push(
            e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e === 0x62 ? 0x08 : e === 0x61 ? 0x07 : e,
          );
        } else if (c === 0x22) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null;
        } else {
          out.push(c);
        }
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          out.push(0x27);
        } else if (c === 0x27) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) {
          return null;
        } else {
          out.push(c);
        }
      } else if (c === 0 || endsToken(c)) {
        done = true;
      } else if (c === 0x22) {
        inq = true;
      } else if (c === 0x27) {
        insq = true;
      } else {
        out.push(c);
      }
      if (at(p) !== 0) p++;
    }
    argv.push(Buffer.from(out));
  }
}
