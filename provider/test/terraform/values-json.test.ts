// cty values in JSON (DynamicValue.json and raw state), as go-cty's cty/json reads and writes them.
import test from 'ava';
import { cty, type CtyType } from '../../src/terraform/values/cty-type.ts';
import { decodeJson, encodeJson } from '../../src/terraform/values/json.ts';
import { formatNumber, parseNumber } from '../../src/terraform/values/number.ts';
import { CtyValueError, TypedValue, Unknown, type CtyValue } from '../../src/terraform/values/value.ts';

// [title, type, JSON text, value]
const decodes: [string, CtyType, string, CtyValue][] = [
  ['null', cty.string, 'null', null],
  ['null dynamic', cty.dynamic, 'null', null],
  ['string', cty.string, '"a\\u003cb"', 'a<b'],
  ['string from a number keeps its text', cty.string, '1.50', '1.50'],
  ['string from a bool', cty.string, 'true', 'true'],
  ['string is NFC-normalized', cty.string, '"e\\u0301"', 'é'],
  ['number', cty.number, '42', 42],
  ['negative fraction', cty.number, '-0.5', -0.5],
  ['number with trailing zeros', cty.number, '1.50', 1.5],
  ['number with exponent', cty.number, '2.5e3', 2500],
  ['big integer exactly', cty.number, '12345678901234567890', 12345678901234567890n],
  ['huge integer exactly', cty.number, '1e40', 10n ** 40n],
  ['number from a string', cty.number, '"17"', 17],
  ['bool', cty.bool, 'false', false],
  ['bool from "true"', cty.bool, '"true"', true],
  ['bool from "1"', cty.bool, '"1"', true],
  ['bool from "0"', cty.bool, '"0"', false],
  ['list', cty.list(cty.number), '[1,2,null]', [1, 2, null]],
  ['set', cty.set(cty.string), '["b","a"]', ['b', 'a']],
  ['map', cty.map(cty.bool), '{"x":true,"y":null}', { x: true, y: null }],
  ['tuple', cty.tuple([cty.string, cty.number]), '["a",1]', ['a', 1]],
  ['object: missing attributes are null', cty.object({ a: cty.string, b: cty.list(cty.string) }), '{"a":"x"}', { a: 'x', b: null }],
  ['object: nested', cty.object({ o: cty.object({ n: cty.number }) }), '{"o":{"n":3}}', { o: { n: 3 } }],
  ['dynamic', cty.dynamic, '{"value":["a",1],"type":["tuple",["string","number"]]}', new TypedValue(cty.tuple([cty.string, cty.number]), ['a', 1])],
  ['dynamic with type first', cty.dynamic, '{"type":"string","value":"x"}', new TypedValue(cty.string, 'x')],
  ['dynamic typed null', cty.dynamic, '{"value":null,"type":"number"}', new TypedValue(cty.number, null)],
  ['object with a dynamic attribute', cty.object({ d: cty.dynamic }), '{"d":{"value":{"k":"v"},"type":["map","string"]}}', { d: new TypedValue(cty.map(cty.string), { k: 'v' }) }],
];

for (const [title, type, json, value] of decodes) {
  test(`json decode: ${title}`, (t) => {
    t.deepEqual(decodeJson(json, type), value);
    t.deepEqual(decodeJson(Buffer.from(json), type), value);
  });
}

const errors: [string, CtyType, string, RegExp][] = [
  ['invalid JSON', cty.string, '{', /invalid JSON/],
  ['object for a string', cty.string, '{}', /string is required/],
  ['bool for a number', cty.number, 'true', /number is required/],
  ['non-numeric string for a number', cty.number, '"abc"', /number is required/],
  ['bad bool string', cty.bool, '"yes"', /bool is required/],
  ['object for a list', cty.list(cty.string), '{}', /missing expected \[/],
  ['array for a map', cty.map(cty.string), '[]', /missing expected \{/],
  ['too many tuple elements', cty.tuple([cty.string]), '["a","b"]', /too many tuple elements/],
  ['too few tuple elements', cty.tuple([cty.string, cty.string]), '["a"]', /not enough tuple elements/],
  ['unknown attribute', cty.object({ a: cty.string }), '{"a":"x","b":1}', /unsupported attribute "b"/],
  ['dynamic without type', cty.dynamic, '{"value":1}', /missing type/],
  ['dynamic without value', cty.dynamic, '{"type":"number"}', /missing value/],
  ['dynamic with another key', cty.dynamic, '{"type":"number","value":1,"x":2}', /invalid key "x"/],
  ['dynamic with a bad type', cty.dynamic, '{"type":"nope","value":1}', /failed to decode type/],
  ['nested error path', cty.object({ l: cty.list(cty.number) }), '{"l":[1,"x"]}', /^l\[1\]: a number is required/],
];

for (const [title, type, json, message] of errors) {
  test(`json decode error: ${title}`, (t) => {
    const e = t.throws(() => decodeJson(json, type), { instanceOf: CtyValueError });
    t.regex(e?.message ?? '', message);
  });
}

test('json decode: raw state from an older schema, ignoring attributes the type no longer has', (t) => {
  const type = cty.object({ repository_name: cty.string, tags: cty.map(cty.string) });
  const raw = '{"repository_name":"app","tags":{"env":"prod"},"removed_attribute":true}';
  t.throws(() => decodeJson(raw, type));
  t.deepEqual(decodeJson(raw, type, { ignoreUndefinedAttributes: true }), { repository_name: 'app', tags: { env: 'prod' } });
});

// [title, type, value, JSON text as go-cty writes it]
const encodes: [string, CtyType, CtyValue, string][] = [
  ['null', cty.string, null, 'null'],
  ['string escaped as Go does', cty.string, '<a & "b">\n', '"\\u003ca \\u0026 \\"b\\"\\u003e\\n"'],
  ['integer', cty.number, 42, '42'],
  ['fraction', cty.number, 0.1, '0.1'],
  ['large number without exponent', cty.number, 1e21, '1000000000000000000000'],
  ['small number without exponent', cty.number, 1.5e-7, '0.00000015'],
  ['bigint', cty.number, 2n ** 70n, '1180591620717411303424'],
  ['bool', cty.bool, true, 'true'],
  ['list', cty.list(cty.string), ['b', 'a'], '["b","a"]'],
  ['map keys sorted', cty.map(cty.number), { b: 2, a: 1 }, '{"a":1,"b":2}'],
  ['object: all attributes, sorted', cty.object({ z: cty.string, a: cty.number }), { z: 'x' }, '{"a":null,"z":"x"}'],
  ['tuple', cty.tuple([cty.bool, cty.string]), [false, 's'], '[false,"s"]'],
  ['object: integer-like names in byte order', cty.object({ '9': cty.number, '10': cty.number }), { '9': 9, '10': 10 }, '{"10":10,"9":9}'],
  ['dynamic', cty.dynamic, new TypedValue(cty.list(cty.string), ['x']), '{"value":["x"],"type":["list","string"]}'],
  ['dynamic inferred', cty.dynamic, { k: 1 }, '{"value":{"k":1},"type":["object",{"k":"number"}]}'],
  ['dynamic null', cty.dynamic, null, 'null'],
];

for (const [title, type, value, json] of encodes) {
  test(`json encode: ${title}`, (t) => {
    t.is(encodeJson(value, type), json);
  });
}

test('json encode: unknown values and infinities cannot be written', (t) => {
  t.throws(() => encodeJson(Unknown, cty.string), { message: /not known/ });
  t.throws(() => encodeJson({ a: [Unknown] }, cty.object({ a: cty.list(cty.string) })), { message: /^a\[0\]: value is not known/ });
  t.throws(() => encodeJson(Infinity, cty.number), { message: /infinity/ });
});

test('json round trip of a nested value', (t) => {
  const type = cty.object({
    name: cty.string,
    count: cty.number,
    filters: cty.list(cty.object({ filter: cty.string, filter_type: cty.string })),
    tags: cty.map(cty.string),
    scan: cty.object({ scan_on_push: cty.bool }),
    extra: cty.dynamic,
  });
  const value = {
    count: 12345678901234567890n,
    extra: new TypedValue(cty.set(cty.number), [1, 2.5]),
    filters: [{ filter: 'dev-*', filter_type: 'WILDCARD' }],
    name: 'team/app',
    scan: null,
    tags: { env: 'prod' },
  };
  t.deepEqual(decodeJson(encodeJson(value, type), type), value);
});

const numberTexts: [string, number | bigint][] = [
  ['0', 0],
  ['-0', 0],
  ['0.000', 0],
  ['+5', 5],
  ['5.', 5],
  ['.5', 0.5],
  ['100.00', 100],
  ['1e2', 100],
  ['1.25e1', 12.5],
  ['9007199254740993', 9007199254740993n],
  ['-9007199254740993', -9007199254740993n],
  ['1E+3', 1000],
  ['123e-2', 1.23],
];

for (const [text, n] of numberTexts) {
  test(`parseNumber ${text}`, (t) => {
    t.is(parseNumber(text), n);
  });
}

test('parseNumber rejects non-numbers; formatNumber writes plain decimals', (t) => {
  for (const bad of ['', '.', 'abc', '1e', '--1', '0x10', 'Infinity', 'NaN', '1 2']) t.throws(() => parseNumber(bad), undefined, bad);
  t.is(formatNumber(123), '123');
  t.is(formatNumber(-1e-10), '-0.0000000001');
  t.is(formatNumber(1.7976931348623157e308).length, 309);
  t.is(formatNumber(5e-324), '0.' + '0'.repeat(323) + '5');
  t.is(formatNumber(-12n), '-12');
  t.throws(() => formatNumber(NaN));
});
