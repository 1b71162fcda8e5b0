// The cty type system (github.com/zclconf/go-cty), as far as the Terraform plugin protocol needs
// it: primitive types, the dynamic pseudo-type, collections, objects (with optional attributes)
// and tuples, with the JSON encoding cty uses for types (cty.Type.MarshalJSON / UnmarshalJSON):
//
//   "string" | "number" | "bool" | "dynamic"
//   ["list", T] | ["set", T] | ["map", T]
//   ["object", {"attr": T, ...}] | ["object", {"attr": T, ...}, ["optional", "attr", ...]]
//   ["tuple", [T, ...]]
//
// Attribute names are written in sorted (UTF-8 byte) order and optional attribute names too, as
// Go's json.Marshal of a map and cty's sort.Strings produce them.
import { compareGoStrings, goJsonString, sortedKeys } from './go-json.ts';

export type PrimitiveKind = 'string' | 'number' | 'bool';

export type CtyType =
  | { readonly kind: PrimitiveKind }
  | { readonly kind: 'dynamic' }
  | { readonly kind: 'list' | 'set' | 'map'; readonly element: CtyType }
  | {
      readonly kind: 'object';
      readonly attributes: Readonly<Record<string, CtyType>>;
      /** Names of optional attributes (only meaningful for type constraints), sorted. */
      readonly optional: readonly string[];
    }
  | { readonly kind: 'tuple'; readonly elements: readonly CtyType[] };

export type CtyObjectType = Extract<CtyType, { kind: 'object' }>;
export type CtyCollectionType = Extract<CtyType, { kind: 'list' | 'set' | 'map' }>;
export type CtyTupleType = Extract<CtyType, { kind: 'tuple' }>;

/** The JSON form of a type, as parsed JSON data. */
export type CtyTypeJson =
  | PrimitiveKind
  | 'dynamic'
  | readonly ['list' | 'set' | 'map', CtyTypeJson]
  | readonly ['object', { readonly [name: string]: CtyTypeJson }]
  | readonly ['object', { readonly [name: string]: CtyTypeJson }, readonly string[]]
  | readonly ['tuple', readonly CtyTypeJson[]];

const stringType: CtyType = Object.freeze({ kind: 'string' });
const numberType: CtyType = Object.freeze({ kind: 'number' });
const boolType: CtyType = Object.freeze({ kind: 'bool' });
const dynamicType: CtyType = Object.freeze({ kind: 'dynamic' });

function object(attributes: Readonly<Record<string, CtyType>>, optional: readonly string[] = []): CtyObjectType {
  // Own properties only, in a fresh object (so a "__proto__" or "constructor" attribute is data).
  const attrs = Object.fromEntries(sortedKeys(attributes).map((k) => [k, attributes[k] as CtyType]));
  const opt = [...new Set(optional)].sort(compareGoStrings);
  for (const name of opt) {
    if (!Object.hasOwn(attrs, name)) throw new TypeError(`optional attribute ${JSON.stringify(name)} is not an attribute of the object type`);
  }
  return Object.freeze({ kind: 'object', attributes: Object.freeze(attrs), optional: Object.freeze(opt) });
}

/** Type constructors. */
export const cty = {
  string: stringType,
  number: numberType,
  bool: boolType,
  dynamic: dynamicType,
  list: (element: CtyType): CtyType => Object.freeze({ kind: 'list', element }),
  set: (element: CtyType): CtyType => Object.freeze({ kind: 'set', element }),
  map: (element: CtyType): CtyType => Object.freeze({ kind: 'map', element }),
  object,
  tuple: (elements: readonly CtyType[]): CtyType => Object.freeze({ kind: 'tuple', elements: Object.freeze([...elements]) }),
  emptyObject: object({}),
} as const;

/** The type of an object's attribute, or undefined (own attributes only). */
export function attributeType(t: CtyObjectType, name: string): CtyType | undefined {
  return Object.hasOwn(t.attributes, name) ? t.attributes[name] : undefined;
}

export function isPrimitive(t: CtyType): t is { readonly kind: PrimitiveKind } {
  return t.kind === 'string' || t.kind === 'number' || t.kind === 'bool';
}

export function isCollection(t: CtyType): t is CtyCollectionType {
  return t.kind === 'list' || t.kind === 'set' || t.kind === 'map';
}

/** Structural equality (optional attribute sets included, as cty.Type.Equals). */
export function typeEquals(a: CtyType, b: CtyType): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return a.kind === b.kind;
    case 'list':
    case 'set':
    case 'map':
      return b.kind === a.kind && typeEquals(a.element, b.element);
    case 'tuple':
      return b.kind === 'tuple' && a.elements.length === b.elements.length && a.elements.every((e, i) => typeEquals(e, b.elements[i] as CtyType));
    case 'object': {
      if (b.kind !== 'object') return false;
      const ak = Object.keys(a.attributes);
      if (ak.length !== Object.keys(b.attributes).length) return false;
      if (a.optional.length !== b.optional.length || a.optional.some((n, i) => b.optional[i] !== n)) return false;
      return ak.every((k) => {
        const bt = attributeType(b, k);
        return bt !== undefined && typeEquals(a.attributes[k] as CtyType, bt);
      });
    }
  }
}

/** True if the type is or contains the dynamic pseudo-type. */
export function hasDynamicTypes(t: CtyType): boolean {
  switch (t.kind) {
    case 'dynamic':
      return true;
    case 'list':
    case 'set':
    case 'map':
      return hasDynamicTypes(t.element);
    case 'tuple':
      return t.elements.some(hasDynamicTypes);
    case 'object':
      return Object.values(t.attributes).some(hasDynamicTypes);
    default:
      return false;
  }
}

/** The type with every optional-attribute marker removed, at all depths (cty's WithoutOptionalAttributesDeep). */
export function withoutOptionalAttributesDeep(t: CtyType): CtyType {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return cty[t.kind](withoutOptionalAttributesDeep(t.element));
    case 'tuple':
      return cty.tuple(t.elements.map(withoutOptionalAttributesDeep));
    case 'object':
      return cty.object(Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, withoutOptionalAttributesDeep(v)])));
    default:
      return t;
  }
}

/** A short human name, as cty's FriendlyName. */
export function friendlyName(t: CtyType): string {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind} of ${friendlyName(t.element)}`;
    case 'object':
      return 'object';
    case 'tuple':
      return 'tuple';
    default:
      return t.kind;
  }
}

/** The type's JSON form as data. */
export function typeToJson(t: CtyType): CtyTypeJson {
  switch (t.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return t.kind;
    case 'list':
    case 'set':
    case 'map':
      return [t.kind, typeToJson(t.element)];
    case 'tuple':
      return ['tuple', t.elements.map(typeToJson)];
    case 'object': {
      const attrs = Object.fromEntries(sortedKeys(t.attributes).map((k) => [k, typeToJson(t.attributes[k] as CtyType)]));
      return t.optional.length > 0 ? ['object', attrs, [...t.optional]] : ['object', attrs];
    }
  }
}

/** The type's JSON text, exactly as cty.Type.MarshalJSON writes it. */
export function typeJsonString(t: CtyType): string {
  switch (t.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return `"${t.kind}"`;
    case 'list':
    case 'set':
    case 'map':
      return `["${t.kind}",${typeJsonString(t.element)}]`;
    case 'tuple':
      return `["tuple",[${t.elements.map(typeJsonString).join(',')}]]`;
    case 'object': {
      const attrs = sortedKeys(t.attributes).map((k) => `${goJsonString(k)}:${typeJsonString(t.attributes[k] as CtyType)}`);
      const opt = t.optional.length > 0 ? `,[${t.optional.map(goJsonString).join(',')}]` : '';
      return `["object",{${attrs.join(',')}}${opt}]`;
    }
  }
}

/** The type's JSON as UTF-8 bytes (the form of tfplugin Schema.Attribute.type). */
export function typeJsonBytes(t: CtyType): Buffer {
  return Buffer.from(typeJsonString(t), 'utf8');
}

export class CtyTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtyTypeError';
  }
}

/** Reads a type from its JSON form given as parsed data. */
export function typeFromJson(json: unknown): CtyType {
  if (typeof json === 'string') {
    switch (json) {
      case 'string':
        return cty.string;
      case 'number':
        return cty.number;
      case 'bool':
        return cty.bool;
      case 'dynamic':
        return cty.dynamic;
      default:
        throw new CtyTypeError(`invalid primitive type name ${JSON.stringify(json)}`);
    }
  }
  if (!Array.isArray(json)) throw new CtyTypeError('invalid type description');
  const [kind, arg, extra] = json as unknown[];
  if (typeof kind !== 'string') throw new CtyTypeError('invalid complex type kind name');
  const maxLength = kind === 'object' ? 3 : 2;
  if (json.length < 2 || json.length > maxLength) throw new CtyTypeError(`unexpected extra data in type description`);
  switch (kind) {
    case 'list':
    case 'set':
    case 'map':
      return cty[kind](typeFromJson(arg));
    case 'tuple':
      if (!Array.isArray(arg)) throw new CtyTypeError('tuple element types must be an array');
      return cty.tuple(arg.map(typeFromJson));
    case 'object': {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) throw new CtyTypeError('object attribute types must be a JSON object');
      const attrs: Record<string, CtyType> = {};
      for (const [k, v] of Object.entries(arg)) Object.defineProperty(attrs, k, { value: typeFromJson(v), enumerable: true, writable: true, configurable: true });
      let optional: string[] = [];
      if (json.length === 3) {
        if (!Array.isArray(extra) || !extra.every((n) => typeof n === 'string')) throw new CtyTypeError('optional attribute names must be an array of strings');
        optional = extra as string[];
      }
      return cty.object(attrs, optional);
    }
    default:
      throw new CtyTypeError(`invalid complex type kind name ${JSON.stringify(kind)}`);
  }
}

/** Reads a type from its JSON text or UTF-8 bytes. */
export function parseType(text: string | Uint8Array): CtyType {
  const s = typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true }).decode(text);
  let data: unknown;
  try {
    data = JSON.parse(s);
  } catch (e) {
    throw new CtyTypeError(`invalid type JSON: ${(e as Error).message}`);
  }
  return typeFromJson(data);
}
