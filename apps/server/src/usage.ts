import { DEFAULTS, OPTION_NAMES, formatValue, type ServerOptions } from './config.js';

/**
 * `respai-server --help`, made from the option table: every option, its argument and its default
 * (formatted as CONFIG GET shows it). A new option without a line here does not compile.
 */
const HELP: { readonly [K in keyof ServerOptions]: readonly [arg: string, text: string] } = {
  port: ['<n>', 'TCP port; 0 picks a free one'],
  bind: ['<addr> [addr ...]', 'addresses to listen on'],
  requirepass: ['<password>', 'require AUTH before any other command'],
  maxclients: ['<n>', 'maximum simultaneous clients'],
  'proto-max-bulk-len': ['<size>', 'largest bulk string (and tensor) accepted, e.g. 512mb'],
  loglevel: ['<level>', 'debug | verbose | notice | warning | nothing'],
  logfile: ['<path>', 'append logs there instead of stdout'],
  backendspath: ['<dir>', "where backend paths and package names resolve (default: the server's directory)"],
  loadbackend: ['<backend> <path>', 'TF | TFLITE | TORCH | ONNX and its path, loaded at start (repeatable)'],
  'threads-per-queue': ['<n>', 'runs at once per device queue'],
  'intra-op-parallelism': ['<n>', "threads inside one op, 0 for the runtime's default"],
  'inter-op-parallelism': ['<n>', "threads across ops, 0 for the runtime's default"],
  'model-execution-timeout': ['<ms>', 'ONNX, TF and TFLITE runs longer than this are stopped, 0 never; TORCH ignores it'],
  'backend-memory-limit': ['<MB>', 'memory limit for backends, as each can enforce it; 0 for none'],
  'model-chunk-size': ['<size>', 'AI.MODELGET replies blobs at least this big in chunks'],
  dir: ['<path>', 'where the snapshot and the append-only file live'],
  dbfilename: ['<name>', 'the snapshot, an RDB file, loaded at start'],
  save: ['"<secs> <changes> ..."', 'snapshot points, like redis.conf; "" for none'],
  appendonly: ['yes|no', 'keep the append-only file'],
  appendfilename: ['<name>', 'the append-only file'],
  appendfsync: ['<policy>', 'always | everysec | no'],
  'auto-aof-rewrite-percentage': ['<n>', 'rewrite the AOF once it grew this much, 0 never'],
  'auto-aof-rewrite-min-size': ['<size>', '... and is at least this big'],
  rdbcompression: ['yes|no', 'LZF-compress strings in snapshots and DUMP payloads'],
  'rdb-skip-unsupported-types': ['yes|no', 'start without RDB values of types respai does not hold'],
  'key-load-delay': ['<us>', 'pause after each key while an RDB file loads (for tests)'],
  'metrics-port': ['<n>', 'HTTP /metrics, /healthz, /readyz on every bind address; 0 off (docs/operations.md)'],
  'metrics-max-keys': ['<n>', 'model/script keys with metric labels of their own, then "other"'],
  'slowlog-log-slower-than': ['<us>', 'SLOWLOG threshold; negative: off'],
  'slowlog-max-len': ['<n>', 'SLOWLOG entries kept'],
  'tls-port': ['<n>', 'TLS listener, 0 none; with one, --port 0 means no plain TCP'],
  'tls-cert-file': ['<path>', "the server's certificate (PEM)"],
  'tls-key-file': ['<path>', "the server's private key (PEM)"],
  'tls-ca-cert-file': ['<path>', 'CA certificates for client certificates (PEM)'],
  'tls-auth-clients': ['yes|no|optional', 'whether clients must present a certificate'],
  'tls-protocols': ['"<versions>"', 'e.g. "TLSv1.2 TLSv1.3"'],
  aclfile: ['<path>', 'ACL users, loaded at start (ACL LOAD / ACL SAVE)'],
  'enable-loadbackend-anywhere': ['yes|no', 'AI.CONFIG LOADBACKEND of paths outside BACKENDSPATH'],
  'keyspace-url': ['redis://[user:pass@]host:port', 'keep every key in this Redis/Valkey server (docs/scale-out.md)'],
  'keyspace-cluster-nodes': ['host:port[,...]', '... or in this Redis Cluster (seeds)'],
  'keyspace-user': ['<name>', "the store's ACL user"],
  'keyspace-password': ['<password>', "the store's password"],
  'keyspace-tls': ['yes|no', 'TLS to the store'],
  'keyspace-tls-ca-file': ['<path>', "CA certificates for the store's certificate (PEM)"],
  'keyspace-tls-cert-file': ['<path>', 'client certificate for the store (PEM)'],
  'keyspace-tls-key-file': ['<path>', 'its private key (PEM)'],
  'keyspace-timeout': ['<ms>', 'store requests fail with ERR keyspace unavailable after this long'],
  'keyspace-check-interval': ['<ms>', "between the store's health, topology and model-cache checks"],
};

export function usage(): string {
  const rows = OPTION_NAMES.map((name) => {
    const [arg, text] = HELP[name];
    const value = formatValue(name, DEFAULTS);
    const dflt = name === 'backendspath' || name === 'loadbackend' ? '' : ` (default ${value === '' ? '""' : value})`;
    return [`  --${name} ${arg}`, `${text}${dflt}`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    'Usage: respai-server [/path/to/respai.conf] [--option value ...]',
    '',
    'Options (also config-file lines, "name value"; RedisAI spellings such as THREADS_PER_QUEUE work too):',
    ...rows.map(([flag, text]) => flag.padEnd(width) + text),
    '',
    'docs/server.md, docs/persistence.md and docs/scale-out.md tell more; repair a damaged append-only file with',
    'respai-check-aof --fix <file>.',
    '',
  ].join('\n');
}
