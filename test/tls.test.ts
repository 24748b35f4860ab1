/**
 * TLS with redis-server's options, end to end: certificates made here by openssl (a CA, a server
 * and a client certificate), then redis-cli --tls (Debian's redis-tools) and node-redis over TLS;
 * tls-auth-clients yes / optional / no; a plain port and a TLS port open together; port 0 with a
 * tls-port leaves plain TCP closed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startServer, type RunningServer } from './helpers/server.js';
import { freePort } from './helpers/redis-server.js';
import { makeCertificates } from './helpers/certs.js';

let dir: string;
const file = (name: string) => join(dir, name);

function redisCli(port: number, extra: string[], ...command: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--tls', '--cacert', file('ca.crt'), ...extra, ...command], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: (stdout + stderr).trim() });
    });
  });
}
const clientCert = () => ['--cert', file('client.crt'), '--key', file('client.key')];

function tlsArgs(tlsPort: number, auth: string): string[] {
  return ['--tls-port', String(tlsPort), '--tls-cert-file', file('server.crt'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.crt'), '--tls-auth-clients', auth];
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'respai-tls-'));
  makeCertificates(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS, tls-auth-clients yes (the default), no plain port', () => {
  let server: RunningServer;
  let tlsPort: number;
  beforeAll(async () => {
    tlsPort = await freePort();
    server = await startServer(['--port', '0', ...tlsArgs(tlsPort, 'yes')]);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('redis-cli --tls with a client certificate', async () => {
    expect(await redisCli(tlsPort, clientCert(), 'SET', 'greeting', 'hello over TLS')).toEqual({ code: 0, out: 'OK' });
    expect(await redisCli(tlsPort, clientCert(), 'GET', 'greeting')).toEqual({ code: 0, out: 'hello over TLS' });
    expect((await redisCli(tlsPort, clientCert(), 'AI.TENSORSET', 't', 'FLOAT', '2', 'VALUES', '1', '2')).out).toBe('OK');
  });

  it('node-redis over TLS', async () => {
    const c = createClient({
      socket: { host: '127.0.0.1', port: tlsPort, tls: true, ca: readFileSync(file('ca.crt')), cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')) },
    });
    await c.connect();
    try {
      expect(await c.ping()).toBe('PONG');
      expect(await c.sendCommand(['AI.TENSORGET', 't', 'VALUES'])).toEqual(['1', '2']);
      const big = 'x'.repeat(1 << 20);
      expect(await c.set('big', big)).toBe('OK');
      expect((await c.get('big'))?.length).toBe(1 << 20);
    } finally {
      await c.quit();
    }
  });

  it('refuses a client without a certificate, or with one the CA did not sign', async () => {
    expect((await redisCli(tlsPort, [], 'PING')).out).not.toContain('PONG');
    expect((await redisCli(tlsPort, ['--cert', file('stranger.crt'), '--key', file('stranger.key')], 'PING')).out).not.toContain('PONG');
    // The server is unharmed.
    expect((await redisCli(tlsPort, clientCert(), 'PING')).out).toBe('PONG');
  });

  it('port 0 next to tls-port: no plain TCP listener', async () => {
    expect(server.output()).toMatch(/"port":0,"tlsPort":\d+[^\n]*Ready to accept connections/);
    expect((await redisCli(tlsPort, clientCert(), 'CONFIG', 'GET', 'port')).out).toBe('port\n0');
  });
});

describe('TLS next to a plain port; tls-auth-clients optional and no', () => {
  it('optional: with or without a client certificate; a plain port open too', async () => {
    const [port, tlsPort] = [await freePort(), await freePort()];
    const server = await startServer(['--port', String(port), ...tlsArgs(tlsPort, 'optional')]);
    try {
      expect((await redisCli(tlsPort, [], 'PING')).out).toBe('PONG');
      expect((await redisCli(tlsPort, clientCert(), 'PING')).out).toBe('PONG');
      expect((await redisCli(tlsPort, ['--cert', file('stranger.crt'), '--key', file('stranger.key')], 'PING')).out).not.toContain('PONG');
      expect(await canConnect(port)).toBe(true);
      const plain = createClient({ socket: { host: '127.0.0.1', port } });
      await plain.connect();
      expect(await plain.ping()).toBe('PONG');
      await plain.quit();
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('no: no client certificate asked; tls-protocols TLSv1.3 only refuses a TLSv1.2 client', async () => {
    const tlsPort = await freePort();
    const server = await startServer([...tlsArgs(tlsPort, 'no'), '--tls-protocols', 'TLSv1.3']);
    try {
      expect((await redisCli(tlsPort, [], 'PING')).out).toBe('PONG');
      const c12 = createClient({ socket: { host: '127.0.0.1', port: tlsPort, tls: true, ca: readFileSync(file('ca.crt')), maxVersion: 'TLSv1.2', reconnectStrategy: false } });
      c12.on('error', () => undefined);
      await expect(c12.connect()).rejects.toThrow();
    } finally {
      await server.stop();
    }
  }, 30_000);

  it('a missing certificate file stops the start with a clear message', async () => {
    await expect(startServer(['--tls-port', String(await freePort()), '--tls-cert-file', file('none.crt'), '--tls-key-file', file('server.key'), '--tls-auth-clients', 'no'])).rejects.toThrow(
      /TLS: tls-cert-file '.*none\.crt': ENOENT/,
    );
  });
});
