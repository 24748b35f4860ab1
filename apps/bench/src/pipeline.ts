import { floats, findError, type Client, type RespValue } from './client.js';
import type { Arg } from './loadgen/index.js';
import { blobOf } from './models.js';

/**
 * The inference request of the dag and batching scenarios, in its two shapes: one AI.DAGEXECUTE
 * (input, model, output DAG-local, nothing persisted), or the same three commands on keys.
 */

/** `AI.DAGEXECUTE ROUTING <model> |> AI.TENSORSET a ... |> AI.MODELEXECUTE <model> INPUTS 1 a OUTPUTS 1 b |> AI.TENSORGET b BLOB`. */
export function dagArgs(model: string, dims: readonly number[], data: Float32Array): Arg[] {
  return [
    'AI.DAGEXECUTE', 'ROUTING', model,
    '|>', 'AI.TENSORSET', 'a', 'FLOAT', ...dims, 'BLOB', blobOf(data),
    '|>', 'AI.MODELEXECUTE', model, 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'b',
    '|>', 'AI.TENSORGET', 'b', 'BLOB',
  ];
}

/** AI.TENSORSET in, AI.MODELEXECUTE, AI.TENSORGET out BLOB: what a client sends awaiting each reply. */
export function separateArgs(model: string, inKey: string, outKey: string, dims: readonly number[], data: Float32Array): Arg[][] {
  return [
    ['AI.TENSORSET', inKey, 'FLOAT', ...dims, 'BLOB', blobOf(data)],
    ['AI.MODELEXECUTE', model, 'INPUTS', 1, inKey, 'OUTPUTS', 1, outKey],
    ['AI.TENSORGET', outKey, 'BLOB'],
  ];
}

/** Output of one DAG request (its TENSORGET's blob), failing on any error in the reply. */
export async function dagOutput(c: Client, args: readonly Arg[]): Promise<Float32Array> {
  const v: RespValue = await c.call(args);
  const e = findError(v);
  if (e) throw new Error(`AI.DAGEXECUTE: ${e.message}`);
  if (!Array.isArray(v) || v.length !== 3) throw new Error(`AI.DAGEXECUTE: expected 3 replies, got ${JSON.stringify(v)}`);
  return floats(v[2]!);
}

/** Output of the three separate commands, in turn. */
export async function separateOutput(c: Client, cmds: readonly Arg[][]): Promise<Float32Array> {
  let last: RespValue = null;
  for (const cmd of cmds) last = await c.ok(cmd);
  return floats(last);
}

/** Largest |a - b| relative to max(1, |b|); Infinity when the lengths differ. */
export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}
