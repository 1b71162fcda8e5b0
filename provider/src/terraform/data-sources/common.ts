// What every data source shares: its schema from TypeBox objects (inputs as written in the
// configuration, outputs computed), diagnostics located by attribute path, and the handling of
// values not known yet.
import type { TObject } from '@sinclair/typebox';
import type { BerthClient } from '@berth/registry-server/client';
import type * as P from '../plugin/types.ts';
import { fieldsOf, objectTypeOf, tfAttribute, type Field } from '../schema/fields.ts';
import { schemaFromTypeBox, toTerraformName, typeNamePrefix, type Projection } from '../schema/from-model.ts';
import { isUnknown, Unknown, type CtyObjectValue, type CtyValue } from '../values/index.ts';

/** One data source: its projection, config validation and read. */
export interface DataSource {
  readonly typeName: string;
  readonly projection: Projection;
  /** Checks a config that may hold unknown values (those are skipped). */
  validate(config: CtyObjectValue): P.Diagnostic[];
  /** Reads with a known config; the state carries every attribute. */
  read(config: CtyObjectValue, api: () => BerthClient): Promise<DataSourceResult>;
}

export interface DataSourceResult {
  readonly state?: Record<string, CtyValue>;
  readonly diagnostics?: P.Diagnostic[];
}

export type PathStep = string | number;

export function attributePath(steps: readonly PathStep[]): P.AttributePath {
  return { steps: steps.map((s) => (typeof s === 'number' ? { element_key_int: s } : { attribute_name: s })) };
}

export function errorAt(summary: string, detail: string | undefined, path: readonly PathStep[] = []): P.Diagnostic {
  return { severity: 'ERROR', summary, ...(detail ? { detail } : {}), ...(path.length > 0 ? { attribute: attributePath(path) } : {}) };
}

/**
 * A data source projection from TypeBox objects: the inputs by schemaFromTypeBox (required
 * unless optional), the outputs computed. An output named like an input makes that input
 * optional + computed (e.g. an image's digest: given, or found from the tag).
 */
export function dataSourceFromTypeBox(name: string, inputs: TObject, outputs: TObject, description: string): Projection {
  const typeName = typeNamePrefix + name;
  const inputFields = [...schemaFromTypeBox(inputs, { name: typeName }).fields];
  const byName = new Map<string, Field>(inputFields.map((f) => [f.name, f]));
  for (const o of fieldsOf(outputs, 'computed', 'output', typeName)) {
    const i = byName.get(o.name);
    if (i && i.required) throw new Error(`${typeName}.${o.name}: a required input cannot also be an output`);
    byName.set(o.name, i ? { ...i, optional: true, computed: true } : o);
  }
  const fields = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    typeName,
    schema: {
      version: 0,
      block: { version: 0, attributes: fields.map(tfAttribute), block_types: [], description, description_kind: 'PLAIN', deprecated: false },
    },
    type: objectTypeOf(fields),
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    byModelName: new Map(fields.map((f) => [f.modelName, f])),
  };
}

/** Whether a value holds an unknown anywhere. */
export function hasUnknown(v: CtyValue | undefined): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(hasUnknown);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as CtyObjectValue).some(hasUnknown);
  return false;
}

/**
 * The state for a config not wholly known (Terraform does not read then, but a caller might):
 * the inputs as given, every computed attribute unknown.
 */
export function pendingState(p: Projection, config: CtyObjectValue): Record<string, CtyValue> {
  const out: Record<string, CtyValue> = {};
  for (const f of p.fields) {
    const given = config[f.name] ?? null;
    out[f.name] = f.computed && (given === null || isUnknown(given)) ? Unknown : given;
  }
  return out;
}

/**
 * An attribute path from a document validator's path ("Statement[1].Principal.AWS[0]",
 * "rules[0].selection.countUnit"): each name through `rename` (stop at the first it cannot
 * name), each index as a list index.
 */
export function documentPath(path: string, rename: (name: string, at: readonly PathStep[]) => string | undefined): PathStep[] {
  const out: PathStep[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) {
      out.push(Number(m[2]));
      continue;
    }
    const name = rename(m[1] as string, out);
    if (name === undefined) break;
    out.push(name);
  }
  return out;
}

/** camelCase -> snake_case, undefined when the name has no Terraform form. */
export function snake(name: string): string | undefined {
  try {
    return toTerraformName(name);
  } catch {
    return undefined;
  }
}

/** The {path, message} errors a document validator reported (RegistryError detail), or one from the message. */
export function documentErrors(err: unknown): { path: string; message: string }[] {
  const detail = (err as { detail?: { errors?: unknown } } | undefined)?.detail;
  const errors = Array.isArray(detail?.errors) ? (detail.errors as { path?: unknown; message?: unknown }[]) : [];
  const out = errors.filter((e) => typeof e.message === 'string').map((e) => ({ path: typeof e.path === 'string' ? e.path : '', message: e.message as string }));
  return out.length > 0 ? out : [{ path: '', message: (err as Error)?.message ?? String(err) }];
}

/** Non-null, known strings of a list value. */
export function strings(v: CtyValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
