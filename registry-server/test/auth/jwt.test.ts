import test from 'ava';
import { createHmac, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import {
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  keyIdFor,
  signJwt,
  verifyJwt,
  type VerifyOptions,
} from '../../src/auth/jwt.ts';

const now = 1_700_000_000;
const key = generateSigningKey();
const other = generateSigningKey();

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'berth', sub: 'alice', aud: 'registry', exp: now + 300, iat: now, jti: 'j1', ...overrides };
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return { keys: (kid) => (kid === key.kid ? key.publicKey : undefined), audience: 'registry', issuer: 'berth', now, ...overrides };
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function reason(token: string, overrides: Partial<VerifyOptions> = {}): string {
  const result = verifyJwt(token, options(overrides));
  return result.ok ? 'ok' : result.reason;
}

/** Re-sign a hand-made header and payload with `signer`, so only the field under test is wrong. */
function forge(header: unknown, payload: unknown, signer: KeyObject = key.privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

test('round trip returns the claims', (t) => {
  const token = signJwt(claims({ access: [{ type: 'repository', name: 'a', actions: ['pull'] }] }), key);
  const result = verifyJwt(token, options());
  t.true(result.ok);
  if (result.ok) {
    t.is(result.claims.sub, 'alice');
    t.deepEqual(result.claims.access, [{ type: 'repository', name: 'a', actions: ['pull'] }]);
  }
  const [header] = token.split('.');
  t.deepEqual(JSON.parse(Buffer.from(header ?? '', 'base64url').toString()), { alg: 'ES256', typ: 'JWT', kid: key.kid });
});

test('signature is raw r||s and verifies with node:crypto over the signing input', (t) => {
  const token = signJwt(claims(), key);
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  t.is(signature.length, 64);
  t.true(verify('sha256', Buffer.from(`${h}.${p}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature));
  t.false(verify('sha256', Buffer.from(`${h}.${p}x`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature));
});

test('refuses malformed tokens without throwing', (t) => {
  const token = signJwt(claims(), key);
  const [h, p, s] = token.split('.') as [string, string, string];
  t.is(reason(''), 'token must have three segments');
  t.is(reason(`${h}.${p}`), 'token must have three segments');
  t.is(reason(`${token}.x`), 'token must have three segments');
  t.is(reason(`${h}.${p}.`), 'malformed signature');
  t.is(reason(`.${p}.${s}`), 'header is not base64url JSON');
  t.is(reason(`${h}=.${p}.${s}`), 'header is not base64url JSON');
  t.is(reason(`${h}.${p}.${s}=`), 'malformed signature');
  t.is(reason(`${h}.${p}.${s.replace(/.$/, '+')}`), 'malformed signature');
  t.is(reason(`${b64('str')}.${p}.${s}`), 'header is not base64url JSON');
  t.is(reason(`${Buffer.from('{bad').toString('base64url')}.${p}.${s}`), 'header is not base64url JSON');
  t.is(reason(`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${p}.${s}`), 'header is not base64url JSON');
  t.is(reason(12 as unknown as string), 'token is not a string');
  t.is(reason(token, { maxLength: token.length - 1 }), `token longer than ${token.length - 1} characters`);
  t.is(reason(token, { maxLength: token.length }), 'ok');
  t.is(reason('a'.repeat(100_000)), 'token longer than 8192 characters');
});

test('refuses algorithms other than ES256, including none and HS256 keyed with the public key', (t) => {
  const body = claims();
  for (const alg of ['none', 'HS256', 'RS256', 'ES384', 'es256', undefined]) {
    t.is(reason(forge({ alg, typ: 'JWT', kid: key.kid }, body)), 'unsupported alg', String(alg));
  }
  t.is(reason(`${b64({ alg: 'none', kid: key.kid })}.${b64(body)}.`), 'unsupported alg');
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(body)}`;
  const spki = key.publicKey.export({ format: 'der', type: 'spki' });
  t.is(reason(`${input}.${createHmac('sha256', spki).update(input).digest('base64url')}`), 'unsupported alg');
});

test('refuses other header problems', (t) => {
  const body = claims();
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT' }, body)), 'missing kid');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: '' }, body)), 'missing kid');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: 7 }, body)), 'missing kid');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: 'nope' }, body)), 'unknown kid');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWS+x', kid: key.kid }, body)), 'unsupported typ');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid, crit: ['exp'] }, body)), 'unsupported crit');
  t.is(reason(forge({ alg: 'ES256', kid: key.kid }, body)), 'ok');
  t.is(reason(forge({ alg: 'ES256', typ: 'jwt', kid: key.kid }, body)), 'ok');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid }, body), { keys: () => { throw new Error('boom'); } }), 'unknown kid');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid }, body), { keys: () => rsa }), 'key is not a P-256 public key');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid }, body), { keys: () => key.privateKey }), 'key is not a P-256 public key');
});

test('a token signed by another key under the same kid is refused', (t) => {
  t.is(reason(signJwt(claims(), { kid: key.kid, privateKey: other.privateKey })), 'bad signature');
});

test('flipping any bit of header, payload or signature is refused', (t) => {
  const token = signJwt(claims(), key);
  const [h, p, s] = token.split('.') as [string, string, string];
  const flips = (segment: string, rebuild: (changed: string) => string) => {
    const bytes = Buffer.from(segment, 'base64url');
    for (let i = 0; i < bytes.length * 8; i++) {
      const copy = Buffer.from(bytes);
      copy[i >> 3]! ^= 1 << (i & 7);
      const result = verifyJwt(rebuild(copy.toString('base64url')), options());
      if (result.ok) return t.fail(`bit ${i} accepted`);
    }
    t.pass();
  };
  flips(h, (x) => `${x}.${p}.${s}`);
  flips(p, (x) => `${h}.${x}.${s}`);
  flips(s, (x) => `${h}.${p}.${x}`);
  // Swapping in a payload from another valid token is also caught.
  const [, otherPayload] = signJwt(claims({ sub: 'mallory' }), key).split('.') as [string, string];
  t.is(reason(`${h}.${otherPayload}.${s}`), 'bad signature');
});

test('time claims: exp, nbf, iat with skew', (t) => {
  const make = (c: Record<string, unknown>) => signJwt(claims(c), key);
  t.is(reason(make({ exp: undefined })), 'missing exp');
  t.is(reason(make({ exp: '9999999999' })), 'missing exp');
  t.is(reason(make({ exp: now - 31 })), 'token expired');
  t.is(reason(make({ exp: now - 30 })), 'token expired');
  t.is(reason(make({ exp: now - 29 })), 'ok');
  t.is(reason(make({ exp: now - 1 }), { clockSkewSeconds: 0 }), 'token expired');
  t.is(reason(make({ exp: now }), { clockSkewSeconds: 0 }), 'token expired');
  t.is(reason(make({ exp: now + 1 }), { clockSkewSeconds: 0 }), 'ok');
  t.is(reason(make({ nbf: now + 31 })), 'token not yet valid');
  t.is(reason(make({ nbf: now + 30 })), 'ok');
  t.is(reason(make({ nbf: 'soon' })), 'malformed nbf');
  t.is(reason(make({ iat: now + 31 })), 'iat in the future');
  t.is(reason(make({ iat: now + 30 })), 'ok');
  t.is(reason(make({ iat: undefined })), 'missing iat');
  // The wall clock is used when `now` is not given.
  const wall = Math.floor(Date.now() / 1000);
  t.is(reason(make({ iat: wall, exp: wall + 60 }), { now: undefined }), 'ok');
});

test('audience and issuer', (t) => {
  const make = (c: Record<string, unknown>) => signJwt(claims(c), key);
  t.is(reason(make({ aud: 'other' })), 'audience mismatch');
  t.is(reason(make({ aud: ['other', 'registry'] })), 'ok');
  t.is(reason(make({ aud: ['other'] })), 'audience mismatch');
  t.is(reason(make({ aud: [] })), 'audience mismatch');
  t.is(reason(make({ aud: ['registry', 5] })), 'audience mismatch');
  t.is(reason(make({ aud: undefined })), 'audience mismatch');
  t.is(reason(make({ iss: 'evil' })), 'issuer mismatch');
  t.is(reason(make({ iss: undefined })), 'issuer mismatch');
  t.is(reason(make({ sub: undefined })), 'missing sub');
  t.is(reason(make({ jti: undefined })), 'missing jti');
});

test('payload that is not an object is refused after the signature holds', (t) => {
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid }, [1, 2])), 'payload is not base64url JSON');
  t.is(reason(forge({ alg: 'ES256', typ: 'JWT', kid: key.kid }, null)), 'payload is not base64url JSON');
});

test('key ids, export and import', (t) => {
  t.regex(key.kid, /^[A-Za-z0-9_-]{22}$/);
  t.is(keyIdFor(key.publicKey), key.kid);
  t.not(key.kid, other.kid);
  const record = exportSigningKey(key, new Date('2024-01-02T03:04:05Z'));
  t.deepEqual(Object.keys(record).sort(), ['createdAt', 'kid', 'privatePkcs8']);
  t.is(record.createdAt, '2024-01-02T03:04:05.000Z');
  const restored = importSigningKey(JSON.parse(JSON.stringify(record)));
  t.is(restored.kid, key.kid);
  t.is(restored.createdAt, record.createdAt);
  // A token from the restored key verifies with the original public key, and the other way round.
  t.is(reason(signJwt(claims(), restored)), 'ok');
  t.true(verifyJwt(signJwt(claims(), key), options({ keys: () => restored.publicKey })).ok);

  t.throws(() => importSigningKey({ ...record, kid: other.kid }), { message: /kid does not match/ });
  t.throws(() => importSigningKey({ ...record, privatePkcs8: 'not base64!' }));
  t.throws(() => importSigningKey({ ...record, privatePkcs8: Buffer.from('junk').toString('base64') }));
  t.throws(() => importSigningKey({ ...record, createdAt: 'yesterday' }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const rsaRecord = { ...record, privatePkcs8: rsa.export({ format: 'der', type: 'pkcs8' }).toString('base64') };
  t.throws(() => importSigningKey(rsaRecord), { message: /P-256/ });
  t.throws(() => signJwt(claims(), { kid: 'x', privateKey: rsa }));
  t.throws(() => signJwt(claims(), { kid: 'x', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }));
});
