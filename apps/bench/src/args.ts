/** Option parsing shared by scenarios: lists, byte sizes with k/m suffixes. */

export function parseList<T>(s: string, item: (x: string) => T): T[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map(item);
}

/** "1k" = 1024, "64KiB" = 65536, "1m" = 1 MiB; a bare number is bytes. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size: ${s}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  return Math.round(Number(m[1]) * mult);
}

export function parsePositiveInt(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} must be a positive integer, got ${s}`);
  return n;
}
