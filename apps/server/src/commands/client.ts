import { E, fail } from '@respai/core';
import type { Client } from '../client.js';
import { OK, VerbatimReply } from '../resp/reply.js';
import { is } from './args.js';
import { defineCommand } from './types.js';

/** Redis refuses names with spaces, newlines or other non-printable characters. */
export function validateClientName(name: string): void {
  if (!/^[\x21-\x7e]*$/.test(name)) fail('ERR Client names cannot contain spaces, newlines or special characters.');
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
  | { op: 'id' | 'getname' | 'info' | 'list' | 'help' }
  | { op: 'setname'; name: string }
  | { op: 'setinfo'; attr: 'lib-name' | 'lib-ver'; value: string }
  | { op: 'noop' };

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
    if (is(sub, 'ID') && n === 1) return { op: 'id' };
    if (is(sub, 'GETNAME') && n === 1) return { op: 'getname' };
    if (is(sub, 'INFO') && n === 1) return { op: 'info' };
    if (is(sub, 'HELP') && n === 1) return { op: 'help' };
    if (is(sub, 'LIST')) {
      // TYPE normal / ID filters are accepted; everyone here is a normal client.
      if (n === 1 || (n === 3 && is(args[1], 'TYPE'))) return { op: 'list' };
      fail(E.syntax);
    }
    if (is(sub, 'SETNAME') && n === 2) {
      const name = args[1]!.toString();
      validateClientName(name);
      return { op: 'setname', name };
    }
    if (is(sub, 'SETINFO') && n === 3) {
      const attr = args[1]!.toString().toLowerCase();
      if (attr !== 'lib-name' && attr !== 'lib-ver') fail(`ERR Unrecognized option '${args[1]!.toString()}'`);
      const value = args[2]!.toString();
      if (!/^[\x21-\x7e]*$/.test(value)) fail(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
      return { op: 'setinfo', attr, value };
    }
    if (is(sub, 'NO-EVICT') || is(sub, 'NO-TOUCH') || is(sub, 'REPLY')) return { op: 'noop' };
    fail(E.unknownSubcommand(sub.toString(), 'client'));
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
        const lines = [...ctx.server.clients.values()].map((x) => describeClient(x, now) + '\n');
        return new VerbatimReply('txt', lines.join(''));
      }
      case 'help':
        return HELP;
      case 'noop':
        return OK;
    }
  },
});
