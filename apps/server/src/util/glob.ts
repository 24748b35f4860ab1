/**
 * Redis 7's glob matching (stringmatchlen in util.c), byte for byte: `*`, `?`, `[abc]`, `[^a]`,
 * `[a-z]`, `\x` escapes, over raw bytes (keys are latin1 strings, one char per byte).
 *
 * What Redis's reading implies, kept here on purpose:
 * - a `-` before the closing `]` still makes a range, which swallows the `]` (`[b-]a` is the
 *   unterminated class {']'..'b', 'a'});
 * - range ends and the byte compare as C's signed `char` (bytes 0x80-0xff sort before 0x00);
 * - an escaped byte inside a class compares case-sensitively even with `nocase`;
 * - `nocase` folds ASCII letters only (the C locale's `tolower`);
 * - an empty string matches only the empty pattern (`*` does not match it: KEYS, SCAN and HSCAN
 *   treat a lone `*` as "everything" before matching).
 * Iterative, backtracking to the last `*` only (every other token takes exactly one byte), so a
 * hostile pattern cannot blow up exponentially.
 */
export function globMatch(pattern: string, s: string, nocase = false): boolean {
  if (s.length === 0) return pattern.length === 0;
  const n = pattern.length;
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < s.length) {
    if (p < n) {
      const pc = pattern.charCodeAt(p);
      if (pc === STAR) {
        while (pattern.charCodeAt(p) === STAR) p++;
        if (p === n) return true;
        starP = p;
        starI = i;
        continue;
      }
      const c = s.charCodeAt(i);
      let next: number;
      if (pc === QUESTION) next = p + 1;
      else if (pc === OPEN) next = matchClass(pattern, p, c, nocase);
      else {
        let lit = pc;
        next = p + 1;
        if (pc === BACKSLASH && p + 1 < n) {
          lit = pattern.charCodeAt(p + 1);
          next = p + 2;
        }
        if (!same(lit, c, nocase)) next = -1;
      }
      if (next >= 0) {
        p = next;
        i++;
        continue;
      }
    }
    if (starP < 0) return false;
    p = starP;
    i = ++starI;
  }
  while (pattern.charCodeAt(p) === STAR) p++;
  return p === n;
}

const STAR = 42;
const QUESTION = 63;
const OPEN = 91;
const CLOSE = 93;
const BACKSLASH = 92;
const CARET = 94;
const DASH = 45;

/** C's `tolower` in the C locale: ASCII letters only. */
const fold = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);
/** A byte as C's (signed) `char`. */
const signed = (c: number): number => (c >= 128 ? c - 256 : c);
const same = (a: number, b: number, nocase: boolean): boolean => a === b || (nocase && fold(a) === fold(b));

/**
 * The class starting at `pattern[start]` (a `[`) against byte `c`: the index after the class when
 * it matches, -1 when not. Where the class ends does not depend on `c`, so `*` backtracking sees
 * the same tokens on every try, as Redis's recursion does.
 */
function matchClass(pattern: string, start: number, c: number, nocase: boolean): number {
  const n = pattern.length;
  let p = start + 1;
  const not = p < n && pattern.charCodeAt(p) === CARET;
  if (not) p++;
  let match = false;
  for (;; p++) {
    if (p >= n) {
      // Unterminated: the class runs to the end of the pattern.
      p = n - 1;
      break;
    }
    const pc = pattern.charCodeAt(p);
    if (pc === BACKSLASH && n - p >= 2) {
      p++;
      if (pattern.charCodeAt(p) === c) match = true;
    } else if (pc === CLOSE) {
      break;
    } else if (n - p >= 3 && pattern.charCodeAt(p + 1) === DASH) {
      let lo = signed(pc);
      let hi = signed(pattern.charCodeAt(p + 2));
      if (lo > hi) [lo, hi] = [hi, lo];
      let x = signed(c);
      if (nocase) {
        lo = fold(lo);
        hi = fold(hi);
        x = fold(x);
      }
      if (x >= lo && x <= hi) match = true;
      p += 2;
    } else if (same(pc, c, nocase)) {
      match = true;
    }
  }
  return match !== not ? p + 1 : -1;
}
