import { randomBytes } from 'node:crypto';
import { E, fail } from '@respai/core';
import type { Acl } from '../acl/acl.js';
import { CATEGORIES } from '../acl/categories.js';
import type { User } from '../acl/user.js';
import { MapReply, OK, SimpleString, type Reply } from '../resp/reply.js';
import { defineCommand, type ExecContext } from './types.js';

type Request =
  | { op: 'setuser'; name: string; rules: string[] }
  | { op: 'getuser'; name: string }
  | { op: 'deluser'; names: string[] }
  | { op: 'list' | 'users' | 'whoami' | 'save' | 'load' | 'help' }
  | { op: 'cat'; category: string | undefined }
  | { op: 'genpass'; bits: number };

/** Redis 7's arities of ACL's subcommands (counting `ACL` and the subcommand). */
const ARITY: Record<string, number> = { setuser: -3, getuser: 3, deluser: -3, list: 2, users: 2, whoami: 2, cat: -2, save: 2, load: 2, help: 2, genpass: -2 };

const HELP = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

const latin1 = (b: Buffer) => b.toString('latin1');

/** ACL: Redis 7's users, the subset clients use (docs/operations.md). */
export const acl = defineCommand<Request>({
  name: 'acl',
  arity: -2,
  flags: ['admin', 'loading'],
  summary: 'ACL SETUSER | GETUSER | DELUSER | LIST | USERS | WHOAMI | CAT | SAVE | LOAD | GENPASS | HELP.',
  group: 'server',
  parse(args) {
    const typed = latin1(args[0]!);
    const sub = typed.toLowerCase();
    const arity = ARITY[sub];
    if (arity === undefined) fail(E.unknownSubcommand(typed, 'acl'));
    const n = args.length + 1;
    if ((arity > 0 && n !== arity) || n < -arity) fail(E.arity(`acl|${sub}`));
    switch (sub) {
      case 'setuser':
        return { op: 'setuser', name: latin1(args[1]!), rules: args.slice(2).map(latin1) };
      case 'getuser':
        return { op: 'getuser', name: latin1(args[1]!) };
      case 'deluser':
        return { op: 'deluser', names: args.slice(1).map(latin1) };
      case 'cat':
        if (args.length > 2) fail(E.subcommandOrArity(typed, 'acl'));
        return { op: 'cat', category: args[1] === undefined ? undefined : latin1(args[1]) };
      case 'genpass': {
        if (args.length > 2) fail(E.subcommandOrArity(typed, 'acl'));
        const raw = args[1] === undefined ? '256' : latin1(args[1]);
        const bits = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(bits) || bits <= 0 || bits > 4096) fail(E.aclGenpassBits);
        return { op: 'genpass', bits };
      }
      default:
        return { op: sub as 'list' };
    }
  },
  execute(ctx, req) {
    const a = ctx.server.acl;
    if (a === undefined) fail(E.aclUnavailable);
    return run(ctx, a, req);
  },
});

function run(ctx: ExecContext, a: Acl, req: Request): Reply {
  switch (req.op) {
    case 'setuser': {
      const error = a.setUser(req.name, req.rules);
      if (error !== undefined) fail(error);
      return OK;
    }
    case 'getuser': {
      const u = a.users.get(req.name);
      if (u === undefined) return null;
      return new MapReply([
        ['flags', u.flags()],
        ['passwords', [...u.passwords]],
        ['commands', u.commandRules()],
        ['keys', u.keysRule()],
        ['channels', u.channelsRule()],
        ['selectors', []],
      ]);
    }
    case 'deluser': {
      if (req.names.includes('default')) fail(E.aclDeleteDefault);
      let deleted = 0;
      for (const name of new Set(req.names)) {
        const u = a.users.get(name);
        if (u === undefined) continue;
        a.users.delete(name);
        deleted++;
        disconnect(ctx, (c) => c === u);
      }
      return deleted;
    }
    case 'list':
      return a.list();
    case 'users':
      return [...a.users.keys()].sort();
    case 'whoami':
      return ctx.client.user?.name ?? 'default';
    case 'cat': {
      if (req.category === undefined) return [...CATEGORIES];
      const cat = req.category.toLowerCase();
      if (!(CATEGORIES as readonly string[]).includes(cat)) fail(E.aclUnknownCategory(req.category.slice(0, 128)));
      return a.catalog.inCategory(cat).map((c) => c.fullName);
    }
    case 'save':
      if (a.aclfile === '') fail(E.aclNoFile);
      try {
        a.save();
      } catch (e) {
        ctx.server.log.warn({ err: (e as Error).message, aclfile: a.aclfile }, 'ACL SAVE failed');
        fail(E.aclSaveFailed);
      }
      return OK;
    case 'load': {
      if (a.aclfile === '') fail(E.aclNoFile);
      const before = new Set(a.users.values());
      const error = a.load();
      if (error !== undefined) fail(E.aclLoadFailed(error));
      // As Redis: connections of users that were replaced are closed (default keeps its object).
      disconnect(ctx, (u) => u !== a.defaultUser && before.has(u as User));
      return OK;
    }
    case 'genpass':
      return randomBytes(Math.ceil(req.bits / 8)).toString('hex').slice(0, Math.ceil(req.bits / 4));
    case 'help':
      return HELP.map((l) => new SimpleString(l));
  }
}

/** Closes the connections running as matching users; the caller's own after its reply. */
function disconnect(ctx: ExecContext, match: (u: unknown) => boolean): void {
  for (const c of ctx.server.clients.values()) {
    if (c.user === undefined || !match(c.user)) continue;
    if (c === ctx.client) c.closeAfterReply();
    else c.close();
  }
}
