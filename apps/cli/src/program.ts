import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { RespaiClient, RespaiError, type Backend, type DType, type Tensor } from '@respai/client';
import { connect, type ConnectionOptions } from './connect.js';
import { detectBackend, isImage, npyOf, parseDType, parseShape, tensorFromImage, tensorFromNpy, tensorFromRaw } from './files.js';
import { onnxInputs, type OnnxInput } from './onnx-inputs.js';
import { importRdb } from './import.js';
import { UploadProgress } from './progress.js';
import { describeOutput } from './table.js';

const int = (what: string) => (s: string) => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: a non-negative integer`);
  return n;
};
const names = (s: string) => s.split(',').filter(Boolean);
const collect = (v: string, acc: string[]) => [...acc, v];

/** Runs `fn` on a connection opened from the command's global options, closing it afterwards. */
async function withClient<T>(cmd: Command, fn: (ai: RespaiClient) => Promise<T>, before?: () => void): Promise<T> {
  before?.();
  const conn = await connect(cmd.optsWithGlobals<ConnectionOptions>());
  try {
    return await fn(new RespaiClient(conn));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

interface StoreOptions {
  backend?: Backend;
  device: string;
  tag?: string;
  batch?: number;
  minBatch?: number;
  minBatchTimeout?: number;
  inputs?: string[];
  outputs?: string[];
  progress?: boolean;
}

async function modelStore(key: string, file: string, o: StoreOptions, cmd: Command): Promise<void> {
  const blob = readFileSync(file);
  const backend = o.backend ?? detectBackend(file, blob);
  if (backend === undefined) throw new Error(`cannot tell which backend ${file} is for: pass --backend`);
  const progress = new UploadProgress();
  const show = o.progress ?? process.stderr.isTTY === true;
  await withClient(
    cmd,
    (ai) =>
      progress.track(basename(file), blob.length, show, () =>
        ai.modelStore(key, {
          backend,
          device: o.device,
          blob,
          ...(o.tag === undefined ? {} : { tag: o.tag }),
          ...(o.batch === undefined ? {} : { batchSize: o.batch }),
          ...(o.minBatch === undefined ? {} : { minBatchSize: o.minBatch }),
          ...(o.minBatchTimeout === undefined ? {} : { minBatchTimeout: o.minBatchTimeout }),
          ...(o.inputs === undefined ? {} : { inputs: o.inputs }),
          ...(o.outputs === undefined ? {} : { outputs: o.outputs }),
        }),
      ),
    () => progress.watch(),
  );
  console.log(`OK: ${key} = ${backend} model on ${o.device} (${blob.length} bytes)`);
}

async function modelInfo(key: string, cmd: Command): Promise<void> {
  await withClient(cmd, async (ai) => {
    const m = await ai.modelGet(key);
    const s = await ai.info(key);
    const rows: [string, string][] = [
      ['key', key],
      ['backend', m.backend],
      ['device', m.device],
      ['tag', m.tag],
      ['inputs', m.inputs.join(', ')],
      ['outputs', m.outputs.map((o) => o || '(unnamed)').join(', ')],
      ['batching', m.batchSize === 0 ? 'off' : `batch ${m.batchSize}, min ${m.minBatchSize}, min timeout ${m.minBatchTimeout} ms`],
      ['calls', `${s.calls} (${s.errors} errors), ${s.samples} samples, ${(s.duration / 1000).toFixed(1)} ms total`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(10)}${v}`);
  });
}

interface RunOptions {
  input: string[];
  dtype?: DType;
  shape?: number[];
  outputDir: string;
  outputs?: number;
  top: number;
  invert?: boolean;
  timeout?: number;
}

/** One `--input [NAME=]FILE`; a NAME= prefix counts only when FILE is not itself a path with '='. */
function splitInput(spec: string): { name?: string; file: string } {
  const eq = spec.indexOf('=');
  if (eq > 0 && !spec.slice(0, eq).includes('/')) return { name: spec.slice(0, eq), file: spec.slice(eq + 1) };
  return { file: spec };
}

async function loadInput(file: string, o: RunOptions, declared: OnnxInput | undefined): Promise<Tensor> {
  const bytes = readFileSync(file);
  if (file.toLowerCase().endsWith('.npy')) return tensorFromNpy(bytes);
  const shape = o.shape ?? declared?.shape;
  const dtype = o.dtype ?? declared?.dtype ?? 'FLOAT';
  if (isImage(file)) {
    if (!shape) throw new Error(`${file}: pass --shape (the model's input shape is known only for ONNX models)`);
    return tensorFromImage(bytes, { shape, dtype, invert: o.invert === true });
  }
  if (!shape || shape.some((d) => d < 0)) throw new Error(`${file}: raw input needs --shape (and --dtype, default FLOAT)`);
  return tensorFromRaw(bytes, dtype, shape);
}

async function run(key: string, o: RunOptions, cmd: Command): Promise<void> {
  if (o.input.length === 0) throw new Error('pass at least one --input [NAME=]FILE');
  await withClient(cmd, async (ai) => {
    const m = await ai.modelGet(key);
    const specs = o.input.map(splitInput);
    // Inputs in the model's order: named ones by name, the others by position.
    const order = m.inputs.length > 0 ? m.inputs : specs.map((_, i) => `input${i}`);
    if (specs.length !== order.length) {
      throw new Error(`${key} takes ${order.length} input(s) (${order.join(', ')}), got ${specs.length}`);
    }
    const byName = new Map(specs.filter((s) => s.name !== undefined).map((s) => [s.name!, s.file]));
    for (const n of byName.keys()) if (!order.includes(n)) throw new Error(`${key} has no input named ${n} (inputs: ${order.join(', ')})`);
    const unnamed = specs.filter((s) => s.name === undefined).map((s) => s.file);
    const files = order.map((n) => byName.get(n) ?? unnamed.shift()!);
    const needDecl = m.backend === 'ONNX' && files.some((f) => !f.toLowerCase().endsWith('.npy') && (!o.shape || isImage(f)));
    const declared = needDecl ? onnxInputs((await ai.modelGet(key, { blob: true })).blob) : [];
    const tensors = await Promise.all(files.map((f, i) => loadInput(f, o, declared.find((d) => d.name === order[i]) ?? declared[i])));

    const outCount = o.outputs ?? Math.max(m.outputs.length, 1);
    const outNames = Array.from({ length: outCount }, (_, i) => m.outputs[i] || `output${i}`);
    // The builder is mutable: ops added in a loop land in the same DAG (its result type is then the loose unknown[]).
    const dag = ai.dag({ routing: key, ...(o.timeout === undefined ? {} : { timeout: o.timeout }) });
    tensors.forEach((t, i) => dag.tensorSet(`in:${i}`, t));
    dag.modelExecute(key, { inputs: tensors.map((_, i) => `in:${i}`), outputs: outNames.map((_, i) => `out:${i}`) });
    outNames.forEach((_, i) => dag.tensorGet(`out:${i}`));
    const results: readonly unknown[] = await dag.run();
    const outputs = results.slice(tensors.length + 1) as Tensor[];

    mkdirSync(o.outputDir, { recursive: true });
    outputs.forEach((t, i) => {
      const file = join(o.outputDir, `${outNames[i]!.replace(/[^\w.-]+/g, '_')}.npy`);
      writeFileSync(file, npyOf(t));
      console.log(describeOutput(outNames[i]!, t, o.top, file));
    });
  });
}

interface ImportCliOptions {
  replace?: boolean;
  db: number;
  progress?: boolean;
}

async function importFile(file: string, o: ImportCliOptions, cmd: Command): Promise<number> {
  const conn = await connect(cmd.optsWithGlobals<ConnectionOptions>());
  try {
    const r = await importRdb(file, { replace: o.replace === true, db: o.db, progress: o.progress ?? process.stderr.isTTY === true }, conn);
    const notes = [
      r.withTtl > 0 ? `${r.withTtl} with a TTL` : '',
      r.expired > 0 ? `${r.expired} expired, skipped` : '',
      r.otherDbs > 0 ? `${r.otherDbs} in other databases, skipped (--db picks one)` : '',
    ].filter(Boolean);
    console.log(`imported ${r.imported} keys from ${basename(file)} (RDB version ${r.rdbVersion})${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`);
    if (r.failed.length === 0) return 0;
    console.error(`${r.failed.length} keys were refused:`);
    for (const [k, why] of r.failed.slice(0, 20)) console.error(`  ${JSON.stringify(k)}: ${why}`);
    if (r.failed.length > 20) console.error(`  ... and ${r.failed.length - 20} more`);
    return 1;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** redis-cli's connection options, accepted before and after the subcommand. */
function connectionOptions(c: Command): Command {
  return c
    .option('-h, --host <host>', 'server hostname (default 127.0.0.1)')
    .option('-p, --port <port>', 'server port (default 6379)')
    .option('-a, --pass <password>', 'password (or REDISCLI_AUTH in the environment)')
    .option('--user <username>', 'ACL user name')
    .option('-u, --uri <uri>', 'server URI: redis://[user:password@]host:port[/db] (rediss:// for TLS)')
    .option('--tls', 'connect with TLS')
    .option('--cacert <file>', 'CA certificate to verify the server with')
    .option('--cert <file>', 'client certificate (TLS)')
    .option('--key <file>', 'client private key (TLS)')
    .option('--insecure', 'do not verify the server certificate');
}

export function program(): Command {
  const p = connectionOptions(
    new Command('respai')
      .description('Store models in a respai server (or RedisAI), look at them, and run them on files.')
      .helpOption('--help', 'show help'),
  ).showHelpAfterError();

  const model = p.command('model').description('store and inspect models').helpOption('--help', 'show help');
  connectionOptions(model.command('store'))
    .description('store a model file under KEY (AI.MODELSTORE), in chunks of the server MODEL_CHUNK_SIZE')
    .argument('<key>')
    .argument('<file>', '.onnx, .pb (TF), .tflite, .pt (TorchScript); other names are recognised by their bytes')
    .helpOption('--help', 'show help')
    .addOption(new Option('--backend <backend>', 'default: detected from the file').choices(['ONNX', 'TF', 'TFLITE', 'TORCH']).argParser((s) => s.toUpperCase()))
    .option('--device <device>', 'CPU, GPU, CPU:n, GPU:n', 'CPU')
    .option('--tag <tag>', 'a version or any label')
    .option('--batch <n>', 'auto-batching: BATCHSIZE', int('--batch'))
    .option('--min-batch <n>', 'MINBATCHSIZE', int('--min-batch'))
    .option('--min-batch-timeout <ms>', 'MINBATCHTIMEOUT', int('--min-batch-timeout'))
    .option('--inputs <names>', 'input node names, comma-separated (TF only)', names)
    .option('--outputs <names>', 'output node names, comma-separated (TF only)', names)
    .option('--progress', 'show the upload progress bar even when stderr is not a terminal')
    .option('--no-progress', 'no progress bar')
    .action((key: string, file: string, o: StoreOptions, cmd: Command) => modelStore(key, file, o, cmd));
  connectionOptions(model.command('info'))
    .description("a model's settings and run statistics (AI.MODELGET META, AI.INFO)")
    .argument('<key>')
    .helpOption('--help', 'show help')
    .action((key: string, _o: unknown, cmd: Command) => modelInfo(key, cmd));

  connectionOptions(p.command('run'))
    .description('run the model at KEY on input files; outputs are written as .npy and summarised')
    .argument('<key>')
    .helpOption('--help', 'show help')
    .option('-i, --input <[name=]file>', 'an input: .npy, an image (.png .jpg .bmp .gif .tiff), or raw bytes with --dtype/--shape; repeat per input', collect, [])
    .option('--dtype <dtype>', 'dtype of raw and image inputs (default FLOAT, or the ONNX input type)', parseDType)
    .option('--shape <dims>', 'shape of raw and image inputs, e.g. 1,1,28,28 (default: the ONNX input shape)', parseShape)
    .option('-o, --output-dir <dir>', 'where the outputs go, one .npy each', '.')
    .option('--outputs <n>', 'how many outputs to fetch (default: as many as the model names)', int('--outputs'))
    .option('--top <k>', 'how many classes the top-k table shows', int('--top'), 5)
    .option('--invert', 'invert image pixels (dark digits on light paper for MNIST-style models)')
    .option('--timeout <ms>', 'give up when still queued after this long', int('--timeout'))
    .action((key: string, o: RunOptions, cmd: Command) => run(key, o, cmd));

  connectionOptions(p.command('import'))
    .description('load the keys of an RDB file (Redis with the original engine, or respai) into the server, as RESTOREs')
    .argument('<file>', 'the RDB file, e.g. dump.rdb')
    .helpOption('--help', 'show help')
    .option('--replace', 'overwrite keys that exist (RESTORE ... REPLACE); without it they are refused with BUSYKEY')
    .option('--db <n>', "the file's database to import (respai has one)", int('--db'), 0)
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: ImportCliOptions, cmd: Command) => {
      process.exitCode = await importFile(file, o, cmd);
    });
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    // A command that finished with a verdict (import: keys refused) sets the exit code itself.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (RespaiError.isInstance(e)) console.error(`(error) ${e.text}`);
    else console.error(`respai: ${(e as Error).message}`);
    return 1;
  }
}
