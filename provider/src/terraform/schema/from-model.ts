// Terraform schemas projected from Berth's resource models (registry-server/src/model): no
// resource has a hand-written schema. For a model:
//
//   identity inputs               required
//   other inputs                  required unless optional in the model
//   inputs with serverDefault     optional + computed (the server fills them in)
//   outputs                       computed
//   sensitive (x-berth meta)      sensitive
//   forceNew (x-berth meta)       not a schema flag: kept on the field for plan-time RequiresReplace
//   writeOnly (x-berth meta)      not a schema flag (the value stays in state, sensitive when the
//                                 model says so): the provider copies it from the prior state or
//                                 the plan, since reads never return it; the description says so
//   id                            computed string: the import id (see importIdOf), unless the
//                                 model has an id field of its own
//   assignedId (model)            the output the server assigns on create (an access key's id):
//                                 computed like every output; it is the import id, and reads,
//                                 updates and deletes address the resource by it
//
// Attribute names are the model's field names in snake_case (names.ts); types and nesting are
// described in fields.ts.
import type { TObject, TSchema } from '@sinclair/typebox';
import type { ResourceModel } from '@berth/registry-server/models';
import { cty, type CtyObjectType } from '../values/cty-type.ts';
import { isObjectValue, isUnknown, type CtyObjectValue, type CtyValue } from '../values/value.ts';
import { SchemaProjectionError, checkReservedNames, fieldsOf, objectTypeOf, tfAttribute, type Field, type Role, type Shape } from './fields.ts';
import { toTerraformName } from './names.ts';
import type { TfBlock, TfSchema } from './tfplugin-schema.ts';

export type { Field, Role, Shape } from './fields.ts';
export { SchemaProjectionError } from './fields.ts';
export { toTerraformName, fromTerraformName } from './names.ts';

/** Prefix of Berth's resource and data source type names. */
export const typeNamePrefix = 'berth_';

/** Separator between identity values in an import id (Berth's identities hold no commas). */
export const importIdSeparator = ',';

export interface Projection {
  /** Terraform type name, e.g. berth_repository. */
  readonly typeName: string;
  /** The tfplugin6 Schema. */
  readonly schema: TfSchema;
  /** The cty object type of the resource's values (config, state, plan). */
  readonly type: CtyObjectType;
  /** Top-level fields, sorted by Terraform name; nested fields under shape. */
  readonly fields: readonly Field[];
  /** Terraform attribute name -> field. */
  readonly byName: ReadonlyMap<string, Field>;
  /** Model field name -> field (identity, inputs and outputs; plus "id"). */
  readonly byModelName: ReadonlyMap<string, Field>;
}

export interface ResourceProjection extends Projection {
  readonly model: ResourceModel;
  /** Model fields whose values make the import id, in order. */
  readonly idFields: readonly string[];
  /** The output the server assigns on create and that addresses the resource from then on. */
  readonly assigned?: Field;
}

export interface ProjectionOptions {
  /** Schema version (bump with a state upgrade). Default 0. */
  readonly version?: number;
  /** Type name prefix. Default "berth_". */
  readonly prefix?: string;
}

/** The fields whose values, joined, make a model's import id: its identity, or else the fields named in its importId template. */
export function idFieldsOf(model: ResourceModel): readonly string[] {
  if (model.assignedId !== undefined) return [model.assignedId];
  if (model.identity.length > 0) return model.identity;
  const named = [...model.importId.matchAll(/<([A-Za-z][A-Za-z0-9]*)>/g)].map((m) => m[1] as string);
  if (named.length === 0) throw new SchemaProjectionError(model.name, `importId ${JSON.stringify(model.importId)} names no field`);
  return named;
}

/** The import id (the `id` attribute) of a resource, from its model-shaped values. */
export function importIdOf(model: ResourceModel, values: Readonly<Record<string, unknown>>): string {
  return idFieldsOf(model)
    .map((k) => {
      const v = values[k];
      if (typeof v !== 'string' && typeof v !== 'number') throw new SchemaProjectionError(model.name, `import id needs a value for ${k}`);
      return String(v);
    })
    .join(importIdSeparator);
}

/** The id fields' values from an import id. A single-field id is taken whole. */
export function parseImportId(model: ResourceModel, id: string): Record<string, string> {
  const fields = idFieldsOf(model);
  const parts = fields.length === 1 ? [id] : id.split(importIdSeparator);
  if (parts.length !== fields.length || parts.some((p) => p === '')) {
    throw new SchemaProjectionError(model.name, `import id ${JSON.stringify(id)} should be ${fields.map((f) => `<${f}>`).join(importIdSeparator)}`);
  }
  return Object.fromEntries(fields.map((f, i) => [f, parts[i] as string]));
}

function idField(model: ResourceModel): Field {
  return {
    name: 'id',
    modelName: 'id',
    role: 'id',
    shape: { kind: 'string' },
    type: cty.string,
    required: false,
    optional: false,
    computed: true,
    sensitive: false,
    forceNew: false,
    serverDefault: false,
    writeOnly: false,
    description:
      model.assignedId !== undefined
        ? `The ${toTerraformName(model.assignedId)} the registry assigned on create; the import id.`
        : `The import id: ${idFieldsOf(model).map((f) => `<${f}>`).join(importIdSeparator)}.`,
  };
}

/** Checks that a model's assigned id is an output (not an input) that fills its item path. */
function assignedField(model: ResourceModel, fields: readonly Field[]): Field | undefined {
  const key = model.assignedId;
  if (key === undefined) return undefined;
  if (Object.hasOwn(model.inputs.properties, key)) throw new SchemaProjectionError(model.name, `assigned id ${key} must not be an input`);
  if (model.identity.length > 0) throw new SchemaProjectionError(model.name, `a model with an assigned id (${key}) has no input identity`);
  if (!model.path.includes(`{${key}}`)) throw new SchemaProjectionError(model.name, `assigned id ${key} does not appear in the path ${model.path}`);
  const f = fields.find((x) => x.modelName === key && x.role === 'output');
  if (!f) throw new SchemaProjectionError(model.name, `assigned id ${key} is not an output`);
  if (f.shape.kind !== 'string') throw new SchemaProjectionError(`${model.name}.${key}`, 'an assigned id must be a string');
  return f;
}

/**
 * The values that address a resource (its item path) from a Terraform value: the identity
 * inputs, or the assigned id (its attribute, else `id`).
 */
export function addressOf(p: ResourceProjection, value: CtyObjectValue): Record<string, unknown> {
  const out = toModelValue(p.fields, value, { roles: ['identity'], unknown: 'omit' });
  if (p.assigned) {
    const v = value[p.assigned.name];
    const id = typeof v === 'string' && v !== '' ? v : value.id;
    if (typeof id === 'string' && id !== '') out[p.assigned.modelName] = id;
  }
  return out;
}

function projection(typeName: string, description: string, fields: Field[], version: number): Projection {
  fields.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const block: TfBlock = {
    version,
    attributes: fields.map(tfAttribute),
    block_types: [],
    description,
    description_kind: 'PLAIN',
    deprecated: false,
  };
  return {
    typeName,
    schema: { version, block },
    type: objectTypeOf(fields),
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    byModelName: new Map(fields.map((f) => [f.modelName, f])),
  };
}

/** Merges inputs and outputs: an output that is also an input makes the input computed too. */
function mergeFields(inputs: Field[], outputs: Field[], where: string): Field[] {
  const byName = new Map(inputs.map((f) => [f.name, f]));
  for (const o of outputs) {
    const i = byName.get(o.name);
    if (i === undefined) {
      byName.set(o.name, o);
      continue;
    }
    if (i.required) throw new SchemaProjectionError(`${where}.${o.modelName}`, 'a required input cannot also be an output');
    byName.set(o.name, { ...i, computed: true, optional: true });
  }
  return [...byName.values()];
}

/** The Terraform resource projected from a model. */
export function resourceFromModel(model: ResourceModel, options: ProjectionOptions = {}): ResourceProjection {
  for (const k of model.identity) {
    if (!Object.hasOwn(model.inputs.properties, k)) throw new SchemaProjectionError(model.name, `identity field ${k} is not an input`);
  }
  return projectModel(model, 'input', options);
}

/**
 * The Terraform data source projected from a model: the identity is required (for a singleton,
 * nothing is), every other field is computed.
 */
export function dataSourceFromModel(model: ResourceModel, options: ProjectionOptions = {}): ResourceProjection {
  return projectModel(model, 'computed', options);
}

/** A model's fields (inputs in `inputMode`, outputs computed, plus id) as a projection. */
function projectModel(model: ResourceModel, inputMode: 'input' | 'computed', options: ProjectionOptions): ResourceProjection {
  const inputs = fieldsOf(model.inputs, inputMode, 'input', model.name, new Set(model.identity));
  const outputs = fieldsOf(model.outputs, 'computed', 'output', model.name);
  const fields = mergeFields(inputs, outputs, model.name);
  const assigned = assignedField(model, fields);
  if (!fields.some((f) => f.name === 'id')) fields.push(idField(model));
  checkReservedNames(fields, model.name);
  const p = projection((options.prefix ?? typeNamePrefix) + model.name, model.description, fields, options.version ?? 0);
  return { ...p, model, idFields: idFieldsOf(model), ...(assigned ? { assigned } : {}) };
}

/** A schema from any TypeBox object (e.g. the provider's configuration): inputs only. */
export function schemaFromTypeBox(object: TObject, options: { readonly description?: string; readonly version?: number; readonly name?: string } = {}): Projection {
  const fields = fieldsOf(object, 'input', 'input', options.name ?? '');
  return projection(options.name ?? '', options.description ?? (typeof object.description === 'string' ? object.description : ''), fields, options.version ?? 0);
}

/** Paths (Terraform names) of the attributes whose change replaces the resource. */
export function forceNewPaths(fields: readonly Field[], prefix: readonly string[] = []): string[][] {
  const out: string[][] = [];
  for (const f of fields) {
    const path = [...prefix, f.name];
    if (f.forceNew) out.push(path);
    const nested = nestedFields(f.shape);
    if (nested) out.push(...forceNewPaths(nested, path));
  }
  return out;
}

function nestedFields(shape: Shape): readonly Field[] | undefined {
  if (shape.kind === 'object') return shape.fields;
  if ((shape.kind === 'list' || shape.kind === 'set' || shape.kind === 'map') && shape.element.kind === 'object') return shape.element.fields;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Values: Terraform objects (snake_case, every attribute, null when unset) <-> model JSON
// (camelCase, absent when unset).

export interface ToModelOptions {
  /** Only fields with these roles (default: all but id). */
  readonly roles?: readonly Role[];
  /** What to do with an unknown value: throw (default), keep it (the Unknown marker) or leave it out. */
  readonly unknown?: 'error' | 'keep' | 'omit';
}

/** Model JSON from a Terraform object value: camelCase names, nulls left out. */
export function toModelValue(fields: readonly Field[], value: CtyObjectValue, options: ToModelOptions = {}): Record<string, unknown> {
  const roles = new Set<Role>(options.roles ?? ['identity', 'input', 'output']);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!roles.has(f.role)) continue;
    const v = Object.hasOwn(value, f.name) ? value[f.name] : null;
    const converted = shapeToModel(f.shape, v, f.name, options);
    if (converted !== undefined) Object.defineProperty(out, f.modelName, { value: converted, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function shapeToModel(shape: Shape, v: CtyValue | undefined, path: string, options: ToModelOptions): unknown {
  if (v === null || v === undefined) return undefined;
  if (isUnknown(v)) {
    if (options.unknown === 'keep') return v;
    if (options.unknown === 'omit') return undefined;
    throw new SchemaProjectionError(path, 'value is unknown');
  }
  switch (shape.kind) {
    case 'list':
    case 'set':
      if (!Array.isArray(v)) throw new SchemaProjectionError(path, `${shape.kind} expected`);
      return (v as readonly CtyValue[]).map((e, i) => shapeToModel(shape.element, e, `${path}[${i}]`, options) ?? null);
    case 'map':
      if (!isObjectValue(v)) throw new SchemaProjectionError(path, 'map expected');
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, shapeToModel(shape.element, e, `${path}[${JSON.stringify(k)}]`, options) ?? null]));
    case 'object':
      if (!isObjectValue(v)) throw new SchemaProjectionError(path, 'object expected');
      return toModelValue(shape.fields, v, { ...options, roles: ['identity', 'input', 'output'] });
    default:
      return v;
  }
}

/**
 * A Terraform object value from model JSON: every attribute present (null when absent), names
 * in snake_case, and `id` set from the import id when the projection has one and the values
 * allow it.
 */
export function fromModelValue(p: Projection | ResourceProjection, json: Readonly<Record<string, unknown>>): Record<string, CtyValue> {
  const out = fieldsFromModel(p.fields, json, '');
  if ('model' in p && p.byName.get('id')?.role === 'id') {
    try {
      out.id = importIdOf(p.model, json);
    } catch {
      out.id = null;
    }
  }
  return out;
}

function fieldsFromModel(fields: readonly Field[], json: Readonly<Record<string, unknown>>, where: string): Record<string, CtyValue> {
  const out: Record<string, CtyValue> = {};
  for (const f of fields) {
    const v = Object.hasOwn(json, f.modelName) ? json[f.modelName] : undefined;
    Object.defineProperty(out, f.name, { value: shapeFromModel(f.shape, v, where ? `${where}.${f.modelName}` : f.modelName), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function shapeFromModel(shape: Shape, v: unknown, path: string): CtyValue {
  if (v === null || v === undefined) return null;
  switch (shape.kind) {
    case 'string':
      if (typeof v !== 'string') throw new SchemaProjectionError(path, 'string expected');
      return v;
    case 'number':
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new SchemaProjectionError(path, 'number expected');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new SchemaProjectionError(path, 'boolean expected');
      return v;
    case 'dynamic':
      return v as CtyValue;
    case 'list':
    case 'set':
      if (!Array.isArray(v)) throw new SchemaProjectionError(path, 'array expected');
      return v.map((e, i) => shapeFromModel(shape.element, e, `${path}[${i}]`));
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) throw new SchemaProjectionError(path, 'object expected');
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, shapeFromModel(shape.element, e, `${path}[${JSON.stringify(k)}]`)]));
    case 'object':
      if (typeof v !== 'object' || Array.isArray(v)) throw new SchemaProjectionError(path, 'object expected');
      return fieldsFromModel(shape.fields, v as Record<string, unknown>, path);
  }
}

/** The model field schema of a top-level Terraform attribute (for validation with TypeBox). */
export function modelSchemaOf(p: Projection, terraformName: string): TSchema | undefined {
  return p.byName.get(terraformName)?.schema;
}
