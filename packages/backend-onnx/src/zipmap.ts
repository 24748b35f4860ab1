/**
 * Classifiers exported by skl2onnx (and onnxmltools) end in a ZipMap (ai.onnx.ml): their
 * probabilities output is a sequence of maps `[{class: probability}, ...]`, one map per row.
 * onnxruntime-node returns no sequence or map ("Non tensor type is temporarily not supported"),
 * and a RESP tensor cannot hold one. So before a session is made, every ZipMap whose output is a
 * graph output is replaced by the tensor it zips: that output becomes FLOAT [N, classes], its
 * columns ordered by class label (numerically for int64 labels, bytewise for strings), under the
 * same output name. Everything else in the model is left byte for byte as it was.
 *
 * Only the protobuf structure on the way to the nodes is decoded (ModelProto.graph, GraphProto's
 * node/output/value_info/initializer fields, NodeProto, AttributeProto); field numbers are
 * onnx/onnx.proto's.
 */

interface Field {
  readonly no: number;
  readonly wire: number;
  /** The whole field, tag included. */
  readonly start: number;
  readonly end: number;
  /** The payload of a length-delimited field. */
  readonly valueStart: number;
}

class Malformed extends Error {}

function varint(b: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (at >= b.length) throw new Malformed();
    const byte = b[at++]!;
    v |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [v, at];
  }
  throw new Malformed();
}

function fields(b: Uint8Array, start = 0, end = b.length): Field[] {
  const out: Field[] = [];
  for (let at = start; at < end; ) {
    const [tag, afterTag] = varint(b, at);
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let valueStart = afterTag;
    let fieldEnd: number;
    if (wire === 0) fieldEnd = varint(b, afterTag)[1];
    else if (wire === 1) fieldEnd = afterTag + 8;
    else if (wire === 5) fieldEnd = afterTag + 4;
    else if (wire === 2) {
      const [len, after] = varint(b, afterTag);
      valueStart = after;
      fieldEnd = after + Number(len);
    } else throw new Malformed();
    if (fieldEnd > end) throw new Malformed();
    out.push({ no, wire, start: at, end: fieldEnd, valueStart });
    at = fieldEnd;
  }
  return out;
}

const text = (b: Uint8Array, f: Field) => Buffer.from(b.buffer, b.byteOffset + f.valueStart, f.end - f.valueStart).toString('utf8');
const sub = (b: Uint8Array, f: Field) => b.subarray(f.valueStart, f.end);

// ---- writing ----------------------------------------------------------------------------------

function encodeVarint(v: bigint | number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

const tag = (no: number, wire: number) => encodeVarint((no << 3) | wire);
const bytesField = (no: number, payload: Uint8Array) => Buffer.concat([Buffer.from(tag(no, 2)), Buffer.from(encodeVarint(payload.length)), payload]);
const stringField = (no: number, s: string) => bytesField(no, Buffer.from(s, 'utf8'));
const varintField = (no: number, v: bigint | number) => Buffer.from([...tag(no, 0), ...encodeVarint(v)]);

// ---- the rewrite ------------------------------------------------------------------------------

type Labels = { kind: 'int64'; values: bigint[] } | { kind: 'string'; values: Buffer[] };

interface ZipMapNode {
  readonly field: Field;
  readonly input: string;
  readonly output: string;
  readonly labels: Labels;
}

/** A ZipMap node's input, output and class labels; undefined for any other node. */
function zipMapOf(b: Uint8Array, f: Field): ZipMapNode | undefined {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let op = '';
  let domain = '';
  let labels: Labels | undefined;
  for (const g of fields(b, f.valueStart, f.end)) {
    if (g.no === 1 && g.wire === 2) inputs.push(text(b, g));
    else if (g.no === 2 && g.wire === 2) outputs.push(text(b, g));
    else if (g.no === 4 && g.wire === 2) op = text(b, g);
    else if (g.no === 7 && g.wire === 2) domain = text(b, g);
  }
  if (op !== 'ZipMap' || domain !== 'ai.onnx.ml' || inputs.length !== 1 || outputs.length !== 1) return undefined;
  for (const g of fields(b, f.valueStart, f.end)) {
    if (g.no !== 5 || g.wire !== 2) continue;
    const attr = fields(b, g.valueStart, g.end);
    const name = attr.find((a) => a.no === 1 && a.wire === 2);
    if (name === undefined) continue;
    const n = text(b, name);
    if (n === 'classlabels_int64s') {
      const values: bigint[] = [];
      for (const a of attr) {
        if (a.no !== 8) continue;
        if (a.wire === 0) values.push(BigInt.asIntN(64, varint(b, a.valueStart)[0]));
        if (a.wire === 2) for (let at = a.valueStart; at < a.end; ) {
          const [v, next] = varint(b, at);
          values.push(BigInt.asIntN(64, v));
          at = next;
        }
      }
      labels = { kind: 'int64', values };
    } else if (n === 'classlabels_strings') {
      labels = { kind: 'string', values: attr.filter((a) => a.no === 9 && a.wire === 2).map((a) => Buffer.from(sub(b, a))) };
    }
  }
  if (labels === undefined || labels.values.length === 0) return undefined;
  return { field: f, input: inputs[0]!, output: outputs[0]!, labels };
}

/** The column order that sorts the labels (stable). */
function sortedOrder(labels: Labels): number[] {
  const idx = labels.values.map((_, i) => i);
  if (labels.kind === 'int64') {
    const v = labels.values;
    return idx.sort((x, y) => (v[x]! < v[y]! ? -1 : v[x]! > v[y]! ? 1 : x - y));
  }
  const v = labels.values;
  return idx.sort((x, y) => Buffer.compare(v[x]!, v[y]!) || x - y);
}

/** The node (Identity, or Gather on axis 1 when the labels need reordering) and initializer replacing a ZipMap. */
function replacement(z: ZipMapNode, n: number): { node: Buffer; initializer?: Buffer } {
  const order = sortedOrder(z.labels);
  const name = `respai_zipmap_${n}`;
  if (order.every((v, i) => v === i)) {
    return { node: Buffer.concat([stringField(1, z.input), stringField(2, z.output), stringField(3, name), stringField(4, 'Identity')]) };
  }
  const indices = `${name}_order`;
  // TensorProto: dims (1), data_type (2) = INT64 (7), int64_data (7, packed), name (8).
  const initializer = Buffer.concat([
    varintField(1, order.length),
    varintField(2, 7),
    bytesField(7, Buffer.from(order.flatMap((i) => encodeVarint(i)))),
    stringField(8, indices),
  ]);
  // AttributeProto axis: name (1), i (3), type (20) = INT (2).
  const axis = Buffer.concat([stringField(1, 'axis'), varintField(3, 1), varintField(20, 2)]);
  const node = Buffer.concat([stringField(1, z.input), stringField(1, indices), stringField(2, z.output), stringField(3, name), stringField(4, 'Gather'), bytesField(5, axis)]);
  return { node, initializer };
}

/** ValueInfoProto of a FLOAT [N, classes] output: name (1), type (2) > tensor_type (1) > elem_type (1), shape (2). */
function floatMatrixInfo(name: string, classes: number): Buffer {
  const shape = Buffer.concat([bytesField(1, Buffer.alloc(0)), bytesField(1, varintField(1, classes))]);
  const tensorType = Buffer.concat([varintField(1, 1), bytesField(2, shape)]);
  return Buffer.concat([stringField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

export interface FlattenResult {
  /** The model to load: the input itself when it has no ZipMap output to flatten. */
  readonly bytes: Uint8Array;
  /** The outputs that became FLOAT [N, classes] tensors. */
  readonly flattened: readonly string[];
}

/**
 * Replaces each ZipMap that produces a graph output (and feeds nothing else) by the probabilities
 * tensor it zips, columns in class-label order. Bytes that do not parse as an ONNX model come back
 * unchanged: onnxruntime then says what is wrong with them.
 */
export function flattenZipMaps(model: Uint8Array): FlattenResult {
  try {
    return flatten(model);
  } catch (e) {
    if (e instanceof Malformed) return { bytes: model, flattened: [] };
    throw e;
  }
}

function flatten(b: Uint8Array): FlattenResult {
  const top = fields(b);
  const graphField = top.filter((f) => f.no === 7 && f.wire === 2).at(-1);
  if (graphField === undefined) return { bytes: b, flattened: [] };
  const graph = fields(b, graphField.valueStart, graphField.end);
  const nodes = graph.filter((f) => f.no === 1 && f.wire === 2);
  // Cheap exit for the usual model: no node mentions ZipMap.
  if (!nodes.some((f) => Buffer.from(b.buffer, b.byteOffset + f.valueStart, f.end - f.valueStart).includes('ZipMap'))) return { bytes: b, flattened: [] };

  const outputName = (f: Field) => {
    const n = fields(b, f.valueStart, f.end).find((g) => g.no === 1 && g.wire === 2);
    return n === undefined ? '' : text(b, n);
  };
  const graphOutputs = new Set(graph.filter((f) => f.no === 12 && f.wire === 2).map(outputName));
  const consumed = new Set<string>();
  for (const f of nodes) for (const g of fields(b, f.valueStart, f.end)) if (g.no === 1 && g.wire === 2) consumed.add(text(b, g));
  const zipMaps = new Map<Field, ZipMapNode>();
  for (const f of nodes) {
    const z = zipMapOf(b, f);
    if (z !== undefined && graphOutputs.has(z.output) && !consumed.has(z.output)) zipMaps.set(f, z);
  }
  if (zipMaps.size === 0) return { bytes: b, flattened: [] };

  const byOutput = new Map([...zipMaps.values()].map((z) => [z.output, z]));
  const parts: Uint8Array[] = [];
  const initializers: Buffer[] = [];
  let n = 0;
  for (const f of graph) {
    const z = zipMaps.get(f);
    if (z !== undefined) {
      const r = replacement(z, n++);
      parts.push(bytesField(1, r.node));
      if (r.initializer !== undefined) initializers.push(bytesField(5, r.initializer));
    } else if (f.no === 12 && f.wire === 2 && byOutput.has(outputName(f))) {
      const z2 = byOutput.get(outputName(f))!;
      parts.push(bytesField(12, floatMatrixInfo(z2.output, z2.labels.values.length)));
    } else if (f.no === 13 && f.wire === 2 && byOutput.has(outputName(f))) {
      // A value_info annotation of the old (sequence) type would contradict the new output.
    } else {
      parts.push(b.subarray(f.start, f.end));
    }
  }
  parts.push(...initializers);
  const newGraph = Buffer.concat(parts);

  const out: Uint8Array[] = [];
  let hasDefaultOpset = false;
  for (const f of top) {
    if (f === graphField) out.push(bytesField(7, newGraph));
    else if (f.no === 7 && f.wire === 2) continue;
    else out.push(b.subarray(f.start, f.end));
    if (f.no === 8 && f.wire === 2) {
      const d = fields(b, f.valueStart, f.end).find((g) => g.no === 1 && g.wire === 2);
      if (d === undefined || text(b, d) === '' || text(b, d) === 'ai.onnx') hasDefaultOpset = true;
    }
  }
  // Identity and Gather are default-domain ops (opset 1 has both).
  if (!hasDefaultOpset) out.push(bytesField(8, varintField(2, 1)));
  return { bytes: Buffer.concat(out), flattened: [...byOutput.keys()] };
}
