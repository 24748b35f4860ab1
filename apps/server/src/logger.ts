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

/** Structured JSON logs (one object a line) to stdout, or appended to `logfile`. */
export function createLogger(level: LogLevel, logfile: string): Logger {
  const dest = logfile === '' ? pino.destination({ fd: 1, sync: false }) : pino.destination({ dest: logfile, append: true, mkdir: true, sync: false });
  return pino({ level: LEVELS[level], base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export function setLogLevel(log: Logger, level: LogLevel): void {
  log.level = LEVELS[level];
}
