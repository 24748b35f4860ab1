import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * TensorFlow's GraphDef and the messages under it, decoded with protobufjs from the .proto subset
 * in `../proto` (loaded at runtime: the same path resolves from src/ and dist/). Field names are
 * camelCase, as protobufjs and tfjs-converter's JSON topology both use them.
 */

/** int64 fields decode as `Long` (protobufjs with the `long` package) or, when small, as numbers. */
export type Int64 = number | protobuf.Long;

export interface TensorShapeMsg {
  dim: { size: Int64; name?: string }[];
  unknownRank?: boolean;
}

export interface TensorProtoMsg {
  dtype: number;
  tensorShape?: TensorShapeMsg | null;
  versionNumber?: number;
  tensorContent: Uint8Array;
  halfVal: number[];
  floatVal: number[];
  doubleVal: number[];
  intVal: number[];
  stringVal: Uint8Array[];
  scomplexVal: number[];
  int64Val: Int64[];
  boolVal: boolean[];
  dcomplexVal: number[];
  uint32Val: number[];
  uint64Val: Int64[];
  float8Val: Uint8Array;
}

export interface ListValueMsg {
  s: Uint8Array[];
  i: Int64[];
  f: number[];
  b: boolean[];
  type: number[];
  shape: TensorShapeMsg[];
  tensor: TensorProtoMsg[];
  func: NameAttrListMsg[];
}

export interface AttrValueMsg {
  s?: Uint8Array | null;
  i?: Int64 | null;
  f?: number | null;
  b?: boolean | null;
  type?: number | null;
  shape?: TensorShapeMsg | null;
  tensor?: TensorProtoMsg | null;
  list?: ListValueMsg | null;
  func?: NameAttrListMsg | null;
  placeholder?: string | null;
  /** Which member of the oneof is set. */
  value?: string;
}

export interface NameAttrListMsg {
  name: string;
  attr: Record<string, AttrValueMsg>;
}

export interface NodeDefMsg {
  name: string;
  op: string;
  input: string[];
  device: string;
  attr: Record<string, AttrValueMsg>;
}

export interface ArgDefMsg {
  name: string;
  type: number;
  typeAttr: string;
  numberAttr: string;
  typeListAttr: string;
}

export interface FunctionDefMsg {
  signature?: { name: string; inputArg: ArgDefMsg[]; outputArg: ArgDefMsg[] } | null;
  attr: Record<string, AttrValueMsg>;
  nodeDef: NodeDefMsg[];
  ret: Record<string, string>;
  controlRet: Record<string, string>;
}

export interface GraphDefMsg {
  node: NodeDefMsg[];
  versions?: { producer: number; minConsumer: number; badConsumers: number[] } | null;
  library?: { function: FunctionDefMsg[] } | null;
}

const protoDir = fileURLToPath(new URL('../proto/', import.meta.url));

let root: protobuf.Root | undefined;

/** The protobufjs root with every TensorFlow message this package uses (loaded once). */
export function tfProtos(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => protoDir + target;
    r.loadSync('tensorflow/core/framework/graph.proto');
    r.resolveAll();
    root = r;
  }
  return root;
}

export function graphDefType(): protobuf.Type {
  return tfProtos().lookupType('tensorflow.GraphDef');
}

/** Decodes a binary GraphDef; throws protobufjs's error on malformed wire data. */
export function decodeGraphDef(bytes: Uint8Array): GraphDefMsg {
  return graphDefType().decode(bytes) as unknown as GraphDefMsg;
}

/** Encodes a plain GraphDef object (camelCase fields, as `fromObject` accepts them). */
export function encodeGraphDef(graph: object): Uint8Array {
  const type = graphDefType();
  return type.encode(type.fromObject(graph)).finish();
}

/** A TF int64 as a bigint. */
export function int64(v: Int64 | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(v);
  // Long: high and low 32-bit halves.
  const big = (BigInt(v.high) << 32n) | BigInt(v.low >>> 0);
  return v.unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big);
}

/** `DataType` enum values (types.proto). */
export const DT = {
  INVALID: 0,
  FLOAT: 1,
  DOUBLE: 2,
  INT32: 3,
  UINT8: 4,
  INT16: 5,
  INT8: 6,
  STRING: 7,
  COMPLEX64: 8,
  INT64: 9,
  BOOL: 10,
  QINT8: 11,
  QUINT8: 12,
  QINT32: 13,
  BFLOAT16: 14,
  QINT16: 15,
  QUINT16: 16,
  UINT16: 17,
  COMPLEX128: 18,
  HALF: 19,
  RESOURCE: 20,
  VARIANT: 21,
  UINT32: 22,
  UINT64: 23,
} as const;

/** `DT_FLOAT` etc. for messages; `DT_<n>` for values this subset does not name. */
export function dtName(dt: number): string {
  const name = (tfProtos().lookupEnum('tensorflow.DataType').valuesById as Record<number, string | undefined>)[dt];
  return name ?? `DT_${dt}`;
}
