import { RespaiError } from '@respai/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecoderLimits, RespDecoder } from './decoder.js';
import { ReplyWriter } from './encoder.js';

const LIMITS: DecoderLimits = { maxBulkLen: 512 * 1024 * 1024 };
const RUNS = { numRuns: 400 };

interface Outcome {
  cmds: string[][];
  error: string | null;
  buffered: number;
}

/**
 * Feeds chunks, draining commands after each push, and checks the invariants that must hold
 * whatever the input: only protocol errors are thrown, a failed decoder stays failed, every
 * command consumes input (so draining terminates), and `buffered` never exceeds what was pushed.
 */
function feed(chunks: readonly Uint8Array[], limits: DecoderLimits = LIMITS): Outcome {
  const d = new RespDecoder({ ...limits });
  const cmds: string[][] = [];
  let pushed = 0;
  try {
    for (const chunk of chunks) {
      d.push(Buffer.from(chunk));
      pushed += chunk.length;
      for (let cmd = d.next(); cmd !== null; cmd = d.next()) {
        cmds.push(cmd.map((a) => a.toString('latin1')));
        if (cmds.length > pushed) throw new Error('more commands than bytes: the decoder loops');
      }
      if (d.buffered < 0 || d.buffered > pushed) throw new Error(`buffered ${d.buffered} of ${pushed} pushed`);
    }
  } catch (e) {
    if (!RespaiError.isInstance(e) || !e.message.startsWith('ERR Protocol error: ')) throw e;
    expect(() => d.next()).toThrow(e.message);
    return { cmds, error: e.message, buffered: -1 };
  }
  return { cmds, error: null, buffered: d.buffered };
}

/** Splits at the given cut points (taken modulo the length). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((c) => c % bytes.length))].filter((c) => c > 0).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

function multibulk(cmds: readonly (readonly Uint8Array[])[]): Buffer {
  // A request is a RESP2 array of bulks, which is exactly what the encoder writes for Buffer[].
  const w = new ReplyWriter(2);
  for (const args of cmds) w.write(args.map((a) => Buffer.from(a)));
  return Buffer.concat(w.take());
}

const latin1 = (cmds: readonly (readonly Uint8Array[])[]) => cmds.map((args) => args.map((a) => Buffer.from(a).toString('latin1')));

// Bytes that steer the parser, mixed with arbitrary ones so random input reaches deep states.
const SPECIAL = [...Buffer.from('*$\r\n\r\n0123456789-+ \t"\'\\x4F\0')];
const protoByte = fc.oneof(fc.constantFrom(...SPECIAL), fc.integer({ min: 0, max: 255 }));
const protoBytes = fc.array(protoByte, { maxLength: 300 }).map((a) => Uint8Array.from(a));
const cuts = fc.array(fc.nat(), { maxLength: 12 });
const limits = fc.constantFrom<DecoderLimits>(LIMITS, { maxBulkLen: 0 }, { maxBulkLen: 5 }, { maxBulkLen: 100, maxInlineLen: 40 });

const arg = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 3000 }) },
);
const commands = fc.array(fc.array(arg, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });

type Mutation = { op: 'flip' | 'insert' | 'delete'; at: number; byte: number };
const mutations = fc.array(
  fc.record({ op: fc.constantFrom('flip', 'insert', 'delete'), at: fc.nat(), byte: protoByte }) as fc.Arbitrary<Mutation>,
  { minLength: 1, maxLength: 4 },
);

function mutate(frame: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  const b = [...frame];
  for (const { op, at, byte } of muts) {
    const i = b.length === 0 ? 0 : at % b.length;
    if (op === 'flip' && b.length > 0) b[i] = byte === b[i] ? byte ^ 0xff : byte;
    else if (op === 'insert') b.splice(i, 0, byte);
    else b.splice(i, 1);
  }
  return Uint8Array.from(b);
}

describe('RespDecoder fuzz', () => {
  it('survives random bytes, and chunking never changes the outcome', () => {
    fc.assert(
      fc.property(protoBytes, cuts, limits, (bytes, cs, lim) => {
        const whole = feed([bytes], lim);
        const parts = feed(split(bytes, cs), lim);
        // Inputs stay under the line limits, where Redis's outcome is chunking-independent.
        if (lim.maxInlineLen === undefined) expect(parts).toEqual(whole);
      }),
      RUNS,
    );
  });

  it('survives uniformly random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), cuts, (bytes, cs) => {
        expect(feed(split(bytes, cs))).toEqual(feed([bytes]));
      }),
      RUNS,
    );
  });

  it('round-trips valid multibulk frames split anywhere', () => {
    fc.assert(
      fc.property(commands, cuts, (cmds, cs) => {
        const frame = multibulk(cmds);
        for (const chunks of [[frame], split(frame, cs)]) {
          expect(feed(chunks)).toEqual({ cmds: latin1(cmds), error: null, buffered: 0 });
        }
      }),
      RUNS,
    );
  });

  it('round-trips every byte through quoted inline arguments', () => {
    const hex = (a: Uint8Array) => '"' + [...a].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('') + '"';
    fc.assert(
      fc.property(commands, cuts, fc.constantFrom('\n', '\r\n'), (cmds, cs, eol) => {
        const text = cmds.map((args) => args.map(hex).join(' ') + eol).join('');
        const bytes = Buffer.from(text, 'latin1');
        if (bytes.length > 60_000) return; // keep each line under the inline limit
        expect(feed(split(bytes, cs))).toEqual({ cmds: latin1(cmds), error: null, buffered: 0 });
      }),
      { numRuns: 200 },
    );
  });

  it('survives mutated frames, and chunking never changes the outcome', () => {
    fc.assert(
      fc.property(commands, mutations, cuts, limits, (cmds, muts, cs, lim) => {
        const bytes = mutate(multibulk(cmds), muts);
        const whole = feed([bytes], lim);
        const parts = feed(split(bytes, cs), lim);
        if (lim.maxInlineLen === undefined && bytes.length < 65536) expect(parts).toEqual(whole);
      }),
      RUNS,
    );
  });

  it('holds no more than it was given of a truncated frame', () => {
    fc.assert(
      fc.property(commands, fc.nat(), cuts, (cmds, at, cs) => {
        const frame = multibulk(cmds);
        const cut = frame.subarray(0, at % (frame.length + 1));
        const out = feed(split(cut, cs));
        expect(out.error).toBeNull();
        // Complete commands come out; whatever is left is exactly the partial last one.
        const done = out.cmds.length;
        expect(out.cmds).toEqual(latin1(cmds.slice(0, done)));
        expect(out.buffered).toBe(cut.length - multibulk(cmds.slice(0, done)).length);
      }),
      RUNS,
    );
  });
});
