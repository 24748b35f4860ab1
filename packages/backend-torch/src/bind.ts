import type { ScriptArg, Tensor } from '@respai/core';
import type { NativeParam, NativeTensorIn, WireArg, WireScalar } from './native.js';

/** A respai Tensor, by shape rather than class: a second copy of @respai/core must not break it. */
export function isTensor(x: unknown): x is Tensor {
  return (
    typeof x === 'object' &&
    x !== null &&
    !Array.isArray(x) &&
    typeof (x as Tensor).dtype === 'string' &&
    Buffer.isBuffer((x as Tensor).data) &&
    Array.isArray((x as Tensor).shape)
  );
}

const ENTRY_POINT = ['List[Tensor]', 'List[str]', 'List[str]'];

/** `(tensors: List[Tensor], keys: List[str], args: List[str])`, AI.SCRIPTSTORE's entry-point form. */
export function isEntryPoint(params: readonly NativeParam[]): boolean {
  return params.length === 3 && params.every((p, i) => p.kind === ENTRY_POINT[i]);
}

const describe = (x: unknown): string =>
  isTensor(x)
    ? `a ${x.dtype} tensor`
    : Array.isArray(x)
      ? 'a list'
      : Buffer.isBuffer(x)
        ? 'a string'
        : typeof x === 'number' || typeof x === 'bigint'
          ? `the number ${String(x)}`
          : typeof x === 'string'
            ? `'${x}'`
            : String(x);

/**
 * Binds a script call's arguments to the function's parameters, converting each to its declared
 * type (the engine already binds by `signature()`; this also serves other callers and the
 * deprecated forms). Entry points `(tensors, keys, args)` take the three lists as given, or, when
 * the arguments are not already those lists, every tensor argument, `keys`, and every other
 * argument as a string.
 */
export function bindArgs(fn: string, params: readonly NativeParam[], args: readonly ScriptArg[], keys: readonly string[]): WireArg[] {
  let actual = args;
  if (isEntryPoint(params) && !alreadyEntryPointArgs(args)) {
    const flat = args.flatMap((a) => (Array.isArray(a) ? (a as readonly ScriptArg[]) : [a]));
    actual = [flat.filter(isTensor), [...keys], flat.filter((a) => !isTensor(a)).map((a) => (Buffer.isBuffer(a) ? a.toString() : String(a)))];
  }
  const required = params.filter((p) => !p.hasDefault).length;
  if (actual.length < required || actual.length > params.length) {
    const takes = required === params.length ? `${params.length}` : `${required} to ${params.length}`;
    throw new Error(`Wrong number of inputs provided to function ${fn}: it takes ${takes}, ${actual.length} given`);
  }
  return actual.map((a, i) => bindOne(fn, i, params[i] as NativeParam, a));
}

function alreadyEntryPointArgs(args: readonly ScriptArg[]): boolean {
  const [t, k, a] = args;
  return (
    args.length === 3 &&
    Array.isArray(t) &&
    Array.isArray(k) &&
    Array.isArray(a) &&
    (t as unknown[]).every(isTensor) &&
    !(k as unknown[]).some(isTensor) &&
    !(a as unknown[]).some(isTensor)
  );
}

type Scalar = 'Tensor' | 'int' | 'float' | 'str' | 'bool';
const TAG: Record<Scalar, 0 | 1 | 2 | 3 | 4> = { Tensor: 0, int: 1, float: 2, str: 3, bool: 4 };

function bindOne(fn: string, i: number, p: NativeParam, a: ScriptArg): WireArg {
  const where = `argument ${i + 1} (${p.name}: ${p.type}) of ${fn}`;
  switch (p.kind) {
    case 'Tensor':
    case 'int':
    case 'float':
    case 'str':
    case 'bool':
      if (Array.isArray(a)) throw new Error(`${where} takes one value, a list was given`);
      return scalar(where, p.kind, a);
    case 'List[Tensor]':
    case 'List[int]':
    case 'List[float]':
    case 'List[str]': {
      const elem = p.kind.slice(5, -1) as Scalar;
      const items = Array.isArray(a) ? (a as readonly ScriptArg[]) : [a];
      return [5, TAG[elem], items.map((x) => scalar(where, elem, x)[1])];
    }
    default:
      return guess(where, p.type, a);
  }
}

function scalar(where: string, kind: Scalar, a: ScriptArg): WireScalar {
  const bad = (): never => {
    throw new Error(`${where} must be ${kind === 'int' ? 'an int' : `a ${kind}`}, got ${describe(a)}`);
  };
  if (Array.isArray(a)) return bad();
  if (kind === 'Tensor') return isTensor(a) ? [0, a as NativeTensorIn] : bad();
  if (isTensor(a)) return bad();
  const text = Buffer.isBuffer(a) ? a.toString() : a;
  switch (kind) {
    case 'int': {
      if (typeof text === 'number') return Number.isSafeInteger(text) ? [1, BigInt(text)] : bad();
      if (typeof text === 'bigint') return [1, text];
      return typeof text === 'string' && /^[+-]?\d{1,19}$/.test(text.trim()) ? [1, BigInt.asIntN(64, BigInt(text.trim()))] : bad();
    }
    case 'float': {
      const v = typeof text === 'string' ? (text.trim() === '' ? NaN : Number(text)) : Number(text);
      return Number.isNaN(v) && String(text).trim().toLowerCase() !== 'nan' ? bad() : [2, v];
    }
    case 'str':
      return [3, Buffer.isBuffer(a) ? a : String(text)];
    case 'bool': {
      const s = String(text).trim().toLowerCase();
      if (s === '1' || s === 'true') return [4, true];
      if (s === '0' || s === 'false') return [4, false];
      return bad();
    }
  }
}

// Parameters of other types (Optional[...], Any, unions): pass the value by its JS type and let
// TorchScript's own type check name a mismatch.
function guess(where: string, type: string, a: ScriptArg | null | undefined): WireArg {
  const floaty = /float/.test(type);
  const one = (x: ScriptArg): WireScalar => {
    if (isTensor(x)) return [0, x];
    if (typeof x === 'number') return floaty || !Number.isSafeInteger(x) ? [2, x] : [1, BigInt(x)];
    if (typeof x === 'bigint') return [1, x];
    if (typeof x === 'boolean') return [4, x];
    if (typeof x === 'string' || Buffer.isBuffer(x)) return [3, x];
    throw new Error(`${where} cannot take ${describe(x)}`);
  };
  if (a === null || a === undefined) return [6];
  if (!Array.isArray(a)) return one(a as ScriptArg);
  const items = (a as readonly ScriptArg[]).map(one);
  const tag = (items[0]?.[0] ?? 0) as 0 | 1 | 2 | 3 | 4;
  if (items.some((x) => x[0] !== tag)) throw new Error(`${where} cannot take a list of mixed types`);
  return [5, tag, items.map((x) => x[1])];
}
