/**
 * Reference implementations of the ops the test graphs use, as plain loops over Float64 values
 * (NHWC, TensorFlow's padding rules), to check the backend's results against something that shares
 * no code with tfjs.
 */

export interface Arr {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export const arr = (shape: readonly number[], data: ArrayLike<number>): Arr => ({ shape, data: Float64Array.from(data) });

export function matMul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a.data[i * k + p]! * b.data[p * n + j]!;
      out[i * n + j] = s;
    }
  return { shape: [m, n], data: out };
}

/** Adds `bias` along the last axis. */
export function biasAdd(x: Arr, bias: Arr): Arr {
  const c = bias.data.length;
  return { shape: x.shape, data: x.data.map((v, i) => v + bias.data[i % c]!) };
}

export const relu = (x: Arr): Arr => ({ shape: x.shape, data: x.data.map((v) => Math.max(v, 0)) });
export const relu6 = (x: Arr): Arr => ({ shape: x.shape, data: x.data.map((v) => Math.min(Math.max(v, 0), 6)) });

/** Softmax over the last axis. */
export function softmax(x: Arr): Arr {
  const c = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / c; r++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, x.data[r * c + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) sum += out[r * c + j] = Math.exp(x.data[r * c + j]! - max);
    for (let j = 0; j < c; j++) out[r * c + j]! /= sum;
  }
  return { shape: x.shape, data: out };
}

export const reshape = (x: Arr, shape: readonly number[]): Arr => {
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  return { shape: shape.map((d) => (d === -1 ? x.data.length / known : d)), data: x.data };
};

/** TensorFlow's output size and leading padding for one spatial dimension. */
function window(size: number, k: number, stride: number, padding: 'SAME' | 'VALID'): { out: number; pad: number } {
  if (padding === 'VALID') return { out: Math.ceil((size - k + 1) / stride), pad: 0 };
  const out = Math.ceil(size / stride);
  return { out, pad: Math.floor(Math.max((out - 1) * stride + k - size, 0) / 2) };
}

/** x [N,H,W,C], filter [KH,KW,C,O]. */
export function conv2d(x: Arr, f: Arr, stride: number, padding: 'SAME' | 'VALID'): Arr {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , o] = f.shape as [number, number, number, number];
  const H = window(h, kh, stride, padding);
  const W = window(w, kw, stride, padding);
  const out = new Float64Array(n * H.out * W.out * o);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < H.out; y++)
      for (let z = 0; z < W.out; z++)
        for (let oc = 0; oc < o; oc++) {
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const yy = y * stride + i - H.pad;
              const zz = z * stride + j - W.pad;
              if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
              for (let ic = 0; ic < c; ic++) s += x.data[((b * h + yy) * w + zz) * c + ic]! * f.data[((i * kw + j) * c + ic) * o + oc]!;
            }
          out[((b * H.out + y) * W.out + z) * o + oc] = s;
        }
  return { shape: [n, H.out, W.out, o], data: out };
}

/** x [N,H,W,C], filter [KH,KW,C,M]; output channel c*M+m. */
export function depthwiseConv2d(x: Arr, f: Arr, stride: number, padding: 'SAME' | 'VALID'): Arr {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , m] = f.shape as [number, number, number, number];
  const H = window(h, kh, stride, padding);
  const W = window(w, kw, stride, padding);
  const oc = c * m;
  const out = new Float64Array(n * H.out * W.out * oc);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < H.out; y++)
      for (let z = 0; z < W.out; z++)
        for (let ic = 0; ic < c; ic++)
          for (let q = 0; q < m; q++) {
            let s = 0;
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const yy = y * stride + i - H.pad;
                const zz = z * stride + j - W.pad;
                if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                s += x.data[((b * h + yy) * w + zz) * c + ic]! * f.data[((i * kw + j) * c + ic) * m + q]!;
              }
            out[((b * H.out + y) * W.out + z) * oc + ic * m + q] = s;
          }
  return { shape: [n, H.out, W.out, oc], data: out };
}

/** Inference batch norm over the last axis. */
export function batchNorm(x: Arr, scale: Arr, offset: Arr, mean: Arr, variance: Arr, eps: number): Arr {
  const c = scale.data.length;
  return {
    shape: x.shape,
    data: x.data.map((v, i) => {
      const k = i % c;
      return ((v - mean.data[k]!) / Math.sqrt(variance.data[k]! + eps)) * scale.data[k]! + offset.data[k]!;
    }),
  };
}

/** Average pooling with TF's rule for SAME: padding does not count towards the mean. */
export function avgPool(x: Arr, k: number, stride: number, padding: 'SAME' | 'VALID'): Arr {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const H = window(h, k, stride, padding);
  const W = window(w, k, stride, padding);
  const out = new Float64Array(n * H.out * W.out * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < H.out; y++)
      for (let z = 0; z < W.out; z++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          let cnt = 0;
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const yy = y * stride + i - H.pad;
              const zz = z * stride + j - W.pad;
              if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
              s += x.data[((b * h + yy) * w + zz) * c + ch]!;
              cnt++;
            }
          out[((b * H.out + y) * W.out + z) * c + ch] = s / cnt;
        }
  return { shape: [n, H.out, W.out, c], data: out };
}

/** Drops the listed size-1 axes. */
export const squeeze = (x: Arr, axes: readonly number[]): Arr => ({ shape: x.shape.filter((_, i) => !axes.includes(i)), data: x.data });

/** Deterministic values in [-scale, scale) (mulberry32). */
export function randoms(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale;
  }
  return out;
}
