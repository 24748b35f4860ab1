import { readFileSync } from 'node:fs';
import { DEFAULT_ENGINE_CONFIG, E, fail } from '@respai/core';
import { splitArgs } from './resp/decoder.js';

/**
 * The server's options: one table drives flags, config-file lines, CONFIG GET and CONFIG SET,
 * so an option exists everywhere or nowhere. Names follow redis.conf (lower case, hyphens).
 */
export interface ServerOptions {
  port: number;
  bind: string[];
  requirepass: string;
  maxclients: number;
  'proto-max-bulk-len': number;
  loglevel: LogLevel;
  logfile: string;
  // RedisAI's module configuration, as server options.
  backendspath: string;
  /** `<TF|TFLITE|TORCH|ONNX> <path>` pairs, loaded at start in order (repeatable). */
  loadbackend: [string, string][];
  'threads-per-queue': number;
  'intra-op-parallelism': number;
  'inter-op-parallelism': number;
  /** ms */
  'model-execution-timeout': number;
  /** MB */
  'backend-memory-limit': number;
  'model-chunk-size': number;
  // Persistence (docs/persistence.md).
  /** Directory of the snapshot and the append-only file. */
  dir: string;
  dbfilename: string;
  /** Snapshot points, `<seconds> <changes> ...`; '' = none. */
  save: string;
  appendonly: 'yes' | 'no';
  appendfilename: string;
  appendfsync: 'always' | 'everysec' | 'no';
  'auto-aof-rewrite-percentage': number;
  'auto-aof-rewrite-min-size': number;
  /** LZF-compress strings in snapshots and DUMP payloads, as Redis. */
  rdbcompression: 'yes' | 'no';
  /** Start without RDB values of types respai does not hold (counted, logged) instead of refusing. */
  'rdb-skip-unsupported-types': 'yes' | 'no';
  /** µs to pause after each key while loading an RDB file (Redis's testing option). */
  'key-load-delay': number;
  // External keyspace (docs/scale-out.md): a Redis/Valkey server or Cluster holds every key.
  /** `redis://[user:pass@]host:port[/db]` (or `rediss://`) of a standalone store; '' = embedded. */
  'keyspace-url': string;
  /** `host:port[,host:port...]`: Cluster seeds; '' = none. */
  'keyspace-cluster-nodes': string;
  'keyspace-user': string;
  'keyspace-password': string;
  'keyspace-tls': 'yes' | 'no';
  'keyspace-tls-ca-file': string;
  'keyspace-tls-cert-file': string;
  'keyspace-tls-key-file': string;
  /** ms: a store request not answered by then fails with `ERR keyspace unavailable: timeout`. */
  'keyspace-timeout': number;
  /** ms between health, topology and model-cache checks. */
  'keyspace-check-interval': number;
  // Operations (docs/operations.md).
  /** HTTP port of /metrics, /healthz and /readyz, on every `bind` address; 0 = off. */
  'metrics-port': number;
  /** Distinct model and script keys with their own metric labels; later keys count as `other`. */
  'metrics-max-keys': number;
  /** µs; commands taking at least this long go to the slow log; negative = off. */
  'slowlog-log-slower-than': number;
  'slowlog-max-len': number;
  /** TLS listener port; 0 = none. With it, `port 0` means no plain TCP listener. */
  'tls-port': number;
  'tls-cert-file': string;
  'tls-key-file': string;
  'tls-ca-cert-file': string;
  'tls-auth-clients': 'yes' | 'no' | 'optional';
  /** Space-separated, e.g. "TLSv1.2 TLSv1.3"; '' = TLSv1.2 and TLSv1.3. */
  'tls-protocols': string;
  /** ACL users file, loaded at start (ACL LOAD / ACL SAVE). */
  aclfile: string;
  /** AI.CONFIG LOADBACKEND of a path outside BACKENDSPATH (respai's own backends always load). */
  'enable-loadbackend-anywhere': 'yes' | 'no';
}
export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';

type Kind = 'int' | 'memory' | 'string' | 'list' | 'loglevel' | 'backends' | 'enum' | 'savepoints';
interface OptionSpec {
  kind: Kind;
  /** Changeable with CONFIG SET while running. */
  mutable: boolean;
  min?: number;
  max?: number;
  /**
   * Redis's own maximum where respai's is lower: out-of-range texts cite Redis's range (clients
   * compare them), and values between the two get a text naming respai's limit.
   */
  redisMax?: string;
  /** The accepted values of an `enum` option (lower case). */
  values?: readonly string[];
  /** Hidden from CONFIG GET values (requirepass shows, as in Redis; nothing hidden yet). */
}

const SPECS: { readonly [K in keyof ServerOptions]: OptionSpec } = {
  port: { kind: 'int', mutable: false, min: 0, max: 65535 },
  bind: { kind: 'list', mutable: false },
  requirepass: { kind: 'string', mutable: true },
  maxclients: { kind: 'int', mutable: true, min: 1, max: 1_000_000, redisMax: '4294967295' },
  'proto-max-bulk-len': { kind: 'memory', mutable: true, min: 1024 * 1024, max: 2 ** 52, redisMax: '9223372036854775807' },
  loglevel: { kind: 'loglevel', mutable: true },
  logfile: { kind: 'string', mutable: false },
  backendspath: { kind: 'string', mutable: true },
  loadbackend: { kind: 'backends', mutable: false },
  'threads-per-queue': { kind: 'int', mutable: false, min: 1, max: 1024 },
  'intra-op-parallelism': { kind: 'int', mutable: false, min: 0, max: 1024 },
  'inter-op-parallelism': { kind: 'int', mutable: false, min: 0, max: 1024 },
  'model-execution-timeout': { kind: 'int', mutable: false, min: 0, max: 2 ** 31 },
  'backend-memory-limit': { kind: 'int', mutable: false, min: 0, max: 2 ** 31 },
  'model-chunk-size': { kind: 'memory', mutable: true, min: 1, max: 2 ** 52 },
  dir: { kind: 'string', mutable: true },
  dbfilename: { kind: 'string', mutable: true },
  save: { kind: 'savepoints', mutable: true },
  appendonly: { kind: 'enum', mutable: true, values: ['yes', 'no'] },
  appendfilename: { kind: 'string', mutable: false },
  appendfsync: { kind: 'enum', mutable: true, values: ['everysec', 'always', 'no'] },
  'auto-aof-rewrite-percentage': { kind: 'int', mutable: true, min: 0, max: 2 ** 31 - 1 },
  'auto-aof-rewrite-min-size': { kind: 'memory', mutable: true, min: 0, max: 2 ** 52 },
  rdbcompression: { kind: 'enum', mutable: true, values: ['yes', 'no'] },
  'rdb-skip-unsupported-types': { kind: 'enum', mutable: true, values: ['yes', 'no'] },
  'key-load-delay': { kind: 'int', mutable: true, min: 0, max: 10_000_000 },
  'keyspace-url': { kind: 'string', mutable: false },
  'keyspace-cluster-nodes': { kind: 'string', mutable: false },
  'keyspace-user': { kind: 'string', mutable: false },
  'keyspace-password': { kind: 'string', mutable: false },
  'keyspace-tls': { kind: 'enum', mutable: false, values: ['yes', 'no'] },
  'keyspace-tls-ca-file': { kind: 'string', mutable: false },
  'keyspace-tls-cert-file': { kind: 'string', mutable: false },
  'keyspace-tls-key-file': { kind: 'string', mutable: false },
  'keyspace-timeout': { kind: 'int', mutable: false, min: 1, max: 3_600_000 },
  'keyspace-check-interval': { kind: 'int', mutable: false, min: 10, max: 3_600_000 },
  'metrics-port': { kind: 'int', mutable: false, min: 0, max: 65535 },
  'metrics-max-keys': { kind: 'int', mutable: false, min: 1, max: 100_000 },
  'slowlog-log-slower-than': { kind: 'int', mutable: true, min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  'slowlog-max-len': { kind: 'int', mutable: true, min: 0, max: 2 ** 31 - 1 },
  'tls-port': { kind: 'int', mutable: false, min: 0, max: 65535 },
  'tls-cert-file': { kind: 'string', mutable: false },
  'tls-key-file': { kind: 'string', mutable: false },
  'tls-ca-cert-file': { kind: 'string', mutable: false },
  'tls-auth-clients': { kind: 'enum', mutable: false, values: ['yes', 'no', 'optional'] },
  'tls-protocols': { kind: 'string', mutable: false },
  aclfile: { kind: 'string', mutable: false },
  'enable-loadbackend-anywhere': { kind: 'enum', mutable: false, values: ['yes', 'no'] },
};

export const DEFAULTS: Readonly<ServerOptions> = {
  port: 6379,
  bind: ['127.0.0.1'],
  requirepass: '',
  maxclients: 10000,
  'proto-max-bulk-len': 512 * 1024 * 1024,
  loglevel: 'notice',
  logfile: '',
  backendspath: '',
  loadbackend: [],
  // RedisAI's module configuration: the engine's defaults.
  'threads-per-queue': DEFAULT_ENGINE_CONFIG.threadsPerQueue,
  'intra-op-parallelism': DEFAULT_ENGINE_CONFIG.intraOpParallelism,
  'inter-op-parallelism': DEFAULT_ENGINE_CONFIG.interOpParallelism,
  'model-execution-timeout': DEFAULT_ENGINE_CONFIG.modelExecutionTimeoutMs,
  'backend-memory-limit': DEFAULT_ENGINE_CONFIG.backendMemoryLimitMb,
  'model-chunk-size': DEFAULT_ENGINE_CONFIG.modelChunkSize,
  dir: '.',
  dbfilename: 'dump.rdb',
  // Unlike redis-server, no snapshot points by default: nothing is written unless asked for.
  save: '',
  appendonly: 'no',
  appendfilename: 'appendonly.respai',
  appendfsync: 'everysec',
  'auto-aof-rewrite-percentage': 100,
  'auto-aof-rewrite-min-size': 64 * 1024 * 1024,
  rdbcompression: 'yes',
  'rdb-skip-unsupported-types': 'no',
  'key-load-delay': 0,
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
  'metrics-port': 0,
  'metrics-max-keys': 100,
  'slowlog-log-slower-than': 10000,
  'slowlog-max-len': 128,
  'tls-port': 0,
  'tls-cert-file': '',
  'tls-key-file': '',
  'tls-ca-cert-file': '',
  'tls-auth-clients': 'yes',
  'tls-protocols': '',
  aclfile: '',
  'enable-loadbackend-anywhere': 'no',
};

export const OPTION_NAMES = Object.keys(SPECS) as (keyof ServerOptions)[];

const isOption = (name: string): name is keyof ServerOptions => Object.hasOwn(SPECS, name);

const LOGLEVELS: readonly LogLevel[] = ['debug', 'verbose', 'notice', 'warning', 'nothing'];

/** Redis's memtoull: `512mb`, `1gb`, `100k` (k = 1000, kb = 1024), plain bytes. */
export function parseMemory(s: string): number | undefined {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return undefined;
  const mul: Record<string, number> = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = Number(m[1]) * mul[(m[2] ?? 'b').toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Why a value was refused; a class, since valid values may be strings too (loglevel). */
class Invalid {
  constructor(readonly why: string) {}
}

/** Parses one option's value; returns an `Invalid` instead of throwing (callers word it). */
function parseValue<K extends keyof ServerOptions>(name: K, args: string[]): ServerOptions[K] | Invalid {
  const spec = SPECS[name];
  if (spec.kind === 'backends') {
    if (args.length !== 2) return new Invalid('expects a backend name and a path');
    return [[args[0]!.toUpperCase(), args[1]!]] as ServerOptions[K];
  }
  if (spec.kind === 'list') {
    const items = args.flatMap((a) => a.split(/\s+/)).filter((a) => a !== '');
    return items.length > 0 ? (items as ServerOptions[K]) : new Invalid('argument(s) must be specified');
  }
  if (spec.kind === 'savepoints') {
    // `save 900 1 300 10`, `save "900 1"`, `save ""`: pairs of seconds and changes.
    const words = args.join(' ').split(/\s+/).filter((w) => w !== '');
    if (words.length % 2 !== 0 || !words.every((w) => /^\d{1,15}$/.test(w))) return new Invalid('Invalid save parameters');
    return words.join(' ') as ServerOptions[K];
  }
  if (args.length !== 1) return new Invalid('wrong number of arguments');
  const raw = args[0]!;
  switch (spec.kind) {
    case 'string':
      return raw as ServerOptions[K];
    case 'enum': {
      const v = raw.toLowerCase();
      if (spec.values!.includes(v)) return v as ServerOptions[K];
      // Redis's texts: its boolean options have their own; enums list the values in its order.
      return new Invalid(spec.values!.join() === 'yes,no' ? "argument must be 'yes' or 'no'" : 'argument(s) must be one of the following: ' + spec.values!.join(', '));
    }
    case 'loglevel': {
      const v = raw.toLowerCase() as LogLevel;
      return LOGLEVELS.includes(v)
        ? (v as ServerOptions[K])
        : new Invalid('argument(s) must be one of the following: ' + LOGLEVELS.join(', '));
    }
    case 'int':
    case 'memory': {
      // Integers as Redis's string2ll reads them: no leading zeros, no `-0`, no spaces.
      const v = spec.kind === 'memory' ? parseMemory(raw) : /^(0|-?[1-9]\d*)$/.test(raw) ? Number(raw) : undefined;
      if (v === undefined || !Number.isSafeInteger(v)) {
        return new Invalid(spec.kind === 'memory' ? 'argument must be a memory value' : "argument couldn't be parsed into an integer");
      }
      const low = spec.min !== undefined && v < spec.min;
      const high = spec.max !== undefined && v > spec.max;
      if (spec.redisMax !== undefined && (low || BigInt(v) > BigInt(spec.redisMax))) {
        return new Invalid(`argument must be between ${spec.min} and ${spec.redisMax} inclusive`);
      }
      if (spec.redisMax !== undefined && high) return new Invalid(`argument must be at most ${spec.max} in respai`);
      if (low || high) return new Invalid(`argument must be between ${spec.min} and ${spec.max} inclusive`);
      return v as ServerOptions[K];
    }
  }
}

/** Formats a value for CONFIG GET the way redis-server does. */
export function formatValue(name: keyof ServerOptions, options: ServerOptions): string {
  const v = options[name];
  if (name === 'loadbackend') return options.loadbackend.map((p) => p.join(' ')).join(' ');
  return Array.isArray(v) ? v.join(' ') : String(v);
}

export class ConfigError extends Error {}

/**
 * Reads options from an optional config file, then from command-line arguments (which win),
 * exactly like `redis-server [file] [--name value...]`.
 */
export function loadOptions(argv: readonly string[]): { options: ServerOptions; configFile?: string } {
  const options: ServerOptions = { ...DEFAULTS, bind: [...DEFAULTS.bind], loadbackend: [] };
  let configFile: string | undefined;
  let i = 0;
  if (argv[0] !== undefined && !argv[0].startsWith('--')) {
    configFile = argv[0];
    i = 1;
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`Fatal error, can't open config file '${configFile}': ${(e as Error).message}`);
    }
    text.split(/\r?\n/).forEach((line, n) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const words = splitArgs(Buffer.from(trimmed))?.map((w) => w.toString());
      if (words === undefined || words.length === 0) throw new ConfigError(`${configFile}:${n + 1}: unbalanced quotes`);
      apply(options, words[0]!.toLowerCase(), words.slice(1), `${configFile}:${n + 1}`);
    });
  }
  while (i < argv.length) {
    const flag = argv[i]!;
    if (!flag.startsWith('--')) throw new ConfigError(`Unexpected argument '${flag}' (options look like --port 6400)`);
    const values: string[] = [];
    i++;
    while (i < argv.length && !argv[i]!.startsWith('--')) values.push(argv[i++]!);
    apply(options, flag.slice(2).toLowerCase(), values, 'command line');
  }
  return configFile === undefined ? { options } : { options, configFile };
}

/** RedisAI's module arguments (THREADS_PER_QUEUE) are accepted as well as redis.conf style names. */
export const normalizeOption = (name: string) => name.toLowerCase().replace(/_/g, "-");

function apply(options: ServerOptions, rawName: string, args: string[], where: string): void {
  const name = normalizeOption(rawName);
  if (!isOption(name)) throw new ConfigError(`${where}: unknown option '${name}'`);
  const v = parseValue(name, args);
  if (v instanceof Invalid) throw new ConfigError(`${where}: '${name}': ${v.why}`);
  // loadbackend repeats: each line adds a backend.
  if (name === 'loadbackend') options.loadbackend = [...options.loadbackend, ...(v as [string, string][])];
  else (options as unknown as Record<string, unknown>)[name] = v;
}

/** CONFIG SET of one option, with Redis's error texts. Returns the parsed value. */
/**
 * CONFIG SET's first pass, as Redis 7: every name is checked (unknown, immutable, given twice)
 * before any value, and quoted as the client typed it.
 */
export function checkSetNames(rawNames: readonly string[]): void {
  const seen = new Set<string>();
  for (const raw of rawNames) {
    const name = normalizeOption(raw);
    if (!isOption(name)) fail(E.configSetUnknown(raw));
    if (!SPECS[name].mutable) fail(E.configSetInvalid(raw, "can't set immutable config"));
    if (seen.has(name)) fail(E.configSetInvalid(raw, 'duplicate parameter'));
    seen.add(name);
  }
}

export function setOption(options: ServerOptions, rawName: string, value: string): void {
  const name = normalizeOption(rawName);
  if (!isOption(name)) fail(E.configSetUnknown(name));
  if (!SPECS[name].mutable) fail(E.configSetInvalid(name, "can't set immutable config"));
  const v = parseValue(name, [value]);
  if (v instanceof Invalid) fail(E.configSetInvalid(name, v.why));
  (options as unknown as Record<string, unknown>)[name] = v;
}
