import { describe, expect, it, vi } from 'vitest';
import { DEFAULTS, type ServerOptions } from '../config.js';
import { MapReply, OK } from '../resp/reply.js';
import { Stats, type ServerState } from '../state.js';
import { config } from './config.js';
import type { ExecContext } from './types.js';
import { args, errorOf, pctx } from './test-helpers.js';

const parse = (...xs: string[]) => config.parse(args(...xs), pctx);

function fakeCtx(overrides: Partial<ServerOptions> = {}) {
  const options: ServerOptions = { ...DEFAULTS, bind: [...DEFAULTS.bind], ...overrides };
  const onOptionChanged = vi.fn();
  const stats = new Stats();
  const server = { options, stats, onOptionChanged } as unknown as ServerState;
  return { ctx: { server } as unknown as ExecContext, options, onOptionChanged, stats };
}
const run = (ctx: ExecContext, ...xs: string[]) => config.execute(ctx, parse(...xs));
const asObject = (r: unknown) => Object.fromEntries((r as MapReply).entries as [string, unknown][]);

describe('CONFIG parse', () => {
  it('GET lower-cases the patterns', () => {
    expect(parse('get', 'MaxClients', 'port')).toEqual({ op: 'get', patterns: ['maxclients', 'port'] });
  });

  it('SET reads pairs, names as typed (errors quote them so; execute folds case)', () => {
    expect(parse('Set', 'MAXCLIENTS', '10', 'requirepass', 'PassWord')).toEqual({
      op: 'set',
      pairs: [
        ['MAXCLIENTS', '10'],
        ['requirepass', 'PassWord'],
      ],
    });
  });

  it('RESETSTAT', () => {
    expect(parse('resetstat')).toEqual({ op: 'resetstat' });
  });

  it('GET without a pattern: the config|get arity text', () => {
    expect(errorOf(() => parse('GET'))).toBe("ERR wrong number of arguments for 'config|get' command");
  });

  it('SET without a pair: the config|set arity text', () => {
    expect(errorOf(() => parse('SET'))).toBe("ERR wrong number of arguments for 'config|set' command");
    expect(errorOf(() => parse('SET', 'maxclients'))).toBe("ERR wrong number of arguments for 'config|set' command");
  });

  it('an unknown subcommand, quoted as typed', () => {
    expect(errorOf(() => parse('FOO'))).toBe("ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
  });

  // Redis 7: an odd number of arguments past the first pair is a syntax error.
  it('SET with an incomplete second pair is a syntax error like Redis', () => {
    expect(errorOf(() => parse('SET', 'a', 'b', 'c'))).toBe('ERR syntax error');
    expect(errorOf(() => parse('SET', 'maxclients', '10', 'loglevel'))).toBe('ERR syntax error');
  });

  it('RESETSTAT with an argument gets the arity text like Redis', () => {
    expect(errorOf(() => parse('RESETSTAT', 'x'))).toBe("ERR wrong number of arguments for 'config|resetstat' command");
  });
});

describe('CONFIG execute', () => {
  it('GET replies a map of matching options (glob, case-insensitive)', () => {
    const { ctx } = fakeCtx({ maxclients: 123 });
    const r = run(ctx, 'GET', 'maxclients');
    expect(r).toBeInstanceOf(MapReply);
    expect(asObject(r)).toEqual({ maxclients: '123' });
    expect(asObject(run(ctx, 'GET', 'MAXCLIENTS'))).toEqual({ maxclients: '123' });
    expect(asObject(run(ctx, 'GET', 'nope'))).toEqual({});
    expect(Object.keys(asObject(run(ctx, 'GET', 'p*')))).toEqual(['port', 'proto-max-bulk-len']);
    expect(Object.keys(asObject(run(ctx, 'GET', '*'))).sort()).toEqual([
      'aclfile', 'appendfilename', 'appendfsync', 'appendonly', 'auto-aof-rewrite-min-size', 'auto-aof-rewrite-percentage',
      'backend-memory-limit', 'backendspath', 'bind', 'dbfilename', 'dir', 'enable-loadbackend-anywhere', 'inter-op-parallelism',
      'intra-op-parallelism', 'key-load-delay', 'keyspace-check-interval', 'keyspace-cluster-nodes', 'keyspace-password',
      'keyspace-timeout', 'keyspace-tls', 'keyspace-tls-ca-file', 'keyspace-tls-cert-file', 'keyspace-tls-key-file', 'keyspace-url',
      'keyspace-user', 'loadbackend', 'logfile', 'loglevel', 'maxclients', 'metrics-max-keys', 'metrics-port',
      'model-chunk-size', 'model-execution-timeout', 'port', 'proto-max-bulk-len', 'rdb-skip-unsupported-types', 'rdbcompression',
      'requirepass', 'save', 'slowlog-log-slower-than', 'slowlog-max-len', 'threads-per-queue', 'tls-auth-clients', 'tls-ca-cert-file',
      'tls-cert-file', 'tls-key-file', 'tls-port', 'tls-protocols',
    ]);
  });

  it('GET formats values as redis-server does (lists space-separated, numbers in decimal)', () => {
    const { ctx } = fakeCtx({ bind: ['127.0.0.1', '::1'] });
    expect(asObject(run(ctx, 'GET', 'bind', 'proto-max-bulk-len', 'requirepass', 'loglevel'))).toEqual({
      bind: '127.0.0.1 ::1',
      'proto-max-bulk-len': '536870912',
      requirepass: '',
      loglevel: 'notice',
    });
  });

  it('SET changes options and notifies the server', () => {
    const { ctx, options, onOptionChanged } = fakeCtx();
    expect(run(ctx, 'SET', 'maxclients', '50', 'proto-max-bulk-len', '2mb', 'loglevel', 'WARNING')).toBe(OK);
    expect(options.maxclients).toBe(50);
    expect(options['proto-max-bulk-len']).toBe(2 * 1024 * 1024);
    expect(options.loglevel).toBe('warning');
    expect(onOptionChanged.mock.calls.map((c) => c[0])).toEqual(['maxclients', 'proto-max-bulk-len', 'loglevel']);
  });

  it('SET is all or nothing', () => {
    const { ctx, options, onOptionChanged } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'maxclients', '50', 'loglevel', 'loud'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing",
    );
    expect(options.maxclients).toBe(10000);
    expect(onOptionChanged).not.toHaveBeenCalled();
  });

  it('SET refuses unknown and immutable options', () => {
    const { ctx } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'nope', '1'))).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    expect(errorOf(() => run(ctx, 'SET', 'logfile', 'x'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config",
    );
  });

  // Redis 7's texts (test/config.redis.test.ts compares them with a real redis-server).
  it("words a refused boolean or enum value as Redis does", () => {
    const { ctx } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'rdbcompression', 'maybe'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument must be 'yes' or 'no'",
    );
    expect(errorOf(() => run(ctx, 'SET', 'appendfsync', 'sometimes'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no",
    );
  });

  it('quotes an unknown option name as typed like Redis', () => {
    const { ctx } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'Foo', 'bar'))).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'Foo'");
  });

  // Redis 7.0.15 quotes the second occurrence as typed.
  it('refuses a duplicate option like Redis', () => {
    const { ctx, options } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'maxclients', '10', 'MAXCLIENTS', '20'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter",
    );
    expect(options.maxclients).toBe(10000);
  });

  // Redis 7 checks every name (unknown, immutable, duplicate) before any value.
  it('checks every name before any value like Redis', () => {
    const { ctx } = fakeCtx();
    expect(errorOf(() => run(ctx, 'SET', 'maxclients', 'abc', 'logfile', 'x'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config",
    );
  });

  it('RESETSTAT clears the counters', () => {
    const { ctx, stats } = fakeCtx();
    stats.keyspaceHits = 5;
    stats.totalCommands = 9;
    expect(run(ctx, 'RESETSTAT')).toBe(OK);
    expect(stats.keyspaceHits).toBe(0);
    expect(stats.totalCommands).toBe(0);
  });
});
