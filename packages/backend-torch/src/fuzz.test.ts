// Fuzzing the TORCH backend in this process, as the server runs it: thousands of damaged
// TorchScript archives and hostile sources. Each one loads or is refused with an Error; none may
// take the process down (vitest's worker would die and the file fail), and refused bytes must not
// leave memory behind. `apps/bench` has the long form (`respai-bench fuzz-torch`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, type LoadedModel, type LoadedScript } from '@respai/core';
import { rssOf } from '@respai/core/testing';
import { TorchBackend } from './backend.js';
import { MAX_BLOCK_DEPTH, MAX_BRACKET_DEPTH } from './source-check.js';
import { CPU, fakeHost, floats, settings, values } from './test-helpers.js';
import { NESTINGS, ODDITIES, archiveMutant, readZip, sourceMutant, torchModelBlob, writeZip } from './testing.js';

/** Mutants per run; RESPAI_FUZZ_ARCHIVES changes it (the default takes 15 to 60 s, by the machine's load). */
const ARCHIVES = Number(process.env.RESPAI_FUZZ_ARCHIVES ?? 600);
const SEED = Number(process.env.RESPAI_FUZZ_SEED ?? 20);

const b = new TorchBackend();
beforeAll(() => b.init(settings));

/** Fixture models (with their inputs): no parameters, parameters, several methods and control flow. */
const BASES: { blob: Buffer; inputs: Tensor[] }[] = [
  { blob: torchModelBlob('def forward(self, a, b):\n    return a + b\n'), inputs: [floats([2], [1, 2]), floats([2], [3, 4])] },
  {
    blob: torchModelBlob('def forward(self, x):\n    return x @ self.w + self.b\n', {
      w: floats([4, 4], Array.from({ length: 16 }, (_, i) => i / 10)),
      b: floats([4], [1, 2, 3, 4]),
    }),
    inputs: [floats([1, 4], [1, 1, 1, 1])],
  },
  {
    blob: torchModelBlob(
      'def forward(self, x):\n    y = x\n    for i in range(3):\n        y = self.helper(y)\n    return y, y.sum()\n\n' +
        'def helper(self, y):\n    return torch.relu(y) * self.k\n',
      { k: floats([1], [2]) },
    ),
    inputs: [floats([3], [-1, 0, 1])],
  },
];

const loadModel = (blob: Buffer): Promise<LoadedModel> => b.loadModel({ blob, device: CPU, inputs: [], outputs: [], batchSize: 0 });
const loadScript = (source: string): Promise<LoadedScript> => b.loadScript({ source, device: CPU, entryPoints: [] });

/** Loads or is refused: anything else (a hang aside, which the test timeout catches) fails. */
async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { error: string }> {
  try {
    return { ok: await p };
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    const msg = (e as Error).message;
    expect(msg.length).toBeGreaterThan(0);
    return { error: msg };
  }
}

async function stillServes(): Promise<void> {
  const m = await loadModel(BASES[0]!.blob);
  const [out] = await m.run(BASES[0]!.inputs, { slot: 0 });
  expect(values(out!)).toEqual([4, 6]);
  await m.dispose();
}

describe('damaged TorchScript archives', { timeout: 180_000 }, () => {
  it('the mutators rewrite archives that still load (valid CRCs, torch alignment)', async () => {
    for (const base of BASES) {
      const m = await loadModel(writeZip(readZip(base.blob)));
      expect((await m.run(base.inputs, { slot: 0 })).length).toBeGreaterThan(0);
      await m.dispose();
    }
  });

  it(`${ARCHIVES} mutants (seed ${SEED}): each loads or is refused, loaded ones run or fail cleanly, memory stays bounded`, async () => {
    const counts = new Map<string, number>();
    const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
    const bases = BASES.map((x) => x.blob);
    let rssAtHalf = 0;
    for (let i = 0; i < ARCHIVES; i++) {
      if (i === ARCHIVES >> 1) {
        global.gc?.();
        rssAtHalf = (await rssOf()) ?? 0;
      }
      const { blob, how, base } = archiveMutant(bases, SEED, i);
      const r = await outcome(loadModel(blob));
      if ('error' in r) {
        bump(/crashed reading it/.test(r.error) ? 'refused: crashed in the check' : 'refused');
        continue;
      }
      bump('loaded');
      // A damaged archive that loads must still run or fail cleanly (no out-of-bounds storage).
      const run = await outcome(r.ok.run(BASES[base]!.inputs, { slot: 0 }));
      bump('error' in run ? 'loaded, run refused' : 'loaded, ran');
      await r.ok.dispose();
      void how;
    }
    global.gc?.();
    const rssAtEnd = (await rssOf()) ?? 0;
    console.log(`torch archive fuzz, seed ${SEED}:`, Object.fromEntries(counts), `checks in a child: ${b.prober.checks}`);
    expect((counts.get('refused') ?? 0) + (counts.get('refused: crashed in the check') ?? 0)).toBeGreaterThan(ARCHIVES / 4);
    expect(counts.get('loaded') ?? 0).toBeGreaterThan(0);
    // Refused bytes never reach this process's libtorch: the second half adds no memory to speak of.
    if (rssAtHalf > 0) expect(rssAtEnd - rssAtHalf).toBeLessThan(64 * 2 ** 20);
    await stillServes();
  });

  it('a blob seen before is not checked again (RESTORE, a second key, a restart from the snapshot)', async () => {
    const blob = torchModelBlob('def forward(self, a):\n    return a * 3\n');
    const before = b.prober.checks;
    for (let i = 0; i < 3; i++) await (await loadModel(blob)).dispose();
    expect(b.prober.checks - before).toBe(1);
  });
});

describe('hostile TorchScript sources', { timeout: 180_000 }, () => {
  it(`brackets past ${MAX_BRACKET_DEPTH} and blocks past ${MAX_BLOCK_DEPTH} are refused before libtorch sees them`, async () => {
    const deep = await outcome(loadScript(NESTINGS.parentheses!(100_000)));
    expect(deep).toEqual({ error: `the script nests brackets more than ${MAX_BRACKET_DEPTH} deep (line 2); TorchScript, like Python, allows ${MAX_BRACKET_DEPTH}` });
    expect(await outcome(loadScript(NESTINGS.blocks!(MAX_BLOCK_DEPTH + 1)))).toEqual({
      error: `the script nests blocks more than ${MAX_BLOCK_DEPTH} deep (line ${MAX_BLOCK_DEPTH + 2}); TorchScript, like Python, allows ${MAX_BLOCK_DEPTH}`,
    });
    // At the limits, they compile.
    for (const src of [NESTINGS.parentheses!(MAX_BRACKET_DEPTH), NESTINGS.lists!(MAX_BRACKET_DEPTH), NESTINGS.blocks!(MAX_BLOCK_DEPTH)]) {
      const s = await loadScript(src);
      expect(s.functions).toEqual(['f']);
      await s.dispose();
    }
    // Brackets inside strings and comments do not count.
    const quoted = await loadScript(`# ${'('.repeat(500)}\ndef f(a):\n    s = "${'['.repeat(500)}"\n    t = '''${'{'.repeat(500)}\n'''\n    return a\n`);
    expect(quoted.functions).toEqual(['f']);
  });

  it('every recursive construct nested 100, 5,000 and 100,000 deep: compiles or is refused, never a crash', async () => {
    const seen: string[] = [];
    for (const [name, make] of Object.entries(NESTINGS)) {
      for (const d of name === 'functions' || name === 'statements' || name === 'blocks' ? [100, 2000] : [100, 5000, 100_000]) {
        const r = await outcome(loadScript(make(d)));
        seen.push(`${name}@${d}: ${'ok' in r ? 'compiled' : r.error.slice(0, 60)}`);
        if ('ok' in r) await r.ok.dispose();
      }
    }
    console.log(seen.join('\n'));
    await stillServes();
  });

  it('huge literals, odd unicode, odd line ends: compiles or is refused, with a bounded message', async () => {
    for (const [name, src] of Object.entries(ODDITIES)) {
      const r = await outcome(loadScript(src));
      if ('ok' in r) await r.ok.dispose();
      else expect(r.error.length, name).toBeLessThan(2 ** 20 + 4096);
    }
    await stillServes();
  });

  it('200 damaged valid scripts: each compiles or is refused; the valid ones still run', async () => {
    for (let i = 0; i < 200; i++) {
      const r = await outcome(loadScript(sourceMutant(SEED, i)));
      if ('ok' in r) await r.ok.dispose();
    }
    const s = await loadScript('def bar(a, b):\n    return a + b\n');
    const [out] = await s.run('bar', [floats([1], [1]), floats([1], [2])], [], fakeHost(), { slot: 0 });
    expect(values(out!)).toEqual([3]);
  });
});

afterAll(() => b.dispose());
