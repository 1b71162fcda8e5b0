import { Type, type Static } from '@sinclair/typebox';
import { Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';
import { RepositoryName } from './repository.ts';

/** An IAM policy document field, stored in canonical form (IaC compares it by meaning). */
export function iamPolicyText(document: 'iam-policy' | 'iam-identity-policy', what: string) {
  return withMeta(Type.String({ minLength: 1, maxLength: 10240, description: `${what} Returned in canonical form: arrays sorted, keys ordered, no whitespace.` }), { document });
}

const PolicyText = iamPolicyText('iam-policy', 'IAM policy JSON (Version, Statement, ...).');

const repositoryPolicyInputs = Type.Object(
  { repositoryName: withMeta(RepositoryName, { forceNew: true }), policyText: PolicyText },
  { additionalProperties: false },
);
const registryOutputs = Type.Object({ registryId: withMeta(Type.String({ description: 'The registry.' }), fixed), version: Version });

export const repositoryPolicyModel = {
  name: 'repository_policy',
  title: 'RepositoryPolicy',
  description: "A repository's access policy (one per repository).",
  path: '/repositories/{repositoryName}/policy',
  identity: ['repositoryName'],
  importId: '<repositoryName>',
  inputs: repositoryPolicyInputs,
  outputs: registryOutputs,
  operations: ['read', 'update', 'delete'],
  arnKind: 'repository',
  actions: { read: 'ecr:GetRepositoryPolicy', update: 'ecr:SetRepositoryPolicy', delete: 'ecr:DeleteRepositoryPolicy' },
  errors: ['RepositoryNotFound', 'RepositoryPolicyNotFound'],
} as const satisfies ResourceModel<typeof repositoryPolicyInputs, typeof registryOutputs>;

const registryPolicyInputs = Type.Object({ policyText: PolicyText }, { additionalProperties: false });

export const registryPolicyModel = {
  name: 'registry_policy',
  title: 'RegistryPolicy',
  description: 'The registry-wide access policy (one per registry).',
  path: '/registry/policy',
  identity: [],
  importId: '<registryId>',
  inputs: registryPolicyInputs,
  outputs: registryOutputs,
  operations: ['read', 'update', 'delete'],
  arnKind: 'registry',
  actions: { read: 'ecr:GetRegistryPolicy', update: 'ecr:PutRegistryPolicy', delete: 'ecr:DeleteRegistryPolicy' },
  errors: ['RegistryPolicyNotFound'],
} as const satisfies ResourceModel<typeof registryPolicyInputs, typeof registryOutputs>;

const lifecyclePolicyInputs = Type.Object(
  {
    repositoryName: withMeta(RepositoryName, { forceNew: true }),
    lifecyclePolicyText: withMeta(
      Type.String({
        minLength: 1,
        maxLength: 30720,
        description: 'ECR lifecycle policy JSON ({"rules":[...]}). Returned in canonical form.',
      }),
      { document: 'lifecycle-policy' },
    ),
  },
  { additionalProperties: false },
);
const lifecycleOutputs = Type.Object({
  registryId: withMeta(Type.String({ description: 'The registry.' }), fixed),
  lastEvaluatedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the policy last ran.' })),
  version: Version,
});

export const lifecyclePolicyModel = {
  name: 'lifecycle_policy',
  title: 'LifecyclePolicy',
  description: "A repository's lifecycle policy: rules that expire images by count or age (one per repository).",
  path: '/repositories/{repositoryName}/lifecycle-policy',
  identity: ['repositoryName'],
  importId: '<repositoryName>',
  inputs: lifecyclePolicyInputs,
  outputs: lifecycleOutputs,
  operations: ['read', 'update', 'delete'],
  arnKind: 'repository',
  actions: { read: 'ecr:GetLifecyclePolicy', update: 'ecr:PutLifecyclePolicy', delete: 'ecr:DeleteLifecyclePolicy' },
  errors: ['RepositoryNotFound', 'LifecyclePolicyNotFound'],
} as const satisfies ResourceModel<typeof lifecyclePolicyInputs, typeof lifecycleOutputs>;

export type RepositoryPolicyInput = Static<typeof repositoryPolicyInputs>;
export type LifecyclePolicyInput = Static<typeof lifecyclePolicyInputs>;
