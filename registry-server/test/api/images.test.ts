import test from 'ava';
import { BerthClient } from '../../src/client/client.ts';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, descriptor, makeImage, pushBlob, pushImage, putManifest, sha256 } from '../../../test/support/oci.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const shared = sharedRegistry();

test('list and describe: tags, sizes, media types, platforms of an index, referrers, tag filters, pages', async (t) => {
  const name = 'images/describe';
  const amd = makeImage({ layers: 2, layerSize: 1000, platform: { architecture: 'amd64', os: 'linux' } });
  const arm = makeImage({ layers: 1, layerSize: 500, platform: { architecture: 'arm64', os: 'linux' } });
  const amdDigest = await pushImage(shared.reg.url, name, 'amd', amd);
  const armDigest = await pushImage(shared.reg.url, name, 'arm', arm);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { ...descriptor(OCI_MANIFEST, amd.manifest), platform: { architecture: 'amd64', os: 'linux' } },
      { ...descriptor(OCI_MANIFEST, arm.manifest), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ],
  });
  t.is((await putManifest(shared.reg.url, name, 'multi', index, OCI_INDEX)).status, 201);
  await putManifest(shared.reg.url, name, 'latest', index, OCI_INDEX);
  const empty = Buffer.from('{}');
  await pushBlob(shared.reg.url, name, empty);
  const sig = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig', config: descriptor(OCI_EMPTY, empty), layers: [descriptor(OCI_EMPTY, empty)], subject: descriptor(OCI_MANIFEST, amd.manifest) });
  await putManifest(shared.reg.url, name, sha256(sig), sig, OCI_MANIFEST);

  const all = await shared.api.images.list(name);
  const byDigest = new Map(all.imageDetails.map((d) => [d.imageDigest, d]));
  t.is(all.imageDetails.length, 4);
  const amdDetail = byDigest.get(amdDigest);
  t.like(amdDetail, { repositoryName: name, registryId: '000000000000', imageTags: ['amd'], imageManifestMediaType: OCI_MANIFEST, artifactMediaType: 'application/vnd.oci.image.config.v1+json' });
  t.is(amdDetail?.imageSizeInBytes, amd.manifest.byteLength + amd.config.byteLength + 2000);
  const indexDetail = byDigest.get(sha256(index));
  t.deepEqual(indexDetail?.imageTags, ['latest', 'multi']);
  t.deepEqual(indexDetail?.platforms, [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }]);
  t.is(indexDetail?.imageSizeInBytes, Buffer.byteLength(index) + (amdDetail?.imageSizeInBytes ?? 0) + (byDigest.get(armDigest)?.imageSizeInBytes ?? 0));
  t.like(byDigest.get(sha256(sig)), { artifactMediaType: 'application/vnd.example.sig', subjectDigest: amdDigest, imageTags: [] });

  t.deepEqual((await shared.api.images.list(name, { tagStatus: 'UNTAGGED' })).imageDetails.map((d) => d.imageDigest), [sha256(sig)]);
  t.is((await shared.api.images.list(name, { tagStatus: 'TAGGED' })).imageDetails.length, 3);
  const first = await shared.api.images.list(name, { maxResults: 3 });
  t.is(first.imageDetails.length, 3);
  const second = await shared.api.images.list(name, { maxResults: 3, ...(first.nextToken ? { nextToken: first.nextToken } : {}) });
  t.is(second.imageDetails.length, 1);
  t.is(second.nextToken, undefined);
});

test('pulls are recorded as lastRecordedPullTime', async (t) => {
  const own = await startRegistry();
  const name = 'images/pulled';
  const digest = await pushImage(own.url, name, 'v1');
  t.is((await new BerthClient({ endpoint: own.url, credentials: testAdmin }).images.list(name)).imageDetails[0]?.lastRecordedPullTime, undefined);
  const before = Date.now();
  await fetch(`${own.url}/v2/${name}/manifests/v1`);
  await fetch(`${own.url}/v2/${name}/manifests/${digest}`, { method: 'HEAD' });
  // Pull times are written in batches; closing flushes them, so read them through a restart.
  await own.close({ keepData: true });
  const again = await startRegistry({ dataDir: own.dataDir });
  t.teardown(() => again.close());
  const pulled = Date.parse((await new BerthClient({ endpoint: again.url, credentials: testAdmin }).images.list(name)).imageDetails[0]?.lastRecordedPullTime ?? '');
  t.true(pulled >= before - 5 && pulled <= Date.now(), String(pulled));
});

test('batch get by tag and digest with per-image failures', async (t) => {
  const name = 'images/get';
  const img = makeImage();
  const digest = await pushImage(shared.reg.url, name, 'v1', img);
  const other = await pushImage(shared.reg.url, name, 'v2');
  const res = await shared.api.images.batchGet(name, [
    { imageTag: 'v1' },
    { imageDigest: digest },
    { imageTag: 'v1', imageDigest: other },
    { imageTag: 'nope' },
    { imageDigest: sha256('nothing') },
    { imageDigest: 'md5:abc' },
    { imageTag: '.bad' },
    {},
  ]);
  t.is(res.images.length, 2);
  t.is(res.images[0]?.imageManifest, Buffer.from(img.manifest).toString('utf8'));
  t.deepEqual(res.images[0]?.imageId, { imageDigest: digest, imageTag: 'v1' });
  t.deepEqual(res.failures.map((f) => f.failureCode), ['ImageTagDoesNotMatchDigest', 'ImageNotFound', 'ImageNotFound', 'InvalidImageDigest', 'InvalidImageTag', 'MissingDigestAndTag']);
});

test('batch delete: a tag untags, the last tag deletes, a digest deletes, an index child is protected', async (t) => {
  const name = 'images/delete';
  const img = makeImage();
  const digest = await pushImage(shared.reg.url, name, 'a', img);
  await putManifest(shared.reg.url, name, 'b', img.manifest, OCI_MANIFEST);
  let res = await shared.api.images.batchDelete(name, [{ imageTag: 'a' }]);
  t.deepEqual(res, { imageIds: [{ imageDigest: digest, imageTag: 'a' }], failures: [] });
  t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${digest}`)).status, 200, 'still tagged b: only untagged');
  res = await shared.api.images.batchDelete(name, [{ imageTag: 'b' }]);
  t.is(res.imageIds.length, 1);
  t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${digest}`)).status, 404, 'the last tag gone: the image is deleted');

  const child = makeImage();
  const childDigest = await pushImage(shared.reg.url, name, 'child', child);
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, child.manifest)] });
  await putManifest(shared.reg.url, name, 'idx', index, OCI_INDEX);
  res = await shared.api.images.batchDelete(name, [{ imageDigest: childDigest }, { imageDigest: sha256(index) }, { imageTag: 'missing' }]);
  t.deepEqual(res.failures.map((f) => f.failureCode), ['ImageReferencedByManifestList', 'ImageNotFound']);
  t.deepEqual(res.imageIds, [{ imageDigest: sha256(index) }]);
  res = await shared.api.images.batchDelete(name, [{ imageDigest: childDigest }]);
  t.deepEqual(res.imageIds, [{ imageDigest: childDigest }], 'with the index gone, the child can go');
});

test('image routes validate input and report a missing repository', async (t) => {
  let res = await fetch(`${shared.reg.url}/api/v1/repositories/images%2Fnone/images`);
  t.is(res.status, 404);
  t.like(await res.json(), { code: 'RepositoryNotFound' });
  res = await fetch(`${shared.reg.url}/api/v1/repositories/images%2Fnone/images/batch-get`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ imageIds: [] }) });
  t.is(res.status, 400);
  t.like(await res.json(), { code: 'InvalidParameter', field: 'imageIds' });
});
