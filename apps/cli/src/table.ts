import type { Tensor } from '@respai/client';

/** A tensor element as text: floats to 6 significant digits. */
function show(v: number | bigint | boolean | string, float: boolean): string {
  if (typeof v === 'number' && float) return Number(v.toPrecision(6)).toString();
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Whether an output looks like one row of class scores: float, [K] or [1, K] with K > 1. */
export function isScores(t: Tensor): boolean {
  const k = t.shape.at(-1)!;
  const rows = t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return (t.dtype === 'FLOAT' || t.dtype === 'DOUBLE') && rows === 1 && k > 1;
}

/** The `k` highest scores, best first, as [index, score]. */
export function topK(t: Tensor, k: number): [number, number][] {
  const data = Array.from(t.data as ArrayLike<number>);
  return data
    .map((v, i): [number, number] => [i, v])
    .sort((a, b) => b[1] - a[1])
    .slice(0, k);
}

/** A few lines per output: a top-k table for class scores, the first values otherwise. */
export function describeOutput(name: string, t: Tensor, k: number, file?: string): string {
  const float = t.dtype === 'FLOAT' || t.dtype === 'DOUBLE';
  const lines = [`${name}: ${t.dtype} [${t.shape.join(', ')}]${file ? ` -> ${file}` : ''}`];
  if (isScores(t)) {
    const rows = topK(t, k);
    lines.push(`  ${'rank'.padEnd(6)}${'class'.padEnd(8)}score`);
    rows.forEach(([i, v], r) => lines.push(`  ${String(r + 1).padEnd(6)}${String(i).padEnd(8)}${show(v, true)}`));
  } else {
    const data = Array.from(t.data as ArrayLike<number | bigint | boolean | string>);
    const head = data.slice(0, 10).map((v) => show(v, float));
    lines.push(`  ${head.join(' ')}${data.length > 10 ? ` ... (${data.length} values)` : ''}`);
  }
  return lines.join('\n');
}
