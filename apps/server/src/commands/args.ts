import { E, fail } from '@respai/core';

/** Case-insensitive comparison of an argument with an upper-case ASCII keyword. */
export function is(arg: Buffer | undefined, keyword: string): boolean {
  if (arg === undefined || arg.length !== keyword.length) return false;
  for (let i = 0; i < arg.length; i++) {
    let c = arg[i]!;
    if (c >= 97 && c <= 122) c -= 32;
    if (c !== keyword.charCodeAt(i)) return false;
  }
  return true;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a signed 64-bit decimal integer the way Redis's string2ll does: no spaces, no `+`,
 * no leading zeros, within int64. Returns undefined when it is not one.
 */
export function parseInt64(arg: Buffer | string): bigint | undefined {
  const s = typeof arg === 'string' ? arg : arg.toString('latin1');
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/** A signed 64-bit integer argument (string2ll); otherwise Redis's "not an integer". */
export function int64Arg(arg: Buffer | undefined): bigint {
  const v = arg === undefined ? undefined : parseInt64(arg);
  if (v === undefined) fail(E.notInteger);
  return v;
}

/** An integer argument that must fit a JS safe integer; otherwise Redis's "not an integer". */
export function intArg(arg: Buffer | undefined, error: string = E.notInteger): number {
  const v = arg === undefined ? undefined : parseInt64(arg);
  if (v === undefined || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail(error);
  return Number(v);
}

const UINT64_MAX = 2n ** 64n - 1n;

/**
 * A SCAN/HSCAN cursor as Redis's parseScanCursorOrReply reads it: strtoul's syntax (an optional
 * sign, wrapping like C's unsigned negation; "" is 0), no leading space, within 64 bits.
 */
export function parseCursor(arg: Buffer): bigint {
  const s = arg.toString('latin1');
  if (s === '') return 0n;
  if (!/^[+-]?\d+$/.test(s)) fail(E.invalidCursor);
  const v = BigInt(s);
  if (v > UINT64_MAX || v < -UINT64_MAX) fail(E.invalidCursor);
  return v < 0n ? UINT64_MAX + 1n + v : v;
}

export const str = (b: Buffer): string => b.toString('utf8');
