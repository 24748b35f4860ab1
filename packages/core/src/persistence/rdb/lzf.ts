/**
 * LZF, the compression of RDB strings (liblzf's format, as Redis ships it):
 *
 *   000LLLLL <L+1 bytes>          literal run of 1..32 bytes
 *   LLLooooo oooooooo             back reference of L+2 (3..8) bytes, offset o+1 (1..8192)
 *   111ooooo LLLLLLLL oooooooo    back reference of L+9 (9..264) bytes
 */

/** Thrown for compressed data that does not decode to exactly the announced length. */
export class LzfError extends Error {}

/** Decompresses `src` into exactly `outLen` bytes; throws LzfError on anything malformed. */
export function lzfDecompress(src: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafeSlow(outLen);
  let ip = 0;
  let op = 0;
  const inEnd = src.length;
  while (ip < inEnd) {
    const ctrl = src[ip++]!;
    if (ctrl < 32) {
      const len = ctrl + 1;
      if (op + len > outLen) throw new LzfError('literal run past the end of the output');
      if (ip + len > inEnd) throw new LzfError('literal run past the end of the input');
      for (let k = 0; k < len; k++) out[op + k] = src[ip + k]!;
      ip += len;
      op += len;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= inEnd) throw new LzfError('truncated back reference');
        len += src[ip++]!;
      }
      if (ip >= inEnd) throw new LzfError('truncated back reference');
      const ref = op - ((ctrl & 0x1f) << 8) - src[ip++]! - 1;
      len += 2;
      if (ref < 0) throw new LzfError('back reference before the start of the output');
      if (op + len > outLen) throw new LzfError('back reference past the end of the output');
      // Byte by byte: an overlapping reference repeats bytes (a run).
      for (let k = 0; k < len; k++) out[op + k] = out[ref + k]!;
      op += len;
    }
  }
  if (op !== outLen) throw new LzfError(`decompressed to ${op} bytes, ${outLen} expected`);
  return out;
}

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * The hash table of positions, shared by every call. A slot holds `base + position + 1`; `base`
 * grows by each input's length, so slots written by earlier calls read as empty without clearing
 * 256 KiB per call (which would dominate compressing many small strings).
 */
const htab = new Int32Array(HSIZE);
let base = 0;

/**
 * liblzf's compressor with Redis's settings (HLOG 16, VERY_FAST), so the output is what Redis
 * writes for the same bytes in the usual case. Returns the compressed bytes, or undefined when
 * they would not fit in `maxOut` bytes (Redis asks for len - 4: compression must save something).
 * With `giveUp`, it also stops (undefined) when the first eighth of the input (128 bytes to 4 KiB)
 * saved nothing: data that starts incompressible (tensors of noise, mostly) rarely pays later,
 * and a full attempt costs more than writing it.
 */
export function lzfCompress(src: Uint8Array, maxOut: number, giveUp = false): Buffer | undefined {
  const inLen = src.length;
  if (inLen === 0 || maxOut <= 0 || inLen >= 0x7fff0000) return undefined;
  if (base + inLen + 1 >= 0x7fffffff) {
    htab.fill(0);
    base = 0;
  }
  const b = base;
  base += inLen + 1;
  const out = Buffer.allocUnsafe(maxOut);
  const outEnd = maxOut;
  let ip = 0;
  let op = 1; // the first literal run's length byte
  let lit = 0;
  const inEnd = inLen;
  let hval = inLen > 1 ? (src[0]! << 8) | src[1]! : 0;
  let checkAt = giveUp ? Math.max(128, Math.min(4096, inLen >> 3)) : Infinity;
  while (ip < inEnd - 2) {
    if (ip >= checkAt) {
      if (op >= ip) return undefined;
      checkAt = Infinity;
    }
    hval = ((hval << 8) | src[ip + 2]!) >>> 0;
    const slot = ((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1);
    const stored = htab[slot]!;
    htab[slot] = b + ip + 1;
    const ref = stored > b ? stored - b - 1 : -1;
    const off = ip - ref - 1;
    if (ref > 0 && ref < ip && off < MAX_OFF && src[ref + 2] === src[ip + 2] && src[ref] === src[ip] && src[ref + 1] === src[ip + 1]) {
      let len = 2;
      let maxlen = inEnd - ip - len;
      if (maxlen > MAX_REF) maxlen = MAX_REF;
      if (op + 3 + 1 >= outEnd && op - (lit === 0 ? 1 : 0) + 3 + 1 >= outEnd) return undefined;
      out[op - lit - 1] = lit - 1; // stop the literal run
      if (lit === 0) op--; // an empty run takes no byte
      let mismatch = false;
      if (maxlen > 16) {
        // liblzf checks 16 more bytes unconditionally here, then one at a time up to maxlen.
        for (let k = 0; k < 16; k++) {
          len++;
          if (src[ref + len] !== src[ip + len]) {
            mismatch = true;
            break;
          }
        }
      }
      if (!mismatch) {
        do len++;
        while (len < maxlen && src[ref + len] === src[ip + len]);
      }
      len -= 2;
      ip++;
      if (len < 7) {
        out[op++] = (off >> 8) + (len << 5);
      } else {
        out[op++] = (off >> 8) + (7 << 5);
        out[op++] = len - 7;
      }
      out[op++] = off & 0xff;
      lit = 0;
      op++; // the next literal run's length byte
      ip += len + 1;
      if (ip >= inEnd - 2) break;
      // VERY_FAST: hash the two positions before the new one.
      ip -= 2;
      hval = (src[ip]! << 8) | src[ip + 1]!;
      hval = ((hval << 8) | src[ip + 2]!) >>> 0;
      htab[((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1)] = b + ip + 1;
      ip++;
      hval = ((hval << 8) | src[ip + 2]!) >>> 0;
      htab[((hval >>> (3 * 8 - HLOG)) - Math.imul(hval, 5)) & (HSIZE - 1)] = b + ip + 1;
      ip++;
    } else {
      if (op >= outEnd) return undefined;
      lit++;
      out[op++] = src[ip++]!;
      if (lit === MAX_LIT) {
        out[op - lit - 1] = lit - 1;
        lit = 0;
        op++;
      }
    }
  }
  if (op + 3 > outEnd) return undefined;
  while (ip < inEnd) {
    if (op >= outEnd) return undefined;
    lit++;
    out[op++] = src[ip++]!;
    if (lit === MAX_LIT) {
      out[op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  if (op > outEnd) return undefined;
  out[op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  return out.subarray(0, op);
}
