import { E, fail } from '@respai/core';
import type { Client } from '../client.js';
import { OK, VerbatimReply } from '../resp/reply.js';
import { is, parseInt64 } from './args.js';
import { defineCommand } from './types.js';

/** Redis refuses names with spaces, newlines or other non-printable characters. */
export function validateClientName(name: string): void {
  if (!/^[\x21-\x7e]*$/.test(name)) fail(E.badClientName);
}

/** One CLIENT LIST line, with the fields clients and tools parse. */
export function describeClient(c: Client, now = Date.now()): string {
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastInteraction) / 1000);
  const multi = c.multi === undefined ? -1 : c.multi.length;
  const flags = c.multi === undefined ? 'N' : 'x';
  return (
    `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name} age=${age} idle=${idle} ` +
    `flags=${flags} db=0 sub=0 psub=0 ssub=0 multi=${multi} qbuf=${c.queryBuffer} qbuf-free=0 argv-mem=0 ` +
    `multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${c.lastCommand} user=default ` +
    `redir=-1 resp=${c.proto} lib-name=${c.libName} lib-ver=${c.libVer}`
  );
}

type Request =
  | { op: 'id' | 'getname' | 'info' | 'help' }
  | { op: 'list'; type?: string; ids?: bigint[] }
  | { op: 'setname'; name: string }
  | { op: 'setinfo'; attr: 'lib-name' | 'lib-ver'; value: string }
  | { op: 'reply'; mode: 'on' | 'off' | 'skip' }
  | { op: 'noop' };

/**
 * Redis's subcommand arities, counting `client` and the subcommand: n > 0 exactly n, n < 0 at
 * least -n. A known subcommand with another count gets `wrong number of arguments for 'client|sub'`.
 * (SETINFO and NO-TOUCH are Redis 7.2's, with 7.2's arities.)
 */
const SUBCOMMAND_ARITY: Readonly<Record<string, number>> = {
  id: 2,
  getname: 2,
  info: 2,
  help: 2,
  list: -2,
  setname: 3,
  setinfo: 4,
  'no-evict': 3,
  'no-touch': 3,
  reply: 3,
};

/** Redis's getClientTypeByName: the names CLIENT LIST TYPE accepts. */
const CLIENT_TYPES = ['normal', 'slave', 'replica', 'pubsub', 'master'];

const HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ID', '    Return the ID of the current connection.',
  'GETNAME', '    Return the name of the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>', '    Set client meta attributes.',
  'LIST', '    Return information about client connections.',
  'INFO', '    Return information about the current client connection.',
  'HELP', '    Print this help.',
];

export const client = defineCommand<Request>({
  name: 'client',
  arity: -2,
  flags: ['loading'],
  summary: 'Inspects and names client connections.',
  group: 'connection',
  parse(args) {
    const sub = args[0]!;
    const n = args.length;
    const name = sub.toString('latin1').toLowerCase();
    const arity = Object.hasOwn(SUBCOMMAND_ARITY, name) ? SUBCOMMAND_ARITY[name] : undefined;
    if (arity === undefined) fail(E.unknownSubcommand(sub.toString(), 'client'));
    if (arity > 0 ? n + 1 !== arity : n + 1 < -arity) fail(E.arity(`client|${name}`));
    switch (name) {
      case 'id':
      case 'getname':
      case 'info':
      case 'help':
        return { op: name as 'id' | 'getname' | 'info' | 'help' };
      case 'list':
        // As Redis 7.0: `TYPE <type>` alone, or `ID <id> [<id> ...]`; anything else is a syntax error.
        if (n === 3 && is(args[1], 'TYPE')) {
          const type = args[2]!.toString().toLowerCase();
          if (!CLIENT_TYPES.includes(type)) fail(E.unknownClientType(args[2]!.toString()));
          return { op: 'list', type };
        }
        if (n > 2 && is(args[1], 'ID')) {
          const ids = args.slice(2).map((a) => {
            const id = parseInt64(a);
            if (id === undefined) fail(E.invalidClientId);
            return id;
          });
          return { op: 'list', ids };
        }
        if (n !== 1) fail(E.syntax);
        return { op: 'list' };
      case 'setname': {
        const clientName = args[1]!.toString();
        validateClientName(clientName);
        return { op: 'setname', name: clientName };
      }
      case 'setinfo': {
        const attr = args[1]!.toString().toLowerCase();
        if (attr !== 'lib-name' && attr !== 'lib-ver') fail(E.unknownClientInfoOption(args[1]!.toString()));
        const value = args[2]!.toString();
        if (!/^[\x21-\x7e]*$/.test(value)) fail(E.badClientInfoValue(attr));
        return { op: 'setinfo', attr, value };
      }
      case 'reply': {
        const mode = (['ON', 'OFF', 'SKIP'] as const).find((m) => is(args[1], m));
        if (mode === undefined) fail(E.syntax);
        return { op: 'reply', mode: mode.toLowerCase() as 'on' | 'off' | 'skip' };
      }
      default:
        // NO-EVICT / NO-TOUCH: ON or OFF, accepted and ignored (no eviction, no LRU here).
        if (!is(args[1], 'ON') && !is(args[1], 'OFF')) fail(E.syntax);
        return { op: 'noop' };
    }
  },
  execute(ctx, req) {
    const c = ctx.client;
    switch (req.op) {
      case 'id':
        return c.id;
      case 'getname':
        return c.name === '' ? null : c.name;
      case 'setname':
        c.name = req.name;
        return OK;
      case 'setinfo':
        if (req.attr === 'lib-name') c.libName = req.value;
        else c.libVer = req.value;
        return OK;
      case 'info':
        return new VerbatimReply('txt', describeClient(c) + '\n');
      case 'list': {
        const now = Date.now();
        let listed: Client[];
        if (req.ids !== undefined) {
          // In the order given, as Redis does; ids with no connection are left out.
          listed = req.ids.flatMap((id) => {
            const x = id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? ctx.server.clients.get(Number(id)) : undefined;
            return x === undefined ? [] : [x];
          });
        } else {
          // Every connection here is a normal client: no replicas, masters or pub/sub clients.
          listed = req.type === undefined || req.type === 'normal' ? [...ctx.server.clients.values()] : [];
        }
        return new VerbatimReply('txt', listed.map((x) => describeClient(x, now) + '\n').join(''));
      }
      case 'reply':
        // Suppression happens in the client's reply path: OFF drops this OK too, SKIP drops this
        // reply and the next command's, ON clears both (and its OK is sent).
        if (req.mode === 'on') {
          c.replyOff = false;
          c.replySkip = 0;
        } else if (req.mode === 'off') c.replyOff = true;
        else if (!c.replyOff) c.replySkip = 2;
        return OK;
      case 'help':
        return HELP;
      case 'noop':
        return OK;
    }
  },
});
