// Runs inside Pulumi's dynamic-provider process. The serialized providers capture only a model
// name and import this module when called, so credentials, clients and models are never part of
// the serialized text: they are read here, at call time.
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { canonicalDocumentText } from '@berth/registry-server/documents';
import { fieldMeta, resourceModels, type ResourceModel } from '@berth/registry-server/models';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isPendingDeletion, keepWriteOnly } from '../model-facts.ts';

type Props = Record<string, unknown>;

// Pulumi marks values unknown during preview with this string.
const unknownValue = '04da6b54-80e4-46f7-96ec-b56ff0331ba9';

interface Settings {
  endpoint?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
}

let configured: Settings = {};

/** Called from the provider's configure with the stack's berth:* configuration. */
export function configure(config: { get(key: string): string | undefined }): void {
  configured = { endpoint: config.get('berth:endpoint'), accessKeyId: config.get('berth:accessKeyId'), secretAccessKey: config.get('berth:secretAccessKey') };
}

function client(): BerthClient {
  const endpoint = configured.endpoint ?? process.env.BERTH_ENDPOINT;
  if (!endpoint) throw new Error('set the Berth endpoint: pulumi config set berth:endpoint http://host:5000 (or BERTH_ENDPOINT)');
  const accessKeyId = configured.accessKeyId ?? process.env.BERTH_ACCESS_KEY_ID;
  const secretAccessKey = configured.secretAccessKey ?? process.env.BERTH_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new Error(
      `incomplete Berth credentials: set both berth:accessKeyId and berth:secretAccessKey (pulumi config set --secret berth:secretAccessKey ...), or BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY`,
    );
  }
  return new BerthClient({ endpoint, ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}) });
}

/** An API error with a hint where the credentials come from when the registry refused them. */
function explained(err: unknown): unknown {
  if (err instanceof BerthApiError && err.status === 401) {
    err.message = `the registry refused the credentials (${err.code}: ${err.message}); they come from berth:accessKeyId / berth:secretAccessKey or BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY`;
  }
  return err;
}



/**
 * Outputs the server returns once (an access key's secret, by create only): sensitive and
 * optional in the model. Reads and updates keep the value the resource already has.
 */
function retainedKeys(model: ResourceModel): string[] {
  const required = model.outputs.required ?? [];
  return (Object.entries(model.outputs.properties) as [string, TSchema][]).filter(([k, schema]) => fieldMeta(schema).sensitive && !required.includes(k)).map(([k]) => k);
}

function keepRetained(model: ResourceModel, fresh: Props, before: Props): Props {
  const out = { ...fresh };
  for (const k of retainedKeys(model)) if ((out[k] === undefined || out[k] === null) && before[k] !== undefined && before[k] !== null) out[k] = before[k];
  return out;
}

/**
 * Write-only inputs (a destination's password) are never in the server's answer: the state
 * keeps the value given (`reference`: the inputs on create and update, the prior state on a
 * read), so a diff against the same inputs is empty. It is a secret output (see secretKeysOf).
 */
function keepWriteOnlyInputs(model: ResourceModel, outs: Props, reference: Props): Props {
  return keepWriteOnly(model.inputs, outs, reference) as Props;
}

export function modelNamed(name: string): ResourceModel {
  const model = (resourceModels as readonly ResourceModel[]).find((m) => m.name === name);
  if (!model) throw new Error(`unknown Berth resource ${name}`);
  return model;
}

function inputKeys(model: ResourceModel): string[] {
  return Object.keys(model.inputs.properties);
}

function inputsOf(model: ResourceModel, props: Props): Props {
  const out: Props = {};
  for (const key of inputKeys(model)) if (props[key] !== undefined && props[key] !== null) out[key] = props[key];
  return out;
}

/** The values that address a resource: its identity inputs, or the id the server assigned. */
function identityOf(model: ResourceModel, props: Props, id?: string): Record<string, string> {
  if (model.assignedId !== undefined) return { [model.assignedId]: String(props[model.assignedId] ?? id ?? '') };
  return Object.fromEntries(model.identity.map((k) => [k, String(props[k] ?? '')]));
}

function idOf(model: ResourceModel, props: Props): string {
  if (model.assignedId !== undefined) return String(props[model.assignedId]);
  return model.identity.length === 0 ? String(props.registryId ?? 'registry') : model.identity.map((k) => String(props[k])).join('/');
}

/** The identity from a resource id alone (import, get): idOf in reverse. */
function identityFromId(model: ResourceModel, id: string): Record<string, string> {
  if (model.assignedId !== undefined) return { [model.assignedId]: id };
  if (model.identity.length === 1) return { [model.identity[0] as string]: id };
  const parts = id.split('/');
  if (parts.length !== model.identity.length) throw new Error(`${model.name}: the id ${JSON.stringify(id)} should be ${model.identity.map((k) => `<${k}>`).join('/')}`);
  return Object.fromEntries(model.identity.map((k, i) => [k, parts[i] as string]));
}

const isSingleton = (model: ResourceModel): boolean => model.collectionPath === undefined;

/** The body of a put or patch: the identity travels in the path. */
function withoutIdentity(model: ResourceModel, props: Props): Props {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !model.identity.includes(k)));
}

/** Absent, or an empty map or list: what an optional input left out reads back as. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

function isUnknown(v: unknown): boolean {
  return v === unknownValue;
}

/** Model-driven validation; unknown values (preview) are left for later. */
export async function check(name: string, news: Props): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
  const model = modelNamed(name);
  const inputs = inputsOf(model, news);
  const known = Object.fromEntries(Object.entries(inputs).filter(([, v]) => !isUnknown(v)));
  const failures: { property: string; reason: string }[] = [];
  for (const [key, schema] of Object.entries(model.inputs.properties) as [string, TSchema][]) {
    const value = known[key];
    if (value === undefined) {
      if (!(model.inputs.required ?? []).includes(key) || isUnknown(inputs[key])) continue;
      failures.push({ property: key, reason: `${key} is required` });
      continue;
    }
    for (const err of Value.Errors(schema, value)) {
      failures.push({ property: key, reason: `${key}${err.path}: ${err.message}` });
      break;
    }
    const doc = fieldMeta(schema).document;
    if (doc && typeof value === 'string' && failures.length === 0) {
      try {
        canonicalDocumentText(doc, value, key);
      } catch (err) {
        failures.push({ property: key, reason: (err as Error).message });
      }
    }
  }
  return { inputs, failures };
}

/** Same meaning, same text: policy documents compare canonically, everything else by JSON. */
function sameValue(schema: TSchema | undefined, a: unknown, b: unknown): boolean {
  const doc = schema ? fieldMeta(schema).document : undefined;
  if (doc && typeof a === 'string' && typeof b === 'string') {
    try {
      return canonicalDocumentText(doc, a, 'x') === canonicalDocumentText(doc, b, 'x');
    } catch {
      return a === b;
    }
  }
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Objects with sorted keys: what the server answers and what a program passes may order them differently. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .filter((k) => (v as Props)[k] !== undefined)
      .map((k) => [k, canonical((v as Props)[k])]),
  );
}

/**
 * Nested inputs with a server default (a replication rule's name) that `next` leaves out take
 * the value the server chose (`before`, matched by position as the server keeps order), as
 * top-level ones are skipped: leaving them out is not a change.
 */
function withNestedDefaults(schema: TSchema, next: unknown, before: unknown): unknown {
  if (next === undefined || next === null || before === undefined || before === null || isUnknown(next)) return next;
  const s = schema as Props;
  if (typeof s.properties === 'object' && s.properties !== null && typeof next === 'object' && !Array.isArray(next) && typeof before === 'object' && !Array.isArray(before)) {
    const out: Props = { ...(next as Props) };
    for (const [k, field] of Object.entries(s.properties as Record<string, TSchema>)) {
      const was = (before as Props)[k];
      if (out[k] === undefined && fieldMeta(field).serverDefault) {
        if (was !== undefined) out[k] = was;
      } else out[k] = withNestedDefaults(field, out[k], was);
    }
    return out;
  }
  if (typeof s.items === 'object' && s.items !== null && Array.isArray(next) && Array.isArray(before)) {
    return next.map((e, i) => withNestedDefaults(s.items as TSchema, e, before[i]));
  }
  return next;
}

export async function diff(
  name: string,
  olds: Props,
  news: Props,
): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }> {
  const model = modelNamed(name);
  const replaces: string[] = [];
  let changes = false;
  for (const [key, schema] of Object.entries(model.inputs.properties) as [string, TSchema][]) {
    const next = withNestedDefaults(schema, news[key], olds[key]);
    const meta = fieldMeta(schema);
    // An omitted input with a server default keeps whatever the server chose.
    if (next === undefined && meta.serverDefault) continue;
    if (isUnknown(next) || !sameValue(schema, olds[key], next)) {
      // Left out, and absent or empty on the server (a repository created without tags has {}).
      if (next === undefined && isEmpty(olds[key])) continue;
      changes = true;
      if (meta.forceNew || model.identity.includes(key)) replaces.push(key);
    }
  }
  // A singleton holds one value on the server: remove the old before creating the new.
  return { changes, replaces, deleteBeforeReplace: isSingleton(model) };
}

export async function create(name: string, inputs: Props): Promise<{ id: string; outs: Props }> {
  const model = modelNamed(name);
  const api = client().resource(model);
  const body = inputsOf(model, inputs);
  try {
    const answer = (isSingleton(model) ? await api.update(identityOf(model, body) as never, withoutIdentity(model, body) as never) : await api.create(body as never)) as Props;
    const outs = keepWriteOnlyInputs(model, answer, body);
    return { id: idOf(model, outs), outs };
  } catch (err) {
    throw explained(err);
  }
}

export async function read(name: string, id: string, props: Props): Promise<{ id?: string; props?: Props }> {
  const model = modelNamed(name);
  const known = model.assignedId !== undefined ? props[model.assignedId] !== undefined : model.identity.every((k) => props[k] !== undefined);
  const identity = known ? identityOf(model, props, id) : identityFromId(model, id);
  try {
    const outs = (await client().resource(model).read(identity as never)) as Props;
    // Its deletion is scheduled (a KMS key pending deletion): gone, as a 404 is.
    if (isPendingDeletion(model, outs)) return {};
    // Values the server returns once stay in the state (a refresh must not lose them).
    return { id: idOf(model, outs), props: keepRetained(model, keepWriteOnlyInputs(model, outs, props), props) };
  } catch (err) {
    // Deleted out of band: an empty result tells the engine it is gone.
    if (err instanceof BerthApiError && err.status === 404) return {};
    throw explained(err);
  }
}

export async function update(name: string, olds: Props, news: Props): Promise<{ outs: Props }> {
  const model = modelNamed(name);
  const api = client().resource(model);
  const inputs = inputsOf(model, news);
  // Nested values the server chose and the program leaves out stay as they are (diff saw no
  // change in them), rather than being chosen anew (a rule renamed by its new position).
  for (const [key, schema] of Object.entries(model.inputs.properties) as [string, TSchema][]) {
    if (inputs[key] !== undefined) inputs[key] = withNestedDefaults(schema, inputs[key], olds[key]);
  }
  try {
    const outs = (await api.update(identityOf(model, olds) as never, withoutIdentity(model, inputs) as never)) as Props;
    return { outs: keepRetained(model, keepWriteOnlyInputs(model, outs, inputs), olds) };
  } catch (err) {
    throw explained(err);
  }
}

export async function remove(name: string, props: Props): Promise<void> {
  const model = modelNamed(name);
  try {
    await client().resource(model).delete(identityOf(model, props) as never);
  } catch (err) {
    if (err instanceof BerthApiError && err.status === 404) return;
    throw explained(err);
  }
}
