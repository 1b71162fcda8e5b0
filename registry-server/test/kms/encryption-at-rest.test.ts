// Encryption at rest, end to end over real HTTP: blobs pushed to KMS- and AES256-encrypted
// repositories never reach the disk as plaintext (every file under the data directory is
// scanned), come back byte-identical (whole and by range), follow their KMS keys' states
// (disable, scheduled deletion, destruction), stay readable through any key that wraps them,
// refuse tampered ciphertext, and survive chunked uploads across a restart. The KMS API itself
// (encrypt, decrypt, data keys, audit, authorization) and the repository rules are checked too.
import test, { type ExecutionContext } from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BerthClient } from '../../src/client/client.ts';
import { encryptedSize } from '../../src/crypto/chunked-aead.ts';
import { readBlobHeader } from '../../src/kms/envelope.ts';
import { storageName, vaultKinds } from '../../src/registry/blob-vault.ts';
import { adminFetch as fetch, basicAuth, testAdmin } from '../../../test/support/auth.ts';
import { descriptor, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, pushBlob, putManifest, resolveLocation, sha256 } from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const chunk = 256 * KiB;
const day = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Helpers: the management API, pushes of every kind, pulls, the stored form of a blob.

interface ApiReply {
  status: number;
  body: any;
  headers: Headers;
}

async function api(reg: RunningRegistry, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiReply> {
  const res = await fetch(`${reg.url}/api/v1${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

async function mustApi(t: ExecutionContext, reg: RunningRegistry, method: string, path: string, body: unknown, status: number): Promise<any> {
  const r = await api(reg, method, path, body);
  if (r.status !== status) t.fail(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

interface KeyRep {
  keyId: string;
  arn: string;
  keyState: string;
  currentKeyVersion: number;
  version: number;
  [k: string]: unknown;
}

async function createKey(t: ExecutionContext, reg: RunningRegistry, input: Record<string, unknown> = {}): Promise<KeyRep> {
  return mustApi(t, reg, 'POST', '/kms/keys', { description: t.title.slice(0, 100), ...input }, 201);
}

async function setEnabled(t: ExecutionContext, reg: RunningRegistry, keyId: string, enabled: boolean): Promise<KeyRep> {
  const k = (await mustApi(t, reg, 'PATCH', `/kms/keys/${keyId}`, { enabled }, 200)) as KeyRep;
  t.is(k.keyState, enabled ? 'Enabled' : 'Disabled');
  return k;
}

async function createRepo(t: ExecutionContext, reg: RunningRegistry, name: string, encryptionConfiguration?: Record<string, unknown>): Promise<any> {
  return mustApi(t, reg, 'POST', '/repositories', { repositoryName: name, ...(encryptionConfiguration ? { encryptionConfiguration } : {}) }, 201);
}

async function ok(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${await res.text()}`);
  return res;
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

async function startUpload(reg: RunningRegistry, name: string): Promise<string> {
  const res = await ok(await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' }), 202, `start upload to ${name}`);
  return resolveLocation(reg.url, res.headers.get('location'));
}

/** One request: POST ?digest= with the whole body. */
async function pushMonolithic(reg: RunningRegistry, name: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  await ok(await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: data }), 201, 'monolithic push');
  return digest;
}

/** POST, one streamed PATCH (no Content-Range), then PUT ?digest= without a body. */
async function pushPostPatchPut(reg: RunningRegistry, name: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  const location = await startUpload(reg, name);
  const patched = await ok(await fetch(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream' }, body: data }), 202, 'patch');
  const next = resolveLocation(reg.url, patched.headers.get('location'));
  await ok(await fetch(withDigest(next, digest), { method: 'PUT' }), 201, 'finish');
  return digest;
}

/** PATCHes with Content-Range of the given sizes; whatever is left goes with the closing PUT. */
async function patchChunks(reg: RunningRegistry, location: string, data: Uint8Array, sizes: readonly number[], from = 0): Promise<{ location: string; offset: number }> {
  let offset = from;
  let at = location;
  for (const size of sizes) {
    const end = Math.min(offset + size, data.byteLength);
    const res = await ok(
      await fetch(at, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` }, body: data.subarray(offset, end) }),
      202,
      `chunk ${offset}-${end - 1}`,
    );
    if (res.headers.get('range') !== `0-${end - 1}`) throw new Error(`after chunk ${offset}-${end - 1} the upload reports ${res.headers.get('range')}`);
    at = resolveLocation(reg.url, res.headers.get('location'));
    offset = end;
  }
  return { location: at, offset };
}

async function pushChunked(reg: RunningRegistry, name: string, data: Uint8Array, sizes: readonly number[]): Promise<string> {
  const digest = sha256(data);
  const { location, offset } = await patchChunks(reg, await startUpload(reg, name), data, sizes);
  const rest = data.subarray(offset);
  await ok(
    await fetch(withDigest(location, digest), {
      method: 'PUT',
      ...(rest.byteLength > 0 ? { headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${data.byteLength - 1}` }, body: rest } : {}),
    }),
    201,
    'finish chunked',
  );
  return digest;
}

async function pull(reg: RunningRegistry, name: string, digest: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { headers });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** A pull that must fail with a registry error: its status and first error. */
async function pullError(reg: RunningRegistry, name: string, digest: string): Promise<{ status: number; code: string | undefined; message: string }> {
  const res = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`);
  const text = await res.text();
  let first: { code?: string; message?: string } | undefined;
  try {
    first = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors?.[0];
  } catch {
    first = undefined;
  }
  return { status: res.status, code: first?.code, message: first?.message ?? text.slice(0, 200) };
}

async function expectPulls(t: ExecutionContext, reg: RunningRegistry, name: string, data: Buffer, what: string): Promise<void> {
  const got = await pull(reg, name, sha256(data));
  t.is(got.status, 200, `${what}: pull status`);
  t.is(got.bytes.byteLength, data.byteLength, `${what}: pulled length`);
  t.is(sha256(got.bytes), sha256(data), `${what}: pulled bytes are the pushed bytes`);
}

interface Cipher {
  id: string;
  salt: string;
  chunkSize: number;
  size: number;
  wraps: Record<string, string>;
}

async function cipherOf(reg: RunningRegistry, digest: string): Promise<Cipher | undefined> {
  const doc = await reg.server.meta.getDocument('blob-cipher', digest);
  return doc && (JSON.parse(doc.body) as Cipher);
}

/** Where the filesystem store keeps an object named by a digest-shaped name. */
function storedPath(reg: RunningRegistry, name: string): string {
  const hex = name.slice('sha256:'.length);
  return join(reg.dataDir, 'blobs', 'sha256', hex.slice(0, 2), hex);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Random, incompressible layers; a config with a random payload (its digests appear nowhere else). */
function layer(size: number): Buffer {
  return randomBytes(size);
}

function config(): Buffer {
  return Buffer.from(
    JSON.stringify({
      'berth.test.secret': randomBytes(15 * KiB).toString('base64'),
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [sha256(randomBytes(32)), sha256(randomBytes(32))] },
    }),
  );
}

function manifestOf(cfg: Buffer, layers: readonly Buffer[]): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, cfg), layers: layers.map((l) => descriptor(OCI_LAYER, l)) }));
}

// ---------------------------------------------------------------------------------------------
// The plaintext scan.

interface Secret {
  readonly label: string;
  readonly data: Buffer;
}

const needleBytes = 64;

/** 64-byte pieces of `data`: one every 16 KiB, and the first and last 64 bytes. */
function needlesOf(data: Buffer): { offset: number; bytes: Buffer }[] {
  const offsets = new Set<number>();
  for (let o = 0; o + needleBytes <= data.length; o += 16 * KiB) offsets.add(o);
  offsets.add(Math.max(0, data.length - needleBytes));
  return [...offsets].map((offset) => ({ offset, bytes: data.subarray(offset, offset + needleBytes) }));
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

interface ScanResult {
  /** Relative paths of every file read, with sizes. */
  readonly files: Map<string, number>;
  /** "<label>@<offset> in <file>" for every needle found. */
  readonly hits: string[];
  readonly needles: number;
}

/** Reads every file under `dir` and looks for every needle of every secret in each. */
async function scan(dir: string, secrets: readonly Secret[]): Promise<ScanResult> {
  const files = new Map<string, number>();
  const hits: string[] = [];
  const needles = secrets.flatMap((s) => needlesOf(s.data).map((n) => ({ ...n, label: s.label })));
  for (const path of await allFiles(dir)) {
    const bytes = await readFile(path);
    const rel = relative(dir, path);
    files.set(rel, bytes.length);
    for (const n of needles) if (bytes.indexOf(n.bytes) !== -1) hits.push(`${n.label}@${n.offset} in ${rel}`);
  }
  return { files, hits, needles: needles.length };
}

// ---------------------------------------------------------------------------------------------
// The registries.

/** Most tests share one registry; tests that need a data directory to themselves start their own. */
let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry();
});
test.after.always(async () => reg?.close());

let counter = 0;
const repoName = (prefix: string): string => `${prefix}/r${counter++}`;

// The scanned registry: everything pushed in every way, then every file read.
interface Pushed {
  readonly repo: string;
  readonly label: string;
  readonly data: Buffer;
  readonly encryptedUnder: 'kms' | 'registry';
}

let scanned: { reg: RunningRegistry; keyId: string; pushed: Pushed[]; open: Secret } | undefined;
test.after.always(async () => scanned?.reg.close());

test.serial('MUST-SHOW: no plaintext of any pushed layer, config or open upload is anywhere under the data directory', async (t) => {
  const own = await startRegistry();
  const key = await createKey(t, own);
  await mustApi(t, own, 'POST', '/kms/aliases', { aliasName: 'alias/scan/main', targetKeyId: key.keyId }, 201);
  const kmsRepo = 'scan/kms';
  const aesRepo = 'scan/aes';
  t.like(await createRepo(t, own, kmsRepo, { encryptionType: 'KMS', kmsKey: 'alias/scan/main' }), { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/scan/main' } });
  t.like(await createRepo(t, own, aesRepo), { encryptionConfiguration: { encryptionType: 'AES256' } });
  const pushed: Pushed[] = [];
  const record = (repo: string, label: string, data: Buffer): void => {
    pushed.push({ repo, label, data, encryptedUnder: repo === kmsRepo ? 'kms' : 'registry' });
  };

  // KMS repository: one layer crossing a dozen chunks (monolithic), one by POST+PATCH+PUT, one
  // by five unaligned Content-Range chunks and a final PUT chunk; a config; the manifest.
  const k1 = layer(3 * MiB + 123);
  const k2 = layer(MiB / 2);
  const k3 = layer(MiB + MiB / 2 + 7);
  const kc = config();
  await pushMonolithic(own, kmsRepo, k1);
  record(kmsRepo, 'kms-monolithic-3MiB', k1);
  await pushPostPatchPut(own, kmsRepo, k2);
  record(kmsRepo, 'kms-post-patch-put-0.5MiB', k2);
  await pushChunked(own, kmsRepo, k3, [300_001, 100 * KiB, chunk, 262_143, 200_000]);
  record(kmsRepo, 'kms-chunked-1.5MiB', k3);
  await pushBlob(own.url, kmsRepo, kc);
  record(kmsRepo, 'kms-config', kc);
  await ok(await putManifest(own.url, kmsRepo, 'v1', manifestOf(kc, [k1, k2, k3]), OCI_MANIFEST), 201, 'kms manifest');

  // AES256 repository (the registry-managed key): the same mix.
  const a1 = layer(2 * MiB + 5);
  const a2 = layer(MiB);
  const a3 = layer(768 * KiB);
  const ac = config();
  await pushChunked(own, aesRepo, a1, [chunk, chunk + 1, 700_000, 33]);
  record(aesRepo, 'aes-chunked-2MiB', a1);
  await pushMonolithic(own, aesRepo, a2);
  record(aesRepo, 'aes-monolithic-1MiB', a2);
  await pushPostPatchPut(own, aesRepo, a3);
  record(aesRepo, 'aes-post-patch-put-0.75MiB', a3);
  await pushBlob(own.url, aesRepo, ac);
  record(aesRepo, 'aes-config', ac);
  await ok(await putManifest(own.url, aesRepo, 'v1', manifestOf(ac, [a1, a2, a3]), OCI_MANIFEST), 201, 'aes manifest');

  // An upload left open: its segments sit in the uploads directory, encrypted too.
  const openData = layer(MiB);
  await patchChunks(own, await startUpload(own, kmsRepo), openData, [400 * KiB, 200 * KiB]);
  const open: Secret = { label: 'kms-open-upload-first-600KiB', data: openData.subarray(0, 600 * KiB) };
  scanned = { reg: own, keyId: key.keyId, pushed, open };

  // How each blob is stored: a cipher document, ciphertext under storageName(id), no plaintext object.
  const registryKeyId = (await mustApi(t, own, 'GET', `/kms/aliases/${encodeURIComponent('alias/berth/ecr')}`, undefined, 200)).targetKeyId as string;
  for (const p of pushed) {
    const digest = sha256(p.data);
    const cipher = await cipherOf(own, digest);
    if (!cipher) {
      t.fail(`${p.label}: no blob-cipher document`);
      continue;
    }
    t.deepEqual(Object.keys(cipher.wraps), [p.encryptedUnder === 'kms' ? key.keyId : registryKeyId], `${p.label}: wrapped under the repository's key only`);
    t.is(cipher.size, p.data.length);
    t.false(await exists(storedPath(own, digest)), `${p.label}: no object under its digest`);
    t.is((await stat(storedPath(own, storageName(cipher.id)))).size, encryptedSize(p.data.length), `${p.label}: ciphertext object has the encrypted size`);
  }

  const secrets: Secret[] = [...pushed.map((p) => ({ label: p.label, data: p.data })), open];
  const started = Date.now();
  const result = await scan(own.dataDir, secrets);
  t.log(`scanned ${result.files.size} files (${[...result.files.values()].reduce((a, b) => a + b, 0)} bytes) for ${result.needles} needles in ${Date.now() - started} ms`);
  const names = [...result.files.keys()];
  t.true(names.includes('metadata.db'), 'the metadata database was scanned');
  t.true(names.some((n) => n.startsWith('metadata.db-')), `the SQLite side files were scanned: ${names.filter((n) => n.startsWith('metadata')).join(', ')}`);
  t.true(names.some((n) => n.startsWith('uploads/')), 'the open upload was scanned');
  t.true(names.filter((n) => n.startsWith('blobs/')).length >= pushed.length, 'every stored object was scanned');
  t.true(result.needles > 500);
  t.deepEqual(result.hits, [], 'no plaintext needle found in any file');
});

test.serial('positive control: with registryKeyEncryption false the same scan finds AES256 plaintext (and still not KMS plaintext)', async (t) => {
  const own = await startRegistry({ registryKeyEncryption: false });
  t.teardown(() => own.close());
  const key = await createKey(t, own);
  await createRepo(t, own, 'plain/aes');
  await createRepo(t, own, 'plain/kms', { encryptionType: 'KMS', kmsKey: key.keyId });
  const plainMono = layer(MiB / 2 + 3);
  const plainChunked = layer(MiB);
  const sealed = layer(MiB / 2);
  await pushMonolithic(own, 'plain/aes', plainMono);
  await pushChunked(own, 'plain/aes', plainChunked, [chunk, 100_000]);
  await pushMonolithic(own, 'plain/kms', sealed);
  t.is(await cipherOf(own, sha256(plainMono)), undefined, 'stored as plaintext');
  t.true(await exists(storedPath(own, sha256(plainMono))));
  t.truthy(await cipherOf(own, sha256(sealed)));

  const mono = needlesOf(plainMono).length;
  const chunked = needlesOf(plainChunked).length;
  const result = await scan(own.dataDir, [
    { label: 'plain-mono', data: plainMono },
    { label: 'plain-chunked', data: plainChunked },
    { label: 'kms', data: sealed },
  ]);
  t.is(result.hits.filter((h) => h.startsWith('plain-mono@')).length, mono, 'every needle of the plaintext blob is found');
  t.is(result.hits.filter((h) => h.startsWith('plain-chunked@')).length, chunked);
  t.deepEqual(
    result.hits.filter((h) => h.startsWith('kms@')),
    [],
    'the KMS repository is encrypted regardless',
  );
  await expectPulls(t, own, 'plain/aes', plainChunked, 'plaintext chunked');
});

test.serial('everything scanned pulls back byte-identical; HEAD gives the sizes; manifests resolve', async (t) => {
  if (!scanned) return t.fail('the scan test did not run');
  const { reg: own, pushed } = scanned;
  for (const p of pushed) {
    await expectPulls(t, own, p.repo, p.data, p.label);
    const head = await fetch(`${own.url}/v2/${p.repo}/blobs/${sha256(p.data)}`, { method: 'HEAD' });
    t.is(head.status, 200);
    t.is(head.headers.get('content-length'), String(p.data.length), `${p.label}: HEAD size`);
    t.is(head.headers.get('docker-content-digest'), sha256(p.data));
  }
  for (const repo of ['scan/kms', 'scan/aes']) {
    const m = await fetch(`${own.url}/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    t.is(m.status, 200);
    const body = JSON.parse(await m.text()) as { layers: { digest: string }[]; config: { digest: string } };
    for (const d of [body.config, ...body.layers]) t.true(pushed.some((p) => sha256(p.data) === d.digest && p.repo === repo));
  }
  return undefined;
});

test.serial('range reads of encrypted blobs: within, across and at chunk boundaries, suffixes, the last byte', async (t) => {
  if (!scanned) return t.fail('the scan test did not run');
  const { reg: own, pushed } = scanned;
  for (const p of pushed.filter((x) => x.data.length > 2 * MiB)) {
    const size = p.data.length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=0-99', 0, 99],
      [`bytes=${chunk - 1}-${chunk}`, chunk - 1, chunk],
      [`bytes=${chunk}-${2 * chunk - 1}`, chunk, 2 * chunk - 1],
      [`bytes=${chunk - 10}-${3 * chunk + 10}`, chunk - 10, 3 * chunk + 10],
      [`bytes=12345-${size - 12345}`, 12345, size - 12345],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      [`bytes=${size - 100}-`, size - 100, size - 1],
      [`bytes=${size - 100}-${size + 1000}`, size - 100, size - 1],
      ['bytes=-1', size - 1, size - 1],
      ['bytes=-300000', size - 300000, size - 1],
      [`bytes=-${size + 5}`, 0, size - 1],
      ['bytes=0-', 0, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const got = await pull(own, p.repo, sha256(p.data), { Range: range });
      t.is(got.status, 206, `${p.label} ${range}`);
      t.is(got.headers.get('content-range'), `bytes ${start}-${end}/${size}`, `${p.label} ${range}`);
      t.is(got.headers.get('content-length'), String(end - start + 1));
      t.true(got.bytes.equals(p.data.subarray(start, end + 1)), `${p.label} ${range}: exactly the right bytes`);
    }
    t.is((await pull(own, p.repo, sha256(p.data), { Range: `bytes=${size}-` })).status, 416);
  }
  return undefined;
});

// ---------------------------------------------------------------------------------------------
// Key lifecycle.

test('rotation: old blobs stay readable; data keys of later blobs are wrapped under the new version', async (t) => {
  const key = await createKey(t, reg);
  const name = repoName('rotate');
  await createRepo(t, reg, name, { encryptionType: 'KMS', kmsKey: key.arn });
  const before = layer(MiB / 2);
  await pushMonolithic(reg, name, before);
  const wrapBefore = (await cipherOf(reg, sha256(before)))?.wraps[key.keyId] ?? '';
  t.deepEqual(readBlobHeader(Buffer.from(wrapBefore, 'base64')), { keyId: key.keyId, keyVersion: 1 });

  const rotated = (await mustApi(t, reg, 'POST', `/kms/keys/${key.keyId}/rotate`, undefined, 200)) as KeyRep;
  t.is(rotated.currentKeyVersion, 2);
  t.true(rotated.version > key.version);
  const after = layer(MiB / 2 + 1);
  await pushChunked(reg, name, after, [chunk, 100_000]);
  const wrapAfter = (await cipherOf(reg, sha256(after)))?.wraps[key.keyId] ?? '';
  t.deepEqual(readBlobHeader(Buffer.from(wrapAfter, 'base64')), { keyId: key.keyId, keyVersion: 2 });
  t.deepEqual(readBlobHeader(Buffer.from((await cipherOf(reg, sha256(before)))?.wraps[key.keyId] ?? '', 'base64')), { keyId: key.keyId, keyVersion: 1 }, 'old wraps are not rewritten');

  await expectPulls(t, reg, name, before, 'blob from before the rotation');
  await expectPulls(t, reg, name, after, 'blob from after the rotation');
  // A stale If-Match is refused.
  t.is((await api(reg, 'POST', `/kms/keys/${key.keyId}/rotate`, undefined, { 'If-Match': `"${key.version}"` })).status, 412);
});

test('disable/enable, schedule/cancel deletion and destruction govern pulls and pushes', async (t) => {
  // Its own registry: runDueWork destroys every key that is due, which must not race other tests.
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const key = await createKey(t, reg);
  const other = await createKey(t, reg);
  const name = repoName('life');
  const otherRepo = repoName('life-other');
  await createRepo(t, reg, name, { encryptionType: 'KMS', kmsKey: key.keyId });
  await createRepo(t, reg, otherRepo, { encryptionType: 'KMS', kmsKey: other.keyId });
  const only = layer(MiB / 2);
  const shared = layer(300 * KiB);
  await pushMonolithic(reg, name, only);
  await pushPostPatchPut(reg, name, shared);
  await pushMonolithic(reg, otherRepo, shared);
  await expectPulls(t, reg, name, only, 'before anything');

  // Disabled: pulls and pushes refused with KMSDisabled.
  await setEnabled(t, reg, key.keyId, false);
  t.like(await pullError(reg, name, sha256(only)), { status: 409, code: 'KMSDisabled' });
  const refused = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  t.is(refused.status, 409);
  const refusedBody = (await refused.json()) as { errors: { code: string; message: string; detail?: { keyId?: string } }[] };
  t.is(refusedBody.errors[0]?.code, 'KMSDisabled');
  t.regex(refusedBody.errors[0]?.message ?? '', new RegExp(key.keyId));
  const mono = layer(1000);
  const monoRes = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${sha256(mono)}`, { method: 'POST', body: mono });
  t.is(monoRes.status, 409, 'a monolithic push is refused too');
  t.is(((await monoRes.json()) as { errors: { code: string }[] }).errors[0]?.code, 'KMSDisabled');
  await expectPulls(t, reg, name, shared, 'a blob also wrapped under a usable key');

  // Enabled again: everything works.
  await setEnabled(t, reg, key.keyId, true);
  await expectPulls(t, reg, name, only, 'after enabling');
  await pushMonolithic(reg, name, mono);
  await expectPulls(t, reg, name, mono, 'pushed after enabling');

  // Scheduled deletion: KMSInvalidState; cancelling brings the key back Disabled.
  const scheduled = (await mustApi(t, reg, 'POST', `/kms/keys/${key.keyId}/schedule-deletion`, { pendingWindowInDays: 7 }, 200)) as KeyRep & { deletionDate: string };
  t.is(scheduled.keyState, 'PendingDeletion');
  t.true(Math.abs(Date.parse(scheduled.deletionDate) - (Date.now() + 7 * day)) < 60_000);
  const pending = await pullError(reg, name, sha256(only));
  t.like(pending, { status: 409, code: 'KMSInvalidState' });
  t.regex(pending.message, /pending deletion/);
  const pendingPush = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  t.is(pendingPush.status, 409);
  t.is(((await pendingPush.json()) as { errors: { code: string }[] }).errors[0]?.code, 'KMSInvalidState');
  t.is((await api(reg, 'PATCH', `/kms/keys/${key.keyId}`, { enabled: true })).body?.code, 'KMSInvalidState', 'a key pending deletion cannot be enabled');
  const cancelled = (await mustApi(t, reg, 'POST', `/kms/keys/${key.keyId}/cancel-deletion`, undefined, 200)) as KeyRep;
  t.is(cancelled.keyState, 'Disabled');
  t.like(await pullError(reg, name, sha256(only)), { status: 409, code: 'KMSDisabled' });
  await setEnabled(t, reg, key.keyId, true);
  await expectPulls(t, reg, name, only, 'after cancel and enable');

  // Destruction after the waiting period: the sole-wrapped blob is shredded, the shared one lives on.
  await mustApi(t, reg, 'POST', `/kms/keys/${key.keyId}/schedule-deletion`, { pendingWindowInDays: 7 }, 200);
  const onlyCipher = await cipherOf(reg, sha256(only));
  const sharedCipher = await cipherOf(reg, sha256(shared));
  t.deepEqual(Object.keys(sharedCipher?.wraps ?? {}).sort(), [key.keyId, other.keyId].sort());
  t.true(await exists(storedPath(reg, storageName(onlyCipher?.id ?? ''))));
  t.deepEqual((await reg.server.keys.runDueWork(new Date(Date.now() + 6 * day))).destroyed, [], 'not due before the window ends');
  const due = await reg.server.keys.runDueWork(new Date(Date.now() + 31 * day));
  t.deepEqual(due.destroyed, [key.keyId]);
  t.is((await api(reg, 'GET', `/kms/keys/${key.keyId}`)).status, 404);
  const beforeForget = await pullError(reg, name, sha256(only));
  t.not(beforeForget.status, 200, 'unreadable as soon as the key is gone');
  let shredded = 0;
  for (const keyId of due.destroyed) shredded += await reg.server.vault.forgetKey(keyId);
  t.is(shredded, 2, 'the two blobs wrapped only under the key (only, mono) are shredded');
  const gone = await pullError(reg, name, sha256(only));
  t.like(gone, { status: 409, code: 'KMSInvalidState' });
  t.regex(gone.message, /destroyed/);
  t.false(await exists(storedPath(reg, storageName(onlyCipher?.id ?? ''))), 'the ciphertext object is deleted');
  t.deepEqual((await cipherOf(reg, sha256(only)))?.wraps, {});
  t.deepEqual(Object.keys((await cipherOf(reg, sha256(shared)))?.wraps ?? {}), [other.keyId]);
  await expectPulls(t, reg, name, shared, 'a blob still wrapped under a live key, from the repository of the destroyed key');
  await expectPulls(t, reg, otherRepo, shared, 'the same blob from its other repository');
  const afterPush = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  t.is(afterPush.status, 404, 'a push to a repository whose key was destroyed is refused');
  t.is(((await afterPush.json()) as { errors: { code: string }[] }).errors[0]?.code, 'KMSKeyNotFound');
});

test('cross-key dedup and mounts: a blob wrapped under two keys stays readable while either is usable', async (t) => {
  const k1 = await createKey(t, reg);
  const k2 = await createKey(t, reg);
  const a = repoName('xkey-a');
  const b = repoName('xkey-b');
  await createRepo(t, reg, a, { encryptionType: 'KMS', kmsKey: k1.keyId });
  await createRepo(t, reg, b, { encryptionType: 'KMS', kmsKey: k2.keyId });
  const mounted = layer(MiB / 2 + 17);
  const repushed = layer(400 * KiB);
  const onlyA = layer(200 * KiB);
  await pushMonolithic(reg, a, mounted);
  await pushChunked(reg, a, repushed, [chunk]);
  await pushMonolithic(reg, a, onlyA);
  const mount = await fetch(`${reg.url}/v2/${b}/blobs/uploads/?mount=${sha256(mounted)}&from=${a}`, { method: 'POST' });
  t.is(mount.status, 201, 'mounted across keys');
  const idBefore = (await cipherOf(reg, sha256(repushed)))?.id;
  await pushPostPatchPut(reg, b, repushed);
  const repushedCipher = await cipherOf(reg, sha256(repushed));
  t.is(repushedCipher?.id, idBefore, 'the second push is deduplicated onto the stored ciphertext');
  for (const data of [mounted, repushed]) t.deepEqual(Object.keys((await cipherOf(reg, sha256(data)))?.wraps ?? {}).sort(), [k1.keyId, k2.keyId].sort());
  t.deepEqual(Object.keys((await cipherOf(reg, sha256(onlyA)))?.wraps ?? {}), [k1.keyId]);

  await setEnabled(t, reg, k1.keyId, false);
  for (const data of [mounted, repushed]) {
    await expectPulls(t, reg, a, data, 'from A through K2 while K1 is disabled');
    await expectPulls(t, reg, b, data, 'from B while K1 is disabled');
  }
  t.like(await pullError(reg, a, sha256(onlyA)), { status: 409, code: 'KMSDisabled' });
  t.like(await pullError(reg, b, sha256(onlyA)), { status: 404, code: 'BLOB_UNKNOWN' }, 'never linked into B');
  // Mounting from A while K1 is disabled still works for blobs K2 can unwrap, and not for the rest.
  t.is((await fetch(`${reg.url}/v2/${b}/blobs/uploads/?mount=${sha256(onlyA)}&from=${a}`, { method: 'POST' })).status, 409, 'mounting needs a usable key that wraps the blob');

  await setEnabled(t, reg, k1.keyId, true);
  await setEnabled(t, reg, k2.keyId, false);
  await expectPulls(t, reg, b, mounted, 'from B through K1 while K2 is disabled');
  await expectPulls(t, reg, a, onlyA, 'only-A blob with K1 enabled again');
  await setEnabled(t, reg, k1.keyId, false);
  t.like(await pullError(reg, b, sha256(mounted)), { status: 409, code: 'KMSDisabled' }, 'both keys disabled');
  await setEnabled(t, reg, k1.keyId, true);
  await setEnabled(t, reg, k2.keyId, true);
});

// ---------------------------------------------------------------------------------------------
// Integrity.

/** A pull of a tampered blob: never the full body, whatever the client sees. */
async function tamperedPull(reg: RunningRegistry, name: string, digest: string, headers: Record<string, string> = {}): Promise<{ status: number; outcome: 'rejected' | 'short' | 'full'; received: number; bytes?: Buffer }> {
  // The connection may also be cut before the status line arrives (status 0: no response).
  const res = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { headers }).catch(() => undefined);
  if (!res) return { status: 0, outcome: 'rejected', received: -1 };
  try {
    const bytes = Buffer.from(await res.arrayBuffer());
    const expected = Number(res.headers.get('content-length'));
    return { status: res.status, outcome: bytes.length < expected ? 'short' : 'full', received: bytes.length, bytes };
  } catch {
    return { status: res.status, outcome: 'rejected', received: -1 };
  }
}

/**
 * A pull of tampered content failed visibly: an error status, or a 2xx whose body read rejected
 * or came up short. Whatever did arrive with a 2xx is an intact prefix, never altered bytes.
 */
function refused(t: ExecutionContext, r: Awaited<ReturnType<typeof tamperedPull>>, expected: Buffer, what: string): void {
  if (r.status >= 400 || r.status === 0) {
    t.pass(`${what}: ${r.status === 0 ? 'connection cut before any response' : `error status ${r.status}`}`);
    return;
  }
  t.true(r.status === 200 || r.status === 206, `${what}: status ${r.status}`);
  t.not(r.outcome, 'full', `${what}: the client never receives a complete body`);
  if (r.bytes) t.true(r.bytes.length < expected.length && r.bytes.equals(expected.subarray(0, r.bytes.length)), `${what}: cut short, an intact prefix`);
}

test('tampering with one byte of the stored ciphertext makes the pull fail', async (t) => {
  const key = await createKey(t, reg);
  const name = repoName('tamper');
  await createRepo(t, reg, name, { encryptionType: 'KMS', kmsKey: key.keyId });
  const data = layer(MiB + 999);
  const digest = await pushMonolithic(reg, name, data);
  await expectPulls(t, reg, name, data, 'untouched');
  const cipher = await cipherOf(reg, digest);
  const path = storedPath(reg, storageName(cipher?.id ?? ''));
  const stored = await readFile(path);
  // One bit of the third chunk's ciphertext.
  const at = 2 * (chunk + 16) + 1000;
  stored[at] = (stored[at] as number) ^ 0x01;
  await writeFile(path, stored);

  // The server notices while streaming: headers are out, the connection is cut, the client's
  // body read rejects. It never completes a body.
  const whole = await tamperedPull(reg, name, digest);
  t.log(`whole pull of a tampered blob: status ${whole.status}, ${whole.outcome}, ${whole.received} of ${data.length} bytes`);
  refused(t, whole, data, 'whole blob, tampered third chunk');
  // A range inside the tampered chunk fails before any header is sent (an error status); a
  // range elsewhere is still served.
  const inside = await tamperedPull(reg, name, digest, { Range: `bytes=${2 * chunk}-${2 * chunk + 2000}` });
  t.log(`range over the tampered chunk: status ${inside.status}, ${inside.outcome}, ${inside.received} bytes`);
  refused(t, inside, data.subarray(2 * chunk, 2 * chunk + 2001), 'range over the tampered chunk');
  const elsewhere = await pull(reg, name, digest, { Range: `bytes=0-${chunk - 1}` });
  t.is(elsewhere.status, 206);
  t.true(elsewhere.bytes.equals(data.subarray(0, chunk)));

  // Tampering with the first chunk: the failure comes before any byte of the body.
  stored[at] = (stored[at] as number) ^ 0x01;
  stored[10] = (stored[10] as number) ^ 0x80;
  await writeFile(path, stored);
  const first = await tamperedPull(reg, name, digest);
  t.log(`first-chunk tamper: status ${first.status}, ${first.outcome}, ${first.received} bytes`);
  refused(t, first, data, 'whole blob, tampered first chunk');
  // Restored: readable again.
  stored[10] = (stored[10] as number) ^ 0x80;
  await writeFile(path, stored);
  await expectPulls(t, reg, name, data, 'restored');
});

// ---------------------------------------------------------------------------------------------
// Uploads across a restart.

test('a chunked upload to an encrypted repository resumes after a restart and completes correctly', async (t) => {
  const first = await startRegistry();
  let second: RunningRegistry | undefined;
  t.teardown(async () => {
    await (second ?? first).close();
  });
  const key = await createKey(t, first);
  await createRepo(t, first, 'restart/kms', { encryptionType: 'KMS', kmsKey: key.keyId });
  const data = layer(MiB + 321);
  const location = await startUpload(first, 'restart/kms');
  await patchChunks(first, location, data, [300_000, chunk + 5]);
  const path = new URL(location).pathname;
  await first.close({ keepData: true });

  second = await startRegistry({ dataDir: first.dataDir });
  // Its segments as a Berth that did not yet record chunk sizes wrote them (all 256 KiB).
  const uploadId = path.split('/').at(-1) ?? '';
  const doc = await second.server.meta.getDocument(vaultKinds.upload, uploadId);
  if (!doc) throw new Error(`no upload cipher for ${uploadId}`);
  const written = JSON.parse(doc.body) as { segments: { chunkSize?: number }[] };
  t.true(written.segments.length > 0 && written.segments.every((s) => s.chunkSize === 256 * 1024));
  for (const s of written.segments) delete s.chunkSize;
  const rewritten = await second.server.meta.putDocument(vaultKinds.upload, uploadId, JSON.stringify(written), { mode: 'update', expectedVersion: doc.version });
  t.is(rewritten.status, 'ok');
  const resumed = `${second.url}${path}`;
  const status = await fetch(resumed);
  t.is(status.status, 204);
  const offset = 300_000 + chunk + 5;
  t.is(status.headers.get('range'), `0-${offset - 1}`);
  const { location: next, offset: end } = await patchChunks(second, resumed, data, [200_000], offset);
  const put = await fetch(withDigest(next, sha256(data)), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${end}-${data.length - 1}` },
    body: data.subarray(end),
  });
  t.is(put.status, 201, await put.text());
  await expectPulls(t, second, 'restart/kms', data, 'resumed upload');
  const cipher = await cipherOf(second, sha256(data));
  t.deepEqual(Object.keys(cipher?.wraps ?? {}), [key.keyId]);
  const stored = await readFile(storedPath(second, storageName(cipher?.id ?? '')));
  t.is(stored.length, encryptedSize(data.length), 'several segments were re-encrypted into one blob');
  const scan2 = await scan(second.dataDir, [{ label: 'resumed', data }]);
  t.deepEqual(scan2.hits, []);
});

// ---------------------------------------------------------------------------------------------
// The KMS API.

test('KMS API: encrypt/decrypt with context, data keys, audit trail, disabled key', async (t) => {
  const key = await createKey(t, reg);
  const plaintext = randomBytes(100);
  const context = { app: 'berth-test', purpose: 'round-trip' };
  const enc = await api(reg, 'POST', '/kms/encrypt', { keyId: key.keyId, plaintext: plaintext.toString('base64'), encryptionContext: context });
  t.is(enc.status, 200);
  t.is(enc.body.keyId, key.arn);
  const encRequestId = enc.headers.get('x-request-id');
  const blob = Buffer.from(enc.body.ciphertextBlob as string, 'base64');
  t.deepEqual(readBlobHeader(blob), { keyId: key.keyId, keyVersion: 1 });
  t.is(blob.indexOf(plaintext.subarray(0, 16)), -1);

  const dec = await api(reg, 'POST', '/kms/decrypt', { ciphertextBlob: enc.body.ciphertextBlob, encryptionContext: { purpose: 'round-trip', app: 'berth-test' } });
  t.is(dec.status, 200, 'the context in another order is the same context');
  t.true(Buffer.from(dec.body.plaintext as string, 'base64').equals(plaintext));
  t.is(dec.body.keyId, key.arn);
  for (const wrong of [{ app: 'berth-test', purpose: 'other' }, { app: 'berth-test' }, undefined]) {
    const bad = await api(reg, 'POST', '/kms/decrypt', { ciphertextBlob: enc.body.ciphertextBlob, ...(wrong ? { encryptionContext: wrong } : {}) });
    t.is(bad.status, 400, JSON.stringify(wrong));
    t.is(bad.body.code, 'KMSInvalidCiphertext');
  }

  const gdk = await api(reg, 'POST', '/kms/generate-data-key', { keyId: key.keyId, encryptionContext: { file: 'x' } });
  t.is(gdk.status, 200);
  const dataKey = Buffer.from(gdk.body.plaintext as string, 'base64');
  t.is(dataKey.length, 32);
  const unwrapped = await api(reg, 'POST', '/kms/decrypt', { ciphertextBlob: gdk.body.ciphertextBlob, encryptionContext: { file: 'x' }, keyId: key.keyId });
  t.is(unwrapped.status, 200);
  t.true(Buffer.from(unwrapped.body.plaintext as string, 'base64').equals(dataKey));

  await setEnabled(t, reg, key.keyId, false);
  const disabled = await api(reg, 'POST', '/kms/encrypt', { keyId: key.keyId, plaintext: 'eA==' });
  t.is(disabled.status, 409);
  t.is(disabled.body.code, 'KMSDisabled');
  t.is((await api(reg, 'POST', '/kms/decrypt', { ciphertextBlob: enc.body.ciphertextBlob, encryptionContext: context })).body.code, 'KMSDisabled');
  t.is((await api(reg, 'POST', '/kms/generate-data-key', { keyId: key.keyId })).body.code, 'KMSDisabled');

  const audit = await api(reg, 'GET', `/kms/keys/${key.keyId}/audit?maxResults=1000`);
  t.is(audit.status, 200);
  const items = audit.body.items as { operation: string; success: boolean; errorCode?: string; principal?: string; requestId?: string; encryptionContextKeys: string[]; keyVersion?: number }[];
  const summary = items.map((i) => `${i.operation}:${i.success ? 'ok' : i.errorCode}`).reverse();
  t.deepEqual(summary, [
    'Encrypt:ok',
    'Decrypt:ok',
    'Decrypt:KMSInvalidCiphertext',
    'Decrypt:KMSInvalidCiphertext',
    'Decrypt:KMSInvalidCiphertext',
    'GenerateDataKey:ok',
    'Decrypt:ok',
    'Encrypt:KMSDisabled',
    'Decrypt:KMSDisabled',
    'GenerateDataKey:KMSDisabled',
  ]);
  const encRecord = items.at(-1);
  t.like(encRecord, { operation: 'Encrypt', success: true, keyVersion: 1, encryptionContextKeys: ['app', 'purpose'] });
  t.is(encRecord?.requestId, encRequestId ?? undefined, 'the record names the request');
  t.regex(encRecord?.principal ?? '', /admin/, 'the record names the caller');
  t.false(JSON.stringify(items).includes('round-trip'), 'context values are not kept');
  await setEnabled(t, reg, key.keyId, true);
});

test('KMS API authorization: a principal allowed kms:Encrypt but not kms:Decrypt', async (t) => {
  const key = await createKey(t, reg);
  const admin = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const principalName = `kms-encryptor-${randomUUID().slice(0, 8)}`;
  await admin.principals.create({ principalName });
  await admin.identityPolicies.update(
    { principalName, policyName: 'encrypt-only' },
    { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: key.arn }] }) },
  );
  const access = await admin.accessKeys.create({ principalName });
  const auth = basicAuth(access.accessKeyId, access.secretAccessKey ?? '');
  const as = (path: string, body: unknown) => api(reg, 'POST', path, body, { Authorization: auth });

  const enc = await as('/kms/encrypt', { keyId: key.keyId, plaintext: Buffer.from('secret').toString('base64') });
  t.is(enc.status, 200, JSON.stringify(enc.body));
  const dec = await as('/kms/decrypt', { ciphertextBlob: enc.body.ciphertextBlob });
  t.is(dec.status, 403);
  t.is(dec.body.code, 'AccessDenied');
  t.regex(dec.body.message, /kms:Decrypt/);
  const gdk = await as('/kms/generate-data-key', { keyId: key.keyId });
  t.is(gdk.status, 403, 'GenerateDataKey is a separate permission');
  const other = await createKey(t, reg);
  t.is((await as('/kms/encrypt', { keyId: other.keyId, plaintext: 'eA==' })).status, 403, 'only on the key the policy names');
  t.is((await as('/kms/keys', { description: 'x' })).status, 403);
  // The admin decrypts what the principal encrypted; the audit trail names the principal.
  t.is((await api(reg, 'POST', '/kms/decrypt', { ciphertextBlob: enc.body.ciphertextBlob })).status, 200);
  const audit = await api(reg, 'GET', `/kms/keys/${key.keyId}/audit`);
  const encryptRecord = (audit.body.items as { operation: string; principal?: string }[]).find((i) => i.operation === 'Encrypt');
  t.regex(encryptRecord?.principal ?? '', new RegExp(principalName));
});

// ---------------------------------------------------------------------------------------------
// Repository rules.

test('repositories: the KMS key must exist and be usable; AES256 takes no key; encryption is fixed', async (t) => {
  const key = await createKey(t, reg);
  await mustApi(t, reg, 'POST', '/kms/aliases', { aliasName: 'alias/repo-rules', targetKeyId: key.keyId }, 201);
  for (const kmsKey of [key.keyId, key.arn, 'alias/repo-rules']) {
    const created = await createRepo(t, reg, repoName('rules-ok'), { encryptionType: 'KMS', kmsKey });
    t.deepEqual(created.encryptionConfiguration, { encryptionType: 'KMS', kmsKey });
  }
  const post = (encryptionConfiguration: unknown) => api(reg, 'POST', '/repositories', { repositoryName: repoName('rules-bad'), encryptionConfiguration });
  for (const unknown of [randomUUID(), 'alias/does-not-exist', `arn:berth:kms:local:000000000000:key/${randomUUID()}`]) {
    const r = await post({ encryptionType: 'KMS', kmsKey: unknown });
    t.is(r.status, 404, unknown);
    t.like(r.body, { code: 'KMSKeyNotFound', field: 'encryptionConfiguration.kmsKey' });
  }
  const disabled = await createKey(t, reg, { enabled: false });
  t.is(disabled.keyState, 'Disabled');
  const d = await post({ encryptionType: 'KMS', kmsKey: disabled.keyId });
  t.is(d.status, 409);
  t.like(d.body, { code: 'KMSDisabled', field: 'encryptionConfiguration.kmsKey' });
  const pendingKey = await createKey(t, reg);
  await mustApi(t, reg, 'DELETE', `/kms/keys/${pendingKey.keyId}`, undefined, 204);
  const p = await post({ encryptionType: 'KMS', kmsKey: pendingKey.keyId });
  t.is(p.status, 409);
  t.is(p.body.code, 'KMSInvalidState');
  await mustApi(t, reg, 'POST', `/kms/keys/${pendingKey.keyId}/cancel-deletion`, undefined, 200);

  const aesWithKey = await post({ encryptionType: 'AES256', kmsKey: key.keyId });
  t.is(aesWithKey.status, 400);
  t.like(aesWithKey.body, { code: 'InvalidParameter', field: 'encryptionConfiguration.kmsKey' });
  const kmsWithout = await post({ encryptionType: 'KMS' });
  t.is(kmsWithout.status, 400);
  t.like(kmsWithout.body, { code: 'InvalidParameter', field: 'encryptionConfiguration.kmsKey' });

  const name = repoName('rules-fixed');
  await createRepo(t, reg, name, { encryptionType: 'KMS', kmsKey: key.keyId });
  const path = `/repositories/${encodeURIComponent(name)}`;
  for (const change of [{ encryptionType: 'AES256' }, { encryptionType: 'KMS', kmsKey: disabled.keyId }, { encryptionType: 'KMS', kmsKey: key.arn }]) {
    const r = await api(reg, 'PATCH', path, { encryptionConfiguration: change });
    t.is(r.status, 400, JSON.stringify(change));
    t.like(r.body, { code: 'InvalidParameter', field: 'encryptionConfiguration' });
  }
  t.is((await api(reg, 'PATCH', path, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.keyId } })).status, 200, 'restating it is fine');
  const aes = repoName('rules-aes');
  await createRepo(t, reg, aes);
  t.is((await api(reg, 'PATCH', `/repositories/${encodeURIComponent(aes)}`, { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.keyId } })).status, 400);
});
