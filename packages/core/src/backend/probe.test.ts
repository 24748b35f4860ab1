import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prober, digest, probeChildProcess, type ProbeVerdict } from './probe.js';

const dir = mkdtempSync(join(tmpdir(), 'respai-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child module: reads stdin, then does what its input says. */
const child = join(dir, 'child.mjs');
writeFileSync(
  child,
  `const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const what = Buffer.concat(chunks).toString();
  if (what === 'ok') process.exit(0);
  if (what === 'refuse') { process.stderr.write('not a model: ' + 'x'.repeat(100000)); process.exitCode = 65; return; }
  if (what === 'abort') process.abort();
  if (what === 'hang') setInterval(() => {}, 1000);
  if (what === 'exit7') process.exit(7);
  if (what === 'say') { process.stdout.write('found: 42'); process.exitCode = 0; }
  if (what === 'say-abort') { process.stdout.write('stage 1\\n', () => process.abort()); }
});
`,
);
const run = (input: string, timeoutMs = 10_000) => probeChildProcess({ module: child, input: Buffer.from(input), timeoutMs });

describe('probeChildProcess', () => {
  it('tells a pass, a refusal (bounded reason), a crash, an odd exit and a hang apart', async () => {
    expect(await run('ok')).toEqual({ kind: 'ok' });
    const refused = await run('refuse');
    expect(refused.kind).toBe('refused');
    expect((refused as { message: string }).message).toMatch(/^not a model: x+$/);
    expect((refused as { message: string }).message.length).toBe(64 * 1024);
    expect(await run('abort')).toEqual({ kind: 'crashed', message: 'SIGABRT' });
    expect(await run('exit7')).toEqual({ kind: 'crashed', message: 'exit code 7' });
    expect(await run('hang', 300)).toEqual({ kind: 'timedOut', cpuMs: 300 });
  });

  it("returns the child's stdout, its findings or how far it got before dying", async () => {
    expect(await run('say')).toEqual({ kind: 'ok', output: 'found: 42' });
    expect(await run('say-abort')).toEqual({ kind: 'crashed', message: 'SIGABRT', output: 'stage 1\n' });
  });

  it('a module that cannot start is a crash with its reason', async () => {
    const v = await probeChildProcess({ module: join(dir, 'missing.mjs'), input: Buffer.from('ok'), timeoutMs: 10_000 });
    expect(v.kind).toBe('crashed');
    expect((v as { message: string }).message).toMatch(/^exit code 1: .*Cannot find module/s);
  });
});

describe('Prober', () => {
  const ok: ProbeVerdict = { kind: 'ok' };

  it('checks bytes once: a pass is remembered by digest, a refusal is not', async () => {
    const p = new Prober();
    let calls = 0;
    const pass = async () => (calls++, ok);
    await p.check('model', Buffer.from('a'), pass, 1000);
    await p.check('model', Buffer.from('a'), pass, 1000);
    expect(calls).toBe(1);
    // Another kind, or other bytes, are checked.
    await p.check('script', Buffer.from('a'), pass, 1000);
    await p.check('model', 'b', pass, 1000);
    expect(calls).toBe(3);
    const refuse = async () => (calls++, { kind: 'refused', message: 'no' }) as ProbeVerdict;
    expect(await p.check('model', 'c', refuse, 1000)).toEqual({ kind: 'refused', message: 'no' });
    await p.check('model', 'c', refuse, 1000);
    expect(calls).toBe(5);
    expect(p.checks).toBe(5);
  });

  it('concurrent checks of the same bytes share one run', async () => {
    const p = new Prober();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = async () => {
      calls++;
      await gate;
      return ok;
    };
    const both = Promise.all([p.check('model', 'x', slow, 1000), p.check('model', 'x', slow, 1000)]);
    await new Promise((r) => setTimeout(r, 10));
    release();
    expect(await both).toEqual([ok, ok]);
    expect(calls).toBe(1);
  });

  it('retries once a child that timed out without using its CPU (stuck), not a busy one', async () => {
    const p = new Prober();
    const verdicts: ProbeVerdict[] = [{ kind: 'timedOut', cpuMs: 5 }, ok];
    expect(await p.check('model', 'stuck', async () => verdicts.shift()!, 1000)).toEqual(ok);
    const busy: ProbeVerdict = { kind: 'timedOut', cpuMs: 900 };
    let calls = 0;
    expect(await p.check('model', 'busy', async () => (calls++, busy), 1000)).toEqual(busy);
    expect(calls).toBe(1);
  });

  it('runs at most `concurrency` checks at once; the others wait their turn', async () => {
    const p = new Prober({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const held = async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => gates.push(r));
      running--;
      return ok;
    };
    const all = Promise.all(['a', 'b', 'c', 'd'].map((k) => p.check('m', k, held, 1000)));
    while (gates.length < 2) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 10));
    expect(gates.length).toBe(2);
    while (gates.length > 0 || running > 0) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(await all).toEqual([ok, ok, ok, ok]);
    expect(peak).toBe(2);
  });

  it('forgets the least recently used digests past its capacity', async () => {
    const p = new Prober({ capacity: 2 });
    let calls = 0;
    const pass = async () => (calls++, ok);
    for (const k of ['a', 'b', 'a', 'c', 'a', 'b']) await p.check('m', k, pass, 1000);
    // a, b, c checked; a kept (recently used) and c; b was dropped and checked again.
    expect(calls).toBe(4);
  });

  it('digest is SHA-256 of the bytes, strings as UTF-8', async () => {
    expect(await digest('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await digest(Buffer.from('abc'))).toBe(await digest('abc'));
  });
});
