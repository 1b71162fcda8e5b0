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
