import { describe, expect, it } from 'vitest';
import { connectionConfig } from './connect.js';

describe("connectionConfig: redis-cli's options", () => {
  it('defaults to 127.0.0.1:6379 without TLS, and no reconnection', () => {
    expect(connectionConfig({}, {})).toEqual({ socket: { host: '127.0.0.1', port: 6379, reconnectStrategy: false, connectTimeout: 10_000 } });
  });
  it('-u with user, password and db; -h/-p/-a/--user override it', () => {
    expect(connectionConfig({ uri: 'redis://al%40ice:p%3Ass@db.example:6400/2' }, {})).toMatchObject({
      socket: { host: 'db.example', port: 6400 },
      username: 'al@ice',
      password: 'p:ss',
      database: 2,
    });
    expect(connectionConfig({ uri: 'redis://u:p@h:1', host: 'x', port: '2', pass: 'q', user: 'v' }, {})).toMatchObject({
      socket: { host: 'x', port: 2 },
      username: 'v',
      password: 'q',
    });
  });
  it('REDISCLI_AUTH when no password is given', () => {
    expect(connectionConfig({}, { REDISCLI_AUTH: 'env' }).password).toBe('env');
    expect(connectionConfig({ pass: 'flag' }, { REDISCLI_AUTH: 'env' }).password).toBe('flag');
  });
  it('--tls or rediss://, verifying the server unless --insecure', () => {
    expect(connectionConfig({ tls: true, host: 'h' }, {}).socket).toMatchObject({ tls: true, servername: 'h', rejectUnauthorized: true });
    expect(connectionConfig({ uri: 'rediss://h:7000', insecure: true }, {}).socket).toMatchObject({ tls: true, port: 7000, rejectUnauthorized: false });
  });
  it('refuses other schemes and bad ports', () => {
    expect(() => connectionConfig({ uri: 'http://h' }, {})).toThrow('-u: expected redis:// or rediss://, got http://h');
    expect(() => connectionConfig({ port: '70000' }, {})).toThrow('invalid port 70000');
  });
});
