// Parsers for typed condition values: IP addresses and CIDR blocks, dates, decimal numbers and
// base64. Each returns null when the text is well formed (or the normal form, for decimals).

function ipv4Octets(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    octets.push(n);
  }
  return octets;
}

function isIpv6(text: string): boolean {
  if (text.length < 2 || text.length > 45) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (half: string): string[] | null => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === null || tail === null) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i] ?? '';
    if (i === all.length - 1 && group.includes('.') && (halves.length === 1 || tail.length > 0)) {
      if (ipv4Octets(group) === null) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

/** IpAddress / NotIpAddress: an IPv4 or IPv6 address, optionally with a /prefix length. */
export function checkIpValue(text: string): string | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const v4 = ipv4Octets(address) !== null;
  if (!v4 && !isIpv6(address)) return 'must be an IPv4 or IPv6 address or CIDR block, e.g. "203.0.113.0/24"';
  if (slash >= 0) {
    const prefix = text.slice(slash + 1);
    const max = v4 ? 32 : 128;
    if (!/^(?:0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max) return `the prefix length must be 0 to ${max}`;
  }
  return null;
}

const isoDate =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * Date* operators: an ISO 8601 date or date-time in extended form ("2025-01-31",
 * "2025-01-31T12:00:00Z", "2025-01-31T12:00:00.5+02:00"), or epoch seconds ("1735689600").
 */
export function checkDateValue(text: string): string | null {
  if (/^\d{1,12}$/.test(text)) return null;
  const m = isoDate.exec(text);
  if (m === null) return 'must be an ISO 8601 date-time (e.g. "2025-01-31T12:00:00Z") or epoch seconds';
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return 'is not a calendar date';
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 60) return 'is not a time of day';
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return 'has an out-of-range UTC offset';
  return null;
}

/**
 * Numeric* operators: a decimal number ("42", "-1.5"), returned in normal form: no leading
 * zeros in the integer part, no trailing zeros in the fraction, no "-0". Exact (no floating point),
 * so large integers keep every digit. Null when the text is not a decimal number.
 */
export function normalDecimal(text: string): string | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null || text.length > 100) return null;
  const integer = (m[2] ?? '').replace(/^0+(?=\d)/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const magnitude = fraction === '' ? integer : `${integer}.${fraction}`;
  return m[1] === '-' && magnitude !== '0' ? `-${magnitude}` : magnitude;
}

/** A JSON number as decimal text; null for values that only have exponent notation. */
export function numberText(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  if (Number.isInteger(n)) return BigInt(n).toString();
  const text = String(n);
  return /e/i.test(text) ? null : text;
}

/** BinaryEquals: base64 text. */
export function checkBase64(text: string): string | null {
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text) && text !== ''
    ? null
    : 'must be base64 text';
}
