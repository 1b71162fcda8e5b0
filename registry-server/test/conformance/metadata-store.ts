// The MetadataStore conformance suite. Every implementation runs it with a few lines:
//   metadataStoreConformance('sqlite', async () => ({ meta, cleanup }))
import { createHash, randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { defaultRepositorySettings, type ManifestInput, type MetadataStore } from '../../src/meta/metadata-store.ts';

export interface MetadataStoreFixture {
  readonly meta: MetadataStore;
  cleanup(): Promise<void>;
}

const digest = (seed: string | Uint8Array = randomBytes(16)): string => `sha256:${createHash('sha256').update(seed).digest('hex')}`;

function manifest(refs: { blobs?: string[]; manifests?: string[]; subject?: string; artifactType?: string; annotations?: Record<string, string> } = {}): ManifestInput {
  const content = randomBytes(64);
  return {
    digest: digest(content),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: refs.artifactType,
    content,
    subject: refs.subject,
    annotations: refs.annotations ? JSON.stringify(refs.annotations) : undefined,
    references: [
      ...(refs.blobs ?? []).map((d) => ({ digest: d, kind: 'blob' as const })),
      ...(refs.manifests ?? []).map((d) => ({ digest: d, kind: 'manifest' as const })),
      ...(refs.subject ? [{ digest: refs.subject, kind: 'subject' as const }] : []),
    ],
  };
}

export interface ConformanceOptions {
  /** Registers every test as skipped (a store whose backing service is unavailable outside CI). */
  readonly skip?: boolean;
}

export function metadataStoreConformance(name: string, open: () => Promise<MetadataStoreFixture>, options: ConformanceOptions = {}): void {
  const declare = options.skip ? test.skip : test;
  const withMeta = (title: string, fn: (t: ExecutionContext, meta: MetadataStore) => Promise<void>): void => {
    declare(`${name} metadata store: ${title}`, async (t) => {
      const fixture = await open();
      t.teardown(() => fixture.cleanup());
      await fixture.meta.migrate();
      await fn(t, fixture.meta);
    });
  };

  withMeta('migrations are idempotent', async (t, meta) => {
    await meta.migrate();
    await meta.migrate();
    t.truthy(await meta.ensureRepository('after/migrate'));
  });

  withMeta('repositories: ensure is idempotent, list is ordered and keyset-paginated', async (t, meta) => {
    const a = await meta.ensureRepository('b/repo');
    const again = await meta.ensureRepository('b/repo');
    t.is(a.id, again.id);
    t.true(a.createdAt instanceof Date);
    for (const n of ['a', 'c', 'a/z', 'B-upper-not-valid-but-stored']) await meta.ensureRepository(n);
    t.is((await meta.getRepository('missing')), undefined);
    t.deepEqual(await meta.listRepositories({ limit: 100 }), ['B-upper-not-valid-but-stored', 'a', 'a/z', 'b/repo', 'c']);
    t.deepEqual(await meta.listRepositories({ limit: 2 }), ['B-upper-not-valid-but-stored', 'a']);
    t.deepEqual(await meta.listRepositories({ after: 'a', limit: 2 }), ['a/z', 'b/repo']);
    t.deepEqual(await meta.listRepositories({ after: 'c', limit: 2 }), []);
  });

  withMeta('repository settings: create once, update with versions, list by prefix, stats, delete', async (t, meta) => {
    const settings = { ...defaultRepositorySettings, imageTagMutability: 'IMMUTABLE' as const, tags: { team: 'a' } };
    const created = await meta.createRepository('p/one', settings);
    t.is(created?.version, 1);
    t.deepEqual(created?.settings, settings);
    t.is(await meta.createRepository('p/one', settings), undefined, 'a taken name');
    const ensured = await meta.ensureRepository('p/one');
    t.deepEqual(ensured.settings, settings, 'ensure keeps an existing repository as it is');
    const updated = await meta.updateRepository('p/one', { ...settings, scanOnPush: true }, 1);
    t.is(updated.status, 'ok');
    t.is(updated.status === 'ok' ? updated.value.version : 0, 2);
    const stale = await meta.updateRepository('p/one', settings, 1);
    t.is(stale.status, 'stale');
    t.is(stale.status === 'stale' ? stale.current.version : 0, 2);
    t.is((await meta.updateRepository('p/missing', settings)).status, 'missing');
    for (const n of ['p/two', 'p2/x', 'q/one', 'p/three']) await meta.createRepository(n, defaultRepositorySettings);
    t.deepEqual((await meta.listRepositoryRecords('p/', { limit: 10 })).map((r) => r.name), ['p/one', 'p/three', 'p/two']);
    t.deepEqual((await meta.listRepositoryRecords('p/', { after: 'p/one', limit: 1 })).map((r) => r.name), ['p/three']);
    t.deepEqual((await meta.listRepositoryRecords('', { after: 'p2/x', limit: 10 })).map((r) => r.name), ['q/one']);
    const repo = await meta.ensureRepository('p/two');
    const layer = digest();
    await meta.putBlob(repo.id, { digest: layer, size: 1000 });
    await meta.putManifest(repo.id, manifest({ blobs: [layer] }), ['v1']);
    t.deepEqual(await meta.repositoryStats(repo.id), { imageCount: 1, sizeInBytes: 1000 });
    t.is(await meta.deleteRepository('p/two', { force: false }), 'not-empty');
    t.is(await meta.deleteRepository('p/two', { force: true, expectedVersion: 7 }), 'stale');
    t.is(await meta.deleteRepository('p/two', { force: true }), 'deleted');
    t.is(await meta.deleteRepository('p/two', { force: true }), 'missing');
    t.is(await meta.getRepository('p/two'), undefined);
  });

  withMeta('blobs: put links to one repository, link mounts into another, unlink removes the link only', async (t, meta) => {
    const r1 = await meta.ensureRepository('one');
    const r2 = await meta.ensureRepository('two');
    const d = digest();
    t.is(await meta.getBlob(d), undefined);
    t.false(await meta.linkBlob(r2.id, d), 'cannot link an unknown blob');
    await meta.putBlob(r1.id, { digest: d, size: 42 });
    t.deepEqual(await meta.getBlob(d), { digest: d, size: 42 });
    t.deepEqual(await meta.getRepositoryBlob(r1.id, d), { digest: d, size: 42 });
    t.is(await meta.getRepositoryBlob(r2.id, d), undefined);
    t.true(await meta.linkBlob(r2.id, d));
    t.true(await meta.linkBlob(r2.id, d), 'linking twice is fine');
    t.deepEqual(await meta.getRepositoryBlob(r2.id, d), { digest: d, size: 42 });
    t.true(await meta.unlinkBlob(r1.id, d));
    t.false(await meta.unlinkBlob(r1.id, d));
    t.is(await meta.getRepositoryBlob(r1.id, d), undefined);
    t.truthy(await meta.getBlob(d), 'the blob itself stays for other repositories');
  });

  withMeta('uploads: create, advance with compare-and-set, complete atomically', async (t, meta) => {
    const repo = await meta.ensureRepository('up');
    const s = await meta.createUpload({ id: 'u-1', repositoryId: repo.id, digestAlgorithm: 'sha512' });
    t.is(s.offset, 0);
    t.is(s.digestAlgorithm, 'sha512');
    t.true(await meta.advanceUpload('u-1', 0, 10));
    t.false(await meta.advanceUpload('u-1', 0, 20), 'a stale writer is refused');
    t.is((await meta.getUpload('u-1'))?.offset, 10);
    await meta.createUpload({ id: 'u-2', repositoryId: repo.id, digestAlgorithm: 'sha256' });
    t.deepEqual(await meta.listUploadIds(), new Set(['u-1', 'u-2']));
    const d = digest();
    await meta.completeUpload('u-1', repo.id, { digest: d, size: 10 });
    t.is(await meta.getUpload('u-1'), undefined);
    t.deepEqual(await meta.getRepositoryBlob(repo.id, d), { digest: d, size: 10 });
    t.true(await meta.deleteUpload('u-2'));
    t.false(await meta.deleteUpload('u-2'));
    t.deepEqual(await meta.listUploadIds(), new Set());
  });

  withMeta('manifests: references must exist in the repository, subjects need not', async (t, meta) => {
    const repo = await meta.ensureRepository('m');
    const other = await meta.ensureRepository('other');
    const layer = digest();
    await meta.putBlob(other.id, { digest: layer, size: 1 });
    const m = manifest({ blobs: [layer] });
    const refused = await meta.putManifest(repo.id, m, ['latest']);
    t.deepEqual(refused, { ok: false, reason: 'missing', missing: [layer] }, 'a blob of another repository does not count');
    t.is(await meta.getManifest(repo.id, m.digest), undefined, 'nothing stored on refusal');
    t.is(await meta.getManifestByTag(repo.id, 'latest'), undefined);
    await meta.linkBlob(repo.id, layer);
    t.deepEqual(await meta.putManifest(repo.id, m, ['latest', 'v1']), { ok: true });
    const stored = await meta.getManifest(repo.id, m.digest);
    t.deepEqual(Buffer.from(stored?.content ?? []), Buffer.from(m.content), 'bytes are stored exactly');
    t.is(stored?.mediaType, m.mediaType);
    t.is((await meta.getManifestByTag(repo.id, 'v1'))?.digest, m.digest);

    const index = manifest({ manifests: [m.digest, digest()] });
    t.false((await meta.putManifest(repo.id, index, [])).ok, 'index children must exist');
    const referrer = manifest({ subject: digest(), artifactType: 'application/example' });
    t.true((await meta.putManifest(repo.id, referrer, [])).ok, 'a dangling subject is accepted');
    t.deepEqual(await meta.putManifest(repo.id, m, []), { ok: true }, 'pushing the same manifest again is fine');
  });

  withMeta('tags: move, list in order with keyset pagination, delete', async (t, meta) => {
    const repo = await meta.ensureRepository('t');
    const m1 = manifest();
    const m2 = manifest();
    await meta.putManifest(repo.id, m1, ['b', 'a', 'C', '1.0']);
    await meta.putManifest(repo.id, m2, ['a']);
    t.is((await meta.getManifestByTag(repo.id, 'a'))?.digest, m2.digest, 'a tag moves to the newest push');
    t.deepEqual(await meta.listTags(repo.id, { limit: 10 }), ['1.0', 'C', 'a', 'b']);
    t.deepEqual(await meta.listTags(repo.id, { limit: 2 }), ['1.0', 'C']);
    t.deepEqual(await meta.listTags(repo.id, { after: 'C', limit: 10 }), ['a', 'b']);
    const m3 = manifest();
    t.deepEqual(await meta.putManifest(repo.id, m3, ['a', 'new'], ['a']), { ok: false, reason: 'immutable', tag: 'a', digest: m2.digest }, 'an immutable tag does not move');
    t.is(await meta.getManifest(repo.id, m3.digest), undefined, 'nothing stored on refusal');
    t.deepEqual(await meta.putManifest(repo.id, m2, ['a'], ['a']), { ok: true }, 'the same digest again is fine');
    t.deepEqual(await meta.putManifest(repo.id, m3, ['fresh'], ['fresh']), { ok: true }, 'a new immutable tag is fine');
    t.true(await meta.deleteTag(repo.id, 'b'));
    t.false(await meta.deleteTag(repo.id, 'b'));
    t.truthy(await meta.getManifest(repo.id, m1.digest), 'deleting a tag keeps the manifest');
    t.true(await meta.deleteManifest(repo.id, m1.digest));
    t.false(await meta.deleteManifest(repo.id, m1.digest));
    t.deepEqual(await meta.listTags(repo.id, { limit: 10 }), ['a', 'fresh'], 'deleting a manifest removes its tags');
  });

  withMeta('referrers: by subject, filtered by artifactType, ordered by digest, paginated', async (t, meta) => {
    const repo = await meta.ensureRepository('r');
    const other = await meta.ensureRepository('r2');
    const subject = digest('subject');
    const refs = [
      manifest({ subject, artifactType: 'application/sig', annotations: { 'org.example': 'x' } }),
      manifest({ subject, artifactType: 'application/sbom' }),
      manifest({ subject, artifactType: 'application/sig' }),
    ];
    for (const r of refs) await meta.putManifest(repo.id, r, []);
    await meta.putManifest(repo.id, manifest({ subject: digest('another') }), []);
    await meta.putManifest(other.id, manifest({ subject }), []);
    const all = await meta.listReferrers(repo.id, subject, { limit: 10 });
    t.deepEqual(all.map((r) => r.digest), refs.map((r) => r.digest).sort());
    const annotated = all.find((r) => r.digest === refs[0]?.digest);
    t.deepEqual(JSON.parse(annotated?.annotations ?? '{}'), { 'org.example': 'x' });
    t.is(annotated?.size, 64);
    const sigs = await meta.listReferrers(repo.id, subject, { limit: 10 }, 'application/sig');
    t.deepEqual(sigs.map((r) => r.digest), [refs[0], refs[2]].map((r) => r?.digest).sort());
    const first = await meta.listReferrers(repo.id, subject, { limit: 2 });
    const rest = await meta.listReferrers(repo.id, subject, { after: first.at(-1)?.digest, limit: 2 });
    t.deepEqual([...first, ...rest].map((r) => r.digest), all.map((r) => r.digest));
    t.deepEqual(await meta.listReferrers(repo.id, digest('nothing'), { limit: 10 }), []);
  });

  withMeta('documents: create, update with versions, upsert, list by prefix in key order, delete, go with their repository', async (t, meta) => {
    const created = await meta.putDocument('test-kind', 'a/1', '{"n":1}', { mode: 'create' });
    t.is(created.status, 'ok');
    t.is(created.status === 'ok' ? created.value.version : 0, 1);
    t.true(created.status === 'ok' && created.value.createdAt instanceof Date);
    const exists = await meta.putDocument('test-kind', 'a/1', '{}', { mode: 'create' });
    t.is(exists.status, 'exists');
    t.is(exists.status === 'exists' ? exists.current.body : '', '{"n":1}');
    t.is((await meta.putDocument('test-kind', 'missing', '{}', { mode: 'update' })).status, 'missing');
    t.is((await meta.putDocument('test-kind', 'missing', '{}', { mode: 'upsert', expectedVersion: 1 })).status, 'missing');
    const updated = await meta.putDocument('test-kind', 'a/1', '{"n":2}', { mode: 'update', expectedVersion: 1 });
    t.is(updated.status === 'ok' ? updated.value.version : 0, 2);
    const stale = await meta.putDocument('test-kind', 'a/1', '{"n":3}', { mode: 'upsert', expectedVersion: 1 });
    t.is(stale.status, 'stale');
    t.is(stale.status === 'stale' ? stale.current.version : 0, 2);
    const upserted = await meta.putDocument('test-kind', 'a/1', '{"n":3}', { mode: 'upsert' });
    t.is(upserted.status === 'ok' ? upserted.value.version : 0, 3);
    t.is((await meta.getDocument('test-kind', 'a/1'))?.body, '{"n":3}');
    t.is(await meta.getDocument('other-kind', 'a/1'), undefined);
    for (const key of ['a/3', 'a/2', 'B', 'a0', 'b/1']) await meta.putDocument('test-kind', key, '{}', { mode: 'upsert' });
    await meta.putDocument('other-kind', 'a/9', '{}', { mode: 'create' });
    t.deepEqual((await meta.listDocuments('test-kind', '', { limit: 10 })).map((d) => d.key), ['B', 'a/1', 'a/2', 'a/3', 'a0', 'b/1']);
    t.deepEqual((await meta.listDocuments('test-kind', 'a/', { limit: 10 })).map((d) => d.key), ['a/1', 'a/2', 'a/3']);
    t.deepEqual((await meta.listDocuments('test-kind', 'a/', { after: 'a/1', limit: 1 })).map((d) => d.key), ['a/2']);
    t.is(await meta.deleteDocument('test-kind', 'a/1', 1), 'stale');
    t.is(await meta.deleteDocument('test-kind', 'a/1', 3), 'deleted');
    t.is(await meta.deleteDocument('test-kind', 'a/1'), 'missing');
    const repo = await meta.ensureRepository('doc/repo');
    await meta.putDocument('repository-policy', 'doc/repo', '{}', { mode: 'create', repositoryId: repo.id });
    t.truthy(await meta.getDocument('repository-policy', 'doc/repo'));
    t.is(await meta.deleteRepository('doc/repo', { force: false }), 'deleted');
    t.is(await meta.getDocument('repository-policy', 'doc/repo'), undefined, "a repository's documents go with it");
  });

  withMeta('images: listed with tags and sizes, filtered by tagging, indexes that list them, pull times', async (t, meta) => {
    const repo = await meta.ensureRepository('img');
    const config = digest();
    const layer = digest();
    await meta.putBlob(repo.id, { digest: config, size: 100 });
    await meta.putBlob(repo.id, { digest: layer, size: 5000 });
    const image = manifest({ blobs: [config, layer] });
    const untagged = manifest();
    await meta.putManifest(repo.id, image, ['v2', 'v1']);
    await meta.putManifest(repo.id, untagged, []);
    const index = manifest({ manifests: [image.digest] });
    await meta.putManifest(repo.id, index, ['multi']);
    const got = await meta.getImage(repo.id, image.digest);
    t.is(got?.blobBytes, 5100);
    t.is(got?.manifestSize, 64);
    t.deepEqual(got?.tags, ['v1', 'v2']);
    t.true(got?.referenced, 'an index in the repository lists it');
    t.is(got?.lastPulledAt, undefined);
    t.true(got?.pushedAt instanceof Date);
    t.false((await meta.getImage(repo.id, untagged.digest))?.referenced);
    t.is(await meta.getImage(repo.id, digest()), undefined);
    const all = [image, untagged, index].map((m) => m.digest).sort();
    t.deepEqual((await meta.listImages(repo.id, 'ANY', { limit: 10 })).map((i) => i.digest), all);
    t.deepEqual((await meta.listImages(repo.id, 'ANY', { after: all[0], limit: 1 })).map((i) => i.digest), [all[1]]);
    t.deepEqual((await meta.listImages(repo.id, 'TAGGED', { limit: 10 })).map((i) => i.digest), [image.digest, index.digest].sort());
    t.deepEqual((await meta.listImages(repo.id, 'UNTAGGED', { limit: 10 })).map((i) => i.digest), [untagged.digest]);
    t.deepEqual(await meta.indexesListing(repo.id, image.digest), [index.digest]);
    t.deepEqual(await meta.indexesListing(repo.id, untagged.digest), []);
    await meta.recordPulls([
      { repositoryId: repo.id, digest: image.digest, at: new Date(2_000_000) },
      { repositoryId: repo.id, digest: image.digest, at: new Date(3_000_000) },
      { repositoryId: repo.id, digest: digest(), at: new Date(4_000_000) },
    ]);
    await meta.recordPulls([{ repositoryId: repo.id, digest: image.digest, at: new Date(1_000_000) }]);
    t.is((await meta.getImage(repo.id, image.digest))?.lastPulledAt?.getTime(), 3_000_000, 'the latest pull is kept; unknown manifests are ignored');
  });

  withMeta('expirations: recorded in order, listed newest first per repository, paginated by id', async (t, meta) => {
    const at = new Date(1_700_000_000_000);
    await meta.recordExpirations([]);
    await meta.recordExpirations(
      ['one', 'two', 'three'].map((d, i) => ({ repositoryName: 'exp/a', digest: `sha256:${d}`, tags: i === 0 ? ['x', 'y'] : [], rulePriority: i + 1, reason: 'count', expiredAt: at })),
    );
    await meta.recordExpirations([{ repositoryName: 'exp/b', digest: 'sha256:other', tags: [], rulePriority: 1, reason: 'age', expiredAt: at }]);
    const listed = await meta.listExpirations('exp/a', { limit: 10 });
    t.deepEqual(listed.map((e) => e.digest), ['sha256:three', 'sha256:two', 'sha256:one']);
    t.deepEqual(listed[2]?.tags, ['x', 'y']);
    t.is(listed[2]?.rulePriority, 1);
    t.is(listed[2]?.expiredAt.getTime(), at.getTime());
    const next = await meta.listExpirations('exp/a', { after: listed[0]?.id, limit: 1 });
    t.deepEqual(next.map((e) => e.digest), ['sha256:two']);
    t.deepEqual((await meta.listExpirations('exp/b', { limit: 10 })).map((e) => e.reason), ['age']);
  });

  withMeta('leases: two holders contend, the holder renews, release frees', async (t, meta) => {
    t.true(await meta.tryLease('gc', 'replica-a', 60_000), 'a free lease is taken');
    t.false(await meta.tryLease('gc', 'replica-b', 60_000), 'another holder is refused while it is unexpired');
    t.true(await meta.tryLease('gc', 'replica-a', 60_000), 'the holder renews');
    t.true(await meta.tryLease('other', 'replica-b', 60_000), 'leases are independent by name');
    await meta.releaseLease('gc', 'replica-b');
    t.false(await meta.tryLease('gc', 'replica-b', 60_000), 'releasing a lease one does not hold does nothing');
    await meta.releaseLease('gc', 'replica-a');
    t.true(await meta.tryLease('gc', 'replica-b', 60_000), 'a released lease is free');
    t.false(await meta.tryLease('gc', 'replica-a', 60_000));
    const contenders = await Promise.all(['x', 'y', 'z', 'w'].map((h) => meta.tryLease('race', h, 60_000)));
    t.is(contenders.filter(Boolean).length, 1, 'of concurrent contenders exactly one wins');
  });

  withMeta('leases: expiry hands over, renewal extends', async (t, meta) => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Margins of 300 ms or more either side of every expiry, so a loaded machine does not flake.
    t.true(await meta.tryLease('sweep', 'replica-a', 1000));
    t.false(await meta.tryLease('sweep', 'replica-b', 1000));
    await sleep(500);
    t.true(await meta.tryLease('sweep', 'replica-a', 1000), 'renewed before it expired');
    await sleep(700);
    t.false(await meta.tryLease('sweep', 'replica-b', 1000), 'the renewal moved the expiry forward');
    await sleep(600);
    t.true(await meta.tryLease('sweep', 'replica-b', 60_000), 'an expired lease goes to the next holder');
    t.false(await meta.tryLease('sweep', 'replica-a', 60_000), 'and the old holder no longer has it');
  });

  withMeta('replication outbox: written with a successful push only, one task per destination', async (t, meta) => {
    const repo = await meta.ensureRepository('rep/out');
    const layer = digest();
    const m = manifest({ blobs: [layer] });
    t.false((await meta.putManifest(repo.id, m, ['v1'], [], ['b.example', 'a.example'])).ok, 'a missing blob refuses the push');
    t.deepEqual(await meta.listReplicationTasks(repo.id, m.digest), [], 'a refused push writes no task');
    t.deepEqual(await meta.claimReplicationTasks('w', new Date(Date.now() + 1000), 60_000, 10), []);

    await meta.putBlob(repo.id, { digest: layer, size: 1 });
    const before = Date.now();
    t.deepEqual(await meta.putManifest(repo.id, m, ['v1', 'latest', 'v1'], [], ['b.example', 'a.example', 'b.example']), { ok: true });
    const tasks = await meta.listReplicationTasks(repo.id, m.digest);
    t.deepEqual(tasks.map((x) => x.destination), ['a.example', 'b.example'], 'one task per destination, ordered by destination');
    for (const task of tasks) {
      t.is(task.repositoryId, repo.id);
      t.is(task.repositoryName, 'rep/out');
      t.is(task.digest, m.digest);
      t.deepEqual(task.tags, ['latest', 'v1'], 'tags sorted and deduplicated');
      t.is(task.state, 'IN_PROGRESS');
      t.is(task.attempts, 0);
      t.is(task.generation, 1);
      t.true(task.nextAttemptAt.getTime() >= before && task.nextAttemptAt.getTime() <= Date.now(), 'due at once');
      t.is(task.failureCode, undefined);
      t.is(task.failureReason, undefined);
      t.true(task.createdAt instanceof Date && task.updatedAt instanceof Date);
    }
    t.not(tasks[0]?.id, tasks[1]?.id);

    const plain = manifest();
    t.deepEqual(await meta.putManifest(repo.id, plain, ['plain']), { ok: true });
    t.deepEqual(await meta.putManifest(repo.id, plain, ['plain2'], [], []), { ok: true });
    t.deepEqual(await meta.listReplicationTasks(repo.id, plain.digest), [], 'no destinations, no task');

    // An immutable tag that refuses the push writes nothing either, even for a digest with tasks.
    const other = manifest();
    t.deepEqual(await meta.putManifest(repo.id, other, ['fixed'], ['fixed']), { ok: true });
    t.false((await meta.putManifest(repo.id, m, ['fixed'], ['fixed'], ['a.example', 'c.example'])).ok);
    const after = await meta.listReplicationTasks(repo.id, m.digest);
    t.deepEqual(after, tasks, 'the refused push neither merged into nor added a task');
    t.deepEqual(await meta.listReplicationTasks(repo.id, other.digest), []);
  });

  withMeta('replication outbox: a later push of the digest merges its tags, bumps the generation and makes the task due', async (t, meta) => {
    const repo = await meta.ensureRepository('rep/merge');
    const m = manifest();
    await meta.putManifest(repo.id, m, ['v1', 'b'], [], ['dest']);
    const [first] = await meta.listReplicationTasks(repo.id, m.digest);
    const far = new Date(Date.now() + 3_600_000);
    const [claimed] = await meta.claimReplicationTasks('w', new Date(), 60_000, 10);
    t.is(claimed?.id, first?.id);
    t.true(await meta.finishReplicationTask(first?.id ?? 0, 'w', 1, { state: 'IN_PROGRESS', retryAt: far, failureCode: 'E', failureReason: 'down' }));
    t.deepEqual(await meta.claimReplicationTasks('w', new Date(), 60_000, 10), [], 'waiting for its retry');

    await meta.putManifest(repo.id, m, ['a', 'v1'], [], ['dest']);
    const [merged] = await meta.listReplicationTasks(repo.id, m.digest);
    t.is(merged?.id, first?.id, 'the same row');
    t.deepEqual(merged?.tags, ['a', 'b', 'v1'], 'tags are the sorted union');
    t.is(merged?.generation, 2);
    t.is(merged?.attempts, 0, 'attempts start over');
    t.is(merged?.state, 'IN_PROGRESS');
    t.is(merged?.failureCode, undefined, 'the failure is cleared');
    t.true((merged?.nextAttemptAt.getTime() ?? Infinity) <= Date.now(), 'due now, not at the retry time');
    const [again] = await meta.claimReplicationTasks('w', new Date(), 60_000, 10);
    t.is(again?.generation, 2);
    t.deepEqual(again?.tags, ['a', 'b', 'v1']);

    // A finished task comes back too.
    t.true(await meta.finishReplicationTask(again?.id ?? 0, 'w', 2, { state: 'COMPLETE' }));
    await meta.putManifest(repo.id, m, [], [], ['dest', 'second']);
    const both = await meta.listReplicationTasks(repo.id, m.digest);
    t.deepEqual(both.map((x) => [x.destination, x.state, x.generation, x.tags]), [
      ['dest', 'IN_PROGRESS', 3, ['a', 'b', 'v1']],
      ['second', 'IN_PROGRESS', 1, []],
    ]);
  });

  withMeta('replication outbox: claims take due, unclaimed tasks, oldest first, up to the limit, one holder at a time', async (t, meta) => {
    const repo = await meta.ensureRepository('rep/claim');
    const pushed = [manifest(), manifest(), manifest()];
    for (const m of pushed) await meta.putManifest(repo.id, m, [], [], ['dest']);
    const ids = (await Promise.all(pushed.map((m) => meta.listReplicationTasks(repo.id, m.digest)))).map((x) => x[0]?.id);
    const now = Date.now() + 1000;
    t.deepEqual(await meta.claimReplicationTasks('a', new Date(0), 60_000, 10), [], 'nothing is due before its time');
    const two = await meta.claimReplicationTasks('a', new Date(now), 60_000, 2);
    t.deepEqual(two.map((x) => x.id), ids.slice(0, 2), 'oldest due first, at most limit');
    t.is(two[0]?.repositoryName, 'rep/claim');
    const rest = await meta.claimReplicationTasks('b', new Date(now), 60_000, 10);
    t.deepEqual(rest.map((x) => x.id), ids.slice(2), 'held tasks are not claimed again');
    t.deepEqual(await meta.claimReplicationTasks('b', new Date(now + 59_000), 60_000, 10), [], 'not while the claims hold');
    const expired = await meta.claimReplicationTasks('b', new Date(now + 60_001), 60_000, 10);
    t.deepEqual(expired.map((x) => x.id), ids, 'expired claims go to the next holder');
    t.false(await meta.finishReplicationTask(ids[0] ?? 0, 'a', 1, { state: 'COMPLETE' }), 'the first holder lost it');
    t.true(await meta.finishReplicationTask(ids[0] ?? 0, 'b', 1, { state: 'COMPLETE' }));
  });

  withMeta('replication outbox: finishing records the outcome for the claiming holder and generation only', async (t, meta) => {
    const repo = await meta.ensureRepository('rep/finish');
    const [retried, failed, completed, stale] = [manifest(), manifest(), manifest(), manifest()];
    for (const m of [retried, failed, completed, stale]) await meta.putManifest(repo.id, m, ['t'], [], ['dest']);
    const task = async (m: ManifestInput) => (await meta.listReplicationTasks(repo.id, m.digest))[0];
    const now = Date.now() + 1000;
    const claimed = await meta.claimReplicationTasks('w', new Date(now), 60_000, 10);
    t.is(claimed.length, 4);
    const idOf = async (m: ManifestInput) => (await task(m))?.id ?? 0;

    t.false(await meta.finishReplicationTask(await idOf(completed), 'intruder', 1, { state: 'COMPLETE' }), 'the wrong holder is refused');
    t.is((await task(completed))?.state, 'IN_PROGRESS');
    t.false(await meta.finishReplicationTask(999_999, 'w', 1, { state: 'COMPLETE' }), 'an unknown task');

    t.true(await meta.finishReplicationTask(await idOf(completed), 'w', 1, { state: 'COMPLETE' }));
    t.like(await task(completed), { state: 'COMPLETE', attempts: 0, failureCode: undefined, failureReason: undefined });
    t.false(await meta.finishReplicationTask(await idOf(completed), 'w', 1, { state: 'COMPLETE' }), 'the claim is gone once finished');

    t.true(await meta.finishReplicationTask(await idOf(failed), 'w', 1, { state: 'FAILED', failureCode: 'DENIED', failureReason: 'no access' }));
    t.like(await task(failed), { state: 'FAILED', attempts: 1, failureCode: 'DENIED', failureReason: 'no access' });

    const retryAt = new Date(now + 30_000);
    t.true(await meta.finishReplicationTask(await idOf(retried), 'w', 1, { state: 'IN_PROGRESS', retryAt, failureCode: 'TIMEOUT', failureReason: 'slow' }));
    t.like(await task(retried), { state: 'IN_PROGRESS', attempts: 1, failureCode: 'TIMEOUT', failureReason: 'slow' });
    t.is((await task(retried))?.nextAttemptAt.getTime(), retryAt.getTime());
    t.deepEqual(await meta.claimReplicationTasks('w2', new Date(retryAt.getTime() - 1), 60_000, 10), [], 'not claimable before retryAt');
    const later = await meta.claimReplicationTasks('w2', retryAt, 1_000, 10);
    t.deepEqual(later.map((x) => x.id), [await idOf(retried)], 'claimable from retryAt on (completed and failed tasks never)');
    t.is(later[0]?.attempts, 1);

    // A push lands while `stale` is held: the holder's outcome is dropped, the task due again.
    await meta.putManifest(repo.id, stale, ['t2'], [], ['dest']);
    t.false(
      await meta.finishReplicationTask(await idOf(stale), 'w', 1, { state: 'IN_PROGRESS', retryAt: new Date(now + 3_600_000), failureCode: 'X', failureReason: 'x' }),
      'a stale generation is refused',
    );
    const afterStale = await task(stale);
    t.like(afterStale, { state: 'IN_PROGRESS', attempts: 0, generation: 2, failureCode: undefined });
    t.deepEqual(afterStale?.tags, ['t', 't2']);
    t.true((afterStale?.nextAttemptAt.getTime() ?? Infinity) <= Date.now(), 'still due now');
    const reclaimed = await meta.claimReplicationTasks('w3', new Date(now), 60_000, 10);
    t.deepEqual(reclaimed.map((x) => [x.id, x.generation]), [[await idOf(stale), 2]], 'the claim was released: claimable at once');
    t.true(await meta.finishReplicationTask(await idOf(stale), 'w3', 2, { state: 'COMPLETE' }));
  });

  withMeta('replication outbox: deleting the repository deletes its tasks', async (t, meta) => {
    const repo = await meta.ensureRepository('rep/gone');
    const keep = await meta.ensureRepository('rep/kept');
    const m = manifest();
    await meta.putManifest(repo.id, m, ['v1'], [], ['dest']);
    await meta.putManifest(keep.id, m, ['v1'], [], ['dest']);
    t.is((await meta.listReplicationTasks(repo.id, m.digest)).length, 1);
    t.is(await meta.deleteRepository('rep/gone', { force: true }), 'deleted');
    t.deepEqual(await meta.listReplicationTasks(repo.id, m.digest), []);
    const left = await meta.claimReplicationTasks('w', new Date(Date.now() + 1000), 60_000, 10);
    t.deepEqual(left.map((x) => x.repositoryName), ['rep/kept'], "only the other repository's task is left");
  });
}
