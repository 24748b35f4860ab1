import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseList, parsePositiveInt } from '../args.js';
import { machineLine, resultBase, textTable, writeFile } from '../report.js';
import { repoRoot } from '../servers.js';

export const usage = `check-cost: what the crash-isolating check adds to a TORCH MODELSTORE / SCRIPTSTORE, in-process

  Every new TorchScript archive or source is first loaded in a forked child of the server (see
  docs/backends.md). For models of --sizes MiB of parameters and for scripts, measured alternately in
  this process: the load alone (the floor: what a store cost without the check), the check alone
  (fork + load in the child), a store of new bytes through the backend (check + load), and a store of
  bytes seen before (SHA-256 digest hit + load). Then the same with --ballast GiB of extra resident
  memory in this process: forking copies the page tables, so the check grows with the server's RSS.
  Medians of --repeat runs.

options:
  --sizes LIST     parameter MiB per model (default 0,10,100; 0 = a model without parameters)
  --ballast LIST   extra resident GiB (default 0,2)
  --repeat N       runs per figure (default 9)
  --out DIR        where results go (default <repo>/bench-results)`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '0,10,100' },
      ballast: { type: 'string', default: '0,2' },
      repeat: { type: 'string', default: '9' },
      out: { type: 'string', default: join(repoRoot, 'bench-results') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const sizes = parseList(values.sizes, Number);
  const ballasts = parseList(values.ballast, Number);
  const repeat = parsePositiveInt(values.repeat, '--repeat');
  const torch = await import('@respai/backend-torch');
  const { torchModelBlob, storeHalves } = await import('@respai/backend-torch/testing');
  const { Tensor } = await import('@respai/core');
  const backend = new torch.TorchBackend();
  backend.init({ intraOpParallelism: 1, interOpParallelism: 1, modelExecutionTimeoutMs: 0, backendMemoryLimitMb: 0, threadsPerQueue: 1, log: { debug() {}, info() {}, warn() {} } });
  const CPU = { type: 'CPU' as const, index: undefined, name: 'CPU' };

  const models = sizes.map((mib) => {
    if (mib === 0) return { name: 'model, no parameters', blob: torchModelBlob('def forward(self, a, b):\n    return a + b\n') };
    const n = Math.round((mib * 2 ** 20) / 4);
    const w = Tensor.fromBlob('FLOAT', [n], Buffer.alloc(n * 4, 1));
    return { name: `model, ${mib} MiB of parameters`, blob: torchModelBlob('def forward(self, x):\n    return x * self.w\n', { w }) };
  });
  const scripts = [
    { name: 'script, 3 lines', source: 'def bar(a, b):\n    return a + b\n' },
    {
      name: 'script, 200 functions',
      source: Array.from({ length: 200 }, (_, i) => `def f${i}(a, b: int):\n    c = a * b + ${i}\n    for j in range(b):\n        c = torch.relu(c) - a\n    return c\n`).join('\n'),
    },
  ];

  const rows: string[][] = [];
  const lines: string[] = [machineLine(), 'check-cost: medians in ms, each figure alternated with the others in the same loop', ''];
  let ballast: Buffer[] = [];
  for (const gib of ballasts) {
    ballast = [];
    for (let i = 0; i < gib * 4; i++) ballast.push(Buffer.alloc(2 ** 28, i + 1)); // touched: resident
    const rssMiB = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
    const cases = [
      ...models.map((m) => ({
        name: m.name,
        bytes: m.blob.length,
        floor: () => storeHalves.loadModelUnchecked(m.blob),
        check: async () => void (await storeHalves.checkModel(m.blob)),
        store: async () => {
          backend.prober.clear();
          await (await backend.loadModel({ blob: m.blob, device: CPU, inputs: [], outputs: [], batchSize: 0 })).dispose();
        },
        again: async () => (await backend.loadModel({ blob: m.blob, device: CPU, inputs: [], outputs: [], batchSize: 0 })).dispose(),
      })),
      ...scripts.map((s) => ({
        name: s.name,
        bytes: s.source.length,
        floor: () => storeHalves.compileScriptUnchecked(s.source),
        check: async () => void (await storeHalves.checkScript(s.source)),
        store: async () => {
          backend.prober.clear();
          await (await backend.loadScript({ source: s.source, device: CPU, entryPoints: [] })).dispose();
        },
        again: async () => (await backend.loadScript({ source: s.source, device: CPU, entryPoints: [] })).dispose(),
      })),
    ];
    for (const c of cases) {
      const t: Record<'floor' | 'check' | 'store' | 'again', number[]> = { floor: [], check: [], store: [], again: [] };
      await c.floor();
      await c.again(); // warm: first loads of a kind pay libtorch's lazy initialisation
      for (let i = 0; i < repeat; i++) {
        for (const k of ['floor', 'check', 'store', 'again'] as const) {
          const a = performance.now();
          await c[k]();
          t[k].push(performance.now() - a);
        }
      }
      const f = (k: keyof typeof t) => median(t[k]).toFixed(1);
      rows.push([`${rssMiB} MiB`, c.name, `${(c.bytes / 2 ** 20).toFixed(2)} MiB`, f('floor'), f('check'), f('store'), f('again'), `+${(median(t.store) - median(t.floor)).toFixed(1)}`]);
      console.log(rows.at(-1)!.join('  '));
    }
  }
  void ballast;
  lines.push(textTable(['server RSS', 'what', 'bytes', 'load only', 'check only', 'store (new bytes)', 'store (seen before)', 'check adds'], rows));
  const text = lines.join('\n');
  console.log(`\n${text}`);
  const path = writeFile(`${resultBase(values.out, 'check-cost')}.txt`, `${text}\n`);
  console.log(`\nwrote ${path}`);
  return 0;
}
