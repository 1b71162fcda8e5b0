import test from 'ava';
import { randomBytes, scryptSync } from 'node:crypto';
import {
  accessKeyIdPattern,
  fingerprint,
  hashSecret,
  newAccessKeyId,
  newSecret,
  sameFingerprint,
  secretPattern,
  verifySecret,
} from '../../src/auth/secret-hash.ts';

test('hash and verify round trip; the wrong secret fails', async (t) => {
  const secret = newSecret();
  const stored = await hashSecret(secret);
  t.regex(stored, /^scrypt\$1024\$8\$16\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.true(await verifySecret(secret, stored));
  t.false(await verifySecret(`${secret}x`, stored));
  t.false(await verifySecret(secret.slice(1), stored));
  t.false(await verifySecret('', stored));
});

test('the same secret gets a different salt each time', async (t) => {
  const [a, b] = await Promise.all([hashSecret('s3cret'), hashSecret('s3cret')]);
  t.not(a, b);
  t.not(a.split('$')[4], b.split('$')[4]);
  t.true(await verifySecret('s3cret', a));
  t.true(await verifySecret('s3cret', b));
});

test('stored parameters are read back, so other costs verify', async (t) => {
  const salt = randomBytes(16);
  const hash = scryptSync('pw', salt, 32, { N: 1024, r: 4, p: 2 });
  const stored = `scrypt$1024$4$2$${salt.toString('base64url')}$${hash.toString('base64url')}`;
  t.true(await verifySecret('pw', stored));
  t.false(await verifySecret('pw2', stored));
});

test('malformed or out-of-bounds stored text is false, never a throw', async (t) => {
  const good = await hashSecret('pw');
  const [, N, r, p, salt, hash] = good.split('$') as [string, string, string, string, string, string];
  const bad = [
    '',
    'scrypt',
    good.replace('scrypt', 'bcrypt'),
    `${good}$`,
    good.slice(0, -1),
    `scrypt$${N}$${r}$${p}$${salt}`,
    `scrypt$${N}$${r}$${p}$${salt}$${hash}=`,
    `scrypt$${N}$${r}$${p}$${salt}$${hash.replace(/^./, '+')}`,
    `scrypt$${N}$${r}$${p}$$${hash}`,
    `scrypt$16383$${r}$${p}$${salt}$${hash}`,
    `scrypt$512$${r}$${p}$${salt}$${hash}`,
    `scrypt$${2 ** 21}$1$1$${salt}$${hash}`,
    `scrypt$${2 ** 20}$8$1$${salt}$${hash}`,
    `scrypt$${N}$0$${p}$${salt}$${hash}`,
    `scrypt$${N}$33$${p}$${salt}$${hash}`,
    `scrypt$${N}$${r}$17$${salt}$${hash}`,
    `scrypt$0x4000$${r}$${p}$${salt}$${hash}`,
    `scrypt$016384$${r}$${p}$${salt}$${hash}`,
    `scrypt$1e4$${r}$${p}$${salt}$${hash}`,
    `scrypt$${N}$${r}$${p}$${Buffer.alloc(8).toString('base64url')}$${hash}`,
    `scrypt$${N}$${r}$${p}$${salt}$${Buffer.alloc(8).toString('base64url')}`,
    `scrypt$${N}$${r}$${p}$${salt}$${'A'.repeat(600)}`,
    // A truncated hash, canonically encoded: it must not match the derived key's prefix.
    `scrypt$${N}$${r}$${p}$${salt}$${Buffer.from(hash, 'base64url').subarray(0, 31).toString('base64url')}`,
    undefined as unknown as string,
    42 as unknown as string,
  ];
  for (const stored of bad) t.false(await verifySecret('pw', stored), String(stored));
  t.true(await verifySecret('pw', good));
});

test('secrets longer than 256 characters are refused', async (t) => {
  const long = 'a'.repeat(257);
  await t.throwsAsync(hashSecret(long), { instanceOf: RangeError });
  await t.throwsAsync(hashSecret(''), { instanceOf: RangeError });
  const salt = randomBytes(16);
  const stored = `scrypt$1024$1$1$${salt.toString('base64url')}$${scryptSync(long, salt, 32, { N: 1024, r: 1, p: 1 }).toString('base64url')}`;
  t.false(await verifySecret(long, stored));
  t.true(await verifySecret('a'.repeat(256), await hashSecret('a'.repeat(256))));
  t.false(await verifySecret(7 as unknown as string, stored));
});

test('access key ids and secrets match their patterns and do not repeat', (t) => {
  const ids = new Set<string>();
  const secrets = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const id = newAccessKeyId();
    const secret = newSecret();
    if (!accessKeyIdPattern.test(id)) return t.fail(id);
    if (!secretPattern.test(secret)) return t.fail(secret);
    ids.add(id);
    secrets.add(secret);
  }
  t.is(ids.size, 1000);
  t.is(secrets.size, 1000);
  t.false(accessKeyIdPattern.test('BKIA0000000000000000'));
  t.false(accessKeyIdPattern.test('AKIAAAAAAAAAAAAAAAAA'));
  t.false(accessKeyIdPattern.test('BKIAAAAAAAAAAAAAAAAAA'));
  // Every base32 character shows up, so the encoder is not stuck on part of the alphabet.
  const used = new Set([...ids].flatMap((id) => [...id.slice(4)]));
  t.is(used.size, 32);
});

test('fingerprints compare in constant time and by value', (t) => {
  const a = fingerprint('secret');
  t.is(a.length, 32);
  t.true(sameFingerprint(a, fingerprint('secret')));
  t.false(sameFingerprint(a, fingerprint('secreT')));
  t.false(sameFingerprint(a, a.subarray(0, 16)));
});
