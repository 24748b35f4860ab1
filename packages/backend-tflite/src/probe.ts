/**
 * The check every new TFLITE model goes through, in a process of its own (TFLite 2.2 aborts or
 * segfaults on some flatbuffers that pass its verifier, and the server must survive any bytes a
 * client uploads): reads the model from stdin, builds it on each runtime (runtimes.ts), runs them
 * on the same inputs, times the ones whose outputs agree with the reference's, and says which to
 * use (choose.ts).
 *
 * Arguments: `--threads N` (the workers' interpreter threads), `--exclude a,b` (runtimes the
 * backend was told not to use), `--crashed a,b` (runtimes that crashed this check before: left
 * out), `--resizable` (the model may be fed other shapes: BATCHSIZE; LiteRT, which cannot resize,
 * is left out).
 * Stdout: `stage <runtime>` before each step on a runtime (so a crash names its runtime), then
 * `result <Choice as JSON>`. Exit 0 when some runtime loads the model (whether or not the runs on
 * the check inputs succeed: they need not be valid inputs); PROBE_REFUSED_EXIT with the reference
 * runtime's reason on stderr when none does.
 */
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROBE_REFUSED_EXIT } from '@respai/core/worker';
import { checkInputs, interfaceDifference, median, outputDifference, pick, type CandidateReport, type Choice, type Feed } from './choose.js';
import type { WireOutput } from './protocol.js';
import { RUNTIMES, isRuntimeId, openInterpreter, type Interpreter, type RuntimeId } from './runtimes.js';

/** LiteRT.js is checked only when no C library runs the model this fast (us per run): below it, wasm has never won. */
export const LITERT_WORTH_US = 1000;
/** Timing: rounds over the qualified runtimes, at least MIN, until BUDGET ms passed or MAX. */
const MIN_ROUNDS = 3;
const MAX_ROUNDS = 40;
const BUDGET_MS = 300;

/** The feed with dim 0 of every input set to `n` (contents repeated). */
function resized(feed: Feed, n: number): Feed {
  return feed.map(({ dims, data }) => {
    const out = new Uint8Array((data.length / Math.max(1, dims[0]!)) * n);
    for (let at = 0; at < out.length; at += Math.max(1, data.length)) out.set(data.subarray(0, out.length - at), at);
    return { dims: [n, ...dims.slice(1)], data: out };
  });
}

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    exclude: { type: 'string', default: '' },
    crashed: { type: 'string', default: '' },
    resizable: { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const list = (s: string) => s.split(',').filter(isRuntimeId);
/** Why each runtime left out is. */
const leftOut = new Map<RuntimeId, string>([
  ...list(values.exclude).map((r) => [r, 'excluded by the backend'] as const),
  ...list(values.crashed).map((r) => [r, 'crashed the check'] as const),
]);
if (values.resizable && !leftOut.has('litert')) leftOut.set('litert', 'BATCHSIZE: LiteRT cannot resize inputs');
const excluded = new Set(leftOut.keys());

const stage = (runtime: RuntimeId) => writeSync(1, `stage ${runtime}\n`);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface Open {
  runtime: RuntimeId;
  it: Interpreter;
}

async function check(bytes: Uint8Array): Promise<Choice | { refused: string }> {
  const reports = new Map<RuntimeId, CandidateReport>();
  const open: Open[] = [];
  const tryOpen = async (runtime: RuntimeId) => {
    stage(runtime);
    try {
      open.push({ runtime, it: await openInterpreter(runtime, bytes, threads) });
      return true;
    } catch (e) {
      reports.set(runtime, { runtime, status: 'refused', reason: message(e) });
      return false;
    }
  };
  for (const runtime of RUNTIMES) if (runtime !== 'litert' && !excluded.has(runtime)) await tryOpen(runtime);
  const noNative = open.length === 0;
  // Where the C libraries lack an operator (a model from a newer converter), LiteRT may have it;
  // bytes they find malformed are not worth a wasm compile.
  const unknownOp = /op for builtin opcode|builtin_code out of range|unresolved custom op/i;
  const triedNative = reports.size > 0;
  if (noNative && !excluded.has('litert') && (!triedNative || [...reports.values()].some((r) => unknownOp.test(r.reason ?? '')))) await tryOpen('litert');
  if (open.length === 0) {
    const first = RUNTIMES.map((r) => reports.get(r)).find((r) => r !== undefined);
    return { refused: first?.reason ?? 'no runtime could load the model' };
  }

  const reference = open[0]!;
  const info = reference.it.describe();
  const feeds = checkInputs(info);
  const run = (o: Open, feed: Feed): WireOutput[] | Error => {
    stage(o.runtime);
    try {
      return o.it.run(feed);
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  };
  // The reference's outputs on each input set; sets it cannot run on (zeros need not be valid) are not compared.
  const expected = feeds.map((f) => run(reference, f));
  const usable = feeds.map((f, i) => ({ feed: f, out: expected[i]! })).filter((x): x is { feed: Feed; out: WireOutput[] } => !(x.out instanceof Error));

  // A batch of two (zeros) and back: runtimes must resize as the reference does (or fail where it
  // fails), and run correctly afterwards. LiteRT, which takes only the declared shapes, is not asked.
  const batch = info.inputs.every((t) => t.dims.length > 0) && usable.length > 0 ? resized(feeds[0]!, 2) : undefined;
  const batchOut = batch === undefined ? undefined : run(reference, batch);
  const same = (expected: WireOutput[] | Error, got: WireOutput[] | Error, what: string) => {
    if (expected instanceof Error) return got instanceof Error ? undefined : `${what}: ran where the reference failed (${expected.message})`;
    return got instanceof Error ? `${what}: failed where the reference ran: ${got.message}` : outputDifference(expected, got);
  };
  const qualified: Open[] = [reference];
  const qualify = (o: Open) => {
    const checks = usable.map(({ feed, out }) => () => same(out, run(o, feed), 'check inputs'));
    if (batch !== undefined && o.runtime !== 'litert') {
      checks.push(() => same(batchOut!, run(o, batch), 'a batch of two'));
      checks.push(() => same(usable[0]!.out, run(o, usable[0]!.feed), 'after a batch of two'));
    }
    let why = interfaceDifference(info, o.it.describe());
    for (const c of checks) why ??= c();
    if (why !== undefined) reports.set(o.runtime, { runtime: o.runtime, status: 'mismatch', reason: why });
    else qualified.push(o);
  };
  // Without inputs the reference runs on, nothing can be compared: the reference it is.
  if (usable.length > 0) for (const o of open.slice(1)) qualify(o);

  const timings = new Map<RuntimeId, number>();
  const time = (candidates: readonly Open[]) => {
    if (usable.length === 0) return;
    const feed = usable[usable.length - 1]!.feed;
    const samples = new Map(candidates.map((o) => [o.runtime, [] as number[]]));
    for (const o of candidates) run(o, feed); // warm-up
    const t0 = performance.now();
    for (let round = 0; round < MAX_ROUNDS && (round < MIN_ROUNDS || performance.now() - t0 < BUDGET_MS); round++) {
      // Interleaved, so that a noisy moment on a shared machine hurts every runtime alike.
      for (const o of candidates) {
        stage(o.runtime);
        const a = performance.now();
        o.it.run(feed);
        samples.get(o.runtime)!.push((performance.now() - a) * 1000);
      }
    }
    for (const [runtime, s] of samples) timings.set(runtime, median(s));
  };
  time(qualified);

  // LiteRT.js (a wasm compile of ~9 MB, ~0.3 s) only where the C libraries are slow.
  const best = Math.min(...timings.values());
  if (!noNative && !excluded.has('litert') && usable.length > 0 && best > LITERT_WORTH_US) {
    if (await tryOpen('litert')) {
      const o = open[open.length - 1]!;
      const before = qualified.length;
      qualify(o);
      if (qualified.length > before) time(qualified);
    }
  } else if (!excluded.has('litert') && !reports.has('litert') && !noNative) {
    reports.set('litert', { runtime: 'litert', status: 'skipped', reason: `a C library runs it in ${Math.round(best)} us` });
  }

  for (const o of qualified) {
    const us = timings.get(o.runtime);
    reports.set(o.runtime, { runtime: o.runtime, status: 'ok', ...(us === undefined ? {} : { us: Math.round(us * 10) / 10 }) });
  }
  for (const [r, reason] of leftOut) reports.set(r, { runtime: r, status: reason === 'crashed the check' ? 'failed' : 'skipped', reason });
  const runtime = timings.size > 0 ? pick(reference.runtime, timings) : reference.runtime;
  for (const o of open) o.it.close();
  return { runtime, info, candidates: RUNTIMES.map((r) => reports.get(r)).filter((r): r is CandidateReport => r !== undefined) };
}

const chunks: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => chunks.push(c));
process.stdin.on('end', () => {
  check(new Uint8Array(Buffer.concat(chunks))).then(
    (r) => {
      if ('refused' in r) {
        process.stderr.write(r.refused);
        process.exitCode = PROBE_REFUSED_EXIT;
      } else {
        writeSync(1, `result ${JSON.stringify(r)}\n`);
      }
      // LiteRT's threaded build keeps worker threads alive: the verdict is in, leave.
      process.exit();
    },
    (e: unknown) => {
      process.stderr.write(message(e));
      process.exit(PROBE_REFUSED_EXIT);
    },
  );
});
