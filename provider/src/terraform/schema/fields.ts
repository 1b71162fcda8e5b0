// From the model's JSON Schemas (TypeBox) to Terraform attributes: the field tree that every
// projection shares (tfplugin6 attributes, the cty type, name mapping, value conversion).
//
// Schema mapping (JSON Schema keywords, as TypeBox emits them):
//   string, format/pattern/length ignored        string
//   number / integer                             number (integer kept for validation)
//   boolean                                      bool
//   const / enum / union of literals             the literals' type, enum kept for validation
//   union of a string and string literals        string (no enum)
//   union with null                              the other member (null is always allowed)
//   array                                        list; set when uniqueItems (order is not kept by
//                                                the server, e.g. appliedFor is stored sorted)
//   object with properties                       object (nested attributes)
//   record / patternProperties / additionalProperties schema   map
//   {} (any / unknown)                           dynamic
// Nested attributes (tfplugin6 nested_type) are used for an object (SINGLE) and for a list, set
// or map of objects (LIST, SET, MAP); deeper object nesting falls back to a plain cty type.
import type { TSchema } from '@sinclair/typebox';
import { fieldMeta, type FieldMeta } from '@berth/registry-server/models';
import { cty, typeJsonBytes, type CtyType } from '../values/cty-type.ts';
import { NameError, reservedAttributeNames, toTerraformName } from './names.ts';
import type { ObjectNesting, TfAttribute, TfObject } from './tfplugin-schema.ts';

/** Field facts (forceNew, sensitive, serverDefault) from the model's x-berth keyword. */
export const metaOf: (schema: TSchema) => FieldMeta = fieldMeta;

export type Shape =
  | { readonly kind: 'string'; readonly enum?: readonly string[] }
  | { readonly kind: 'number'; readonly integer: boolean; readonly enum?: readonly number[] }
  | { readonly kind: 'bool' }
  | { readonly kind: 'dynamic' }
  | { readonly kind: 'list' | 'set' | 'map'; readonly element: Shape }
  | { readonly kind: 'object'; readonly fields: readonly Field[] };

/** Where a top-level field comes from. Nested fields take their parent's role. */
export type Role = 'identity' | 'input' | 'output' | 'id';

export interface Field {
  /** Terraform attribute name (snake_case). */
  readonly name: string;
  /** Model field name (camelCase); for `id`, "id". */
  readonly modelName: string;
  readonly role: Role;
  readonly shape: Shape;
  /** The attribute's cty type (no optional-attribute markers, as Terraform's ImpliedType). */
  readonly type: CtyType;
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
  readonly sensitive: boolean;
  /** Changing it replaces the resource (Terraform RequiresReplace). */
  readonly forceNew: boolean;
  /** The server fills it in when omitted (optional + computed). */
  readonly serverDefault: boolean;
  /** The server accepts it and never returns it: the state keeps the value last applied. */
  readonly writeOnly: boolean;
  readonly description: string;
  /** The model's schema for the field, for validation; absent for `id`. */
  readonly schema?: TSchema;
}

/** How the fields of an object are projected. */
export type Mode =
  /** Inputs: required unless optional in the model; serverDefault makes optional + computed. */
  | 'input'
  /** Outputs and data source results: computed only. */
  | 'computed';

export class SchemaProjectionError extends Error {
  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'SchemaProjectionError';
  }
}

type JsonSchema = Readonly<Record<string, unknown>>;

function asSchema(v: unknown, where: string): JsonSchema {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaProjectionError(where, 'not a schema');
  return v as JsonSchema;
}

/**
 * The fields of an object schema. `role` is recorded on each field; `identity` names fields that
 * get role 'identity' (required whatever the mode).
 */
export function fieldsOf(objectSchema: TSchema | JsonSchema, mode: Mode, role: Role, where = '', identity: ReadonlySet<string> = new Set()): Field[] {
  const s = objectSchema as JsonSchema;
  const props = s.properties;
  if (typeof props !== 'object' || props === null) throw new SchemaProjectionError(where, 'object schema without properties');
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const fields: Field[] = [];
  const seen = new Set<string>();
  for (const [key, raw] of Object.entries(props)) {
    const path = where ? `${where}.${key}` : key;
    const schema = asSchema(raw, path);
    let name: string;
    try {
      name = toTerraformName(key);
    } catch (e) {
      throw new SchemaProjectionError(path, (e as NameError).message);
    }
    if (seen.has(name)) throw new SchemaProjectionError(path, `two fields map to the attribute name ${name}`);
    seen.add(name);
    const meta = metaOf(schema as TSchema);
    const isIdentity = identity.has(key);
    const fieldRole: Role = isIdentity ? 'identity' : role;
    const shape = shapeOf(schema, isIdentity ? 'input' : mode, role, path);
    const serverDefault = mode === 'input' && !isIdentity && meta.serverDefault === true;
    const flags =
      isIdentity ? { required: true, optional: false, computed: false }
      : mode === 'computed' ? { required: false, optional: false, computed: true }
      : serverDefault ? { required: false, optional: true, computed: true }
      : required.has(key) ? { required: true, optional: false, computed: false }
      : { required: false, optional: true, computed: false };
    fields.push({
      name,
      modelName: key,
      role: fieldRole,
      shape,
      type: typeOfShape(shape),
      ...flags,
      sensitive: meta.sensitive === true,
      forceNew: meta.forceNew === true,
      serverDefault,
      writeOnly: meta.writeOnly === true,
      description: describe(typeof schema.description === 'string' ? schema.description : '', mode === 'input' ? meta : {}),
      schema: schema as TSchema,
    });
  }
  return fields.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Write-only values cannot be read back, which users need to know: the state keeps what they
 * applied, and an imported resource has none until the next apply sets it again. (Only for
 * inputs: a data source's computed copy is simply never filled in.)
 */
export const writeOnlyNote = 'Write-only: the registry never returns it, so the state keeps the value last applied; an import cannot recover it (the first plan after an import sets it again).';

function describe(description: string, meta: FieldMeta): string {
  if (meta.writeOnly !== true) return description;
  return description === '' ? writeOnlyNote : `${description}${/[.!?]$/.test(description) ? '' : '.'} ${writeOnlyNote}`;
}

/** The shape of one schema. */
export function shapeOf(s: JsonSchema, mode: Mode, role: Role, where: string): Shape {
  if ('const' in s) return literalShape([s.const], where);
  if (Array.isArray(s.enum)) return literalShape(s.enum as unknown[], where);
  const members = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as unknown[] | undefined;
  if (members) return unionShape(members.map((m, i) => asSchema(m, `${where}|${i}`)), mode, role, where);
  switch (s.type) {
    case 'string':
      return { kind: 'string' };
    case 'number':
      return { kind: 'number', integer: false };
    case 'integer':
      return { kind: 'number', integer: true };
    case 'boolean':
      return { kind: 'bool' };
    case 'array': {
      if (Array.isArray(s.items) || s.items === undefined) throw new SchemaProjectionError(where, 'arrays need a single items schema (tuples are not supported)');
      return { kind: s.uniqueItems === true ? 'set' : 'list', element: shapeOf(asSchema(s.items, `${where}[]`), mode, role, `${where}[]`) };
    }
    case 'object': {
      if (s.properties !== undefined) return { kind: 'object', fields: fieldsOf(s, mode, role, where) };
      const patterns = s.patternProperties as Record<string, unknown> | undefined;
      const values = patterns ? Object.values(patterns) : [];
      if (values.length > 1) throw new SchemaProjectionError(where, 'records with several key patterns are not supported');
      const value = values[0] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (value === undefined) throw new SchemaProjectionError(where, 'object without properties or a value schema');
      return { kind: 'map', element: shapeOf(asSchema(value, `${where}{}`), mode, role, `${where}{}`) };
    }
    case undefined:
      // No type and nothing that constrains one: any value (Type.Any, Type.Unknown).
      if (!['$ref', 'allOf', 'not', 'properties', 'items', 'patternProperties'].some((k) => k in s)) return { kind: 'dynamic' };
  }
  throw new SchemaProjectionError(where, `unsupported schema ${JSON.stringify(s)}`);
}

function literalShape(values: readonly unknown[], where: string): Shape {
  if (values.length > 0 && values.every((v) => typeof v === 'string')) return { kind: 'string', enum: [...(values as string[])] };
  if (values.length > 0 && values.every((v) => typeof v === 'number')) {
    return { kind: 'number', integer: (values as number[]).every(Number.isInteger), enum: [...(values as number[])] };
  }
  if (values.length > 0 && values.every((v) => typeof v === 'boolean')) return { kind: 'bool' };
  throw new SchemaProjectionError(where, `literals of mixed or unsupported types: ${JSON.stringify(values)}`);
}

function unionShape(members: JsonSchema[], mode: Mode, role: Role, where: string): Shape {
  const nonNull = members.filter((m) => m.type !== 'null');
  if (nonNull.length === 0) throw new SchemaProjectionError(where, 'a union of only null');
  const shapes = nonNull.map((m, i) => shapeOf(m, mode, role, `${where}|${i}`));
  if (shapes.length === 1) return shapes[0] as Shape;
  const kinds = new Set(shapes.map((s) => s.kind));
  if (kinds.size === 1) {
    const first = shapes[0] as Shape;
    if (first.kind === 'string') {
      const enums = shapes.map((s) => (s as { enum?: readonly string[] }).enum);
      return enums.every((e) => e !== undefined) ? { kind: 'string', enum: [...new Set(enums.flat() as string[])] } : { kind: 'string' };
    }
    if (first.kind === 'number') {
      const ns = shapes as { kind: 'number'; integer: boolean; enum?: readonly number[] }[];
      const integer = ns.every((s) => s.integer);
      return ns.every((s) => s.enum !== undefined) ? { kind: 'number', integer, enum: [...new Set(ns.flatMap((s) => s.enum ?? []))] } : { kind: 'number', integer };
    }
    if (first.kind === 'bool') return first;
  }
  throw new SchemaProjectionError(where, 'unions of different types are not supported (only unions of literals of one type, or with null)');
}

/** The cty type of a shape (objects without optional markers, as Terraform's ImpliedType). */
export function typeOfShape(shape: Shape): CtyType {
  switch (shape.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return cty[shape.kind];
    case 'list':
    case 'set':
    case 'map':
      return cty[shape.kind](typeOfShape(shape.element));
    case 'object':
      return objectTypeOf(shape.fields);
  }
}

export function objectTypeOf(fields: readonly Field[]) {
  return cty.object(Object.fromEntries(fields.map((f) => [f.name, f.type])));
}

function containsSensitive(shape: Shape): boolean {
  switch (shape.kind) {
    case 'list':
    case 'set':
    case 'map':
      return containsSensitive(shape.element);
    case 'object':
      return shape.fields.some((f) => f.sensitive || containsSensitive(f.shape));
    default:
      return false;
  }
}

const nestingOf: Record<'list' | 'set' | 'map', ObjectNesting> = { list: 'LIST', set: 'SET', map: 'MAP' };

/** The nested attributes of a shape, when it has a nested_type form. */
function nestedObject(shape: Shape): TfObject | undefined {
  if (shape.kind === 'object') return { attributes: shape.fields.map(tfAttribute), nesting: 'SINGLE' };
  if ((shape.kind === 'list' || shape.kind === 'set' || shape.kind === 'map') && shape.element.kind === 'object') {
    return { attributes: shape.element.fields.map(tfAttribute), nesting: nestingOf[shape.kind] };
  }
  return undefined;
}

/** The tfplugin6 attribute for a field. */
export function tfAttribute(f: Field): TfAttribute {
  const nested = nestedObject(f.shape);
  const common = {
    name: f.name,
    description: f.description,
    required: f.required,
    optional: f.optional,
    computed: f.computed,
    // A nested object inside a plain-typed attribute cannot carry its own sensitivity.
    sensitive: f.sensitive || (nested === undefined && containsSensitive(f.shape)),
    description_kind: 'PLAIN',
    deprecated: false,
  } as const;
  return nested ? { ...common, nested_type: nested } : { ...common, type: typeJsonBytes(f.type) };
}

/** Refuses names Terraform reserves for meta-arguments. */
export function checkReservedNames(fields: readonly Field[], where: string): void {
  for (const f of fields) {
    if (reservedAttributeNames.has(f.name)) throw new SchemaProjectionError(`${where}.${f.modelName}`, `${f.name} is a Terraform meta-argument and cannot be an attribute`);
  }
}
