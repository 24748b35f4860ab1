/**
 * AI.CONFIG LOADBACKEND from trusted places only: outside the BACKENDSPATH the server started with,
 * a path is refused unless `enable-loadbackend-anywhere yes` (AI.CONFIG BACKENDSPATH does not widen
 * it); respai's own backend packages load by name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startServer } from './helpers/server.js';
import { RawClient } from './helpers/raw-client.js';

const REFUSED =
  '-ERR LOADBACKEND of a path outside BACKENDSPATH is not allowed. Set enable-loadbackend-anywhere yes in the configuration file and restart the server to allow it.\r\n';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'respai-backends-'));
  // Not a backend: importing it would run it, which is the point of refusing.
  writeFileSync(join(dir, 'elsewhere.mjs'), 'export default {};\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AI.CONFIG LOADBACKEND', () => {
  it('refuses a path outside BACKENDSPATH, even after AI.CONFIG BACKENDSPATH moves there; own packages load by name', async () => {
    const server = await startServer([]);
    const c = await RawClient.connect(server.port);
    try {
      const outside = join(dir, 'elsewhere.mjs');
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'TF', outside)).toBe(REFUSED);
      // A relative path climbing out of BACKENDSPATH (the server package's directory by default).
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'TF', relative(join(REPO, 'apps/server'), outside))).toBe(REFUSED);
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'ONNX', '@respai/backend-onnx')).toBe('+OK\r\n');
      expect(await c.call('AI.CONFIG', 'BACKENDSPATH', dir)).toBe('+OK\r\n');
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'TF', 'elsewhere.mjs')).toBe(REFUSED);
      // A missing file is the original's error, as before.
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'TF', 'nothing-here.mjs')).toBe('-ERR error loading backend\r\n');
    } finally {
      c.close();
      await server.stop();
    }
  }, 30_000);

  it('with enable-loadbackend-anywhere yes, the path is tried', async () => {
    const server = await startServer(['--enable-loadbackend-anywhere', 'yes']);
    const c = await RawClient.connect(server.port);
    try {
      expect(await c.call('AI.CONFIG', 'LOADBACKEND', 'TF', join(dir, 'elsewhere.mjs'))).toBe('-ERR error loading backend\r\n');
      expect(await c.call('CONFIG', 'GET', 'enable-loadbackend-anywhere')).toBe('*2\r\n$27\r\nenable-loadbackend-anywhere\r\n$3\r\nyes\r\n');
    } finally {
      c.close();
      await server.stop();
    }
  }, 30_000);
});
