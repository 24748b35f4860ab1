/**
 * Number syntax of tensor VALUES and replies. The original read floats with Redis's string2d
 * (strtod, whole string, no leading space, overflow rejected) and printed them with `%.17g`;
 * these reproduce that without going through JS's laxer `Number()` rules (which accept "",
 * " 1 ", "0b1", "Infinity" and reject "inf").
 */

// Written so no two parts can match the same digits: values may be megabytes, so no backtracking.
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^([+-]?)(?:(inf(?:inity)?)|nan)$/i;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;
const NONZERO_MANTISSA = /^[^eE]*[1-9]/;

/**
 * Parses a float like C `strtod` over the whole string: decimal with optional exponent, leading
 * sign, `inf`/`infinity`/`nan` (any case) and hex floats (`0x1.8p1`). Returns undefined when the
 * string is not entirely a number, or when a finite literal overflows to infinity or underflows
 * to zero (strtod's ERANGE, which Redis rejects too). `nan` is accepted although Redis's string2d
 * refused it, so that a NaN read back from TENSORGET VALUES can be set again.
 */
export function parseDouble(s: string): number | undefined {
  if (DECIMAL.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) return undefined;
    if (v === 0 && NONZERO_MANTISSA.test(s)) return undefined;
    return v;
  }
  const sp = SPECIAL.exec(s);
  if (sp) {
    if (sp[2] === undefined) return NaN;
    return sp[1] === '-' ? -Infinity : Infinity;
  }
  const hx = HEX.exec(s);
  if (hx) return parseHex(hx[1] === '-', hx[2] ?? '', hx[3] ?? '', hx[4]);
  return undefined;
}

function parseHex(negative: boolean, int: string, frac: string, exp: string | undefined): number | undefined {
  if (int === '' && frac === '') return undefined;
  let digits = (int + frac).replace(/^0+/, '');
  let e = (exp === undefined ? 0 : Number(exp)) - 4 * frac.length;
  if (digits === '') return negative ? -0 : 0;
  // 20 hex digits = 80 bits, well past double precision; a sticky bit keeps rounding correct.
  if (digits.length > 20) {
    const sticky = /[^0]/.test(digits.slice(20));
    e += 4 * (digits.length - 20);
    digits = digits.slice(0, 20);
    if (sticky) digits = (BigInt('0x' + digits) | 1n).toString(16);
  }
  // Past +-2000 a mantissa below 2^80 over- or underflows anyway; clamping bounds ldexp's loop.
  e = Math.max(-2000, Math.min(2000, e));
  const v = ldexp(Number(BigInt('0x' + digits)), e);
  if (!Number.isFinite(v) || v === 0) return undefined;
  return negative ? -v : v;
}

/** m * 2^e, stepping so intermediate powers of two neither overflow nor underflow. */
function ldexp(m: number, e: number): number {
  let v = m;
  let k = e;
  while (k > 1000 && Number.isFinite(v)) {
    v *= 2 ** 1000;
    k -= 1000;
  }
  while (k < -1000 && v !== 0) {
    v *= 2 ** -1000;
    k += 1000;
  }
  return v * 2 ** k;
}

/** Exact powers of ten as doubles (10^22 is the last one a double holds exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * {@link parseDouble} of bytes, with a fast path for what VALUES usually holds: `[+-]digits[.digits]`
 * with at most 15 significant digits, which `m / 10^k` (both exact doubles) rounds correctly, as
 * strtod does (Clinger's fast path). Anything else goes the general way.
 */
export function parseDoubleBytes(b: Uint8Array): number | undefined {
  const n = b.length;
  let i = 0;
  let negative = false;
  if (n > 0 && (b[0] === 0x2d || b[0] === 0x2b)) {
    negative = b[0] === 0x2d;
    i = 1;
  }
  let m = 0;
  let digits = 0;
  let frac = -1; // digits after the point; -1: no point yet
  let any = false;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      any = true;
      if (m !== 0 || c !== 0x30) digits++;
      m = m * 10 + (c - 0x30);
      if (frac >= 0) frac++;
    } else if (c === 0x2e && frac < 0) {
      frac = 0;
    } else {
      return parseDouble(Buffer.from(b.buffer, b.byteOffset, n).toString('latin1'));
    }
  }
  if (!any || digits > 15 || frac > 22) return parseDouble(Buffer.from(b.buffer, b.byteOffset, n).toString('latin1'));
  const v = frac > 0 ? m / POW10[frac]! : m;
  return negative ? -v : v;
}

/**
 * {@link parseInteger} of bytes as a number, for integers of up to 15 digits (exact as doubles);
 * undefined for anything else (the caller then goes the general way).
 */
export function parseSmallInteger(b: Uint8Array): number | undefined {
  const n = b.length;
  let i = 0;
  let negative = false;
  if (n > 0 && (b[0] === 0x2d || b[0] === 0x2b)) {
    negative = b[0] === 0x2d;
    i = 1;
  }
  if (i === n || n - i > 15) return undefined;
  let v = 0;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  return negative && v !== 0 ? -v : v;
}

const INTEGER = /^([+-]?)(\d+)$/;

/**
 * Parses a base-10 integer like `strtoll` over the whole string (optional sign, leading zeros
 * allowed, no spaces). Returns undefined for anything else or beyond 20 significant digits, which
 * is out of range for every dtype anyway; callers range-check the bigint.
 */
export function parseInteger(s: string): bigint | undefined {
  const m = INTEGER.exec(s);
  if (!m) return undefined;
  const digits = (m[2] ?? '').replace(/^0+(?=\d)/, '');
  if (digits.length > 20) return undefined;
  const v = BigInt(digits);
  return m[1] === '-' ? -v : v;
}

/**
 * Formats a double like C `printf("%.17g")`, as RedisAI's RESP2 replies carry floats:
 * `1`, `0.5`, `0.10000000149011612`, `1e+20`, `inf`, `-inf`, `nan`.
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // toExponential rounds exactly, so its exponent is the one %g uses to choose the style.
  const sci = x.toExponential(16);
  const at = sci.indexOf('e');
  const exp = Number(sci.slice(at + 1));
  if (exp < -4 || exp >= 17) {
    const mant = trimZeros(sci.slice(0, at));
    const a = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
  }
  return trimZeros(x.toFixed(16 - exp));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
