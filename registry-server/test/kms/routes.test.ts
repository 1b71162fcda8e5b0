// The KMS routes on a bare Fastify app (no guard: authorization is the API plugin's job; here
// each route is checked to carry its authorization facts).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { ajvKeywords } from '../../src/api/plugin.ts';
import { registerKmsRoutes } from '../../src/api/kms-routes.ts';
import { RegistryError } from '../../src/errors.ts';
import { kmsResourceOf } from '../../src/kms/handlers.ts';
import { KeyService } from '../../src/kms/key-service.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-store.ts';

test('KMS over HTTP: every route has auth facts; keys, aliases, crypto, deletion and audit', async (t) => {
  const meta = new SqliteMetadataStore({ path: ':memory:' });
  await meta.migrate();
  const keys = new KeyService(meta, { registryId: '123456789012', region: 'local', rootKey: randomBytes(32) });
  const app = Fastify({ ajv: { customOptions: { removeAdditional: false, keywords: ajvKeywords } } });
  const routes: { url: string; method: string; action: string | undefined }[] = [];
  app.addHook('onRoute', (r) => {
    routes.push({ url: r.url, method: String(r.method), action: r.config?.auth?.action });
  });
  const resources: string[] = [];
  app.addHook('preHandler', async (req) => {
    resources.push((await kmsResourceOf(keys, req)).arn);
  });
  app.setErrorHandler((err, req, reply) => {
    const e = err instanceof RegistryError ? err : new RegistryError('InvalidParameter', (err as Error).message);
    return reply.code(e.status).send(e.toApiBody(req.id));
  });
  registerKmsRoutes(app, { keys, principalOf: async () => 'tester' });
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await meta.close();
  });
  t.true(routes.length >= 16);
  t.deepEqual(routes.filter((r) => r.action === undefined && r.method !== 'HEAD'), []);

  const inject = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: res.body === '' ? undefined : (res.json() as Record<string, any>) };
  };

  const created = await inject('POST', '/kms/keys', { description: 'app', enableKeyRotation: true });
  t.is(created.status, 201);
  const keyId = created.body?.keyId as string;
  t.like(created.body, { enabled: true, keyState: 'Enabled', rotationPeriodInDays: 365, deletionWindowInDays: 30, currentKeyVersion: 1, keyUsage: 'ENCRYPT_DECRYPT' });
  t.is((await inject('POST', '/kms/keys', { rotationPeriodInDays: 10 })).status, 400);

  const alias = await inject('POST', '/kms/aliases', { aliasName: 'alias/app/main', targetKeyId: keyId });
  t.is(alias.status, 201);
  t.is(alias.body?.arn, 'arn:berth:kms:local:123456789012:alias/app/main');
  const read = await inject('GET', `/kms/aliases/${encodeURIComponent('alias/app/main')}`);
  t.is(read.status, 200);
  t.is(read.body?.targetKeyArn, keys.keyArn(keyId));
  t.is((await inject('GET', '/kms/aliases?prefix=alias/app')).body?.items.length, 1);

  const enc = await inject('POST', '/kms/encrypt', { keyId: 'alias/app/main', plaintext: Buffer.from('hello').toString('base64'), encryptionContext: { a: 'b' } });
  t.is(enc.status, 200);
  t.is(resources.at(-1), keys.keyArn(keyId), 'an alias is authorized as its key');
  const dec = await inject('POST', '/kms/decrypt', { ciphertextBlob: enc.body?.ciphertextBlob, encryptionContext: { a: 'b' } });
  t.is(Buffer.from(dec.body?.plaintext as string, 'base64').toString(), 'hello');
  t.is(resources.at(-1), keys.keyArn(keyId), 'decrypt is authorized on the key inside the blob');
  t.is((await inject('POST', '/kms/decrypt', { ciphertextBlob: enc.body?.ciphertextBlob })).body?.code, 'KMSInvalidCiphertext');
  const dk = await inject('POST', '/kms/generate-data-key', { keyId, keySpec: 'AES_128' });
  t.is(Buffer.from(dk.body?.plaintext as string, 'base64').length, 16);

  t.is((await inject('POST', `/kms/keys/${keyId}/rotate`)).body?.currentKeyVersion, 2);
  t.is((await inject('PATCH', `/kms/keys/${keyId}`, { enabled: false })).body?.keyState, 'Disabled');
  t.is((await inject('POST', '/kms/encrypt', { keyId, plaintext: 'eA==' })).body?.code, 'KMSDisabled');
  t.is((await inject('POST', `/kms/keys/${keyId}/schedule-deletion`, { pendingWindowInDays: 3 })).status, 400);
  t.is((await inject('DELETE', `/kms/keys/${keyId}`)).status, 204);
  const pending = await inject('GET', `/kms/keys/${keyId}`);
  t.like(pending.body, { keyState: 'PendingDeletion', enabled: false });
  t.is((await inject('DELETE', `/kms/keys/${keyId}`)).status, 204, 'deleting again is a no-op');
  t.is((await inject('POST', `/kms/keys/${keyId}/cancel-deletion`)).body?.keyState, 'Disabled');

  const audit = await inject('GET', `/kms/keys/${keyId}/audit?maxResults=2`);
  t.is(audit.body?.items.length, 2);
  t.like(audit.body?.items[0], { operation: 'Encrypt', success: false, principal: 'tester' });
  const rest = await inject('GET', `/kms/keys/${keyId}/audit?nextToken=${audit.body?.nextToken as string}`);
  t.deepEqual(rest.body?.items.map((r: { operation: string }) => r.operation), ['Decrypt', 'Decrypt', 'Encrypt']);
  t.is((await inject('DELETE', `/kms/aliases/${encodeURIComponent('alias/app/main')}`)).status, 204);
  t.is((await inject('GET', `/kms/keys/00000000-0000-4000-8000-000000000000`)).body?.code, 'KMSKeyNotFound');
});
