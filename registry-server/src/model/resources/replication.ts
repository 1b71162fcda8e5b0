import { Type, type Static } from '@sinclair/typebox';
import { Version } from '../common.ts';
import { fixed, withMeta } from '../meta.ts';
import type { ResourceModel } from '../resource.ts';

// ECR's replication configuration (one per registry: rules of destinations and repository
// filters), with destinations that are registries reached over the OCI distribution API: another
// Berth or any OCI registry. Rules have names (an addition to ECR's shape) so that separate IaC
// modules can each own a rule (berth_replication_rule) without overwriting the others.

export const replicationLimits = { rules: 10, destinations: 25, filters: 100 } as const;

export const ReplicationDestination = Type.Object(
  {
    endpoint: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://[^\\s/?#]+(?:/[^\\s?#]*)?$',
      description: "Base URL of the destination registry's OCI API (https://registry.example.com, http://127.0.0.1:5000).",
    }),
    registryId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: "The destination's registry id (a Berth's registryId), shown in replication statuses." })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9-]+$', description: "The destination's region (informational, as in ECR)." })),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'User name (for a Berth: an access key id) to sign in to the destination with.' })),
    password: Type.Optional(
      withMeta(Type.String({ minLength: 1, maxLength: 1024, description: 'Password or secret for username; stored encrypted under the registry KMS key and never returned.' }), {
        sensitive: true,
        writeOnly: true,
      }),
    ),
  },
  { additionalProperties: false },
);

export const RepositoryFilter = Type.Object(
  {
    filter: Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z0-9._/*-]+$', description: 'Repository name prefix (PREFIX_MATCH) or pattern where "*" matches any run of characters (WILDCARD).' }),
    filterType: Type.Union([Type.Literal('PREFIX_MATCH'), Type.Literal('WILDCARD')], { description: 'PREFIX_MATCH (as ECR) or WILDCARD.' }),
  },
  { additionalProperties: false },
);

const ruleFields = {
  destinations: Type.Array(ReplicationDestination, { minItems: 1, maxItems: replicationLimits.destinations, description: 'Registries that pushed images are copied to (at most 25).' }),
  repositoryFilters: Type.Optional(
    withMeta(
      Type.Array(RepositoryFilter, {
        maxItems: replicationLimits.filters,
        description: 'Repositories the rule applies to (any filter matching is enough; none: every repository). At most 100.',
      }),
      { serverDefault: true },
    ),
  ),
};

export const RuleName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'Name of the rule, unique in the registry.' });

export const ReplicationRule = Type.Object(
  { name: Type.Optional(withMeta(RuleName, { serverDefault: true })), ...ruleFields },
  { additionalProperties: false },
);

const registryOutputs = Type.Object({ registryId: withMeta(Type.String({ description: 'The registry.' }), fixed), version: Version });

const configurationInputs = Type.Object(
  {
    rules: Type.Array(ReplicationRule, {
      maxItems: replicationLimits.rules,
      description: 'Replication rules (at most 10); a rule without a name is named rule-<n> by its position.',
    }),
  },
  { additionalProperties: false },
);

export const replicationConfigurationModel = {
  name: 'replication_configuration',
  title: 'ReplicationConfiguration',
  description:
    "The registry's replication rules, whole (one per registry). Images pushed after a rule exists are copied to its destinations; replication never deletes and is not chained onward by the destination.",
  path: '/registry/replication-configuration',
  identity: [],
  importId: '<registryId>',
  inputs: configurationInputs,
  outputs: registryOutputs,
  operations: ['read', 'update', 'delete'],
  arnKind: 'registry',
  actions: { read: 'ecr:DescribeRegistry', update: 'ecr:PutReplicationConfiguration', delete: 'ecr:PutReplicationConfiguration' },
  errors: ['ReplicationConfigurationNotFound', 'LimitExceeded'],
} as const satisfies ResourceModel<typeof configurationInputs, typeof registryOutputs>;

const ruleInputs = Type.Object({ name: withMeta(RuleName, { forceNew: true }), ...ruleFields }, { additionalProperties: false });

export const replicationRuleModel = {
  name: 'replication_rule',
  title: 'ReplicationRule',
  description: 'One named rule of the replication configuration, managed on its own (so separate modules can each own one).',
  path: '/registry/replication-rules/{name}',
  collectionPath: '/registry/replication-rules',
  identity: ['name'],
  importId: '<name>',
  inputs: ruleInputs,
  outputs: registryOutputs,
  operations: ['create', 'read', 'update', 'delete', 'list'],
  arnKind: 'registry',
  actions: {
    create: 'ecr:PutReplicationConfiguration',
    read: 'ecr:DescribeRegistry',
    update: 'ecr:PutReplicationConfiguration',
    delete: 'ecr:PutReplicationConfiguration',
    list: 'ecr:DescribeRegistry',
  },
  errors: ['ReplicationRuleNotFound', 'ReplicationRuleAlreadyExists', 'LimitExceeded'],
} as const satisfies ResourceModel<typeof ruleInputs, typeof registryOutputs>;

export type ReplicationConfigurationInput = Static<typeof configurationInputs>;
export type ReplicationRuleInput = Static<typeof ReplicationRule>;
export type ReplicationDestinationInput = Static<typeof ReplicationDestination>;
export type RepositoryFilterInput = Static<typeof RepositoryFilter>;

/** What DescribeImageReplicationStatus answers, per destination. */
export const ReplicationStatus = Type.Object({
  endpoint: Type.String(),
  registryId: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('IN_PROGRESS'), Type.Literal('COMPLETE'), Type.Literal('FAILED')]),
  failureCode: Type.Optional(Type.String({ description: 'Why the last attempt failed (kept while a retry is pending).' })),
  attempts: Type.Integer({ minimum: 0 }),
  updatedAt: Type.String({ format: 'date-time' }),
});
