import test from 'ava';
import { BerthApiError, BerthClient } from '../../src/client/client.ts';
import { OCI_INDEX, OCI_MANIFEST, OCI_EMPTY, descriptor, makeImage, pushBlob, pushImage, putManifest, sha256 } from '../../../test/support/oci.ts';
import { startRegistry, waitFor } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const shared = sharedRegistry();

const rule = (rulePriority: number, selection: Record<string, unknown>, description?: string) => ({
  rulePriority,
  ...(description ? { description } : {}),
  selection,
  action: { type: 'expire' },
});

/** Pushes images in order, so push times increase. */
async function pushSeries(name: string, tags: (string | undefined)[]): Promise<string[]> {
  const digests: string[] = [];
  for (const tag of tags) {
    const img = makeImage({ layers: 1, layerSize: 64 });
    await pushImage(shared.reg.url, name, tag ?? 'tmp', img);
    if (tag === undefined) await fetch(`${shared.reg.url}/v2/${name}/manifests/tmp`, { method: 'DELETE' });
    digests.push(img.digest);
    await new Promise((r) => setTimeout(r, 5));
  }
  return digests;
}

test('preview lists what would expire and by which rule; execute expires it and records it', async (t) => {
  const name = 'lifecycle/run';
  const [u1, u2, r1, r2, r3, latest] = await pushSeries(name, [undefined, undefined, 'release-1', 'release-2', 'release-3', 'latest']);
  const policy = {
    rules: [
      rule(1, { tagStatus: 'tagged', tagPrefixList: ['release'], countType: 'imageCountMoreThan', countNumber: 2 }, 'keep two releases'),
      rule(2, { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 }),
    ],
  };
  t.is((await t.throwsAsync(shared.api.lifecycle.preview(name), { instanceOf: BerthApiError }) as BerthApiError).code, 'LifecyclePolicyNotFound');
  const tried = await shared.api.lifecycle.preview(name, JSON.stringify(policy));
  t.deepEqual(
    tried.results.map((r) => [r.imageDigest, r.appliedRulePriority]),
    [
      [u1, 2],
      [r1, 1],
    ],
  );
  t.is(tried.summary.expiringImageTotalCount, 2);
  t.regex(tried.results[1]?.reason ?? '', /keeps the 2 most recently pushed/);

  await shared.api.lifecyclePolicies.update({ repositoryName: name }, { lifecyclePolicyText: JSON.stringify(policy) });
  t.deepEqual((await shared.api.lifecycle.preview(name)).results.map((r) => r.imageDigest), [u1, r1]);
  const run = await shared.api.lifecycle.execute(name);
  t.deepEqual(run.expired.map((r) => r.imageDigest), [u1, r1]);
  for (const gone of [u1, r1]) t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${gone}`)).status, 404);
  for (const kept of [u2, r2, r3, latest]) t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${kept}`)).status, 200);
  t.deepEqual((await shared.api.lifecycle.preview(name)).results, [], 'nothing left to expire');

  const history = await shared.api.lifecycle.expirations(name);
  t.deepEqual(history.expirations.map((e) => e.imageDigest).sort(), [u1, r1].sort());
  t.deepEqual(history.expirations.find((e) => e.imageDigest === r1)?.imageTags, ['release-1']);
  const stored = await shared.api.lifecyclePolicies.read({ repositoryName: name });
  t.is(stored.lastEvaluatedAt, run.executedAt);
});

test('an expired index takes its untagged children and its referrers with it', async (t) => {
  const name = 'lifecycle/index';
  const child = makeImage();
  await pushImage(shared.reg.url, name, 'child-tmp', child);
  await fetch(`${shared.reg.url}/v2/${name}/manifests/child-tmp`, { method: 'DELETE' });
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, child.manifest)] });
  await putManifest(shared.reg.url, name, 'old', index, OCI_INDEX);
  await new Promise((r) => setTimeout(r, 5));
  const newer = await pushImage(shared.reg.url, name, 'new');
  const empty = Buffer.from('{}');
  await pushBlob(shared.reg.url, name, empty);
  const sig = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/sig', config: descriptor(OCI_EMPTY, empty), layers: [descriptor(OCI_EMPTY, empty)], subject: descriptor(OCI_INDEX, Buffer.from(index)) });
  await putManifest(shared.reg.url, name, sha256(sig), sig, OCI_MANIFEST);
  await shared.api.lifecyclePolicies.update({ repositoryName: name }, { lifecyclePolicyText: JSON.stringify({ rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })] }) });
  const preview = await shared.api.lifecycle.preview(name);
  t.deepEqual(preview.results.map((r) => r.imageDigest), [sha256(index)], 'children and referrers are not judged on their own');
  await shared.api.lifecycle.execute(name);
  for (const gone of [sha256(index), child.digest, sha256(sig)]) t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${gone}`)).status, 404, gone);
  t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${newer}`)).status, 200);
});

test('policies run on their schedule', async (t) => {
  const own = await startRegistry({ lifecycleIntervalSeconds: 1 });
  t.teardown(() => own.close());
  const client = new BerthClient({ endpoint: own.url, credentials: testAdmin });
  const name = 'lifecycle/scheduled';
  await pushImage(own.url, name, 'a');
  await pushImage(own.url, name, 'b');
  await client.lifecyclePolicies.update({ repositoryName: name }, { lifecyclePolicyText: JSON.stringify({ rules: [rule(1, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 })] }) });
  await waitFor(async () => (await client.lifecycle.expirations(name)).expirations.length === 1, 10_000, () => 'the scheduled run did not expire the older image');
  t.is((await client.images.list(name)).imageDetails.length, 1);
});

test('lifecycle operations on a missing repository are RepositoryNotFound', async (t) => {
  const err = await t.throwsAsync(shared.api.lifecycle.execute('lifecycle/none'), { instanceOf: BerthApiError });
  t.is((err as BerthApiError).code, 'RepositoryNotFound');
});
