import { readFileSync } from 'node:fs';
import { E, fail } from '@respai/core';
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
}
export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';

type Kind = 'int' | 'memory' | 'string' | 'list' | 'loglevel';
interface OptionSpec {
  kind: Kind;
  /** Changeable with CONFIG SET while running. */
  mutable: boolean;
  min?: number;
  max?: number;
  /** Hidden from CONFIG GET values (requirepass shows, as in Redis; nothing hidden yet). */
}

const SPECS: { readonly [K in keyof ServerOptions]: OptionSpec } = {
  port: { kind: 'int', mutable: false, min: 0, max: 65535 },
  bind: { kind: 'list', mutable: false },
  requirepass: { kind: 'string', mutable: true },
  maxclients: { kind: 'int', mutable: true, min: 1, max: 1_000_000 },
  'proto-max-bulk-len': { kind: 'memory', mutable: true, min: 1024 * 1024, max: 2 ** 52 },
  loglevel: { kind: 'loglevel', mutable: true },
  logfile: { kind: 'string', mutable: false },
};

export const DEFAULTS: Readonly<ServerOptions> = {
  port: 6379,
  bind: ['127.0.0.1'],
  requirepass: '',
  maxclients: 10000,
  'proto-max-bulk-len': 512 * 1024 * 1024,
  loglevel: 'notice',
  logfile: '',
};

export const OPTION_NAMES = Object.keys(SPECS) as (keyof ServerOptions)[];

const isOption = (name: string): name is keyof ServerOptions => Object.hasOwn(SPECS, name);

const LOGLEVELS: readonly LogLevel[] = ['debug', 'verbose', 'notice', 'warning', 'nothing'];

/** Redis's memtoull: `512mb`, `1gb`, `100k` (k = 1000, kb = 1024), plain bytes. */
export function parseMemory(s: string): number | undefined {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s.trim());
  if (!m) return undefined;
  const mul: Record<string, number> = { b: 1, k: 1e3, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  const v = Number(m[1]) * mul[(m[2] ?? 'b').toLowerCase()]!;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Parses one option's value; returns an error message instead of throwing (callers word it). */
function parseValue<K extends keyof ServerOptions>(name: K, args: string[]): ServerOptions[K] | string {
  const spec = SPECS[name];
  if (spec.kind === 'list') {
    const items = args.flatMap((a) => a.split(/\s+/)).filter((a) => a !== '');
    return items.length > 0 ? (items as ServerOptions[K]) : 'argument(s) must be specified';
  }
  if (args.length !== 1) return 'wrong number of arguments';
  const raw = args[0]!;
  switch (spec.kind) {
    case 'string':
      return raw as ServerOptions[K];
    case 'loglevel': {
      const v = raw.toLowerCase() as LogLevel;
      return LOGLEVELS.includes(v) ? (v as ServerOptions[K]) : 'argument(s) must be one of the following: ' + LOGLEVELS.join(', ');
    }
    case 'int':
    case 'memory': {
      const v = spec.kind === 'memory' ? parseMemory(raw) : /^-?\d+$/.test(raw) ? Number(raw) : undefined;
      if (v === undefined || !Number.isSafeInteger(v)) return 'argument couldn\'t be parsed into an integer';
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max))
        return `argument must be between ${spec.min} and ${spec.max} inclusive`;
      return v as ServerOptions[K];
    }
  }
}

/** Formats a value for CONFIG GET the way redis-server does. */
export function formatValue(name: keyof ServerOptions, options: ServerOptions): string {
  const v = options[name];
  return Array.isArray(v) ? v.join(' ') : String(v);
}

export class ConfigError extends Error {}

/**
 * Reads options from an optional config file, then from command-line arguments (which win),
 * exactly like `redis-server [file] [--name value...]`.
 */
export function loadOptions(argv: readonly string[]): { options: ServerOptions; configFile?: string } {
  const options: ServerOptions = { ...DEFAULTS, bind: [...DEFAULTS.bind] };
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

function apply(options: ServerOptions, name: string, args: string[], where: string): void {
  if (!isOption(name)) throw new ConfigError(`${where}: unknown option '${name}'`);
  const v = parseValue(name, args);
  if (typeof v === 'string' && SPECS[name].kind !== 'string') throw new ConfigError(`${where}: '${name}': ${v}`);
  (options as unknown as Record<string, unknown>)[name] = v;
}

/** CONFIG SET of one option, with Redis's error texts. Returns the parsed value. */
export function setOption(options: ServerOptions, name: string, value: string): void {
  if (!isOption(name)) fail(E.configSetUnknown(name));
  if (!SPECS[name].mutable) fail(E.configSetInvalid(name, "can't set immutable config"));
  const v = parseValue(name, [value]);
  if (typeof v === 'string' && SPECS[name].kind !== 'string') fail(E.configSetInvalid(name, v));
  (options as unknown as Record<string, unknown>)[name] = v;
}
