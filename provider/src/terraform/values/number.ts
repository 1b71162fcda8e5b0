// cty numbers are arbitrary-precision decimals; here they are JavaScript numbers, or bigints for
// integers a double cannot hold exactly. These helpers read and write the decimal text forms
// that appear on the wire (msgpack strings for numbers too large or too precise for int64 and
// float64, and JSON number literals).

const decimal = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Integers with more digits than this are read as doubles (Infinity) rather than bigints. */
const maxIntegerDigits = 4096;

/**
 * Reads a decimal number as cty.ParseNumberVal does. Integers come back exactly (a bigint when
 * outside the safe range); other numbers as the nearest double.
 */
export function parseNumber(text: string): number | bigint {
  const m = decimal.exec(text);
  const [, sign = '', int = '', frac = '', exp = '0'] = m ?? [];
  if (!m || (int === '' && frac === '')) throw new RangeError(`${JSON.stringify(text)} is not a number`);
  const e = Number(exp);
  // The digits without a point, and the power of ten they are scaled by.
  let digits = (int + frac).replace(/^0+/, '');
  let scale = e - frac.length;
  if (digits === '') return 0;
  const trailing = /0*$/.exec(digits)?.[0].length ?? 0;
  if (scale < 0 && trailing >= -scale) {
    digits = digits.slice(0, digits.length + scale);
    scale = 0;
  }
  if (scale >= 0 && digits.length + scale <= maxIntegerDigits) {
    const n = Number(sign + digits + 'e' + scale);
    if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
    return BigInt(sign + digits + '0'.repeat(scale));
  }
  const n = Number(text.replace(/^\+/, ''));
  return Object.is(n, -0) ? 0 : n;
}

/**
 * The decimal text Go's big.Float.Text('f', -1) gives for the number: no exponent, the shortest
 * digits that identify the double (bigints exactly).
 */
export function formatNumber(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (!Number.isFinite(n)) throw new RangeError(`${n} has no decimal form`);
  if (n === 0) return '0';
  const s = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign = '', lead = '', rest = '', exp = '0'] = m;
  const digits = lead + rest;
  const point = 1 + Number(exp); // position of the decimal point within digits
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  if (point <= 0) return sign + '0.' + '0'.repeat(-point) + digits;
  return sign + digits.slice(0, point) + '.' + digits.slice(point);
}

/** A number as a bigint when it is an integer (exactly), else undefined. */
export function integerValue(n: number | bigint): bigint | undefined {
  if (typeof n === 'bigint') return n;
  return Number.isInteger(n) ? BigInt(n) : undefined;
}

/** Normalizes an integer: a number when it is safe, else a bigint. */
export function normalizeInteger(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}
