// Replication end to end over real HTTP between real registries: Berth to Berth (images, a
// multi-architecture index and a signature referrer arrive byte-identical; filters; no chaining;
// REPLICATION creation templates; an immutable tag at the destination; the destination down
// during pushes and the source restarted, then everything completes once, without duplicates)
// and Berth to the CNCF reference registry (Debian's docker-registry) as a foreign destination.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';
import { descriptor, makeImage, OCI_INDEX, OCI_MANIFEST, pushImage, putManifest, sha256, expectStatus, OCI_EMPTY, pushBlob, type TestImage } from '../../../test/support/oci.ts';
import { startRegistry, tempDir, type RunningRegistry } from '../../../test/support/registry.ts';
import { commandMissing, requirement } from '../../../test/support/requirements.ts';
import { startReference, type ReferenceBinary } from '../../../test/bench/reference-registry.ts';
import type { RunningRegistry as ReferenceRegistry } from '../../../test/bench/servers.ts';
import { runCommand } from '../../../test/bench/children.ts';

// Retries come quickly here; the backoff itself is checked by its own unit test.
const fast = { replicationRetrySeconds: 0.05 };

async function api(reg: RunningRegistry, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${reg.url}/api/v1${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function mustApi(t: ExecutionContext, reg: RunningRegistry, method: string, path: string, body: unknown, status: number): Promise<any> {
  const r = await api(reg, method, path, body);
  t.is(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const toBerth = (endpoint: string) => ({ endpoint, registryId: 'dest', username: testAdmin.accessKeyId, password: testAdmin.secretAccessKey });

async function status(reg: RunningRegistry, repo: string, digest: string): Promise<{ status: string; failureCode?: string; attempts: number; endpoint: string }[]> {
  const r = await api(reg, 'GET', `/repositories/${encodeURIComponent(repo)}/images/replication-status?imageDigest=${encodeURIComponent(digest)}`);
  if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.replicationStatuses;
}

/** Waits until every destination of the image is COMPLETE (or fails the test with what it saw). */
async function settled(reg: RunningRegistry, repo: string, digest: string, timeoutMs = 30_000): Promise<{ status: string; failureCode?: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(reg, repo, digest);
    if (s.length > 0 && s.every((x) => x.status !== 'IN_PROGRESS')) return s;
    if (Date.now() > deadline) throw new Error(`replication of ${repo}@${digest} did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function manifestBytes(base: string, repo: string, reference: string, auth = true): Promise<{ status: number; bytes: Buffer; digest: string | null }> {
  const headers = { Accept: [OCI_MANIFEST, OCI_INDEX].join(', ') };
  const res = auth ? await fetch(`${base}/v2/${repo}/manifests/${reference}`, { headers }) : await globalThis.fetch(`${base}/v2/${repo}/manifests/${reference}`, { headers });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), digest: res.headers.get('docker-content-digest') };
}

async function blobBytes(base: string, repo: string, digest: string, auth = true): Promise<Buffer> {
  const res = auth ? await fetch(`${base}/v2/${repo}/blobs/${digest}`) : await globalThis.fetch(`${base}/v2/${repo}/blobs/${digest}`);
  if (res.status !== 200) throw new Error(`blob ${repo}@${digest}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function expectImage(t: ExecutionContext, base: string, repo: string, image: TestImage, tag: string | undefined, auth = true): Promise<void> {
  const m = await manifestBytes(base, repo, image.digest, auth);
  t.is(m.status, 200, `${repo}@${image.digest} at the destination`);
  t.true(m.bytes.equals(Buffer.from(image.manifest)), `${repo}: manifest byte-identical`);
  for (const blob of [image.config, ...image.layers]) t.true((await blobBytes(base, repo, sha256(blob), auth)).equals(Buffer.from(blob)), `${repo}: blob byte-identical`);
  if (tag !== undefined) t.is((await manifestBytes(base, repo, tag, auth)).digest, image.digest, `${repo}:${tag} at the destination`);
}

/** A TCP forwarder in front of a registry, which the test can take down and bring back on the same port. */
class Gate {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  /** Bytes forwarded towards the registry (requests), since the counter was last reset. */
  sent = 0;
  private readonly target: number;

  constructor(target: number) {
    this.target = target;
  }

  async open(): Promise<void> {
    const server = createTcpServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        this.sent += chunk.length;
      });
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

// ---------------------------------------------------------------------------------------------

test('Berth to Berth: images, a multi-architecture index and a referrer arrive byte-identical; filters, templates and immutable tags are respected', async (t) => {
  const dest = await startRegistry();
  const source = await startRegistry(fast);
  t.teardown(() => Promise.all([source.close(), dest.close()]));

  // Pushed before any configuration: never replicated.
  const early = makeImage();
  await pushImage(source.url, 'prod/early', 'v1', early);

  // The destination gives repositories that replication creates under prod/ immutable tags.
  await mustApi(t, dest, 'POST', '/repository-creation-templates', { prefix: 'prod', appliedFor: ['REPLICATION'], imageTagMutability: 'IMMUTABLE', resourceTags: { via: 'replication' } }, 201);
  await mustApi(t, source, 'PUT', '/registry/replication-configuration', {
    rules: [
      { name: 'prod', destinations: [toBerth(dest.url)], repositoryFilters: [{ filter: 'prod/', filterType: 'PREFIX_MATCH' }] },
      { destinations: [toBerth(dest.url)], repositoryFilters: [{ filter: 'team-*/release', filterType: 'WILDCARD' }] },
    ],
  }, 200);
  const config = await mustApi(t, source, 'GET', '/registry/replication-configuration', undefined, 200);
  t.deepEqual(config.rules.map((r: { name: string }) => r.name), ['prod', 'rule-2']);
  t.false(JSON.stringify(config).includes(testAdmin.secretAccessKey), 'the password is never returned');

  // A plain image, by tag.
  const app = makeImage({ layers: 3, layerSize: 300_000 });
  await pushImage(source.url, 'prod/app', 'v1', app);
  // A multi-architecture index: children by digest, then the index by tag.
  const amd = makeImage({ platform: { architecture: 'amd64', os: 'linux' } });
  const arm = makeImage({ platform: { architecture: 'arm64', os: 'linux' } });
  await pushImage(source.url, 'prod/multi', amd.digest, amd);
  await pushImage(source.url, 'prod/multi', arm.digest, arm);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...descriptor(OCI_MANIFEST, amd.manifest), platform: { architecture: 'amd64', os: 'linux' } },
        { ...descriptor(OCI_MANIFEST, arm.manifest), platform: { architecture: 'arm64', os: 'linux' } },
      ],
    }),
  );
  await expectStatus(await putManifest(source.url, 'prod/multi', 'latest', index, OCI_INDEX), 201, 'index');
  // A signature for the app image (an artifact whose subject is the image), pushed by digest.
  const empty = Buffer.from('{}');
  const sigLayer = randomBytes(500);
  await pushBlob(source.url, 'prod/app', empty);
  await pushBlob(source.url, 'prod/app', sigLayer);
  const signature = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: descriptor(OCI_EMPTY, empty),
      layers: [descriptor('application/vnd.dev.cosign.simplesigning.v1+json', sigLayer)],
      subject: descriptor(OCI_MANIFEST, app.manifest),
    }),
  );
  await expectStatus(await putManifest(source.url, 'prod/app', sha256(signature), signature, OCI_MANIFEST), 201, 'signature');
  // Matched by the WILDCARD rule; not matched by any rule.
  const team = makeImage();
  await pushImage(source.url, 'team-a/release', 'r1', team);
  const dev = makeImage();
  await pushImage(source.url, 'dev/tool', 'v1', dev);

  for (const [repo, digest] of [
    ['prod/app', app.digest],
    ['prod/app', sha256(signature)],
    ['prod/multi', sha256(index)],
    ['team-a/release', team.digest],
  ] as const) {
    const s = await settled(source, repo, digest);
    t.deepEqual(s.map((x) => x.status), ['COMPLETE'], `${repo}@${digest}: ${JSON.stringify(s)}`);
  }
  t.deepEqual(await status(source, 'dev/tool', dev.digest), [], 'no rule matches dev/tool: nothing recorded');

  await expectImage(t, dest.url, 'prod/app', app, 'v1');
  await expectImage(t, dest.url, 'prod/multi', amd, undefined);
  await expectImage(t, dest.url, 'prod/multi', arm, undefined);
  const gotIndex = await manifestBytes(dest.url, 'prod/multi', 'latest');
  t.true(gotIndex.bytes.equals(index), 'the index arrives byte-identical, under its tag');
  t.true((await manifestBytes(dest.url, 'prod/app', sha256(signature))).bytes.equals(signature), 'the signature arrives byte-identical');
  const referrers = await (await fetch(`${dest.url}/v2/prod/app/referrers/${app.digest}`)).json();
  t.deepEqual((referrers as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sha256(signature)], 'the referrers API at the destination lists it');
  await expectImage(t, dest.url, 'team-a/release', team, 'r1');
  t.is((await manifestBytes(dest.url, 'dev/tool', dev.digest)).status, 404, 'filters respected: dev/tool is not replicated');
  t.is((await manifestBytes(dest.url, 'prod/early', early.digest)).status, 404, 'pushed before the configuration: not replicated');

  // The REPLICATION template made the destination's prod/ repositories immutable; team-a/release
  // (no REPLICATION template matches) has default settings.
  t.is((await mustApi(t, dest, 'GET', `/repositories/${encodeURIComponent('prod/app')}`, undefined, 200)).imageTagMutability, 'IMMUTABLE');
  t.is((await mustApi(t, dest, 'GET', `/repositories/${encodeURIComponent('team-a/release')}`, undefined, 200)).imageTagMutability, 'MUTABLE');

  // An immutable tag at the destination: a new image for prod/app:v1 arrives without that tag.
  const app2 = makeImage();
  await pushImage(source.url, 'prod/app', 'v1', app2);
  t.deepEqual((await settled(source, 'prod/app', app2.digest)).map((x) => x.status), ['COMPLETE']);
  await expectImage(t, dest.url, 'prod/app', app2, undefined);
  t.is((await manifestBytes(dest.url, 'prod/app', 'v1')).digest, app.digest, 'the immutable tag still names the first image there');

  // The destination's password was unsealed once, for the one client every image went through.
  const registryKey = await source.server.keys.defaultRegistryKey();
  const audit = await mustApi(t, source, 'GET', `/kms/keys/${registryKey.keyId}/audit?maxResults=1000`, undefined, 200);
  const unsealed = (audit.items as { operation: string; encryptionContextKeys: string[] }[]).filter((r) => r.operation === 'Decrypt' && r.encryptionContextKeys.includes('destination'));
  t.is(unsealed.length, 1, 'one KMS Decrypt of the credentials for seven replicated images');
});

test('no chaining: images replicated into B are not replicated onward by B; B replicates its own pushes', async (t) => {
  const c = await startRegistry();
  const b = await startRegistry(fast);
  const a = await startRegistry(fast);
  t.teardown(() => Promise.all([a.close(), b.close(), c.close()]));
  await mustApi(t, a, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [toBerth(b.url)] }] }, 200);
  await mustApi(t, b, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [toBerth(c.url)] }] }, 200);
  const fromA = makeImage();
  await pushImage(a.url, 'chain/a', 'v1', fromA);
  t.deepEqual((await settled(a, 'chain/a', fromA.digest)).map((x) => x.status), ['COMPLETE']);
  await expectImage(t, b.url, 'chain/a', fromA, 'v1');
  t.deepEqual(await status(b, 'chain/a', fromA.digest), [], 'B recorded no onward replication');
  const fromB = makeImage();
  await pushImage(b.url, 'chain/b', 'v1', fromB);
  t.deepEqual((await settled(b, 'chain/b', fromB.digest)).map((x) => x.status), ['COMPLETE']);
  await expectImage(t, c.url, 'chain/b', fromB, 'v1');
  t.is((await manifestBytes(c.url, 'chain/a', fromA.digest)).status, 404, 'C never received what B got by replication');
});

test('destination down during pushes, source restarted meanwhile: everything completes once it is back, without duplicates', async (t) => {
  const dest = await startRegistry();
  const gate = new Gate(Number(new URL(dest.url).port));
  await gate.open();
  const dataDir = await tempDir();
  let source = await startRegistry({ ...fast, dataDir });
  t.teardown(async () => {
    await gate.close();
    await source.close();
    await dest.close();
  });
  await mustApi(t, source, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [toBerth(`http://127.0.0.1:${gate.port}`)] }] }, 200);
  await gate.close();

  const images = Array.from({ length: 6 }, () => makeImage({ layers: 2, layerSize: 50_000 }));
  const shared = makeImage({ layers: 1 });
  for (const [i, image] of images.entries()) await pushImage(source.url, `down/r${i % 3}`, `t${i}`, image);
  // One image pushed under two tags in two pushes: one task, both tags.
  await pushImage(source.url, 'down/r0', 'one', shared);
  await pushImage(source.url, 'down/r0', 'two', shared);

  // Attempts fail while the destination is unreachable; the tasks stay IN_PROGRESS with a code.
  const deadline = Date.now() + 10_000;
  let seen: Awaited<ReturnType<typeof status>> = [];
  while (Date.now() < deadline) {
    seen = await status(source, 'down/r0', (images[0] as TestImage).digest);
    if (seen[0] && seen[0].attempts >= 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  t.is(seen[0]?.status, 'IN_PROGRESS');
  t.is(seen[0]?.failureCode, 'UNREACHABLE', JSON.stringify(seen));
  t.true((seen[0]?.attempts ?? 0) >= 2, 'retried');

  // The source restarts with everything still pending; then the destination comes back.
  await source.close({ keepData: true });
  source = await startRegistry({ ...fast, dataDir });
  await gate.open();
  for (const [i, image] of images.entries()) {
    t.deepEqual((await settled(source, `down/r${i % 3}`, image.digest, 60_000)).map((x) => x.status), ['COMPLETE']);
    await expectImage(t, dest.url, `down/r${i % 3}`, image, `t${i}`);
  }
  t.deepEqual((await settled(source, 'down/r0', shared.digest)).map((x) => x.status), ['COMPLETE']);
  // Exactly what was pushed: no duplicate images, no stray tags.
  for (const r of [0, 1, 2]) {
    const list = await mustApi(t, dest, 'GET', `/repositories/${encodeURIComponent(`down/r${r}`)}/images`, undefined, 200);
    const expected = images.filter((_, i) => i % 3 === r).map((i) => i.digest);
    if (r === 0) expected.push(shared.digest);
    t.deepEqual(list.imageDetails.map((d: { imageDigest: string }) => d.imageDigest).sort(), expected.sort(), `down/r${r}: each image once`);
    const tags = await (await fetch(`${dest.url}/v2/down/r${r}/tags/list`)).json();
    const expectedTags = images.flatMap((_, i) => (i % 3 === r ? [`t${i}`] : []));
    if (r === 0) expectedTags.push('one', 'two');
    t.deepEqual((tags as { tags: string[] }).tags.sort(), expectedTags.sort());
  }
});

test('a layer the destination already holds in another repository is mounted there, not sent again', async (t) => {
  const dest = await startRegistry();
  const gate = new Gate(Number(new URL(dest.url).port));
  await gate.open();
  const source = await startRegistry(fast);
  t.teardown(async () => {
    await gate.close();
    await source.close();
    await dest.close();
  });
  await mustApi(t, source, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [toBerth(`http://127.0.0.1:${gate.port}`)] }] }, 200);
  const first = makeImage({ layers: 3, layerSize: 400_000 });
  await pushImage(source.url, 'mount/a', 'v1', first);
  t.deepEqual((await settled(source, 'mount/a', first.digest)).map((x) => x.status), ['COMPLETE']);
  t.true(gate.sent > 1_200_000, `the first copy sends the layers (${gate.sent} bytes)`);
  // The same layers under another configuration, in another repository.
  const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: first.layers.map((l) => sha256(l)) } }));
  const manifest = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(first.manifest).toString('utf8')), config: descriptor('application/vnd.oci.image.config.v1+json', config) }));
  const second: TestImage = { config, layers: first.layers, manifest, digest: sha256(manifest) };
  gate.sent = 0;
  await pushImage(source.url, 'mount/b', 'v1', second);
  t.deepEqual((await settled(source, 'mount/b', second.digest)).map((x) => x.status), ['COMPLETE']);
  t.true(gate.sent < 200_000, `the second copy mounts the layers instead of sending them (${gate.sent} bytes sent)`);
  await expectImage(t, dest.url, 'mount/b', second, 'v1');
});

test('configuration validation: limits, names, credentials, filters', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const dest = { endpoint: 'http://127.0.0.1:1' };
  const tooMany = await api(reg, 'PUT', '/registry/replication-configuration', { rules: Array.from({ length: 11 }, () => ({ destinations: [dest] })) });
  t.is(tooMany.status, 400);
  t.is(tooMany.body.field, 'rules');
  const destinations = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: Array.from({ length: 26 }, (_, i) => ({ endpoint: `http://127.0.0.1:${i + 1}` })) }] });
  t.is(destinations.status, 400);
  t.is(destinations.body.field, 'rules.0.destinations');
  const filters = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [dest], repositoryFilters: Array.from({ length: 101 }, () => ({ filter: 'a', filterType: 'PREFIX_MATCH' })) }] });
  t.is(filters.status, 400);
  t.is(filters.body.field, 'rules.0.repositoryFilters');
  const badType = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [dest], repositoryFilters: [{ filter: 'a', filterType: 'REGEX' }] }] });
  t.is(badType.status, 400);
  const badEndpoint = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [{ endpoint: 'ftp://x' }] }] });
  t.is(badEndpoint.status, 400);
  t.is(badEndpoint.body.field, 'rules.0.destinations.0.endpoint');
  const dupNames = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ name: 'x', destinations: [dest] }, { name: 'x', destinations: [dest] }] });
  t.is(dupNames.status, 400);
  t.is(dupNames.body.field, 'rules.1.name');
  const noUser = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [{ ...dest, password: 'p' }] }] });
  t.is(noUser.status, 400);
  const noPassword = await api(reg, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [{ ...dest, username: 'u' }] }] });
  t.is(noPassword.status, 400);
  t.is(noPassword.body.field, 'rules.0.destinations.0.password');
  t.is((await api(reg, 'GET', '/registry/replication-configuration')).status, 404);

  // Rules one by one: separate owners never overwrite each other; the total limit still holds.
  await mustApi(t, reg, 'POST', '/registry/replication-rules', { name: 'one', destinations: [{ ...dest, username: 'u', password: 'secret-1' }] }, 201);
  await mustApi(t, reg, 'POST', '/registry/replication-rules', { name: 'two', destinations: [dest], repositoryFilters: [{ filter: 'x/*', filterType: 'WILDCARD' }] }, 201);
  t.is((await api(reg, 'POST', '/registry/replication-rules', { name: 'two', destinations: [dest] })).status, 409);
  const updated = await mustApi(t, reg, 'PATCH', '/registry/replication-rules/one', { repositoryFilters: [{ filter: 'p', filterType: 'PREFIX_MATCH' }] }, 200);
  t.is(updated.version, 2);
  t.deepEqual(updated.destinations, [{ ...dest, username: 'u' }], 'the password is kept (and not shown)');
  const listed = await mustApi(t, reg, 'GET', '/registry/replication-rules', undefined, 200);
  t.deepEqual(listed.items.map((r: { name: string }) => r.name), ['one', 'two']);
  t.false(JSON.stringify(listed).includes('secret-1'));
  for (let i = 3; i <= 10; i++) await mustApi(t, reg, 'POST', '/registry/replication-rules', { name: `r${i}`, destinations: [dest] }, 201);
  const eleventh = await api(reg, 'POST', '/registry/replication-rules', { name: 'r11', destinations: [dest] });
  t.is(eleventh.status, 400);
  t.is(eleventh.body.code, 'LimitExceeded');
  await mustApi(t, reg, 'DELETE', '/registry/replication-rules/two', undefined, 204);
  t.is((await api(reg, 'GET', '/registry/replication-rules/two')).status, 404);
  t.is((await mustApi(t, reg, 'GET', '/registry/replication-configuration', undefined, 200)).rules.length, 9);
  // The stored password is sealed under the registry KMS key: not in the metadata as text.
  const stored = await reg.server.meta.getDocument('replication-configuration', 'registry');
  t.truthy(stored);
  t.false(stored?.body.includes('secret-1'), 'no plaintext password in the metadata');
  t.true(stored?.body.includes('sealedPassword'), 'the sealed form is what is kept');
  // Deleting every rule one by one leaves no configuration behind.
  for (const name of ['one', ...Array.from({ length: 8 }, (_, i) => `r${i + 3}`)]) await mustApi(t, reg, 'DELETE', `/registry/replication-rules/${name}`, undefined, 204);
  t.is((await api(reg, 'GET', '/registry/replication-configuration')).status, 404);
});

// ---------------------------------------------------------------------------------------------
// A foreign destination: the CNCF reference registry.

const referencePath = '/usr/bin/docker-registry';
const reference = requirement('docker-registry', commandMissing(referencePath, 'apt-get install docker-registry'));

reference.test('Berth to the CNCF reference registry: images and an index arrive byte-identical', async (t) => {
  const path = referencePath;
  const version = await runCommand(path, ['--version'], { timeoutMs: 10_000 });
  const binary: ReferenceBinary = { path, version: version.stdout.trim() };
  const work = await tempDir('reference-');
  const foreign: ReferenceRegistry = await startReference(binary, work);
  const source = await startRegistry(fast);
  t.teardown(async () => {
    await source.close();
    await foreign.stop();
  });
  await mustApi(t, source, 'PUT', '/registry/replication-configuration', { rules: [{ destinations: [{ endpoint: foreign.url }] }] }, 200);
  const image = makeImage({ layers: 2, layerSize: 1_000_000 });
  await pushImage(source.url, 'foreign/app', 'v1', image);
  const amd = makeImage({ platform: { architecture: 'amd64', os: 'linux' } });
  const arm = makeImage({ platform: { architecture: 'arm64', os: 'linux' } });
  await pushImage(source.url, 'foreign/multi', amd.digest, amd);
  await pushImage(source.url, 'foreign/multi', arm.digest, arm);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor(OCI_MANIFEST, amd.manifest), descriptor(OCI_MANIFEST, arm.manifest)] }));
  await expectStatus(await putManifest(source.url, 'foreign/multi', 'latest', index, OCI_INDEX), 201, 'index');
  t.deepEqual((await settled(source, 'foreign/app', image.digest)).map((x) => x.status), ['COMPLETE']);
  t.deepEqual((await settled(source, 'foreign/multi', sha256(index))).map((x) => x.status), ['COMPLETE']);
  await expectImage(t, foreign.url, 'foreign/app', image, 'v1', false);
  await expectImage(t, foreign.url, 'foreign/multi', amd, undefined, false);
  t.true((await manifestBytes(foreign.url, 'foreign/multi', 'latest', false)).bytes.equals(index));
});
