import test from 'ava';
import { parseOperator } from '../../src/policy/conditions.ts';
import { duplicateKeys } from '../../src/policy/json.ts';
import { utf8Length } from '../../src/policy/limits.ts';
import { childPath, indexPath } from '../../src/policy/paths.ts';
import { checkAction, checkConditionKey, checkPrincipal, checkResource, splitArn, wildcardMatch } from '../../src/policy/patterns.ts';
import { checkDateValue, checkIpValue, normalDecimal, numberText } from '../../src/policy/values.ts';

const ok = (check: (v: string) => string | null, values: string[]) => (t: import('ava').ExecutionContext) => {
  for (const v of values) t.is(check(v), null, v);
};
const bad = (check: (v: string) => string | null, values: string[]) => (t: import('ava').ExecutionContext) => {
  for (const v of values) t.not(check(v), null, v);
};

test('actions: well formed', ok(checkAction, ['*', 'ecr:*', 'ecr:BatchGet*', 'ecr:Get?', 'kms:Decrypt', 'a-b1:X', 'ecr:**']));
test('actions: malformed', bad(checkAction, ['', 'ecr', 'ecr:', ':Get', 'ECR:Get', 'ecr:Get Image', 'ecr:Get:Image', 'ec r:Get', 'ecr:Get-Image', '**', 'ecr*:Get']));

test('resources: well formed', ok(checkResource, ['*', 'arn:berth:ecr:us-east-1:123456789012:repository/app', 'arn:berth:ecr:*:*:repository/*', 'arn:aws:s3:::bucket/key', 'arn:b:s:r:a:x:y:z', 'arn:*:*:*:*:*']));
test('resources: malformed', bad(checkResource, ['', '**', 'arn', 'arn:berth:ecr:us-east-1:1', 'ARN:berth:ecr:r:a:x', 'arn::ecr:r:a:x', 'arn:b::r:a:x', 'arn:b:s:r:a:', 'arn:b:s:r:a:x y', 'arn:b:s:r:a:x\u0001']));

test('ARN parts', (t) => {
  t.deepEqual(splitArn('arn:berth:ecr:us-east-1:123456789012:repository/a:b'), {
    partition: 'berth',
    service: 'ecr',
    region: 'us-east-1',
    account: '123456789012',
    resource: 'repository/a:b',
  });
  t.is(splitArn('arn:a:b:c:d'), null);
  t.is(splitArn('nra:a:b:c:d:e'), null);
});

test('AWS principals', (t) => {
  for (const v of ['*', '123456789012', 'arn:aws:iam::123456789012:user/alice', 'arn:berth:iam::123456789012:role/ci', 'AIDAEXAMPLE', 'alice@example.com', 'a']) {
    t.is(checkPrincipal('AWS', v), null, v);
  }
  for (const v of ['', '1234567890123', '12345678901', 'arn:aws:iam::123456789012:role/*', 'arn:aws:iam::123456789012:role/?', '*foo', 'a b', '_x', '-x', 'a/b', 'a:b', 'x'.repeat(129)]) {
    t.not(checkPrincipal('AWS', v), null, v);
  }
});

test('Service and Federated principals', (t) => {
  for (const v of ['ecr.amazonaws.com', 'replication', 'a-b.c-d.e']) t.is(checkPrincipal('Service', v), null, v);
  for (const v of ['', 'ECR.amazonaws.com', '-ecr.com', 'ecr-.com', 'ecr..com', 'ecr.com.', 'a_b', 'arn:aws:iam::1:x']) t.not(checkPrincipal('Service', v), null, v);
  for (const v of ['accounts.google.com', 'www.Amazon.com', 'arn:aws:iam::123456789012:saml-provider/corp']) t.is(checkPrincipal('Federated', v), null, v);
  for (const v of ['', 'not a provider', 'arn:aws:iam::123456789012:saml-provider/*']) t.not(checkPrincipal('Federated', v), null, v);
});

test('condition keys: well formed', ok(checkConditionKey, ['aws:SourceIp', 'aws:username', 'ecr:ResourceTag/team', 'aws:RequestTag/Cost Center', 'aws:PrincipalTag/a:b/c', 's3:x-amz-acl', 'token.actions.githubusercontent.com:sub', 'cognito-identity.amazonaws.com:amr', 'SAML:aud', 'custom:a_b.c-d']));
test('condition keys: malformed', bad(checkConditionKey, ['', 'SourceIp', ':SourceIp', 'aws:', 'aws:Source Ip', 'aws:ResourceTag/', 'aws:ResourceTag/\n', '-aws:x', 'aws.:x', 'a ws:x', 'aws:x*']));

test('operators', (t) => {
  t.deepEqual(parseOperator('StringEquals'), { test: 'StringEquals', qualifier: null, ifExists: false });
  t.deepEqual(parseOperator('ForAllValues:StringLikeIfExists'), { test: 'StringLike', qualifier: 'ForAllValues', ifExists: true });
  t.deepEqual(parseOperator('ForAnyValue:IpAddress'), { test: 'IpAddress', qualifier: 'ForAnyValue', ifExists: false });
  t.deepEqual(parseOperator('Null'), { test: 'Null', qualifier: null, ifExists: false });
  for (const bad of ['', 'IfExists', 'StringEqualsIfExistsIfExists', 'ForAnyValue:ForAllValues:StringEquals', 'forAnyValue:StringEquals', 'ForAnyValue StringEquals', 'NullIfExists', 'ForAllValues:Null', 'Bool ', 'StringEquals:ForAnyValue']) {
    t.is(typeof parseOperator(bad), 'string', bad);
  }
  t.regex(parseOperator('Ipaddress') as string, /case-sensitive: IpAddress/);
});

test('IP values: well formed', ok(checkIpValue, ['0.0.0.0', '255.255.255.255', '10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', '::', '::1', '::/0', '2001:db8::/32', '2001:0DB8:0000:0000:0000:0000:0000:0001/128', 'fe80::', '::ffff:10.0.0.1', '1:2:3:4:5:6:1.2.3.4', '1::8']));
test('IP values: malformed', bad(checkIpValue, ['', '10.0.0', '10.0.0.0.0', '256.0.0.0', '01.0.0.0', '10.0.0.0/', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/-1', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', '12345::', 'g::', '1.2.3.4::', '::1/129', ' 10.0.0.1', '10.0.0.1 ', 'fe80::1%eth0']));

test('date values: well formed', ok(checkDateValue, ['2024-01-31', '2024-02-29', '2024-01-01T00:00', '2024-01-01T23:59:59Z', '2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00+01:00', '2024-01-01T00:00:00-0130', '0', '1735689600']));
test('date values: malformed', bad(checkDateValue, ['', 'now', '2023-02-29', '2024-00-10', '2024-13-01', '2024-04-31', '2024-1-1', '24-01-01', '2024-01-01T24:00:00Z', '2024-01-01T00:60', '2024-01-01T00:00:00+24:00', '2024-01-01 00:00:00', '-1', '1.5', '1234567890123']));

test('decimal normal form', (t) => {
  const cases: [string, string | null][] = [
    ['0', '0'], ['-0', '0'], ['00', '0'], ['007', '7'], ['7.50', '7.5'], ['7.0', '7'], ['-0.00', '0'], ['-1.5', '-1.5'], ['0.001', '0.001'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['', null], ['-', null], ['1.', null], ['.5', null], ['+1', null], ['1e3', null], ['1,5', null], [' 1', null], ['Infinity', null], ['0x10', null],
  ];
  for (const [input, expected] of cases) t.is(normalDecimal(input), expected, input);
  t.is(numberText(1e21), '1000000000000000000000');
  t.is(numberText(2.5), '2.5');
  t.is(numberText(1e-7), null);
  t.is(numberText(Number.NaN), null);
});

test('wildcard matching', (t) => {
  const cases: [string, string, boolean][] = [
    ['*', '', true], ['*', 'anything', true], ['', '', true], ['', 'a', false], ['a', 'a', true], ['a', 'A', false],
    ['Get*', 'GetImage', true], ['Get*', 'Get', true], ['Get*', 'PutImage', false], ['*Image', 'BatchGetImage', true],
    ['B?tch*', 'BatchGetImage', true], ['B?tch', 'Btch', false], ['a*b*c', 'aXbYc', true], ['a*b*c', 'aXbY', false],
    ['*a*a*a*a*a*a*a*b', 'a'.repeat(200), false], ['repository/*', 'repository/team/app', true], ['?', '', false],
  ];
  for (const [pattern, text, expected] of cases) t.is(wildcardMatch(pattern, text), expected, `${pattern} ~ ${text}`);
  t.true(wildcardMatch('ecr:getimage', 'ECR:GetImage', true));
});

test('paths: identifiers, indexes and quoted keys', (t) => {
  t.is(childPath('', 'Statement'), 'Statement');
  t.is(indexPath('Statement', 1), 'Statement[1]');
  t.is(childPath('Statement[1]', 'Condition'), 'Statement[1].Condition');
  t.is(childPath('C.IpAddress', 'aws:SourceIp'), 'C.IpAddress["aws:SourceIp"]');
  t.is(childPath('', 'x y'), '["x y"]');
  t.is(childPath('a', 'q"\\'), 'a["q\\"\\\\"]');
  t.is(childPath('a', ''), 'a[""]');
  t.is(childPath('a', '1'), 'a["1"]');
});

test('duplicate key scan', (t) => {
  t.deepEqual(duplicateKeys('{"a":1,"b":[{"c":1,"c":2},{"c":3}],"a":{"x":"\\"a\\"","y":"}"}}').map((e) => e.path), ['b[0].c', 'a']);
  t.deepEqual(duplicateKeys('[[{"k":1}],{"k":[1,2,{"k":1,"k":2}]}]').map((e) => e.path), ['[1].k[2].k']);
  t.deepEqual(duplicateKeys('{"a\\u0062":1,"ab":2}').map((e) => e.path), ['ab']);
  t.deepEqual(duplicateKeys('{"a":"{\\"a\\":1,\\"a\\":2}"}'), [], 'keys inside string values are not keys');
  t.deepEqual(duplicateKeys(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), [], 'deep nesting does not recurse');
});

test('UTF-8 length', (t) => {
  for (const s of ['', 'abc', 'é', '€', '🚢', 'a\u{10FFFF}b', 'mixed é € 🚢']) t.is(utf8Length(s), Buffer.byteLength(s), s);
  t.is(utf8Length('\uD800'), 3, 'lone surrogate counts as U+FFFD');
});
