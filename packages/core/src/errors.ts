/**
 * Every error text respai sends, in one place. Clients (redis-py, redisai-py, SmartRedis, node-redis)
 * compare these byte for byte, so they are kept exactly as Redis and the original RedisAI wrote them.
 * A text is the whole RESP error line without the leading `-`: most start with `ERR `, a few with
 * another code (`WRONGTYPE`, `NOAUTH`, ...) and a few, faithfully to the original, with none.
 */
/** Redis quotes at most this many bytes of a client's argument in an error (`%.128s`). */
export const ECHO_MAX = 128;

/**
 * A client's argument as an error text quotes it: its first 128 bytes, line breaks as spaces
 * (a RESP error is one line), as Redis's `'%.128s'`.
 */
export function echo(arg: Buffer | string): string {
  const b = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
  return (b.length > ECHO_MAX ? b.subarray(0, ECHO_MAX) : b).toString('utf8').replace(/[\r\n]/g, ' ');
}

export const E = {
  // ---- Generic Redis texts -------------------------------------------------------------------
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  arity: (cmd: string) => `ERR wrong number of arguments for '${cmd.toLowerCase()}' command`,
  unknownCommand: (cmd: string, args: string) =>
    `ERR unknown command '${cmd}', with args beginning with: ${args}`,
  unknownSubcommand: (sub: string, cmd: string) =>
    `ERR unknown subcommand '${echo(sub)}'. Try ${cmd.toUpperCase()} HELP.`,
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  overflow: 'ERR increment or decrement would overflow',
  noSuchKey: 'ERR no such key',
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd.toLowerCase()}' command`,
  invalidCursor: 'ERR invalid cursor',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authNotConfigured:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  noProto: 'NOPROTO unsupported protocol version',
  maxClients: 'ERR max number of clients reached',
  multiNested: 'ERR MULTI calls can not be nested',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  configSetUnknown: (name: string) =>
    `ERR Unknown option or number of arguments for CONFIG SET - '${echo(name)}'`,
  configSetInvalid: (name: string, why: string) =>
    `ERR CONFIG SET failed (possibly related to argument '${echo(name)}') - ${why}`,
  protocol: (what: string) => `ERR Protocol error: ${what}`,
  shutdownFailed: 'ERR Errors trying to SHUTDOWN. Check logs.',
  notInMulti: 'ERR Command not allowed inside a transaction',
  loading: 'LOADING Redis is loading the dataset in memory',

  // ---- RedisAI: tensors ------------------------------------------------------------------------
  tensorEmpty: 'ERR tensor key is empty or in a different shard',
  invalidDataType: 'ERR invalid data type',
  invalidShape: 'ERR invalid or negative value found in tensor shape',
  valuesCount: "ERR wrong number of values was given in 'AI.TENSORSET' command",
  blobArgs: "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
  blobLength: 'ERR data length does not match tensor shape and type',
  invalidValue: 'ERR invalid value',
  boolValue: 'ERR BOOL tensor elements must be 0 or 1',
  stringCount: 'ERR Number of string elements in data blob does not match tensor length',
  unsupportedFormat: 'ERR unsupported data format',
  blobAndValues: 'ERR both BLOB and VALUES specified',
  tensorTooLarge: (limit: number) =>
    `ERR tensor size exceeds proto-max-bulk-len (${limit} bytes)`,
  stringValueNul: 'ERR C-string value contains null character',
  batchMismatch: 'ERR tensors to batch must have the same type and the same dimensions after the first',
  batchSplit: "ERR batch sizes do not add up to the tensor's first dimension",

  // ---- RedisAI: models, scripts, runs ------------------------------------------------------------
  modelEmpty: 'ERR model key is empty',
  scriptEmpty: 'ERR script key is empty',
  unsupportedBackend: 'ERR unsupported backend',
  invalidDevice: 'ERR Invalid DEVICE',
  noGpu: (backend: string) => `ERR GPU requested but ${backend} has no GPU support here`,
  /** A command produced a value the RESP encoder cannot send (a bug, logged). */
  internalReply: 'ERR internal error: the reply could not be encoded (see the server log)',
  runInMulti: 'ERR Cannot run RedisAI command within a transaction or a LUA script',
  runInfoMissing: 'ERR cannot find run info for key',
  loadBackend: 'ERR error loading backend',
  /** Like Redis 7's enable-module-command refusal. */
  loadBackendAnywhere:
    'ERR LOADBACKEND of a path outside BACKENDSPATH is not allowed. Set enable-loadbackend-anywhere yes in the configuration file and restart the server to allow it.',
  lazyLoadBackend: 'ERR Could not load backend',
  unsupportedSubcommand: 'ERR unsupported subcommand',
  chunkSize: 'ERR MODEL_CHUNK_SIZE: invalid chunk size',
  batchSize: 'ERR Invalid argument for BATCHSIZE',
  minBatchSize: 'ERR Invalid argument for MINBATCHSIZE',
  minBatchTimeout: 'ERR Invalid argument for MINBATCHTIMEOUT',
  minBatchWithoutBatch: 'ERR MINBATCHSIZE specified without BATCHSIZE',
  minBatchTimeoutWithoutMin: 'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE',
  missingBlob: 'ERR Insufficient arguments, missing model BLOB',
  expectedBlob: 'ERR Invalid argument, expected BLOB',
  tfInputs: 'ERR INPUTS not specified for TF',
  tfOutputs: 'ERR OUTPUTS not specified for TF',
  inputsNotForBackend: 'ERR INPUTS argument should not be specified for this backend',
  inputsNotSpecified: 'ERR INPUTS not specified',
  outputsNotSpecified: 'ERR OUTPUTS not specified',
  inputCountArg: 'ERR Invalid argument for input_count',
  outputCountArg: 'ERR Invalid argument for output_count',
  inputCountPositive: 'ERR Input count must be a positive integer',
  outputCountPositive: 'ERR Output count must be a positive integer',
  inputCountMismatch: 'Number of keys given as INPUTS here does not match model definition',
  outputCountMismatch: 'Number of keys given as OUTPUTS here does not match model definition',
  inputKeysCount: (cmd: string) => `ERR number of input keys to ${cmd} command does not match the number of given arguments`,
  outputKeysCount: (cmd: string) => `ERR number of output keys to ${cmd} command does not match the number of given arguments`,
  invalidArgument: (arg: string | Buffer) => `Invalid argument: ${echo(arg)}`,
  timeoutMissing: 'ERR No value provided for TIMEOUT',
  timeoutInvalid: 'ERR Invalid value for TIMEOUT',
  badBatchOutput: 'ERR Model did not generate the expected batch size',
  timedOut: 'TIMEDOUT',

  // ---- RedisAI: command arguments, DAGs, engine ---------------------------------------------------
  /** The original's arity text: the command as it spells it (upper case), unlike Redis's `arity`. */
  aiArity: (cmd: string) => `ERR wrong number of arguments for '${cmd}' command`,
  /** The original's arity text for AI.TENSORSET/AI.TENSORGET inside a DAG: without `ERR`. */
  dagOpArity: (cmd: string) => `wrong number of arguments for '${cmd}' command`,
  backendsPathMissing: 'ERR BACKENDSPATH: missing path argument',
  chunkSizeMissing: 'ERR MODEL_CHUNK_SIZE: missing chunk size',
  minBatchTimeoutWithoutBatch: 'ERR MINBATCHTIMEOUT specified without BATCHSIZE',
  modelNamesCountMismatch: (what: 'inputs' | 'outputs') =>
    `ERR number of model ${what} does not match the number of given arguments`,
  inputsOutputsNotSpecified: 'ERR Insufficient arguments, INPUTS and OUTPUTS not specified',
  missingEntryPoints: 'ERR Insufficient arguments, missing script entry points',
  entryPointsCountNotNumber: 'ERR Non numeric entry points number provided to AI.SCRIPTSTORE command',
  entryPointsCountInvalid: 'ERR Invalid argument for ENTRY_POINTS count',
  missingSource: 'ERR Insufficient arguments, missing script SOURCE',
  // KEYS n key... of a DAG or a script (the original's ValidateKeysArgs).
  keysMissingArguments: 'ERR Missing arguments after KEYS keyword',
  keysCountInvalid: 'ERR Invalid or negative value found in number of KEYS',
  keysCountMismatch:
    'ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments',
  // AI.SCRIPTEXECUTE's sections.
  scriptExecuteKeysOrInputsFirst: 'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command',
  scriptExecuteInvalidArguments: 'ERR Invalid arguments provided to AI.SCRIPTEXECUTE',
  scriptExecuteScopeAgain: (scope: string) => `ERR Already Encountered ${scope} scope in AI.SCRIPTEXECUTE command`,
  scriptExecuteTimeoutMissing: 'ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE',
  scriptExecuteUnexpected: (arg: Buffer | string) =>
    `ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${echo(arg)}`,
  scriptExecuteTrailing: 'ERR Encountered problem parsing AI.SCRIPTEXECUTE',
  /** `what`: `inputs`, `outputs` or `keys` (the original's text for ARGS's count). */
  scriptExecuteCountInvalid: (what: string) => `ERR Invalid argument for ${what} count in AI.SCRIPTEXECUTE`,
  scriptExecuteCountMismatch: (what: string) =>
    `ERR number of ${what} to AI.SCRIPTEXECUTE command does not match the number of given arguments`,
  // The deprecated AI.SCRIPTRUN's sections (`Unrecongnized` is the original's spelling).
  scriptRunTimeoutAgain: 'ERR Already encountered an TIMEOUT section in SCRIPTRUN',
  scriptRunInputsAfterOutputs: 'ERR Already encountered an INPUTS section in SCRIPTRUN',
  scriptRunInputsAgain: 'ERR Already encountered an INPUTS keyword in SCRIPTRUN',
  scriptRunOutputsAgain: 'ERR Already encountered an OUTPUTS keyword in SCRIPTRUN',
  scriptRunListOutsideInputs: 'ERR Encountered a variable size list of tensors outside of input section',
  scriptRunListAgain: 'ERR Already encountered a variable size list of tensors',
  scriptRunUnrecognized: 'ERR Unrecongnized parameter to SCRIPTRUN',
  // DAG commands: the header (LOAD, PERSIST, KEYS/ROUTING, TIMEOUT), then the ops.
  timeoutInDag: 'ERR TIMEOUT not allowed within a DAG command',
  dagMissingArguments: (cmd: string) => `ERR missing arguments for '${cmd}' command`,
  dagScopeMissingArguments: (scope: string) => `ERR missing arguments after ${scope} keyword in DAG command`,
  dagScopeCountInvalid: (scope: string) => `ERR invalid or negative value found in number of keys to ${scope}`,
  dagLoadCountMismatch: 'ERR number of keys to LOAD into DAG does not match the number of given arguments',
  dagPersistCountMismatch:
    'ERR number of keys to PERSIST after DAG execution does not match the number of given arguments',
  dagScopeAgain: (scope: string) => `ERR Already encountered ${scope} scope in current command`,
  dagPersistReadOnly: 'ERR PERSIST cannot be specified in a read-only DAG',
  dagPersistNotUnique: 'ERR PERSIST keys must be unique',
  dagRoutingMissing: 'ERR Missing ROUTING value',
  /** Two spaces before the argument, as the original. */
  dagUnexpected: (arg: Buffer | string) => `ERR Invalid DAG command. Unexpected argument:  ${echo(arg)}`,
  /** `cmd` without `_RO`. */
  dagNoKeys: (cmd: string) =>
    `ERR ${cmd} and ${cmd}_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords`,
  dagEmpty: 'ERR DAG is empty',
  dagDeprecatedOp: (cmd: string) => `Deprecated ${cmd} cannot be used in AI.DAGEXECUTE command`,
  dagOpInDeprecated: (cmd: string) => `${cmd} cannot be used in a deprecated AI.DAGRUN command`,
  dagOpReadOnly: (cmd: string) => `ERR ${cmd} command cannot be specified in a read-only DAG`,
  dagUnsupportedOp: 'Unsupported command within DAG',
  dagInputMissing: 'ERR INPUT key cannot be found in DAG',
  dagPersistMissing: 'ERR PERSIST key cannot be found in DAG',
  // Runs: models, script functions and their arguments.
  modelOutputCount: (got: number, expected: number) => `ERR model returned ${got} outputs, expected ${expected}`,
  /** A model run from a script (`redis.model_execute`). */
  scriptModelOutputCount: (key: string, got: number, expected: number) =>
    `ERR model ${key} returned ${got} outputs, ${expected} expected`,
  noScriptSupport: 'ERR the loaded TORCH backend does not run scripts',
  functionMissing: (fn: string) => `ERR Function ${fn} does not exist in the given script.`,
  scriptOutputCount: (fn: string, got: number, given: number) =>
    `ERR function ${fn} returned ${got} tensors, ${given} OUTPUTS given`,
  scriptInputCount: (fn: string, takes: number, given: number) =>
    `ERR Wrong number of inputs provided to function ${fn}: it takes ${takes}, ${given} given`,
  /** `position` counts from 1. */
  scriptArgListGiven: (position: number, fn: string) => `ERR argument ${position} of ${fn} takes one value, a list was given`,
  scriptArgNotInt: (position: number, fn: string, value: string) =>
    `ERR argument ${position} of ${fn} must be an int, got '${value}'`,
  scriptArgNotFloat: (position: number, fn: string, value: string) =>
    `ERR argument ${position} of ${fn} must be a float, got '${value}'`,
  // Worker-thread backends (WorkerModels).
  backendShutDown: (backend: string) => `ERR the ${backend} backend was shut down`,
  backendModelDisposed: (backend: string) => `ERR the ${backend} model was disposed`,
  /** `holders`: what the workers hold (`models`, ONNX's `sessions`); `mb`: what they would hold. */
  backendMemoryLimit: (limitMb: number, backend: string, holders: string, mb: number) =>
    `ERR BACKEND_MEMORY_LIMIT (${limitMb} MB) exceeded: ${backend} ${holders} would hold at least ${mb} MB (model bytes x THREADS_PER_QUEUE)`,
  modelExecutionTimeout: (backend: string, timeoutMs: number) =>
    `ERR ${backend} model run exceeded MODEL_EXECUTION_TIMEOUT (${timeoutMs} ms)`,
  workerFailedInRun: (backend: string, slot: number, device: string, why: string) =>
    `ERR ${backend} worker ${slot} of ${device} failed during the run: ${why}`,
  workerLostBeforeRun: (backend: string, why: string) => `ERR ${backend} worker lost before the run: ${why}`,
  // Persistence (Redis's texts, and DEBUG RELOAD's like them).
  reloadInProgress: 'ERR DEBUG RELOAD already in progress',
  bgsaveInProgress: 'ERR Background save already in progress',
  aofRewriteInProgress: 'ERR Background append only file rewriting already in progress',
  /** SAVE (and DEBUG RELOAD's save) when the snapshot cannot be written: the file system's own words. */
  saveFailed: (why: string) => `ERR ${why}`,

  // ---- External keyspace (docs/scale-out.md) -------------------------------------------------
  /** Redis Cluster's own text, for an AI command whose keys span slots. */
  crossSlot: "CROSSSLOT Keys in request don't hash to the same slot",
  keyspaceUnavailable: (why: string) => `ERR keyspace unavailable: ${why.replace(/[\r\n]+/g, ' ')}`,
  keyspaceBadValue: (key: string, type: string, why: string) =>
    `ERR keyspace value at key '${echo(Buffer.from(key, 'latin1'))}' is not a valid ${type}: ${why}`,
  externalMultiAi: 'ERR AI commands cannot be queued in MULTI with an external keyspace',

  // ---- Redis commands: ACL, CLIENT, HELLO, RESTORE, DEBUG, keys, lists, scripting ----------------
  // The caller quotes what it passes (as it always has: some cut at 128 characters, some not).
  subcommandOrArity: (sub: string, cmd: string) =>
    `ERR unknown subcommand or wrong number of arguments for '${sub}'. Try ${cmd.toUpperCase()} HELP.`,
  noPermCommand: (fullName: string) => `NOPERM this user has no permissions to run the '${fullName}' command`,
  noPermKey: 'NOPERM this user has no permissions to access one of the keys used as arguments',
  /** Redis 7.0's texts for a script's call the caller may not make (scriptVerifyACL). */
  scriptNoPermCommand: "ERR The user executing the script can't run this command or subcommand",
  scriptNoPermKey: "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
  aclUnavailable: 'ERR ACL is not available on this server',
  aclNoFile:
    'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.',
  aclBadUsername: "ERR Usernames can't contain spaces or null characters",
  aclBadModifier: (rule: string, why: string) => `ERR Error in ACL SETUSER modifier '${rule}': ${why}`,
  aclDeleteDefault: "ERR The 'default' user cannot be removed",
  aclUnknownCategory: (category: string) => `ERR Unknown category '${category}'`,
  aclGenpassBits: 'ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096',
  aclSaveFailed: 'ERR There was an error trying to save the ACLs. Please check the server logs for more information',
  /** ACL LOAD: every problem of the file on one line (Acl.load). */
  aclLoadFailed: (problems: string) => `ERR ${problems}`,
  badClientName: 'ERR Client names cannot contain spaces, newlines or special characters.',
  unknownClientType: (type: string) => `ERR Unknown client type '${type}'`,
  invalidClientId: 'ERR Invalid client ID',
  unknownClientInfoOption: (option: string) => `ERR Unrecognized option '${option}'`,
  badClientInfoValue: (attr: string) => `ERR ${attr} cannot contain spaces, newlines or special characters.`,
  helloProtoNotInteger: 'ERR Protocol version is not an integer or out of range',
  helloSyntax: (option: string) => `ERR Syntax error in HELLO option '${option}'`,
  helloNoAuth:
    'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
  busyKey: 'BUSYKEY Target key name already exists.',
  restoreBadTtl: 'ERR Invalid TTL value, must be >= 0',
  restoreBadIdletime: 'ERR Invalid IDLETIME value, must be >= 0',
  restoreBadFreq: 'ERR Invalid FREQ value, must be >= 0 and <= 255',
  dumpPayloadInvalid: 'ERR DUMP payload version or checksum are wrong',
  badDataFormat: 'ERR Bad data format',
  restoreUnsupportedType: (type: string) => `ERR Bad data format: the payload holds a ${type}, which respai does not hold`,
  debugReloadOptions: 'ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.',
  /** Redis's bare shared.err, when DEBUG RELOAD cannot save the snapshot. */
  debugReloadSaveFailed: 'ERR',
  debugReloadLoadFailed: 'ERR Error trying to load the RDB dump, check server logs.',
  persistenceUnavailable: 'ERR persistence is not available on this server',
  noShutdownInProgress: 'ERR No shutdown in progress.',
  moduleLoadRefused: 'ERR Error loading the extension. Please check the server logs.',
  moduleUnloadHasTypes: "ERR Error unloading module: the module exports one or more module-side data types, can't unload",
  moduleUnloadNoSuchModule: 'ERR Error unloading module: no such module with that name',
  slowlogBadCount: 'ERR count should be greater than or equal to -1',
  expireUnsupportedOption: (option: string) => `ERR Unsupported option ${option}`,
  expireNxConflict: 'ERR NX and XX, GT or LT options at the same time are not compatible',
  expireGtLtConflict: 'ERR GT and LT options at the same time are not compatible',
  selectDbOutOfRange: 'ERR value is out of range, value must between -2147483648 and 2147483647',
  notPositive: 'ERR value is out of range, must be positive',
  lposRankZero:
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
  lposCountNegative: "ERR COUNT can't be negative",
  lposMaxlenNegative: "ERR MAXLEN can't be negative",
  indexOutOfRange: 'ERR index out of range',
  hashValueNotInteger: 'ERR hash value is not an integer',
  decrementOverflow: 'ERR decrement would overflow',
  noScript: 'NOSCRIPT No matching script. Please use EVAL.',
  notBusy: 'NOTBUSY No scripts in execution right now.',
  evalTooManyKeys: "ERR Number of keys can't be greater than number of args",
  evalNegativeKeys: "ERR Number of keys can't be negative",
  scriptFlushOption: 'ERR SCRIPT FLUSH only support SYNC|ASYNC option',
  /** Lua's compile message, on one line. */
  luaCompileFailed: (why: string) => `ERR Error compiling script (new function): ${why.replace(/[\r\n]+/g, ' ')}`,
  /** A script raised something other than an error table (the caller cuts `why` as Redis does). */
  luaRunFailed: (sha: string, why: string) => `ERR Error running script f_${sha}, ${why}`,
  luaUnknownError: 'ERR unknown error',
  luaStackLimit: 'ERR reached lua stack limit',
  luaUnknownCommand: 'ERR Unknown Redis command called from script',
  luaWrongArity: 'ERR Wrong number of args calling Redis command from script',
  luaCommandNotAllowed: 'ERR This Redis command is not allowed from script',
  luaWriteInReadOnly: 'ERR Write commands are not allowed from read-only scripts.',
  /** A TorchScript script's redis.execute (script-host.ts). */
  scriptExecuteUnknownCommand: (name: string) => `ERR unknown command '${name}' called from script`,
  scriptExecuteNotAllowed: (name: string) => `ERR This Redis command is not allowed from script: ${name}`,
  scriptExecuteUndeclaredKey: (key: string) => `ERR script attempted to access key '${key}', which is not declared in KEYS`,
} as const;

const marker = Symbol.for('respai.error');

/**
 * The one error type of respai. `message` is the exact RESP error text (see `E`); the server
 * writes it as `-<message>\r\n`. Marked with a global symbol so `isInstance` holds across
 * duplicate copies of this package.
 */
export class RespaiError extends Error {
  readonly [marker] = true;
  override readonly name = 'RespaiError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
  static isInstance(e: unknown): e is RespaiError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[marker] === true;
  }
}

/** Throws a RespaiError with the given catalog text. */
export function fail(message: string): never {
  throw new RespaiError(message);
}

/**
 * A message from outside the catalog (a runtime's, a backend's) is cut to this many characters in
 * a reply: runtimes quote the input they choke on (a compiler error quotes the source line, however
 * long), and neither a reply nor a log line may grow with what a client sent.
 */
export const MAX_FOREIGN_MESSAGE = 1024;

/** `message` on one line, cut to `max` characters with a note of what was left out. */
export function boundedMessage(message: string, max = MAX_FOREIGN_MESSAGE): string {
  const one = message.replace(/[\r\n]+/g, ' ');
  return one.length <= max ? one : `${one.slice(0, max)}... (${one.length - max} more characters)`;
}

/** The longest error text sent; runtimes' messages that quote a client's input stay within it. */
export const ERROR_MAX = 4096;

/**
 * An error text with what it quotes bounded: a run of more than 160 bytes without a space (an
 * identifier a TorchScript compile error quotes, a source line's `~~~~` marker) keeps its first
 * 128 bytes and `...`, and the whole text at most ERROR_MAX bytes. Catalog texts, which quote at
 * most 128 bytes of an argument (see `echo`), are never changed by it.
 */
export function bounded(text: string): string {
  if (text.length <= 160) return text;
  const space = (c: number) => c === 32 || (c >= 9 && c <= 13);
  let out = '';
  // One linear pass that stops once the text is long enough: a message may quote megabytes.
  for (let i = 0; i < text.length && out.length <= ERROR_MAX; ) {
    let j = i;
    while (j < text.length && !space(text.charCodeAt(j))) j++;
    out += j - i > 160 ? `${echo(text.slice(i, i + ECHO_MAX))}...` : text.slice(i, j);
    i = j;
    while (j < text.length && space(text.charCodeAt(j))) j++;
    out += text.slice(i, j);
    i = j;
  }
  if (Buffer.byteLength(out) > ERROR_MAX) out = `${Buffer.from(out).subarray(0, ERROR_MAX - 3).toString('utf8')}...`;
  return out;
}

/**
 * The RESP error text for any thrown value: catalog texts as they are, anything else as `ERR ...`;
 * either way bounded (see `bounded`).
 */
export function errorText(e: unknown): string {
  if (RespaiError.isInstance(e)) return bounded(e.message);
  const msg = e instanceof Error ? e.message : String(e);
  return bounded(`ERR ${msg}`).replace(/[\r\n]+/g, ' ');
}

/**
 * What a backend threw, as the client's error: the SPI sends anything a backend throws as
 * `ERR <message>`, so a plain Error from a load or a run is the client's answer (a bad model, a
 * script that does not compile), not a server failure. The original stays as `cause`.
 */
export function clientError(e: unknown): RespaiError {
  return RespaiError.isInstance(e) ? e : new RespaiError(errorText(e), { cause: e });
}
