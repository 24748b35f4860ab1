import { DT, encodeGraphDef } from '../proto.js';

/**
 * Builds binary TensorFlow GraphDefs from code, with the same protobufjs types the backend decodes
 * them with, so tests can make the graphs they need (TF itself cannot be installed here). Values
 * follow graph.proto: attrs are AttrValue objects (see `attr`), Const values TensorProtos.
 *
 * ```ts
 * const g = new GraphDefWriter();
 * const x = g.placeholder('x', 'FLOAT', [-1, 4]);
 * const w = g.const('w', { dtype: 'FLOAT', shape: [4, 2], values: [...] });
 * g.node('y', 'MatMul', [x, w], { T: attr.type('FLOAT') });
 * const blob = g.toBuffer();
 * ```
 */

export type TfType = keyof typeof DT;

/** A Const value. `encoding`: `content` (tensor_content bytes, the default for numbers) or `values` (the typed *_val fields). */
export interface ConstTensor {
  readonly dtype: TfType;
  readonly shape: readonly number[];
  readonly values: ArrayLike<number> | readonly bigint[] | readonly (string | Uint8Array)[];
  readonly encoding?: 'content' | 'values';
}

type AttrObject = Record<string, unknown>;

/** AttrValue builders. */
export const attr = {
  type: (t: TfType): AttrObject => ({ type: DT[t] }),
  types: (ts: readonly TfType[]): AttrObject => ({ list: { type: ts.map((t) => DT[t]) } }),
  int: (i: number | bigint): AttrObject => ({ i: String(i) }),
  ints: (v: readonly (number | bigint)[]): AttrObject => ({ list: { i: v.map(String) } }),
  float: (f: number): AttrObject => ({ f }),
  floats: (v: readonly number[]): AttrObject => ({ list: { f: [...v] } }),
  bool: (b: boolean): AttrObject => ({ b }),
  str: (s: string): AttrObject => ({ s: Buffer.from(s, 'utf8') }),
  strs: (v: readonly string[]): AttrObject => ({ list: { s: v.map((s) => Buffer.from(s, 'utf8')) } }),
  /** undefined: unknown rank; -1: a free dimension. */
  shape: (dims: readonly number[] | undefined): AttrObject => ({ shape: shapeProto(dims) }),
  func: (name: string, attrs: Record<string, AttrObject> = {}): AttrObject => ({ func: { name, attr: attrs } }),
  tensor: (t: ConstTensor): AttrObject => ({ tensor: tensorProto(t) }),
};

export interface FunctionSpec {
  readonly name: string;
  readonly inputs: readonly { name: string; dtype: TfType }[];
  readonly outputs: readonly { name: string; dtype: TfType }[];
  /** Body nodes; inputs name function args (`x`) or node outputs (`node:out_arg:0` or `node`). */
  readonly nodes: readonly { name: string; op: string; inputs?: readonly string[]; attrs?: Record<string, AttrObject> }[];
  /** Output arg name -> the body tensor it returns. */
  readonly ret: Record<string, string>;
}

export class GraphDefWriter {
  private readonly nodes: object[] = [];
  private readonly functions: object[] = [];

  /** Adds a node; returns its name, for use as another node's input. */
  node(name: string, op: string, inputs: readonly string[] = [], attrs: Record<string, AttrObject> = {}): string {
    this.nodes.push({ name, op, input: [...inputs], attr: attrs });
    return name;
  }

  /** A Placeholder; `shape` undefined leaves it of unknown rank (as graph.pb's are). */
  placeholder(name: string, dtype: TfType, shape?: readonly number[]): string {
    return this.node(name, 'Placeholder', [], { dtype: attr.type(dtype), shape: attr.shape(shape) });
  }

  const(name: string, t: ConstTensor): string {
    return this.node(name, 'Const', [], { dtype: attr.type(t.dtype), value: attr.tensor(t) });
  }

  function(f: FunctionSpec): void {
    this.functions.push({
      signature: {
        name: f.name,
        inputArg: f.inputs.map((a) => ({ name: a.name, type: DT[a.dtype] })),
        outputArg: f.outputs.map((a) => ({ name: a.name, type: DT[a.dtype] })),
      },
      nodeDef: f.nodes.map((n) => ({ name: n.name, op: n.op, input: [...(n.inputs ?? [])], attr: n.attrs ?? {} })),
      ret: f.ret,
    });
  }

  toBuffer(): Buffer {
    const graph: Record<string, unknown> = { node: this.nodes, versions: { producer: 1286, minConsumer: 0 } };
    if (this.functions.length > 0) graph['library'] = { function: this.functions };
    return Buffer.from(encodeGraphDef(graph));
  }
}

function shapeProto(dims: readonly number[] | undefined): object {
  return dims === undefined ? { unknownRank: true } : { dim: dims.map((size) => ({ size })) };
}

/** A TensorProto object for protobufjs's `fromObject`. */
export function tensorProto(t: ConstTensor): object {
  const base = { dtype: DT[t.dtype], tensorShape: shapeProto(t.shape) };
  const nums = () => Array.from(t.values as ArrayLike<number>, Number);
  if (t.dtype === 'STRING') {
    return { ...base, stringVal: Array.from(t.values as ArrayLike<string | Uint8Array>, (v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v)) };
  }
  if (t.encoding === 'values') {
    switch (t.dtype) {
      case 'FLOAT':
        return { ...base, floatVal: nums() };
      case 'DOUBLE':
        return { ...base, doubleVal: nums() };
      case 'INT64':
        return { ...base, int64Val: Array.from(t.values as ArrayLike<number | bigint>, String) };
      case 'BOOL':
        return { ...base, boolVal: nums().map((v) => v !== 0) };
      case 'HALF':
        return { ...base, halfVal: nums().map(floatToHalf) };
      default:
        return { ...base, intVal: nums() };
    }
  }
  return { ...base, tensorContent: contentBytes(t) };
}

function contentBytes(t: ConstTensor): Buffer {
  const v = t.values as ArrayLike<number | bigint>;
  const n = v.length;
  const size: Partial<Record<TfType, number>> = { FLOAT: 4, DOUBLE: 8, INT32: 4, INT64: 8, UINT64: 8, UINT32: 4, INT16: 2, UINT16: 2, INT8: 1, UINT8: 1, BOOL: 1, HALF: 2, COMPLEX64: 4 };
  const el = size[t.dtype];
  if (el === undefined) throw new Error(`no tensor_content encoding for ${t.dtype} in the writer`);
  const b = Buffer.alloc(n * el);
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    switch (t.dtype) {
      case 'FLOAT':
      case 'COMPLEX64': // values interleave real and imaginary parts
        b.writeFloatLE(Number(x), i * 4);
        break;
      case 'DOUBLE':
        b.writeDoubleLE(Number(x), i * 8);
        break;
      case 'INT32':
        b.writeInt32LE(Number(x), i * 4);
        break;
      case 'UINT32':
        b.writeUInt32LE(Number(x), i * 4);
        break;
      case 'INT64':
        b.writeBigInt64LE(BigInt(x), i * 8);
        break;
      case 'UINT64':
        b.writeBigUInt64LE(BigInt(x), i * 8);
        break;
      case 'INT16':
        b.writeInt16LE(Number(x), i * 2);
        break;
      case 'UINT16':
        b.writeUInt16LE(Number(x), i * 2);
        break;
      case 'INT8':
        b.writeInt8(Number(x), i);
        break;
      case 'UINT8':
      case 'BOOL':
        b.writeUInt8(Number(x), i);
        break;
      case 'HALF':
        b.writeUInt16LE(floatToHalf(Number(x)), i * 2);
        break;
    }
  }
  return b;
}

/** IEEE half bits of `f` (round to nearest; enough for test values). */
function floatToHalf(f: number): number {
  if (Number.isNaN(f)) return 0x7e00;
  const sign = f < 0 || Object.is(f, -0) ? 0x8000 : 0;
  const a = Math.abs(f);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -24) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  const e = Math.floor(Math.log2(a));
  const m = Math.round((a / 2 ** e - 1) * 1024);
  return m === 1024 ? sign | ((e + 16) << 10) : sign | ((e + 15) << 10) | m;
}
