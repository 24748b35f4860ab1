/**
 * The `respai` command-line tool as a user runs it: the built apps/cli/bin/respai.js in a
 * subprocess against the built server. mnist.onnx on one.raw (digit 1) from ../shared through
 * itShared, and the project's own ONNX/TFLITE/TORCH fixtures for the rest: .npy, raw and image
 * inputs, the progress bar, connection options (-u, -a, --user, REDISCLI_AUTH) and error texts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jimp } from 'jimp';
import { createClient } from 'redis';
import { dump, parse } from 'npyjs';
import { itShared, sharedPath } from '@respai/core/testing';
import { OnnxType, binaryModel, encodeModel } from '@respai/backend-onnx/testing';
import { TensorType, binaryModel as tfliteBinary } from '@respai/backend-tflite/testing';
import { torchModelBlob } from '@respai/backend-torch/testing';
import { REPO, startServer, type RunningServer } from '../../../test/helpers/server.js';

const BIN = join(REPO, 'apps/cli/bin/respai.js');

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'respai-cli-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  expect(await server?.stop()).toBe(0);
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function respai(args: string[], env: NodeJS.ProcessEnv = {}, port: number | null = server.port): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...(port === null ? [] : ['-p', String(port)]), ...args],
      { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const file = (name: string, bytes: Uint8Array | ArrayBuffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes instanceof ArrayBuffer ? Buffer.from(bytes) : bytes);
  return p;
};
const npy = (p: string) => parse(new Uint8Array(readFileSync(join(dir, p))).buffer);

describe('respai model store + respai run: the mnist example', () => {
  itShared('mnist.onnx on one.raw (raw bytes with --dtype/--shape): class 1 tops the table', ['models/mnist.onnx', 'models/one.raw'], async () => {
    const store = await respai(['model', 'store', 'mnist', sharedPath('models/mnist.onnx'), '--tag', 'v1']);
    expect(store.stderr).toBe('');
    expect(store.stdout).toBe('OK: mnist = ONNX model on CPU (26454 bytes)\n');
    const run = await respai(['run', 'mnist', '--input', sharedPath('models/one.raw'), '--dtype', 'FLOAT', '--shape', '1,1,28,28', '--output-dir', 'out']);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Plus214_Output_0: FLOAT [1, 10] -> out/Plus214_Output_0.npy');
    expect(lines[1]).toMatch(/^ {2}rank {2}class {3}score$/);
    expect(lines[2]).toMatch(/^ {2}1 {5}1 {7}7\.37/);
    const out = npy('out/Plus214_Output_0.npy');
    expect(out.shape).toEqual([1, 10]);
    const scores = Array.from(out.data as Float32Array);
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
  });

  itShared('the same digit as a PNG (decoded and resized by Jimp to the ONNX input [1,1,28,28])', ['models/mnist.onnx', 'models/one.raw'], async () => {
    await respai(['model', 'store', 'mnist2', sharedPath('models/mnist.onnx')]);
    const raw = readFileSync(sharedPath('models/one.raw'));
    const pixels = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    // A 56x56 picture of it: the tool must scale it down to the model's 28x28.
    const img = new Jimp({ width: 28, height: 28, color: 0x000000ff });
    pixels.forEach((v, i) => {
      const g = Math.round(v * 255);
      img.bitmap.data.set([g, g, g, 255], i * 4);
    });
    img.resize({ w: 56, h: 56 });
    file('one.png', await img.getBuffer('image/png'));
    const run = await respai(['run', 'mnist2', '-i', 'one.png']);
    expect(run.stderr).toBe('');
    expect(run.stdout.split('\n')[2]).toMatch(/^ {2}1 {5}1 /);
  });

  itShared('model info after a run', ['models/mnist.onnx'], async () => {
    const info = await respai(['model', 'info', 'mnist']);
    expect(info.stdout).toContain('backend   ONNX\n');
    expect(info.stdout).toContain('tag       v1\n');
    expect(info.stdout).toContain('inputs    Input3\n');
    expect(info.stdout).toMatch(/calls {5}1 \(0 errors\), 1 samples/);
  });
});

describe('inputs and outputs', () => {
  const ADD = binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);

  it('.npy inputs by name; .npy outputs; values shown for a non-classifier', async () => {
    expect((await respai(['model', 'store', 'add', file('add.onnx', ADD)])).code).toBe(0);
    file('a.npy', dump(new Float32Array([1, 2, 3, 4]), [2, 2]));
    file('b.npy', dump(new Float32Array([10, 20, 30, 40]), [2, 2]));
    const run = await respai(['run', 'add', '--input', 'b=b.npy', '--input', 'a=a.npy', '-o', 'sum']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('c: FLOAT [2, 2] -> sum/c.npy\n  11 22 33 44\n');
    expect(npy('sum/c.npy')).toMatchObject({ dtype: 'f4', shape: [2, 2] });
  });

  it('a wrong input name, a wrong count, a missing model, raw without a shape: clear errors, exit 1', async () => {
    file('r.raw', new Uint8Array(16));
    expect(await respai(['run', 'add', '-i', 'x=r.raw', '-i', 'a=r.raw'])).toMatchObject({ code: 1, stderr: 'respai: add has no input named x (inputs: a, b)\n' });
    expect(await respai(['run', 'add', '-i', 'r.raw'])).toMatchObject({ code: 1, stderr: 'respai: add takes 2 input(s) (a, b), got 1\n' });
    expect(await respai(['run', 'nope', '-i', 'r.raw'])).toMatchObject({ code: 1, stderr: '(error) ERR model key is empty\n' });
    // The ONNX model's declared shape [N, 2] has a free dimension: raw bytes need --shape.
    expect((await respai(['run', 'add', '-i', 'r.raw', '-i', 'r.raw'])).stderr).toBe('respai: r.raw: raw input needs --shape (and --dtype, default FLOAT)\n');
    const ok = await respai(['run', 'add', '-i', 'r.raw', '-i', 'r.raw', '--shape', '2,2']);
    expect(ok.stdout).toBe('c: FLOAT [2, 2] -> c.npy\n  0 0 0 0\n');
    const bad = await respai(['run', 'add', '-i', 'r.raw', '-i', 'r.raw', '--shape', '1,2']);
    expect(bad.stderr).toBe('respai: raw input: 16 bytes, but FLOAT [1,2] needs 8\n');
  });

  it('INT64 and BOOL outputs, a TFLITE model detected by its bytes, a TORCH model by its zip', async () => {
    const two = torchModelBlob('def forward(self, x, y):\n    return x * y, x > y\n');
    expect((await respai(['model', 'store', 'two', file('two.bin', two)])).stdout).toBe(`OK: two = TORCH model on CPU (${two.length} bytes)\n`);
    file('x.npy', dump(new BigInt64Array([3n, -2n]), [2]));
    file('y.npy', dump(new BigInt64Array([2n, 5n]), [2]));
    const run = await respai(['run', 'two', '-i', 'x.npy', '-i', 'y.npy', '--outputs', '2']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('output0: INT64 [2] -> output0.npy\n  6 -10\noutput1: BOOL [2] -> output1.npy\n  true false\n');
    expect(npy('output1.npy')).toMatchObject({ dtype: 'b1', shape: [2], data: [true, false] });
    const lite = tfliteBinary('ADD', TensorType.FLOAT32, [2]);
    expect((await respai(['model', 'store', 'lite', file('lite.model', lite)])).stdout).toBe(`OK: lite = TFLITE model on CPU (${lite.length} bytes)\n`);
    expect((await respai(['model', 'info', 'lite'])).stdout).toContain('backend   TFLITE\n');
  });

  it('a model file of no known kind asks for --backend; the server refuses what is no model', async () => {
    file('junk.bin', Buffer.from('hello'));
    expect(await respai(['model', 'store', 'm', 'junk.bin'])).toMatchObject({
      code: 1,
      stderr: 'respai: cannot tell which backend junk.bin is for: pass --backend\n',
    });
    const r = await respai(['model', 'store', 'm', 'junk.bin', '--backend', 'onnx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\(error\) ERR /);
  });
});

describe('uploads', () => {
  it('--progress draws a bar on stderr up to 100%; the upload arrives whole, in MODEL_CHUNK_SIZE chunks', async () => {
    // A model with a 6 MiB weight: the upload takes several chunks of a 1 MiB MODEL_CHUNK_SIZE.
    const n = 1536 * 1024;
    const big = encodeModel({
      nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      inputs: [{ name: 'x', type: { tensor: OnnxType.FLOAT, shape: [n] } }],
      outputs: [{ name: 'y', type: { tensor: OnnxType.FLOAT, shape: [n] } }],
      initializers: [{ name: 'w', type: OnnxType.FLOAT, dims: [n], raw: new Uint8Array(new Float32Array(n).fill(1).buffer) }],
    });
    const path = file('big.onnx', big);
    const c = createClient({ socket: { port: server.port, host: '127.0.0.1' } });
    await c.connect();
    try {
      await c.sendCommand(['AI.CONFIG', 'MODEL_CHUNK_SIZE', String(1024 * 1024)]);
      const r = await respai(['model', 'store', 'big', path, '--progress']);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('big.onnx [');
      expect(r.stderr).toMatch(/100% \| 6\.0 MiB\/6\.0 MiB/);
      const chunks = (await c.sendCommand(['AI.MODELGET', 'big', 'BLOB'])) as unknown[];
      expect(chunks.length).toBe(Math.ceil(big.length / (1024 * 1024)));
      // Without --progress and without a terminal: no bar.
      expect((await respai(['model', 'store', 'big2', path])).stderr).toBe('');
    } finally {
      await c.sendCommand(['AI.CONFIG', 'MODEL_CHUNK_SIZE', '535822336']);
      await c.close();
    }
  });
});

describe('connection options', () => {
  let locked: RunningServer;
  beforeAll(async () => {
    locked = await startServer(['--requirepass', 's3cret']);
  });
  afterAll(async () => {
    await locked?.stop();
  });

  it('-a, -u redis://:password@host:port, REDISCLI_AUTH; a wrong password is reported', async () => {
    const blob = file('m.onnx', binaryModel('Add', OnnxType.FLOAT, [1], [1], [1]));
    expect((await respai(['model', 'store', 'm', blob, '-a', 's3cret'], {}, locked.port)).code).toBe(0);
    const url = await respai(['-u', `redis://default:s3cret@127.0.0.1:${locked.port}`, 'model', 'info', 'm'], {}, null);
    expect(url.stdout).toContain('backend   ONNX\n');
    expect((await respai(['model', 'info', 'm'], { REDISCLI_AUTH: 's3cret' }, locked.port)).code).toBe(0);
    const none = await respai(['model', 'info', 'm'], {}, locked.port);
    expect(none).toMatchObject({ code: 1, stderr: '(error) NOAUTH Authentication required.\n' });
    const wrong = await respai(['model', 'info', 'm', '--user', 'default', '-a', 'nope'], {}, locked.port);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/WRONGPASS invalid username-password pair/);
  });

  it('nothing listening: the address in the message', async () => {
    const r = await respai(['model', 'info', 'm'], {}, 1);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^respai: Could not connect to 127\.0\.0\.1:1: /);
  });
});
