import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePositiveInt } from '../args.js';
import { Client, RespError } from '../client.js';
import { machineLine, resultBase, textTable, writeFile } from '../report.js';
import { repoRoot, startRespai } from '../servers.js';

export const usage = `fuzz-torch: N damaged TorchScript archives and hostile sources stored into a live respai: no crash allowed

  The long form of packages/backend-torch/src/fuzz.test.ts, through the server: AI.MODELSTORE of
  --archives mutants (bit flips, truncations, swapped / duplicated / dropped / renamed zip entries,
  damaged pickles, code and tensor records: @respai/backend-torch/testing's archiveMutant) of three
  fixture models, then AI.SCRIPTSTORE of --sources hostile or damaged sources. Every 100 stores a
  PING and AI.MODELEXECUTE of a model stored first must answer; the server's pid must stay the same.
  Reports the outcomes, the time per store (each one of new bytes pays the check in a forked child),
  and the server's RSS along the way. Exit code 1 if the server died or stopped answering.

options:
  --archives N   mutated archives (default 10000)
  --sources N    damaged sources (default 1000)
  --seed N       mutation seed (default 1)
  --out DIR      where results go (default <repo>/bench-results)`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      archives: { type: 'string', default: '10000' },
      sources: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const archives = parsePositiveInt(values.archives, '--archives');
  const sources = parsePositiveInt(values.sources, '--sources');
  const seed = parsePositiveInt(values.seed, '--seed');
  const { archiveMutant, sourceMutant, NESTINGS, ODDITIES, torchModelBlob } = await import('@respai/backend-torch/testing');
  const { Tensor } = await import('@respai/core');
  const f = (shape: number[], v: number[]) => Tensor.fromBlob('FLOAT', shape, Buffer.from(new Float32Array(v).buffer));
  const bases = [
    torchModelBlob('def forward(self, a, b):\n    return a + b\n'),
    torchModelBlob('def forward(self, x):\n    return x @ self.w + self.b\n', { w: f([4, 4], Array.from({ length: 16 }, (_, i) => i / 10)), b: f([4], [1, 2, 3, 4]) }),
    torchModelBlob(
      'def forward(self, x):\n    y = x\n    for i in range(3):\n        y = self.helper(y)\n    return y, y.sum()\n\ndef helper(self, y):\n    return torch.relu(y) * self.k\n',
      { k: f([1], [2]) },
    ),
  ];

  const server = await startRespai(undefined, ['--loglevel', 'warning']);
  const c = await Client.connect(server.port);
  const pid = server.pid;
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  say(`fuzz-torch, seed ${seed}: ${archives} archives, ${sources} sources`);
  say(machineLine());
  await c.ok(['AI.TENSORSET', 'x', 'FLOAT', '2', 'VALUES', '1', '2']);
  await c.ok(['AI.MODELSTORE', 'keep', 'TORCH', 'CPU', 'BLOB', bases[0]!]);
  const alive = async (): Promise<void> => {
    if ((await c.call(['PING'])) !== 'PONG') throw new Error('PING did not answer PONG');
    await c.ok(['AI.MODELEXECUTE', 'keep', 'INPUTS', '2', 'x', 'x', 'OUTPUTS', '1', 'y']);
  };

  const outcomes = new Map<string, number>();
  const bump = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const classify = (v: unknown): string => {
    if (!(v instanceof RespError)) return 'stored';
    if (/crashed/.test(v.message)) return 'refused: crashed in the check';
    if (/took over/.test(v.message)) return 'refused: the check timed out';
    return 'refused';
  };
  const storeMs: number[] = [];
  const rss: [string, number][] = [['start', server.rssBytes()]];
  const t0 = performance.now();
  let died: string | undefined;
  try {
    for (let i = 0; i < archives; i++) {
      const { blob } = archiveMutant(bases, seed, i);
      const a = performance.now();
      bump(classify(await c.call(['AI.MODELSTORE', `m${i % 16}`, 'TORCH', 'CPU', 'BLOB', blob])));
      storeMs.push(performance.now() - a);
      if ((i + 1) % 100 === 0) await alive();
      if ((i + 1) % 500 === 0) process.stderr.write(`${i + 1} archives, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      if ((i + 1) % Math.max(1, Math.floor(archives / 4)) === 0) rss.push([`${i + 1} archives`, server.rssBytes()]);
    }
    const hostile = [
      ...Object.values(NESTINGS).flatMap((make) => [make(100), make(5000)]),
      NESTINGS.parentheses!(100_000),
      NESTINGS.sums!(100_000),
      ...Object.values(ODDITIES),
    ];
    for (let i = 0; i < sources; i++) {
      const src = i < hostile.length ? hostile[i]! : sourceMutant(seed, i);
      bump(`script ${classify(await c.call(['AI.SCRIPTSTORE', `s${i % 16}`, 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', src]))}`);
      if ((i + 1) % 100 === 0) await alive();
    }
    await alive();
    rss.push(['end', server.rssBytes()]);
  } catch (e) {
    died = (e as Error).message;
  }
  const totalS = (performance.now() - t0) / 1000;
  if (server.pid !== pid) died ??= 'the server pid changed';
  storeMs.sort((a, b) => a - b);
  const q = (p: number) => storeMs[Math.min(storeMs.length - 1, Math.floor(p * storeMs.length))]!.toFixed(1);
  say('');
  say(textTable(['outcome', 'count'], [...outcomes].map(([k, v]) => [k, String(v)])));
  say('');
  say(`MODELSTORE of a mutant: mean ${(storeMs.reduce((a, b) => a + b, 0) / storeMs.length).toFixed(1)} ms, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`);
  say(`server RSS: ${rss.map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)} MiB`).join(', ')}`);
  say(`total ${totalS.toFixed(0)} s; ${died === undefined ? 'the server answered throughout: no crash' : `SERVER FAILED: ${died}`}`);
  c.close();
  await server.stop();
  const path = writeFile(`${resultBase(values.out, 'fuzz-torch')}.txt`, `${lines.join('\n')}\n`);
  console.log(`\nwrote ${path}`);
  return died === undefined ? 0 : 1;
}
