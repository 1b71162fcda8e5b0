// The replication client against real registries: the CNCF reference registry (Debian's
// docker-registry, anonymous and with htpasswd Basic auth) and Berth itself (Bearer tokens from
// its /token realm, seen through a counting proxy). No mocks: only a silent TCP listener stands
// in for a registry that never answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import { RemoteError, RemoteRegistry, type RemoteRegistryOptions } from '../../src/replication/remote-registry.ts';
import { adminFetch, testAdmin } from '../../../test/support/auth.ts';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, descriptor, sha256 } from '../../../test/support/oci.ts';
import { freePort, startRegistry, tempDir, waitFor, type RunningRegistry } from '../../../test/support/registry.ts';
import { commandMissing, requirement } from '../../../test/support/requirements.ts';

const referenceBin = '/usr/bin/docker-registry';
// Under CI=true a missing binary fails the suite; elsewhere its tests are skipped with a log.
const reference = requirement('docker-registry', commandMissing(referenceBin, 'apt-get install docker-registry'));

// docker-registry's htpasswd accepts bcrypt only, and neither htpasswd nor a bcrypt package is
// available here: this hash of `htpasswdPassword` (cost 4, the minimum, to keep the test fast)
// was computed once with glibc's crypt(3) ($2b$, which Go's bcrypt accepts).
const htpasswdUser = 'replicator';
const htpasswdPassword = 'replication-test-password';
const htpasswdHash = '$2b$04$Xhaqyz.4cqleWvg2Ok4pf.B1imL7MyvhKOQeLpev9H4Mo7B5S08Qa';

interface Reference {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts docker-registry on a free loopback port with filesystem storage in a fresh directory. */
async function startReference(options: { htpasswd?: boolean } = {}): Promise<Reference> {
  reference.check();
  const dir = await tempDir('berth-remote-ref-');
  const storage = join(dir, 'storage');
  await mkdir(storage);
  const port = await freePort();
  const lines = ['version: 0.1', 'log:', '  level: error', '  accesslog:', '    disabled: true', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(storage)}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, `  secret: ${randomBytes(16).toString('hex')}`];
  if (options.htpasswd) {
    const file = join(dir, 'htpasswd');
    await writeFile(file, `${htpasswdUser}:${htpasswdHash}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: test', `    path: ${JSON.stringify(file)}`);
  }
  const config = join(dir, 'config.yml');
  await writeFile(config, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(referenceBin, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // /v2/ answers 200, or 401 with htpasswd, once the registry listens.
    await waitFor(async () => (await fetch(`${url}/v2/`)).status < 500, 10_000, () => `docker-registry did not start:\n${output}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** A client closed when the test ends. */
function client(t: ExecutionContext, options: RemoteRegistryOptions): RemoteRegistry {
  const remote = new RemoteRegistry(options);
  t.teardown(() => remote.close());
  return remote;
}

/** Streams a buffer in 64 KiB chunks, as a file or a storage backend would. */
function chunked(data: Uint8Array): () => Promise<NodeJS.ReadableStream> {
  return async () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < data.byteLength; i += 64 * 1024) yield Buffer.from(data.buffer, data.byteOffset + i, Math.min(64 * 1024, data.byteLength - i));
      })(),
    );
}

interface Image {
  readonly layer: Buffer;
  readonly config: Buffer;
  readonly manifest: Buffer;
}

function image(layerSize: number): Image {
  const layer = randomBytes(layerSize);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [descriptor(OCI_LAYER, layer)] }));
  return { layer, config, manifest };
}

async function pushImage(remote: RemoteRegistry, repository: string, tag: string, img: Image): Promise<void> {
  for (const blob of [img.layer, img.config]) await remote.pushBlob(repository, sha256(blob), blob.byteLength, chunked(blob));
  await remote.putManifest(repository, tag, OCI_MANIFEST, img.manifest);
}

/** Reads an image back over plain HTTP and compares it byte for byte. */
async function verifyImage(t: ExecutionContext, get: typeof fetch, base: string, repository: string, tag: string, img: Image): Promise<void> {
  const manifest = await get(`${base}/v2/${repository}/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } });
  t.is(manifest.status, 200);
  t.deepEqual(Buffer.from(await manifest.arrayBuffer()), img.manifest);
  for (const blob of [img.layer, img.config]) {
    const res = await get(`${base}/v2/${repository}/blobs/${sha256(blob)}`);
    t.is(res.status, 200);
    t.is(sha256(Buffer.from(await res.arrayBuffer())), sha256(blob));
  }
}

let anonymousRef: Reference | undefined;
let basicRef: Reference | undefined;

test.before(async () => {
  if (reference.skipped) return;
  [anonymousRef, basicRef] = await Promise.all([startReference(), startReference({ htpasswd: true })]);
});

test.after.always(async () => {
  await Promise.all([anonymousRef?.stop(), basicRef?.stop()]);
});

function refUrl(which: Reference | undefined): string {
  reference.check();
  if (!which) throw new Error('the reference registry did not start');
  return which.url;
}

reference.test('reference registry: streamed 5 MiB blob, config and OCI manifest by tag, read back byte for byte', async (t) => {
  const url = refUrl(anonymousRef);
  const remote = client(t, { endpoint: url });
  const img = image(5 * 1024 * 1024);
  t.false(await remote.blobExists('team/app', sha256(img.layer)));
  t.is(await remote.manifestDigest('team/app', 'v1'), undefined);
  await pushImage(remote, 'team/app', 'v1', img);
  t.true(await remote.blobExists('team/app', sha256(img.layer)));
  t.true(await remote.blobExists('team/app', sha256(img.config)));
  t.false(await remote.blobExists('team/app', sha256(randomBytes(8))));
  t.is(await remote.manifestDigest('team/app', 'v1'), sha256(img.manifest));
  t.is(await remote.manifestDigest('team/app', sha256(img.manifest)), sha256(img.manifest));
  await verifyImage(t, fetch, url, 'team/app', 'v1', img);
});

reference.test('reference registry: a manifest whose blob is missing fails with MANIFEST_BLOB_UNKNOWN, not retryable', async (t) => {
  const remote = client(t, { endpoint: refUrl(anonymousRef) });
  const img = image(1024);
  // Only the config is pushed; the layer is not.
  await remote.pushBlob('team/broken', sha256(img.config), img.config.byteLength, chunked(img.config));
  const err = await t.throwsAsync(remote.putManifest('team/broken', 'v1', OCI_MANIFEST, img.manifest), { instanceOf: RemoteError });
  t.is(err?.code, 'MANIFEST_BLOB_UNKNOWN');
  t.is(err?.status, 400);
  t.false(err?.retryable);
  t.is(await remote.manifestDigest('team/broken', 'v1'), undefined);
});

reference.test('reference registry: mountBlob links a blob from another repository; an unknown digest is not mounted', async (t) => {
  const remote = client(t, { endpoint: refUrl(anonymousRef) });
  const blob = randomBytes(64 * 1024);
  await remote.pushBlob('mount/a', sha256(blob), blob.byteLength, chunked(blob));
  t.false(await remote.blobExists('mount/b', sha256(blob)));
  t.true(await remote.mountBlob('mount/b', sha256(blob), 'mount/a'));
  t.true(await remote.blobExists('mount/b', sha256(blob)));
  t.false(await remote.mountBlob('mount/b', sha256(randomBytes(8)), 'mount/a'));
});

reference.test('reference registry: a failing source stream aborts the upload and rejects with its error', async (t) => {
  const remote = client(t, { endpoint: refUrl(anonymousRef) });
  const blob = randomBytes(2 * 1024 * 1024);
  const broken = new Error('disk read failed');
  const open = async (): Promise<NodeJS.ReadableStream> =>
    Readable.from(
      (async function* () {
        yield blob.subarray(0, 1024 * 1024);
        throw broken;
      })(),
    );
  const err = await t.throwsAsync(remote.pushBlob('team/aborted', sha256(blob), blob.byteLength, open));
  t.is(err, broken);
  t.false(await remote.blobExists('team/aborted', sha256(blob)));
  // A stream shorter than the declared size is refused too, not sent as a truncated blob.
  await t.throwsAsync(remote.pushBlob('team/aborted', sha256(blob), blob.byteLength + 1, chunked(blob)), { message: /expected/ });
  // The client still works afterwards (the aborted sockets were not pooled).
  await remote.pushBlob('team/aborted', sha256(blob), blob.byteLength, chunked(blob));
  t.true(await remote.blobExists('team/aborted', sha256(blob)));
});

// Serial: AVA runs serial tests before the concurrent ones, so no other test allocates meanwhile.
reference.serial('reference registry: a 64 MiB blob is streamed, not buffered', async (t) => {
  const remote = client(t, { endpoint: refUrl(anonymousRef) });
  // 64 views of one 1 MiB buffer: the source allocates nothing, so any growth is the client's.
  const unit = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  for (let i = 0; i < 64; i++) hash.update(unit);
  const digest = `sha256:${hash.digest('hex')}`;
  const open = async (): Promise<NodeJS.ReadableStream> =>
    Readable.from(
      (function* () {
        for (let i = 0; i < 64 * 16; i++) yield unit.subarray((i % 16) * 65536, (i % 16) * 65536 + 65536);
      })(),
    );
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
  try {
    await remote.pushBlob('team/big', digest, 64 * 1024 * 1024, open);
  } finally {
    clearInterval(sampler);
  }
  t.log(`buffer memory grew by ${((peak - baseline) / 1024 / 1024).toFixed(1)} MiB during the upload`);
  t.true(peak - baseline < 16 * 1024 * 1024);
  t.true(await remote.blobExists('team/big', digest));
});

reference.test('reference registry with htpasswd: Basic after the challenge; wrong or missing credentials are AUTH_FAILED', async (t) => {
  const url = refUrl(basicRef);
  const remote = client(t, { endpoint: url, username: htpasswdUser, password: htpasswdPassword });
  const img = image(256 * 1024);
  await pushImage(remote, 'secure/app', 'v1', img);
  t.is(await remote.manifestDigest('secure/app', 'v1'), sha256(img.manifest));
  const basic = `Basic ${Buffer.from(`${htpasswdUser}:${htpasswdPassword}`).toString('base64')}`;
  const authed: typeof fetch = (input, init = {}) => fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: basic } });
  await verifyImage(t, authed, url, 'secure/app', 'v1', img);

  const wrong = client(t, { endpoint: url, username: htpasswdUser, password: 'not-the-password' });
  const refused = await t.throwsAsync(wrong.blobExists('secure/app', sha256(img.layer)), { instanceOf: RemoteError });
  t.is(refused?.code, 'AUTH_FAILED');
  t.is(refused?.status, 401);
  t.false(refused?.retryable);

  const anonymous = client(t, { endpoint: url });
  const none = await t.throwsAsync(anonymous.manifestDigest('secure/app', 'v1'), { instanceOf: RemoteError });
  t.is(none?.code, 'AUTH_FAILED');
  t.false(none?.retryable);
});

reference.test('a stopped registry is UNREACHABLE and retryable', async (t) => {
  const ref = await startReference();
  t.teardown(() => ref.stop());
  const remote = client(t, { endpoint: ref.url });
  // A first request leaves a pooled keep-alive socket behind.
  t.false(await remote.blobExists('team/app', sha256('x')));
  await ref.stop();
  const err = await t.throwsAsync(remote.blobExists('team/app', sha256('x')), { instanceOf: RemoteError });
  t.is(err?.code, 'UNREACHABLE');
  t.is(err?.status, undefined);
  t.true(err?.retryable);
});

test('a registry that never answers times out, retryable', async (t) => {
  // Accepts connections and says nothing.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as net.AddressInfo;
  const remote = client(t, { endpoint: `http://127.0.0.1:${port}`, timeoutMs: 300 });
  const err = await t.throwsAsync(remote.manifestDigest('team/app', 'v1'), { instanceOf: RemoteError });
  t.is(err?.code, 'TIMEOUT');
  t.true(err?.retryable);
});

// ---------------------------------------------------------------------------------------------
// Berth: Bearer tokens from its /token realm
// ---------------------------------------------------------------------------------------------

interface CountingProxy {
  readonly url: string;
  readonly counts: { token: number; unauthorized: number; requests: number };
  close(): Promise<void>;
}

/**
 * Forwards everything to Berth, Host header included, so the realm Berth advertises points back
 * through the proxy and every token request is seen.
 */
async function countingProxy(target: RunningRegistry): Promise<CountingProxy> {
  const counts = { token: 0, unauthorized: 0, requests: 0 };
  const [host, port] = target.host.split(':') as [string, string];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    counts.requests++;
    if (req.url?.startsWith('/token')) counts.token++;
    const upstream = http.request({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      if (up.statusCode === 401) counts.unauthorized++;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${own}`,
    counts,
    close: () => {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('Berth: a Bearer token from the realm, reused for later requests of the same repository', async (t) => {
  const berth = await startRegistry();
  t.teardown(() => berth.close());
  const proxy = await countingProxy(berth);
  t.teardown(() => proxy.close());
  const remote = client(t, { endpoint: proxy.url, username: testAdmin.accessKeyId, password: testAdmin.secretAccessKey });
  const img = image(5 * 1024 * 1024);

  t.false(await remote.blobExists('replicated/app', sha256(img.layer)));
  // One challenge, one token; everything after carries the token from the start.
  t.is(proxy.counts.unauthorized, 1);
  t.is(proxy.counts.token, 1);
  await pushImage(remote, 'replicated/app', 'v1', img);
  t.true(await remote.blobExists('replicated/app', sha256(img.layer)));
  t.is(await remote.manifestDigest('replicated/app', 'v1'), sha256(img.manifest));
  t.is(proxy.counts.unauthorized, 1);
  t.is(proxy.counts.token, 1);
  await verifyImage(t, adminFetch, berth.url, 'replicated/app', 'v1', img);

  // A mount needs pull on the source as well: a token for both scopes.
  t.true(await remote.mountBlob('replicated/other', sha256(img.layer), 'replicated/app'));
  t.true(await remote.blobExists('replicated/other', sha256(img.layer)));
  t.is(proxy.counts.token, 3);

  // Berth's own error codes come through.
  const err = await t.throwsAsync(remote.putManifest('replicated/app', 'v2', OCI_MANIFEST, Buffer.from('{"schemaVersion":2,')), { instanceOf: RemoteError });
  t.is(err?.code, 'MANIFEST_INVALID');
  t.false(err?.retryable);
});

test('Berth: a wrong secret is AUTH_FAILED at the token realm', async (t) => {
  const berth = await startRegistry();
  t.teardown(() => berth.close());
  const remote = client(t, { endpoint: berth.url, username: testAdmin.accessKeyId, password: 'wrong-secret-0123456789-wrong-secret' });
  const err = await t.throwsAsync(remote.blobExists('replicated/app', sha256('x')), { instanceOf: RemoteError });
  t.is(err?.code, 'AUTH_FAILED');
  t.false(err?.retryable);
});
