// cty type JSON: the exact text cty.Type.MarshalJSON writes, and reading it back.
import test from 'ava';
import {
  cty,
  friendlyName,
  hasDynamicTypes,
  parseType,
  typeEquals,
  typeFromJson,
  typeJsonBytes,
  typeJsonString,
  typeToJson,
  withoutOptionalAttributesDeep,
  type CtyType,
} from '../../src/terraform/values/cty-type.ts';
import { goJsonString, goJsonStringify, compareGoStrings } from '../../src/terraform/values/go-json.ts';

const cases: [string, CtyType, string][] = [
  ['string', cty.string, '"string"'],
  ['number', cty.number, '"number"'],
  ['bool', cty.bool, '"bool"'],
  ['dynamic', cty.dynamic, '"dynamic"'],
  ['list', cty.list(cty.string), '["list","string"]'],
  ['set', cty.set(cty.number), '["set","number"]'],
  ['map', cty.map(cty.bool), '["map","bool"]'],
  ['nested collections', cty.list(cty.map(cty.set(cty.string))), '["list",["map",["set","string"]]]'],
  ['object', cty.object({ a: cty.string }), '["object",{"a":"string"}]'],
  ['object attributes sorted', cty.object({ b: cty.number, a: cty.string, _z: cty.bool }), '["object",{"_z":"bool","a":"string","b":"number"}]'],
  ['empty object', cty.emptyObject, '["object",{}]'],
  ['optional attributes', cty.object({ b: cty.number, a: cty.string }, ['b', 'a']), '["object",{"a":"string","b":"number"},["a","b"]]'],
  ['tuple', cty.tuple([cty.string, cty.number]), '["tuple",["string","number"]]'],
  ['empty tuple', cty.tuple([]), '["tuple",[]]'],
  [
    'deep',
    cty.object({ filters: cty.list(cty.object({ filter: cty.string, filter_type: cty.string })), tags: cty.map(cty.string), d: cty.dynamic }),
    '["object",{"d":"dynamic","filters":["list",["object",{"filter":"string","filter_type":"string"}]],"tags":["map","string"]}]',
  ],
  ['integer-like attribute names in byte order', cty.object({ '9': cty.string, '10': cty.string }), '["object",{"10":"string","9":"string"}]'],
  ['attribute names escaped as Go does', cty.object({ 'a<b': cty.string }), '["object",{"a\\u003cb":"string"}]'],
];

for (const [title, type, json] of cases) {
  test(`type JSON: ${title}`, (t) => {
    t.is(typeJsonString(type), json);
    t.deepEqual(typeJsonBytes(type), Buffer.from(json));
    t.is(JSON.stringify(typeToJson(type)), JSON.stringify(JSON.parse(json)));
    const back = parseType(json);
    t.true(typeEquals(back, type));
    t.is(typeJsonString(back), json);
    t.true(typeEquals(parseType(Buffer.from(json)), type));
  });
}

test('type JSON: object attribute names that are Object.prototype members stay data', (t) => {
  const json = '["object",{"__proto__":"string","constructor":"number"}]';
  const type = parseType(json);
  t.is(type.kind, 'object');
  if (type.kind !== 'object') return;
  t.deepEqual(Object.keys(type.attributes).sort(), ['__proto__', 'constructor']);
  t.is(typeJsonString(type), json);
});

const invalid: [string, unknown][] = [
  ['unknown primitive', 'integer'],
  ['unknown kind', ['array', 'string']],
  ['missing element type', ['list']],
  ['extra data', ['list', 'string', 'string']],
  ['object without attributes', ['object', ['a']]],
  ['optional names not strings', ['object', { a: 'string' }, [1]]],
  ['optional name not an attribute', ['object', { a: 'string' }, ['b']]],
  ['object with four elements', ['object', {}, [], []]],
  ['tuple of non-array', ['tuple', 'string']],
  ['number', 1],
  ['null', null],
];

for (const [title, json] of invalid) {
  test(`type JSON rejects: ${title}`, (t) => {
    t.throws(() => typeFromJson(json));
  });
}

test('parseType rejects invalid JSON text', (t) => {
  t.throws(() => parseType('["list",'));
});

test('type equality, dynamic detection, optional-attribute stripping, names', (t) => {
  t.true(typeEquals(cty.list(cty.string), cty.list(cty.string)));
  t.false(typeEquals(cty.list(cty.string), cty.set(cty.string)));
  t.false(typeEquals(cty.object({ a: cty.string }), cty.object({ a: cty.string }, ['a'])));
  t.false(typeEquals(cty.object({ a: cty.string }), cty.object({ b: cty.string })));
  t.false(typeEquals(cty.tuple([cty.string]), cty.tuple([cty.string, cty.string])));
  t.true(hasDynamicTypes(cty.map(cty.object({ x: cty.tuple([cty.dynamic]) }))));
  t.false(hasDynamicTypes(cty.map(cty.object({ x: cty.tuple([cty.string]) }))));
  const withOpt = cty.list(cty.object({ a: cty.string, b: cty.object({ c: cty.number }, ['c']) }, ['a']));
  t.is(typeJsonString(withoutOptionalAttributesDeep(withOpt)), '["list",["object",{"a":"string","b":["object",{"c":"number"}]}]]');
  t.is(friendlyName(cty.list(cty.map(cty.string))), 'list of map of string');
});

test('Go JSON string escaping', (t) => {
  t.is(goJsonString('plain'), '"plain"');
  t.is(goJsonString('<a & b>'), '"\\u003ca \\u0026 b\\u003e"');
  t.is(goJsonString('q"\\'), '"q\\"\\\\"');
  t.is(goJsonString('\n\r\t\b\f\u0001\u001f'), '"\\n\\r\\t\\b\\f\\u0001\\u001f"');
  t.is(goJsonString('\u2028\u2029'), '"\\u2028\\u2029"');
  t.is(goJsonString('é😀'), '"é😀"');
  t.is(goJsonString('lone \ud800 surrogate'), '"lone \\ufffd surrogate"');
  t.is(goJsonStringify({ b: [1, true, null], a: { x: 'y' } }), '{"b":[1,true,null],"a":{"x":"y"}}');
});

test('Go string order is UTF-8 byte order', (t) => {
  // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in bytes, after it in UTF-16 code units.
  const a = '\uff5e';
  const b = '😀';
  t.true(a > b); // JavaScript's code-unit order
  t.true(compareGoStrings(a, b) < 0);
  t.deepEqual(['b', 'a', 'B', '_'].sort(compareGoStrings), ['B', '_', 'a', 'b']);
});
