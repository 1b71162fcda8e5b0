import test from 'ava';
import type { PolicyContext } from '../../src/policy/index.ts';
import { account, identityDoc, repoArn, resourceDoc, validDocuments, validate } from './fixtures.ts';

interface Case {
  readonly name: string;
  readonly input: unknown;
  readonly context?: PolicyContext;
  /** Every expected error, in order: [path, message pattern]. */
  readonly errors: readonly (readonly [string, RegExp])[];
}

const cond = (condition: unknown): Record<string, unknown> => resourceDoc({ Condition: condition });
const ip = (value: unknown): Record<string, unknown> => cond({ IpAddress: { 'aws:SourceIp': value } });

const cases: Case[] = [
  // The input as a whole
  { name: 'array document', input: [], errors: [['', /must be a JSON object, not an array/]] },
  { name: 'JSON text of null', input: 'null', errors: [['', /must be a JSON object, not null/]] },
  { name: 'truncated JSON text', input: '{"Version": "2012-10-17", "Statement": [', errors: [['', /^invalid JSON/]] },
  { name: 'empty text', input: '', errors: [['', /^invalid JSON/]] },
  { name: 'not JSON at all', input: 'Version: 2012-10-17', errors: [['', /^invalid JSON/]] },
  { name: 'undefined', input: undefined, errors: [['', /not a JSON value/]] },
  { name: 'BigInt inside an object', input: { Version: 1n }, errors: [['', /not a JSON value/]] },
  // Version, Id, unknown fields
  { name: 'missing Version', input: { Statement: resourceDoc().Statement }, errors: [['Version', /required/]] },
  { name: 'unknown Version', input: { ...resourceDoc(), Version: '2013-01-01' }, errors: [['Version', /must be "2012-10-17" or "2008-10-17", not "2013-01-01"/]] },
  { name: 'numeric Version', input: { ...resourceDoc(), Version: 2012 }, errors: [['Version', /not a number/]] },
  {
    name: 'misspelt top-level field',
    input: { Version: '2012-10-17', Statment: resourceDoc().Statement },
    errors: [
      ['Statment', /unknown field \(expected Version, Id, Statement\)/],
      ['Statement', /required/],
    ],
  },
  {
    name: 'lowercase field names',
    input: { version: '2012-10-17', Statement: resourceDoc().Statement },
    errors: [
      ['version', /case-sensitive: Version/],
      ['Version', /required/],
    ],
  },
  { name: 'odd key is bracketed in the path', input: { ...resourceDoc(), 'x y': 1 }, errors: [['["x y"]', /unknown field/]] },
  { name: 'numeric Id', input: { ...resourceDoc(), Id: 7 }, errors: [['Id', /must be a string, not a number/]] },
  { name: 'Id with a control character', input: { ...resourceDoc(), Id: 'a\nb' }, errors: [['Id', /control characters/]] },
  // Statement
  { name: 'missing Statement', input: { Version: '2012-10-17' }, errors: [['Statement', /required/]] },
  { name: 'empty Statement array', input: { Version: '2012-10-17', Statement: [] }, errors: [['Statement', /at least one statement/]] },
  { name: 'Statement string', input: { Version: '2012-10-17', Statement: 'Allow' }, errors: [['Statement', /not a string/]] },
  { name: 'Statement element not an object', input: { Version: '2012-10-17', Statement: [1] }, errors: [['Statement[0]', /must be an object, not a number/]] },
  {
    name: 'single Statement object: paths have no index',
    input: { Version: '2012-10-17', Statement: { ...resourceDoc().Statement[0], Effect: 'Maybe' } },
    errors: [['Statement.Effect', /"Allow" or "Deny", not "Maybe"/]],
  },
  { name: 'unknown statement field', input: resourceDoc({ Resources: '*' }), errors: [['Statement[0].Resources', /unknown field \(expected Sid, Effect/]] },
  { name: 'statement field case', input: resourceDoc({ effect: 'Allow' }), errors: [['Statement[0].effect', /case-sensitive: Effect/]] },
  // Sid
  { name: 'Sid with a space', input: resourceDoc({ Sid: 'Allow pull' }), errors: [['Statement[0].Sid', /letters and digits only/]] },
  { name: 'Sid with punctuation', input: resourceDoc({ Sid: 'allow-pull' }), errors: [['Statement[0].Sid', /letters and digits only/]] },
  { name: 'numeric Sid', input: resourceDoc({ Sid: 5 }), errors: [['Statement[0].Sid', /must be a string, not a number/]] },
  {
    name: 'duplicate Sid',
    input: { Version: '2012-10-17', Statement: [resourceDoc().Statement[0], resourceDoc({ Effect: 'Deny' }).Statement[0]] },
    errors: [['Statement[1].Sid', /already used by Statement\[0\]/]],
  },
  // Effect
  { name: 'missing Effect', input: resourceDoc({ Effect: undefined }), errors: [['Statement[0].Effect', /required/]] },
  { name: 'lowercase Effect', input: resourceDoc({ Effect: 'allow' }), errors: [['Statement[0].Effect', /not "allow"/]] },
  { name: 'boolean Effect', input: resourceDoc({ Effect: true }), errors: [['Statement[0].Effect', /not a boolean/]] },
  // Principal
  { name: 'resource policy without a principal', input: resourceDoc({ Principal: undefined }), errors: [['Statement[0]', /needs Principal or NotPrincipal/]] },
  { name: 'Principal and NotPrincipal', input: resourceDoc({ NotPrincipal: '*' }), errors: [['Statement[0].NotPrincipal', /both Principal and NotPrincipal/]] },
  { name: 'Principal as a bare ARN', input: resourceDoc({ Principal: `arn:aws:iam::${account}:root` }), errors: [['Statement[0].Principal', /must be "\*" or an object/]] },
  { name: 'Principal array', input: resourceDoc({ Principal: ['*'] }), errors: [['Statement[0].Principal', /not an array/]] },
  { name: 'empty Principal object', input: resourceDoc({ Principal: {} }), errors: [['Statement[0].Principal', /at least one principal type/]] },
  { name: 'unknown principal type', input: resourceDoc({ Principal: { CanonicalUser: 'abc' } }), errors: [['Statement[0].Principal.CanonicalUser', /unknown principal type/]] },
  { name: 'principal type case', input: resourceDoc({ Principal: { aws: '*' } }), errors: [['Statement[0].Principal.aws', /case-sensitive: AWS/]] },
  { name: 'empty AWS list', input: resourceDoc({ Principal: { AWS: [] } }), errors: [['Statement[0].Principal.AWS', /at least one entry/]] },
  { name: 'short account id', input: resourceDoc({ Principal: { AWS: ['*', '12345'] } }), errors: [['Statement[0].Principal.AWS[1]', /exactly 12 digits/]] },
  {
    name: 'wildcard in a principal ARN',
    input: resourceDoc({ Principal: { AWS: `arn:aws:iam::${account}:role/*` } }),
    errors: [['Statement[0].Principal.AWS', /wildcards are not allowed/]],
  },
  { name: 'wildcard principal id', input: resourceDoc({ Principal: { AWS: 'team-*' } }), errors: [['Statement[0].Principal.AWS', /aws:PrincipalArn/]] },
  { name: 'principal ARN too short', input: resourceDoc({ Principal: { AWS: 'arn:aws:iam' } }), errors: [['Statement[0].Principal.AWS', /six colon-separated parts/]] },
  { name: 'principal with a space', input: resourceDoc({ Principal: { AWS: 'alice smith' } }), errors: [['Statement[0].Principal.AWS', /principal id/]] },
  { name: 'non-string principal', input: resourceDoc({ Principal: { AWS: [account, 5] } }), errors: [['Statement[0].Principal.AWS[1]', /not a number/]] },
  { name: 'uppercase service principal', input: resourceDoc({ Principal: { Service: 'ECR.amazonaws.com' } }), errors: [['Statement[0].Principal.Service', /lowercase service name/]] },
  { name: 'bad federated provider', input: resourceDoc({ Principal: { Federated: 'not a provider' } }), errors: [['Statement[0].Principal.Federated', /identity provider/]] },
  {
    name: 'identity policy with Principal',
    context: 'identity',
    input: identityDoc({ Principal: '*' }),
    errors: [['Statement[0].Principal', /identity policies cannot have Principal/]],
  },
  {
    name: 'identity policy with NotPrincipal',
    context: 'identity',
    input: identityDoc({ NotPrincipal: { AWS: account } }),
    errors: [['Statement[0].NotPrincipal', /identity policies cannot have NotPrincipal/]],
  },
  // Action
  { name: 'missing Action', input: resourceDoc({ Action: undefined }), errors: [['Statement[0]', /needs Action or NotAction/]] },
  { name: 'Action and NotAction', input: resourceDoc({ NotAction: 'ecr:*' }), errors: [['Statement[0].NotAction', /both Action and NotAction/]] },
  { name: 'action without a service', input: resourceDoc({ Action: 'BatchGetImage' }), errors: [['Statement[0].Action', /service:Action/]] },
  { name: 'uppercase service prefix', input: resourceDoc({ Action: 'ECR:BatchGetImage' }), errors: [['Statement[0].Action', /service prefix "ECR"/]] },
  { name: 'hyphen in an action name', input: resourceDoc({ Action: ['ecr:*', 'ecr:Get-Image'] }), errors: [['Statement[0].Action[1]', /action "Get-Image"/]] },
  { name: 'empty action name', input: resourceDoc({ Action: 'ecr:' }), errors: [['Statement[0].Action', /action ""/]] },
  { name: 'empty Action list', input: resourceDoc({ Action: [] }), errors: [['Statement[0].Action', /at least one entry/]] },
  { name: 'non-string action', input: resourceDoc({ Action: ['ecr:*', 3] }), errors: [['Statement[0].Action[1]', /not a number/]] },
  { name: 'null Action', input: resourceDoc({ Action: null }), errors: [['Statement[0].Action', /not null/]] },
  { name: 'bad NotAction', input: resourceDoc({ Action: undefined, NotAction: ['kms'] }), errors: [['Statement[0].NotAction[0]', /service:Action/]] },
  // Resource
  { name: 'identity policy without Resource', context: 'identity', input: identityDoc({ Resource: undefined }), errors: [['Statement[0]', /needs Resource or NotResource/]] },
  { name: 'Resource and NotResource', input: resourceDoc({ Resource: '*', NotResource: repoArn }), errors: [['Statement[0].NotResource', /both Resource and NotResource/]] },
  { name: 'resource that is not an ARN', input: resourceDoc({ Resource: 'repository/app' }), errors: [['Statement[0].Resource', /"\*" or an ARN/]] },
  { name: 'resource ARN too short', input: resourceDoc({ Resource: 'arn:berth:ecr:us-east-1' }), errors: [['Statement[0].Resource', /six colon-separated parts/]] },
  { name: 'resource ARN without partition', input: resourceDoc({ Resource: 'arn::ecr:r:1:x' }), errors: [['Statement[0].Resource', /partition/]] },
  { name: 'resource ARN without resource', input: resourceDoc({ Resource: ['*', `arn:berth:ecr:us-east-1:${account}:`] }), errors: [['Statement[0].Resource[1]', /resource \(sixth part\)/]] },
  { name: 'resource ARN with whitespace', input: resourceDoc({ Resource: `${repoArn} ` }), errors: [['Statement[0].Resource', /whitespace/]] },
  // Condition structure
  { name: 'Condition string', input: cond('aws:SourceIp'), errors: [['Statement[0].Condition', /object of operators, not a string/]] },
  { name: 'unknown operator', input: cond({ StringEqual: { 'aws:username': 'a' } }), errors: [['Statement[0].Condition.StringEqual', /unknown condition operator "StringEqual"/]] },
  { name: 'operator case', input: cond({ stringequals: { 'aws:username': 'a' } }), errors: [['Statement[0].Condition.stringequals', /case-sensitive: StringEquals/]] },
  { name: 'unknown qualifier', input: cond({ 'ForSomeValues:StringEquals': { 'aws:TagKeys': 'a' } }), errors: [['Statement[0].Condition["ForSomeValues:StringEquals"]', /unknown condition operator/]] },
  { name: 'operator block not an object', input: cond({ StringEquals: 'aws:username' }), errors: [['Statement[0].Condition.StringEquals', /object of condition keys, not a string/]] },
  { name: 'empty operator block', input: cond({ StringEquals: {} }), errors: [['Statement[0].Condition.StringEquals', /at least one condition key/]] },
  { name: 'NullIfExists', input: cond({ NullIfExists: { 'aws:TokenIssueTime': true } }), errors: [['Statement[0].Condition.NullIfExists', /Null takes neither/]] },
  { name: 'ForAnyValue:Null', input: cond({ 'ForAnyValue:Null': { 'aws:TagKeys': true } }), errors: [['Statement[0].Condition["ForAnyValue:Null"]', /Null takes neither/]] },
  { name: 'condition key without a prefix', input: cond({ StringEquals: { SourceIp: 'a' } }), errors: [['Statement[0].Condition.StringEquals.SourceIp', /prefix:Name/]] },
  { name: 'condition key with an empty qualifier', input: cond({ StringEquals: { 'ecr:ResourceTag/': 'a' } }), errors: [['Statement[0].Condition.StringEquals["ecr:ResourceTag/"]', /nothing follows "\/"/]] },
  { name: 'condition key with a bad name', input: cond({ StringEquals: { 'aws:Source Ip': 'a' } }), errors: [['Statement[0].Condition.StringEquals["aws:Source Ip"]', /condition key name/]] },
  {
    name: 'condition keys differing only in case',
    input: cond({ StringEquals: { 'aws:username': 'a', 'aws:UserName': 'b' } }),
    errors: [['Statement[0].Condition.StringEquals["aws:username"]', /case-insensitive: "aws:username" repeats "aws:UserName"/]],
  },
  { name: 'empty value list', input: cond({ StringEquals: { 'aws:username': [] } }), errors: [['Statement[0].Condition.StringEquals["aws:username"]', /at least one value/]] },
  { name: 'null value', input: cond({ StringEquals: { 'aws:username': null } }), errors: [['Statement[0].Condition.StringEquals["aws:username"]', /not null/]] },
  { name: 'nested array value', input: cond({ StringEquals: { 'aws:username': ['a', ['b']] } }), errors: [['Statement[0].Condition.StringEquals["aws:username"][1]', /not an array/]] },
  // Condition values, per operator
  { name: 'IPv4 octet above 255', input: ip(['10.0.0.1', '300.0.0.1']), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"][1]', /IPv4 or IPv6/]] },
  { name: 'IPv4 prefix above 32', input: ip('10.0.0.0/33'), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"]', /prefix length must be 0 to 32/]] },
  { name: 'IPv6 prefix above 128', input: ip(['2001:db8::/129']), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"][0]', /0 to 128/]] },
  { name: 'malformed IPv6', input: ip(['2001:db8:::1']), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"][0]', /IPv4 or IPv6/]] },
  { name: 'hostname as IP', input: ip('example.com'), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"]', /IPv4 or IPv6/]] },
  { name: 'numeric IP', input: ip(10), errors: [['Statement[0].Condition.IpAddress["aws:SourceIp"]', /IP address string, not a number/]] },
  { name: 'impossible date', input: cond({ DateLessThan: { 'aws:CurrentTime': '2024-02-30' } }), errors: [['Statement[0].Condition.DateLessThan["aws:CurrentTime"]', /not a calendar date/]] },
  { name: 'prose date', input: cond({ DateGreaterThan: { 'aws:CurrentTime': ['yesterday'] } }), errors: [['Statement[0].Condition.DateGreaterThan["aws:CurrentTime"][0]', /ISO 8601/]] },
  { name: 'bad time of day', input: cond({ DateEquals: { 'aws:CurrentTime': '2024-01-01T25:00:00Z' } }), errors: [['Statement[0].Condition.DateEquals["aws:CurrentTime"]', /time of day/]] },
  { name: 'negative epoch', input: cond({ DateLessThan: { 'aws:EpochTime': -5 } }), errors: [['Statement[0].Condition.DateLessThan["aws:EpochTime"]', /epoch seconds/]] },
  { name: 'Bool yes', input: cond({ Bool: { 'aws:SecureTransport': 'yes' } }), errors: [['Statement[0].Condition.Bool["aws:SecureTransport"]', /true or false/]] },
  { name: 'Bool True', input: cond({ Bool: { 'aws:SecureTransport': ['True'] } }), errors: [['Statement[0].Condition.Bool["aws:SecureTransport"][0]', /true or false/]] },
  { name: 'Null 1', input: cond({ Null: { 'aws:TokenIssueTime': 1 } }), errors: [['Statement[0].Condition.Null["aws:TokenIssueTime"]', /true or false/]] },
  { name: 'Numeric word', input: cond({ NumericLessThan: { 's3:max-keys': 'ten' } }), errors: [['Statement[0].Condition.NumericLessThan["s3:max-keys"]', /decimal number/]] },
  { name: 'Numeric exponent', input: cond({ NumericLessThan: { 's3:max-keys': '1e3' } }), errors: [['Statement[0].Condition.NumericLessThan["s3:max-keys"]', /decimal number/]] },
  { name: 'Numeric boolean', input: cond({ NumericEquals: { 's3:max-keys': [1, true] } }), errors: [['Statement[0].Condition.NumericEquals["s3:max-keys"][1]', /number, not a boolean/]] },
  { name: 'Arn value not an ARN', input: cond({ ArnLike: { 'aws:SourceArn': 'repository/*' } }), errors: [['Statement[0].Condition.ArnLike["aws:SourceArn"]', /ARN/]] },
  { name: 'Binary not base64', input: cond({ BinaryEquals: { 'custom:key': 'not base64!' } }), errors: [['Statement[0].Condition.BinaryEquals["custom:key"]', /base64/]] },
  { name: 'String object value', input: cond({ StringLike: { 'aws:username': { a: 1 } } }), errors: [['Statement[0].Condition.StringLike["aws:username"]', /string, not an object/]] },
  // Duplicate keys in JSON text
  {
    name: 'duplicate Effect in text',
    input: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*","Effect":"Allow"}]}',
    errors: [['Statement[0].Effect', /duplicate key/]],
  },
  {
    name: 'duplicate condition key in text',
    input: '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}}}',
    errors: [['Statement.Condition.StringEquals["aws:username"]', /duplicate key/]],
  },
  {
    name: 'duplicate top-level key in text, escaped spelling',
    input: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:*"}],"\\u0056ersion":"2012-10-17"}',
    errors: [['Version', /duplicate key/]],
  },
  // Several errors at once, in document order
  {
    name: 'errors are all reported, in document order',
    input: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'ecr:*' },
        { Sid: 'x-y', Effect: 'Permit', Principal: { AWS: '1' }, Action: 'get', Condition: { IpAddress: { 'aws:SourceIp': 'nope' } } },
      ],
    },
    errors: [
      ['Statement[1].Sid', /letters and digits/],
      ['Statement[1].Effect', /"Allow" or "Deny"/],
      ['Statement[1].Principal.AWS', /12 digits/],
      ['Statement[1].Action', /service:Action/],
      ['Statement[1].Condition.IpAddress["aws:SourceIp"]', /IPv4 or IPv6/],
    ],
  },
];

for (const c of cases) {
  test(`rejects: ${c.name}`, (t) => {
    const result = validate(c.input, c.context ?? 'resource');
    if (result.ok) {
      t.fail(`expected errors, got ${result.canonical}`);
      return;
    }
    t.deepEqual(
      result.errors.map((e) => e.path),
      c.errors.map(([path]) => path),
      JSON.stringify(result.errors),
    );
    c.errors.forEach(([, message], i) => t.regex(result.errors[i]?.message ?? '', message));
  });
}

const accepted: { name: string; context: PolicyContext; input: unknown }[] = [
  ...validDocuments.map((d) => ({ name: d.name, context: d.context, input: d.doc })),
  ...validDocuments.map((d) => ({ name: `${d.name}, as indented text`, context: d.context, input: JSON.stringify(d.doc, null, 4) })),
  { name: 'text with a byte-order mark', context: 'resource', input: `\uFEFF${JSON.stringify(resourceDoc())}` },
  { name: 'Principal "*"', context: 'resource', input: resourceDoc({ Principal: '*' }) },
  { name: 'AWS "*"', context: 'resource', input: resourceDoc({ Principal: { AWS: '*' } }) },
  { name: 'empty Sid is treated as absent', context: 'resource', input: resourceDoc({ Sid: '' }) },
  { name: 'empty Condition', context: 'resource', input: resourceDoc({ Condition: {} }) },
  { name: 'action "*"', context: 'identity', input: identityDoc({ Action: '*', Resource: '*' }) },
  { name: 'action wildcards', context: 'identity', input: identityDoc({ Action: ['ecr:Batch?et*', 'ecr:*', 'kms:Decrypt', 'my-svc2:Do'] }) },
  { name: 'NotResource in identity policy', context: 'identity', input: identityDoc({ Resource: undefined, NotResource: 'arn:berth:ecr:*:*:repository/*' }) },
  { name: 'ARN with colons in the resource part', context: 'identity', input: identityDoc({ Resource: 'arn:berth:logs:us-east-1:123456789012:log-group:x:*' }) },
  { name: 'IAM ARN with empty region', context: 'resource', input: resourceDoc({ Principal: { AWS: 'arn:aws:iam::aws:policy/ReadOnly' } }) },
  { name: 'principal ids', context: 'resource', input: resourceDoc({ Principal: { AWS: ['AROAEXAMPLEID', 'user.name@example', 'ci_bot+1=2'] } }) },
  { name: 'service principals', context: 'resource', input: resourceDoc({ Principal: { Service: ['ecr.amazonaws.com', 'replication', 'pull-through.berth.local'] } }) },
  { name: 'numbers and booleans in string conditions', context: 'resource', input: cond({ StringEquals: { 'aws:username': [1, true, 'x'] } }) },
  { name: 'dates of every accepted shape', context: 'resource', input: cond({ DateLessThan: { 'aws:CurrentTime': ['2024-02-29', '2024-01-01T00:00', '2024-01-01T00:00:00.123456789Z', '2024-01-01T08:00:00+0800', '2024-01-01T08:00:00-03:30', '1700000000', 0] } }) },
  { name: 'IfExists and qualifiers on every family', context: 'resource', input: cond({ 'ForAllValues:NumericLessThanIfExists': { 'custom:n': ['1', 2.5] }, 'ForAnyValue:ArnLikeIfExists': { 'aws:SourceArn': '*' }, BoolIfExists: { 'aws:ViaAWSService': false }, NotIpAddressIfExists: { 'aws:SourceIp': '0.0.0.0/0' } }) },
  { name: 'IPv6 forms', context: 'resource', input: ip(['::', '::1', '::ffff:192.0.2.1', '2001:DB8:0:0:0:0:0:1/64', 'fe80::1:2:3:4:5:6', '1:2:3:4:5:6:7::']) },
];

for (const c of accepted) {
  test(`accepts: ${c.name}`, (t) => {
    const result = validate(c.input, c.context);
    t.true(result.ok, result.ok ? '' : JSON.stringify(result.errors));
  });
}

test('parsed form is shaped for an evaluator', (t) => {
  const result = validate({
    Version: '2012-10-17',
    Statement: {
      Sid: 'S1',
      Effect: 'Deny',
      NotPrincipal: { AWS: ['b', 'a', 'b'] },
      Action: 'ecr:PutImage',
      Condition: { 'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': ['z', 'a'] }, Bool: { 'aws:SecureTransport': false } },
    },
  });
  if (!result.ok) return t.fail(JSON.stringify(result.errors));
  t.deepEqual(result.policy, {
    version: '2012-10-17',
    statements: [
      {
        sid: 'S1',
        effect: 'Deny',
        principal: { negated: true, principals: { kind: 'listed', AWS: ['a', 'b'], Federated: [], Service: [] } },
        action: { negated: false, patterns: ['ecr:PutImage'] },
        conditions: [
          { operator: 'Bool', test: 'Bool', qualifier: null, ifExists: false, key: 'aws:SecureTransport', values: ['false'] },
          { operator: 'ForAnyValue:StringLikeIfExists', test: 'StringLike', qualifier: 'ForAnyValue', ifExists: true, key: 'aws:TagKeys', values: ['a', 'z'] },
        ],
      },
    ],
  });
});

test('identity context: Resource parsed, no principal', (t) => {
  const result = validate(identityDoc({ Resource: [repoArn, '*'] }), 'identity');
  if (!result.ok) return t.fail(JSON.stringify(result.errors));
  const [statement] = result.policy.statements;
  t.is(statement?.principal, undefined);
  t.deepEqual(statement?.resource, { negated: false, patterns: ['*', repoArn] });
});

test('resource context: Resource is optional and absent when omitted', (t) => {
  const result = validate(resourceDoc());
  if (!result.ok) return t.fail(JSON.stringify(result.errors));
  t.false('resource' in (result.policy.statements[0] ?? {}));
});

test('warnings: public access, NotPrincipal with Allow', (t) => {
  const cases: [unknown, string[]][] = [
    [resourceDoc({ Principal: '*' }), ['Statement[0].Principal']],
    [resourceDoc({ Principal: { AWS: ['*', account] } }), ['Statement[0].Principal.AWS']],
    [resourceDoc({ Principal: '*', Condition: { Bool: { 'aws:SecureTransport': true } } }), []],
    [resourceDoc({ Principal: undefined, NotPrincipal: { AWS: account } }), ['Statement[0].NotPrincipal']],
    [resourceDoc({ Effect: 'Deny', Principal: '*' }), []],
  ];
  for (const [input, paths] of cases) {
    const result = validate(input);
    t.true(result.ok);
    t.deepEqual(result.warnings.map((w) => w.path), paths);
  }
});

test('catalogue: unknown actions and condition keys are warnings, never errors', (t) => {
  const catalogue = {
    actions: { ecr: ['BatchGetImage', 'GetDownloadUrlForLayer', 'PutImage'] },
    conditionKeys: ['aws:SourceIp', 'ecr:ResourceTag/'],
  };
  const input = resourceDoc({
    Action: ['ecr:BatchGet*', 'ecr:getdownloadurlforlayer', 'ecr:DescribeWidgets', 'ecr:Put?mage', 'kms:Decrypt', '*'],
    Condition: {
      IpAddress: { 'AWS:SOURCEIP': '10.0.0.0/8' },
      StringEquals: { 'ecr:ResourceTag/team': 'a', 'ecr:ResourceTag': 'b', 'custom:thing': 'c' },
    },
  });
  const result = validate(input, 'resource', { catalogue });
  t.true(result.ok);
  t.deepEqual(
    result.warnings.map((w) => `${w.path}: ${w.message}`),
    [
      'Statement[0].Action[2]: matches no known ecr action',
      'Statement[0].Action[4]: "kms" is not a known service prefix',
      'Statement[0].Condition.StringEquals["custom:thing"]: is not a known condition key',
      'Statement[0].Condition.StringEquals["ecr:ResourceTag"]: is not a known condition key',
    ],
  );
  t.deepEqual(validate(input).warnings, [], 'no catalogue, no warnings');
});

test('validation never mutates its input', (t) => {
  const input = structuredClone(validDocuments[1]?.doc);
  const before = JSON.stringify(input);
  validate(input);
  t.is(JSON.stringify(input), before);
});

test('a cyclic object is an error, not an exception', (t) => {
  const input: Record<string, unknown> = { Version: '2012-10-17' };
  input.Statement = input;
  const result = validate(input);
  t.false(result.ok);
  if (!result.ok) t.is(result.errors[0]?.path, '');
});

test('an own __proto__ key is an unknown field, not a prototype', (t) => {
  const result = validate('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","__proto__":{"Effect":"Deny"}}]}');
  t.false(result.ok);
  if (!result.ok) t.deepEqual(result.errors.map((e) => e.path), ['Statement[0].__proto__']);
});
