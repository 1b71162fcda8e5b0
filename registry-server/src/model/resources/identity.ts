// Who may call the registry: principals (users and service accounts), their access keys and the
// identity policies attached to them.
import { Type, type Static } from '@sinclair/typebox';
import { ResourceTags, Timestamp, Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';
import { iamPolicyText } from './policies.ts';

export const PrincipalName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z][A-Za-z0-9_.@+=-]{0,63}$',
  description: 'Principal name: a letter, then up to 63 letters, digits and _.@+=- (unique in the registry).',
});

const principalInputs = Type.Object(
  {
    principalName: withMeta(PrincipalName, { forceNew: true }),
    type: Type.Optional(
      withMeta(Type.Union([Type.Literal('USER'), Type.Literal('SERVICE_ACCOUNT')], { description: 'USER for people, SERVICE_ACCOUNT for machines (CI, replication). Default USER.' }), {
        forceNew: true,
        serverDefault: true,
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 1000, description: 'Free text.' })),
    tags: Type.Optional(ResourceTags),
  },
  { additionalProperties: false },
);

const principalOutputs = Type.Object({
  principalId: withMeta(Type.String({ description: 'Unique id (a principal deleted and created again gets a new one); usable in a policy\'s Principal.' }), fixed),
  arn: withMeta(Type.String({ description: 'arn:berth:iam::<registryId>:principal/<name>' }), fixed),
  registryId: withMeta(Type.String({ description: 'The registry.' }), fixed),
  createdAt: withMeta(Timestamp, fixed),
  version: Version,
});

export const principalModel = {
  name: 'principal',
  title: 'Principal',
  description: 'A user or service account that signs in with access keys; identity policies say what it may do.',
  path: '/principals/{principalName}',
  collectionPath: '/principals',
  identity: ['principalName'],
  importId: '<principalName>',
  inputs: principalInputs,
  outputs: principalOutputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'principal',
  actions: { create: 'iam:CreateUser', read: 'iam:GetUser', update: 'iam:UpdateUser', delete: 'iam:DeleteUser', list: 'iam:ListUsers' },
  fieldActions: { description: 'iam:UpdateUser', tags: 'iam:TagUser' },
  errors: ['PrincipalAlreadyExists', 'PrincipalNotFound', 'PrincipalHasDependents'],
  deleteOptions: Type.Object(
    { force: Type.Optional(Type.Boolean({ default: false, description: "Delete the principal's access keys and policies with it." })) },
    { additionalProperties: false },
  ),
} as const satisfies ResourceModel<typeof principalInputs, typeof principalOutputs>;

export const AccessKeyId = Type.String({ pattern: '^BKIA[A-Z2-7]{16}$', description: 'Access key id (BKIA + 16 characters).' });

const accessKeyInputs = Type.Object(
  {
    principalName: withMeta(PrincipalName, { forceNew: true }),
    status: Type.Optional(
      withMeta(Type.Union([Type.Literal('Active'), Type.Literal('Inactive')], { description: 'Inactive keys are refused at sign-in. Default Active.' }), { serverDefault: true }),
    ),
    description: Type.Optional(Type.String({ maxLength: 256, description: 'Free text (what uses the key).' })),
  },
  { additionalProperties: false },
);

const accessKeyOutputs = Type.Object({
  accessKeyId: withMeta(AccessKeyId, fixed),
  secretAccessKey: Type.Optional(
    withMeta(Type.String({ description: 'The secret: returned once, by create and rotate; stored only as a slow salted hash.' }), { sensitive: true }),
  ),
  createdAt: withMeta(Timestamp, fixed),
  rotatedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the secret was last replaced.' })),
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the key last signed in (to the minute).' })),
  version: Version,
});

export const accessKeyModel = {
  name: 'access_key',
  title: 'AccessKey',
  description: "A principal's access key: an id and a secret shown once. Sign in with Basic auth (id:secret) or trade it for a token.",
  path: '/access-keys/{accessKeyId}',
  collectionPath: '/access-keys',
  identity: [],
  assignedId: 'accessKeyId',
  importId: '<accessKeyId>',
  inputs: accessKeyInputs,
  outputs: accessKeyOutputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'accessKey',
  actions: { create: 'iam:CreateAccessKey', read: 'iam:ListAccessKeys', update: 'iam:UpdateAccessKey', delete: 'iam:DeleteAccessKey', list: 'iam:ListAccessKeys' },
  errors: ['PrincipalNotFound', 'AccessKeyNotFound', 'LimitExceeded'],
} as const satisfies ResourceModel<typeof accessKeyInputs, typeof accessKeyOutputs>;

export const PolicyName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.@+=-]+$', description: 'Policy name, unique per principal.' });

const identityPolicyInputs = Type.Object(
  {
    principalName: withMeta(PrincipalName, { forceNew: true }),
    policyName: withMeta(PolicyName, { forceNew: true }),
    policyText: iamPolicyText('iam-identity-policy', 'IAM policy JSON without Principal (it applies to the principal it is attached to); Resource is required.'),
  },
  { additionalProperties: false },
);

const identityPolicyOutputs = Type.Object({ registryId: withMeta(Type.String({ description: 'The registry.' }), fixed), version: Version });

export const identityPolicyModel = {
  name: 'identity_policy',
  title: 'IdentityPolicy',
  description: 'A named policy attached to a principal.',
  path: '/principals/{principalName}/policies/{policyName}',
  identity: ['principalName', 'policyName'],
  importId: '<principalName>,<policyName>',
  inputs: identityPolicyInputs,
  outputs: identityPolicyOutputs,
  operations: ['read', 'update', 'delete'],
  arnKind: 'principal',
  actions: { read: 'iam:GetUserPolicy', update: 'iam:PutUserPolicy', delete: 'iam:DeleteUserPolicy' },
  errors: ['PrincipalNotFound', 'IdentityPolicyNotFound'],
} as const satisfies ResourceModel<typeof identityPolicyInputs, typeof identityPolicyOutputs>;

export type PrincipalInput = Static<typeof principalInputs>;
export type AccessKeyInput = Static<typeof accessKeyInputs>;
export type IdentityPolicyInput = Static<typeof identityPolicyInputs>;
