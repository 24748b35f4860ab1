import { RespaiError, WorkerCallError, type DType } from '@respai/core/worker';
import { TF_ERR } from './messages.js';
import { executorDT, respaiDType } from './dtypes.js';
import { CONVERTER_VERSION, outputDT, unsupportedReason, WASM_MISSING_OPS } from './ops.js';
import {
  decodeGraphDef,
  DT,
  dtName,
  int64,
  type AttrValueMsg,
  type FunctionDefMsg,
  type GraphDefMsg,
  type NodeDefMsg,
  type TensorShapeMsg,
} from './proto.js';
import { decodeTensor, partialShape, type Weight } from './tensor-proto.js';

/**
 * Turns a frozen GraphDef into the model artifact tfjs-converter's GraphModel loads (a JSON
 * topology, weight specs and one weight buffer), for the sub-graph that computes the requested
 * OUTPUTS from the requested INPUTS. Everything that could fail a run for reasons known at load
 * (unknown names, ops or attrs the executor cannot run, unfed placeholders, constants that do not
 * fit tfjs's dtypes) fails here instead.
 */

/** One INPUT or OUTPUT: the user's name, the tensor it denotes, and its declared dtype and shape. */
export interface IOSpec {
  /** As the user gave it (`a` or `a:0`). */
  readonly name: string;
  /** `node:index`, the key tfjs's executor takes. */
  readonly key: string;
  /** The TF dtype the graph declares, when known. */
  readonly tfDtype: number | undefined;
  /** Its respai counterpart (undefined: unknown, the run reports what tfjs computed). */
  readonly dtype: DType | undefined;
  /** Placeholder shape, -1 for free dims; informational only (feeds are not shape-checked). */
  readonly shape: number[] | undefined;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: Weight['dtype'];
}

/** What GraphModel's `io.fromMemory` takes. */
export interface ModelArtifact {
  modelTopology: object;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

export interface PreparedGraph {
  readonly artifact: ModelArtifact;
  readonly inputs: IOSpec[];
  readonly outputs: IOSpec[];
  /** Why the graph needs the tfjs cpu backend (ops whose kernels wasm lacks, strings, complex numbers); empty for most. */
  readonly cpuReasons: string[];
  /** Nodes in the executed sub-graph (for logs). */
  readonly nodeCount: number;
}

const NOT_A_GRAPHDEF = 'the TF backend runs frozen TensorFlow GraphDefs (a binary GraphDef .pb)';

/** TF_ERR.invalidGraphDef, under the name the tests import. */
export const INVALID_GRAPHDEF = TF_ERR.invalidGraphDef;

/** A blob that is no GraphDef; the message says what it seems to be and what TF wants. */
export class InvalidGraphDefError extends Error {
  override readonly name = 'InvalidGraphDef';
}

function invalid(why: string): Error {
  return new InvalidGraphDefError(`Invalid GraphDef: ${why}; ${NOT_A_GRAPHDEF}`);
}

/**
 * What the client gets for a load error, here or from a worker: `ERR Invalid GraphDef` for a blob
 * that is no GraphDef (its detail logged at debug level), anything else as it is.
 */
export function loadErrorReply(e: unknown, log: { debug(msg: string, fields?: object): void }): unknown {
  const invalidBlob = e instanceof InvalidGraphDefError || (e instanceof WorkerCallError && e.remoteName === 'InvalidGraphDef');
  if (!invalidBlob) return e;
  log.debug('TF model refused', { reason: (e as Error).message });
  return new RespaiError(TF_ERR.invalidGraphDef, { cause: e });
}

export function prepareGraph(blob: Uint8Array, inputNames: readonly string[], outputNames: readonly string[]): PreparedGraph {
  const graph = decode(blob);
  const nodes = new Map<string, NodeDefMsg>();
  for (const n of graph.node) nodes.set(n.name, n);
  const functions = new Map<string, FunctionDefMsg>();
  for (const f of graph.library?.function ?? []) if (f.signature?.name) functions.set(f.signature.name, f);

  const inputs = inputNames.map((n) => resolve(nodes, n, TF_ERR.inputNotFound));
  const outputs = outputNames.map((n) => resolve(nodes, n, TF_ERR.outputNotFound));
  const dup = inputs.find((r, i) => inputs.findIndex((s) => s.key === r.key) !== i);
  if (dup !== undefined) throw new Error(TF_ERR.inputTwice(dup.name));

  // Fed nodes take their value from the feed, so the walk stops there (as TensorFlow prunes).
  const fed = new Set(inputs.map((r) => r.node.name));
  const reached = new Set<string>();
  const stack = outputs.map((r) => r.node.name).filter((n) => !fed.has(n));
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const ref of nodes.get(name)!.input) {
      const src = refNode(ref);
      if (!fed.has(src) && !reached.has(src)) stack.push(src);
    }
  }
  const mainNodes = graph.node.filter((n) => reached.has(n.name));

  // Functions the reached nodes call (While/If bodies), and the functions those call.
  const fnNames = new Set<string>();
  const fnStack = mainNodes.flatMap(calledFunctions);
  while (fnStack.length > 0) {
    const f = fnStack.pop()!;
    if (fnNames.has(f)) continue;
    fnNames.add(f);
    const def = functions.get(f);
    if (def === undefined) throw invalid(`the graph calls function "${f}", which its library does not define`);
    fnStack.push(...def.nodeDef.flatMap(calledFunctions));
  }
  const usedFunctions = [...fnNames].map((f) => functions.get(f)!);

  checkOps(mainNodes, usedFunctions);

  const unfed = mainNodes.filter((n) => n.op === 'Placeholder');
  if (unfed.length > 0) {
    throw new Error(TF_ERR.unfedPlaceholders(unfed.map((n) => n.name)));
  }

  // tfjs seeds every executor's tensor map (main graph and function bodies) with the weights, keyed
  // by name: a weight must not share its name with any other node, or that node would be skipped.
  const fedNodes = inputs.filter((r, i) => inputs.findIndex((s) => s.node === r.node) === i).map((r) => r.node);
  const names = new Map<string, number>();
  const count = (n: string) => names.set(n, (names.get(n) ?? 0) + 1);
  [...fedNodes, ...mainNodes].forEach((n) => count(n.name));
  for (const f of usedFunctions) {
    f.nodeDef.forEach((n) => count(n.name));
    f.signature!.inputArg.forEach((a) => count(a.name));
  }
  const weights = new WeightTable(names);
  const mainRename = weights.renames(mainNodes, 'main');
  const topoNodes = [
    ...fedNodes.map((n) => feedNode(n, inputs.find((r) => r.node === n)!.index)),
    ...mainNodes.map((n) =>
      n.op === 'Const' ? weights.constNode(n, mainRename.get(n.name) ?? n.name, 'Const node ') : nodeJson(n, n.input.map(renameRef(mainRename))),
    ),
  ];
  const library = usedFunctions.map((f) => functionJson(f, weights));
  const renamedOutputs = outputs.map((r) => {
    const to = mainRename.get(r.node.name);
    return to === undefined ? r : { ...r, key: `${to}:${r.index}` };
  });

  // The wasm backend lacks some kernels, and its kernels work on numbers in wasm memory only.
  const allNodes = [...fedNodes, ...mainNodes, ...usedFunctions.flatMap((f) => f.nodeDef)];
  const cpuReasons = [...new Set(allNodes.map((n) => n.op))].filter((op) => WASM_MISSING_OPS.has(op));
  if (weights.hasComplex || allNodes.some((n) => usesDT(n, DT.COMPLEX64) || usesDT(n, DT.COMPLEX128))) cpuReasons.push('complex numbers');
  if (allNodes.some((n) => usesDT(n, DT.STRING))) cpuReasons.push('string tensors');

  return {
    artifact: {
      modelTopology: {
        node: topoNodes,
        library: { function: library },
        versions: { producer: graph.versions?.producer ?? 0, minConsumer: graph.versions?.minConsumer ?? 0 },
      },
      weightSpecs: weights.specs,
      weightData: weights.data(),
    },
    inputs: inputs.map((r) => ioSpec(r, true)),
    outputs: renamedOutputs.map((r) => ioSpec(r, false)),
    cpuReasons,
    nodeCount: mainNodes.length + usedFunctions.reduce((a, f) => a + f.nodeDef.length, 0),
  };
}

// ---- decoding and validation ------------------------------------------------------------------

const NODE_NAME = /^[A-Za-z0-9.][A-Za-z0-9_>./-]*$/;
const OP_NAME = /^[A-Za-z_][A-Za-z0-9_>.]*$/;
const REF = /^\^?([^:^]+)(?::(\d+))?$/;

function decode(blob: Uint8Array): GraphDefMsg {
  const what = sniff(blob);
  if (what !== undefined) throw invalid(what);
  let graph: GraphDefMsg;
  try {
    graph = decodeGraphDef(blob);
  } catch (e) {
    throw invalid(`not a protocol buffer GraphDef (${(e as Error).message})`);
  }
  if (graph.node.length === 0) throw invalid('the GraphDef has no nodes');
  const names = new Set<string>();
  for (const n of graph.node) {
    if (!NODE_NAME.test(n.name)) throw invalid(`node name ${JSON.stringify(shorten(n.name))} is not a TensorFlow node name`);
    if (!OP_NAME.test(n.op)) throw invalid(`node "${n.name}" has op ${JSON.stringify(shorten(n.op))}, not a TensorFlow op name`);
    if (names.has(n.name)) throw invalid(`two nodes are named "${n.name}"`);
    names.add(n.name);
  }
  for (const n of graph.node) {
    for (const ref of n.input) {
      const m = REF.exec(ref);
      if (m === null || !names.has(m[1]!)) throw invalid(`node "${n.name}" has input "${shorten(ref)}", which is not a node of the graph`);
    }
  }
  return graph;
}

/**
 * Names formats that are often uploaded as TF models, from their magic bytes or top-level protobuf
 * fields. A GraphDef's top level holds only fields 1 (node), 2 (library), 4 (versions), all
 * length-delimited, and 3 (the deprecated version), a varint.
 */
export function sniff(b: Uint8Array): string | undefined {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length === 0) return 'the model blob is empty';
  if (buf.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return 'this is a ZIP archive (a zipped SavedModel, or a TorchScript model?); a SavedModel must be frozen into a GraphDef first';
  }
  if (buf.length > 8 && buf.subarray(4, 8).toString('latin1') === 'TFL3') return 'this is a TensorFlow Lite model (use the TFLITE backend)';
  if (buf.subarray(0, 8).equals(Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'))) return 'this is an HDF5 file (a Keras .h5 model?)';
  if (buf[0] === 0x1f && buf[1] === 0x8b) return 'this is gzip data (a .tar.gz of a SavedModel?); a SavedModel must be frozen into a GraphDef first';
  if (buf.length > 262 && buf.subarray(257, 262).toString('latin1') === 'ustar') return 'this is a tar archive (a SavedModel directory?)';
  if (buf[0] === 0x7b) return 'this looks like JSON (a tfjs model.json?)';

  const fields = topLevelFields(buf);
  if (fields === undefined) return 'not a protocol buffer (malformed or truncated)';
  const wire = (f: number) => fields.get(f);
  if (wire(1) === 0 && (wire(7) === 2 || wire(8) === 2)) return 'this is an ONNX model (use the ONNX backend)';
  if (wire(1) === 0 && wire(2) === 2) return 'this looks like a SavedModel (saved_model.pb), which must be frozen into a GraphDef first';
  if (wire(3) === 2 || wire(1) === 0) return 'this is a protocol buffer, but not a GraphDef (a MetaGraphDef or another message?)';
  for (const [f, w] of fields) {
    if ((f === 1 || f === 2 || f === 4) && w !== 2) return 'this is a protocol buffer, but not a GraphDef';
  }
  if (wire(1) === undefined) return 'the GraphDef has no nodes';
  return undefined;
}

/** Field number -> wire type of a protobuf message's top level; undefined when malformed. */
function topLevelFields(b: Buffer): Map<number, number> | undefined {
  const out = new Map<number, number>();
  let at = 0;
  const varint = (): bigint | undefined => {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= b.length) return undefined;
      const byte = b[at++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return v;
    }
    return undefined;
  };
  while (at < b.length) {
    const tag = varint();
    if (tag === undefined) return undefined;
    const field = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    if (field === 0) return undefined;
    switch (wt) {
      case 0:
        if (varint() === undefined) return undefined;
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const len = varint();
        if (len === undefined || len > BigInt(b.length - at)) return undefined;
        at += Number(len);
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        return undefined; // groups (3, 4) never occur in TF's proto3 messages
    }
    if (at > b.length) return undefined;
    if (!out.has(field)) out.set(field, wt);
  }
  return out;
}

function shorten(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

// ---- names and reachability -------------------------------------------------------------------

interface Resolved {
  readonly name: string;
  readonly node: NodeDefMsg;
  readonly index: number;
  readonly key: string;
}

/** `name` or `name:k`; `notFound` gives the exact reply text for names the graph lacks. */
function resolve(nodes: Map<string, NodeDefMsg>, name: string, notFound: (n: string) => string): Resolved {
  const exact = nodes.get(name);
  if (exact !== undefined) return { name, node: exact, index: 0, key: `${name}:0` };
  const m = /^(.+):(0|[1-9][0-9]{0,5})$/.exec(name);
  const node = m ? nodes.get(m[1]!) : undefined;
  if (node === undefined) throw new RespaiError(notFound(name));
  return { name, node, index: Number(m![2]), key: `${node.name}:${m![2]}` };
}

function refNode(ref: string): string {
  const s = ref.startsWith('^') ? ref.slice(1) : ref;
  const colon = s.indexOf(':');
  return colon === -1 ? s : s.slice(0, colon);
}

/** Whether a type attr of `n` names `dt`. */
function usesDT(n: NodeDefMsg, dt: number): boolean {
  return Object.values(n.attr).some((a) => (a.value === 'type' && a.type === dt) || (a.value === 'list' && a.list!.type.includes(dt)));
}

function calledFunctions(n: NodeDefMsg): string[] {
  const out: string[] = [];
  for (const a of Object.values(n.attr)) {
    if (a.value === 'func' && a.func) out.push(a.func.name);
    if (a.value === 'list' && a.list) out.push(...a.list.func.map((f) => f.name));
  }
  return out;
}

/** Refuses the graph, listing every op (and attr) the executor cannot run with the nodes using it. */
function checkOps(mainNodes: readonly NodeDefMsg[], fns: readonly FunctionDefMsg[]): void {
  const bad = new Map<string, string[]>();
  const note = (n: NodeDefMsg, where: string) => {
    const why = unsupportedReason(n);
    if (why === undefined) return;
    const key = why === 'not supported' ? n.op : `${n.op} (${why})`;
    bad.set(key, [...(bad.get(key) ?? []), `"${where}${n.name}"`]);
  };
  for (const n of mainNodes) note(n, '');
  for (const f of fns) for (const n of f.nodeDef) note(n, `${f.signature!.name}/`);
  if (bad.size === 0) return;
  const list = [...bad].map(([op, where]) => `${op} (node${where.length > 1 ? 's' : ''} ${where.slice(0, 3).join(', ')}${where.length > 3 ? ', ...' : ''})`);
  const calls = [...bad.keys()].some((op) => op.includes('PartitionedCall'));
  throw new Error(TF_ERR.unsupportedOps(CONVERTER_VERSION, list, calls));
}

// ---- the tfjs topology --------------------------------------------------------------------------

function ioSpec(r: Resolved, isInput: boolean): IOSpec {
  const tfDtype = outputDT(r.node, r.index);
  const shapeAttr = isInput && r.node.op.startsWith('Placeholder') ? r.node.attr['shape']?.shape : undefined;
  if (tfDtype !== undefined && (respaiDType(tfDtype) === undefined || executorDT(tfDtype) === undefined)) {
    throw new Error(TF_ERR.unsupportedDtype(isInput, r.name, dtName(tfDtype)));
  }
  return {
    name: r.name,
    key: r.key,
    tfDtype,
    dtype: tfDtype === undefined ? undefined : respaiDType(tfDtype),
    shape: partialShape(shapeAttr),
  };
}

/**
 * A fed node becomes a bare Placeholder: no inputs (the feed replaces them) and no shape, because
 * tfjs asserts feeds against a Placeholder's shape and TensorFlow does not (behaviour.md).
 */
function feedNode(node: NodeDefMsg, index: number): object {
  const dt = outputDT(node, index);
  const norm = dt === undefined ? undefined : executorDT(dt);
  return { name: node.name, op: 'Placeholder', input: [], attr: norm === undefined ? {} : { dtype: { type: norm } } };
}

function nodeJson(n: NodeDefMsg, input: readonly string[] = n.input): object {
  const attr: Record<string, object> = {};
  for (const [k, v] of Object.entries(n.attr)) attr[k] = attrJson(v);
  return { name: n.name, op: n.op, input: [...input], attr };
}

/** An AttrValue in the JSON form tfjs-converter's mapper reads, with dtypes narrowed to tfjs's. */
function attrJson(a: AttrValueMsg): object {
  const dt = (t: number) => executorDT(t) ?? t;
  switch (a.value) {
    case 's':
      return { s: Buffer.from(a.s!).toString('base64') };
    case 'i':
      return { i: Number(int64(a.i)) };
    case 'f':
      return { f: a.f };
    case 'b':
      return { b: a.b };
    case 'type':
      return { type: dt(a.type!) };
    case 'shape':
      return { shape: shapeJson(a.shape!) };
    case 'tensor':
      // Only Const values are read (as weights); other tensor attrs keep their dtype and shape.
      return { tensor: { dtype: dt(a.tensor!.dtype), tensorShape: shapeJson(a.tensor!.tensorShape) } };
    case 'func':
      return { func: funcJson(a.func!) };
    case 'placeholder':
      return { placeholder: a.placeholder };
    case 'list': {
      const l = a.list!;
      const out: Record<string, unknown> = {};
      if (l.s.length) out['s'] = l.s.map((s) => Buffer.from(s).toString('base64'));
      if (l.i.length) out['i'] = l.i.map((v) => Number(int64(v)));
      if (l.f.length) out['f'] = [...l.f];
      if (l.b.length) out['b'] = [...l.b];
      if (l.type.length) out['type'] = l.type.map(dt);
      if (l.shape.length) out['shape'] = l.shape.map(shapeJson);
      if (l.func.length) out['func'] = l.func.map(funcJson);
      return { list: out };
    }
    default:
      return {};
  }
}

function funcJson(f: { name: string; attr: Record<string, AttrValueMsg> }): object {
  const attr: Record<string, object> = {};
  for (const [k, v] of Object.entries(f.attr)) attr[k] = attrJson(v);
  return { name: f.name, attr };
}

function shapeJson(s: TensorShapeMsg | null | undefined): object {
  if (s === null || s === undefined) return { dim: [] };
  if (s.unknownRank) return { unknownRank: true };
  return { dim: s.dim.map((d) => ({ size: Number(int64(d.size)) })) };
}

function functionJson(f: FunctionDefMsg, weights: WeightTable): object {
  const sig = f.signature!;
  const renamed = weights.renames(f.nodeDef, sig.name);
  const rename = renameRef(renamed);
  const ret: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.ret)) ret[k] = rename(v);
  const arg = (a: { name: string; type: number }) => ({ name: a.name, type: executorDT(a.type) ?? a.type });
  return {
    signature: { name: sig.name, inputArg: sig.inputArg.map(arg), outputArg: sig.outputArg.map(arg) },
    nodeDef: f.nodeDef.map((n) =>
      n.op === 'Const' ? weights.constNode(n, renamed.get(n.name) ?? n.name, `Const node ${sig.name}/`) : nodeJson(n, n.input.map(rename)),
    ),
    ret,
  };
}

/** Rewrites an input reference (`x`, `x:1`, `x:out:0`, `^x`) whose node was renamed. */
function renameRef(renamed: ReadonlyMap<string, string>): (ref: string) => string {
  return (ref) => {
    if (renamed.size === 0) return ref;
    const ctrl = ref.startsWith('^') ? '^' : '';
    const body = ctrl ? ref.slice(1) : ref;
    const colon = body.indexOf(':');
    const base = colon === -1 ? body : body.slice(0, colon);
    const to = renamed.get(base);
    return to === undefined ? ref : `${ctrl}${to}${colon === -1 ? '' : body.slice(colon)}`;
  };
}

/** The weights of the model: Const values, in one buffer, keyed by (unique) node name. */
class WeightTable {
  readonly specs: WeightSpec[] = [];
  private readonly parts: Uint8Array[] = [];
  private readonly used = new Set<string>();
  hasComplex = false;

  /** `nodeNames`: how many nodes (in all graphs) bear each name. */
  constructor(private readonly nodeNames: ReadonlyMap<string, number>) {}

  /** New names for the Const nodes of one graph whose name is not unique across all graphs. */
  renames(nodes: readonly NodeDefMsg[], scope: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const n of nodes) {
      if (n.op !== 'Const') continue;
      let name = n.name;
      for (let i = 0; (this.nodeNames.get(name) ?? 0) > (name === n.name ? 1 : 0) || this.used.has(name); i++) {
        name = `${scope}/${n.name}/_w${i}`;
      }
      this.used.add(name);
      if (name !== n.name) out.set(n.name, name);
    }
    return out;
  }

  /** Extracts a Const's value as weight `name`; the node keeps only its (narrowed) dtype. */
  constNode(n: NodeDefMsg, name: string, what: string): object {
    const value = n.attr['value']?.tensor;
    if (value === null || value === undefined) throw invalid(`Const node "${n.name}" has no value`);
    const w = decodeTensor(value, `${what}"${n.name}"`);
    this.specs.push({ name, shape: w.shape, dtype: w.dtype });
    this.parts.push(w.bytes);
    if (w.dtype === 'complex64') this.hasComplex = true;
    const dt = executorDT(value.dtype) ?? DT.FLOAT;
    return { name, op: 'Const', input: [], attr: { dtype: { type: dt } } };
  }

  data(): ArrayBuffer {
    const total = this.parts.reduce((a, p) => a + p.byteLength, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out.buffer;
  }
}
