import test from 'ava';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, descriptor, errorCode, makeImage, pushBlob, pushImage, putManifest, sha256 } from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';

let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry({ maxPageSize: 3 });
});
test.after.always(async () => reg.close());

interface TagList {
  name: string;
  tags: string[];
}

/** Follows Link headers from `path` and returns every page. */
async function pages<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = path;
  while (next) {
    const res: Response = await fetch(`${reg.url}${next}`);
    if (res.status !== 200) throw new Error(`${next}: ${res.status}`);
    out.push((await res.json()) as T);
    next = /^<([^>]+)>;\s*rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return out;
}

test('tags are listed in lexical order, paginated with n, last and Link', async (t) => {
  const name = 'listing/tags';
  const digest = await pushImage(reg.url, name, 'v1');
  const manifest = Buffer.from(await (await fetch(`${reg.url}/v2/${name}/manifests/${digest}`)).arrayBuffer());
  const tags = ['v1', 'B', 'a', '1.0', 'latest', 'v10', 'v2', '_x'];
  for (const tag of tags.slice(1)) await putManifest(reg.url, name, tag, manifest, OCI_MANIFEST);
  const sorted = [...tags].sort();

  const all = await pages<TagList>(`/v2/${name}/tags/list`);
  t.deepEqual(all.flatMap((p) => p.tags), sorted, 'the server page size (3) is followed through Link');
  t.true(all.every((p) => p.name === name));
  t.is(all.length, 3);

  const first = await fetch(`${reg.url}/v2/${name}/tags/list?n=2`);
  t.deepEqual(((await first.json()) as TagList).tags, sorted.slice(0, 2));
  t.is(first.headers.get('link'), `</v2/${name}/tags/list?n=2&last=${sorted[1]}>; rel="next"`);

  const after = await fetch(`${reg.url}/v2/${name}/tags/list?n=2&last=${sorted[5]}`);
  t.deepEqual(((await after.json()) as TagList).tags, sorted.slice(6));
  t.is(after.headers.get('link'), null, 'no Link on the last page');

  const onlyLast = await fetch(`${reg.url}/v2/${name}/tags/list?last=latest`);
  t.deepEqual(((await onlyLast.json()) as TagList).tags, sorted.filter((s) => s > 'latest').slice(0, 3));

  const zero = await fetch(`${reg.url}/v2/${name}/tags/list?n=0`);
  t.deepEqual(await zero.json(), { name, tags: [] });
  t.is(zero.headers.get('link'), null);
});

test('tag listing errors: bad n, unknown repository, invalid name', async (t) => {
  await pushImage(reg.url, 'listing/errors', 'v1');
  for (const n of ['-1', 'abc', '1.5', '99999999999']) {
    const res = await fetch(`${reg.url}/v2/listing/errors/tags/list?n=${n}`);
    t.is(res.status, 400, n);
  }
  let res = await fetch(`${reg.url}/v2/listing/missing/tags/list`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
  res = await fetch(`${reg.url}/v2/Listing/tags/list`);
  t.is(res.status, 400);
  t.is(await errorCode(res), 'NAME_INVALID');
});

test('an empty repository lists no tags', async (t) => {
  await pushBlob(reg.url, 'listing/empty', Buffer.from('x'));
  const res = await fetch(`${reg.url}/v2/listing/empty/tags/list`);
  t.deepEqual(await res.json(), { name: 'listing/empty', tags: [] });
});

test('the catalog lists repositories in order with the same pagination', async (t) => {
  const own = await startRegistry({ maxPageSize: 2 });
  t.teardown(() => own.close());
  const names = ['zeta', 'alpha/one', 'alpha', 'mid/x/y', 'b-c'];
  for (const name of names) await pushBlob(own.url, name, Buffer.from(name));
  const seen: string[] = [];
  let next: string | undefined = '/v2/_catalog';
  while (next) {
    const res: Response = await fetch(`${own.url}${next}`);
    seen.push(...((await res.json()) as { repositories: string[] }).repositories);
    next = /^<([^>]+)>;\s*rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
  }
  t.deepEqual(seen, [...names].sort());
  const zero = await fetch(`${own.url}/v2/_catalog?n=0`);
  t.deepEqual(await zero.json(), { repositories: [] });
  const page = await fetch(`${own.url}/v2/_catalog?n=1&last=alpha`);
  t.deepEqual(await page.json(), { repositories: ['alpha/one'] });
});

function artifact(subject: { digest: string; size: number }, artifactType: string | undefined, annotations?: Record<string, string>, asIndex = false): string {
  const empty = Buffer.from('{}');
  if (asIndex) {
    return JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], subject: { mediaType: OCI_MANIFEST, ...subject }, ...(annotations ? { annotations } : {}) });
  }
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(artifactType ? { artifactType } : {}),
    config: descriptor(artifactType ? OCI_EMPTY : 'application/vnd.example.config', empty),
    layers: [descriptor(OCI_EMPTY, empty)],
    subject: { mediaType: OCI_MANIFEST, ...subject },
    ...(annotations ? { annotations } : {}),
  });
}

test('referrers: an image index of the manifests whose subject is the digest, with artifactType and annotations', async (t) => {
  const name = 'listing/referrers';
  const image = makeImage();
  const subjectDigest = await pushImage(reg.url, name, 'v1', image);
  const subject = { digest: subjectDigest, size: image.manifest.byteLength };
  await pushBlob(reg.url, name, Buffer.from('{}'));
  const sig = artifact(subject, 'application/vnd.example.sig', { 'org.example.signer': 'ci' });
  const sbom = artifact(subject, 'application/vnd.example.sbom');
  const noType = artifact(subject, undefined);
  const index = artifact(subject, undefined, { 'org.example.kind': 'bundle' }, true);
  for (const m of [sig, sbom, noType]) t.is((await putManifest(reg.url, name, sha256(m), m, OCI_MANIFEST)).headers.get('oci-subject'), subjectDigest);
  t.is((await putManifest(reg.url, name, sha256(index), index, OCI_INDEX)).status, 201);
  // Unrelated manifest: not a referrer.
  await pushImage(reg.url, name, 'other');

  const listed = await pages<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>(`/v2/${name}/referrers/${subjectDigest}`);
  t.true(listed.every((p) => p.schemaVersion === 2 && p.mediaType === OCI_INDEX));
  const entries = listed.flatMap((p) => p.manifests);
  t.is(listed.length, 2, 'four referrers at three per page');
  const byDigest = new Map(entries.map((e) => [e.digest as string, e]));
  t.deepEqual(byDigest.get(sha256(sig)), {
    mediaType: OCI_MANIFEST,
    digest: sha256(sig),
    size: Buffer.byteLength(sig),
    artifactType: 'application/vnd.example.sig',
    annotations: { 'org.example.signer': 'ci' },
  });
  t.is(byDigest.get(sha256(sbom))?.artifactType, 'application/vnd.example.sbom');
  t.is(byDigest.get(sha256(noType))?.artifactType, 'application/vnd.example.config', 'falls back to the config media type');
  t.deepEqual(byDigest.get(sha256(index)), {
    mediaType: OCI_INDEX,
    digest: sha256(index),
    size: Buffer.byteLength(index),
    annotations: { 'org.example.kind': 'bundle' },
  }, 'an index without artifactType has none');

  const res = await fetch(`${reg.url}/v2/${name}/referrers/${subjectDigest}?artifactType=application/vnd.example.sig`);
  t.is(res.headers.get('content-type'), OCI_INDEX);
  t.is(res.headers.get('oci-filters-applied'), 'artifactType');
  t.deepEqual(((await res.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sha256(sig)]);
  const unfiltered = await fetch(`${reg.url}/v2/${name}/referrers/${subjectDigest}`);
  t.is(unfiltered.headers.get('oci-filters-applied'), null);
});

test('referrers never 404: unknown subject or repository gives an empty index; a bad digest is 400', async (t) => {
  for (const path of [`/v2/listing/referrers/referrers/${sha256('none')}`, `/v2/no/such/repo/referrers/${sha256('none')}`]) {
    const res = await fetch(`${reg.url}${path}`);
    t.is(res.status, 200, path);
    t.deepEqual(await res.json(), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
  }
  const bad = await fetch(`${reg.url}/v2/listing/referrers/referrers/sha256:xyz`);
  t.is(bad.status, 400);
  t.is(await errorCode(bad), 'DIGEST_INVALID');
});
