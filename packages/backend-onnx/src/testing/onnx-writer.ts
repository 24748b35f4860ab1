/**
 * A minimal ONNX protobuf writer for test fixtures: just enough of ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto and ValueInfoProto (onnx/onnx.proto) to build small models from code.
 * Field numbers are onnx.proto's; only proto3 wire types 0 (varint), 2 (bytes) and 5 (fixed32) occur.
 */

/** TensorProto.DataType values. */
export const OnnxType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type OnnxElemType = (typeof OnnxType)[keyof typeof OnnxType];

/** A dimension: fixed, symbolic (named), or null for free and unnamed. */
export type Dim = number | string | null;

/** A value's type: a tensor (shape undefined = unknown rank), or seq/map. */
export type ValueType =
  | { readonly tensor: OnnxElemType; readonly shape?: readonly Dim[] }
  | { readonly sequence: ValueType }
  | { readonly map: { readonly key: OnnxElemType; readonly value: ValueType } };

export interface ValueInfo {
  readonly name: string;
  readonly type: ValueType;
}

/** A constant tensor: `raw` bytes (little-endian), or typed lists for FLOAT, INT64 and STRING. */
export interface TensorDef {
  readonly name?: string;
  readonly type: OnnxElemType;
  readonly dims: readonly number[];
  readonly raw?: Uint8Array;
  readonly floats?: readonly number[];
  readonly int64s?: readonly (number | bigint)[];
  readonly strings?: readonly string[];
}

/** Attribute values: integer -> INT, `{ f }` -> FLOAT, string -> STRING, and the list forms. */
export type AttrValue =
  | number
  | { readonly f: number }
  | string
  | { readonly ints: readonly (number | bigint)[] }
  | { readonly floats: readonly number[] }
  | { readonly strings: readonly string[] }
  | { readonly tensor: TensorDef };

export interface NodeDef {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** '' (default ONNX ops) or e.g. 'ai.onnx.ml'. */
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface GraphDef {
  readonly name?: string;
  readonly nodes: readonly NodeDef[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly TensorDef[];
}

export interface ModelOptions {
  /** IR version; 8 is understood by every onnxruntime since 1.10. */
  readonly irVersion?: number;
  /** Opset of the default domain. */
  readonly opset?: number;
  /** Extra opset imports, e.g. `{ domain: 'ai.onnx.ml', version: 3 }`. */
  readonly opsets?: readonly { readonly domain: string; readonly version: number }[];
}

/** Serializes a model. */
export function encodeModel(graph: GraphDef, options: ModelOptions = {}): Buffer {
  const w = new Pb();
  w.varint(1, options.irVersion ?? 8);
  w.msg(8, (o) => o.varint(2, options.opset ?? 13));
  for (const o of options.opsets ?? []) {
    w.msg(8, (m) => {
      m.string(1, o.domain);
      m.varint(2, o.version);
    });
  }
  w.string(2, 'respai-test');
  w.msg(7, (g) => writeGraph(g, graph));
  return w.finish();
}

function writeGraph(w: Pb, g: GraphDef): void {
  for (const n of g.nodes) w.msg(1, (m) => writeNode(m, n));
  w.string(2, g.name ?? 'graph');
  for (const t of g.initializers ?? []) w.msg(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.msg(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.msg(12, (m) => writeValueInfo(m, v));
}

function writeNode(w: Pb, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.op);
  for (const [name, v] of Object.entries(n.attrs ?? {})) w.msg(5, (m) => writeAttr(m, name, v));
  if (n.domain !== undefined) w.string(7, n.domain);
}

function writeAttr(w: Pb, name: string, v: AttrValue): void {
  w.string(1, name);
  // AttributeProto.type: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8.
  if (typeof v === 'number') {
    w.varint(3, v);
    w.varint(20, 2);
  } else if (typeof v === 'string') {
    w.string(4, v);
    w.varint(20, 3);
  } else if ('f' in v) {
    w.float(2, v.f);
    w.varint(20, 1);
  } else if ('ints' in v) {
    w.packedVarints(8, v.ints);
    w.varint(20, 7);
  } else if ('floats' in v) {
    w.packedFloats(7, v.floats);
    w.varint(20, 6);
  } else if ('strings' in v) {
    for (const s of v.strings) w.string(9, s);
    w.varint(20, 8);
  } else {
    w.msg(5, (m) => writeTensor(m, v.tensor));
    w.varint(20, 4);
  }
}

function writeTensor(w: Pb, t: TensorDef): void {
  if (t.dims.length > 0) w.packedVarints(1, t.dims);
  w.varint(2, t.type);
  if (t.floats !== undefined) w.packedFloats(4, t.floats);
  for (const s of t.strings ?? []) w.string(6, s);
  if (t.int64s !== undefined) w.packedVarints(7, t.int64s);
  if (t.name !== undefined) w.string(8, t.name);
  if (t.raw !== undefined) w.bytes(9, t.raw);
}

function writeValueInfo(w: Pb, v: ValueInfo): void {
  w.string(1, v.name);
  w.msg(2, (m) => writeType(m, v.type));
}

function writeType(w: Pb, t: ValueType): void {
  if ('tensor' in t) {
    w.msg(1, (m) => {
      m.varint(1, t.tensor);
      const shape = t.shape;
      if (shape !== undefined) {
        // An empty TensorShapeProto (a scalar) must still be present, so write it even when empty.
        m.msg(2, (s) => {
          for (const d of shape) {
            s.msg(1, (dim) => (typeof d === 'number' ? dim.varint(1, d) : d === null ? undefined : dim.string(2, d)), true);
          }
        }, true);
      }
    });
  } else if ('sequence' in t) {
    w.msg(4, (m) => m.msg(1, (e) => writeType(e, t.sequence)));
  } else {
    w.msg(5, (m) => {
      m.varint(1, t.map.key);
      m.msg(2, (e) => writeType(e, t.map.value));
    });
  }
}

/** A protobuf message being written: fields appended in order, sub-messages length-prefixed. */
class Pb {
  private readonly parts: Buffer[] = [];

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }

  varint(field: number, v: number | bigint): void {
    this.tag(field, 0);
    this.raw(varint(v));
  }

  float(field: number, f: number): void {
    this.tag(field, 5);
    const b = Buffer.alloc(4);
    b.writeFloatLE(f);
    this.raw(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.raw(varint(b.length));
    this.raw(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  string(field: number, s: string): void {
    this.bytes(field, Buffer.from(s, 'utf8'));
  }

  /** A sub-message; skipped when empty unless `always` (presence matters for some fields). */
  msg(field: number, write: (w: Pb) => void, always = false): void {
    const sub = new Pb();
    write(sub);
    const b = sub.finish();
    if (b.length > 0 || always) this.bytes(field, b);
  }

  packedVarints(field: number, vs: readonly (number | bigint)[]): void {
    this.bytes(field, Buffer.concat(vs.map(varint)));
  }

  packedFloats(field: number, fs: readonly number[]): void {
    const b = Buffer.alloc(fs.length * 4);
    fs.forEach((f, i) => b.writeFloatLE(f, i * 4));
    this.bytes(field, b);
  }

  private tag(field: number, wire: number): void {
    this.raw(varint((field << 3) | wire));
  }

  private raw(b: Buffer): void {
    this.parts.push(b);
  }
}

/** Base-128 varint; negatives as 64-bit two's complement (10 bytes), as protobuf writes int64. */
function varint(v: number | bigint): Buffer {
  let n = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}

// ---- ready-made models ------------------------------------------------------------------------

const tensor = (type: OnnxElemType, shape?: readonly Dim[]): ValueType =>
  shape === undefined ? { tensor: type } : { tensor: type, shape };

/** y = Identity(x). */
export function identityModel(type: OnnxElemType, shape: readonly Dim[] = ['N', 2]): Buffer {
  return encodeModel({
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', type: tensor(type, shape) }],
    outputs: [{ name: 'y', type: tensor(type, shape) }],
  });
}

/** c = op(a, b) for Add, Mul, MatMul and the like. */
export function binaryModel(
  op: string,
  type: OnnxElemType,
  a: readonly Dim[],
  b: readonly Dim[],
  c: readonly Dim[],
): Buffer {
  return encodeModel({
    nodes: [{ op, inputs: ['a', 'b'], outputs: ['c'] }],
    inputs: [
      { name: 'a', type: tensor(type, a) },
      { name: 'b', type: tensor(type, b) },
    ],
    outputs: [{ name: 'c', type: tensor(type, c) }],
  });
}

/**
 * x [N, size] float -> `steps` times Relu(x @ W) with W a constant [size, size] of 1/size (so ones
 * stay ones). Work grows with N: 2·N·size²·steps flops, so one model runs short or long by input.
 */
export function matmulChainModel(size: number, steps: number): Buffer {
  const w = new Float32Array(size * size).fill(1 / size);
  const nodes: NodeDef[] = [];
  let prev = 'x';
  for (let i = 0; i < steps; i++) {
    const m = `m${i}`;
    const r = i === steps - 1 ? 'y' : `r${i}`;
    nodes.push({ op: 'MatMul', inputs: [prev, 'W'], outputs: [m] });
    nodes.push({ op: 'Relu', inputs: [m], outputs: [r] });
    prev = r;
  }
  return encodeModel({
    nodes,
    inputs: [{ name: 'x', type: tensor(OnnxType.FLOAT, ['N', size]) }],
    outputs: [{ name: 'y', type: tensor(OnnxType.FLOAT, ['N', size]) }],
    initializers: [{ name: 'W', type: OnnxType.FLOAT, dims: [size, size], raw: new Uint8Array(w.buffer) }],
  });
}

/**
 * A classifier as skl2onnx exports one (LogisticRegression): `float_input` [N, features] ->
 * LinearClassifier (ai.onnx.ml, softmax) -> `output_label` INT64 [N] (or STRING with string
 * labels) and a ZipMap -> `output_probability`, a sequence of maps {label: probability}.
 * `coefficients` is [classes][features]; the label is the class of highest score.
 */
export function zipMapClassifierModel(options: {
  readonly labels: readonly number[] | readonly string[];
  readonly coefficients: readonly (readonly number[])[];
  readonly intercepts?: readonly number[];
}): Buffer {
  const classes = options.labels.length;
  const features = options.coefficients[0]!.length;
  const strings = typeof options.labels[0] === 'string';
  const labelAttrs: Record<string, AttrValue> = strings
    ? { classlabels_strings: { strings: options.labels as readonly string[] } }
    : { classlabels_ints: { ints: options.labels as readonly number[] } };
  const zipAttrs: Record<string, AttrValue> = strings
    ? { classlabels_strings: { strings: options.labels as readonly string[] } }
    : { classlabels_int64s: { ints: options.labels as readonly number[] } };
  return encodeModel(
    {
      nodes: [
        {
          op: 'LinearClassifier',
          domain: 'ai.onnx.ml',
          inputs: ['float_input'],
          outputs: ['output_label', 'probabilities'],
          attrs: {
            ...labelAttrs,
            coefficients: { floats: options.coefficients.flat() },
            intercepts: { floats: options.intercepts ?? new Array<number>(classes).fill(0) },
            multi_class: 1,
            post_transform: 'SOFTMAX',
          },
        },
        { op: 'ZipMap', domain: 'ai.onnx.ml', inputs: ['probabilities'], outputs: ['output_probability'], attrs: zipAttrs },
      ],
      inputs: [{ name: 'float_input', type: tensor(OnnxType.FLOAT, [null, features]) }],
      outputs: [
        { name: 'output_label', type: tensor(strings ? OnnxType.STRING : OnnxType.INT64, [null]) },
        { name: 'output_probability', type: { sequence: { map: { key: strings ? OnnxType.STRING : OnnxType.INT64, value: { tensor: OnnxType.FLOAT } } } } },
      ],
    },
    { opsets: [{ domain: 'ai.onnx.ml', version: 1 }] },
  );
}
