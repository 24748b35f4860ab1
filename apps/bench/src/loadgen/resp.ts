/** RESP encoding of requests, and a reply scanner that finds reply boundaries without parsing values. */

export type Arg = string | number | Buffer | Uint8Array;

/** Encodes one command as a RESP multibulk, in a single allocation. */
export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts = args.map((a) =>
    typeof a === 'string' || typeof a === 'number' ? Buffer.from(String(a)) : a,
  );
  let size = 3 + String(parts.length).length;
  for (const p of parts) size += 5 + String(p.length).length + p.length;
  const out = Buffer.allocUnsafe(size);
  let o = out.write(`*${parts.length}\r\n`, 0, 'latin1');
  for (const p of parts) {
    o += out.write(`$${p.length}\r\n`, o, 'latin1');
    out.set(p, o);
    o += p.length;
    out[o++] = 13;
    out[o++] = 10;
  }
  return out;
}

const CR = 13;
const LF = 10;

/**
 * Streaming scanner: feed it chunks as they arrive, it says how many complete top-level replies
 * they finished. Bulk bodies are skipped by counting, never copied, so a multi-MiB reply spread
 * over many chunks costs O(chunks); only a header line split across two chunks is buffered.
 * Handles RESP2 and the RESP3 types a server may answer with; a top-level reply counts as an
 * error when it is, or contains, an error.
 */
export class ReplyScanner {
  /** Top-level replies that were (or contained) an error. */
  errors = 0;
  firstError: string | undefined;
  private skip = 0; // bulk body bytes + CRLF still to pass over
  private partial: Buffer | undefined; // header line cut by a chunk boundary
  private stack: number[] = []; // elements still expected by each open aggregate
  private replyHasError = false;

  /** Scans chunk[start, end); returns the number of top-level replies completed in it. */
  feed(chunk: Buffer, start = 0, end = chunk.length): number {
    // The loadgen's read buffer is reused, so bytes past `end` are stale: never search into them.
    const buf = start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end);
    const len = buf.length;
    let pos = 0;
    let done = 0;
    while (pos < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        pos += n;
        this.skip -= n;
        if (this.skip === 0) done += this.elementDone();
        continue;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        const rest = buf.subarray(pos);
        this.partial = this.partial ? Buffer.concat([this.partial, rest]) : Buffer.from(rest);
        if (this.partial.length > 64 * 1024) throw new Error('RESP: header line over 64 KiB');
        return done;
      }
      if (this.partial) {
        const line = Buffer.concat([this.partial, buf.subarray(pos, lf + 1)]);
        this.partial = undefined;
        done += this.header(line, 0, line.length - 1);
      } else {
        done += this.header(buf, pos, lf);
      }
      pos = lf + 1;
    }
    return done;
  }

  /** Header line buf[s..lf], type byte at s, CR at lf-1. */
  private header(buf: Buffer, s: number, lf: number): number {
    const type = buf[s]!;
    const e = buf[lf - 1] === CR ? lf - 1 : lf; // tolerate bare LF
    switch (type) {
      case 0x2b: // + simple string
      case 0x3a: // : integer
      case 0x2c: // , double
      case 0x5f: // _ null
      case 0x23: // # boolean
      case 0x28: // ( big number
        return this.elementDone();
      case 0x2d: // - error
        this.noteError(buf.toString('utf8', s + 1, e));
        return this.elementDone();
      case 0x21: // ! bulk error: its text is skipped like any bulk body
        this.noteError('(RESP3 bulk error)');
      // falls through
      case 0x24: // $ bulk string
      case 0x3d: {
        // = verbatim string
        const n = parseInteger(buf, s + 1, e);
        if (n < 0) return this.elementDone(); // $-1 null bulk
        this.skip = n + 2;
        return 0;
      }
      case 0x2a: // * array
      case 0x7e: // ~ set
      case 0x3e: // > push
      case 0x25: {
        // % map: two elements per entry
        let n = parseInteger(buf, s + 1, e);
        if (type === 0x25 && n > 0) n *= 2;
        if (n <= 0) return this.elementDone(); // *-1 null or empty aggregate
        this.stack.push(n);
        return 0;
      }
      default:
        throw new Error(`RESP: unexpected reply type byte 0x${type.toString(16)}`);
    }
  }

  private noteError(msg: string): void {
    this.replyHasError = true;
    this.firstError ??= msg;
  }

  /** One element finished; returns 1 when that closes a top-level reply. */
  private elementDone(): number {
    const st = this.stack;
    while (st.length > 0) {
      const top = st.length - 1;
      if (--st[top]! > 0) return 0;
      st.pop();
    }
    if (this.replyHasError) {
      this.errors++;
      this.replyHasError = false;
    }
    return 1;
  }
}

function parseInteger(buf: Buffer, s: number, e: number): number {
  let neg = false;
  let i = s;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  let n = 0;
  for (; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) throw new Error(`RESP: bad length ${buf.toString('latin1', s, e)}`);
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
