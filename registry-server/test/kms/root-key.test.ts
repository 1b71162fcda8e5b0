import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRootKey, RootKeyError } from '../../src/kms/root-key.ts';

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rootkey-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the embedded default generates root.key once (0600) and reuses it', async (t) => {
  const dataDir = join(await tempDir(t), 'data');
  const first = await loadRootKey({ env: {}, dataDir, embeddedDefault: true });
  t.is(first.length, 32);
  const file = join(dataDir, 'root.key');
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.is((await readFile(file, 'utf8')).trim(), first.toString('base64'));
  t.deepEqual(await loadRootKey({ env: {}, dataDir, embeddedDefault: true }), first);
});

test('concurrent first starts agree on one key', async (t) => {
  const dataDir = await tempDir(t);
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadRootKey({ env: {}, dataDir, embeddedDefault: true })));
  for (const k of keys) t.deepEqual(k, keys[0]);
});

test('BERTH_ROOT_KEY wins over a key file and the generated file', async (t) => {
  const dataDir = await tempDir(t);
  const env = randomBytes(32);
  const keyFile = join(dataDir, 'configured.key');
  await writeFile(keyFile, randomBytes(32).toString('base64'));
  t.deepEqual(await loadRootKey({ env: { BERTH_ROOT_KEY: env.toString('base64') }, keyFile, dataDir, embeddedDefault: true }), env);
  t.deepEqual(await loadRootKey({ env: {}, keyFile, dataDir, embeddedDefault: false }), Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64'));
});

test('a bad env key or key file is a clear error that does not echo the value', async (t) => {
  const dataDir = await tempDir(t);
  const short = randomBytes(16).toString('base64');
  const err = await t.throwsAsync(loadRootKey({ env: { BERTH_ROOT_KEY: short }, dataDir, embeddedDefault: true }), { instanceOf: RootKeyError });
  t.regex(err.message, /exactly 32 bytes/);
  t.false(err.message.includes(short));
  await t.throwsAsync(loadRootKey({ env: { BERTH_ROOT_KEY: 'not base64 !!' }, dataDir, embeddedDefault: true }), { instanceOf: RootKeyError, message: /not base64/ });
  await t.throwsAsync(loadRootKey({ env: {}, keyFile: join(dataDir, 'missing.key'), dataDir, embeddedDefault: true }), { instanceOf: RootKeyError, message: /cannot read the root key file/ });
});

test('outside the embedded default a missing root key is an error saying how to provide one', async (t) => {
  const dataDir = await tempDir(t);
  const err = await t.throwsAsync(loadRootKey({ env: {}, dataDir, embeddedDefault: false }), { instanceOf: RootKeyError });
  t.regex(err.message, /BERTH_ROOT_KEY/);
  t.regex(err.message, /rootKeyFile/);
  await t.throwsAsync(stat(join(dataDir, 'root.key')), { code: 'ENOENT' }, 'nothing generated');
});
