import type { DType } from '@respai/client';

/** A graph input as the ONNX file declares it: -1 for a dimension without a fixed size. */
export interface OnnxInput {
  name: string;
  dtype: DType | undefined;
  shape: number[] | undefined;
}

/** ONNX TensorProto.DataType -> respai dtype. */
const ELEM: Record<number, DType> = { 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING', 9: 'BOOL', 11: 'DOUBLE' };

type Field = { no: number; wire: number; value: bigint | Buffer };

/** The fields of one protobuf message (varints and length-delimited ones; fixed widths skipped). */
function* fields(b: Buffer): Generator<Field> {
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= b.length) throw new Error('truncated protobuf');
      const byte = b[i++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
  };
  while (i < b.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > b.length) throw new Error('truncated protobuf');
      yield { no, wire, value: b.subarray(i, i + len) };
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const sub = (f: Field, no: number, wire: number): f is Field & { value: Buffer } => f.no === no && f.wire === wire && wire === 2;

/**
 * The real inputs of an ONNX model (graph inputs that are not initializers), with their dtypes
 * and shapes, read straight from the file's protobuf: enough to fit an image to the input.
 */
export function onnxInputs(model: Buffer): OnnxInput[] {
  let graph: Buffer | undefined;
  for (const f of fields(model)) if (sub(f, 7, 2)) graph = f.value;
  if (graph === undefined) throw new Error('no graph in the ONNX model');
  const initializers = new Set<string>();
  const inputs: Buffer[] = [];
  for (const f of fields(graph)) {
    if (sub(f, 11, 2)) inputs.push(f.value);
    else if (sub(f, 5, 2)) {
      for (const t of fields(f.value)) if (sub(t, 8, 2)) initializers.add(t.value.toString('utf8'));
    }
  }
  const out: OnnxInput[] = [];
  for (const vi of inputs) {
    let name = '';
    let dtype: DType | undefined;
    let shape: number[] | undefined;
    for (const f of fields(vi)) {
      if (sub(f, 1, 2)) name = f.value.toString('utf8');
      else if (sub(f, 2, 2)) {
        for (const tt of fields(f.value)) {
          if (!sub(tt, 1, 2)) continue;
          for (const t of fields(tt.value)) {
            if (t.no === 1 && t.wire === 0) dtype = ELEM[Number(t.value)];
            else if (sub(t, 2, 2)) {
              shape = [];
              for (const d of fields(t.value)) {
                if (!sub(d, 1, 2)) continue;
                let size = -1;
                for (const x of fields(d.value)) if (x.no === 1 && x.wire === 0) size = Number(x.value);
                shape.push(size);
              }
            }
          }
        }
      }
    }
    if (!initializers.has(name)) out.push({ name, dtype, shape });
  }
  return out;
}
