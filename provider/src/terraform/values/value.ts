// cty values as plain JavaScript data. A value is always read or written against a cty type
// (the schema's), so the data need not carry its type:
//
//   null                      a null of any type
//   Unknown / UnknownValue    an unknown value (optionally refined: not null, string prefix,
//                             number bounds, collection length bounds)
//   string                    string (NFC-normalized on the wire, as cty.StringVal does)
//   number | bigint           number; bigint only for integers outside the safe range
//   boolean                   bool
//   CtyValue[]                list, set (elements in the array's order) and tuple
//   { [name]: CtyValue }      map and object (objects carry every attribute; null when unset)
//   TypedValue                a value in a dynamic-typed slot, with its concrete type
import { cty, isCollection, type CtyType } from './cty-type.ts';

/** Bound of an unknown number: the value and whether it is itself allowed. */
export interface NumberBound {
  readonly value: number | bigint;
  readonly inclusive: boolean;
}

/** What is known about an unknown value (cty refinements, wire extension type 12). */
export interface Refinements {
  /** The value will not be null. */
  readonly notNull?: boolean;
  /** A string: it will start with this prefix. */
  readonly stringPrefix?: string;
  /** A number: lower bound. */
  readonly numberMin?: NumberBound;
  /** A number: upper bound. */
  readonly numberMax?: NumberBound;
  /** A list, set or map: at least this many elements. */
  readonly lengthMin?: number;
  /** A list, set or map: at most this many elements. */
  readonly lengthMax?: number;
}

/** An unknown value. Use the `Unknown` singleton unless there are refinements. */
export class UnknownValue {
  readonly refinements: Refinements;

  constructor(refinements: Refinements = {}) {
    const r: { -readonly [K in keyof Refinements]: Refinements[K] } = {};
    if (refinements.notNull) r.notNull = true;
    if (refinements.stringPrefix !== undefined && refinements.stringPrefix !== '') r.stringPrefix = refinements.stringPrefix;
    if (refinements.numberMin !== undefined) r.numberMin = Object.freeze({ ...refinements.numberMin });
    if (refinements.numberMax !== undefined) r.numberMax = Object.freeze({ ...refinements.numberMax });
    if (refinements.lengthMin !== undefined && refinements.lengthMin > 0) r.lengthMin = refinements.lengthMin;
    if (refinements.lengthMax !== undefined) r.lengthMax = refinements.lengthMax;
    this.refinements = Object.freeze(r);
    Object.freeze(this);
  }

  get refined(): boolean {
    return Object.keys(this.refinements).length > 0;
  }
}

/** The wholly unknown value (cty.UnknownVal(T) without refinements, or cty.DynamicVal). */
export const Unknown: UnknownValue = new UnknownValue();

/** An unknown value with refinements (the `Unknown` singleton when there are none). */
export function unknown(refinements: Refinements = {}): UnknownValue {
  const u = new UnknownValue(refinements);
  return u.refined ? u : Unknown;
}

/** A value with its own type, for slots typed `dynamic` (an attribute of type "dynamic"). */
export class TypedValue {
  readonly type: CtyType;
  readonly value: CtyValue;

  constructor(type: CtyType, value: CtyValue) {
    this.type = type;
    this.value = value;
    Object.freeze(this);
  }
}

export type CtyValue =
  | null
  | string
  | number
  | bigint
  | boolean
  | UnknownValue
  | TypedValue
  | readonly CtyValue[]
  | { readonly [key: string]: CtyValue };

export type CtyObjectValue = { readonly [key: string]: CtyValue };

export function isUnknown(v: unknown): v is UnknownValue {
  return v instanceof UnknownValue;
}

/** A map or object value (a plain object that is not one of the marker classes). */
export function isObjectValue(v: unknown): v is CtyObjectValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof UnknownValue) && !(v instanceof TypedValue);
}

/** True when neither the value nor anything inside it is unknown (cty's IsWhollyKnown). */
export function isWhollyKnown(v: CtyValue): boolean {
  if (v instanceof UnknownValue) return false;
  if (v instanceof TypedValue) return isWhollyKnown(v.value);
  if (Array.isArray(v)) return v.every(isWhollyKnown);
  if (isObjectValue(v)) return Object.values(v).every(isWhollyKnown);
  return true;
}

/** The type cty would infer for plain data (cty's json ImpliedType): tuples for arrays, objects for objects. */
export function impliedType(v: CtyValue): CtyType {
  if (v === null || v instanceof UnknownValue) return cty.dynamic;
  if (v instanceof TypedValue) return v.type;
  switch (typeof v) {
    case 'string':
      return cty.string;
    case 'number':
    case 'bigint':
      return cty.number;
    case 'boolean':
      return cty.bool;
  }
  if (Array.isArray(v)) return cty.tuple(v.map(impliedType));
  return cty.object(Object.fromEntries(Object.entries(v).map(([k, e]) => [k, impliedType(e)])));
}

/**
 * Applies cty's simplifications of refined unknowns (RefinementBuilder.NewValue): a value
 * refined as null is null; a not-null number whose inclusive bounds are equal is that number; a
 * not-null collection whose length bounds are equal becomes known (empty, or a list of unknown
 * elements, or a one-element set). Refinements that cannot apply to the type are dropped.
 */
export function normalizeUnknown(type: CtyType, refinements: Refinements & { readonly isNull?: boolean }): CtyValue {
  if (refinements.isNull) return null;
  if (type.kind === 'dynamic') return Unknown;
  const r: { -readonly [K in keyof Refinements]: Refinements[K] } = {};
  if (refinements.notNull) r.notNull = true;
  if (type.kind === 'string' && refinements.stringPrefix) r.stringPrefix = refinements.stringPrefix;
  if (type.kind === 'number') {
    if (refinements.numberMin) r.numberMin = refinements.numberMin;
    if (refinements.numberMax) r.numberMax = refinements.numberMax;
  }
  if (isCollection(type)) {
    if (refinements.lengthMin !== undefined) r.lengthMin = refinements.lengthMin;
    if (refinements.lengthMax !== undefined) r.lengthMax = refinements.lengthMax;
  }
  if (r.notNull) {
    const { numberMin: lo, numberMax: hi } = r;
    if (lo && hi && lo.inclusive && hi.inclusive && numbersEqual(lo.value, hi.value)) return lo.value;
    if (isCollection(type) && r.lengthMax !== undefined && (r.lengthMin ?? 0) === r.lengthMax) {
      const n = r.lengthMax;
      if (n === 0) return type.kind === 'map' ? {} : [];
      if (type.kind === 'list') return Array.from({ length: n }, () => Unknown);
      if (type.kind === 'set' && n === 1) return [Unknown];
    }
  }
  return unknown(r);
}

function numbersEqual(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  // Mixed representations: compare exactly when the number is an integer.
  const n = typeof a === 'number' ? a : (b as number);
  const big = typeof a === 'bigint' ? a : (b as bigint);
  return Number.isInteger(n) && BigInt(n) === big;
}

/** Own attribute of an object value (undefined when absent), safe for names like "__proto__". */
export function getAttr(o: CtyObjectValue, name: string): CtyValue | undefined {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

export class CtyValueError extends Error {
  /** Where in the value, e.g. ["tags", "env"] or ["filters", 0]. */
  readonly path: readonly (string | number)[];

  constructor(path: readonly (string | number)[], message: string) {
    super(path.length > 0 ? `${formatPath(path)}: ${message}` : message);
    this.name = 'CtyValueError';
    this.path = Object.freeze([...path]);
  }
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(p) ? (i === 0 ? p : `.${p}`) : `[${JSON.stringify(p)}]`)).join('');
}
