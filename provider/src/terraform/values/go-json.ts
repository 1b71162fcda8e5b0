// JSON text the way Go's encoding/json writes it, so that bytes we produce (cty type JSON, the
// `terraform providers schema -json` document) match Terraform's byte for byte: compact, HTML
// characters escaped (<, >, & as \u003c, \u003e, \u0026), U+2028/U+2029 escaped, \b and \f
// in short form (Go 1.22 and later), other control characters as lowercase \u00xx, and
// invalid UTF-16 (lone surrogates) as \ufffd.

const hex = '0123456789abcdef';

/** A JSON string literal as Go's json.Marshal writes it. */
export function goJsonString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      switch (c) {
        case 0x22: esc = '\\"'; break;
        case 0x5c: esc = '\\\\'; break;
        case 0x08: esc = '\\b'; break;
        case 0x0c: esc = '\\f'; break;
        case 0x0a: esc = '\\n'; break;
        case 0x0d: esc = '\\r'; break;
        case 0x09: esc = '\\t'; break;
        default: esc = '\\u00' + hex[c >> 4] + hex[c & 0xf];
      }
    } else if (c === 0x2028 || c === 0x2029) {
      esc = c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a valid surrogate pair is written as is
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/**
 * Serializes plain JSON data (null, booleans, finite numbers, strings, arrays, plain objects) as
 * Go writes it. Object keys keep their insertion order: build objects with keys in Go's order
 * (struct field order, or sorted for maps — see compareGoStrings). Properties whose value is
 * undefined are left out, as JSON.stringify does.
 */
export function goJsonStringify(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as JSON`);
      return JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'string':
      return goJsonString(value);
    case 'object': {
      if (Array.isArray(value)) return '[' + value.map((v) => goJsonStringify(v ?? null)).join(',') + ']';
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        parts.push(goJsonString(k) + ':' + goJsonStringify(v));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}

const utf8 = new TextEncoder();

/**
 * Orders strings as Go's sort.Strings does: by their UTF-8 bytes. (JavaScript's default sort
 * compares UTF-16 code units, which differs for characters above U+FFFF versus U+E000-U+FFFF.)
 */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  // Fast path: both ASCII, where code unit and byte order agree.
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b)) return a < b ? -1 : 1;
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

/** Keys of an object sorted the Go way. */
export function sortedKeys(o: object): string[] {
  return Object.keys(o).sort(compareGoStrings);
}
