import test from 'ava';
import { randomBytes } from 'node:crypto';
import { RegistryError } from '../../src/errors.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-store.ts';
import { openBlob, readBlobHeader, sealBlob, unwrapMaterial, wrapMaterial } from '../../src/kms/envelope.ts';
import { KeyService, kmsKinds, registryKeyAlias } from '../../src/kms/key-service.ts';

const day = 86_400_000;

async function setup(t: { teardown: (fn: () => Promise<void>) => void }) {
  const meta = new SqliteMetadataStore({ path: ':memory:' });
  await meta.migrate();
  t.teardown(() => meta.close());
  let now = new Date('2030-01-01T00:00:00Z');
  const rootKey = randomBytes(32);
  const options = { registryId: '123456789012', region: 'local', rootKey, now: () => now };
  const keys = new KeyService(meta, options);
  return {
    meta,
    keys,
    rootKey,
    /** Another replica (nothing cached) over the same store. */
    fresh: () => new KeyService(meta, options),
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
      return now;
    },
  };
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof RegistryError) return err.code;
    throw err;
  }
}

test('material wrapping is bound to key id and version', (t) => {
  const root = randomBytes(32);
  const material = randomBytes(32);
  const a = '11111111-1111-4111-8111-111111111111';
  const b = '22222222-2222-4222-8222-222222222222';
  const wrapped = wrapMaterial(root, a, 1, material);
  t.deepEqual(unwrapMaterial(root, a, 1, wrapped), material);
  t.throws(() => unwrapMaterial(root, b, 1, wrapped));
  t.throws(() => unwrapMaterial(root, a, 2, wrapped));
  t.throws(() => unwrapMaterial(randomBytes(32), a, 1, wrapped));
  const blob = sealBlob(material, a, 3, Buffer.from('hi'), { x: '1', y: '2' });
  t.deepEqual(readBlobHeader(blob), { keyId: a, keyVersion: 3 });
  t.is(openBlob(material, blob, { y: '2', x: '1' }).toString(), 'hi', 'context order does not matter');
  t.throws(() => openBlob(material, blob, { x: '1' }));
  const tampered = Buffer.from(blob);
  tampered[tampered.length - 1]! ^= 1;
  t.throws(() => openBlob(material, tampered, { x: '1', y: '2' }));
});

test('a wrapped version moved onto another key does not unwrap', async (t) => {
  const { meta, keys, fresh } = await setup(t);
  const k1 = await keys.createKey({});
  const k2 = await keys.createKey({});
  const dk = await keys.generateDataKey(k2.keyId, {});
  const m1 = await meta.getDocument(kmsKinds.material, `${k1.keyId}/0000000001`);
  await meta.putDocument(kmsKinds.material, `${k2.keyId}/0000000001`, m1!.body, { mode: 'upsert' });
  const other = fresh();
  t.is(await code(other.decryptDataKey(dk.ciphertextBlob, {})), 'InternalError');
});

test('keys: ids, ARNs, defaults, data keys round-trip with their context', async (t) => {
  const { keys, fresh } = await setup(t);
  const key = await keys.createKey({ description: 'd', tags: { team: 'a' } });
  t.regex(key.keyId, /^[0-9a-f-]{36}$/);
  t.like(key, { keyState: 'Enabled', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', currentKeyVersion: 1, rotationEnabled: false, rotationPeriodInDays: 365, deletionWindowInDays: 30 });
  t.is(keys.keyArn(key.keyId), `arn:berth:kms:local:123456789012:key/${key.keyId}`);
  const dk = await keys.generateDataKey(keys.keyArn(key.keyId), { repo: 'a/b' });
  t.is(dk.plaintext.length, 32);
  t.is(dk.keyId, key.keyId);
  const back = await fresh().decryptDataKey(dk.ciphertextBlob, { repo: 'a/b' });
  t.deepEqual(back.plaintext, dk.plaintext);
  t.is(await code(keys.decryptDataKey(dk.ciphertextBlob, { repo: 'other' })), 'KMSInvalidCiphertext');
  t.is(await code(keys.decryptDataKey(Buffer.from('junk'), {})), 'KMSInvalidCiphertext');
  const enc = await keys.encrypt(key.keyId, Buffer.from('secret'));
  t.is((await keys.decrypt(enc.ciphertextBlob)).plaintext.toString(), 'secret');
  t.is(await code(keys.encrypt(key.keyId, Buffer.alloc(4097))), 'InvalidParameter');
  const other = await keys.createKey({});
  t.is(await code(keys.decrypt(enc.ciphertextBlob, undefined, { expectedKey: other.keyId })), 'KMSInvalidCiphertext');
  t.is(await code(keys.resolveKey('00000000-0000-4000-8000-000000000000')), 'KMSKeyNotFound');
  t.is(await code(keys.resolveKey('arn:berth:kms:elsewhere:123456789012:key/' + key.keyId)), 'KMSKeyNotFound');
});

test('rotation keeps old ciphertexts readable and new data keys use the new version', async (t) => {
  const { keys, fresh } = await setup(t);
  const key = await keys.createKey({});
  const old = await keys.generateDataKey(key.keyId, {});
  const rotated = await keys.rotateKeyOnDemand(key.keyId);
  t.is(rotated.currentKeyVersion, 2);
  t.is(rotated.nextRotationDate, undefined, 'on-demand rotation does not start a schedule');
  const next = await keys.generateDataKey(key.keyId, {});
  t.is(next.keyVersion, 2);
  t.is(readBlobHeader(next.ciphertextBlob)?.keyVersion, 2);
  const replica = fresh();
  t.deepEqual((await replica.decryptDataKey(old.ciphertextBlob, {})).plaintext, old.plaintext);
  t.deepEqual((await replica.decryptDataKey(next.ciphertextBlob, {})).plaintext, next.plaintext);
});

test('disabled keys refuse every use; enabling restores them', async (t) => {
  const { keys } = await setup(t);
  const key = await keys.createKey({});
  const dk = await keys.generateDataKey(key.keyId, {});
  const disabled = await keys.updateKey(key.keyId, { enabled: false });
  t.is(disabled.keyState, 'Disabled');
  t.is(await code(keys.generateDataKey(key.keyId, {})), 'KMSDisabled');
  t.is(await code(keys.decryptDataKey(dk.ciphertextBlob, {})), 'KMSDisabled');
  t.is(await code(keys.encrypt(key.keyId, Buffer.from('x'))), 'KMSDisabled');
  t.is(await code(keys.rotateKeyOnDemand(key.keyId)), 'KMSInvalidState');
  await keys.updateKey(key.keyId, { enabled: true });
  t.deepEqual((await keys.decryptDataKey(dk.ciphertextBlob, {})).plaintext, dk.plaintext);
  t.is(await code(keys.updateKey(key.keyId, { description: 'x' }, 1)), 'PreconditionFailed');
  t.is(await code(keys.updateKey(key.keyId, { keyUsage: 'ENCRYPT_DECRYPT' })), undefined);
});

test('deletion: window 7..30, cancel leaves it Disabled, past the date the material is destroyed', async (t) => {
  const { keys, meta, advance, fresh } = await setup(t);
  const key = await keys.createKey({});
  const dk = await keys.generateDataKey(key.keyId, {});
  t.is(await code(keys.scheduleKeyDeletion(key.keyId, 6)), 'InvalidParameter');
  t.is(await code(keys.scheduleKeyDeletion(key.keyId, 31)), 'InvalidParameter');
  const pending = await keys.scheduleKeyDeletion(key.keyId, 7);
  t.is(pending.keyState, 'PendingDeletion');
  t.is(pending.deletionDate, '2030-01-08T00:00:00.000Z');
  t.is(await code(keys.decryptDataKey(dk.ciphertextBlob, {})), 'KMSInvalidState');
  t.is(await code(keys.scheduleKeyDeletion(key.keyId, 7)), 'KMSInvalidState');
  t.is(await code(keys.updateKey(key.keyId, { enabled: true })), 'KMSInvalidState');
  const cancelled = await keys.cancelKeyDeletion(key.keyId);
  t.is(cancelled.keyState, 'Disabled');
  t.is(cancelled.deletionDate, undefined);
  t.is(await code(keys.cancelKeyDeletion(key.keyId)), 'KMSInvalidState');

  await keys.updateKey(key.keyId, { enabled: true });
  await keys.rotateKeyOnDemand(key.keyId);
  await keys.createAlias('alias/doomed', key.keyId);
  await keys.scheduleKeyDeletion(key.keyId, 30);
  t.deepEqual(await keys.runDueWork(advance(29 * day)), { rotated: [], destroyed: [] });
  t.deepEqual(await keys.runDueWork(advance(day)), { rotated: [], destroyed: [key.keyId] });
  t.deepEqual(await meta.listDocuments(kmsKinds.material, `${key.keyId}/`, { limit: 10 }), [], 'every version destroyed');
  t.is(await keys.getKey(key.keyId), undefined);
  t.is(await keys.getAlias('alias/doomed'), undefined, 'its aliases go with it');
  t.is(await code(keys.decryptDataKey(dk.ciphertextBlob, {})), 'KMSKeyNotFound');
  t.is(await code(fresh().decryptDataKey(dk.ciphertextBlob, {})), 'KMSKeyNotFound');
});

test('automatic rotation happens when due, and not for disabled keys', async (t) => {
  const { keys, advance } = await setup(t);
  t.is(await code(keys.createKey({ enableKeyRotation: true, rotationPeriodInDays: 89 })), 'InvalidParameter');
  t.is(await code(keys.createKey({ enableKeyRotation: true, rotationPeriodInDays: 2561 })), 'InvalidParameter');
  const key = await keys.createKey({ enableKeyRotation: true, rotationPeriodInDays: 90 });
  t.is(key.nextRotationDate, '2030-04-01T00:00:00.000Z');
  const idle = await keys.createKey({ enableKeyRotation: true, rotationPeriodInDays: 90, enabled: false });
  const old = await keys.generateDataKey(key.keyId, {});
  t.deepEqual((await keys.runDueWork(advance(89 * day))).rotated, []);
  t.deepEqual((await keys.runDueWork(advance(day))).rotated, [key.keyId]);
  const after = await keys.getKey(key.keyId);
  t.is(after?.currentKeyVersion, 2);
  t.is(after?.nextRotationDate, '2030-06-30T00:00:00.000Z');
  t.is((await keys.getKey(idle.keyId))?.currentKeyVersion, 1);
  t.is((await keys.generateDataKey(key.keyId, {})).keyVersion, 2);
  t.deepEqual((await keys.decryptDataKey(old.ciphertextBlob, {})).plaintext, old.plaintext);
  const off = await keys.updateKey(key.keyId, { enableKeyRotation: false });
  t.is(off.nextRotationDate, undefined);
});

test('aliases resolve, retarget, and refuse reserved names', async (t) => {
  const { keys } = await setup(t);
  const a = await keys.createKey({});
  const b = await keys.createKey({});
  const alias = await keys.createAlias('alias/app', a.keyId);
  t.is(alias.keyId, a.keyId);
  t.is((await keys.resolveKey('alias/app')).keyId, a.keyId);
  t.is((await keys.resolveKey(keys.aliasArn('alias/app'))).keyId, a.keyId);
  t.is(await code(keys.createAlias('alias/app', b.keyId)), 'AliasAlreadyExists');
  t.is(await code(keys.createAlias('alias/aws/ecr', a.keyId)), 'InvalidParameter');
  t.is(await code(keys.createAlias('alias/berth/x', a.keyId)), 'InvalidParameter');
  t.is(await code(keys.createAlias('bad', a.keyId)), 'InvalidParameter');
  t.is(await code(keys.createAlias('alias/chain', 'alias/app')), 'InvalidParameter');
  t.is(await code(keys.createAlias('alias/none', '00000000-0000-4000-8000-000000000000')), 'KMSKeyNotFound');
  const dk = await keys.generateDataKey('alias/app', {});
  t.is(dk.keyId, a.keyId);
  await keys.updateAlias('alias/app', keys.keyArn(b.keyId));
  t.is((await keys.generateDataKey('alias/app', {})).keyId, b.keyId);
  t.is((await keys.getAlias('alias/app'))?.targetKeyId, keys.keyArn(b.keyId), 'kept as given');
  t.deepEqual((await keys.decryptDataKey(dk.ciphertextBlob, {})).plaintext, dk.plaintext, 'old blobs name their key, not the alias');
  await keys.deleteAlias('alias/app');
  t.is(await code(keys.resolveKey('alias/app')), 'KMSKeyNotFound');
  t.is(await code(keys.deleteAlias('alias/app')), 'AliasNotFound');
});

test('every use writes an audit record with the context keys, newest first, paginated', async (t) => {
  const { keys, advance } = await setup(t);
  const key = await keys.createKey({});
  const dk = await keys.generateDataKey(key.keyId, { repository: 'r', digest: 'd' }, { caller: { principal: 'ci', requestId: 'req-1' } });
  advance(1000);
  await keys.decryptDataKey(dk.ciphertextBlob, { repository: 'r', digest: 'd' }, { principal: 'puller' });
  advance(1000);
  const enc = await keys.encrypt(key.keyId, Buffer.from('x'));
  advance(1000);
  await keys.reEncrypt(enc.ciphertextBlob, undefined, key.keyId, { to: 'x' });
  await keys.updateKey(key.keyId, { enabled: false });
  advance(1000);
  await t.throwsAsync(keys.generateDataKey(key.keyId, {}));
  const all = await keys.listAudit(key.keyId, { limit: 100 });
  t.deepEqual(
    all.records.map((r) => [r.operation, r.success]),
    [['GenerateDataKey', false], ['Encrypt', true], ['ReEncrypt', true], ['Encrypt', true], ['Decrypt', true], ['GenerateDataKey', true]],
  );
  t.like(all.records.at(-1), { principal: 'ci', requestId: 'req-1', keyVersion: 1, encryptionContextKeys: ['digest', 'repository'] });
  t.like(all.records[0], { errorCode: 'KMSDisabled' });
  t.false(JSON.stringify(all.records).includes('"r"'), 'context values are not kept');
  const first = await keys.listAudit(key.keyId, { limit: 2 });
  t.is(first.records.length, 2);
  const second = await keys.listAudit(key.keyId, { limit: 10, after: first.after });
  t.deepEqual([...first.records, ...second.records], all.records);
});

test('the registry default key is created once, under alias/berth/ecr, and is not deletable', async (t) => {
  const { keys, fresh } = await setup(t);
  const [a, b] = await Promise.all([keys.defaultRegistryKey(), fresh().defaultRegistryKey()]);
  const c = await keys.defaultRegistryKey();
  t.is((await keys.getAlias(registryKeyAlias))?.keyId, c.keyId);
  t.true(a.keyId === c.keyId || b.keyId === c.keyId);
  t.is(c.keyManager, 'BERTH');
  t.is((await keys.listKeys('', { limit: 10 })).length, 1, 'a losing racer cleans up its key');
  t.is((await keys.generateDataKey(registryKeyAlias, {})).keyId, c.keyId);
  t.is(await code(keys.scheduleKeyDeletion(c.keyId, 7)), 'InvalidParameter');
  t.is(await code(keys.updateKey(c.keyId, { enabled: false })), 'InvalidParameter');
  t.is(await code(keys.deleteAlias(registryKeyAlias)), 'AliasNotFound');
  t.is(await code(keys.createAlias('alias/mine', c.keyId)), 'InvalidParameter');
});
