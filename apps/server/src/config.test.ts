import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, formatValue, loadOptions, parseMemory, setOption, type ServerOptions } from './config.js';
import { errorOf } from './commands/test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'respai-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
/** Writes a config file into the temp folder and returns its path. */
function confFile(text: string): string {
  const p = join(dir, `respai-${fileNo++}.conf`);
  writeFileSync(p, text);
  return p;
}

/** The ConfigError `fn` throws (anything else is rethrown). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const fresh = (): ServerOptions => ({ ...DEFAULTS, bind: [...DEFAULTS.bind], loadbackend: [] });
const invalid = (name: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;

describe('loadOptions: flags', () => {
  // Pinned as documented (docs/server.md, docs/persistence.md): redis-server's defaults for its
  // own options (test/config.redis.test.ts compares them with a real one), the original engine's
  // for its module configuration (MODEL_EXECUTION_TIMEOUT 5000 ms, MODEL_CHUNK_SIZE 511 MiB).
  it('no arguments: the documented defaults, no config file', () => {
    const r = loadOptions([]);
    expect(r.options).toEqual({
      port: 6379,
      bind: ['127.0.0.1'],
      requirepass: '',
      maxclients: 10000,
      'proto-max-bulk-len': 536870912,
      loglevel: 'notice',
      logfile: '',
      backendspath: '',
      loadbackend: [],
      'threads-per-queue': 1,
      'intra-op-parallelism': 0,
      'inter-op-parallelism': 0,
      'model-execution-timeout': 5000,
      'backend-memory-limit': 0,
      'model-chunk-size': 535822336,
      dir: '.',
      dbfilename: 'dump.rdb',
      save: '',
      appendonly: 'no',
      appendfilename: 'appendonly.respai',
      appendfsync: 'everysec',
      'auto-aof-rewrite-percentage': 100,
      'auto-aof-rewrite-min-size': 67108864,
      rdbcompression: 'yes',
      'rdb-skip-unsupported-types': 'no',
      'key-load-delay': 0,
      // Redis 7's defaults where Redis has the option (slowlog, TLS), respai's own otherwise.
      'metrics-port': 0,
      'metrics-max-keys': 100,
      'slowlog-log-slower-than': 10000,
      'slowlog-max-len': 128,
      'tls-port': 0,
      'tls-cert-file': '',
      'tls-key-file': '',
      'tls-ca-cert-file': '',
      'tls-auth-clients': 'yes',
      'tls-protocols': '', // as Redis: empty means TLSv1.2 and TLSv1.3
      aclfile: '',
      'enable-loadbackend-anywhere': 'no',
      // External keyspace (docs/scale-out.md): off unless a store is named.
      'keyspace-url': '',
      'keyspace-cluster-nodes': '',
      'keyspace-user': '',
      'keyspace-password': '',
      'keyspace-tls': 'no',
      'keyspace-tls-ca-file': '',
      'keyspace-tls-cert-file': '',
      'keyspace-tls-key-file': '',
      'keyspace-timeout': 5000,
      'keyspace-check-interval': 1000,
    });
    expect(r.configFile).toBeUndefined();
    expect('configFile' in r).toBe(false);
  });

  it('does not share the defaults’ arrays', () => {
    const r = loadOptions([]);
    r.options.bind.push('x');
    expect(DEFAULTS.bind).toEqual(['127.0.0.1']);
  });

  it('reads --name value flags, names case-insensitively', () => {
    const { options } = loadOptions([
      '--port',
      '6400',
      '--BIND',
      '0.0.0.0',
      '::1',
      '--requirepass',
      'secret',
      '--maxclients',
      '50',
      '--proto-max-bulk-len',
      '1gb',
      '--loglevel',
      'WARNING',
      '--logfile',
      '/tmp/x.log',
    ]);
    expect(options).toMatchObject({
      port: 6400,
      bind: ['0.0.0.0', '::1'],
      requirepass: 'secret',
      maxclients: 50,
      'proto-max-bulk-len': 1024 ** 3,
      loglevel: 'warning',
      logfile: '/tmp/x.log',
    });
  });

  it('a list value may come as one space-separated argument', () => {
    expect(loadOptions(['--bind', '127.0.0.1 ::1']).options.bind).toEqual(['127.0.0.1', '::1']);
  });

  it('the last of a repeated flag wins', () => {
    expect(loadOptions(['--port', '1', '--port', '2']).options.port).toBe(2);
  });

  it('accepts RedisAI module names (THREADS_PER_QUEUE) as well as redis.conf style', () => {
    const { options } = loadOptions(['--THREADS_PER_QUEUE', '4', '--model-execution-timeout', '1000']);
    expect(options['threads-per-queue']).toBe(4);
    expect(options['model-execution-timeout']).toBe(1000);
  });

  it.each([
    ['512mb', 512 * 1024 ** 2],
    ['1gb', 1024 ** 3],
    ['1GB', 1024 ** 3],
    ['100k', 100_000],
    ['100kb', 102_400],
    ['2m', 2_000_000],
    ['3g', 3_000_000_000],
    ['123', 123],
    ['123b', 123],
  ])('memory value %s = %d bytes', (text, bytes) => {
    expect(loadOptions(['--model-chunk-size', text]).options['model-chunk-size']).toBe(bytes);
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each(['abc', '1.5mb', '-1', '10tb', 'mb', '1 mb', '99999999999999999999'])('memory value %j is refused', (text) => {
    expect(parseMemory(text)).toBeUndefined();
    expect(configError(() => loadOptions(['--model-chunk-size', text]))).toBeInstanceOf(ConfigError);
  });

  it.each([
    [['--port', 'abc'], 'port'],
    [['--port', '70000'], 'port'],
    [['--port', '-1'], 'port'],
    [['--port', '1.5'], 'port'],
    [['--maxclients', '0'], 'maxclients'],
    [['--proto-max-bulk-len', '1000'], 'proto-max-bulk-len'],
    [['--proto-max-bulk-len', 'lots'], 'proto-max-bulk-len'],
    [['--loglevel', 'loud'], 'loglevel'],
    [['--port'], 'port'],
    [['--port', '1', '2'], 'port'],
    [['--requirepass'], 'requirepass'],
    [['--requirepass', 'a', 'b'], 'requirepass'],
    [['--bind'], 'bind'],
    [['--nope', '1'], 'nope'],
  ])('%j is a ConfigError naming the option', (argv, name) => {
    const e = configError(() => loadOptions(argv));
    expect(e.message).toContain(`'${name}'`);
    expect(e.message.startsWith('command line: ')).toBe(true);
  });

  it('exact texts for an unknown option and a bad value', () => {
    expect(configError(() => loadOptions(['--nope', '1'])).message).toBe("command line: unknown option 'nope'");
    expect(configError(() => loadOptions(['--port', 'abc'])).message).toBe(
      "command line: 'port': argument couldn't be parsed into an integer",
    );
    expect(configError(() => loadOptions(['--maxclients', '0'])).message).toBe(
      "command line: 'maxclients': argument must be between 1 and 4294967295 inclusive",
    );
  });
});

describe('loadOptions: config file', () => {
  it('reads a file with comments, blank lines, indentation and quoted values', () => {
    const path = confFile(
      [
        '# respai test config',
        '',
        'port 7000',
        '   # an indented comment',
        '  maxclients 77  ',
        'requirepass "pass word"',
        "logfile 'my log.txt'",
        'bind 127.0.0.1 ::1',
        'LOGLEVEL verbose',
        'proto-max-bulk-len 64mb',
        'backendspath "/opt/respai/backends"',
        '',
      ].join('\n'),
    );
    const r = loadOptions([path]);
    expect(r.configFile).toBe(path);
    expect(r.options).toMatchObject({
      port: 7000,
      maxclients: 77,
      requirepass: 'pass word',
      logfile: 'my log.txt',
      bind: ['127.0.0.1', '::1'],
      loglevel: 'verbose',
      'proto-max-bulk-len': 64 * 1024 ** 2,
      backendspath: '/opt/respai/backends',
    });
  });

  it('reads CRLF line ends, escapes in double quotes and an empty quoted value', () => {
    const path = confFile('port 7001\r\nrequirepass "a\\x41\\"b"\r\nlogfile ""\r\n');
    const { options } = loadOptions([path]);
    expect(options.port).toBe(7001);
    expect(options.requirepass).toBe('aA"b');
    expect(options.logfile).toBe('');
  });

  it('flags after the file override it', () => {
    const path = confFile('port 7000\nmaxclients 77\nloglevel debug\n');
    const { options, configFile } = loadOptions([path, '--port', '7100', '--loglevel', 'warning']);
    expect(configFile).toBe(path);
    expect(options.port).toBe(7100);
    expect(options.loglevel).toBe('warning');
    expect(options.maxclients).toBe(77);
  });

  it('a missing file is a ConfigError', () => {
    const path = join(dir, 'does-not-exist.conf');
    expect(configError(() => loadOptions([path])).message).toMatch(
      new RegExp(`^Fatal error, can't open config file '${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': `),
    );
  });

  it('a bad line names the file and line number', () => {
    const path = confFile('# ok\nport 7000\nport banana\n');
    expect(configError(() => loadOptions([path])).message).toBe(
      `${path}:3: 'port': argument couldn't be parsed into an integer`,
    );
    const unknown = confFile('nope 1\n');
    expect(configError(() => loadOptions([unknown])).message).toBe(`${unknown}:1: unknown option 'nope'`);
  });

  it('unbalanced quotes are a ConfigError', () => {
    const path = confFile('port 7000\nrequirepass "abc\n');
    expect(configError(() => loadOptions([path])).message).toBe(`${path}:2: unbalanced quotes`);
  });

  it('a string option with the wrong number of values is an error, not a value', () => {
    const path = confFile('requirepass a b\n');
    expect(configError(() => loadOptions([path])).message).toBe(`${path}:1: 'requirepass': wrong number of arguments`);
  });

  it('an argument that is neither the file nor a flag is an error', () => {
    const path = confFile('port 7000\n');
    expect(configError(() => loadOptions([path, 'extra'])).message).toBe(
      "Unexpected argument 'extra' (options look like --port 6400)",
    );
  });

  it('LOADBACKEND takes a backend and a path', () => {
    const path = confFile('loadbackend torch /opt/libtorch.so\n');
    expect(loadOptions([path]).options.loadbackend).toEqual([['TORCH', '/opt/libtorch.so']]);
    expect(configError(() => loadOptions(['--loadbackend', 'TF'])).message).toContain("'loadbackend'");
  });

  it('LOADBACKEND lines accumulate', () => {
    const path = confFile('loadbackend TF /opt/tf.so\nloadbackend TORCH /opt/torch.so\n');
    expect(loadOptions([path]).options.loadbackend).toEqual([
      ['TF', '/opt/tf.so'],
      ['TORCH', '/opt/torch.so'],
    ]);
  });
});

describe('setOption (CONFIG SET)', () => {
  it('sets mutable options', () => {
    const o = fresh();
    setOption(o, 'maxclients', '50');
    setOption(o, 'proto-max-bulk-len', '2MB');
    setOption(o, 'loglevel', 'WARNING');
    setOption(o, 'requirepass', 'a b c');
    setOption(o, 'model-chunk-size', '1024kb');
    expect(o).toMatchObject({
      maxclients: 50,
      'proto-max-bulk-len': 2 * 1024 ** 2,
      loglevel: 'warning',
      requirepass: 'a b c',
      'model-chunk-size': 1024 * 1024,
    });
    setOption(o, 'requirepass', '');
    expect(o.requirepass).toBe('');
  });

  it('the bounds themselves are accepted', () => {
    const o = fresh();
    setOption(o, 'maxclients', '1');
    setOption(o, 'proto-max-bulk-len', '1mb');
    expect(o.maxclients).toBe(1);
    expect(o['proto-max-bulk-len']).toBe(1024 * 1024);
  });

  it('an unknown option', () => {
    expect(errorOf(() => setOption(fresh(), 'nope', '1'))).toBe(
      "ERR Unknown option or number of arguments for CONFIG SET - 'nope'",
    );
  });

  it.each(['port', 'bind', 'logfile', 'threads-per-queue', 'loadbackend'])('%s is immutable', (name) => {
    const o = fresh();
    expect(errorOf(() => setOption(o, name, '1'))).toBe(invalid(name, "can't set immutable config"));
    expect(o).toEqual(fresh());
  });

  it.each(['abc', '1.5', '', '1e3', '0x10'])('maxclients %j is not an integer', (v) => {
    expect(errorOf(() => setOption(fresh(), 'maxclients', v))).toBe(
      invalid('maxclients', "argument couldn't be parsed into an integer"),
    );
  });

  it('out of range: refused with the range text', () => {
    const o = fresh();
    expect(errorOf(() => setOption(o, 'maxclients', '0'))).toMatch(
      /^ERR CONFIG SET failed \(possibly related to argument 'maxclients'\) - argument must be between 1 and \d+ inclusive$/,
    );
    expect(errorOf(() => setOption(o, 'proto-max-bulk-len', '1000k'))).toMatch(
      /^ERR CONFIG SET failed \(possibly related to argument 'proto-max-bulk-len'\) - argument must be between 1048576 and \d+ inclusive$/,
    );
    expect(o).toEqual(fresh());
  });

  it('a bad log level lists the levels', () => {
    expect(errorOf(() => setOption(fresh(), 'loglevel', 'loud'))).toBe(
      invalid('loglevel', 'argument(s) must be one of the following: debug, verbose, notice, warning, nothing'),
    );
  });

  it('range texts as Redis words them', () => {
    expect(errorOf(() => setOption(fresh(), 'maxclients', '0'))).toBe(
      invalid('maxclients', 'argument must be between 1 and 4294967295 inclusive'),
    );
    expect(errorOf(() => setOption(fresh(), 'proto-max-bulk-len', '100'))).toBe(
      invalid('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'),
    );
    // Within Redis's range but past respai's own limit: a text of its own.
    expect(errorOf(() => setOption(fresh(), 'maxclients', '2000000'))).toBe(invalid('maxclients', 'argument must be at most 1000000 in respai'));
  });

  it('a bad memory value as Redis words it', () => {
    for (const v of ['abc', '1.5mb', ' 2mb']) {
      expect(errorOf(() => setOption(fresh(), 'proto-max-bulk-len', v))).toBe(
        invalid('proto-max-bulk-len', 'argument must be a memory value'),
      );
    }
  });

  // Redis parses integer options with string2ll.
  it('integers are strict like Redis (no leading zeros, no -0)', () => {
    for (const v of ['010', '-0']) {
      expect(errorOf(() => setOption(fresh(), 'maxclients', v))).toBe(
        invalid('maxclients', "argument couldn't be parsed into an integer"),
      );
    }
  });
});

describe('formatValue (CONFIG GET)', () => {
  it('numbers in decimal, lists space-separated, strings as is', () => {
    const o = fresh();
    o.bind = ['127.0.0.1', '::1'];
    o.loadbackend = [
      ['TF', '/a'],
      ['TORCH', '/b'],
    ];
    expect(formatValue('port', o)).toBe('6379');
    expect(formatValue('proto-max-bulk-len', o)).toBe('536870912');
    expect(formatValue('bind', o)).toBe('127.0.0.1 ::1');
    expect(formatValue('requirepass', o)).toBe('');
    expect(formatValue('loglevel', o)).toBe('notice');
    expect(formatValue('loadbackend', o)).toBe('TF /a TORCH /b');
  });
});
