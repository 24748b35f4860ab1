/**
 * Redis's glob matching (stringmatchlen): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` escapes,
 * over raw bytes (keys are latin1 strings, one char per byte). Iterative with backtracking on
 * the last `*` only, so a hostile pattern cannot blow up exponentially.
 */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  const lower = (c: string) => (nocase ? c.toLowerCase() : c);
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < s.length) {
    if (p < pattern.length) {
      const pc = pattern[p]!;
      if (pc === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        starP = p;
        starI = i;
        continue;
      }
      if (pc === '?') {
        p++;
        i++;
        continue;
      }
      if (pc === '[') {
        const r = matchClass(pattern, p, lower(s[i]!), lower);
        if (r.matched) {
          p = r.end;
          i++;
          continue;
        }
      } else {
        let lit = pc;
        let next = p + 1;
        if (pc === '\\' && p + 1 < pattern.length) {
          lit = pattern[p + 1]!;
          next = p + 2;
        }
        if (lower(lit) === lower(s[i]!)) {
          p = next;
          i++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    p = starP;
    i = ++starI;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function matchClass(
  pattern: string,
  start: number,
  c: string,
  lower: (c: string) => string,
): { matched: boolean; end: number } {
  let p = start + 1;
  const not = pattern[p] === '^';
  if (not) p++;
  let matched = false;
  while (p < pattern.length && pattern[p] !== ']') {
    if (pattern[p] === '\\' && p + 1 < pattern.length) {
      if (lower(pattern[p + 1]!) === c) matched = true;
      p += 2;
    } else if (pattern[p + 1] === '-' && p + 2 < pattern.length && pattern[p + 2] !== ']') {
      let a = lower(pattern[p]!);
      let b = lower(pattern[p + 2]!);
      if (a > b) [a, b] = [b, a];
      if (c >= a && c <= b) matched = true;
      p += 3;
    } else {
      if (lower(pattern[p]!) === c) matched = true;
      p++;
    }
  }
  // An unterminated class ends at the end of the pattern, as in Redis.
  return { matched: not ? !matched : matched, end: Math.min(p + 1, pattern.length) };
}
