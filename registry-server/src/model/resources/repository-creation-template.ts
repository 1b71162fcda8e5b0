import { Type, type Static } from '@sinclair/typebox';
import { ResourceTags, Timestamp, Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';
import { EncryptionConfiguration, ExclusionFilters, ScanningConfiguration, TagMutability, repositoryNamePattern } from './repository.ts';

export const TemplatePrefix = Type.Union(
  [Type.Literal('ROOT'), Type.String({ minLength: 1, maxLength: 256, pattern: repositoryNamePattern })],
  { description: 'ROOT (every repository no other template matches) or a namespace: "prod" applies to repositories named prod/...' },
);

export const AppliedFor = Type.Array(Type.Union([Type.Literal('CREATE_ON_PUSH'), Type.Literal('REPLICATION'), Type.Literal('PULL_THROUGH_CACHE')]), {
  minItems: 1,
  maxItems: 3,
  uniqueItems: true,
  description: 'When the template creates repositories: on first push, when replication creates them, for pull-through cache.',
});

const inputs = Type.Object(
  {
    prefix: withMeta(TemplatePrefix, { forceNew: true }),
    description: Type.Optional(Type.String({ maxLength: 256, description: 'What the template is for.' })),
    appliedFor: AppliedFor,
    imageTagMutability: Type.Optional(withMeta(TagMutability, { serverDefault: true })),
    imageTagMutabilityExclusionFilters: Type.Optional(ExclusionFilters),
    imageScanningConfiguration: Type.Optional(withMeta(ScanningConfiguration, { serverDefault: true })),
    encryptionConfiguration: Type.Optional(withMeta(EncryptionConfiguration, { serverDefault: true })),
    resourceTags: Type.Optional(withMeta(ResourceTags, { serverDefault: true })),
    repositoryPolicy: Type.Optional(
      withMeta(Type.String({ maxLength: 10240, description: 'Repository policy (IAM JSON) given to created repositories; stored in canonical form.' }), { document: 'iam-policy' }),
    ),
    lifecyclePolicy: Type.Optional(
      withMeta(Type.String({ maxLength: 30720, description: 'Lifecycle policy (ECR JSON) given to created repositories; stored in canonical form.' }), {
        document: 'lifecycle-policy',
      }),
    ),
  },
  { additionalProperties: false },
);

const outputs = Type.Object({
  createdAt: withMeta(Timestamp, fixed),
  updatedAt: Timestamp,
  version: Version,
});

export const repositoryCreationTemplateModel = {
  name: 'repository_creation_template',
  title: 'RepositoryCreationTemplate',
  description: 'Settings given to repositories that Berth creates itself: on first push, by replication or for a pull-through cache.',
  path: '/repository-creation-templates/{prefix}',
  collectionPath: '/repository-creation-templates',
  identity: ['prefix'],
  importId: '<prefix> (ROOT for the root template)',
  inputs,
  outputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'template',
  actions: { create: 'ecr:CreateRepositoryCreationTemplate', read: 'ecr:DescribeRepositoryCreationTemplates', update: 'ecr:UpdateRepositoryCreationTemplate', delete: 'ecr:DeleteRepositoryCreationTemplate', list: 'ecr:DescribeRepositoryCreationTemplates' },
  errors: ['TemplateAlreadyExists', 'TemplateNotFound'],
} as const satisfies ResourceModel<typeof inputs, typeof outputs>;

export type TemplateInput = Static<typeof inputs>;
