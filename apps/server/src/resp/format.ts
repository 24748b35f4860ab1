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

  const s = x.toExponential(16); // [-]d.dddddddddddddddde[+-]X
  const neg = s.charCodeAt(0) === 45;
  const ePos = s.indexOf('e', 18);
  let digits = s.slice(neg ? 1 : 0, neg ? 2 : 1) + s.slice(neg ? 3 : 2, ePos); // 17 digits
  const exp = Number(s.slice(ePos + 1));

  if (isTie(Math.abs(x))) {
    // JS rounded the tie up; half-to-even keeps the truncated digits when they end even, i.e.
    // when the rounded-up last digit is odd. An odd digit decrements without a borrow.
    const last = digits.charCodeAt(16) - 48;
    if (last & 1) digits = digits.slice(0, 16) + String(last - 1);
  }

  let out: string;
  if (exp < -4 || exp >= 17) {
    const frac = trimZeros(digits.slice(1));
    const ae = exp < 0 ? -exp : exp;
    out = `${digits[0]}${frac ? '.' + frac : ''}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  } else if (exp >= 0) {
    const frac = trimZeros(digits.slice(exp + 1));
    out = digits.slice(0, exp + 1) + (frac ? '.' + frac : '');
  } else {
    out = '0.' + '0'.repeat(-exp - 1) + trimZeros(digits);
  }
  return neg ? '-' + out : out;
}

function trimZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  return end === s.length ? s : s.slice(0, end);
}

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
  if (Number.isInteger(a) || !Number.isInteger(a * TWO_POW_25)) return false;
  let m = a;
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  const approx = a * 10 ** k; // ~ m * 5^k, to within a few ulps
  if (approx < 0.9e17 || approx > 1.1e18) return false;
  const exact = BigInt(m) * 5n ** BigInt(k);
  return exact >= TEN_POW_17 && exact < TEN_POW_18;
}
