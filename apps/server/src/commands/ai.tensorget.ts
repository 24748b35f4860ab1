import {
  E,
  RespaiError,
  fail,
  keyOf,
  parseTensorGetFormat,
  tensorGetReply,
  type Tensor,
  type TensorGetFormat,
  type TensorValue,
} from '@respai/core';
import { DoubleReply, type Reply } from '../resp/reply.js';
import { defineCommand } from './types.js';

const toReply = (floats: boolean) => (v: TensorValue): Reply =>
  floats ? new DoubleReply(v as number) : v;

/** AI.TENSORGET's reply layout (also used for TENSORGET ops inside DAGs). */
export function tensorReply(t: Tensor, format: TensorGetFormat): Reply {
  const r = tensorGetReply(t, format);
  const data: Reply | undefined =
    r.blob ?? (r.values === undefined ? undefined : r.values.map(toReply(r.floats)));
  if (r.meta === undefined) return data ?? null;
  const out: Reply[] = ['dtype', r.meta.dtype, 'shape', r.meta.shape];
  if (r.blob !== undefined) out.push('blob', r.blob);
  else if (data !== undefined) out.push('values', data);
  return out;
}

export const aiTensorget = defineCommand({
  name: 'ai.tensorget',
  arity: -2,
  flags: ['readonly'],
  summary: 'Returns a tensor: AI.TENSORGET key [META] [BLOB | VALUES].',
  group: 'ai',
  keys: { first: 1, last: 1, step: 1 },
  parse(args): { key: string; format: TensorGetFormat | RespaiError } {
    if (args.length > 3) fail(E.arity('ai.tensorget'));
    const key = keyOf(args[0]!);
    try {
      return { key, format: parseTensorGetFormat(args.slice(1)) };
    } catch (e) {
      // The original looks the key up before it reads the format: a format error waits for that.
      if (RespaiError.isInstance(e)) return { key, format: e };
      throw e;
    }
  },
  execute(ctx, { key, format }) {
    const t = ctx.keyspace.getTyped(key, 'tensor');
    if (t === undefined) fail(E.tensorEmpty);
    if (RespaiError.isInstance(format)) throw format;
    return tensorReply(t, format);
  },
});
