/** Byte strings up to this size are copied into the scratch buffer; larger ones are referenced. */
const INLINE_MAX = 512;

/**
 * Bytes built as a list of parts, for writing with writev: small fields go into a scratch buffer,
 * large payloads (tensor data, model blobs) are referenced, never copied. The base of the AOF
 * record writer and of the RDB writer.
 */
export class PartsWriter {
  private list: Buffer[] = [];
  protected cur: Buffer;
  private pos = 0;
  private mark = 0;
  /** Bytes written in total. */
  written = 0;
  /** Bytes not yet taken. */
  pending = 0;

  constructor(private readonly scratchSize = 256) {
    this.cur = Buffer.allocUnsafe(scratchSize);
  }

  /** Parts not yet taken. */
  get parts(): number {
    return this.list.length;
  }

  /** Room for `n` bytes in the scratch buffer: their offset in `this.cur`. */
  protected reserve(n: number): number {
    if (this.pos + n > this.cur.length) {
      this.cut();
      this.cur = Buffer.allocUnsafe(Math.max(this.scratchSize, n));
      this.pos = 0;
      this.mark = 0;
    }
    const at = this.pos;
    this.pos += n;
    this.written += n;
    this.pending += n;
    return at;
  }

  private cut(): void {
    if (this.pos > this.mark) this.list.push(this.cur.subarray(this.mark, this.pos));
    this.mark = this.pos;
  }

  // `reserve` may switch `this.cur` to a new scratch buffer: call it before reading `this.cur`.
  u8(v: number): this {
    const at = this.reserve(1);
    this.cur[at] = v;
    return this;
  }

  raw(b: Uint8Array): this {
    if (b.length <= INLINE_MAX) {
      const at = this.reserve(b.length);
      this.cur.set(b, at);
    } else {
      this.cut();
      this.list.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));
      this.written += b.length;
      this.pending += b.length;
    }
    return this;
  }

  /** Everything written since the last take (the scratch is never written again where taken). */
  take(): Buffer[] {
    this.cut();
    const p = this.list;
    this.list = [];
    this.pending = 0;
    return p;
  }

  /** Everything written (since the last take), as one buffer. */
  toBuffer(): Buffer {
    const p = this.take();
    return p.length === 1 ? p[0]! : Buffer.concat(p);
  }
}
