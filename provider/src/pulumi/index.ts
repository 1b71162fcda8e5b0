// Berth resources for Pulumi programs: one dynamic resource class per model, typed by the model.
import * as pulumi from '@pulumi/pulumi';
import {
  accessKeyModel,
  identityPolicyModel,
  kmsAliasModel,
  kmsKeyModel,
  lifecyclePolicyModel,
  principalModel,
  registryPolicyModel,
  repositoryCreationTemplateModel,
  repositoryModel,
  repositoryPolicyModel,
  replicationConfigurationModel,
  replicationRuleModel,
  type ResourceModel,
} from '@berth/registry-server/models';
import type { Static, TSchema } from '@sinclair/typebox';
import { containsSensitive } from '../model-facts.ts';
import { dynamicProvider } from './provider.ts';

/** Every input may be a Pulumi Input (a value, a promise or another resource's output). */
export type Args<M extends ResourceModel> = { [K in keyof Static<M['inputs']>]: pulumi.Input<Static<M['inputs']>[K]> };
export type Outputs<M extends ResourceModel> = { readonly [K in keyof (Static<M['inputs']> & Static<M['outputs']>)]-?: pulumi.Output<(Static<M['inputs']> & Static<M['outputs']>)[K]> };

type ResourceClass<M extends ResourceModel> = new (name: string, args: Args<M>, opts?: pulumi.CustomResourceOptions) => pulumi.dynamic.Resource & Outputs<M>;

/**
 * The fields the model marks sensitive (x-berth meta), inputs and outputs, and those holding a
 * sensitive field (a replication rule's destinations hold passwords): secret outputs in Pulumi,
 * which can only make a whole top-level property secret.
 */
export function secretKeysOf(model: ResourceModel): string[] {
  const fields = [...Object.entries(model.inputs.properties), ...Object.entries(model.outputs.properties)] as [string, TSchema][];
  return [...new Set(fields.filter(([, schema]) => containsSensitive(schema)).map(([key]) => key))];
}

/** A resource class for a model: inputs as given, outputs (computed values) declared so Pulumi exposes them. */
export function defineResource<M extends ResourceModel>(model: M): ResourceClass<M> {
  const outputsOnly = Object.keys(model.outputs.properties).filter((k) => !(k in model.inputs.properties));
  // Values the model marks sensitive (an access key's secret) are kept encrypted in the state.
  const secrets = secretKeysOf(model);
  const provider = dynamicProvider(model.name);
  class BerthResource extends pulumi.dynamic.Resource {
    constructor(name: string, args: Args<M>, opts?: pulumi.CustomResourceOptions) {
      const props: Record<string, unknown> = { ...args };
      for (const k of outputsOnly) props[k] = undefined;
      // Sensitive inputs (a destination's password) are secret in the state's inputs too, not
      // only in its outputs.
      for (const k of secrets) if (props[k] !== undefined) props[k] = pulumi.secret(props[k]);
      // Type token pulumi-nodejs:dynamic/berth:<Title>, so each resource type is told apart in state.
      const options = secrets.length > 0 ? { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secrets] } : opts;
      super(provider, name, props, options, 'berth', model.title);
    }
  }
  return BerthResource as unknown as ResourceClass<M>;
}

export const Repository = defineResource(repositoryModel);
export type Repository = InstanceType<typeof Repository>;
export const RepositoryCreationTemplate = defineResource(repositoryCreationTemplateModel);
export type RepositoryCreationTemplate = InstanceType<typeof RepositoryCreationTemplate>;
export const RepositoryPolicy = defineResource(repositoryPolicyModel);
export type RepositoryPolicy = InstanceType<typeof RepositoryPolicy>;
export const RegistryPolicy = defineResource(registryPolicyModel);
export type RegistryPolicy = InstanceType<typeof RegistryPolicy>;
export const LifecyclePolicy = defineResource(lifecyclePolicyModel);
export type LifecyclePolicy = InstanceType<typeof LifecyclePolicy>;
export const Principal = defineResource(principalModel);
export type Principal = InstanceType<typeof Principal>;
/** Its id is the access key id the registry assigns; secretAccessKey is a secret output, kept from create. */
export const AccessKey = defineResource(accessKeyModel);
export type AccessKey = InstanceType<typeof AccessKey>;
export const IdentityPolicy = defineResource(identityPolicyModel);
export type IdentityPolicy = InstanceType<typeof IdentityPolicy>;
/** Its id is the key id the registry assigns; deleting it schedules its destruction after deletionWindowInDays. */
export const KmsKey = defineResource(kmsKeyModel);
export type KmsKey = InstanceType<typeof KmsKey>;
/** Its id is the alias name (alias/...). */
export const KmsAlias = defineResource(kmsAliasModel);
export type KmsAlias = InstanceType<typeof KmsAlias>;

/** The registry's whole replication configuration; its id is the registry id. Passwords are write-only: kept as secrets in the state. */
export const ReplicationConfiguration = defineResource(replicationConfigurationModel);
export type ReplicationConfiguration = InstanceType<typeof ReplicationConfiguration>;
/** One named replication rule; its id is the rule name. Passwords are write-only: kept as secrets in the state. */
export const ReplicationRule = defineResource(replicationRuleModel);
export type ReplicationRule = InstanceType<typeof ReplicationRule>;

export { dynamicProvider } from './provider.ts';
