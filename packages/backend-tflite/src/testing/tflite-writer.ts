/**
 * Writes TFLite models (flatbuffers of tensorflow/lite/schema/schema.fbs, identifier `TFL3`) for
 * tests and benchmarks: no TensorFlow needed. Only the tables and fields those models use are
 * written; field numbers follow the schema. No imports, so end-to-end tests can use it as is.
 */

/** TensorType of the schema (not the C API's TfLiteType). */
export const TensorType = { FLOAT32: 0, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, INT8: 9 } as const;
export type TensorTypeValue = (typeof TensorType)[keyof typeof TensorType];

/** BuiltinOperator codes and the BuiltinOptions union member each op's options use. */
const OPS = {
  ADD: { code: 0, options: 11 },
  FULLY_CONNECTED: { code: 9, options: 8 },
  MUL: { code: 18, options: 21 },
  SUB: { code: 41, options: 28 },
  ARG_MAX: { code: 56, options: 40 },
} as const;
export type OpName = keyof typeof OPS;

// ---- a forward flatbuffer layout -------------------------------------------------------------
// Every object is placed after the one that refers to it, so each uoffset is positive; every
// scalar sits at its natural alignment (the TFLite verifier checks alignment).

type Scalar = 'u8' | 'i8' | 'bool' | 'i32' | 'u32' | 'f32' | 'i64';
const SIZE: Record<Scalar, number> = { u8: 1, i8: 1, bool: 1, i32: 4, u32: 4, f32: 4, i64: 8 };

type Field = { kind: Scalar; value: number | bigint } | { kind: 'ref'; to: Obj };
type Obj =
  | { type: 'table'; fields: (Field | undefined)[] }
  | { type: 'vector'; elem: Scalar; values: readonly (number | bigint)[]; align?: number }
  | { type: 'tables'; items: Obj[] }
  | { type: 'string'; value: string };

const table = (fields: (Field | undefined)[]): Obj => ({ type: 'table', fields });
const ref = (to: Obj): Field => ({ kind: 'ref', to });
const sc = (kind: Scalar, value: number | bigint): Field => ({ kind, value });
const vec = (elem: Scalar, values: readonly (number | bigint)[], align?: number): Obj => ({ type: 'vector', elem, values, ...(align ? { align } : {}) });
const tables = (items: Obj[]): Obj => ({ type: 'tables', items });
const str = (value: string): Obj => ({ type: 'string', value });

class Out {
  private buf = Buffer.alloc(1024);
  length = 0;

  reserve(n: number, align: number): number {
    this.length = Math.ceil(this.length / align) * align;
    const at = this.length;
    this.length += n;
    if (this.length > this.buf.length) {
      const next = Buffer.alloc(Math.max(this.length, this.buf.length * 2));
      this.buf.copy(next);
      this.buf = next;
    }
    return at;
  }

  put(kind: Scalar, at: number, v: number | bigint): void {
    const b = this.buf;
    if (kind === 'u8' || kind === 'bool') b.writeUInt8(Number(v), at);
    else if (kind === 'i8') b.writeInt8(Number(v), at);
    else if (kind === 'i32') b.writeInt32LE(Number(v), at);
    else if (kind === 'u32') b.writeUInt32LE(Number(v), at);
    else if (kind === 'f32') b.writeFloatLE(Number(v), at);
    else b.writeBigInt64LE(BigInt(v), at);
  }

  bytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }
}

function serialize(root: Obj, identifier: string): Buffer {
  const out = new Out();
  out.reserve(8, 4);
  for (let i = 0; i < 4; i++) out.put('u8', 4 + i, identifier.charCodeAt(i));
  const queue: { obj: Obj; from: number }[] = [{ obj: root, from: 0 }];
  while (queue.length > 0) {
    const { obj, from } = queue.shift()!;
    const at = place(out, obj, queue);
    out.put('u32', from, at - from);
  }
  return out.bytes();
}

/** Writes `obj` at the end; returns where a uoffset must point (a table's start, a vector's length). */
function place(out: Out, obj: Obj, queue: { obj: Obj; from: number }[]): number {
  switch (obj.type) {
    case 'string': {
      const bytes = Buffer.from(obj.value, 'utf8');
      const at = out.reserve(4 + bytes.length + 1, 4);
      out.put('u32', at, bytes.length);
      bytes.forEach((b, i) => out.put('u8', at + 4 + i, b));
      return at;
    }
    case 'vector': {
      const size = SIZE[obj.elem];
      const align = Math.max(4, size, obj.align ?? 0);
      // The elements, not the length, must be aligned: pad so that at + 4 is a multiple of align.
      out.reserve(0, 4);
      while ((out.length + 4) % align !== 0) out.reserve(1, 1);
      const at = out.reserve(4 + size * obj.values.length, 1);
      out.put('u32', at, obj.values.length);
      obj.values.forEach((v, i) => out.put(obj.elem, at + 4 + i * size, v));
      return at;
    }
    case 'tables': {
      const at = out.reserve(4 + 4 * obj.items.length, 4);
      out.put('u32', at, obj.items.length);
      obj.items.forEach((item, i) => queue.push({ obj: item, from: at + 4 + 4 * i }));
      return at;
    }
    case 'table': {
      // Layout of the inline part: soffset, then fields by decreasing size (each aligned).
      const present = obj.fields.map((f, i) => ({ f, i })).filter((x): x is { f: Field; i: number } => x.f !== undefined);
      const sizeOf = (f: Field) => (f.kind === 'ref' ? 4 : SIZE[f.kind]);
      present.sort((a, b) => sizeOf(b.f) - sizeOf(a.f));
      let inline = 4;
      const offsets = new Map<number, number>();
      for (const { f, i } of present) {
        const s = sizeOf(f);
        inline = Math.ceil(inline / s) * s;
        offsets.set(i, inline);
        inline += s;
      }
      const align = present.some((x) => sizeOf(x.f) === 8) ? 8 : 4;
      const vtSize = 4 + 2 * obj.fields.length;
      const vt = out.reserve(vtSize, 2);
      // The table right after its vtable, at its alignment.
      let at = out.length;
      at = Math.ceil(at / align) * align;
      out.reserve(at - out.length + inline, 1);
      out.put('u32', vt, vtSize | (inline << 16));
      obj.fields.forEach((_, i) => {
        const o = offsets.get(i) ?? 0;
        out.put('u8', vt + 4 + 2 * i, o & 0xff);
        out.put('u8', vt + 5 + 2 * i, o >> 8);
      });
      out.put('i32', at, at - vt);
      for (const { f, i } of present) {
        const o = at + offsets.get(i)!;
        if (f.kind === 'ref') queue.push({ obj: f.to, from: o });
        else out.put(f.kind, o, f.value);
      }
      return at;
    }
  }
}

// ---- models ----------------------------------------------------------------------------------

export interface TensorDef {
  name: string;
  type: TensorTypeValue;
  shape: number[];
  /** Constant contents (weights), little-endian bytes. */
  data?: Buffer;
  quantization?: { scale: number; zeroPoint: number };
}

export interface OpDef {
  op: OpName;
  inputs: number[];
  outputs: number[];
  /** ARG_MAX: the output's TensorType. */
  outputType?: TensorTypeValue;
  /** ActivationFunctionType fused into ADD, MUL, SUB, FULLY_CONNECTED: 0 none, 1 RELU. */
  activation?: number;
}

export interface GraphDef {
  tensors: TensorDef[];
  inputs: number[];
  outputs: number[];
  ops: OpDef[];
}

/** A TFLite model (schema version 3) of one subgraph. */
export function tfliteModel(g: GraphDef): Buffer {
  const opNames = [...new Set(g.ops.map((o) => o.op))];
  // Buffer 0 is the empty buffer every non-constant tensor points at, as converters write it.
  const buffers: Obj[] = [table([])];
  const tensors = g.tensors.map((t) => {
    let buffer = 0;
    if (t.data !== undefined) {
      buffer = buffers.length;
      buffers.push(table([ref(vec('u8', [...t.data], 16))]));
    }
    const q = t.quantization;
    return table([
      ref(vec('i32', t.shape)),
      sc('i8', t.type),
      sc('u32', buffer),
      ref(str(t.name)),
      q === undefined ? undefined : ref(table([undefined, undefined, ref(vec('f32', [q.scale])), ref(vec('i64', [BigInt(q.zeroPoint)]))])),
    ]);
  });
  const operators = g.ops.map((o) => {
    const options =
      o.op === 'ARG_MAX'
        ? table([sc('i8', o.outputType ?? TensorType.INT64)])
        : o.op === 'FULLY_CONNECTED'
          ? table([sc('i8', o.activation ?? 0), sc('i8', 0), sc('bool', 0)])
          : table([sc('i8', o.activation ?? 0)]);
    return table([sc('u32', opNames.indexOf(o.op)), ref(vec('i32', o.inputs)), ref(vec('i32', o.outputs)), sc('u8', OPS[o.op].options), ref(options)]);
  });
  const subgraph = table([ref(tables(tensors)), ref(vec('i32', g.inputs)), ref(vec('i32', g.outputs)), ref(tables(operators)), ref(str('main'))]);
  const model = table([
    sc('u32', 3),
    ref(tables(opNames.map((n) => table([sc('i8', OPS[n].code), undefined, sc('i32', 1)])))),
    ref(tables([subgraph])),
    ref(str('respai test model')),
    ref(tables(buffers)),
  ]);
  return serialize(model, 'TFL3');
}

/** `c = a <op> b`, elementwise, inputs `a`, `b` and output `c` of one type and shape. */
export function binaryModel(op: 'ADD' | 'MUL' | 'SUB', type: TensorTypeValue, shape: number[], quantization?: { scale: number; zeroPoint: number }): Buffer {
  const t = (name: string): TensorDef => ({ name, type, shape, ...(quantization ? { quantization } : {}) });
  return tfliteModel({ tensors: [t('a'), t('b'), t('c')], inputs: [0, 1], outputs: [2], ops: [{ op, inputs: [0, 1], outputs: [2] }] });
}

const floatBytes = (v: readonly number[]) => {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeFloatLE(x, 4 * i));
  return b;
};

/**
 * A multilayer perceptron of FULLY_CONNECTED layers (RELU between them, none after the last):
 * input `x` `[batch, in]`, output `y`. `layers[i].weights` is `[out, in]`, row-major.
 */
export function mlpModel(layers: { weights: Float32Array | number[]; bias: Float32Array | number[]; out: number }[], inputs: number, batch = 1): Buffer {
  const tensors: TensorDef[] = [{ name: 'x', type: TensorType.FLOAT32, shape: [batch, inputs] }];
  const ops: OpDef[] = [];
  let prev = 0;
  let width = inputs;
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    const w = tensors.push({ name: `w${i}`, type: TensorType.FLOAT32, shape: [l.out, width], data: floatBytes([...l.weights]) }) - 1;
    const b = tensors.push({ name: `b${i}`, type: TensorType.FLOAT32, shape: [l.out], data: floatBytes([...l.bias]) }) - 1;
    const y = tensors.push({ name: last ? 'y' : `h${i}`, type: TensorType.FLOAT32, shape: [batch, l.out] }) - 1;
    ops.push({ op: 'FULLY_CONNECTED', inputs: [prev, w, b], outputs: [y], activation: last ? 0 : 1 });
    prev = y;
    width = l.out;
  });
  return tfliteModel({ tensors, inputs: [0], outputs: [prev], ops });
}

/**
 * A dense layer `y = x W^T + b` (x `[batch, in]`, W `[out, in]`), and a second output
 * `class = argmax(y)` (INT64): two outputs of two dtypes, as classifiers have.
 */
export function denseClassifier(weights: number[][], bias: number[], batch = 1): Buffer {
  const out = weights.length;
  const inp = weights[0]!.length;
  const floats = floatBytes;
  const axis = Buffer.alloc(4);
  axis.writeInt32LE(1);
  return tfliteModel({
    tensors: [
      { name: 'x', type: TensorType.FLOAT32, shape: [batch, inp] },
      { name: 'weights', type: TensorType.FLOAT32, shape: [out, inp], data: floats(weights.flat()) },
      { name: 'bias', type: TensorType.FLOAT32, shape: [out], data: floats(bias) },
      { name: 'scores', type: TensorType.FLOAT32, shape: [batch, out] },
      { name: 'axis', type: TensorType.INT32, shape: [1], data: axis },
      { name: 'class', type: TensorType.INT64, shape: [batch] },
    ],
    inputs: [0],
    outputs: [3, 5],
    ops: [
      { op: 'FULLY_CONNECTED', inputs: [0, 1, 2], outputs: [3] },
      { op: 'ARG_MAX', inputs: [3, 4], outputs: [5], outputType: TensorType.INT64 },
    ],
  });
}
