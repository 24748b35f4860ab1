import { extname } from 'node:path';
import { DTYPES, isDType, type Backend, type DType, type Tensor } from '@respai/client';
import { dump, parse, type TypedArray } from 'npyjs';

/**
 * The backend a model file is for, from its extension, else from its first bytes: a zip archive
 * is TorchScript, `TFL3` at offset 4 a TFLite flatbuffer, a protobuf starting with field 1 as a
 * varint (ir_version) an ONNX ModelProto, one starting with a length-delimited field 1 (a node)
 * a TensorFlow GraphDef.
 */
export function detectBackend(file: string, bytes: Buffer): Backend | undefined {
  const ext = extname(file).toLowerCase();
  const byExt: Record<string, Backend> = { '.onnx': 'ONNX', '.tflite': 'TFLITE', '.pt': 'TORCH', '.pth': 'TORCH', '.torchscript': 'TORCH', '.pb': 'TF' };
  if (byExt[ext]) return byExt[ext];
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x504b0304) return 'TORCH';
  if (bytes.length >= 8 && bytes.toString('latin1', 4, 8) === 'TFL3') return 'TFLITE';
  if (bytes[0] === 0x08) return 'ONNX';
  if (bytes[0] === 0x0a) return 'TF';
  return undefined;
}

const IMAGE_EXTS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.gif', '.tif', '.tiff']);

export function isImage(file: string): boolean {
  return IMAGE_EXTS.has(extname(file).toLowerCase());
}

export function parseShape(s: string): number[] {
  const dims = s.split(/[,x ]+/).filter(Boolean).map(Number);
  if (dims.length === 0 || dims.some((d) => !Number.isSafeInteger(d) || d <= 0)) throw new Error(`--shape: positive integers separated by commas, got '${s}'`);
  return dims;
}

export function parseDType(s: string): DType {
  const d = s.toUpperCase();
  if (!isDType(d)) throw new Error(`--dtype: one of ${DTYPES.join(', ')}, got '${s}'`);
  return d;
}

/** numpy's dtype codes (without byte order) -> respai dtypes. */
const FROM_NPY: Record<string, DType> = { f4: 'FLOAT', f8: 'DOUBLE', i1: 'INT8', i2: 'INT16', i4: 'INT32', i8: 'INT64', u1: 'UINT8', u2: 'UINT16', b1: 'BOOL' };
const TO_NPY: Partial<Record<DType, string>> = { FLOAT: 'f4', DOUBLE: 'f8', INT8: 'i1', INT16: 'i2', INT32: 'i4', INT64: 'i8', UINT8: 'u1', UINT16: 'u2', BOOL: 'b1' };

/** A tensor from a .npy file (little-endian, C order; unicode arrays become STRING). */
export function tensorFromNpy(bytes: Buffer): Tensor {
  const own = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const header = bytes.toString('latin1', 0, Math.min(bytes.length, 256));
  if (/'descr':\s*'>/.test(header)) throw new Error('.npy: big-endian arrays are not supported (save with a little-endian dtype)');
  const a = parse(own as ArrayBuffer);
  if (a.fortranOrder) throw new Error('.npy: Fortran-order arrays are not supported (save with np.ascontiguousarray)');
  const shape = a.shape.length === 0 ? [1] : a.shape;
  if (a.dtype.startsWith('U')) return { dtype: 'STRING', shape, data: a.data as unknown as string[] };
  const dtype = FROM_NPY[a.dtype];
  if (dtype === undefined) throw new Error(`.npy: dtype ${a.dtype} has no respai dtype`);
  if (dtype === 'BOOL') return { dtype, shape, data: Array.from(a.data as unknown as ArrayLike<unknown>, Boolean) };
  return { dtype, shape, data: a.data } as unknown as Tensor;
}

/** A tensor as a .npy file (STRING as a unicode array). */
export function npyOf(t: Tensor): Buffer {
  const shape = [...t.shape];
  if (t.dtype === 'STRING') return Buffer.from(dump(t.data, shape));
  if (t.dtype === 'BOOL') return Buffer.from(dump(Uint8Array.from(t.data, Number), shape, { dtype: 'b1' }));
  return Buffer.from(dump(t.data as TypedArray, shape, { dtype: TO_NPY[t.dtype] as 'f4' }));
}

/** Raw bytes of `dtype` in `shape` (little-endian, as RedisAI blobs are). */
export function tensorFromRaw(bytes: Buffer, dtype: DType, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'STRING') {
    const data = bytes.toString('utf8').split('\0');
    if (data.at(-1) === '') data.pop();
    return { dtype, shape, data };
  }
  if (dtype === 'BOOL') return { dtype, shape, data: Array.from(bytes, Boolean) };
  const width = { FLOAT: 4, DOUBLE: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, UINT8: 1, UINT16: 2 }[dtype];
  if (bytes.length !== n * width) throw new Error(`raw input: ${bytes.length} bytes, but ${dtype} [${shape.join(',')}] needs ${n * width}`);
  const copy = Buffer.from(bytes); // aligned for the typed array
  const Ctor = { FLOAT: Float32Array, DOUBLE: Float64Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, INT64: BigInt64Array, UINT8: Uint8Array, UINT16: Uint16Array }[dtype];
  return { dtype, shape, data: new Ctor(copy.buffer, copy.byteOffset, n) } as Tensor;
}

export interface ImageOptions {
  /** The model input's shape: [N,C,H,W], [N,H,W,C], [N,H,W] or [H,W] (N and C of 1 or 3). */
  shape: number[];
  dtype: DType;
  /** Light-on-dark from dark-on-light (MNIST-style models). */
  invert?: boolean;
}

/** Where the image's height, width and channels sit in an input shape. */
function layout(shape: number[]): { h: number; w: number; c: number; order: 'nchw' | 'nhwc' | 'hw' } {
  const s = shape.map((d) => (d < 0 ? 1 : d));
  if (s.length === 4 && (s[1] === 1 || s[1] === 3) && s[3] !== 1 && s[3] !== 3) return { c: s[1]!, h: s[2]!, w: s[3]!, order: 'nchw' };
  if (s.length === 4 && (s[3] === 1 || s[3] === 3)) return { h: s[1]!, w: s[2]!, c: s[3]!, order: 'nhwc' };
  if (s.length === 3 && (s[0] === 1 || s[0] === 3) && s[2]! > 3) return { c: s[0]!, h: s[1]!, w: s[2]!, order: 'nchw' };
  if (s.length === 3) return { h: s[1]!, w: s[2]!, c: 1, order: 'hw' };
  if (s.length === 2) return { h: s[0]!, w: s[1]!, c: 1, order: 'hw' };
  throw new Error(`cannot fit an image to an input of shape [${shape.join(',')}]: pass --shape`);
}

/**
 * Decodes an image (PNG, JPEG, BMP, GIF, TIFF; Jimp, pure JavaScript), resizes it to the input's
 * height and width (bilinear) and lays its pixels out as the input wants: one grey channel
 * (ITU-R 601 luma) or RGB, scaled to 0..1 for float dtypes and kept 0..255 for integer ones.
 */
export async function tensorFromImage(bytes: Buffer, o: ImageOptions): Promise<Tensor> {
  const { h, w, c, order } = layout(o.shape);
  // Imported here: Jimp takes most of the tool's start-up, and only images need it.
  const { Jimp } = await import('jimp');
  const img = await Jimp.read(bytes);
  img.resize({ w, h });
  const px = img.bitmap.data;
  const float = o.dtype === 'FLOAT' || o.dtype === 'DOUBLE';
  const values = new Float64Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 4;
      const rgb = [px[p]!, px[p + 1]!, px[p + 2]!].map((v) => (o.invert ? 255 - v : v));
      const channels = c === 1 ? [0.299 * rgb[0]! + 0.587 * rgb[1]! + 0.114 * rgb[2]!] : rgb;
      for (let k = 0; k < c; k++) {
        const at = order === 'nhwc' ? (y * w + x) * c + k : k * h * w + y * w + x;
        values[at] = float ? channels[k]! / 255 : Math.round(channels[k]!);
      }
    }
  }
  const shape = o.shape.map((d) => (d < 0 ? 1 : d));
  switch (o.dtype) {
    case 'FLOAT':
      return { dtype: 'FLOAT', shape, data: Float32Array.from(values) };
    case 'DOUBLE':
      return { dtype: 'DOUBLE', shape, data: values };
    case 'UINT8':
      return { dtype: 'UINT8', shape, data: Uint8Array.from(values) };
    case 'INT32':
      return { dtype: 'INT32', shape, data: Int32Array.from(values) };
    case 'INT64':
      return { dtype: 'INT64', shape, data: BigInt64Array.from(values, (v) => BigInt(v)) };
    default:
      throw new Error(`images become FLOAT, DOUBLE, UINT8, INT32 or INT64 tensors, not ${o.dtype}`);
  }
}
