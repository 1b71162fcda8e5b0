// Sample documents and helpers shared by the policy tests.

import { validatePolicyDocument, type PolicyContext, type PolicyResult, type ValidateOptions } from '../../src/policy/index.ts';

export const account = '123456789012';
export const repoArn = `arn:berth:ecr:us-east-1:${account}:repository/team/app`;

/** A resource-policy statement that passes; tests override single fields. */
export const resourceStatement = {
  Sid: 'AllowPull',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${account}:role/puller` },
  Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
};

export const identityStatement = {
  Effect: 'Allow',
  Action: 'ecr:*',
  Resource: repoArn,
};

type Overrides = Record<string, unknown>;

/** One statement with fields replaced; a value of `undefined` removes the field. */
export function withFields(base: Overrides, overrides: Overrides): Overrides {
  const out: Overrides = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

export interface SimpleDoc {
  [key: string]: unknown;
  Version: string;
  Statement: Overrides[];
}

export function resourceDoc(overrides: Overrides = {}): SimpleDoc {
  return { Version: '2012-10-17', Statement: [withFields(resourceStatement, overrides)] };
}

export function identityDoc(overrides: Overrides = {}): SimpleDoc {
  return { Version: '2012-10-17', Statement: [withFields(identityStatement, overrides)] };
}

export function validate(input: unknown, context: PolicyContext = 'resource', options: Partial<ValidateOptions> = {}): PolicyResult {
  return validatePolicyDocument(input, { context, ...options });
}

/** Valid documents of many shapes, used as seeds for canonical and fuzz tests. */
export const validDocuments: { readonly name: string; readonly context: PolicyContext; readonly doc: unknown }[] = [
  { name: 'minimal resource policy', context: 'resource', doc: resourceDoc() },
  {
    name: 'ECR cross-account pull with conditions',
    context: 'resource',
    doc: {
      Version: '2012-10-17',
      Id: 'CrossAccountPull',
      Statement: [
        {
          Sid: 'Pull',
          Effect: 'Allow',
          Principal: { AWS: [account, `arn:aws:iam::${account}:root`, 'AIDAEXAMPLEUSERID'] },
          Action: ['ecr:BatchGetImage', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer'],
          Condition: {
            IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] },
            Bool: { 'aws:SecureTransport': true },
            DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' },
          },
        },
        {
          Sid: 'DenyDelete',
          Effect: 'Deny',
          Principal: '*',
          Action: 'ecr:BatchDeleteImage',
          Condition: { StringNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/admin*' } },
        },
      ],
    },
  },
  {
    name: 'registry policy with Resource',
    context: 'resource',
    doc: {
      Version: '2012-10-17',
      Statement: {
        Sid: 'Replication',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root`, Service: 'replication.ecr.amazonaws.com' },
        Action: ['ecr:CreateRepository', 'ecr:ReplicateImage'],
        Resource: `arn:berth:ecr:us-east-1:${account}:repository/*`,
      },
    },
  },
  {
    name: 'NotPrincipal deny, 2008 version, NotAction',
    context: 'resource',
    doc: {
      Version: '2008-10-17',
      Statement: [{ Effect: 'Deny', NotPrincipal: { AWS: ['berth-admin', account] }, NotAction: ['ecr:Describe*', 'ecr:List*'] }],
    },
  },
  {
    name: 'federated principal with OIDC condition',
    context: 'resource',
    doc: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: [`arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`, 'accounts.google.com'] },
          Action: 'ecr:*',
          Condition: {
            StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:org/*:ref:refs/heads/main' },
            'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] },
            StringEqualsIfExists: { 'ecr:ResourceTag/Cost Center': '1234' },
          },
        },
      ],
    },
  },
  {
    name: 'identity policy with every condition family',
    context: 'identity',
    doc: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Push', Effect: 'Allow', Action: ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'], Resource: repoArn },
        {
          Effect: 'Deny',
          NotAction: 'ecr:Get*',
          NotResource: [repoArn, `arn:berth:ecr:*:${account}:repository/shared/?`],
          Condition: {
            NumericGreaterThanEquals: { 'aws:MultiFactorAuthAge': 3600 },
            NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.1.1', '::1'] },
            DateGreaterThan: { 'aws:EpochTime': 1735689600 },
            ArnNotLike: { 'aws:SourceArn': 'arn:berth:ecr:*:*:repository/*' },
            Null: { 'aws:TokenIssueTime': 'true' },
            BinaryEquals: { 'custom:blob': 'QmVydGg=' },
            'ForAllValues:StringEqualsIgnoreCase': { 'aws:TagKeys': ['Team'] },
            StringNotEquals: { 'aws:username': ['alice', 'bob'] },
          },
        },
      ],
    },
  },
];
