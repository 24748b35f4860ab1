import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

/** redis.conf's loglevels onto pino's. */
const LEVELS: Record<LogLevel, pino.LevelWithSilent> = {
  debug: 'debug',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
  nothing: 'silent',
};

/**
 * Bounds on what one log line may hold: fields often carry what a client sent (a key, a runtime's
 * message quoting a 1 MiB identifier), and a log line must not grow with it.
 */
export const LOG_LIMITS = {
  /** Characters of one string field, and of the message. */
  string: 512,
  /** Items of an array, keys of an object. */
  items: 16,
  /** Nesting of objects. */
  depth: 4,
  /** Stack frames of an error. */
  frames: 8,
  /** Characters of the fields of one line, serialized; past it they are replaced by a cut of their JSON. */
  line: 4096,
} as const;

function cut(s: string, max: number = LOG_LIMITS.string): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length - max} more characters)`;
}

/** `value` with every string, array, object and error cut to LOG_LIMITS. */
export function boundLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cut(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (depth >= LOG_LIMITS.depth) return '<nested too deep>';
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown; cause?: unknown };
    const stack = (e.stack ?? '').split('\n').slice(1, 1 + LOG_LIMITS.frames).map((l) => cut(l.trim(), 200));
    return {
      type: e.name,
      message: cut(e.message),
      ...(e.code === undefined ? {} : { code: boundLogValue(e.code, depth + 1) }),
      ...(stack.length > 0 ? { stack } : {}),
      ...(e.cause === undefined ? {} : { cause: boundLogValue(e.cause, depth + 1) }),
    };
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, LOG_LIMITS.items).map((v) => boundLogValue(v, depth + 1));
    if (value.length > LOG_LIMITS.items) items.push(`... (${value.length - LOG_LIMITS.items} more items)`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const k of keys.slice(0, LOG_LIMITS.items)) out[cut(k, 64)] = boundLogValue((value as Record<string, unknown>)[k], depth + 1);
  if (keys.length > LOG_LIMITS.items) out['...'] = `${keys.length - LOG_LIMITS.items} more keys`;
  return out;
}

/** The fields of one line, bounded (see LOG_LIMITS). */
function boundFields(obj: Record<string, unknown>): Record<string, unknown> {
  const bounded = boundLogValue(obj, -1) as Record<string, unknown>;
  const json = JSON.stringify(bounded);
  return json.length <= LOG_LIMITS.line ? bounded : { fields: cut(json, LOG_LIMITS.line - 64) };
}

/** pino options that keep every line bounded; shared by the server's logger and its tests. */
export function boundedLogOptions(): Pick<pino.LoggerOptions, 'formatters' | 'hooks' | 'serializers'> {
  return {
    formatters: { log: boundFields },
    // Errors were made plain, bounded objects by boundFields; pino's own serializer would redo it.
    serializers: { err: (e: unknown) => e },
    hooks: {
      logMethod(args, method) {
        // (msg), (obj, msg, ...), (err, msg): strings are cut (objects go through formatters.log);
        // without a message pino would take an error's whole message as one.
        const bounded = args.map((a) => (typeof a === 'string' ? cut(a) : a)) as unknown[];
        const first = bounded[0];
        if (bounded.length === 1 && typeof first === 'object' && first !== null) {
          const err = first instanceof Error ? first : (first as { err?: unknown }).err;
          if (err instanceof Error) bounded.push(cut(err.message));
        }
        method.apply(this, bounded as typeof args);
      },
    },
  };
}

/** Structured JSON logs (one object a line, each bounded) to stdout, or appended to `logfile`. */
export function createLogger(level: LogLevel, logfile: string): Logger {
  const dest = logfile === '' ? pino.destination({ fd: 1, sync: false }) : pino.destination({ dest: logfile, append: true, mkdir: true, sync: false });
  return pino({ level: LEVELS[level], base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, ...boundedLogOptions() }, dest);
}

export function setLogLevel(log: Logger, level: LogLevel): void {
  log.level = LEVELS[level];
}
