/**
 * The store's TLS and ACL settings end to end (docs/scale-out.md): a real redis-server serving
 * TLS only (client certificates required; certificates made here by openssl) with the default
 * user off and an ACL user of its own; respai reaches it with `keyspace-url rediss://...`,
 * `keyspace-tls-*` files and `keyspace-user`/`keyspace-password`. A wrong password or a missing
 * client certificate is a clear `ERR keyspace unavailable: ...`, never a hang or a crash.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { OnnxType, binaryModel } from '@respai/backend-onnx/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { freePort, hasRedisServer, spawnRedisServer } from './helpers/redis-server.js';
import { makeCertificates } from './helpers/certs.js';

const ADD = binaryModel('Add', OnnxType.FLOAT, ['N', 2], ['N', 2], ['N', 2]);

describe.skipIf(!hasRedisServer)('a store over TLS with ACL users', () => {
  let dir: string;
  let tlsPort: number;
  let store: Awaited<ReturnType<typeof spawnRedisServer>>;
  const file = (name: string) => join(dir, name);
  const tlsFiles = () => ['--keyspace-tls-ca-file', file('ca.crt'), '--keyspace-tls-cert-file', file('client.crt'), '--keyspace-tls-key-file', file('client.key')];
  const running: RunningServer[] = [];

  /** A respai node over the store; `extra` names the credentials and TLS files. */
  async function node(extra: string[]): Promise<{ server: RunningServer; send: (...args: (string | Buffer)[]) => Promise<unknown> }> {
    const server = await startServer(['--keyspace-url', `rediss://127.0.0.1:${tlsPort}`, '--keyspace-timeout', '2000', ...extra]);
    running.push(server);
    const c = createClient({ socket: { port: server.port, host: '127.0.0.1', reconnectStrategy: false } });
    c.on('error', () => undefined);
    await c.connect();
    const send = (...args: (string | Buffer)[]) =>
      c.sendCommand(args).then(
        (r) => r,
        (e: Error) => `error: ${e.message}`,
      );
    return { server, send };
  }

  /** The store itself, as its ACL user, over TLS. */
  async function storeClient() {
    const c = createClient({
      username: 'app',
      password: 's3cret',
      socket: { host: '127.0.0.1', port: tlsPort, tls: true, ca: readFileSync(file('ca.crt')), cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')), reconnectStrategy: false },
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'respai-store-tls-'));
    makeCertificates(dir);
    tlsPort = await freePort();
    store = await spawnRedisServer([
      '--port', '0', '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no',
      '--tls-port', String(tlsPort), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'),
      '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', 'yes',
      // As config lines: each word its own argument.
      '--user', 'default', 'off',
      '--user', 'app', 'on', '>s3cret', '~*', '&*', '+@all',
    ]);
  }, 60_000);

  afterAll(async () => {
    const codes = await Promise.all(running.map((s) => s.stop()));
    expect(codes.every((c) => c === 0)).toBe(true);
    if (store !== undefined && store.proc.exitCode === null) store.proc.kill('SIGTERM');
    await store?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves tensors and models through the TLS store as its ACL user; the store sees ordinary hashes', async () => {
    const { send } = await node([...tlsFiles(), '--keyspace-user', 'app', '--keyspace-password', 's3cret']);
    expect(await send('AI.TENSORSET', 'a', 'FLOAT', '1', '2', 'VALUES', '1', '2')).toBe('OK');
    expect(await send('AI.TENSORSET', 'b', 'FLOAT', '1', '2', 'VALUES', '10', '20')).toBe('OK');
    expect(await send('AI.MODELSTORE', 'add', 'ONNX', 'CPU', 'BLOB', ADD)).toBe('OK');
    expect(await send('AI.MODELEXECUTE', 'add', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c')).toBe('OK');
    expect(await send('AI.TENSORGET', 'c', 'VALUES')).toEqual(['11', '22']);
    expect(await send('SET', 'plain', 'v')).toBe('OK');
    expect(await send('GET', 'plain')).toBe('v');
    expect(String(await send('INFO', 'keyspace_store'))).toContain('keyspace_store_status:ok');
    // The store's credentials never show in INFO.
    expect(String(await send('INFO'))).not.toContain('s3cret');
    const direct = await storeClient();
    expect(await direct.hGet('c', 'respai:type')).toBe('AI_TENSOR');
    expect(await direct.type('add')).toBe('hash');
    await direct.close();
  }, 60_000);

  it('the credentials in the URL work as the options do', async () => {
    const server = await startServer(['--keyspace-url', `rediss://app:s3cret@127.0.0.1:${tlsPort}`, ...tlsFiles()]);
    running.push(server);
    const c = createClient({ socket: { port: server.port, host: '127.0.0.1', reconnectStrategy: false } });
    await c.connect();
    expect(await c.sendCommand(['AI.TENSORGET', 'a', 'VALUES'])).toEqual(['1', '2']);
    await c.close();
  }, 60_000);

  it('a wrong password: the node starts, and each command answers ERR keyspace unavailable', async () => {
    const { send } = await node([...tlsFiles(), '--keyspace-user', 'app', '--keyspace-password', 'wrong']);
    expect(await send('PING')).toBe('PONG');
    const e = String(await send('AI.TENSORGET', 'a', 'VALUES'));
    expect(e).toMatch(/^error: ERR keyspace unavailable: /);
    expect(e).toMatch(/WRONGPASS|invalid username-password/);
    expect(String(await send('GET', 'plain'))).toMatch(/^error: ERR keyspace unavailable: /);
    expect(String(await send('INFO', 'keyspace_store'))).not.toContain('keyspace_store_status:ok');
  }, 60_000);

  it('no client certificate where the store requires one: ERR keyspace unavailable', async () => {
    const { send } = await node(['--keyspace-tls-ca-file', file('ca.crt'), '--keyspace-user', 'app', '--keyspace-password', 's3cret']);
    expect(await send('PING')).toBe('PONG');
    expect(String(await send('GET', 'plain'))).toMatch(/^error: ERR keyspace unavailable: /);
  }, 60_000);
});
