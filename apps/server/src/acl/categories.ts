import type { Command } from '../commands/types.js';
import { REDIS_COMMAND_CATEGORIES } from './redis-categories.js';

/** Redis 7's categories in its own order (ACL CAT, and the order rules are described in), then respai's `ai`. */
export const CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting', 'ai',
] as const;

/** One command or subcommand as ACL rules see it: a bit in each user's command bitmap. */
export interface AclCommand {
  readonly id: number;
  /** `get`, `config|get`. */
  readonly fullName: string;
  readonly categories: ReadonlySet<string>;
  /** Container commands (CONFIG, CLIENT, ACL...): their subcommands by lower-case name. */
  readonly subcommands: ReadonlyMap<string, AclCommand> | undefined;
  readonly parent: AclCommand | undefined;
}

/**
 * respai's own commands' categories: the original engine's flags mapped as Redis maps a module
 * command's (write -> @write, readonly -> @read, admin -> @admin @dangerous, no fast -> @slow), and
 * `@ai` for every AI command. AI.CONFIG loads code: @admin @dangerous.
 */
function ownCategories(c: Command): string[] {
  const cats: string[] = [];
  if (c.flags.includes('write')) cats.push('write');
  if (c.flags.includes('readonly')) cats.push('read');
  if (c.flags.includes('admin') || c.name === 'ai.config') cats.push('admin', 'dangerous');
  cats.push(c.flags.includes('fast') ? 'fast' : 'slow');
  if (c.name.startsWith('ai.')) cats.push('ai');
  return cats;
}

const split = (s: string): Set<string> => new Set(s.split(' ').filter((w) => w !== ''));

/** Every command of a server's table with its ACL id and categories (subcommands included). */
export class CommandCatalog {
  readonly all: AclCommand[] = [];
  private readonly byName = new Map<string, AclCommand>();
  private readonly byCommand = new Map<Command, AclCommand>();
  private readonly byCategory = new Map<string, AclCommand[]>();

  constructor(table: ReadonlyMap<string, Command>) {
    const add = (fullName: string, categories: Set<string>, parent?: AclCommand): AclCommand => {
      const subs = new Map<string, AclCommand>();
      const entry: AclCommand = { id: this.all.length, fullName, categories, subcommands: undefined, parent };
      this.all.push(entry);
      this.byName.set(fullName, entry);
      for (const cat of categories) {
        let list = this.byCategory.get(cat);
        if (list === undefined) this.byCategory.set(cat, (list = []));
        list.push(entry);
      }
      return Object.assign(entry, { subcommands: parent === undefined ? subs : undefined });
    };
    for (const [name, command] of table) {
      const redis = REDIS_COMMAND_CATEGORIES[name];
      const entry = add(name, redis === undefined ? new Set(ownCategories(command)) : split(redis));
      const prefix = `${name}|`;
      const subs = entry.subcommands as Map<string, AclCommand>;
      for (const [full, cats] of Object.entries(REDIS_COMMAND_CATEGORIES)) {
        if (full.startsWith(prefix)) subs.set(full.slice(prefix.length), add(full, split(cats), entry));
      }
      if (subs.size === 0) Object.assign(entry, { subcommands: undefined });
      this.byCommand.set(command, entry);
    }
  }

  /** A command or `container|sub` by its lower-case full name. */
  lookup(fullName: string): AclCommand | undefined {
    return this.byName.get(fullName.toLowerCase());
  }

  /** The entry a call is checked against: a container's subcommand when the first argument names one. */
  forCall(command: Command, argv: readonly Buffer[]): AclCommand | undefined {
    const entry = this.byCommand.get(command);
    if (entry?.subcommands === undefined || argv.length < 2) return entry;
    return entry.subcommands.get(argv[1]!.toString('latin1').toLowerCase()) ?? entry;
  }

  inCategory(category: string): readonly AclCommand[] {
    return this.byCategory.get(category) ?? [];
  }

  get size(): number {
    return this.all.length;
  }
}
