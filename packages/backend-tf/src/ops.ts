import { EXECUTOR_OPS } from './generated/executor-ops.js';
import { DT, int64, type AttrValueMsg, type NodeDefMsg } from './proto.js';

export { CONVERTER_VERSION, EXECUTOR_OPS } from './generated/executor-ops.js';

/**
 * What the executor can run, beyond its op list: attrs it ignores whose value would change the
 * result, ops whose kernels the wasm backend lacks, and each op's output dtype (tfjs computes
 * INT64 as int32 and DOUBLE as float32, so the declared dtype comes from the graph).
 */

/**
 * Attrs the executor ignores (op lists' `notSupported`) that are harmless: dtype attrs (tfjs
 * infers dtypes from its inputs), seeds, validation switches, counts it recomputes.
 */
export const HARMLESS_IGNORED_ATTRS: ReadonlySet<string> = new Set([
  'T',
  'Tin',
  'Tout',
  'SrcT',
  'T_threshold',
  'dtype',
  'seed2',
  'validate_indices',
  'num',
  'first_n',
  'element_shape_except0',
]);

/**
 * Ignored attrs that change results unless they hold the value tfjs assumes. `ok` says whether a
 * node's value is that one; a node whose value is not is refused at load, naming the attr.
 */
export const CHECKED_IGNORED_ATTRS: Readonly<Record<string, (a: AttrValueMsg) => boolean>> = {
  // tfjs computes channels-last only: NCHW pooling, BiasAdd or batch norm would be silently wrong.
  data_format: (a) => {
    const f = a.s === null || a.s === undefined ? '' : Buffer.from(a.s).toString('latin1');
    return f === '' || f === 'NHWC' || f === 'NDHWC' || f === 'NWC';
  },
  explicit_paddings: (a) => (a.list?.i.length ?? 0) === 0,
  dilations: (a) => (a.list?.i ?? []).every((d) => int64(d) === 1n),
  axis: (a) => int64(a.i) === -1n,
};

/**
 * TF ops whose tfjs implementation calls kernels the wasm backend does not register (Complex,
 * ComplexAbs, Einsum, FFT, IFFT, Imag, Real, StaticRegexReplace; checked against the installed
 * backends in ops.test.ts). A model using one runs on the tfjs cpu backend instead.
 */
export const WASM_MISSING_OPS: ReadonlySet<string> = new Set([
  'Complex',
  'ComplexAbs',
  'Einsum',
  'FFT',
  'IFFT',
  'RFFT',
  'IRFFT',
  'Imag',
  'Real',
  'StaticRegexReplace',
]);

/** Why the executor cannot run `node` as written, or undefined when it can. */
export function unsupportedReason(node: NodeDefMsg): string | undefined {
  const info = EXECUTOR_OPS[node.op];
  if (info === undefined) return 'not supported';
  for (const name of info.ignoredAttrs) {
    if (HARMLESS_IGNORED_ATTRS.has(name)) continue;
    const a = node.attr[name];
    if (a === undefined) continue;
    const ok = CHECKED_IGNORED_ATTRS[name];
    if (ok === undefined || !ok(a)) return `${name} ${attrText(a)} not supported`;
  }
  return undefined;
}

function attrText(a: AttrValueMsg): string {
  if (a.value === 's' && a.s) return Buffer.from(a.s).toString('latin1');
  if (a.value === 'i') return String(int64(a.i));
  if (a.value === 'list' && a.list) return `[${a.list.i.map((v) => String(int64(v))).join(',')}]`;
  return a.value ?? '?';
}

const BOOL_OPS = new Set([
  'Equal',
  'NotEqual',
  'Less',
  'LessEqual',
  'Greater',
  'GreaterEqual',
  'LogicalAnd',
  'LogicalOr',
  'LogicalNot',
  'IsNan',
  'IsInf',
  'IsFinite',
  'All',
  'Any',
]);

/** The dtype of a type attr, or of entry `index` of a list(type) attr. */
function typeAttr(node: NodeDefMsg, name: string, index = 0): number | undefined {
  const a = node.attr[name];
  if (a === undefined) return undefined;
  if (a.value === 'type') return a.type ?? undefined;
  if (a.value === 'list') return a.list?.type[index];
  return undefined;
}

/**
 * The TF dtype of output `index` of `node` as TensorFlow declares it, or undefined when this
 * table cannot tell (the run then reports the dtype tfjs computed).
 */
export function outputDT(node: NodeDefMsg, index: number): number | undefined {
  const t = (name: string, dflt?: number) => typeAttr(node, name) ?? dflt;
  if (BOOL_OPS.has(node.op)) return DT.BOOL;
  switch (node.op) {
    case 'Cast':
      return t('DstT');
    case 'Shape':
    case 'ShapeN':
    case 'Size':
      return t('out_type', DT.INT32);
    case 'Rank':
      return DT.INT32;
    case 'ArgMax':
    case 'ArgMin':
      return t('output_type', DT.INT64);
    case 'Where':
      return DT.INT64;
    case 'TopKV2':
      return index === 1 ? DT.INT32 : t('T');
    case 'Unique':
    case 'UniqueV2':
    case 'ListDiff':
      return index === 1 ? t('out_idx', DT.INT32) : t('T');
    case 'NonMaxSuppressionV2':
    case 'NonMaxSuppressionV3':
    case 'NonMaxSuppressionV4':
      return DT.INT32;
    case 'NonMaxSuppressionV5':
      return index === 1 ? t('T', DT.FLOAT) : DT.INT32;
    case 'MaxPoolWithArgmax':
      return index === 1 ? t('Targmax', DT.INT64) : t('T');
    case 'Range':
      return t('Tidx', DT.INT32);
    case 'RandomUniformInt':
      return t('Tout');
    case 'Multinomial':
      return t('output_dtype', DT.INT64);
    case 'StringToHashBucketFast':
      return DT.INT64;
    case 'StringSplit':
      return index === 1 ? DT.STRING : DT.INT64;
    case 'StringNGrams':
      return index === 0 ? DT.STRING : t('Tsplits', DT.INT64);
    case 'ResizeBilinear':
    case 'CropAndResize':
    case 'FakeQuantWithMinMaxVars':
      return DT.FLOAT;
    case 'If':
    case 'StatelessIf':
      return typeAttr(node, 'Tout', index);
    case 'While':
    case 'StatelessWhile':
    case 'IdentityN':
      return typeAttr(node, 'T', index);
    case 'SparseReshape':
      return DT.INT64;
  }
  return t('T') ?? t('dtype') ?? t('out_type') ?? t('Tout') ?? t('DstT');
}
