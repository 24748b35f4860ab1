/**
 * ACL users, AUTH and SLOWLOG compared reply for reply, byte for byte, with a real redis-server 7
 * started by the test: the same commands go to both over raw RESP connections. Then what only
 * respai has: @ai, and key patterns that hold through DAGs, TorchScript scripts and Lua.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxType, identityModel } from '@respai/backend-onnx/testing';
import { startServer, type RunningServer } from './helpers/server.js';
import { hasRedisServer, startRedisServer, type RedisServer } from './helpers/redis-server.js';
import { RawClient, type Arg } from './helpers/raw-client.js';

const run = hasRedisServer ? describe : describe.skip;

run('ACL, AUTH and SLOWLOG as redis-server 7 answers them', () => {
  let redis: RedisServer;
  let respai: RunningServer;
  const open: RawClient[] = [];
  const connect = async () => {
    const pair = await Promise.all([RawClient.connect(redis.port), RawClient.connect(respai.port)]);
    open.push(...pair);
    return pair;
  };
  /** Sends one command to both; the replies must be the same bytes. */
  const same = async ([a, b]: RawClient[], ...args: Arg[]) => {
    const [ra, rb] = await Promise.all([a!.call(...args), b!.call(...args)]);
    expect(rb, args.map(String).join(' ')).toBe(ra);
    return rb;
  };

  beforeAll(async () => {
    [redis, respai] = await Promise.all([startRedisServer(), startServer([])]);
  }, 30_000);
  afterAll(async () => {
    for (const c of open) c.close();
    await Promise.all([redis?.stop(), respai?.stop()]);
  });

  it('SETUSER, GETUSER, LIST, USERS, WHOAMI, DELUSER, CAT and their errors', async () => {
    const c = await connect();
    const cases: Arg[][] = [
      ['ACL', 'LIST'],
      ['ACL', 'GETUSER', 'default'],
      ['ACL', 'SETUSER', 'alice', 'on', '>pw', '~tenant1:*', '+@all', '-@dangerous'],
      ['ACL', 'GETUSER', 'alice'],
      ['ACL', 'SETUSER', 'bob'],
      ['ACL', 'GETUSER', 'bob'],
      ['ACL', 'SETUSER', 'carol', 'on', 'nopass', 'allkeys', 'nocommands', '+get', '&chan*'],
      ['ACL', 'GETUSER', 'carol'],
      ['ACL', 'SETUSER', 'dave', 'on', '#' + 'a'.repeat(64), '~a*', '~b', 'resetkeys', '~x', '+@read', '-get', 'allcommands'],
      // Categories, then single commands: Redis lists those in its hash table's order, so one only.
      ['ACL', 'SETUSER', 'erin', 'reset', 'on', '>one', '>two', '<one', '~*', '+@hash', '-hset'],
      ['ACL', 'GETUSER', 'erin'],
      ['ACL', 'LIST'],
      ['ACL', 'USERS'],
      ['ACL', 'WHOAMI'],
      ['ACL', 'GETUSER', 'nobody'],
      ['ACL', 'SETUSER', 'u1', '>x', '#abc'],
      ['ACL', 'SETUSER', 'u1', '<nope'],
      ['ACL', 'SETUSER', 'u1', 'allkeys', '~x'],
      ['ACL', 'SETUSER', 'u1', 'allchannels', '&x'],
      ['ACL', 'SETUSER', 'u1', '+nosuchcommand'],
      ['ACL', 'SETUSER', 'u1', '-@nosuchcategory'],
      ['ACL', 'SETUSER', 'u1', 'bogus'],
      ['ACL', 'SETUSER', 'a b'],
      ['ACL', 'USERS'],
      ['ACL', 'DELUSER', 'default'],
      ['ACL', 'DELUSER', 'bob', 'nobody', 'bob'],
      ['ACL', 'SAVE'],
      ['ACL', 'LOAD'],
      ['ACL', 'CAT', 'nope'],
      ['ACL', 'CAT', 'a', 'b'],
      ['ACL', 'GETUSER'],
      ['ACL', 'WHOAMI', 'x'],
      ['ACL', 'DELUSER'],
      ['ACL', 'SETUSER'],
      ['ACL', 'FOO'],
      ['ACL'],
    ];
    for (const args of cases) await same(c, ...args);
  });

  it('AUTH and HELLO AUTH as users; NOPERM for commands and keys, EVAL keys and redis.call', async () => {
    const admin = await connect();
    await same(admin, 'ACL', 'SETUSER', 'tenant', 'on', '>pw', '~tenant1:*', '+@all', '-@dangerous', '-@admin');
    await same(admin, 'ACL', 'SETUSER', 'off-user', 'off', '>pw', '+@all');
    await same(admin, 'SET', 'tenant2:x', 'secret');
    const c = await connect();
    const cases: Arg[][] = [
      ['AUTH', 'tenant', 'wrong'],
      ['AUTH', 'nobody', 'pw'],
      ['AUTH', 'off-user', 'pw'],
      ['AUTH', 'onlyone'],
      ['HELLO', '2', 'AUTH', 'tenant', 'wrong'],
      ['ACL', 'WHOAMI'],
      ['AUTH', 'tenant', 'pw'],
      ['ACL', 'WHOAMI'],
      ['GET', 'tenant2:x'],
      ['SET', 'tenant1:x', 'v'],
      ['GET', 'tenant1:x'],
      ['MGET', 'tenant1:x', 'tenant2:x'],
      ['DEL', 'tenant1:x', 'tenant2:x'],
      ['RENAME', 'tenant1:x', 'tenant2:y'],
      ['FLUSHALL'],
      ['CONFIG', 'GET', 'port'],
      ['SLOWLOG', 'LEN'],
      ['KEYS', 'nomatch*'],
      ['EVAL', 'return 1', '1', 'tenant2:x'],
      ['EVAL', "return redis.call('get', 'tenant2:x')", '0'],
      ['EVAL', "return redis.pcall('get', 'tenant2:x')", '0'],
      ['EVAL', "return redis.call('flushall')", '0'],
      ['EVAL', "return redis.call('get', KEYS[1])", '1', 'tenant1:x'],
      ['PING'],
      ['AUTH', 'default', 'anything'],
      ['ACL', 'WHOAMI'],
    ];
    for (const args of cases) await same(c, ...args);
  });

  it('requirepass is the default user password', async () => {
    const admin = await connect();
    await same(admin, 'CONFIG', 'SET', 'requirepass', 'secret');
    await same(admin, 'ACL', 'LIST');
    const c = await connect();
    for (const args of [['PING'], ['AUTH', 'wrong'], ['AUTH', 'secret'], ['PING'], ['AUTH', 'default', 'secret'], ['ACL', 'WHOAMI']] as Arg[][]) await same(c, ...args);
    await same(admin, 'CONFIG', 'SET', 'requirepass', '');
    await same(admin, 'ACL', 'GETUSER', 'default');
  });

  it('SLOWLOG: GET, LEN, RESET, HELP, the options and their errors; secrets redacted', async () => {
    const c = await connect();
    const cases: Arg[][] = [
      ['CONFIG', 'GET', 'slowlog-log-slower-than'],
      ['CONFIG', 'GET', 'slowlog-max-len'],
      ['SLOWLOG', 'HELP'],
      ['SLOWLOG', 'GET', '-2'],
      ['SLOWLOG', 'GET', 'abc'],
      ['SLOWLOG', 'FOO'],
      ['SLOWLOG', 'GET', '1', '2'],
      ['SLOWLOG', 'LEN', '1'],
      ['SLOWLOG', 'RESET', 'x'],
      ['SLOWLOG'],
      ['CONFIG', 'SET', 'slowlog-log-slower-than', '-1'],
      ['SLOWLOG', 'RESET'],
      ['GET', 'x'],
      ['SLOWLOG', 'LEN'],
      ['SLOWLOG', 'GET'],
    ];
    for (const args of cases) await same(c, ...args);
    // Everything logged from here: the entries agree but for times, ids and the client's port.
    await same(c, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await same(c, 'SET', 'k', 'x'.repeat(200));
    await same(c, 'ACL', 'SETUSER', 'zz', '>secret');
    await same(c, 'AUTH', 'zz', 'secret');
    await same(c, 'MSET', ...Array.from({ length: 40 }, (_, i) => `k${i}`));
    const [a, b] = await Promise.all([c[0]!.call('SLOWLOG', 'GET', '4'), c[1]!.call('SLOWLOG', 'GET', '4')]);
    // id, timestamp, duration and the client's address differ; the rest must not.
    const norm = (r: string) => r.replace(/:\d+\r\n:\d+\r\n:\d+\r\n\*/g, ':N\r\n:T\r\n:D\r\n*').replace(/127\.0\.0\.1:\d+/g, 'ADDR').replace(/\$\d+\r\nADDR/g, '$L\r\nADDR');
    expect(norm(b)).toBe(norm(a));
    await same(c, 'CONFIG', 'SET', 'slowlog-max-len', '1');
    await same(c, 'SLOWLOG', 'LEN');
    await same(c, 'CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    await same(c, 'CONFIG', 'SET', 'slowlog-max-len', '128');
  });
});

describe('ACL on what only respai has', () => {
  let respai: RunningServer;
  let dir: string;
  let admin: RawClient;
  let tenant: RawClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'respai-acl-'));
    const aclfile = join(dir, 'users.acl');
    writeFileSync(aclfile, ['user default on nopass ~* &* +@all', 'user tenant on >pw ~tenant1:* resetchannels +@all -@admin -@dangerous', 'user reader on >pw ~* +@read -@ai', ''].join('\n'));
    respai = await startServer(['--aclfile', aclfile]);
    admin = await RawClient.connect(respai.port);
    tenant = await RawClient.connect(respai.port);
    expect(await tenant.call('AUTH', 'tenant', 'pw')).toBe('+OK\r\n');
    for (const key of ['tenant1:m', 'tenant2:m']) expect(await admin.call('AI.MODELSTORE', key, 'ONNX', 'CPU', 'BLOB', identityModel(OnnxType.FLOAT, ['N', 2]))).toBe('+OK\r\n');
    for (const key of ['tenant1:x', 'tenant2:x']) expect(await admin.call('AI.TENSORSET', key, 'FLOAT', '1', '2', 'VALUES', '1', '2')).toBe('+OK\r\n');
  }, 60_000);
  afterAll(async () => {
    admin?.close();
    tenant?.close();
    await respai?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const NOPERM_KEY = '-NOPERM this user has no permissions to access one of the keys used as arguments\r\n';

  it('the aclfile is loaded at start; ACL CAT ai lists the AI commands; AI.CONFIG is @admin @dangerous', async () => {
    expect(await admin.call('ACL', 'USERS')).toBe('*3\r\n$7\r\ndefault\r\n$6\r\nreader\r\n$6\r\ntenant\r\n');
    const ai = await admin.call('ACL', 'CAT', 'ai');
    expect(ai).toContain('ai.modelexecute');
    expect(ai).toContain('ai.dagexecute_ro');
    expect(ai).not.toContain('$3\r\nget\r\n');
    expect(await admin.call('ACL', 'CAT', 'dangerous')).toContain('ai.config');
    expect(await tenant.call('AI.CONFIG', 'GET', 'BACKENDSPATH')).toBe("-NOPERM this user has no permissions to run the 'ai.config' command\r\n");
  });

  it('a user without @ai is denied AI.MODELEXECUTE (and may still read)', async () => {
    const reader = await RawClient.connect(respai.port);
    try {
      expect(await reader.call('AUTH', 'reader', 'pw')).toBe('+OK\r\n');
      expect(await reader.call('AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'tenant1:y')).toBe(
        "-NOPERM this user has no permissions to run the 'ai.modelexecute' command\r\n",
      );
      expect(await reader.call('AI.TENSORGET', 'tenant1:x', 'META')).toBe("-NOPERM this user has no permissions to run the 'ai.tensorget' command\r\n");
      expect(await reader.call('EXISTS', 'tenant1:x')).toBe(':1\r\n');
    } finally {
      reader.close();
    }
  });

  it('~tenant1:* cannot reach tenant2 keys through MODELEXECUTE, a DAG, SCRIPTEXECUTE or Lua', async () => {
    const t = (...a: Arg[]) => tenant.call(...a);
    // Its own keys work.
    expect(await t('AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'tenant1:y')).toBe('+OK\r\n');
    // Another tenant's model, input or output.
    expect(await t('AI.MODELEXECUTE', 'tenant2:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'tenant1:y')).toBe(NOPERM_KEY);
    expect(await t('AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant2:x', 'OUTPUTS', '1', 'tenant1:y')).toBe(NOPERM_KEY);
    expect(await t('AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'tenant2:y')).toBe(NOPERM_KEY);
    expect(await t('AI.TENSORGET', 'tenant2:x', 'VALUES')).toBe(NOPERM_KEY);
    // DAGs: LOAD, PERSIST, and an op's model.
    const dag = (...a: Arg[]) => t('AI.DAGEXECUTE', ...a);
    expect(await dag('LOAD', '1', 'tenant2:x', '|>', 'AI.TENSORGET', 'tenant2:x', 'VALUES')).toBe(NOPERM_KEY);
    expect(await dag('LOAD', '1', 'tenant1:x', 'PERSIST', '1', 'tenant2:z', '|>', 'AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'tenant2:z')).toBe(NOPERM_KEY);
    expect(await dag('LOAD', '1', 'tenant1:x', '|>', 'AI.MODELEXECUTE', 'tenant2:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'o', '|>', 'AI.TENSORGET', 'o', 'VALUES')).toBe(NOPERM_KEY);
    // A missing key of another tenant is refused the same way: its existence is not told.
    expect(await dag('LOAD', '1', 'tenant2:missing', '|>', 'AI.TENSORGET', 'tenant2:missing', 'VALUES')).toBe(NOPERM_KEY);
    expect(await dag('LOAD', '1', 'tenant1:x', '|>', 'AI.MODELEXECUTE', 'tenant1:m', 'INPUTS', '1', 'tenant1:x', 'OUTPUTS', '1', 'o', '|>', 'AI.TENSORGET', 'o', 'VALUES')).toBe(
      '*2\r\n+OK\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n',
    );
    // Lua: KEYS, and keys reached by redis.call.
    expect(await t('EVAL', "return redis.call('GET', KEYS[1])", '1', 'tenant2:x')).toBe(NOPERM_KEY);
    expect(await t('EVAL', "return redis.pcall('TYPE', 'tenant2:x')", '0')).toBe(
      "-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments\r\n",
    );
    expect(await t('EVAL', "return redis.call('TYPE', 'tenant1:x')", '0')).toBe('+AI_TENSOR\r\n');
  });

  it('TorchScript: a script cannot reach past its caller through KEYS or redis.execute', async () => {
    const src = [
      'def peek(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    redis.execute("SET", args[0], "1")',
      '    return tensors[0]',
      '',
    ].join('\n');
    const stored = await admin.call('AI.SCRIPTSTORE', 'tenant1:s', 'CPU', 'ENTRY_POINTS', '1', 'peek', 'SOURCE', src);
    if (stored !== '+OK\r\n') throw new Error(`TORCH unavailable: ${stored}`);
    const t = (...a: Arg[]) => tenant.call(...a);
    const exec = (keys: string[], arg: string) =>
      t('AI.SCRIPTEXECUTE', 'tenant1:s', 'peek', 'KEYS', String(keys.length), ...keys, 'INPUTS', '1', 'tenant1:x', 'ARGS', '1', arg, 'OUTPUTS', '1', 'tenant1:o');
    // Declaring another tenant's key is refused before the script runs.
    expect(await exec(['tenant2:{a}'], 'tenant2:{a}')).toBe(NOPERM_KEY);
    // A key of the same hash tag as a declared one is in reach of redis.execute, but not of the caller's ACL.
    expect(await exec(['tenant1:{a}'], 'tenant2:{a}')).toBe(
      "-ERR Redis command returned an error: ERR The user executing the script can't access at least one of the keys mentioned in the command arguments\r\n",
    );
    expect(await admin.call('EXISTS', 'tenant2:{a}')).toBe(':0\r\n');
    expect(await exec(['tenant1:{a}'], 'tenant1:{a}')).toBe('+OK\r\n');
    expect(await admin.call('GET', 'tenant1:{a}')).toBe('$1\r\n1\r\n');
    // A script input from another tenant.
    expect(await t('AI.SCRIPTEXECUTE', 'tenant1:s', 'peek', 'INPUTS', '1', 'tenant2:x', 'ARGS', '1', 'tenant1:q', 'OUTPUTS', '1', 'tenant1:o')).toBe(NOPERM_KEY);
  }, 60_000);

  it('ACL SAVE writes the users; ACL LOAD reads them back and closes the connections of replaced users', async () => {
    expect(await admin.call('ACL', 'SETUSER', 'newbie', 'on', '>x', '~n:*', '+get')).toBe('+OK\r\n');
    expect(await admin.call('ACL', 'SAVE')).toBe('+OK\r\n');
    const saved = readFileSync(join(dir, 'users.acl'), 'utf8');
    expect(saved).toContain('user newbie on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~n:* resetchannels -@all +get\n');
    expect(await admin.call('ACL', 'DELUSER', 'newbie')).toBe(':1\r\n');
    expect(await admin.call('ACL', 'LOAD')).toBe('+OK\r\n');
    expect(await admin.call('ACL', 'GETUSER', 'newbie')).toContain('~n:*');
    // `tenant` was replaced by its loaded copy: its connection is gone, as in Redis.
    await expect(tenant.call('PING')).rejects.toThrow('connection closed');
    tenant = await RawClient.connect(respai.port);
    expect(await tenant.call('AUTH', 'tenant', 'pw')).toBe('+OK\r\n');
  });
});
