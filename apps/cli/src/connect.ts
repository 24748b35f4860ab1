import { readFileSync } from 'node:fs';
import { createClient } from 'redis';

/** redis-cli's connection options. */
export interface ConnectionOptions {
  host?: string;
  port?: string;
  pass?: string;
  user?: string;
  tls?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  uri?: string;
}

export type Connection = ReturnType<typeof createClient>;

/**
 * A node-redis connection as redis-cli would open it: `-u URL` first, then -h/-p/-a/--user and
 * --tls on top; the password may also come from REDISCLI_AUTH, as redis-cli reads it. No
 * reconnection: a one-shot tool reports a lost connection instead of retrying.
 */
export function connectionConfig(o: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Parameters<typeof createClient>[0] {
  const url = o.uri === undefined ? undefined : new URL(o.uri);
  if (url && url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`-u: expected redis:// or rediss://, got ${o.uri}`);
  const tls = o.tls === true || url?.protocol === 'rediss:';
  const host = o.host ?? (url?.hostname || undefined) ?? '127.0.0.1';
  const port = Number(o.port ?? (url?.port || undefined) ?? 6379);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`invalid port ${o.port}`);
  const username = o.user ?? (url?.username ? decodeURIComponent(url.username) : undefined);
  const password = o.pass ?? (url?.password ? decodeURIComponent(url.password) : undefined) ?? env['REDISCLI_AUTH'];
  const db = url && url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  const common = { host, port, reconnectStrategy: false as const, connectTimeout: 10_000 };
  const socket = tls
    ? {
        ...common,
        tls: true as const,
        servername: host,
        rejectUnauthorized: o.insecure !== true,
        ...(o.cacert ? { ca: readFileSync(o.cacert) } : {}),
        ...(o.cert ? { cert: readFileSync(o.cert) } : {}),
        ...(o.key ? { key: readFileSync(o.key) } : {}),
      }
    : common;
  return {
    socket,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(db === undefined ? {} : { database: db }),
  };
}

export async function connect(o: ConnectionOptions): Promise<Connection> {
  const client = createClient(connectionConfig(o));
  let failure: Error | undefined;
  client.on('error', (e: Error) => (failure ??= e));
  try {
    await client.connect();
  } catch (e) {
    const cfg = connectionConfig(o)!.socket as { host: string; port: number };
    throw new Error(`Could not connect to ${cfg.host}:${cfg.port}: ${(failure ?? (e as Error)).message}`);
  }
  return client;
}
