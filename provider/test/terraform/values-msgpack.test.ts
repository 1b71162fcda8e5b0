// cty values in msgpack. The golden byte strings are derived by hand from go-cty's encoder
// (cty/msgpack marshal.go, unknown.go, dynamic.go) and vmihailenco/msgpack's compact encodings,
// not produced by the code under test.
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import { decode as libDecode, encode as libEncode, ExtData } from '@msgpack/msgpack';
import { cty, type CtyType } from '../../src/terraform/values/cty-type.ts';
import { decodeMsgpack, encodeMsgpack } from '../../src/terraform/values/msgpack.ts';
import { CtyValueError, TypedValue, Unknown, UnknownValue, isWhollyKnown, unknown, type CtyValue } from '../../src/terraform/values/value.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

// [title, type, value, bytes]: encoding the value gives the bytes, decoding the bytes gives the value.
const golden: [string, CtyType, CtyValue, string][] = [
  ['null string', cty.string, null, 'c0'],
  ['null object', cty.object({ a: cty.string }), null, 'c0'],
  ['unknown string', cty.string, Unknown, 'd4 00 00'],
  ['unknown object', cty.object({ a: cty.string }), Unknown, 'd4 00 00'],
  ['string', cty.string, 'hello', 'a5 68656c6c6f'],
  ['empty string', cty.string, '', 'a0'],
  ['31-byte string (fixstr)', cty.string, 'a'.repeat(31), 'bf' + '61'.repeat(31)],
  ['32-byte string (str8)', cty.string, 'a'.repeat(32), 'd9 20' + '61'.repeat(32)],
  ['256-byte string (str16)', cty.string, 'a'.repeat(256), 'da 0100' + '61'.repeat(256)],
  ['UTF-8 string', cty.string, 'é', 'a2 c3a9'],
  ['0', cty.number, 0, '00'],
  ['127 (positive fixint)', cty.number, 127, '7f'],
  ['128 (uint8)', cty.number, 128, 'cc 80'],
  ['255', cty.number, 255, 'cc ff'],
  ['256 (uint16)', cty.number, 256, 'cd 0100'],
  ['65535', cty.number, 65535, 'cd ffff'],
  ['65536 (uint32)', cty.number, 65536, 'ce 00010000'],
  ['2^32 (uint64)', cty.number, 2 ** 32, 'cf 0000000100000000'],
  ['2^53 - 1', cty.number, Number.MAX_SAFE_INTEGER, 'cf 001fffffffffffff'],
  ['int64 max', cty.number, 2n ** 63n - 1n, 'cf 7fffffffffffffff'],
  ['-1 (negative fixint)', cty.number, -1, 'ff'],
  ['-32', cty.number, -32, 'e0'],
  ['-33 (int8)', cty.number, -33, 'd0 df'],
  ['-128', cty.number, -128, 'd0 80'],
  ['-129 (int16)', cty.number, -129, 'd1 ff7f'],
  ['-32768', cty.number, -32768, 'd1 8000'],
  ['-32769 (int32)', cty.number, -32769, 'd2 ffff7fff'],
  ['-2^31 - 1 (int64)', cty.number, -(2 ** 31) - 1, 'd3 ffffffff7fffffff'],
  ['int64 min', cty.number, -(2n ** 63n), 'd3 8000000000000000'],
  ['2^63 (string)', cty.number, 2n ** 63n, 'b3' + ascii('9223372036854775808')],
  ['2^64 (string)', cty.number, 2n ** 64n, 'b4' + ascii('18446744073709551616')],
  ['-2^63 - 1 (string)', cty.number, -(2n ** 63n) - 1n, 'b4' + ascii('-9223372036854775809')],
  ['1.5 (float64)', cty.number, 1.5, 'cb 3ff8000000000000'],
  ['-0.25', cty.number, -0.25, 'cb bfd0000000000000'],
  ['0.1', cty.number, 0.1, 'cb 3fb999999999999a'],
  ['+Infinity', cty.number, Infinity, 'cb 7ff0000000000000'],
  ['-Infinity', cty.number, -Infinity, 'cb fff0000000000000'],
  ['true', cty.bool, true, 'c3'],
  ['false', cty.bool, false, 'c2'],
  ['list', cty.list(cty.string), ['a', 'b'], '92 a161 a162'],
  ['empty list', cty.list(cty.string), [], '90'],
  ['list with null and unknown', cty.list(cty.string), ['a', null, Unknown], '93 a161 c0 d40000'],
  ['16-element list (array16)', cty.list(cty.bool), Array(16).fill(true), 'dc 0010' + 'c3'.repeat(16)],
  ['set', cty.set(cty.number), [1, 2], '92 01 02'],
  ['map (keys sorted)', cty.map(cty.number), { a: 1, b: 2 }, '82 a161 01 a162 02'],
  ['empty map', cty.map(cty.number), {}, '80'],
  [
    '16-entry map (map16)',
    cty.map(cty.bool),
    Object.fromEntries(Array.from({ length: 16 }, (_, i) => [String.fromCharCode(0x61 + i), true])),
    'de 0010' + Array.from({ length: 16 }, (_, i) => 'a1' + (0x61 + i).toString(16) + 'c3').join(''),
  ],
  [
    'object (attributes sorted, unknown attribute)',
    cty.object({ name: cty.string, age: cty.number }),
    { age: Unknown, name: 'x' },
    '82 a3616765 d40000 a46e616d65 a178',
  ],
  ['object with a null attribute', cty.object({ a: cty.string }), { a: null }, '81 a161 c0'],
  ['empty object', cty.emptyObject, {}, '80'],
  ['object: integer-like names in byte order', cty.object({ '9': cty.string, '10': cty.string }), { '10': 'a', '9': 'b' }, '82 a23130 a161 a139 a162'],
  ['tuple', cty.tuple([cty.string, cty.bool]), ['x', true], '92 a178 c3'],
  ['dynamic: string', cty.dynamic, new TypedValue(cty.string, 'hi'), '92 c408' + ascii('"string"') + 'a26869'],
  ['dynamic: list', cty.dynamic, new TypedValue(cty.list(cty.string), ['a']), '92 c411' + ascii('["list","string"]') + '91a161'],
  ['dynamic: typed null', cty.dynamic, new TypedValue(cty.number, null), '92 c408' + ascii('"number"') + 'c0'],
  ['dynamic: typed unknown', cty.dynamic, new TypedValue(cty.bool, Unknown), '92 c406' + ascii('"bool"') + 'd40000'],
  ['dynamic: null', cty.dynamic, null, 'c0'],
  ['dynamic: unknown', cty.dynamic, Unknown, 'd4 00 00'],
  ['object with a dynamic attribute', cty.object({ d: cty.dynamic }), { d: new TypedValue(cty.bool, true) }, '81 a164 92c406' + ascii('"bool"') + 'c3'],
  // Refined unknowns: ext 12 whose payload is a map of refinements.
  ['refined: string not null', cty.string, unknown({ notNull: true }), 'c7 03 0c 81 01c2'],
  ['refined: string not null with prefix', cty.string, unknown({ notNull: true, stringPrefix: 'ab' }), 'c7 07 0c 82 01c2 02a26162'],
  ['refined: string prefix only', cty.string, unknown({ stringPrefix: 'arn:' }), 'c7 07 0c 81 02a4' + ascii('arn:')],
  [
    'refined: number bounds',
    cty.number,
    unknown({ notNull: true, numberMin: { value: 0, inclusive: true }, numberMax: { value: 10, inclusive: false } }),
    'c7 0b 0c 83 01c2 03920 0c3 04920ac2',
  ],
  ['refined: number bound as float', cty.number, unknown({ numberMin: { value: 0.5, inclusive: false } }), 'c7 0d 0c 81 0392cb3fe0000000000000c2'],
  ['refined: list length bounds', cty.list(cty.string), unknown({ lengthMin: 1, lengthMax: 4 }), 'c7 05 0c 82 0501 0604'],
  ['refined: 4-byte payload uses fixext4', cty.set(cty.string), unknown({ lengthMin: 200 }), 'd6 0c 81 05ccc8'],
  ['refined: map not null', cty.map(cty.string), unknown({ notNull: true }), 'c7 03 0c 81 01c2'],
];

for (const [title, type, value, bytes] of golden) {
  test(`msgpack golden: ${title}`, (t) => {
    t.is(encodeMsgpack(value, type).toString('hex'), hex(bytes).toString('hex'), 'encoding');
    t.deepEqual(decodeMsgpack(hex(bytes), type), value, 'decoding');
    // The bytes are well-formed msgpack for an independent decoder, with nothing left over.
    t.notThrows(() => libDecode(hex(bytes), { useBigInt64: true }));
  });
}

// Bytes Terraform (or another encoder) may send that go-cty accepts, with the value they mean.
const decodeOnly: [string, CtyType, string, CtyValue][] = [
  ['any extension type is unknown', cty.string, 'd6 05 01020304', Unknown],
  ['zero-length ext8', cty.number, 'c7 00 00', Unknown],
  ['type 12 with one byte is wholly unknown', cty.string, 'd4 0c 00', Unknown],
  ['unknown refinement keys are skipped', cty.string, 'c7 06 0c 82 07a178 01c2', unknown({ notNull: true })],
  ['trailing bytes after the refinement map are ignored', cty.string, 'c7 04 0c 81 01c2 00', unknown({ notNull: true })],
  ['refinements of a dynamic value are ignored', cty.dynamic, 'c7 03 0c 81 01c2', Unknown],
  ['refined as null is null', cty.string, 'c7 03 0c 81 01c3', null],
  ['not-null number with equal inclusive bounds is known', cty.number, 'c7 0b 0c 83 01c2 039205c3 049205c3', 5],
  ['equal bounds without not-null stay unknown', cty.number, 'c7 09 0c 82 039205c3 049205c3', unknown({ numberMin: { value: 5, inclusive: true }, numberMax: { value: 5, inclusive: true } })],
  ['not-null list of known length is a list of unknowns', cty.list(cty.string), 'c7 07 0c 83 01c2 0502 0602', [Unknown, Unknown]],
  ['not-null set of length 1 has one unknown element', cty.set(cty.string), 'c7 07 0c 83 01c2 0501 0601', [Unknown]],
  ['not-null map of length 0 is empty', cty.map(cty.string), 'c7 07 0c 83 01c2 0500 0600', {}],
  ['number as decimal string', cty.number, 'a3' + ascii('0.1'), 0.1],
  ['integer as decimal string', cty.number, 'a3' + ascii('100'), 100],
  ['big integer as decimal string', cty.number, 'b7' + ascii('12345678901234567890123'), 12345678901234567890123n],
  ['number with exponent', cty.number, 'a4' + ascii('1e21'), 10n ** 21n],
  ['number as bin', cty.number, 'c4 02' + ascii('42'), 42],
  ['float32', cty.number, 'ca 3fc00000', 1.5],
  ['integral float64', cty.number, 'cb 4059000000000000', 100],
  ['int8 for a positive value', cty.number, 'd0 05', 5],
  ['uint64 for a small value', cty.number, 'cf 0000000000000005', 5],
  ['uint64 above 2^53', cty.number, 'cf 0020000000000001', 2n ** 53n + 1n],
  ['string as bin', cty.string, 'c4 02 6869', 'hi'],
  ['string in str32', cty.string, 'db 00000002 6869', 'hi'],
  ['string is NFC-normalized', cty.string, 'a3 65cc81', 'é'],
  ['dynamic type as str', cty.dynamic, '92 a8' + ascii('"string"') + 'a26869', new TypedValue(cty.string, 'hi')],
  ['dynamic with dynamic type', cty.dynamic, '92 a9' + ascii('"dynamic"') + 'c0', null],
  ['list in array32', cty.list(cty.number), 'dd 00000001 07', [7]],
  ['map in map32', cty.map(cty.number), 'df 00000001 a161 07', { a: 7 }],
  ['object attributes in any order', cty.object({ a: cty.number, b: cty.number }), '82 a162 02 a161 01', { a: 1, b: 2 }],
  ['map key named __proto__ stays data', cty.map(cty.number), '81 a9' + ascii('__proto__') + '01', JSON.parse('{"__proto__":1}') as CtyValue],
];

for (const [title, type, bytes, value] of decodeOnly) {
  test(`msgpack decode: ${title}`, (t) => {
    t.deepEqual(decodeMsgpack(hex(bytes), type), value);
  });
}

const decodeErrors: [string, CtyType, string, RegExp][] = [
  ['bool for a string', cty.string, 'c3', /string is required/],
  ['string for a bool', cty.bool, 'a0', /bool is required/],
  ['map for a list', cty.list(cty.string), '80', /list is required/],
  ['object missing an attribute', cty.object({ a: cty.string, b: cty.string }), '81 a161 a0', /2 attributes is required \(1 given\)/],
  ['object with an unknown attribute', cty.object({ a: cty.string }), '81 a162 a0', /unsupported attribute/],
  ['tuple of the wrong length', cty.tuple([cty.string]), '92 a0 a0', /tuple of length 1/],
  ['trailing bytes', cty.string, 'a0 a0', /trailing data/],
  ['truncated', cty.string, 'a5 6865', /unexpected end/],
  ['empty input', cty.string, '', /unexpected end/],
  ['NaN', cty.number, 'cb 7ff8000000000000', /NaN/],
  ['not a number string', cty.number, 'a3 616263', /number is required/],
  ['invalid UTF-8', cty.string, 'a2 c328', /UTF-8/],
  ['refinement body not a map', cty.string, 'c7 02 0c 9100', /not a map/],
  ['string prefix for a number', cty.number, 'c7 03 0c 81 02a0', /string prefix refinement for non-string/],
  ['length bound for a string', cty.string, 'c7 03 0c 81 0501', /length bound refinement for non-collection/],
  ['number bound for a string', cty.string, 'c7 05 0c 81 039200c3', /numeric bound refinement for non-number/],
  ['oversize refinement', cty.string, 'c8 0401 0c' + '81 02 da03fc' + '61'.repeat(1020), /oversize/],
  ['dynamic value not a pair', cty.dynamic, '91 a0', /exactly two elements/],
  ['dynamic value with bad type', cty.dynamic, '92 a3' + ascii('"x"') + 'c0', /invalid primitive type name/],
];

for (const [title, type, bytes, message] of decodeErrors) {
  test(`msgpack decode error: ${title}`, (t) => {
    const e = t.throws(() => decodeMsgpack(hex(bytes), type), { instanceOf: CtyValueError });
    t.regex(e?.message ?? '', message);
  });
}

test('msgpack decode errors name the path', (t) => {
  const type = cty.object({ tags: cty.map(cty.list(cty.number)) });
  const bytes = hex('81 a474616773 81 a3656e76 92 01 a0');
  const e = t.throws(() => decodeMsgpack(bytes, type), { instanceOf: CtyValueError });
  t.deepEqual(e?.path, ['tags', 'env', 1]);
  t.regex(e?.message ?? '', /^tags\.env\[1\]: number is required/);
});

// Round trips of values of every type, with nulls and unknowns at every depth.
const filterType = cty.object({ filter: cty.string, filter_type: cty.string });
const repoType = cty.object({
  repository_name: cty.string,
  image_count: cty.number,
  scan: cty.object({ scan_on_push: cty.bool }),
  filters: cty.list(filterType),
  labels: cty.set(cty.string),
  tags: cty.map(cty.string),
  nested: cty.map(cty.list(cty.object({ deep: cty.object({ leaf: cty.number, flags: cty.set(cty.bool) }) }))),
  pair: cty.tuple([cty.string, cty.number]),
  extra: cty.dynamic,
});

const fullRepo = {
  extra: new TypedValue(cty.map(cty.number), { a: 1 }),
  filters: [
    { filter: 'dev-*', filter_type: 'WILDCARD' },
    { filter: 'latest', filter_type: 'WILDCARD' },
  ],
  image_count: 42,
  labels: ['a', 'b'],
  nested: { x: [{ deep: { flags: [true], leaf: 1.25 } }] },
  pair: ['p', -7],
  repository_name: 'team/app',
  scan: { scan_on_push: true },
  tags: { env: 'prod', 'team name': 'platform' },
};

const roundTrips: [string, CtyType, CtyValue][] = [
  ['full object', repoType, fullRepo],
  ['unknown at the top', repoType, Unknown],
  ['null at the top', repoType, null],
  ['unknown attributes', repoType, { ...fullRepo, image_count: Unknown, scan: Unknown, filters: Unknown, tags: Unknown, extra: Unknown }],
  ['null attributes', repoType, Object.fromEntries(Object.keys(fullRepo).map((k) => [k, null]))],
  ['unknown inside a nested object', repoType, { ...fullRepo, scan: { scan_on_push: Unknown } }],
  ['unknown list element', repoType, { ...fullRepo, filters: [Unknown, { filter: Unknown, filter_type: 'WILDCARD' }] }],
  ['unknown set element', repoType, { ...fullRepo, labels: ['a', Unknown] }],
  ['unknown and null map values', repoType, { ...fullRepo, tags: { a: Unknown, b: null } }],
  ['unknowns four levels down', repoType, { ...fullRepo, nested: { x: [{ deep: { flags: [Unknown, false], leaf: Unknown } }, { deep: Unknown }, Unknown, null] } }],
  ['nulls four levels down', repoType, { ...fullRepo, nested: { x: [{ deep: { flags: null, leaf: null } }, { deep: null }] } }],
  ['unknown tuple element', repoType, { ...fullRepo, pair: [Unknown, null] }],
  ['refined unknowns inside', repoType, { ...fullRepo, repository_name: unknown({ notNull: true, stringPrefix: 'team/' }), image_count: unknown({ numberMin: { value: 0, inclusive: true } }), filters: unknown({ lengthMax: 5 }) }],
  ['dynamic holding an object with unknowns', repoType, { ...fullRepo, extra: new TypedValue(cty.object({ a: cty.list(cty.string) }), { a: ['x', Unknown] }) }],
  ['dynamic holding a dynamic-typed tuple element', cty.dynamic, new TypedValue(cty.tuple([cty.dynamic, cty.string]), [new TypedValue(cty.number, 1), 's'])],
  ['big numbers', cty.list(cty.number), [2n ** 70n, -(2n ** 70n), 2n ** 53n + 1n, 1e-300, Number.MIN_VALUE, 123.456e-10]],
  ['empty collections', cty.object({ l: cty.list(cty.string), s: cty.set(cty.number), m: cty.map(cty.bool), t: cty.tuple([]), o: cty.emptyObject }), { l: [], m: {}, o: {}, s: [], t: [] }],
  ['non-ASCII map keys', cty.map(cty.string), { 'ключ': 'значение', '😀': 'emoji', '\uff5e': 'tilde' }],
];

for (const [title, type, value] of roundTrips) {
  test(`msgpack round trip: ${title}`, (t) => {
    const bytes = encodeMsgpack(value, type);
    t.deepEqual(decodeMsgpack(bytes, type), value);
    t.deepEqual(encodeMsgpack(decodeMsgpack(bytes, type), type), bytes, 'canonical: re-encoding gives the same bytes');
    t.notThrows(() => libDecode(bytes, { useBigInt64: true }));
  });
}

test('msgpack round trip: long strings and arrays (str16, array32)', (t) => {
  const value = Array.from({ length: 70000 }, (_, i) => `item-${i}-${'x'.repeat(i % 300)}`);
  const type = cty.list(cty.string);
  const bytes = encodeMsgpack(value, type);
  t.is(bytes.subarray(0, 5).toString('hex'), 'dd00011170');
  // (node:util's comparison: AVA's deepEqual is slow on 70,000 elements)
  t.true(isDeepStrictEqual(decodeMsgpack(bytes, type), value));
  t.true(isDeepStrictEqual(libDecode(bytes), value));
});

test('msgpack: a wholly known value encodes as a generic msgpack encoder would (keys sorted)', (t) => {
  const known = {
    filters: [{ filter: 'dev-*', filter_type: 'WILDCARD' }],
    image_count: 70000,
    labels: ['a', 'b'],
    name: 'a'.repeat(40),
    negative: -200,
    ratio: 0.75,
    scan: { scan_on_push: false },
    tags: { env: 'prod', team: 'x' },
  };
  const type = cty.object({
    filters: cty.list(filterType),
    image_count: cty.number,
    labels: cty.set(cty.string),
    name: cty.string,
    negative: cty.number,
    ratio: cty.number,
    scan: cty.object({ scan_on_push: cty.bool }),
    tags: cty.map(cty.string),
  });
  t.true(isWhollyKnown(known));
  t.deepEqual(encodeMsgpack(known, type), Buffer.from(libEncode(known, { sortKeys: true })));
});

test('msgpack: values from a generic msgpack encoder decode', (t) => {
  const type = cty.object({ n: cty.number, s: cty.list(cty.string), m: cty.map(cty.bool) });
  const bytes = libEncode({ s: ['x'], n: 2 ** 40, m: { k: true } });
  t.deepEqual(decodeMsgpack(bytes, type), { m: { k: true }, n: 2 ** 40, s: ['x'] });
  const unknownBytes = libEncode({ s: new ExtData(0, new Uint8Array([0])), n: null, m: new ExtData(12, Uint8Array.of(0x81, 0x01, 0xc2)) });
  t.deepEqual(decodeMsgpack(unknownBytes, type), { m: unknown({ notNull: true }), n: null, s: Unknown });
});

test('msgpack: the dynamic slot infers a type for plain data', (t) => {
  const bytes = encodeMsgpack({ a: ['x', 1, true] }, cty.dynamic);
  t.is(bytes.toString('hex'), '92c435' + ascii('["object",{"a":["tuple",["string","number","bool"]]}]') + '81a16193a17801c3');
  t.deepEqual(decodeMsgpack(bytes, cty.dynamic), new TypedValue(cty.object({ a: cty.tuple([cty.string, cty.number, cty.bool]) }), { a: ['x', 1, true] }));
});

test('msgpack: encoding', (t) => {
  // Missing object attributes are written as null; strings are NFC-normalized.
  t.deepEqual(encodeMsgpack({}, cty.object({ a: cty.string })), hex('81 a161 c0'));
  t.deepEqual(encodeMsgpack('e\u0301', cty.string), hex('a2 c3a9'));
  // -0 is the integer 0; integral doubles beyond 2^53 are integers; beyond int64 decimal text.
  t.deepEqual(encodeMsgpack(-0, cty.number), hex('00'));
  t.deepEqual(encodeMsgpack(2 ** 60, cty.number), hex('cf 1000000000000000'));
  t.deepEqual(encodeMsgpack(1e20, cty.number), hex('b5' + ascii('100000000000000000000')));
  // Integers outside the safe range come back as bigints, exactly.
  t.is(decodeMsgpack(encodeMsgpack(-Number.MAX_VALUE, cty.number), cty.number), BigInt(-Number.MAX_VALUE));
  // A refinement that does not apply to the type is not written; a dynamic unknown is never refined.
  t.deepEqual(encodeMsgpack(unknown({ stringPrefix: 'x' }), cty.number), hex('d40000'));
  t.deepEqual(encodeMsgpack(unknown({ notNull: true }), cty.dynamic), hex('d40000'));
  // Infinite number bounds are not written.
  t.deepEqual(encodeMsgpack(unknown({ numberMin: { value: -Infinity, inclusive: true } }), cty.number), hex('d40000'));
  // A TypedValue in a slot of its own type is its value.
  t.deepEqual(encodeMsgpack(new TypedValue(cty.string, 'x'), cty.string), hex('a178'));
});

test('msgpack: long string prefix refinements are truncated as go-cty does', (t) => {
  const prefix = 'p'.repeat(300);
  const bytes = encodeMsgpack(unknown({ stringPrefix: prefix }), cty.string);
  const back = decodeMsgpack(bytes, cty.string);
  t.true(back instanceof UnknownValue);
  // Cut to 255 bytes, then the last grapheme cluster is dropped (more text could join it).
  t.is((back as UnknownValue).refinements.stringPrefix, 'p'.repeat(254));
  const slashed = 'p'.repeat(254) + '/' + 'q'.repeat(50);
  const kept = decodeMsgpack(encodeMsgpack(unknown({ stringPrefix: slashed }), cty.string), cty.string) as UnknownValue;
  t.is(kept.refinements.stringPrefix, 'p'.repeat(254) + '/');
});

const encodeErrors: [string, CtyType, CtyValue, RegExp][] = [
  ['number for a string', cty.string, 1, /string required/],
  ['string for a number', cty.number, '1', /number required/],
  ['NaN', cty.number, NaN, /NaN/],
  ['object for a list', cty.list(cty.string), {}, /list required/],
  ['array for a map', cty.map(cty.string), [], /map required/],
  ['attribute not in the type', cty.object({ a: cty.string }), { a: 'x', b: 'y' }, /b: unsupported attribute/],
  ['tuple of the wrong length', cty.tuple([cty.string]), ['a', 'b'], /tuple of length 1/],
  ['typed value of another type', cty.string, new TypedValue(cty.number, 1), /number given where string/],
  ['nested path', cty.object({ l: cty.list(cty.object({ n: cty.number })) }), { l: [{ n: 1 }, { n: 'x' }] }, /^l\[1\]\.n: number required/],
];

for (const [title, type, value, message] of encodeErrors) {
  test(`msgpack encode error: ${title}`, (t) => {
    const e = t.throws(() => encodeMsgpack(value, type), { instanceOf: CtyValueError });
    t.regex(e?.message ?? '', message);
  });
}
