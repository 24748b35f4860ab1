import { E, fail } from '@respai/core';
import { parseInt64 } from './args.js';

/**
 * Argument helpers shared by the list and hash commands. Redis's `long` is 64-bit here; indexes
 * beyond 2^53 lose precision as JS numbers, which only moves them further outside any list.
 */

/** getLongFromObjectOrReply: a strict int64, else `msg` (Redis's not-an-integer text by default). */
export function longArg(arg: Buffer, msg: string = E.notInteger): number {
  const v = parseInt64(arg);
  if (v === undefined) fail(msg);
  return Number(v);
}

/** getPositiveLongFromObjectOrReply: a non-negative int64; both failures use the same text. */
export function positiveLongArg(arg: Buffer, msg: string = E.notPositive): number {
  const v = parseInt64(arg);
  if (v === undefined || v < 0n) fail(msg);
  return Number(v);
}

/** A private copy of an argument: arguments may be views into a large socket read. */
export const own = (b: Buffer): Buffer => Buffer.from(b);

/** Redis's index normalisation for LRANGE / LTRIM: [start, stop] clamped, or undefined when empty. */
export function clampRange(start: number, stop: number, len: number): [number, number] | undefined {
  if (start < 0) start = len + start;
  if (stop < 0) stop = len + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return undefined;
  if (stop >= len) stop = len - 1;
  return [start, stop];
}
