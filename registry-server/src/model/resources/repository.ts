import { Type, type Static } from '@sinclair/typebox';
import { ResourceTags, Timestamp, Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';

// The OCI name grammar, as a JSON Schema pattern (components separated by '/').
export const repositoryNamePattern = '^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*$';

export const RepositoryName = Type.String({
  minLength: 2,
  maxLength: 256,
  pattern: repositoryNamePattern,
  description: 'Repository name: lowercase components separated by "/", 2 to 256 characters (the OCI name grammar).',
});

export const TagMutability = Type.Union(
  [Type.Literal('MUTABLE'), Type.Literal('IMMUTABLE'), Type.Literal('IMMUTABLE_WITH_EXCLUSION'), Type.Literal('MUTABLE_WITH_EXCLUSION')],
  { description: 'Whether tags can be moved to another image. The *_WITH_EXCLUSION settings invert the rule for tags matching the exclusion filters.' },
);

export const ExclusionFilters = Type.Array(
  Type.Object(
    {
      filterType: Type.Literal('WILDCARD', { description: 'Only WILDCARD: "*" matches any run of characters.' }),
      filter: Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9._*-]+$', description: 'Tag pattern, e.g. "latest" or "dev-*".' }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1, maxItems: 5, description: 'Tags excepted from the mutability setting (required with, and only with, the *_WITH_EXCLUSION settings).' },
);

export const ScanningConfiguration = Type.Object(
  { scanOnPush: Type.Boolean({ description: 'Scan each image when it is pushed.' }) },
  { additionalProperties: false, description: 'Image scanning settings.' },
);

export const EncryptionConfiguration = Type.Object(
  {
    encryptionType: Type.Union([Type.Literal('AES256'), Type.Literal('KMS')], { description: 'AES256: a registry-managed key. KMS: the key named by kmsKey.' }),
    kmsKey: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Key id, alias (alias/<name>) or ARN, with encryptionType KMS.' })),
  },
  { additionalProperties: false, description: 'Encryption at rest; fixed when the repository is created.' },
);

const inputs = Type.Object(
  {
    repositoryName: withMeta(RepositoryName, { forceNew: true }),
    imageTagMutability: Type.Optional(withMeta(TagMutability, { serverDefault: true })),
    imageTagMutabilityExclusionFilters: Type.Optional(ExclusionFilters),
    imageScanningConfiguration: Type.Optional(withMeta(ScanningConfiguration, { serverDefault: true })),
    encryptionConfiguration: Type.Optional(withMeta(EncryptionConfiguration, { forceNew: true, serverDefault: true })),
    tags: Type.Optional(ResourceTags),
  },
  { additionalProperties: false },
);

const outputs = Type.Object({
  repositoryId: withMeta(Type.String({ description: 'Identifies this repository; a repository deleted and created again under the same name gets a new one.' }), fixed),
  registryId: withMeta(Type.String({ description: 'The registry that holds the repository.' }), fixed),
  repositoryArn: withMeta(Type.String({ description: 'arn:berth:ecr:<region>:<registryId>:repository/<name>' }), fixed),
  repositoryUri: withMeta(Type.String({ description: 'Host and name to push to and pull from.' }), fixed),
  createdAt: withMeta(Timestamp, fixed),
  imageCount: Type.Integer({ minimum: 0, description: 'Manifests stored in the repository.' }),
  sizeInBytes: Type.Integer({ minimum: 0, description: 'Bytes of the blobs the repository holds.' }),
  version: Version,
});

export const repositoryModel = {
  name: 'repository',
  title: 'Repository',
  description: 'A repository of images, with its tag mutability, scanning, encryption and labels.',
  path: '/repositories/{repositoryName}',
  collectionPath: '/repositories',
  identity: ['repositoryName'],
  importId: '<repositoryName>',
  inputs,
  outputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'repository',
  actions: { create: 'ecr:CreateRepository', read: 'ecr:DescribeRepositories', update: 'ecr:PutImageTagMutability', delete: 'ecr:DeleteRepository', list: 'ecr:DescribeRepositories' },
  fieldActions: { imageTagMutability: 'ecr:PutImageTagMutability', imageTagMutabilityExclusionFilters: 'ecr:PutImageTagMutability', imageScanningConfiguration: 'ecr:PutImageScanningConfiguration', tags: 'ecr:TagResource' },
  errors: ['RepositoryAlreadyExists', 'RepositoryNotFound', 'RepositoryNotEmpty'],
  deleteOptions: Type.Object(
    { force: Type.Optional(Type.Boolean({ default: false, description: 'Delete even when the repository holds images.' })) },
    { additionalProperties: false },
  ),
} as const satisfies ResourceModel<typeof inputs, typeof outputs>;

export type RepositoryInput = Static<typeof inputs>;
export type RepositoryOutput = Static<typeof outputs>;
export type Repository = RepositoryInput & RepositoryOutput & Required<Pick<RepositoryInput, 'imageTagMutability' | 'imageScanningConfiguration' | 'encryptionConfiguration'>>;
