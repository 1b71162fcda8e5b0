// cty values in JSON, as go-cty's cty/json package reads and writes them: the DynamicValue.json
// form of the plugin protocol, and the form of raw resource state (UpgradeResourceState's
// RawState.json). Reading is type-directed and as lenient as cty's:
//
//   null                    null of any type (dynamic included)
//   string                  a JSON string; a number (its literal text); a bool ("true"/"false")
//   number                  a JSON number (read exactly: big integers become bigints) or a string
//                           holding a decimal
//   bool                    true/false, or the strings "true"/"1"/"false"/"0"
//   list, set, tuple        an array (a tuple's length must match)
//   map                     an object
//   object                  an object; unknown attributes are an error, missing ones are null
//   dynamic                 {"value": <value>, "type": <type JSON>}
//
// JSON has no unknown values: writing one is an error.
import { attributeType, friendlyName, typeEquals, typeFromJson, typeJsonString, type CtyType } from './cty-type.ts';
import { compareGoStrings, goJsonString, sortedKeys } from './go-json.ts';
import { formatNumber, parseNumber } from './number.ts';
import { CtyValueError, TypedValue, UnknownValue, impliedType, isObjectValue, type CtyValue } from './value.ts';

/** A JSON number with its source text (so that big and precise numbers are read exactly). */
class JsonNumber {
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
}

type Json = null | boolean | string | JsonNumber | Json[] | { [key: string]: Json };

function parseJsonExact(text: string): Json {
  // Node 24 passes the source text of primitives to the reviver (JSON.parse source text access).
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' ? new JsonNumber(context?.source ?? String(value)) : value,
  ) as Json;
}

function isJsonObject(j: Json): j is { [key: string]: Json } {
  return typeof j === 'object' && j !== null && !Array.isArray(j) && !(j instanceof JsonNumber);
}

const nfc = (s: string): string => (/^[\x00-\x7f]*$/.test(s) ? s : s.normalize('NFC'));

export interface DecodeJsonOptions {
  /**
   * Drop object attributes the type does not have instead of failing. For raw state written by
   * an older provider version (UpgradeResourceState), which follows that version's schema.
   */
  readonly ignoreUndefinedAttributes?: boolean;
}

/** Decodes JSON text (or its UTF-8 bytes) as a value of the given type, as go-cty's json.Unmarshal does. */
export function decodeJson(input: string | Uint8Array, type: CtyType, options: DecodeJsonOptions = {}): CtyValue {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  let json: Json;
  try {
    json = parseJsonExact(text);
  } catch (e) {
    throw new CtyValueError([], `invalid JSON: ${(e as Error).message}`);
  }
  return fromJson(json, type, [], options);
}

function fromJson(j: Json, t: CtyType, path: (string | number)[], o: DecodeJsonOptions): CtyValue {
  if (j === null) return null;
  switch (t.kind) {
    case 'dynamic': {
      if (!isJsonObject(j)) throw new CtyValueError(path, 'missing expected {');
      for (const k of Object.keys(j)) {
        if (k !== 'type' && k !== 'value') throw new CtyValueError(path, `invalid key ${JSON.stringify(k)} in dynamically-typed value`);
      }
      if (!Object.hasOwn(j, 'type')) throw new CtyValueError(path, 'missing type in dynamically-typed value');
      if (!Object.hasOwn(j, 'value')) throw new CtyValueError(path, 'missing value in dynamically-typed value');
      let vt: CtyType;
      try {
        vt = typeFromJson(j.type);
      } catch (e) {
        throw new CtyValueError(path, `failed to decode type for dynamic value: ${(e as Error).message}`);
      }
      const v = fromJson(j.value as Json, vt, path, o);
      return vt.kind === 'dynamic' ? v : new TypedValue(vt, v);
    }
    case 'string':
      if (typeof j === 'string') return nfc(j);
      if (j instanceof JsonNumber) return j.source;
      if (typeof j === 'boolean') return j ? 'true' : 'false';
      throw new CtyValueError(path, 'string is required');
    case 'number': {
      const text = j instanceof JsonNumber ? j.source : typeof j === 'string' ? j : undefined;
      if (text === undefined) throw new CtyValueError(path, 'number is required');
      try {
        return parseNumber(text);
      } catch {
        throw new CtyValueError(path, `a number is required`);
      }
    }
    case 'bool':
      if (typeof j === 'boolean') return j;
      if (typeof j === 'string') {
        if (j === 'true' || j === '1') return true;
        if (j === 'false' || j === '0') return false;
        throw new CtyValueError(path, 'a bool is required');
      }
      throw new CtyValueError(path, 'bool is required');
    case 'list':
    case 'set':
      if (!Array.isArray(j)) throw new CtyValueError(path, 'missing expected [');
      return j.map((e, i) => fromJson(e, t.element, [...path, i], o));
    case 'tuple':
      if (!Array.isArray(j)) throw new CtyValueError(path, 'missing expected [');
      if (j.length > t.elements.length) throw new CtyValueError(path, `too many tuple elements (need ${t.elements.length})`);
      if (j.length < t.elements.length) throw new CtyValueError(path, `not enough tuple elements (need ${t.elements.length})`);
      return j.map((e, i) => fromJson(e, t.elements[i] as CtyType, [...path, i], o));
    case 'map':
      if (!isJsonObject(j)) throw new CtyValueError(path, 'missing expected {');
      return Object.fromEntries(Object.entries(j).map(([k, e]) => [k, fromJson(e, t.element, [...path, k], o)]));
    case 'object': {
      if (!isJsonObject(j)) throw new CtyValueError(path, 'missing expected {');
      if (!o.ignoreUndefinedAttributes) {
        for (const k of Object.keys(j)) {
          if (attributeType(t, k) === undefined) throw new CtyValueError(path, `unsupported attribute ${JSON.stringify(k)}`);
        }
      }
      return Object.fromEntries(
        Object.keys(t.attributes).map((k) => [k, Object.hasOwn(j, k) ? fromJson(j[k] as Json, t.attributes[k] as CtyType, [...path, k], o) : null]),
      );
    }
  }
}

/** Encodes a wholly known value of the given type as JSON text, as go-cty's json.Marshal does. */
export function encodeJson(value: CtyValue, type: CtyType): string {
  return toJson(value, type, []);
}

function toJson(v: CtyValue | undefined, t: CtyType, path: (string | number)[]): string {
  if (v === undefined) v = null;
  if (v instanceof UnknownValue) throw new CtyValueError(path, 'value is not known');
  if (t.kind === 'dynamic') {
    if (v === null) return 'null';
    const typed = v instanceof TypedValue ? v : new TypedValue(impliedType(v), v);
    if (typed.type.kind === 'dynamic') return toJson(typed.value, typed.type, path);
    return `{"value":${toJson(typed.value, typed.type, path)},"type":${typeJsonString(typed.type)}}`;
  }
  if (v instanceof TypedValue) {
    if (!typeEquals(v.type, t)) throw new CtyValueError(path, `a value of type ${friendlyName(v.type)} given where ${friendlyName(t)} is required`);
    return toJson(v.value, t, path);
  }
  if (v === null) return 'null';
  switch (t.kind) {
    case 'string':
      if (typeof v !== 'string') throw new CtyValueError(path, 'string required');
      return goJsonString(nfc(v));
    case 'number':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new CtyValueError(path, 'number required');
      if (typeof v === 'number' && !Number.isFinite(v)) throw new CtyValueError(path, Number.isNaN(v) ? 'NaN is not a cty number' : 'cannot serialize infinity as JSON');
      return formatNumber(v);
    case 'bool':
      if (typeof v !== 'boolean') throw new CtyValueError(path, 'bool required');
      return v ? 'true' : 'false';
    case 'list':
    case 'set':
      if (!Array.isArray(v)) throw new CtyValueError(path, `${t.kind} required`);
      return '[' + (v as readonly CtyValue[]).map((e, i) => toJson(e, t.element, [...path, i])).join(',') + ']';
    case 'tuple': {
      if (!Array.isArray(v)) throw new CtyValueError(path, 'tuple required');
      const items = v as readonly CtyValue[];
      if (items.length !== t.elements.length) throw new CtyValueError(path, `a tuple of length ${t.elements.length} is required`);
      return '[' + items.map((e, i) => toJson(e, t.elements[i] as CtyType, [...path, i])).join(',') + ']';
    }
    case 'map': {
      if (!isObjectValue(v)) throw new CtyValueError(path, 'map required');
      const keys = Object.keys(v).sort(compareGoStrings);
      return '{' + keys.map((k) => `${goJsonString(k)}:${toJson(v[k], t.element, [...path, k])}`).join(',') + '}';
    }
    case 'object': {
      if (!isObjectValue(v)) throw new CtyValueError(path, 'object required');
      for (const k of Object.keys(v)) {
        if (attributeType(t, k) === undefined) throw new CtyValueError([...path, k], 'unsupported attribute');
      }
      const names = sortedKeys(t.attributes); // (integer-like names would come first in Object.keys)
      return '{' + names.map((k) => `${goJsonString(k)}:${toJson(Object.hasOwn(v, k) ? v[k] : null, t.attributes[k] as CtyType, [...path, k])}`).join(',') + '}';
    }
  }
}
