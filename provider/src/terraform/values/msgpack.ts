// cty values in MessagePack, as go-cty's cty/msgpack package reads and writes them (the
// DynamicValue.msgpack form of the Terraform plugin protocol). The encoding is type-directed:
// the same bytes mean different things for different schema types.
//
//   null                 nil (0xc0)
//   unknown              fixext1 type 0, payload 0x00: d4 00 00; with refinements, an ext of
//                        type 12 whose payload is a msgpack map {key: value}: 1 => false
//                        (not null), 2 => string prefix, 3/4 => [number, inclusive] lower/upper
//                        bound, 5/6 => collection length lower/upper bound. Reading, any other
//                        ext (or a type 12 with at most one byte) is a wholly unknown value.
//   string               str (fixstr/str8/str16/str32); bin is also accepted
//   number               the smallest int encoding when the value is an int64 (positive values
//                        as uint), float64 when a non-integer double, else the decimal text as a
//                        string; ±Infinity as float64. Reading accepts any int, float32/64 or
//                        str/bin holding a decimal.
//   bool                 true/false
//   list, set, tuple     array
//   map                  map with string keys, sorted
//   object               map of every attribute (sorted by name; null when unset)
//   dynamic slot         nil for a null of unknown type, d4 00 00 for a wholly unknown value,
//                        else a 2-array [bin(type JSON), value encoded against that type]
//
// The writer mirrors go-cty's encoder (vmihailenco/msgpack with compact ints and without compact
// floats) byte for byte.
import { attributeType, typeEquals, typeJsonString, parseType, friendlyName, isCollection, type CtyType } from './cty-type.ts';
import { integerValue, normalizeInteger, parseNumber } from './number.ts';
import { CtyValueError, TypedValue, UnknownValue, Unknown, impliedType, isObjectValue, normalizeUnknown, type CtyValue, type NumberBound, type Refinements } from './value.ts';
import { compareGoStrings, sortedKeys } from './go-json.ts';

/** Extension type of an unknown value carrying refinements. */
export const unknownWithRefinementsExt = 0x0c;

/** Extension payloads larger than this are refused (as go-cty does). */
const maxRefinementLength = 1024;

/** Longest string prefix refinement written (go-cty truncates longer prefixes). */
const maxPrefixLength = 256;

const refinementKey = {
  nullness: 1,
  stringPrefix: 2,
  numberMin: 3,
  numberMax: 4,
  lengthMin: 5,
  lengthMax: 6,
} as const;

/**
 * Runs f with step pushed onto the (shared, mutable) path; errors copy the path when made, so
 * walking a large value allocates no path arrays.
 */
function at<T>(path: (string | number)[], step: string | number, f: () => T): T {
  path.push(step);
  const result = f();
  path.pop();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Writing

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u8(code: number, n: number): void {
    this.reserve(2);
    this.buf[this.len] = code;
    this.buf.writeUInt8(n, this.len + 1);
    this.len += 2;
  }

  u16(code: number, n: number): void {
    this.reserve(3);
    this.buf[this.len] = code;
    this.buf.writeUInt16BE(n, this.len + 1);
    this.len += 3;
  }

  u32(code: number, n: number): void {
    this.reserve(5);
    this.buf[this.len] = code;
    this.buf.writeUInt32BE(n, this.len + 1);
    this.len += 5;
  }

  u64(code: number, n: bigint): void {
    this.reserve(9);
    this.buf[this.len] = code;
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, n), this.len + 1);
    this.len += 9;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  /** vmihailenco EncodeInt: the smallest encoding; non-negative values as unsigned. */
  int(n: bigint): void {
    if (n >= 0n) {
      if (n <= 0x7fn) this.byte(Number(n));
      else if (n <= 0xffn) this.u8(0xcc, Number(n));
      else if (n <= 0xffffn) this.u16(0xcd, Number(n));
      else if (n <= 0xffffffffn) this.u32(0xce, Number(n));
      else this.u64(0xcf, n);
    } else if (n >= -32n) this.byte(Number(n) & 0xff);
    else if (n >= -128n) this.u8(0xd0, Number(n) & 0xff);
    else if (n >= -32768n) this.u16(0xd1, Number(n) & 0xffff);
    else if (n >= -2147483648n) this.u32(0xd2, Number(n) >>> 0);
    else this.u64(0xd3, n);
  }

  float64(n: number): void {
    this.reserve(9);
    this.buf[this.len] = 0xcb;
    this.buf.writeDoubleBE(n, this.len + 1);
    this.len += 9;
  }

  string(s: string): void {
    const l = Buffer.byteLength(s, 'utf8');
    if (l < 32) this.byte(0xa0 | l);
    else if (l < 256) this.u8(0xd9, l);
    else if (l <= 0xffff) this.u16(0xda, l);
    else this.u32(0xdb, l);
    this.reserve(l);
    this.len += this.buf.write(s, this.len, l, 'utf8');
  }

  bin(b: Uint8Array): void {
    const l = b.length;
    if (l < 256) this.u8(0xc4, l);
    else if (l <= 0xffff) this.u16(0xc5, l);
    else this.u32(0xc6, l);
    this.bytes(b);
  }

  arrayHeader(l: number): void {
    if (l < 16) this.byte(0x90 | l);
    else if (l <= 0xffff) this.u16(0xdc, l);
    else this.u32(0xdd, l);
  }

  mapHeader(l: number): void {
    if (l < 16) this.byte(0x80 | l);
    else if (l <= 0xffff) this.u16(0xde, l);
    else this.u32(0xdf, l);
  }

  extHeader(type: number, l: number): void {
    const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
    const code = fixed[l];
    if (code !== undefined) this.byte(code);
    else if (l <= 0xff) this.u8(0xc7, l);
    else if (l <= 0xffff) this.u16(0xc8, l);
    else this.u32(0xc9, l);
    this.byte(type & 0xff);
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

const wasNormalized = /^[\x00-\x7f]*$/;

function nfc(s: string): string {
  return wasNormalized.test(s) ? s : s.normalize('NFC');
}

/** Encodes a value of the given type as go-cty's msgpack.Marshal does. */
export function encodeMsgpack(value: CtyValue, type: CtyType): Buffer {
  const w = new Writer();
  writeValue(w, value, type, []);
  return w.result();
}

function writeValue(w: Writer, v: CtyValue | undefined, t: CtyType, path: (string | number)[]): void {
  if (v === undefined) v = null;
  if (t.kind === 'dynamic') {
    writeDynamic(w, v, path);
    return;
  }
  if (v instanceof TypedValue) {
    if (!typeEquals(v.type, t)) throw new CtyValueError(path, `a value of type ${friendlyName(v.type)} given where ${friendlyName(t)} is required`);
    v = v.value;
  }
  if (v instanceof UnknownValue) {
    writeUnknown(w, v, t);
    return;
  }
  if (v === null) {
    w.nil();
    return;
  }
  switch (t.kind) {
    case 'string':
      if (typeof v !== 'string') throw new CtyValueError(path, 'string required');
      w.string(nfc(v));
      return;
    case 'number':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new CtyValueError(path, 'number required');
      writeNumber(w, v, path);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw new CtyValueError(path, 'bool required');
      w.bool(v);
      return;
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) throw new CtyValueError(path, `${t.kind} required`);
      const items = v as readonly CtyValue[];
      w.arrayHeader(items.length);
      items.forEach((e, i) => at(path, i, () => writeValue(w, e, t.element, path)));
      return;
    }
    case 'tuple': {
      if (!Array.isArray(v)) throw new CtyValueError(path, 'tuple required');
      const items = v as readonly CtyValue[];
      if (items.length !== t.elements.length) throw new CtyValueError(path, `a tuple of length ${t.elements.length} is required`);
      w.arrayHeader(items.length);
      items.forEach((e, i) => at(path, i, () => writeValue(w, e, t.elements[i] as CtyType, path)));
      return;
    }
    case 'map': {
      if (!isObjectValue(v)) throw new CtyValueError(path, 'map required');
      const keys = Object.keys(v).sort(compareGoStrings);
      w.mapHeader(keys.length);
      for (const k of keys) {
        w.string(k);
        at(path, k, () => writeValue(w, v[k], t.element, path));
      }
      return;
    }
    case 'object': {
      if (!isObjectValue(v)) throw new CtyValueError(path, 'object required');
      for (const k of Object.keys(v)) {
        if (attributeType(t, k) === undefined) throw new CtyValueError([...path, k], 'unsupported attribute');
      }
      const names = sortedKeys(t.attributes); // (integer-like names would come first in Object.keys)
      w.mapHeader(names.length);
      for (const k of names) {
        w.string(k);
        at(path, k, () => writeValue(w, Object.hasOwn(v, k) ? v[k] : null, t.attributes[k] as CtyType, path));
      }
      return;
    }
  }
}

function writeNumber(w: Writer, n: number | bigint, path: (string | number)[]): void {
  if (typeof n === 'number') {
    if (Number.isNaN(n)) throw new CtyValueError(path, 'NaN is not a cty number');
    if (!Number.isFinite(n)) {
      w.float64(n);
      return;
    }
  }
  const i = integerValue(n);
  if (i !== undefined) {
    if (i >= -(2n ** 63n) && i < 2n ** 63n) w.int(i);
    else w.string(i.toString()); // big.Float.Text('f', -1) of an integer
    return;
  }
  w.float64(n as number); // a non-integer double is exactly a float64
}

function writeDynamic(w: Writer, v: CtyValue, path: (string | number)[]): void {
  // cty.NullVal(cty.DynamicPseudoType) and cty.DynamicVal carry no type.
  if (v === null) {
    w.nil();
    return;
  }
  if (v instanceof UnknownValue) {
    w.bytes(wholeUnknown);
    return;
  }
  const typed = v instanceof TypedValue ? v : new TypedValue(impliedType(v), v);
  if (typed.type.kind === 'dynamic') {
    writeDynamic(w, typed.value, path);
    return;
  }
  w.arrayHeader(2);
  w.bin(Buffer.from(typeJsonString(typed.type), 'utf8'));
  writeValue(w, typed.value, typed.type, path);
}

const wholeUnknown = Uint8Array.of(0xd4, 0x00, 0x00);

function writeUnknown(w: Writer, u: UnknownValue, t: CtyType): void {
  const r = u.refinements;
  const body = new Writer();
  let entries = 0;
  if (r.notNull) {
    entries++;
    body.int(BigInt(refinementKey.nullness));
    body.bool(false); // "is null: false"
  }
  if (t.kind === 'number') {
    const bound = (key: number, b: NumberBound | undefined, infinite: number): void => {
      if (b === undefined || b.value === infinite) return;
      entries++;
      body.int(BigInt(key));
      body.arrayHeader(2);
      writeNumber(body, b.value, []);
      body.bool(b.inclusive);
    };
    bound(refinementKey.numberMin, r.numberMin, -Infinity);
    bound(refinementKey.numberMax, r.numberMax, Infinity);
  } else if (t.kind === 'string') {
    if (r.stringPrefix) {
      entries++;
      body.int(BigInt(refinementKey.stringPrefix));
      body.string(truncatePrefix(nfc(r.stringPrefix)));
    }
  } else if (isCollection(t)) {
    if (r.lengthMin !== undefined && r.lengthMin !== 0) {
      entries++;
      body.int(BigInt(refinementKey.lengthMin));
      body.int(BigInt(r.lengthMin));
    }
    if (r.lengthMax !== undefined && Number.isFinite(r.lengthMax)) {
      entries++;
      body.int(BigInt(refinementKey.lengthMax));
      body.int(BigInt(r.lengthMax));
    }
  }
  if (entries === 0) {
    w.bytes(wholeUnknown);
    return;
  }
  const header = new Writer();
  header.mapHeader(entries);
  const payload = Buffer.concat([header.result(), body.result()]);
  w.extHeader(unknownWithRefinementsExt, payload.length);
  w.bytes(payload);
}

const punctuationEndingCluster = new Set([...'-_:;/\\,.(){}[]|?!~ \t@#$%^&*+"\'']);

/**
 * go-cty keeps string prefix refinements under 256 bytes: a longer prefix is cut to 255 bytes and
 * then to a safe known prefix (its last grapheme cluster is dropped, since more text could still
 * combine with it, unless it is a single punctuation character).
 */
function truncatePrefix(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  if (bytes.length <= maxPrefixLength) return prefix;
  let cut = maxPrefixLength - 1;
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--; // whole code points only
  const head = bytes.subarray(0, cut).toString('utf8').normalize('NFC');
  const clusters = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(head)].map((s) => s.segment);
  const last = clusters.at(-1);
  if (last === undefined) return '';
  if ([...last].length === 1 && punctuationEndingCluster.has(last)) return head;
  return clusters.slice(0, -1).join('');
}

// ---------------------------------------------------------------------------------------------
// Reading

class Reader {
  readonly buf: Buffer;
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, path: (string | number)[]): void {
    if (this.pos + n > this.buf.length) throw new CtyValueError(path, 'unexpected end of msgpack data');
  }

  peek(path: (string | number)[]): number {
    this.need(1, path);
    return this.buf[this.pos] as number;
  }

  byte(path: (string | number)[]): number {
    this.need(1, path);
    return this.buf[this.pos++] as number;
  }

  uint(n: 1 | 2 | 4, path: (string | number)[]): number {
    this.need(n, path);
    const v = n === 1 ? this.buf.readUInt8(this.pos) : n === 2 ? this.buf.readUInt16BE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += n;
    return v;
  }

  take(n: number, path: (string | number)[]): Buffer {
    this.need(n, path);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Length of a str or bin at the cursor, or undefined when the next item is neither. */
  bytesLength(path: (string | number)[]): number | undefined {
    const c = this.peek(path);
    if (c >= 0xa0 && c <= 0xbf) {
      this.pos++;
      return c & 0x1f;
    }
    switch (c) {
      case 0xd9:
      case 0xc4:
        this.pos++;
        return this.uint(1, path);
      case 0xda:
      case 0xc5:
        this.pos++;
        return this.uint(2, path);
      case 0xdb:
      case 0xc6:
        this.pos++;
        return this.uint(4, path);
    }
    return undefined;
  }

  /** A str or bin as text (str and bin are interchangeable, as in vmihailenco's decoder). */
  string(path: (string | number)[], what: string): string {
    const n = this.bytesLength(path);
    if (n === undefined) throw new CtyValueError(path, `${what} is required`);
    return decodeUtf8(this.take(n, path), path);
  }

  /** An array header's length; -1 for nil; undefined for something else. */
  arrayLength(path: (string | number)[]): number | undefined {
    const c = this.peek(path);
    if (c >= 0x90 && c <= 0x9f) {
      this.pos++;
      return c & 0x0f;
    }
    if (c === 0xc0) {
      this.pos++;
      return -1;
    }
    if (c === 0xdc || c === 0xdd) {
      this.pos++;
      return this.uint(c === 0xdc ? 2 : 4, path);
    }
    return undefined;
  }

  mapLength(path: (string | number)[]): number | undefined {
    const c = this.peek(path);
    if (c >= 0x80 && c <= 0x8f) {
      this.pos++;
      return c & 0x0f;
    }
    if (c === 0xc0) {
      this.pos++;
      return -1;
    }
    if (c === 0xde || c === 0xdf) {
      this.pos++;
      return this.uint(c === 0xde ? 2 : 4, path);
    }
    return undefined;
  }

  /** An integer of any msgpack int encoding, or undefined (nothing consumed) if not an int. */
  integer(path: (string | number)[]): bigint | undefined {
    const c = this.peek(path);
    if (c <= 0x7f) {
      this.pos++;
      return BigInt(c);
    }
    if (c >= 0xe0) {
      this.pos++;
      return BigInt(c - 0x100);
    }
    const size: Record<number, number> = { 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };
    const n = size[c];
    if (n === undefined) return undefined;
    this.pos++;
    const b = this.take(n, path);
    if (c <= 0xcf) return n === 8 ? b.readBigUInt64BE() : BigInt(b.readUIntBE(0, n));
    return n === 8 ? b.readBigInt64BE() : BigInt(b.readIntBE(0, n));
  }

  /** Skips one complete msgpack item. */
  skip(path: (string | number)[]): void {
    const c = this.byte(path);
    if (c <= 0x7f || c >= 0xe0 || c === 0xc0 || c === 0xc2 || c === 0xc3) return;
    if (c >= 0x80 && c <= 0x8f) return this.skipItems((c & 0x0f) * 2, path);
    if (c >= 0x90 && c <= 0x9f) return this.skipItems(c & 0x0f, path);
    if (c >= 0xa0 && c <= 0xbf) return void this.take(c & 0x1f, path);
    switch (c) {
      case 0xc4: case 0xd9: return void this.take(this.uint(1, path), path);
      case 0xc5: case 0xda: return void this.take(this.uint(2, path), path);
      case 0xc6: case 0xdb: return void this.take(this.uint(4, path), path);
      case 0xc7: return void this.take(this.uint(1, path) + 1, path);
      case 0xc8: return void this.take(this.uint(2, path) + 1, path);
      case 0xc9: return void this.take(this.uint(4, path) + 1, path);
      case 0xca: return void this.take(4, path);
      case 0xcb: return void this.take(8, path);
      case 0xcc: case 0xd0: return void this.take(1, path);
      case 0xcd: case 0xd1: return void this.take(2, path);
      case 0xce: case 0xd2: return void this.take(4, path);
      case 0xcf: case 0xd3: return void this.take(8, path);
      case 0xd4: return void this.take(2, path);
      case 0xd5: return void this.take(3, path);
      case 0xd6: return void this.take(5, path);
      case 0xd7: return void this.take(9, path);
      case 0xd8: return void this.take(17, path);
      case 0xdc: return this.skipItems(this.uint(2, path), path);
      case 0xdd: return this.skipItems(this.uint(4, path), path);
      case 0xde: return this.skipItems(this.uint(2, path) * 2, path);
      case 0xdf: return this.skipItems(this.uint(4, path) * 2, path);
    }
    throw new CtyValueError(path, `invalid msgpack code 0x${c.toString(16)}`);
  }

  private skipItems(n: number, path: (string | number)[]): void {
    for (let i = 0; i < n; i++) this.skip(path);
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(b: Uint8Array, path: (string | number)[]): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw new CtyValueError(path, 'string is not valid UTF-8');
  }
}

function isExt(c: number): boolean {
  return (c >= 0xd4 && c <= 0xd8) || c === 0xc7 || c === 0xc8 || c === 0xc9;
}

/** Decodes msgpack bytes as a value of the given type, as go-cty's msgpack.Unmarshal does. */
export function decodeMsgpack(bytes: Uint8Array, type: CtyType): CtyValue {
  const r = new Reader(bytes);
  const v = readValue(r, type, []);
  if (r.pos !== r.buf.length) throw new CtyValueError([], `${r.buf.length - r.pos} bytes of trailing data after the value`);
  return v;
}

function readValue(r: Reader, t: CtyType, path: (string | number)[]): CtyValue {
  const c = r.peek(path);
  if (isExt(c)) return readUnknown(r, t, path);
  if (t.kind === 'dynamic') return readDynamic(r, path);
  if (c === 0xc0) {
    r.pos++;
    return null;
  }
  switch (t.kind) {
    case 'bool': {
      r.pos++;
      if (c === 0xc2) return false;
      if (c === 0xc3) return true;
      throw new CtyValueError(path, 'bool is required');
    }
    case 'number':
      return readNumber(r, path);
    case 'string':
      return nfc(r.string(path, 'string'));
    case 'list':
    case 'set': {
      const n = r.arrayLength(path);
      if (n === undefined) throw new CtyValueError(path, `a ${t.kind} is required`);
      const out: CtyValue[] = [];
      for (let i = 0; i < n; i++) out.push(at(path, i, () => readValue(r, t.element, path)));
      return out;
    }
    case 'tuple': {
      const n = r.arrayLength(path);
      if (n === undefined) throw new CtyValueError(path, 'a tuple is required');
      if (n !== 0 && n !== t.elements.length) throw new CtyValueError(path, `a tuple of length ${t.elements.length} is required`);
      if (n === 0 && t.elements.length !== 0) throw new CtyValueError(path, `a tuple of length ${t.elements.length} is required`);
      return t.elements.map((et, i) => at(path, i, () => readValue(r, et, path)));
    }
    case 'map': {
      const n = r.mapLength(path);
      if (n === undefined) throw new CtyValueError(path, 'a map is required');
      const entries: [string, CtyValue][] = [];
      for (let i = 0; i < n; i++) {
        const k = r.string(path, 'a string map key');
        entries.push([k, at(path, k, () => readValue(r, t.element, path))]);
      }
      return Object.fromEntries(entries);
    }
    case 'object': {
      const n = r.mapLength(path);
      if (n === undefined) throw new CtyValueError(path, 'an object is required');
      const names = Object.keys(t.attributes);
      if (n !== names.length) throw new CtyValueError(path, `an object with ${names.length} attributes is required (${n} given)`);
      const vals = new Map<string, CtyValue>();
      for (let i = 0; i < n; i++) {
        const k = r.string(path, 'an attribute name');
        const attr = attributeType(t, k);
        if (attr === undefined) throw new CtyValueError([...path, k], 'unsupported attribute');
        vals.set(k, at(path, k, () => readValue(r, attr, path)));
      }
      // Attributes in the type's (sorted) order; a repeated name leaves another one missing.
      return Object.fromEntries(names.map((k) => [k, vals.has(k) ? (vals.get(k) as CtyValue) : null]));
    }
  }
}

function readNumber(r: Reader, path: (string | number)[]): number | bigint {
  const i = r.integer(path);
  if (i !== undefined) return normalizeInteger(i);
  const c = r.peek(path);
  if (c === 0xca || c === 0xcb) {
    r.pos++;
    const f = c === 0xca ? r.take(4, path).readFloatBE() : r.take(8, path).readDoubleBE();
    if (Number.isNaN(f)) throw new CtyValueError(path, 'NaN is not a cty number');
    if (Number.isInteger(f) && !Number.isSafeInteger(f)) return BigInt(f);
    return Object.is(f, -0) ? 0 : f;
  }
  const s = r.string(path, 'number');
  try {
    return parseNumber(s);
  } catch {
    throw new CtyValueError(path, 'number is required');
  }
}

function readDynamic(r: Reader, path: (string | number)[]): CtyValue {
  const n = r.arrayLength(path);
  if (n === -1) return null;
  if (n !== 2) throw new CtyValueError(path, 'dynamic value array must have exactly two elements');
  const len = r.bytesLength(path);
  if (len === undefined) throw new CtyValueError(path, 'dynamic value type must be bytes');
  let type: CtyType;
  try {
    type = parseType(r.take(len, path));
  } catch (e) {
    throw new CtyValueError(path, (e as Error).message);
  }
  const value = readValue(r, type, path);
  return type.kind === 'dynamic' ? value : new TypedValue(type, value);
}

function readUnknown(r: Reader, t: CtyType, path: (string | number)[]): CtyValue {
  const c = r.byte(path);
  const fixed: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };
  const len = fixed[c] ?? r.uint(c === 0xc7 ? 1 : c === 0xc8 ? 2 : 4, path);
  const extType = r.byte(path);
  if (len <= 1 || extType !== unknownWithRefinementsExt) {
    // Any extension is an unknown value; only type 12 carries refinements (the plugin protocol's
    // object-wire-format.md: "treat any MessagePack extension code as representing an unknown
    // value, but ignore the payload unless the extension code is 12"). go-cty itself refuses
    // payloads longer than one byte of other types; being lenient here costs nothing.
    r.take(len, path);
    return Unknown;
  }
  if (len > maxRefinementLength) throw new CtyValueError(path, 'oversize unknown value refinement');
  const body = new Reader(r.take(len, path));
  const entries = body.mapLength(path);
  if (entries === undefined || entries < 0) throw new CtyValueError(path, 'failed to decode msgpack extension body: not a map');
  if (t.kind === 'dynamic') return Unknown; // refinements of a dynamic value are ignored
  const refinements: { -readonly [K in keyof Refinements]: Refinements[K] } & { isNull?: boolean } = {};
  const fail = (msg: string): never => {
    throw new CtyValueError(path, `failed to decode msgpack extension body: ${msg}`);
  };
  for (let i = 0; i < entries; i++) {
    const key = body.integer(path);
    if (key === undefined) fail('non-integer key in map');
    switch (Number(key)) {
      case refinementKey.nullness: {
        const b = body.byte(path);
        if (b !== 0xc2 && b !== 0xc3) fail('null refinement is not boolean');
        if (b === 0xc3) refinements.isNull = true;
        else refinements.notNull = true;
        break;
      }
      case refinementKey.stringPrefix:
        if (t.kind !== 'string') fail('string prefix refinement for non-string type');
        refinements.stringPrefix = body.string(path, 'string prefix refinement');
        break;
      case refinementKey.lengthMin:
      case refinementKey.lengthMax: {
        if (!isCollection(t)) fail('length bound refinement for non-collection type');
        const n = body.integer(path);
        if (n === undefined) fail('length bound refinement must be integer');
        if (Number(key) === refinementKey.lengthMin) refinements.lengthMin = Number(n);
        else refinements.lengthMax = Number(n);
        break;
      }
      case refinementKey.numberMin:
      case refinementKey.numberMax: {
        if (t.kind !== 'number') fail('numeric bound refinement for non-number type');
        if (body.arrayLength(path) !== 2) fail('number bound refinement must be [number, bool] array');
        let value: number | bigint;
        try {
          value = readNumber(body, path);
        } catch {
          return fail('number bound refinement must be [number, bool] array');
        }
        const inc = body.byte(path);
        if (inc !== 0xc2 && inc !== 0xc3) fail('number bound refinement must be [number, bool] array');
        const bound = { value, inclusive: inc === 0xc3 };
        if (Number(key) === refinementKey.numberMin) refinements.numberMin = bound;
        else refinements.numberMax = bound;
        break;
      }
      default:
        body.skip(path); // refinements added by later versions
    }
  }
  // Bytes after the map are ignored (reserved for later use, as in go-cty).
  return normalizeUnknown(t, refinements);
}
