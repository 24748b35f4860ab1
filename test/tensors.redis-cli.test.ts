/**
 * The AI.TENSORSET / AI.TENSORGET examples of the command reference (spec/commands.md), run with
 * Debian's redis-cli against the built server, comparing redis-cli's output with the reference's
 * text exactly. redis-cli formats replies as `1) ...` only on a TTY, or with `--no-raw`.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './helpers/server.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

/** Runs redis-cli against the server; resolves with its stdout (stderr appended when not empty). */
function cli(args: string[], opts: { stdin?: Buffer; raw?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const mode = opts.raw ? '--raw' : '--no-raw';
    const child = execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(server.port), mode, ...args],
      { encoding: 'buffer', timeout: 20_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`redis-cli ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`));
        else resolve(stderr.length > 0 ? Buffer.concat([stdout, stderr]) : stdout);
      },
    );
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
    else child.stdin!.end();
  });
}

const text = async (...args: string[]) => (await cli(args)).toString('latin1');

// The examples, as the reference prints them (each followed by redis-cli's final newline).
const META = ['1) "dtype"', '2) "FLOAT"', '3) "shape"', '4) 1) (integer) 2', '   2) (integer) 2'];
const BLOB = '"\\x00\\x00\\x80?\\x00\\x00\\x00@\\x00\\x00@@\\x00\\x00\\x80@"';
const lines = (...l: string[]) => l.join('\n') + '\n';

describe('the reference examples through redis-cli --no-raw', () => {
  it('AI.TENSORSET mytensor FLOAT 2 2 VALUES 1 2 3 4', async () => {
    expect(await text('AI.TENSORSET', 'mytensor', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4')).toBe('OK\n');
  });

  it('AI.TENSORGET mytensor META', async () => {
    expect(await text('AI.TENSORGET', 'mytensor', 'META')).toBe(lines(...META));
  });

  it('AI.TENSORGET mytensor VALUES', async () => {
    expect(await text('AI.TENSORGET', 'mytensor', 'VALUES')).toBe(lines('1) "1"', '2) "2"', '3) "3"', '4) "4"'));
  });

  it('AI.TENSORGET mytensor BLOB', async () => {
    expect(await text('AI.TENSORGET', 'mytensor', 'BLOB')).toBe(lines(BLOB));
  });

  it('AI.TENSORGET mytensor META VALUES', async () => {
    expect(await text('AI.TENSORGET', 'mytensor', 'META', 'VALUES')).toBe(
      lines(...META, '5) "values"', '6) 1) "1"', '   2) "2"', '   3) "3"', '   4) "4"'),
    );
  });

  it('AI.TENSORGET mytensor META BLOB', async () => {
    expect(await text('AI.TENSORGET', 'mytensor', 'META', 'BLOB')).toBe(lines(...META, '5) "blob"', `6) ${BLOB}`));
  });

  it('AI.TENSORGET mytensor (default: META BLOB)', async () => {
    expect(await text('AI.TENSORGET', 'mytensor')).toBe(lines(...META, '5) "blob"', `6) ${BLOB}`));
  });

  it('an error is printed as (error) with the exact text', async () => {
    expect(await text('AI.TENSORSET', 'mytensor', 'FLOATY', '2')).toBe('(error) ERR invalid data type\n');
    expect(await text('AI.TENSORGET', 'nosuch')).toBe('(error) ERR tensor key is empty or in a different shard\n');
    // The failed TENSORSET left the tensor alone.
    expect(await text('AI.TENSORGET', 'mytensor', 'BLOB')).toBe(lines(BLOB));
  });
});

describe('redis-cli -x: the BLOB read from stdin', () => {
  // one.raw style: a 1x1x28x28 FLOAT image, 3136 bytes, every byte value present.
  const image = new Float32Array(784);
  for (let i = 0; i < image.length; i++) image[i] = (i % 256) / 255 - (i % 7 === 0 ? 0.5 : 0);
  const blob = Buffer.from(image.buffer);

  it('AI.TENSORSET image FLOAT 1 1 28 28 BLOB < one.raw', async () => {
    expect(blob.length).toBe(3136);
    const out = await cli(['-x', 'AI.TENSORSET', 'image', 'FLOAT', '1', '1', '28', '28', 'BLOB'], { stdin: blob });
    expect(out.toString()).toBe('OK\n');
  });

  it('AI.TENSORGET image META', async () => {
    expect(await text('AI.TENSORGET', 'image', 'META')).toBe(
      lines('1) "dtype"', '2) "FLOAT"', '3) "shape"', '4) 1) (integer) 1', '   2) (integer) 1', '   3) (integer) 28', '   4) (integer) 28'),
    );
  });

  it('AI.TENSORGET image BLOB --raw gives back the same 3136 bytes', async () => {
    const out = await cli(['AI.TENSORGET', 'image', 'BLOB'], { raw: true });
    expect(out.length).toBe(3137); // --raw adds one newline
    expect(Buffer.compare(out.subarray(0, 3136), blob)).toBe(0);
    expect(out[3136]).toBe(0x0a);
  });

  it('a stdin blob of the wrong size is refused', async () => {
    const out = await cli(['-x', 'AI.TENSORSET', 'image', 'FLOAT', '1', '1', '28', '28', 'BLOB'], { stdin: blob.subarray(1) });
    expect(out.toString()).toBe('(error) ERR data length does not match tensor shape and type\n');
    expect(await text('AI.TENSORGET', 'image', 'META')).toContain('   4) (integer) 28\n');
  });
});
