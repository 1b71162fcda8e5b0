// Facts about resources that the models imply but do not state as field meta, shared by the
// Terraform provider and the Pulumi runtime. Both are derived from the models generically (no
// resource is named here), so a new model gets them without changes to the providers.
import { fieldMeta, type ResourceModel } from '@berth/registry-server/models';
import type { TSchema } from '@sinclair/typebox';

/** The state a resource is in once its deletion has been scheduled (AWS's name, e.g. a KMS key's keyState). */
export const pendingDeletionState = 'PendingDeletion';

function literalsOf(schema: TSchema): unknown[] {
  const s = schema as Record<string, unknown>;
  if ('const' in s) return [s.const];
  if (Array.isArray(s.enum)) return s.enum as unknown[];
  if (Array.isArray(s.anyOf)) return (s.anyOf as TSchema[]).flatMap(literalsOf);
  return [];
}

/** The outputs that can say a resource is pending deletion (a union of literals listing PendingDeletion). */
export function pendingDeletionOutputs(model: ResourceModel): string[] {
  return (Object.entries(model.outputs.properties) as [string, TSchema][]).filter(([, schema]) => literalsOf(schema).includes(pendingDeletionState)).map(([k]) => k);
}

/**
 * Whether the registry's representation describes a resource whose deletion is already
 * scheduled (a KMS key pending deletion). The registry still describes it (as AWS does, until
 * the window ends), and deleting it again is a no-op; infrastructure as code treats it as gone,
 * as the AWS providers do: a refresh drops it from the state (a plan then creates a new one),
 * and it cannot be imported.
 */
export function isPendingDeletion(model: ResourceModel, representation: Readonly<Record<string, unknown>>): boolean {
  return pendingDeletionOutputs(model).some((k) => representation[k] === pendingDeletionState);
}

/**
 * Outputs fixed when the resource is created (the model marks them): a plan for an in-place
 * update keeps their values (as the plugin framework's UseStateForUnknown does), so references
 * to them stay known: a key's arn used in a repository's encryption_configuration then does not
 * turn unknown, and force the repository's replacement, whenever the key is updated.
 */
export function isFixedOutput(model: ResourceModel, name: string): boolean {
  const schema = (model.outputs.properties as Record<string, TSchema>)[name];
  return schema !== undefined && !Object.hasOwn(model.inputs.properties, name) && fieldMeta(schema).fixed === true;
}

type Json = Readonly<Record<string, unknown>>;

const isPlainObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The members of a union schema (TypeBox's anyOf), or the schema alone. */
function alternativesOf(schema: TSchema): TSchema[] {
  const s = schema as Json;
  return Array.isArray(s.anyOf) ? (s.anyOf as TSchema[]) : Array.isArray(s.oneOf) ? (s.oneOf as TSchema[]) : [schema];
}

/** The schema of a record's values (patternProperties or an additionalProperties schema). */
function recordValueSchema(s: Json): TSchema | undefined {
  const patterns = s.patternProperties as Record<string, TSchema> | undefined;
  const first = patterns ? Object.values(patterns)[0] : undefined;
  return first ?? (isPlainObject(s.additionalProperties) ? (s.additionalProperties as TSchema) : undefined);
}

/** Whether a field, or any field nested in it, satisfies `test`. */
function containsField(schema: TSchema, test: (meta: ReturnType<typeof fieldMeta>) => boolean): boolean {
  if (test(fieldMeta(schema))) return true;
  return alternativesOf(schema).some((member) => {
    const s = member as Json;
    if (isPlainObject(s.properties)) return Object.values(s.properties as Record<string, TSchema>).some((p) => containsField(p, test));
    if (isPlainObject(s.items)) return containsField(s.items as TSchema, test);
    const values = recordValueSchema(s);
    return values !== undefined && containsField(values, test);
  });
}

/** Whether a field is write-only or holds one (a rule's destinations hold passwords). */
export function containsWriteOnly(schema: TSchema): boolean {
  return containsField(schema, (m) => m.writeOnly === true);
}

/** Whether a field is sensitive or holds a sensitive field. */
export function containsSensitive(schema: TSchema): boolean {
  return containsField(schema, (m) => m.sensitive === true);
}

const scalarTypes = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * The fields that tell the elements of a list of objects apart: the required scalars that are
 * not write-only (a destination's endpoint). None: elements are matched by position.
 */
function identifyingKeys(element: Json): string[] {
  const props = (element.properties ?? {}) as Record<string, TSchema>;
  const required = new Set(Array.isArray(element.required) ? (element.required as string[]) : []);
  return Object.entries(props)
    .filter(([k, s]) => required.has(k) && !fieldMeta(s).writeOnly && (scalarTypes.has((s as Json).type as string) || 'const' in (s as Json)))
    .map(([k]) => k);
}

/** The element of `reference` that corresponds to `element` (at `index` in its list). */
function counterpart(itemSchema: TSchema, reference: readonly unknown[], element: unknown, index: number): unknown {
  const object = alternativesOf(itemSchema).find((m) => isPlainObject((m as Json).properties)) as Json | undefined;
  const keys = object ? identifyingKeys(object) : [];
  // Nothing identifies an element: the server keeps the order it was given, so the same position.
  if (keys.length === 0 || !isPlainObject(element)) return reference[index];
  const same = (r: unknown): boolean => isPlainObject(r) && keys.every((k) => r[k] === element[k]);
  return same(reference[index]) ? reference[index] : reference.find(same);
}

/**
 * Write-only inputs (a destination's password) are accepted by the server and never returned:
 * its answer leaves them out. IaC keeps the value it last applied, so the state matches the
 * config and plans stay empty: this copies write-only values that `fresh` (the server's
 * answer) lacks from `reference` (the values just applied, or the prior state), at any depth.
 * List elements of objects are matched by their identifying fields (a destination by its
 * endpoint), else by position; nothing is copied where no counterpart exists (an import).
 */
export function keepWriteOnly(schema: TSchema, fresh: unknown, reference: unknown): unknown {
  if (fresh === undefined || fresh === null || reference === undefined || reference === null || !containsWriteOnly(schema)) return fresh;
  for (const member of alternativesOf(schema)) {
    const s = member as Json;
    if (isPlainObject(s.properties) && isPlainObject(fresh) && isPlainObject(reference)) {
      const out: Record<string, unknown> = { ...fresh };
      for (const [k, field] of Object.entries(s.properties as Record<string, TSchema>)) {
        const kept = reference[k];
        if (fieldMeta(field).writeOnly) {
          if ((out[k] === undefined || out[k] === null) && kept !== undefined && kept !== null) out[k] = kept;
        } else if (Object.hasOwn(out, k) && containsWriteOnly(field)) out[k] = keepWriteOnly(field, out[k], kept);
      }
      return out;
    }
    if (isPlainObject(s.items) && Array.isArray(fresh) && Array.isArray(reference)) {
      const items = s.items as TSchema;
      if (!containsWriteOnly(items)) return fresh;
      return fresh.map((e, i) => keepWriteOnly(items, e, counterpart(items, reference, e, i)));
    }
    const values = recordValueSchema(s);
    if (values !== undefined && !isPlainObject(s.properties) && isPlainObject(fresh) && isPlainObject(reference)) {
      if (!containsWriteOnly(values)) return fresh;
      return Object.fromEntries(Object.entries(fresh).map(([k, v]) => [k, keepWriteOnly(values, v, reference[k])]));
    }
  }
  return fresh;
}
