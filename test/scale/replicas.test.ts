// Two Berth replicas on one PostgreSQL database and one S3 bucket serve one registry: pushes
// spread over both stay intact, tag races end with one answer that both replicas agree on, an
// immutable tag is never overwritten, an upload started on one replica finishes on the other,
// and scheduled lifecycle runs happen on one replica only.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { BerthClient } from '../../registry-server/src/client/client.ts';
import { adminFetch as fetch, testAdmin } from '../support/auth.ts';
import { makeImage, OCI_MANIFEST, pushBlob, putManifest, resolveLocation, sha256 } from '../support/oci.ts';
import { scaleOutBackends, startRegistry, type RunningRegistry } from '../support/registry.ts';
import { requirement } from '../support/requirements.ts';

const backends = await scaleOutBackends();
const serial = requirement('PostgreSQL and the S3 server', backends.ok ? undefined : backends.reason).serial;

let a: RunningRegistry;
let b: RunningRegistry;
test.before(async () => {
  if (!backends.ok) return;
  const shared = await backends.fresh('replicas');
  a = await startRegistry({ ...shared.config, lifecycleIntervalSeconds: 1 });
  b = await startRegistry({ ...shared.config, lifecycleIntervalSeconds: 1 });
});
test.after.always(async () => {
  await a?.close();
  await b?.close();
});

serial('200 concurrent pushes spread over both replicas: every manifest is intact on both', async (t) => {
  const images = Array.from({ length: 200 }, (_, i) => ({ name: `spread/app${i % 10}`, tag: `v${i}`, image: makeImage({ layers: 1, layerSize: 2048 }), via: i % 2 === 0 ? a : b }));
  const queue = [...images];
  const workers = Array.from({ length: 24 }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      for (const blob of [job.image.config, ...job.image.layers]) await pushBlob(job.via.url, job.name, blob);
      const res = await putManifest(job.via.url, job.name, job.tag, job.image.manifest, OCI_MANIFEST);
      if (res.status !== 201) throw new Error(`${job.name}:${job.tag} on ${job.via.url}: ${res.status} ${await res.text()}`);
    }
  });
  await Promise.all(workers);
  for (const job of images) {
    for (const replica of [a, b]) {
      const res = await fetch(`${replica.url}/v2/${job.name}/manifests/${job.tag}`, { headers: { Accept: OCI_MANIFEST } });
      t.is(res.status, 200);
      t.true(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(job.image.manifest)), `${job.name}:${job.tag}`);
    }
  }
  // Every blob of one image reads back byte-identical through the other replica.
  const sample = images[1];
  if (!sample) throw new Error('no images');
  const layer = sample.image.layers[0] ?? new Uint8Array();
  const got = await fetch(`${a.url}/v2/${sample.name}/blobs/${sha256(layer)}`);
  t.true(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(layer)));
});

async function race(name: string, tag: string, count: number): Promise<{ digests: string[]; statuses: number[] }> {
  const images = Array.from({ length: count }, () => makeImage({ layers: 1, layerSize: 256 }));
  // The blobs first, so that the race is only about the tag.
  for (const [i, image] of images.entries()) for (const blob of [image.config, ...image.layers]) await pushBlob((i % 2 === 0 ? a : b).url, name, blob);
  const statuses = await Promise.all(images.map(async (image, i) => (await putManifest((i % 2 === 0 ? a : b).url, name, tag, image.manifest, OCI_MANIFEST)).status));
  return { digests: images.map((i) => i.digest), statuses };
}

serial('100 concurrent writes of one mutable tag: it points at one of the pushed digests, and both replicas agree', async (t) => {
  const { digests, statuses } = await race('race/mutable', 'latest', 100);
  t.true(statuses.every((s) => s === 201), String(statuses));
  const heads = await Promise.all([a, b].map(async (r) => (await fetch(`${r.url}/v2/race/mutable/manifests/latest`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).headers.get('docker-content-digest')));
  t.truthy(heads[0]);
  t.is(heads[0], heads[1]);
  t.true(digests.includes(heads[0] ?? ''));
});

serial('the same race on an immutable tag: exactly one push wins, and the tag never moves', async (t) => {
  const api = new BerthClient({ endpoint: a.url, credentials: testAdmin });
  await api.repositories.create({ repositoryName: 'race/immutable', imageTagMutability: 'IMMUTABLE' });
  const { digests, statuses } = await race('race/immutable', 'release', 40);
  t.is(statuses.filter((s) => s === 201).length, 1, String(statuses));
  const winner = digests[statuses.indexOf(201)];
  for (const r of [a, b]) {
    const res = await fetch(`${r.url}/v2/race/immutable/manifests/release`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    t.is(res.headers.get('docker-content-digest'), winner ?? null);
  }
});

serial('a chunked upload started on one replica continues and completes on the other', async (t) => {
  const data = randomBytes(11 * 1024 * 1024 + 123);
  const digest = sha256(data);
  const start = await fetch(`${a.url}/v2/handover/app/blobs/uploads/`, { method: 'POST' });
  t.is(start.status, 202);
  const onA = resolveLocation(a.url, start.headers.get('location'));
  const path = new URL(onA).pathname + new URL(onA).search;
  const cut = [0, 3 * 1024 * 1024, 9 * 1024 * 1024, data.length];
  for (let i = 0; i + 1 < cut.length; i++) {
    const from = cut[i] ?? 0;
    const to = cut[i + 1] ?? 0;
    const replica = i % 2 === 0 ? a : b;
    const res = await fetch(`${replica.url}${path}`, { method: 'PATCH', headers: { 'Content-Range': `${from}-${to - 1}`, 'Content-Type': 'application/octet-stream' }, body: data.subarray(from, to) });
    t.is(res.status, 202, `chunk ${i} on ${replica === a ? 'a' : 'b'}: ${await res.text()}`);
    t.is(res.headers.get('range'), `0-${to - 1}`);
  }
  const status = await fetch(`${a.url}${path}`);
  t.is(status.headers.get('range'), `0-${data.length - 1}`);
  const sep = path.includes('?') ? '&' : '?';
  const done = await fetch(`${b.url}${path}${sep}digest=${digest}`, { method: 'PUT' });
  t.is(done.status, 201, await done.text());
  for (const r of [a, b]) {
    const got = await fetch(`${r.url}/v2/handover/app/blobs/${digest}`);
    t.is(got.status, 200);
    t.is(sha256(Buffer.from(await got.arrayBuffer())), digest);
  }
});

serial('scheduled lifecycle runs happen on one replica at a time (a lease in PostgreSQL)', async (t) => {
  const leases = await Promise.all([a, b].map((r) => r.server.meta.tryLease('lifecycle-schedule', 'probe', 60_000)));
  // One of the replicas holds the schedule (it ran at least one tick); the probe gets nothing.
  t.deepEqual(leases, [false, false]);
});

serial('when S3 keeps failing, a push is a 500 with an error body (after retries), never a success', async (t) => {
  const { faultProxy } = await import('../support/s3.ts');
  const shared = backends.ok ? await backends.fresh('s3-down') : undefined;
  if (!shared) return t.fail('no backends');
  const proxy = await faultProxy(String(shared.config.s3Endpoint), { failEvery: 1, status: 503, code: 'SlowDown' });
  const broken = await startRegistry({ ...shared.config, s3Endpoint: proxy.url });
  t.teardown(async () => {
    await broken.close();
    await proxy.close();
  });
  const data = randomBytes(100);
  const start = await fetch(`${broken.url}/v2/down/app/blobs/uploads/`, { method: 'POST' });
  t.is(start.status, 500);
  t.is(((await start.json()) as { errors: { code: string }[] }).errors[0]?.code, 'INTERNAL_ERROR');
  t.true(proxy.failures >= 2, `S3 was retried (${proxy.failures} failures seen)`);
  t.is((await fetch(`${broken.url}/v2/down/app/blobs/${sha256(data)}`, { method: 'HEAD' })).status, 404);
});

serial('with s3RedirectSeconds, blob pulls answer 307 to a presigned URL that serves the bytes (ranges too)', async (t) => {
  const shared = backends.ok ? await backends.fresh('redirect') : undefined;
  if (!shared) return t.fail('no backends');
  // AES256 stored as plaintext here: only plaintext blobs can be redirected to (below, an
  // encrypted one is served by the registry).
  const redirecting = await startRegistry({ ...shared.config, s3RedirectSeconds: 120, registryKeyEncryption: false });
  t.teardown(() => redirecting.close());
  const data = randomBytes(300_000);
  const digest = await pushBlob(redirecting.url, 'redirect/app', data);
  const res = await fetch(`${redirecting.url}/v2/redirect/app/blobs/${digest}`, { redirect: 'manual' });
  t.is(res.status, 307);
  const location = res.headers.get('location') ?? '';
  t.regex(location, /X-Amz-Signature=/);
  t.is(res.headers.get('docker-content-digest'), digest);
  // The storage service answers the presigned URL itself; no registry credentials go there.
  const direct = await globalThis.fetch(location);
  t.is(direct.status, 200);
  t.is(sha256(Buffer.from(await direct.arrayBuffer())), digest);
  const ranged = await globalThis.fetch(location, { headers: { Range: 'bytes=10-19' } });
  t.is(ranged.status, 206);
  t.deepEqual(Buffer.from(await ranged.arrayBuffer()), data.subarray(10, 20));
  // HEAD stays on the registry (size and digest without a redirect).
  const head = await fetch(`${redirecting.url}/v2/redirect/app/blobs/${digest}`, { method: 'HEAD', redirect: 'manual' });
  t.is(head.status, 200);
  t.is(head.headers.get('content-length'), String(data.length));

  // An encrypted blob is never redirected: only the registry holds its key.
  const key = (await (await fetch(`${redirecting.url}/api/v1/kms/keys`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as { arn: string };
  const created = await fetch(`${redirecting.url}/api/v1/repositories`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ repositoryName: 'redirect/sealed', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.arn } }),
  });
  t.is(created.status, 201);
  const sealedDigest = await pushBlob(redirecting.url, 'redirect/sealed', data);
  const sealed = await fetch(`${redirecting.url}/v2/redirect/sealed/blobs/${sealedDigest}`, { redirect: 'manual' });
  t.is(sealed.status, 200);
  t.deepEqual(Buffer.from(await sealed.arrayBuffer()), data);
});
