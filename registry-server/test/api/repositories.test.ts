import test from 'ava';
import { BerthApiError, BerthClient } from '../../src/client/client.ts';
import { pushImage } from '../../../test/support/oci.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const shared = sharedRegistry();

async function apiError(t: import('ava').ExecutionContext, p: Promise<unknown>): Promise<BerthApiError> {
  const err = await t.throwsAsync(p, { instanceOf: BerthApiError });
  if (!err) throw new Error('expected an API error');
  return err as BerthApiError;
}

test('create returns the full representation with server defaults and computed values', async (t) => {
  const repo = await shared.api.repositories.create({ repositoryName: 'api/create', tags: { team: 'platform' } });
  t.like(repo, {
    repositoryName: 'api/create',
    imageTagMutability: 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: 'AES256' },
    tags: { team: 'platform' },
    registryId: '000000000000',
    repositoryArn: 'arn:berth:ecr:local:000000000000:repository/api/create',
    repositoryUri: `${shared.reg.host}/api/create`,
    imageCount: 0,
    sizeInBytes: 0,
    version: 1,
  });
  t.false(Number.isNaN(Date.parse(repo.createdAt)));
  t.regex(repo.repositoryId, /^\d+$/);
  t.deepEqual(await shared.api.repositories.read({ repositoryName: 'api/create' }), repo);
});

test('creating an existing repository is RepositoryAlreadyExists', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'api/dup' });
  const err = await apiError(t, shared.api.repositories.create({ repositoryName: 'api/dup' }));
  t.is(err.status, 409);
  t.is(err.code, 'RepositoryAlreadyExists');
  t.is(err.field, 'repositoryName');
  t.truthy(err.requestId);
});

test('invalid input is InvalidParameter naming the field', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ repositoryName: 'A' }, 'repositoryName'],
    [{ repositoryName: 'x' }, 'repositoryName'],
    [{ repositoryName: `${'a'.repeat(257)}` }, 'repositoryName'],
    [{ repositoryName: 'ok/name', imageTagMutability: 'SOMETIMES' }, 'imageTagMutability'],
    [{ repositoryName: 'ok/name', unknownField: 1 }, 'unknownField'],
    [{ repositoryName: 'ok/name', imageScanningConfiguration: { scanOnPush: 'yes' } }, 'imageScanningConfiguration.scanOnPush'],
    [{ repositoryName: 'ok/name', imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }, 'imageTagMutabilityExclusionFilters'],
    [{ repositoryName: 'ok/name', imageTagMutability: 'IMMUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }] }, 'imageTagMutabilityExclusionFilters'],
    [{ repositoryName: 'ok/name', encryptionConfiguration: { encryptionType: 'KMS' } }, 'encryptionConfiguration.kmsKey'],
    [{ repositoryName: 'ok/name', encryptionConfiguration: { encryptionType: 'AES256', kmsKey: 'alias/x' } }, 'encryptionConfiguration.kmsKey'],
    [{ repositoryName: 'ok/name', tags: { 'bad\nkey': 'v' } }, 'tags'],
    [{}, 'repositoryName'],
  ];
  for (const [body, field] of cases) {
    const err = await apiError(t, shared.api.repositories.create(body as never));
    t.is(err.status, 400, JSON.stringify(body).slice(0, 80));
    t.is(err.code, 'InvalidParameter', JSON.stringify(body).slice(0, 80));
    t.true(err.field?.startsWith(field), `${JSON.stringify(body).slice(0, 80)}: field ${err.field}`);
  }
});

test('a body that is not JSON is refused clearly', async (t) => {
  let res = await fetch(`${shared.reg.url}/api/v1/repositories`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{not json' });
  t.is(res.status, 400);
  t.is(((await res.json()) as { code: string }).code, 'InvalidParameter');
  res = await fetch(`${shared.reg.url}/api/v1/repositories`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
  t.is(res.status, 415);
  t.is(((await res.json()) as { code: string }).code, 'UnsupportedMediaType');
});

test('update changes the given fields, bumps the version and honours If-Match', async (t) => {
  const created = await shared.api.repositories.create({ repositoryName: 'api/update' });
  const updated = await shared.api.repositories.update(
    { repositoryName: 'api/update' },
    { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }], tags: { a: 'b' } },
    { ifMatch: created.version },
  );
  t.is(updated.version, 2);
  t.is(updated.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
  t.deepEqual(updated.imageTagMutabilityExclusionFilters, [{ filterType: 'WILDCARD', filter: 'latest' }]);
  t.deepEqual(updated.tags, { a: 'b' });
  t.deepEqual(updated.imageScanningConfiguration, { scanOnPush: false }, 'fields not given are kept');
  const stale = await apiError(t, shared.api.repositories.update({ repositoryName: 'api/update' }, { tags: {} }, { ifMatch: 1 }));
  t.is(stale.status, 412);
  t.is(stale.code, 'PreconditionFailed');
  const res = await fetch(`${shared.reg.url}/api/v1/repositories/api%2Fupdate`);
  t.is(res.headers.get('etag'), '"2"');
});

test('encryption is fixed at creation; the repository name cannot be patched', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'api/fixed' });
  const same = await shared.api.repositories.update({ repositoryName: 'api/fixed' }, { encryptionConfiguration: { encryptionType: 'AES256' } });
  t.is(same.version, 2, 'restating the same encryption is fine');
  const renamed = await apiError(t, shared.api.repositories.update({ repositoryName: 'api/fixed' }, { repositoryName: 'api/other' } as never));
  t.is(renamed.code, 'InvalidParameter');
  t.is(renamed.field, 'repositoryName');
});

test('read, update and delete of a missing repository are RepositoryNotFound', async (t) => {
  for (const p of [
    shared.api.repositories.read({ repositoryName: 'api/missing' }),
    shared.api.repositories.update({ repositoryName: 'api/missing' }, { tags: {} }),
    shared.api.repositories.delete({ repositoryName: 'api/missing' }),
  ]) {
    const err = await apiError(t, p);
    t.is(err.status, 404);
    t.is(err.code, 'RepositoryNotFound');
  }
});

test('delete refuses a repository with images unless forced; image count and size are computed', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'api/full' });
  await pushImage(shared.reg.url, 'api/full', 'v1');
  const repo = await shared.api.repositories.read({ repositoryName: 'api/full' });
  t.is(repo.imageCount, 1);
  t.true(repo.sizeInBytes > 2048);
  const err = await apiError(t, shared.api.repositories.delete({ repositoryName: 'api/full' }));
  t.is(err.status, 409);
  t.is(err.code, 'RepositoryNotEmpty');
  await shared.api.repositories.delete({ repositoryName: 'api/full' }, { force: true });
  t.is((await fetch(`${shared.reg.url}/v2/api/full/manifests/v1`)).status, 404, 'its images are gone with it');
  await shared.api.repositories.create({ repositoryName: 'api/empty' });
  const stale = await apiError(t, shared.api.repositories.delete({ repositoryName: 'api/empty' }, {}, { ifMatch: 9 }));
  t.is(stale.code, 'PreconditionFailed');
  const firstId = (await shared.api.repositories.read({ repositoryName: 'api/empty' })).repositoryId;
  await shared.api.repositories.delete({ repositoryName: 'api/empty' }, {}, { ifMatch: 1 });
  t.is((await apiError(t, shared.api.repositories.read({ repositoryName: 'api/empty' }))).code, 'RepositoryNotFound');
  t.not((await shared.api.repositories.create({ repositoryName: 'api/empty' })).repositoryId, firstId, 'a new repository under an old name is another repository');
});

test('list is ordered, filtered by prefix and paginated with nextToken', async (t) => {
  const own = await startRegistry();
  t.teardown(() => own.close());
  const client = new BerthClient({ endpoint: own.url, credentials: testAdmin });
  const names = ['team-a/api', 'team-a/web', 'team-ab/x', 'team-b/api', 'zz/last', 'team-a/db'];
  for (const n of names) await client.repositories.create({ repositoryName: n });
  const page1 = await client.repositories.list({ maxResults: 2 });
  t.deepEqual(page1.items.map((r) => r.repositoryName), ['team-a/api', 'team-a/db']);
  t.truthy(page1.nextToken);
  const all: string[] = [];
  for await (const r of client.repositories.listAll({ maxResults: 2 })) all.push(r.repositoryName);
  t.deepEqual(all, [...names].sort());
  const prefixed: string[] = [];
  for await (const r of client.repositories.listAll({ prefix: 'team-a/', maxResults: 1 })) prefixed.push(r.repositoryName);
  t.deepEqual(prefixed, ['team-a/api', 'team-a/db', 'team-a/web']);
  const bad = await apiError(t, client.repositories.list({ nextToken: '!!!' }));
  t.is(bad.field, 'nextToken');
  const big = await apiError(t, client.repositories.list({ maxResults: 5000 }));
  t.is(big.code, 'InvalidParameter');
});

test('an unknown management route is a JSON 404', async (t) => {
  const res = await fetch(`${shared.reg.url}/api/v1/nothing-here`);
  t.is(res.status, 404);
  t.like(await res.json(), { code: 'NotFound' });
});
