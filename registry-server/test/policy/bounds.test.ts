import test from 'ava';
import { identityPolicyLimits, resourcePolicyLimits } from '../../src/policy/index.ts';
import { utf8Length } from '../../src/policy/limits.ts';
import { identityDoc, resourceDoc, validate, type SimpleDoc } from './fixtures.ts';

/** A resource policy whose canonical text is exactly `bytes` UTF-8 bytes, padded with `filler`. */
function docOfSize(bytes: number, filler = 'x'): SimpleDoc {
  const base = validate(resourceDoc({ Condition: { StringEquals: { 'aws:username': '' } } }));
  if (!base.ok) throw new Error('base document is invalid');
  // One value "" is in the base; k values add their lengths plus `,""` (3 bytes) for each after the first.
  const total = bytes - utf8Length(base.canonical);
  const k = Math.max(1, Math.ceil(total / 1900));
  const lengths = total - 3 * (k - 1);
  const values = Array.from({ length: k }, (_, i) => {
    const length = Math.floor(lengths / k) + (i < lengths % k ? 1 : 0);
    const prefix = String(i).padStart(4, '0');
    const wide = Math.floor((length - prefix.length) / utf8Length(filler));
    return prefix + filler.repeat(wide) + 'x'.repeat(length - prefix.length - wide * utf8Length(filler));
  });
  return resourceDoc({ Condition: { StringEquals: { 'aws:username': values } } });
}

test('default bounds per context', (t) => {
  t.is(resourcePolicyLimits.maxBytes, 10_240);
  t.is(identityPolicyLimits.maxBytes, 6144);
  t.true(Object.isFrozen(resourcePolicyLimits));
});

test('size: exactly maxBytes passes, one more byte fails at the root', (t) => {
  const atLimit = validate(docOfSize(10_240));
  t.true(atLimit.ok);
  if (atLimit.ok) t.is(utf8Length(atLimit.canonical), 10_240);
  const over = validate(docOfSize(10_241));
  t.false(over.ok);
  if (!over.ok) {
    t.is(over.errors.length, 1);
    t.is(over.errors[0]?.path, '');
    t.regex(over.errors[0]?.message ?? '', /10241 bytes without whitespace; at most 10240/);
  }
});

test('size: identity policies are held to 6,144 bytes; maxBytes overrides', (t) => {
  const doc = docOfSize(8000);
  t.true(validate(doc).ok);
  const asIdentity = validate(
    { Version: '2012-10-17', Statement: [{ ...doc.Statement[0], Principal: undefined, Resource: '*' }] },
    'identity',
  );
  t.false(asIdentity.ok);
  if (!asIdentity.ok) t.regex(asIdentity.errors[0]?.message ?? '', /at most 6144/);
  t.false(validate(doc, 'resource', { maxBytes: 7999 }).ok);
  t.true(validate(doc, 'resource', { maxBytes: 8000 }).ok);
});

test('size: whitespace does not count, bytes are UTF-8', (t) => {
  const doc = docOfSize(10_000);
  const pretty = JSON.stringify(doc, null, 8);
  t.true(pretty.length > 10_240);
  t.true(validate(pretty).ok);
  // Two-byte characters: 6,000 of them make more than 10,240 bytes.
  const wide = docOfSize(10_240, 'é');
  const result = validate(wide);
  t.true(result.ok);
  if (result.ok) t.true(result.canonical.length < 10_240);
  t.false(validate(docOfSize(10_241, 'é')).ok);
});

test('size: raw input beyond maxInputBytes is refused before parsing', (t) => {
  const padded = `${JSON.stringify(resourceDoc())}${' '.repeat(resourcePolicyLimits.maxInputBytes)}`;
  const result = validate(padded);
  t.false(result.ok);
  if (!result.ok) t.deepEqual(result.errors, [{ path: '', message: `the policy text exceeds ${resourcePolicyLimits.maxInputBytes} bytes` }]);
  const big = { ...resourceDoc(), Junk: 'x'.repeat(resourcePolicyLimits.maxInputBytes) };
  const bigResult = validate(big);
  t.regex(bigResult.ok ? '' : (bigResult.errors[0]?.message ?? ''), /exceeds/);
  t.true(validate(`${JSON.stringify(resourceDoc())}${' '.repeat(1000)}`, 'resource', { maxInputBytes: 2000 }).ok);
  const multibyte = `${JSON.stringify(resourceDoc({ Condition: { StringEquals: { 'aws:username': 'é'.repeat(800) } } }))}`;
  t.true(multibyte.length < 1500 && utf8Length(multibyte) > 1500);
  t.false(validate(multibyte, 'resource', { maxInputBytes: 1500 }).ok, 'the raw bound counts UTF-8 bytes');
});

test('statement count', (t) => {
  const statements = (n: number): unknown => ({
    Version: '2012-10-17',
    Statement: Array.from({ length: n }, (_, i) => ({ Sid: `S${i}`, Effect: 'Deny', Principal: '*', Action: 'ecr:*' })),
  });
  t.true(validate(statements(100), 'resource', { maxBytes: 1e6 }).ok);
  const over = validate(statements(101), 'resource', { maxBytes: 1e6 });
  t.false(over.ok);
  if (!over.ok) t.deepEqual(over.errors.map((e) => e.path), ['Statement']);
  t.false(validate(statements(3), 'resource', { maxStatements: 2 }).ok);
});

test('list lengths', (t) => {
  const actions = (n: number): string[] => Array.from({ length: n }, (_, i) => `ecr:A${i}`);
  t.true(validate(resourceDoc({ Action: actions(200) })).ok);
  const over = validate(resourceDoc({ Action: actions(201) }));
  t.false(over.ok);
  if (!over.ok) t.deepEqual(over.errors.map((e) => `${e.path}: ${e.message}`), ['Statement[0].Action: has 201 entries; at most 200 are allowed']);
  const values = validate(resourceDoc({ Condition: { StringEquals: { 'aws:username': actions(5) } } }), 'resource', { maxListEntries: 4 });
  t.false(values.ok);
  if (!values.ok) t.is(values.errors[0]?.path, 'Statement[0].Condition.StringEquals["aws:username"]');
  const principals = validate(resourceDoc({ Principal: { AWS: ['a', 'b', 'c'] } }), 'resource', { maxListEntries: 2 });
  t.false(principals.ok);
  if (!principals.ok) t.is(principals.errors[0]?.path, 'Statement[0].Principal.AWS');
});

test('condition count per statement', (t) => {
  const keys = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`custom:k${i}`, 'v']));
  t.true(validate(resourceDoc({ Condition: { StringEquals: keys(30), StringLike: keys(20) } })).ok);
  const over = validate(resourceDoc({ Condition: { StringEquals: keys(30), StringLike: keys(21) } }));
  t.false(over.ok);
  if (!over.ok) t.deepEqual(over.errors.map((e) => e.path), ['Statement[0].Condition']);
});

test('string lengths', (t) => {
  const long = `arn:berth:ecr:r:1:repository/${'a'.repeat(2048)}`;
  const result = validate(identityDoc({ Resource: long }), 'identity');
  t.false(result.ok);
  if (!result.ok) t.deepEqual(result.errors.map((e) => e.path), ['Statement[0].Resource']);
  const sid = validate(resourceDoc({ Sid: 'S'.repeat(3000) }));
  t.false(sid.ok);
  if (!sid.ok) t.regex(sid.errors[0]?.message ?? '', /longer than 2048/);
  const key = validate(resourceDoc({ Condition: { StringEquals: { [`aws:RequestTag/${'k'.repeat(2100)}`]: 'v' } } }));
  t.false(key.ok);
  const value = validate(resourceDoc({ Condition: { StringEquals: { 'aws:username': 'v'.repeat(2049) } } }));
  t.false(value.ok);
  if (!value.ok) t.regex(value.errors[0]?.message ?? '', /at most 2048 characters/);
});

test('errors are capped at maxErrors with a summary', (t) => {
  const doc = {
    Version: '2012-10-17',
    Statement: Array.from({ length: 100 }, () => ({ Effect: 'Perhaps', Principal: 1, Action: 2 })),
  };
  const result = validate(doc);
  t.false(result.ok);
  if (!result.ok) {
    t.is(result.errors.length, 101);
    t.deepEqual(result.errors[100], { path: '', message: '200 more errors not shown' });
  }
  const few = validate(doc, 'resource', { maxErrors: 5 });
  if (!few.ok) t.is(few.errors.length, 6);
});
