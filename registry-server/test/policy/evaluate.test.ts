import test from 'ava';
import type { ExecutionContext } from 'ava';
import { evaluate, statementApplies, type AttachedPolicy, type Caller, type Decision, type EvaluationRequest } from '../../src/policy/evaluate.ts';
import { conditionTests, parseOperator, validatePolicyDocument, type ConditionTest } from '../../src/policy/index.ts';

const account = '000000000000';
const repo = (name: string): string => `arn:berth:ecr:local:${account}:repository/${name}`;
const app = repo('team/app');

type Principal = NonNullable<Caller['principal']>;
const alice: Principal = { id: 'AIDAALICE', arn: `arn:berth:iam::${account}:user/alice`, name: 'alice' };
const bob: Principal = { id: 'AIDABOB', arn: `arn:berth:iam::${account}:user/bob`, name: 'bob' };

type Json = Record<string, unknown>;
type Context = EvaluationRequest['context'];

/** A policy as its JSON text would say it, plus where it is attached. */
interface PolicySpec {
  readonly kind: 'identity' | 'resource';
  readonly source: string;
  readonly statements: readonly Json[];
  readonly attachedTo?: string;
}

const identity = (...statements: Json[]): PolicySpec => ({ kind: 'identity', source: 'identity:alice/Inline', statements });
const repository = (...statements: Json[]): PolicySpec => ({ kind: 'resource', source: 'repository:team/app', attachedTo: app, statements });
const registry = (...statements: Json[]): PolicySpec => ({ kind: 'resource', source: 'registry', attachedTo: repo('*'), statements });

const allowAll: Json = { Sid: 'All', Effect: 'Allow', Action: 'ecr:*', Resource: '*' };
const pullFrom = (principal: unknown): Json => ({ Sid: 'Pull', Effect: 'Allow', Principal: principal, Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] });

function attach(t: ExecutionContext, spec: PolicySpec): AttachedPolicy {
  const text = JSON.stringify({ Version: '2012-10-17', Statement: spec.statements });
  const result = validatePolicyDocument(text, { context: spec.kind });
  if (!result.ok) {
    t.fail(`${spec.source} does not validate: ${JSON.stringify(result.errors)}`);
    throw new Error('invalid policy');
  }
  const base = { kind: spec.kind, source: spec.source, document: result.policy };
  return spec.attachedTo === undefined ? base : { ...base, attachedTo: spec.attachedTo };
}

interface Case {
  readonly name: string;
  readonly policies: readonly PolicySpec[];
  /** Defaults to alice; null is anonymous. */
  readonly caller?: Principal | null;
  readonly action?: string;
  readonly resource?: string;
  readonly context?: Context;
  readonly expect: Decision['decision'];
  /** The deciding statement: [source, index, sid?]. */
  readonly by?: readonly [string, number, string?];
}

function request(c: { caller?: Principal | null; action?: string; resource?: string; context?: Context }): EvaluationRequest {
  return {
    caller: { principal: c.caller === undefined ? alice : c.caller },
    action: c.action ?? 'ecr:BatchGetImage',
    resource: c.resource ?? app,
    context: c.context ?? {},
  };
}

const cases: Case[] = [
  // Allow, implicit deny
  { name: 'identity Allow allows', policies: [identity(allowAll)], expect: 'allowed', by: ['identity:alice/Inline', 0, 'All'] },
  { name: 'no policies at all: implicit deny', policies: [], expect: 'implicitDeny' },
  {
    name: 'no statement matches the action: implicit deny',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:PutImage', Resource: '*' })],
    expect: 'implicitDeny',
  },
  {
    name: 'no statement matches the resource: implicit deny',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: repo('other/app') })],
    expect: 'implicitDeny',
  },
  {
    name: 'resource policy Allow alone allows (single account)',
    policies: [repository(pullFrom({ AWS: alice.arn }))],
    expect: 'allowed',
    by: ['repository:team/app', 0, 'Pull'],
  },

  // Explicit deny
  {
    name: 'identity Deny overrides resource policy Allow',
    policies: [repository(pullFrom({ AWS: alice.arn })), identity({ Sid: 'NoPull', Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: '*' })],
    expect: 'explicitDeny',
    by: ['identity:alice/Inline', 0, 'NoPull'],
  },
  {
    name: 'resource policy Deny overrides identity Allow',
    policies: [identity(allowAll), repository({ Sid: 'Frozen', Effect: 'Deny', Principal: '*', Action: 'ecr:*' })],
    expect: 'explicitDeny',
    by: ['repository:team/app', 0, 'Frozen'],
  },
  {
    name: 'Deny after Allow in the same policy still wins',
    policies: [identity(allowAll, { Sid: 'NoDelete', Effect: 'Deny', Action: 'ecr:BatchDeleteImage', Resource: '*' })],
    action: 'ecr:BatchDeleteImage',
    expect: 'explicitDeny',
    by: ['identity:alice/Inline', 1, 'NoDelete'],
  },
  {
    name: 'Deny for another action leaves the Allow',
    policies: [identity(allowAll, { Effect: 'Deny', Action: 'ecr:BatchDeleteImage', Resource: '*' })],
    expect: 'allowed',
    by: ['identity:alice/Inline', 0, 'All'],
  },
  {
    name: 'Deny whose condition fails does not deny',
    policies: [identity(allowAll, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': false } } })],
    context: { 'aws:SecureTransport': 'true' },
    expect: 'allowed',
  },
  {
    name: 'Deny alone is an explicit deny, not an implicit one',
    policies: [registry({ Sid: 'Lockdown', Effect: 'Deny', Principal: { AWS: '*' }, Action: '*' })],
    expect: 'explicitDeny',
    by: ['registry', 0, 'Lockdown'],
  },

  // NotAction, NotResource
  {
    name: 'NotAction Allow covers other actions',
    policies: [identity({ Effect: 'Allow', NotAction: 'ecr:BatchDelete*', Resource: '*' })],
    expect: 'allowed',
  },
  {
    name: 'NotAction Allow excludes the listed action',
    policies: [identity({ Effect: 'Allow', NotAction: 'ecr:BatchDelete*', Resource: '*' })],
    action: 'ecr:BatchDeleteImage',
    expect: 'implicitDeny',
  },
  {
    name: 'NotAction Deny denies everything but reads',
    policies: [identity(allowAll, { Effect: 'Deny', NotAction: ['ecr:BatchGet*', 'ecr:Describe*'], Resource: '*' })],
    action: 'ecr:PutImage',
    expect: 'explicitDeny',
  },
  {
    name: 'NotAction Deny spares the listed reads',
    policies: [identity(allowAll, { Effect: 'Deny', NotAction: ['ecr:BatchGet*', 'ecr:Describe*'], Resource: '*' })],
    expect: 'allowed',
  },
  {
    name: 'NotResource Allow covers other repositories',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', NotResource: repo('secret/*') })],
    expect: 'allowed',
  },
  {
    name: 'NotResource Allow excludes the listed repositories',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', NotResource: repo('secret/*') })],
    resource: repo('secret/keys'),
    expect: 'implicitDeny',
  },
  {
    name: 'NotResource Deny denies all but the listed repository',
    policies: [identity(allowAll, { Effect: 'Deny', Action: 'ecr:*', NotResource: app })],
    resource: repo('team/other'),
    expect: 'explicitDeny',
  },

  // Action wildcards
  { name: 'action ecr:* matches', policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' })], action: 'ecr:PutImage', expect: 'allowed' },
  { name: 'action * matches any service', policies: [identity({ Effect: 'Allow', Action: '*', Resource: '*' })], action: 'kms:Decrypt', expect: 'allowed' },
  { name: 'action ecr:* does not match another service', policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' })], action: 'kms:Decrypt', expect: 'implicitDeny' },
  { name: 'action ecr:Batch* matches BatchGetImage', policies: [identity({ Effect: 'Allow', Action: 'ecr:Batch*', Resource: '*' })], expect: 'allowed' },
  { name: 'action ecr:Batch* does not match PutImage', policies: [identity({ Effect: 'Allow', Action: 'ecr:Batch*', Resource: '*' })], action: 'ecr:PutImage', expect: 'implicitDeny' },
  {
    name: 'action ecr:?etAuthorizationToken matches GetAuthorizationToken',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:?etAuthorizationToken', Resource: '*' })],
    action: 'ecr:GetAuthorizationToken',
    expect: 'allowed',
  },
  {
    name: '? matches exactly one character',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:?etAuthorizationToken', Resource: '*' })],
    action: 'ecr:ResetAuthorizationToken',
    expect: 'implicitDeny',
  },
  {
    name: 'actions match case-insensitively (policy lowercase)',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:batchgetimage', Resource: '*' })],
    action: 'ECR:BatchGetImage',
    expect: 'allowed',
  },
  {
    name: 'action wildcards match case-insensitively',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:BATCH*', Resource: '*' })],
    action: 'ecr:batchgetimage',
    expect: 'allowed',
  },
  {
    name: 'an action that is a prefix of the request does not match',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:BatchGet', Resource: '*' })],
    expect: 'implicitDeny',
  },

  // Resource wildcards
  { name: 'resource wildcard matches a repository under it', policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: repo('team/*') })], expect: 'allowed' },
  {
    name: 'resource wildcard does not match another namespace',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: repo('team/*') })],
    resource: repo('other/app'),
    expect: 'implicitDeny',
  },
  {
    name: 'resource ? matches one character',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: repo('team/ap?') })],
    expect: 'allowed',
  },
  {
    name: 'resources match case-sensitively',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: repo('Team/*') })],
    expect: 'implicitDeny',
  },
  {
    name: 'resource wildcard in the region and account parts',
    policies: [identity({ Effect: 'Allow', Action: 'ecr:*', Resource: 'arn:berth:ecr:*:*:repository/team/app' })],
    expect: 'allowed',
  },

  // Principals in resource policies
  { name: 'repository policy naming bob by id lets bob pull', policies: [repository(pullFrom({ AWS: bob.id }))], caller: bob, expect: 'allowed' },
  { name: 'repository policy naming bob by ARN lets bob pull', policies: [repository(pullFrom({ AWS: bob.arn }))], caller: bob, expect: 'allowed' },
  { name: 'repository policy naming bob by name lets bob pull', policies: [repository(pullFrom({ AWS: 'bob' }))], caller: bob, expect: 'allowed' },
  { name: 'repository policy naming the account lets bob pull', policies: [repository(pullFrom({ AWS: account }))], caller: bob, expect: 'allowed' },
  {
    name: 'repository policy naming the aws account root lets bob pull',
    policies: [repository(pullFrom({ AWS: `arn:aws:iam::${account}:root` }))],
    caller: bob,
    expect: 'allowed',
  },
  {
    name: 'repository policy naming the berth account root lets bob pull',
    policies: [repository(pullFrom({ AWS: `arn:berth:iam::${account}:root` }))],
    caller: bob,
    expect: 'allowed',
  },
  { name: 'another account does not cover bob', policies: [repository(pullFrom({ AWS: '111111111111' }))], caller: bob, expect: 'implicitDeny' },
  {
    name: "another account's root does not cover bob",
    policies: [repository(pullFrom({ AWS: 'arn:aws:iam::111111111111:root' }))],
    caller: bob,
    expect: 'implicitDeny',
  },
  { name: 'repository policy naming bob does not let alice pull', policies: [repository(pullFrom({ AWS: [bob.id, bob.arn, 'bob'] }))], expect: 'implicitDeny' },
  { name: 'repository policy naming bob does not let anonymous pull', policies: [repository(pullFrom({ AWS: 'bob' }))], caller: null, expect: 'implicitDeny' },
  { name: 'repository policy allowing bob to pull does not let him push', policies: [repository(pullFrom({ AWS: 'bob' }))], caller: bob, action: 'ecr:PutImage', expect: 'implicitDeny' },
  { name: 'Principal "*" lets anonymous pull', policies: [repository(pullFrom('*'))], caller: null, expect: 'allowed', by: ['repository:team/app', 0, 'Pull'] },
  { name: '{"AWS": "*"} does not let anonymous pull', policies: [repository(pullFrom({ AWS: '*' }))], caller: null, expect: 'implicitDeny' },
  { name: '{"AWS": "*"} lets any authenticated principal pull', policies: [repository(pullFrom({ AWS: '*' }))], caller: bob, expect: 'allowed' },
  { name: 'a Service principal never matches a Berth principal', policies: [repository(pullFrom({ Service: 'replication.berth' }))], caller: bob, expect: 'implicitDeny' },
  {
    name: 'a Federated principal never matches a Berth principal',
    policies: [repository(pullFrom({ Federated: 'accounts.google.com' }))],
    caller: bob,
    expect: 'implicitDeny',
  },
  { name: 'identity policies never apply to anonymous callers', policies: [identity(allowAll)], caller: null, expect: 'implicitDeny' },
  {
    name: 'NotPrincipal Deny spares the listed principal',
    policies: [repository(pullFrom('*'), { Sid: 'OnlyBob', Effect: 'Deny', NotPrincipal: { AWS: 'bob' }, Action: 'ecr:*' })],
    caller: bob,
    expect: 'allowed',
  },
  {
    name: 'NotPrincipal Deny denies everyone else',
    policies: [repository(pullFrom('*'), { Sid: 'OnlyBob', Effect: 'Deny', NotPrincipal: { AWS: 'bob' }, Action: 'ecr:*' })],
    expect: 'explicitDeny',
    by: ['repository:team/app', 1, 'OnlyBob'],
  },
  {
    name: 'NotPrincipal Deny denies anonymous callers',
    policies: [repository(pullFrom('*'), { Effect: 'Deny', NotPrincipal: { AWS: 'bob' }, Action: 'ecr:*' })],
    caller: null,
    expect: 'explicitDeny',
  },
  {
    name: 'NotPrincipal Allow lets an unlisted principal in',
    policies: [repository({ Effect: 'Allow', NotPrincipal: { AWS: 'bob' }, Action: 'ecr:BatchGetImage' })],
    expect: 'allowed',
  },
  {
    name: 'NotPrincipal "*" applies to no one',
    policies: [identity(allowAll), repository({ Effect: 'Deny', NotPrincipal: '*', Action: 'ecr:*' })],
    expect: 'allowed',
  },

  // Resource policies without Resource
  { name: 'resource policy without Resource applies to its repository', policies: [repository(pullFrom('*'))], caller: null, expect: 'allowed' },
  {
    name: 'resource policy without Resource does not apply to another repository',
    policies: [repository(pullFrom('*'))],
    caller: null,
    resource: repo('other/app'),
    expect: 'implicitDeny',
  },
  {
    name: 'registry policy without Resource applies to every repository',
    policies: [registry(pullFrom({ AWS: 'bob' }))],
    caller: bob,
    resource: repo('any/where'),
    expect: 'allowed',
    by: ['registry', 0, 'Pull'],
  },
  {
    name: 'registry policy without Resource does not apply beyond repositories',
    policies: [registry({ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 'ecr:*' })],
    caller: bob,
    resource: `arn:berth:ecr:local:${account}:registry`,
    expect: 'implicitDeny',
  },
  {
    name: 'registry policy with Resource narrows to it',
    policies: [registry({ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 'ecr:*', Resource: repo('shared/*') })],
    caller: bob,
    expect: 'implicitDeny',
  },

  // The deciding statement
  {
    name: 'the first matching Allow is reported',
    policies: [
      identity({ Sid: 'Push', Effect: 'Allow', Action: 'ecr:PutImage', Resource: '*' }, { Effect: 'Allow', Action: 'ecr:Batch*', Resource: '*' }, allowAll),
      repository(pullFrom({ AWS: 'alice' })),
    ],
    expect: 'allowed',
    by: ['identity:alice/Inline', 1],
  },
  {
    name: 'the first matching Deny is reported, across policies',
    policies: [
      identity(allowAll, { Effect: 'Deny', Action: 'ecr:Put*', Resource: '*' }),
      repository({ Sid: 'Second', Effect: 'Deny', Principal: '*', Action: 'ecr:*' }),
    ],
    action: 'ecr:PutImage',
    expect: 'explicitDeny',
    by: ['identity:alice/Inline', 1],
  },
];

function check(t: ExecutionContext, c: { expect: Decision['decision']; by?: readonly [string, number, string?] }, decision: Decision): void {
  t.is(decision.decision, c.expect);
  if (c.expect === 'implicitDeny') t.is(decision.statement, undefined);
  else t.is(decision.statement?.effect, c.expect === 'allowed' ? 'Allow' : 'Deny');
  if (c.by !== undefined) {
    const [source, index, sid] = c.by;
    const expected = sid === undefined ? { source, index, effect: decision.statement?.effect } : { source, index, sid, effect: decision.statement?.effect };
    t.deepEqual(decision.statement, expected);
  }
}

for (const c of cases) {
  test(`evaluate: ${c.name}`, (t) => {
    const policies = c.policies.map((p) => attach(t, p));
    check(t, c, evaluate(request(c), policies, account));
    // Policy order decides only which statement is reported, never the decision.
    t.is(evaluate(request(c), [...policies].reverse(), account).decision, c.expect);
  });
}

// Conditions: each case is one Allow statement with the given Condition block.
interface ConditionCase {
  readonly name: string;
  readonly condition: Json;
  readonly context: Context;
  readonly holds: boolean;
}

const now = '2026-11-23T10:00:00Z';
const ctx = { 'aws:username': 'alice', 'aws:CurrentTime': now, 'aws:EpochTime': '1795428000', 'aws:SourceIp': '10.1.2.3', 'aws:SecureTransport': 'true' };

const conditionCases: ConditionCase[] = [
  // String
  { name: 'StringEquals: equal', condition: { StringEquals: { 'aws:username': 'alice' } }, context: ctx, holds: true },
  { name: 'StringEquals: different', condition: { StringEquals: { 'aws:username': 'bob' } }, context: ctx, holds: false },
  { name: 'StringEquals: values are case-sensitive', condition: { StringEquals: { 'aws:username': 'Alice' } }, context: ctx, holds: false },
  { name: 'StringEquals: values of a key are ORed', condition: { StringEquals: { 'aws:username': ['bob', 'alice'] } }, context: ctx, holds: true },
  { name: 'StringEquals: keys are case-insensitive', condition: { StringEquals: { 'AWS:USERNAME': 'alice' } }, context: ctx, holds: true },
  { name: 'StringEquals: missing key', condition: { StringEquals: { 'aws:PrincipalTag/team': 'a' } }, context: ctx, holds: false },
  { name: 'StringNotEquals: different', condition: { StringNotEquals: { 'aws:username': 'bob' } }, context: ctx, holds: true },
  { name: 'StringNotEquals: equal to one of the values (NOR)', condition: { StringNotEquals: { 'aws:username': ['bob', 'alice'] } }, context: ctx, holds: false },
  { name: 'StringNotEquals: missing key holds (IAM)', condition: { StringNotEquals: { 'aws:PrincipalTag/team': 'a' } }, context: ctx, holds: true },
  { name: 'StringEqualsIgnoreCase: equal but for case', condition: { StringEqualsIgnoreCase: { 'aws:username': 'ALICE' } }, context: ctx, holds: true },
  { name: 'StringEqualsIgnoreCase: different', condition: { StringEqualsIgnoreCase: { 'aws:username': 'BOB' } }, context: ctx, holds: false },
  { name: 'StringNotEqualsIgnoreCase: equal but for case', condition: { StringNotEqualsIgnoreCase: { 'aws:username': 'ALICE' } }, context: ctx, holds: false },
  { name: 'StringNotEqualsIgnoreCase: different', condition: { StringNotEqualsIgnoreCase: { 'aws:username': 'BOB' } }, context: ctx, holds: true },
  { name: 'StringLike: * wildcard', condition: { StringLike: { 'aws:username': 'ali*' } }, context: ctx, holds: true },
  { name: 'StringLike: ? wildcard', condition: { StringLike: { 'aws:username': 'a?ice' } }, context: ctx, holds: true },
  { name: 'StringLike: no match', condition: { StringLike: { 'aws:username': 'bo*' } }, context: ctx, holds: false },
  { name: 'StringLike: case-sensitive', condition: { StringLike: { 'aws:username': 'ALI*' } }, context: ctx, holds: false },
  { name: 'StringNotLike: no match', condition: { StringNotLike: { 'aws:username': 'bo*' } }, context: ctx, holds: true },
  { name: 'StringNotLike: a match', condition: { StringNotLike: { 'aws:username': ['bo*', 'al*'] } }, context: ctx, holds: false },
  // Numeric
  { name: 'NumericEquals: equal despite notation', condition: { NumericEquals: { 'aws:MultiFactorAuthAge': 3600 } }, context: { 'aws:MultiFactorAuthAge': '3600.00' }, holds: true },
  { name: 'NumericEquals: different', condition: { NumericEquals: { 'aws:MultiFactorAuthAge': 3600 } }, context: { 'aws:MultiFactorAuthAge': '3601' }, holds: false },
  { name: 'NumericNotEquals: different', condition: { NumericNotEquals: { 'custom:n': 5 } }, context: { 'custom:n': '6' }, holds: true },
  { name: 'NumericNotEquals: equal', condition: { NumericNotEquals: { 'custom:n': 5 } }, context: { 'custom:n': '05' }, holds: false },
  { name: 'NumericLessThan: less', condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } }, context: { 'aws:MultiFactorAuthAge': '100' }, holds: true },
  { name: 'NumericLessThan: equal', condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } }, context: { 'aws:MultiFactorAuthAge': '3600' }, holds: false },
  { name: 'NumericLessThanEquals: equal', condition: { NumericLessThanEquals: { 'custom:n': '2.5' } }, context: { 'custom:n': '2.50' }, holds: true },
  { name: 'NumericLessThanEquals: greater', condition: { NumericLessThanEquals: { 'custom:n': '2.5' } }, context: { 'custom:n': '2.51' }, holds: false },
  { name: 'NumericGreaterThan: negatives', condition: { NumericGreaterThan: { 'custom:n': -1.5 } }, context: { 'custom:n': '-1' }, holds: true },
  { name: 'NumericGreaterThan: smaller negative', condition: { NumericGreaterThan: { 'custom:n': -1.5 } }, context: { 'custom:n': '-2' }, holds: false },
  { name: 'NumericGreaterThanEquals: exact beyond 2^53', condition: { NumericGreaterThanEquals: { 'custom:n': '9007199254740993' } }, context: { 'custom:n': '9007199254740992' }, holds: false },
  { name: 'NumericGreaterThanEquals: equal', condition: { NumericGreaterThanEquals: { 'custom:n': 10 } }, context: { 'custom:n': '10' }, holds: true },
  { name: 'Numeric: a non-number context value fails', condition: { NumericNotEquals: { 'custom:n': 5 } }, context: { 'custom:n': 'five' }, holds: false },
  // Date
  { name: 'DateEquals: same instant, other zone', condition: { DateEquals: { 'aws:CurrentTime': '2026-11-23T12:00:00+02:00' } }, context: ctx, holds: true },
  { name: 'DateEquals: other instant', condition: { DateEquals: { 'aws:CurrentTime': '2026-11-23T10:00:01Z' } }, context: ctx, holds: false },
  { name: 'DateNotEquals: other instant', condition: { DateNotEquals: { 'aws:CurrentTime': '2026-11-23' } }, context: ctx, holds: true },
  { name: 'DateNotEquals: same instant as epoch seconds', condition: { DateNotEquals: { 'aws:CurrentTime': 1795428000 } }, context: ctx, holds: false },
  { name: 'DateLessThan: before', condition: { DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }, context: ctx, holds: true },
  { name: 'DateLessThan: after', condition: { DateLessThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }, context: ctx, holds: false },
  { name: 'DateLessThanEquals: equal', condition: { DateLessThanEquals: { 'aws:CurrentTime': '2026-11-23T10:00:00.000Z' } }, context: ctx, holds: true },
  { name: 'DateLessThanEquals: a millisecond later', condition: { DateLessThanEquals: { 'aws:CurrentTime': '2026-11-23T09:59:59.999Z' } }, context: ctx, holds: false },
  { name: 'DateGreaterThan: after epoch seconds', condition: { DateGreaterThan: { 'aws:CurrentTime': 1735689600 } }, context: ctx, holds: true },
  { name: 'DateGreaterThan: before', condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, context: ctx, holds: false },
  { name: 'DateGreaterThanEquals: epoch context, equal', condition: { DateGreaterThanEquals: { 'aws:EpochTime': now } }, context: ctx, holds: true },
  { name: 'DateGreaterThanEquals: epoch context, earlier', condition: { DateGreaterThanEquals: { 'aws:EpochTime': '2026-11-23T10:00:01Z' } }, context: ctx, holds: false },
  { name: 'Date: a malformed context value fails', condition: { DateNotEquals: { 'aws:CurrentTime': now } }, context: { 'aws:CurrentTime': 'yesterday' }, holds: false },
  // Bool, Binary
  { name: 'Bool: true', condition: { Bool: { 'aws:SecureTransport': true } }, context: ctx, holds: true },
  { name: 'Bool: false', condition: { Bool: { 'aws:SecureTransport': 'false' } }, context: ctx, holds: false },
  { name: 'Bool: context case does not matter', condition: { Bool: { 'aws:SecureTransport': true } }, context: { 'aws:SecureTransport': 'TRUE' }, holds: true },
  { name: 'Bool: a non-boolean context value fails', condition: { Bool: { 'aws:SecureTransport': true } }, context: { 'aws:SecureTransport': 'yes' }, holds: false },
  { name: 'BinaryEquals: equal', condition: { BinaryEquals: { 'custom:blob': 'QmVydGg=' } }, context: { 'custom:blob': 'QmVydGg=' }, holds: true },
  { name: 'BinaryEquals: different', condition: { BinaryEquals: { 'custom:blob': 'QmVydGg=' } }, context: { 'custom:blob': 'QmVydGh=' }, holds: false },
  // IP
  { name: 'IpAddress: in an IPv4 CIDR', condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, context: ctx, holds: true },
  { name: 'IpAddress: outside an IPv4 CIDR', condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/16' } }, context: ctx, holds: false },
  { name: 'IpAddress: a single address', condition: { IpAddress: { 'aws:SourceIp': ['192.168.1.1', '10.1.2.3'] } }, context: ctx, holds: true },
  { name: 'IpAddress: in an IPv6 CIDR', condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, context: { 'aws:SourceIp': '2001:db8:1::5' }, holds: true },
  { name: 'IpAddress: outside an IPv6 CIDR', condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, context: { 'aws:SourceIp': '2001:db9::1' }, holds: false },
  { name: 'IpAddress: IPv4-mapped IPv6 source in an IPv4 CIDR', condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, context: { 'aws:SourceIp': '::ffff:10.0.0.1' }, holds: true },
  { name: 'IpAddress: IPv4 source against an IPv6 CIDR', condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, context: ctx, holds: false },
  { name: 'IpAddress: a malformed source fails', condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, context: { 'aws:SourceIp': '10.0.0.256' }, holds: false },
  { name: 'IpAddress: missing key', condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, context: {}, holds: false },
  { name: 'NotIpAddress: outside', condition: { NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } }, context: ctx, holds: true },
  { name: 'NotIpAddress: inside', condition: { NotIpAddress: { 'aws:SourceIp': ['192.168.0.0/16', '10.0.0.0/8'] } }, context: ctx, holds: false },
  { name: 'NotIpAddress: a malformed source fails', condition: { NotIpAddress: { 'aws:SourceIp': '192.168.0.0/16' } }, context: { 'aws:SourceIp': 'localhost' }, holds: false },
  // ARN
  { name: 'ArnEquals: equal', condition: { ArnEquals: { 'aws:PrincipalArn': alice.arn } }, context: { 'aws:PrincipalArn': alice.arn }, holds: true },
  { name: 'ArnEquals: different', condition: { ArnEquals: { 'aws:PrincipalArn': bob.arn } }, context: { 'aws:PrincipalArn': alice.arn }, holds: false },
  { name: 'ArnLike: wildcards', condition: { ArnLike: { 'aws:PrincipalArn': 'arn:berth:iam::*:user/*' } }, context: { 'aws:PrincipalArn': alice.arn }, holds: true },
  { name: 'ArnLike: no match', condition: { ArnLike: { 'aws:PrincipalArn': 'arn:berth:iam::*:role/*' } }, context: { 'aws:PrincipalArn': alice.arn }, holds: false },
  {
    name: 'ArnLike: * does not span ARN parts',
    condition: { ArnLike: { 'aws:SourceArn': `arn:berth:ecr:*:${account}:repository/*` } },
    context: { 'aws:SourceArn': `arn:berth:ecr:a:b:${account}:repository/x` },
    holds: false,
  },
  { name: 'ArnLike: a non-ARN context value fails', condition: { ArnLike: { 'aws:PrincipalArn': '*' } }, context: { 'aws:PrincipalArn': 'alice' }, holds: false },
  { name: 'ArnNotEquals: different', condition: { ArnNotEquals: { 'aws:PrincipalArn': bob.arn } }, context: { 'aws:PrincipalArn': alice.arn }, holds: true },
  { name: 'ArnNotEquals: equal', condition: { ArnNotEquals: { 'aws:PrincipalArn': alice.arn } }, context: { 'aws:PrincipalArn': alice.arn }, holds: false },
  { name: 'ArnNotLike: no match', condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:berth:iam::*:role/*' } }, context: { 'aws:PrincipalArn': alice.arn }, holds: true },
  { name: 'ArnNotLike: a match', condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:berth:iam::*:user/a*' } }, context: { 'aws:PrincipalArn': alice.arn }, holds: false },
  // Null, IfExists
  { name: 'Null true: key absent', condition: { Null: { 'aws:TokenIssueTime': true } }, context: ctx, holds: true },
  { name: 'Null true: key present', condition: { Null: { 'aws:username': true } }, context: ctx, holds: false },
  { name: 'Null false: key present', condition: { Null: { 'aws:username': false } }, context: ctx, holds: true },
  { name: 'Null false: key absent', condition: { Null: { 'aws:TokenIssueTime': false } }, context: ctx, holds: false },
  { name: 'Null true: an empty list is absent', condition: { Null: { 'aws:TagKeys': true } }, context: { 'aws:TagKeys': [] }, holds: true },
  { name: 'IfExists: missing key holds', condition: { StringEqualsIfExists: { 'aws:PrincipalTag/team': 'a' } }, context: ctx, holds: true },
  { name: 'IfExists: present key is tested (match)', condition: { StringEqualsIfExists: { 'aws:username': 'alice' } }, context: ctx, holds: true },
  { name: 'IfExists: present key is tested (no match)', condition: { StringEqualsIfExists: { 'aws:username': 'bob' } }, context: ctx, holds: false },
  { name: 'IfExists: IpAddressIfExists with no source', condition: { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, context: {}, holds: true },
  // Set qualifiers
  { name: 'ForAnyValue: one value matches', condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, context: { 'aws:TagKeys': ['cost', 'team'] }, holds: true },
  { name: 'ForAnyValue: none matches', condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, context: { 'aws:TagKeys': ['cost'] }, holds: false },
  { name: 'ForAnyValue: missing key', condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'team' } }, context: {}, holds: false },
  { name: 'ForAnyValue: empty list', condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': [] }, holds: false },
  { name: 'ForAnyValue: negated, one value differs', condition: { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': ['team', 'cost'] }, holds: true },
  { name: 'ForAnyValue: single string context value', condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': 't*' } }, context: { 'aws:TagKeys': 'team' }, holds: true },
  { name: 'ForAllValues: every value matches', condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, context: { 'aws:TagKeys': ['env', 'team'] }, holds: true },
  { name: 'ForAllValues: one value does not', condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }, context: { 'aws:TagKeys': ['team', 'cost'] }, holds: false },
  { name: 'ForAllValues: missing key holds', condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'team' } }, context: {}, holds: true },
  { name: 'ForAllValues: empty list holds', condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': [] }, holds: true },
  { name: 'ForAllValues: negated, one value is listed', condition: { 'ForAllValues:StringNotEquals': { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': ['team', 'cost'] }, holds: false },
  { name: 'ForAllValues: IfExists on a present key', condition: { 'ForAllValues:StringLikeIfExists': { 'aws:TagKeys': ['t*', 'e*'] } }, context: { 'aws:TagKeys': ['team', 'env'] }, holds: true },
  // Multi-valued keys without a qualifier, several clauses
  { name: 'plain operator on a list: any value matches', condition: { StringEquals: { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': ['cost', 'team'] }, holds: true },
  { name: 'plain negated operator on a list: every value must miss', condition: { StringNotEquals: { 'aws:TagKeys': 'team' } }, context: { 'aws:TagKeys': ['cost', 'team'] }, holds: false },
  {
    name: 'clauses are ANDed: all hold',
    condition: { StringEquals: { 'aws:username': 'alice' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' }, Bool: { 'aws:SecureTransport': true } },
    context: ctx,
    holds: true,
  },
  {
    name: 'clauses are ANDed: one fails',
    condition: { StringEquals: { 'aws:username': 'alice' }, IpAddress: { 'aws:SourceIp': '192.168.0.0/16' } },
    context: ctx,
    holds: false,
  },
  {
    name: 'keys of one operator are ANDed',
    condition: { StringEquals: { 'aws:username': 'alice', 'aws:PrincipalTag/team': 'a' } },
    context: { ...ctx, 'aws:principaltag/team': 'b' },
    holds: false,
  },
];

for (const c of conditionCases) {
  test(`condition: ${c.name}`, (t) => {
    const policy = attach(t, identity({ Sid: 'Cond', Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: c.condition }));
    const req = request({ context: c.context });
    const statement = policy.document.statements[0];
    if (statement === undefined) return t.fail('no statement');
    t.is(statementApplies(statement, req, policy, account), c.holds);
    check(t, c.holds ? { expect: 'allowed', by: ['identity:alice/Inline', 0, 'Cond'] } : { expect: 'implicitDeny' }, evaluate(req, [policy], account));
  });
}

test('condition cases cover every operator both holding and failing, and each qualifier', (t) => {
  const seen = new Map<string, Set<boolean>>();
  const note = (name: string, holds: boolean): void => {
    const set = seen.get(name) ?? new Set<boolean>();
    set.add(holds);
    seen.set(name, set);
  };
  for (const c of conditionCases) {
    const operators = Object.keys(c.condition);
    // A multi-clause case only says something about each operator when it holds.
    if (operators.length > 1 && !c.holds) continue;
    for (const operator of operators) {
      const parsed = parseOperator(operator);
      if (typeof parsed === 'string') return t.fail(parsed);
      note(parsed.test, c.holds);
      if (parsed.ifExists) note('IfExists', c.holds);
      if (parsed.qualifier !== null) note(parsed.qualifier, c.holds);
    }
  }
  const required: readonly (ConditionTest | 'IfExists' | 'ForAnyValue' | 'ForAllValues')[] = [...conditionTests, 'IfExists', 'ForAnyValue', 'ForAllValues'];
  for (const name of required) t.deepEqual([...(seen.get(name) ?? [])].sort(), [false, true], name);
});

test('exact context keys win over case-insensitive ones; prototype keys are not context', (t) => {
  const policy = attach(t, identity({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { StringEquals: { 'aws:username': 'alice' } } }));
  t.is(evaluate(request({ context: { 'AWS:USERNAME': 'bob', 'aws:username': 'alice' } }), [policy], account).decision, 'allowed');
  t.is(evaluate(request({ context: { 'Aws:UserName': 'alice' } }), [policy], account).decision, 'allowed');
  const proto = attach(t, identity({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: { Null: { 'custom:constructor': false } } }));
  const context = Object.create({ 'custom:constructor': 'inherited' }) as Context;
  t.is(evaluate(request({ context }), [proto], account).decision, 'implicitDeny');
});

test('malformed context values never throw', (t) => {
  const conditions = conditionCases.map((c) => c.condition);
  const junk = ['', ' ', '::', '10.0.0.1/8', 'fe80::1%eth0', '1e3', '-', '.5', '2026-02-30', '2026-11-23T25:00:00Z', 'arn:', '\u0000', '\ud800', 'x'.repeat(10_000)];
  for (const condition of conditions) {
    const policy = attach(t, identity({ Effect: 'Allow', Action: 'ecr:*', Resource: '*', Condition: condition }));
    for (const value of junk) {
      const context: Record<string, string | string[]> = {};
      for (const block of Object.values(condition)) for (const key of Object.keys(block as Json)) context[key] = [value, value];
      t.notThrows(() => evaluate(request({ context }), [policy], account));
    }
  }
});

test('a hand-built resource policy without attachedTo applies only through Resource', (t) => {
  const built = attach(t, repository(pullFrom('*')));
  const { attachedTo: _unused, ...policy } = built;
  t.is(evaluate(request({ caller: null }), [policy], account).decision, 'implicitDeny');
});

test('statementApplies checks one statement regardless of the others', (t) => {
  const policy = attach(t, repository(pullFrom({ AWS: 'bob' }), { Effect: 'Deny', Principal: '*', Action: 'ecr:*' }));
  const [pull, deny] = policy.document.statements;
  if (pull === undefined || deny === undefined) return t.fail('statements missing');
  t.true(statementApplies(pull, request({ caller: bob }), policy, account));
  t.false(statementApplies(pull, request({}), policy, account));
  t.true(statementApplies(deny, request({ caller: null }), policy, account));
  t.is(evaluate(request({ caller: bob }), [policy], account).decision, 'explicitDeny');
});
