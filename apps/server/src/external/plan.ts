import { keyOf, type Key } from '@respai/core';
import type { ReadMode } from '@respai/keyspace-redis';
import { is, parseInt64 } from '../commands/args.js';
import { parseScriptExecute, parseScriptRun } from '../commands/script-args.js';

/**
 * What an AI command run over the external keyspace reads, writes and names (docs/scale-out.md,
 * "How commands run"). A plan is a guess from the arguments alone, made before the store is
 * read: for speed (one pipelined round trip), not correctness. A key the command reads that the
 * plan missed is fetched when the overlay reports the miss; malformed arguments give a small plan
 * and the command's own parser gives the error.
 */
export interface KeyPlan {
  /** Keys to prefetch, with what to read of each. */
  readonly reads: Map<Key, ReadMode>;
  /** Keys the command writes (their type is checked by the write itself). */
  readonly writes: Set<Key>;
  /** Other keys the command names (a script's KEYS, a DAG's ROUTING): for the slot check only. */
  readonly named: Set<Key>;
}

const plan = (): KeyPlan => ({ reads: new Map(), writes: new Set(), named: new Set() });

/** Every key of a plan, for the Cluster's one-slot rule. */
export function planKeys(p: KeyPlan): Key[] {
  return [...new Set([...p.reads.keys(), ...p.writes, ...p.named])];
}

/** `n k1..kn` at `i` (the count's index); [] when it does not parse. */
function counted(args: readonly Buffer[], i: number): Buffer[] {
  const n = args[i] === undefined ? undefined : parseInt64(args[i]!);
  if (n === undefined || n <= 0n || n > BigInt(args.length)) return [];
  return args.slice(i + 1, i + 1 + Number(n));
}

function read(p: KeyPlan, key: Key, mode: ReadMode): void {
  if (!p.reads.has(key)) p.reads.set(key, mode);
}

/** AI.MODELEXECUTE key INPUTS n in... OUTPUTS m out... [TIMEOUT t] */
function modelExecute(p: KeyPlan, args: readonly Buffer[]): void {
  read(p, keyOf(args[0]!), 'model');
  for (let i = 1; i < args.length; i++) {
    if (is(args[i], 'INPUTS')) for (const k of counted(args, i + 1)) read(p, keyOf(k), 'tensor');
    else if (is(args[i], 'OUTPUTS')) for (const k of counted(args, i + 1)) p.writes.add(keyOf(k));
  }
}

/** The deprecated AI.MODELRUN key [TIMEOUT t] INPUTS in... OUTPUTS out... */
function modelRun(p: KeyPlan, args: readonly Buffer[]): void {
  read(p, keyOf(args[0]!), 'model');
  let section: 'in' | 'out' | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (is(a, 'INPUTS')) section = 'in';
    else if (is(a, 'OUTPUTS')) section = 'out';
    else if (is(a, 'TIMEOUT')) i++;
    else if (section === 'in') read(p, keyOf(a), 'tensor');
    else if (section === 'out') p.writes.add(keyOf(a));
  }
}

function script(p: KeyPlan, args: readonly Buffer[], deprecated: boolean): void {
  read(p, keyOf(args[0]!), 'script');
  try {
    const s = deprecated ? parseScriptRun(args, { inDag: false }) : parseScriptExecute(args, { inDag: false });
    for (const input of s.inputs) for (const k of 'value' in input ? [input.value] : input.list) read(p, k, 'tensor');
    for (const k of s.outputs) p.writes.add(k);
    for (const k of s.keys) p.named.add(k);
  } catch {
    // the command's own parser will say what is wrong
  }
}

/** A DAG: LOAD keys, PERSIST keys, KEYS/ROUTING, and the model or script key of each op. */
function dag(p: KeyPlan, args: readonly Buffer[]): void {
  let i = 0;
  for (; i < args.length && !is(args[i], '|>'); i++) {
    const a = args[i]!;
    if (is(a, 'LOAD')) for (const k of counted(args, i + 1)) read(p, keyOf(k), 'tensor');
    else if (is(a, 'PERSIST')) for (const k of counted(args, i + 1)) p.writes.add(keyOf(k));
    else if (is(a, 'KEYS')) for (const k of counted(args, i + 1)) p.named.add(keyOf(k));
    else if (is(a, 'ROUTING') && args[i + 1] !== undefined) p.named.add(keyOf(args[i + 1]!));
  }
  for (; i < args.length; i++) {
    if (!is(args[i], '|>') || args[i + 2] === undefined) continue;
    const op = args[i + 1]!;
    if (is(op, 'AI.MODELEXECUTE') || is(op, 'AI.MODELRUN')) read(p, keyOf(args[i + 2]!), 'model');
    else if (is(op, 'AI.SCRIPTEXECUTE') || is(op, 'AI.SCRIPTRUN')) {
      read(p, keyOf(args[i + 2]!), 'script');
      for (let j = i + 3; j < args.length && !is(args[j], '|>'); j++) {
        if (is(args[j], 'KEYS')) for (const k of counted(args, j + 1)) p.named.add(keyOf(k));
      }
    }
  }
}

/**
 * The plan of an AI command run over an overlay (the ones not handled on their own:
 * MODELSTORE, MODELGET, MODELDEL, the script equivalents, AI.INFO, AI._*SCAN).
 * `args` are the arguments after the command name.
 */
export function keyPlan(name: string, args: readonly Buffer[]): KeyPlan {
  const p = plan();
  if (args.length === 0) return p;
  switch (name) {
    case 'ai.tensorget':
      read(p, keyOf(args[0]!), 'tensor');
      break;
    case 'ai.tensorset':
      p.writes.add(keyOf(args[0]!));
      break;
    case 'ai.modelexecute':
      modelExecute(p, args);
      break;
    case 'ai.modelrun':
      modelRun(p, args);
      break;
    case 'ai.scriptexecute':
      script(p, args, false);
      break;
    case 'ai.scriptrun':
      script(p, args, true);
      break;
    case 'ai.dagexecute':
    case 'ai.dagexecute_ro':
    case 'ai.dagrun':
    case 'ai.dagrun_ro':
      dag(p, args);
      break;
  }
  return p;
}
