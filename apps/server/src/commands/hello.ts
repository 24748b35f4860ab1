import { E, fail } from '@respai/core';
import { MapReply } from '../resp/reply.js';
import { is, intArg } from './args.js';
import { authenticate } from './auth.js';
import { validateClientName } from './client.js';
import { defineCommand } from './types.js';
import { REDIS_VERSION } from '../version.js';

export const hello = defineCommand({
  name: 'hello',
  arity: -1,
  flags: ['noauth', 'fast', 'loading'],
  summary: 'Handshakes with the server, selecting RESP2 or RESP3.',
  group: 'connection',
  parse(args) {
    let proto: number | undefined;
    let auth: { user: string; password: Buffer } | undefined;
    let setname: string | undefined;
    let i = 0;
    // As Redis: the version is checked before the options, and SETNAME's name while reading them.
    if (args.length > 0) {
      proto = intArg(args[0], E.helloProtoNotInteger);
      if (proto !== 2 && proto !== 3) fail(E.noProto);
      i = 1;
    }
    while (i < args.length) {
      if (is(args[i], 'AUTH') && i + 2 < args.length) {
        auth = { user: args[i + 1]!.toString(), password: args[i + 2]! };
        i += 3;
      } else if (is(args[i], 'SETNAME') && i + 1 < args.length) {
        setname = args[i + 1]!.toString();
        validateClientName(setname);
        i += 2;
      } else {
        fail(E.helloSyntax(args[i]!.toString()));
      }
    }
    return { proto: proto as 2 | 3 | undefined, auth, setname };
  },
  execute(ctx, { proto, auth, setname }) {
    if (auth !== undefined) authenticate(ctx, auth.user, auth.password);
    if (!ctx.client.authenticated) fail(E.helloNoAuth);
    if (setname !== undefined) ctx.client.name = setname;
    if (proto !== undefined) ctx.client.proto = proto;
    return new MapReply([
      ['server', 'redis'],
      ['version', REDIS_VERSION],
      ['proto', ctx.client.proto],
      ['id', ctx.client.id],
      ['mode', 'standalone'],
      ['role', 'master'],
      ['modules', []],
    ]);
  },
});
