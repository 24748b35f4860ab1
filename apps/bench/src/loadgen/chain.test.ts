import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplyScanner, encodeCommand, runLoad } from './index.js';

/**
 * A fake server answering every command after `delayMs`, recording how many commands of one
 * connection were ever waiting for a reply at once; `FAIL` gets an error reply.
 */
function fakeServer(delayMs: number) {
  const seen = { commands: 0, maxOutstanding: 0 };
  const server = net.createServer((sock) => {
    let outstanding = 0;
    const scanner = new ReplyScanner(); // commands are multibulks: the reply scanner counts them too
    sock.on('data', (chunk: Buffer) => {
      const n = scanner.feed(chunk);
      const failing = chunk.includes('FAIL');
      seen.commands += n;
      outstanding += n;
      seen.maxOutstanding = Math.max(seen.maxOutstanding, outstanding);
      for (let i = 0; i < n; i++) {
        setTimeout(() => {
          outstanding--;
          if (!sock.destroyed) sock.write(failing ? '-ERR failed\r\n' : '+OK\r\n');
        }, delayMs);
      }
    });
    sock.on('error', () => {});
  });
  return new Promise<{ port: number; seen: typeof seen; close: () => void }>((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as net.AddressInfo).port, seen, close: () => server.close() }),
    );
  });
}

describe('runLoad with chain', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('sends each step only after the previous reply, and counts one sample per chain', async () => {
    const srv = await fakeServer(2);
    close = srv.close;
    const r = await runLoad({
      port: srv.port,
      connections: 2,
      requests: () => [encodeCommand(['A']), encodeCommand(['B']), encodeCommand(['C'])],
      chain: 3,
      windowMs: 150,
      warmupMs: 50,
      maxWindows: 3,
    });
    expect(srv.seen.maxOutstanding).toBe(1);
    expect(r.errors).toBe(0);
    // Each chain is three 2 ms round trips in turn: its latency is at least 6 ms, not 2.
    expect(r.p50Us).toBeGreaterThanOrEqual(6000);
    expect(r.histogram.count).toBeGreaterThan(0);
    // ~2 connections / ~6.5 ms per chain: far below the per-command rate.
    expect(r.opsPerSec).toBeLessThan(2 * (1000 / 6) * 1.2);
  });

  it('counts a chain with a failing step as one error', async () => {
    const srv = await fakeServer(1);
    close = srv.close;
    const r = await runLoad({
      port: srv.port,
      connections: 1,
      requests: () => [encodeCommand(['A']), encodeCommand(['FAIL']), encodeCommand(['C'])],
      chain: 3,
      windowMs: 100,
      warmupMs: 20,
      maxWindows: 2,
    });
    expect(r.opsPerSec).toBe(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.firstError).toBe('ERR failed');
  });

  it('refuses a chain with pipelining or a request list it does not divide', async () => {
    const srv = await fakeServer(1);
    close = srv.close;
    const base = { port: srv.port, connections: 1, windowMs: 50, warmupMs: 10, maxWindows: 1 };
    await expect(runLoad({ ...base, pipeline: 2, chain: 2, requests: () => [encodeCommand(['A']), encodeCommand(['B'])] })).rejects.toThrow(/pipeline 1/);
    await expect(runLoad({ ...base, chain: 2, requests: () => [encodeCommand(['A'])] })).rejects.toThrow(/multiple of 2/);
  });
});
