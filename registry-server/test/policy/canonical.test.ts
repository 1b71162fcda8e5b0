import test from 'ava';
import { canonicalPolicy, policiesEquivalent, type PolicyContext, type PolicyDocument } from '../../src/policy/index.ts';
import { account, resourceDoc, validDocuments, validate } from './fixtures.ts';

function canonical(input: unknown, context: PolicyContext = 'resource'): string {
  const result = validate(input, context);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.canonical;
}

function parsed(input: unknown, context: PolicyContext = 'resource'): PolicyDocument {
  const result = validate(input, context);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}

test('golden: the exact canonical text of a document', (t) => {
  const input = `{
    "Statement": {
      "Condition": {
        "StringLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/ci-*" },
        "Bool": { "aws:SecureTransport": true },
        "IpAddress": { "aws:SourceIp": ["10.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"] }
      },
      "Action": ["ecr:PutImage", "ecr:BatchGetImage", "ecr:PutImage"],
      "Principal": { "Service": "ecr.amazonaws.com", "AWS": "${account}" },
      "Effect": "Allow",
      "Sid": "Push"
    },
    "Id": "Policy1",
    "Version": "2012-10-17"
  }`;
  t.is(
    canonical(input),
    '{"Version":"2012-10-17","Id":"Policy1","Statement":[{"Sid":"Push","Effect":"Allow",' +
      `"Principal":{"AWS":["${account}"],"Service":["ecr.amazonaws.com"]},` +
      '"Action":["ecr:BatchGetImage","ecr:PutImage"],' +
      '"Condition":{"Bool":{"aws:SecureTransport":["true"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]},' +
      '"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/ci-*"]}}}]}',
  );
});

// Pairs that mean the same and must give byte-identical canonical text.
const equal: { name: string; a: unknown; b: unknown; context?: PolicyContext }[] = [
  { name: 'string vs one-element array', a: resourceDoc({ Action: 'ecr:PutImage' }), b: resourceDoc({ Action: ['ecr:PutImage'] }) },
  { name: 'list order', a: resourceDoc({ Action: ['ecr:B', 'ecr:A'] }), b: resourceDoc({ Action: ['ecr:A', 'ecr:B'] }) },
  { name: 'duplicates', a: resourceDoc({ Action: ['ecr:A', 'ecr:A', 'ecr:B'] }), b: resourceDoc({ Action: ['ecr:B', 'ecr:A'] }) },
  { name: 'Principal.AWS string vs array', a: resourceDoc({ Principal: { AWS: account } }), b: resourceDoc({ Principal: { AWS: [account, account] } }) },
  {
    name: 'principal type order',
    a: resourceDoc({ Principal: { Service: 'ecr.amazonaws.com', AWS: account } }),
    b: resourceDoc({ Principal: { AWS: [account], Service: ['ecr.amazonaws.com'] } }),
  },
  {
    name: 'Resource string vs array',
    context: 'identity',
    a: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*', Resource: '*' }] },
    b: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecr:*'], Resource: ['*', '*'] }] },
  },
  {
    name: 'key order at every level',
    a: { Version: '2012-10-17', Id: 'x', Statement: [{ Sid: 'A', Effect: 'Allow', Principal: '*', Action: 'ecr:*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] },
    b: { Statement: [{ Condition: { Bool: { 'aws:SecureTransport': 'true' } }, Action: 'ecr:*', Principal: '*', Effect: 'Allow', Sid: 'A' }], Id: 'x', Version: '2012-10-17' },
  },
  { name: 'whitespace', a: JSON.stringify(resourceDoc(), null, 2), b: JSON.stringify(resourceDoc()) },
  { name: 'text vs object', a: JSON.stringify(resourceDoc()), b: resourceDoc() },
  { name: 'Bool true vs "true"', a: resourceDoc({ Condition: { Bool: { 'aws:SecureTransport': true } } }), b: resourceDoc({ Condition: { Bool: { 'aws:SecureTransport': ['true'] } } }) },
  { name: 'Null false vs "false"', a: resourceDoc({ Condition: { Null: { 'aws:TokenIssueTime': false } } }), b: resourceDoc({ Condition: { Null: { 'aws:TokenIssueTime': 'false' } } }) },
  {
    name: 'numbers vs decimal strings',
    a: resourceDoc({ Condition: { NumericLessThan: { 's3:max-keys': [10, 2.5, -0] } } }),
    b: resourceDoc({ Condition: { NumericLessThan: { 's3:max-keys': ['010', '2.50', '0.0', '-0'] } } }),
  },
  { name: 'epoch number vs string', a: resourceDoc({ Condition: { DateLessThan: { 'aws:EpochTime': 1700000000 } } }), b: resourceDoc({ Condition: { DateLessThan: { 'aws:EpochTime': '1700000000' } } }) },
  { name: 'number vs string in a string test', a: resourceDoc({ Condition: { StringEquals: { 'custom:n': 5 } } }), b: resourceDoc({ Condition: { StringEquals: { 'custom:n': '5' } } }) },
  {
    name: 'condition operator and key order',
    a: resourceDoc({ Condition: { StringEquals: { 'aws:username': 'a', 'aws:PrincipalTag/team': 'b' }, Bool: { 'aws:SecureTransport': true } } }),
    b: resourceDoc({ Condition: { Bool: { 'aws:SecureTransport': true }, StringEquals: { 'aws:PrincipalTag/team': 'b', 'aws:username': 'a' } } }),
  },
  {
    name: 'condition value order and duplicates',
    a: resourceDoc({ Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16', '10.0.0.0/8'] } } }),
    b: resourceDoc({ Condition: { IpAddress: { 'aws:SourceIp': ['192.168.0.0/16', '10.0.0.0/8'] } } }),
  },
  { name: 'single Statement object vs array', a: { Version: '2012-10-17', Statement: resourceDoc().Statement[0] }, b: resourceDoc() },
  { name: 'empty Sid vs none', a: resourceDoc({ Sid: '' }), b: resourceDoc({ Sid: undefined }) },
  { name: 'empty Id vs none', a: { ...resourceDoc(), Id: '' }, b: resourceDoc() },
  { name: 'empty Condition vs none', a: resourceDoc({ Condition: {} }), b: resourceDoc() },
  { name: 'unicode escapes vs literal', a: '{"Version":"2012-10-17","Id":"caf\\u00e9","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*"}}', b: { Version: '2012-10-17', Id: 'café', Statement: { Effect: 'Deny', Principal: '*', Action: 'ecr:*' } } },
  { name: 'escaped slash', a: '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*","Resource":"arn:berth:ecr:r:1:repository\\/x"}}', b: { Version: '2012-10-17', Statement: { Effect: 'Deny', Principal: '*', Action: 'ecr:*', Resource: 'arn:berth:ecr:r:1:repository/x' } } },
];

for (const c of equal) {
  test(`equal text: ${c.name}`, (t) => {
    const a = canonical(c.a, c.context);
    t.is(a, canonical(c.b, c.context));
    t.true(policiesEquivalent(parsed(c.a, c.context), parsed(c.b, c.context)));
    t.false(/\s/.test(a.replace(/"(?:[^"\\]|\\.)*"/g, '""')), 'no whitespace outside strings');
  });
}

// Pairs that differ in meaning (or are deliberately kept apart) and must give different text.
const different: { name: string; a: unknown; b: unknown }[] = [
  { name: '"*" vs {"AWS": "*"} (anyone vs authenticated)', a: resourceDoc({ Principal: '*' }), b: resourceDoc({ Principal: { AWS: '*' } }) },
  { name: 'Principal vs NotPrincipal', a: resourceDoc({ Principal: '*' }), b: resourceDoc({ Principal: undefined, NotPrincipal: '*' }) },
  { name: 'Action vs NotAction', a: resourceDoc({ Action: 'ecr:*' }), b: resourceDoc({ Action: undefined, NotAction: 'ecr:*' }) },
  { name: 'Allow vs Deny', a: resourceDoc(), b: resourceDoc({ Effect: 'Deny' }) },
  { name: 'Sid', a: resourceDoc({ Sid: 'A' }), b: resourceDoc({ Sid: 'B' }) },
  { name: 'Id', a: { ...resourceDoc(), Id: 'a' }, b: resourceDoc() },
  { name: 'Version', a: resourceDoc(), b: { ...resourceDoc(), Version: '2008-10-17' } },
  { name: 'Resource "*" vs omitted', a: resourceDoc({ Resource: '*' }), b: resourceDoc() },
  { name: 'extra action', a: resourceDoc({ Action: 'ecr:A' }), b: resourceDoc({ Action: ['ecr:A', 'ecr:B'] }) },
  {
    name: 'statement order is kept',
    a: { Version: '2012-10-17', Statement: [resourceDoc({ Sid: 'A' }).Statement[0], resourceDoc({ Sid: 'B' }).Statement[0]] },
    b: { Version: '2012-10-17', Statement: [resourceDoc({ Sid: 'B' }).Statement[0], resourceDoc({ Sid: 'A' }).Statement[0]] },
  },
  { name: 'IfExists', a: resourceDoc({ Condition: { StringEquals: { 'aws:username': 'a' } } }), b: resourceDoc({ Condition: { StringEqualsIfExists: { 'aws:username': 'a' } } }) },
  { name: 'qualifier', a: resourceDoc({ Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'a' } } }), b: resourceDoc({ Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'a' } } }) },
  { name: 'Bool true vs false', a: resourceDoc({ Condition: { Bool: { 'aws:SecureTransport': true } } }), b: resourceDoc({ Condition: { Bool: { 'aws:SecureTransport': false } } }) },
  { name: 'case of an action is kept', a: resourceDoc({ Action: 'ecr:PutImage' }), b: resourceDoc({ Action: 'ecr:putimage' }) },
  { name: 'numeric 1 vs 10', a: resourceDoc({ Condition: { NumericEquals: { 'custom:n': 1 } } }), b: resourceDoc({ Condition: { NumericEquals: { 'custom:n': 10 } } }) },
  { name: 'string "010" is not normalized', a: resourceDoc({ Condition: { StringEquals: { 'custom:n': '010' } } }), b: resourceDoc({ Condition: { StringEquals: { 'custom:n': '10' } } }) },
];

for (const c of different) {
  test(`different text: ${c.name}`, (t) => {
    t.not(canonical(c.a), canonical(c.b));
    t.false(policiesEquivalent(parsed(c.a), parsed(c.b)));
  });
}

test('idempotent: canonical text parses back to the same document and text', (t) => {
  for (const { name, context, doc } of validDocuments) {
    const first = validate(doc, context);
    if (!first.ok) return t.fail(name);
    const second = validate(first.canonical, context);
    if (!second.ok) return t.fail(`${name}: ${JSON.stringify(second.errors)}`);
    t.is(second.canonical, first.canonical, name);
    t.deepEqual(second.policy, first.policy, name);
    t.is(canonicalPolicy(second.policy), first.canonical, name);
    t.is(canonicalPolicy(first.policy), first.canonical, name);
  }
});

test('canonical text is valid JSON in the documented shape', (t) => {
  for (const { context, doc } of validDocuments) {
    const text = canonical(doc, context);
    const value = JSON.parse(text) as { Statement: Record<string, unknown>[] };
    t.true(Array.isArray(value.Statement));
    for (const statement of value.Statement) {
      const order = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];
      const keys = Object.keys(statement);
      t.deepEqual(keys, [...keys].sort((x, y) => order.indexOf(x) - order.indexOf(y)));
      for (const field of ['Action', 'NotAction', 'Resource', 'NotResource']) {
        if (field in statement) t.true(Array.isArray(statement[field]));
      }
    }
  }
});

test('canonicalPolicy sorts and deduplicates a hand-built document', (t) => {
  const doc: PolicyDocument = {
    version: '2012-10-17',
    id: '',
    statements: [
      {
        sid: '',
        effect: 'Allow',
        principal: { negated: false, principals: { kind: 'listed', AWS: ['b', 'a', 'b'], Federated: [], Service: ['s'] } },
        action: { negated: false, patterns: ['ecr:Z', 'ecr:A'] },
        conditions: [
          { operator: 'StringLike', test: 'StringLike', qualifier: null, ifExists: false, key: 'k:b', values: ['2', '1'] },
          { operator: 'Bool', test: 'Bool', qualifier: null, ifExists: false, key: 'k:a', values: ['true'] },
          { operator: 'StringLike', test: 'StringLike', qualifier: null, ifExists: false, key: 'k:a', values: ['x'] },
        ],
      },
    ],
  };
  t.is(
    canonicalPolicy(doc),
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["a","b"],"Service":["s"]},"Action":["ecr:A","ecr:Z"],' +
      '"Condition":{"Bool":{"k:a":["true"]},"StringLike":{"k:a":["x"],"k:b":["1","2"]}}}]}',
  );
});

test('strings that need escaping survive the round trip', (t) => {
  const doc = resourceDoc({ Condition: { StringEquals: { 'aws:username': ['quote"back\\slash', 'tab\there', 'emoji 🚢', 'nul\u0000'] } } });
  const text = canonical(doc);
  t.is(canonical(text), text);
  t.deepEqual(
    (JSON.parse(text) as { Statement: { Condition: { StringEquals: Record<string, string[]> } }[] }).Statement[0]?.Condition.StringEquals['aws:username'],
    ['emoji 🚢', 'nul\u0000', 'quote"back\\slash', 'tab\there'],
  );
});
