/**
 * Formats a double exactly like C's `printf("%.17g", x)` (glibc), with Redis's spellings of the
 * specials: `inf`, `-inf`, `nan`. Negative zero is `-0`.
 *
 * JS `toExponential(16)` yields the same 17 correctly rounded digits as glibc except on exact
 * ties, where JS rounds half up and glibc rounds half to even; those are detected and fixed.
 */
export function formatDouble(x: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // Safe integers have at most 16 digits, so %.17g prints them in full, as String does.
  if (Number.isSafeInteger(x)) return String(x);

  // [-]d.dddddddddddddddde[+-]X: the 17 digits sit at o and o+2..ePos.
  let s = x.toExponential(16);
  const o = x < 0 ? 1 : 0;
  const ePos = o + 18;
  if (isTie(o ? -x : x)) {
    // JS rounded the tie up; half-to-even keeps the truncated digits when they end even, i.e.
    // when the rounded-up last digit is odd. An odd digit decrements without a borrow.
    const last = s.charCodeAt(ePos - 1) - 48;
    if (last & 1) s = s.slice(0, ePos - 1) + String(last - 1) + s.slice(ePos);
  }
  let exp = 0;
  for (let i = ePos + 2; i < s.length; i++) exp = exp * 10 + s.charCodeAt(i) - 48;
  if (s.charCodeAt(ePos + 1) === 45) exp = -exp;
  let end = ePos; // %g drops trailing zeros of the fraction
  while (end > o + 2 && s.charCodeAt(end - 1) === 48) end--;

  if (exp < -4 || exp >= 17) {
    const mant = end === o + 2 ? s.slice(0, o + 1) : s.slice(0, end);
    const ae = exp < 0 ? -exp : exp;
    return mant + (exp < 0 ? 'e-' : 'e+') + (ae < 10 ? '0' : '') + ae;
  }
  if (exp >= 0) {
    const intEnd = o + 2 + exp;
    const head = s.slice(0, o + 1) + s.slice(o + 2, intEnd);
    return end > intEnd ? head + '.' + s.slice(intEnd, end) : head;
  }
  return (o ? '-0.' : '0.') + LEADING_ZEROS[-exp - 1]! + s[o]! + s.slice(o + 2, end);
}

const LEADING_ZEROS = ['', '0', '00', '000'];

const TWO_POW_25 = 33554432;
const TEN_POW_17 = 10n ** 17n;
const TEN_POW_18 = 10n ** 18n;

/**
 * Whether `a` (positive, finite) lies exactly halfway between two 17-digit decimals.
 * With a = m / 2^k (m odd), the exact decimal expansion is m * 5^k scaled by 10^-k, which ends
 * in 5; it is a tie at 17 digits iff m * 5^k has exactly 18 digits. Since m < 2^53 that needs
 * k <= 25, so anything not a multiple of 2^-25 (most doubles) is ruled out cheaply.
 */
function isTie(a: number): boolean {
  const scaled = a * TWO_POW_25; // exact: a power-of-two scaling
  if (Number.isInteger(a) || !Number.isInteger(scaled)) return false;
  // k = 25 - (trailing zero bits of `scaled`); its low 25 bits are non-zero as `a` is fractional.
  const low = scaled % TWO_POW_25;
  const k = 25 - (31 - Math.clz32(low & -low));
  const approx = a * 10 ** k; // ~ m * 5^k, to within a few ulps
  if (approx < 0.9e17 || approx > 1.1e18) return false;
  const exact = BigInt(a * 2 ** k) * 5n ** BigInt(k);
  return exact >= TEN_POW_17 && exact < TEN_POW_18;
}
