import { readFileSync } from 'node:fs';
import { createServer, type SecureVersion, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { ServerOptions } from './config.js';

const VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * redis-server's TLS options as Node's: `tls-protocols` names versions, Node takes a range, so
 * the range spans the lowest to the highest named (docs/operations.md). Throws a message fit for
 * the start-up error when a file cannot be read or a value is wrong.
 */
export function tlsOptions(o: ServerOptions): TlsOptions {
  const read = (option: keyof ServerOptions, required: boolean): Buffer | undefined => {
    const path = o[option] as string;
    if (path === '') {
      if (required) throw new Error(`TLS: ${option} is required with tls-port`);
      return undefined;
    }
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`TLS: ${option} '${path}': ${(e as Error).message}`);
    }
  };
  const auth = o['tls-auth-clients'];
  const ca = read('tls-ca-cert-file', auth !== 'no');
  const words = o['tls-protocols'].split(/\s+/).filter((w) => w !== '');
  const named = (words.length === 0 ? ['TLSv1.2', 'TLSv1.3'] : words).map((w) => {
    const v = VERSIONS.find((x) => x.toLowerCase() === w.toLowerCase());
    if (v === undefined) throw new Error(`TLS: tls-protocols: unknown protocol '${w}' (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)`);
    return VERSIONS.indexOf(v);
  });
  return {
    cert: read('tls-cert-file', true),
    key: read('tls-key-file', true),
    ...(ca === undefined ? {} : { ca }),
    minVersion: VERSIONS[Math.min(...named)]!,
    maxVersion: VERSIONS[Math.max(...named)]!,
    // yes: a client certificate signed by the CA is required; optional: checked when presented.
    requestCert: auth !== 'no',
    rejectUnauthorized: auth === 'yes',
  };
}

/**
 * A TLS listener handing each connection that completed its handshake to `accept`. With
 * `tls-auth-clients optional`, a client that presents a certificate the CA did not sign is
 * dropped; one that presents none is served.
 */
export function createTlsServer(o: ServerOptions, accept: (socket: TLSSocket) => void, onError: (e: Error) => void): Server {
  const optional = o['tls-auth-clients'] === 'optional';
  const server = createServer(tlsOptions(o), (socket) => {
    if (optional && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
      socket.destroy();
      return;
    }
    accept(socket);
  });
  // Failed handshakes (plain text on the TLS port, a refused certificate) concern one peer only.
  server.on('tlsClientError', (e) => onError(e));
  return server;
}
