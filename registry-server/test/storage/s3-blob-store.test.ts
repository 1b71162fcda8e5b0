import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { canPresign } from '../../src/storage/blob-store.ts';
import { FsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3-blob-store.ts';
import { faultProxy, s3Credentials, startS3, type RunningS3 } from '../../../test/support/s3.ts';
import { blobStoreConformance } from '../conformance/blob-store.ts';

const MiB = 1024 * 1024;
const partSizeBytes = 5 * MiB;

// One s3rver for the file, started by whichever test needs it first.
let running: Promise<RunningS3> | undefined;
const s3 = (): Promise<RunningS3> => (running ??= startS3());
test.after.always(async () => {
  if (running) await (await running).close();
});

async function openStore(options: Partial<S3BlobStoreOptions> = {}): Promise<S3BlobStore> {
  const server = await s3();
  return new S3BlobStore({
    bucket: options.bucket ?? (await server.newBucket()),
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: s3Credentials,
    partSizeBytes,
    ...options,
  });
}

blobStoreConformance('s3', async () => {
  const store = await openStore();
  return { store, cleanup: async () => store.destroy() };
});

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Byte equality without AVA's deepEqual, which is very slow on megabytes. */
function sameBytes(t: ExecutionContext, actual: Buffer, expected: Buffer): void {
  t.is(actual.length, expected.length);
  t.true(actual.equals(expected), 'bytes differ');
}

/** The upload's chunk objects, as [offset, size] in key order. */
async function chunkLayout(store: S3BlobStore, id: string, prefix = ''): Promise<[number, number][]> {
  const out = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: `${prefix}uploads/${id}/` }));
  return (out.Contents ?? []).map((o) => [Number(o.Key?.split('/').at(-1)), o.Size ?? 0]);
}

/** Appends `pieces` one request each, as a chunked upload does; returns the final length. */
async function appendPieces(store: S3BlobStore, id: string, pieces: Buffer[], offset = 0): Promise<number> {
  let length = offset;
  for (const p of pieces) length = await store.appendUpload(id, length, Readable.from([p]));
  return length;
}

test('s3: chunked appends smaller than the part size are merged into part-sized chunk objects', async (t) => {
  const store = await openStore();
  t.teardown(() => store.destroy());
  const data = randomBytes(16 * MiB);
  await store.createUpload('layout');
  const pieces = Array.from({ length: 8 }, (_, i) => data.subarray(i * 2 * MiB, (i + 1) * 2 * MiB));
  t.is(await appendPieces(store, 'layout', pieces), 16 * MiB);
  const layout = await chunkLayout(store, 'layout');
  t.deepEqual(layout, [
    [0, 6 * MiB],
    [6 * MiB, 6 * MiB],
    [12 * MiB, 4 * MiB],
  ]);
  for (const [, size] of layout.slice(0, -1)) t.true(size >= partSizeBytes);
  sameBytes(t, await collect(await store.readUpload('layout', data.length)), data);
  // Several chunks publish through a multipart upload streamed from the chunks.
  await store.commitUpload('layout', data.length, sha256(data));
  sameBytes(t, await collect(await store.read(sha256(data))), data);
  t.deepEqual(await chunkLayout(store, 'layout'), [], 'the upload objects are deleted');
});

test('s3: another replica continues an upload after a crash and reads back exactly the durable bytes', async (t) => {
  const server = await s3();
  const bucket = await server.newBucket();
  const a = await openStore({ bucket });
  t.teardown(() => a.destroy());
  const data = randomBytes(13 * MiB);
  await a.createUpload('crash');
  const durable = await appendPieces(a, 'crash', [data.subarray(0, 3 * MiB), data.subarray(3 * MiB, 7 * MiB)]);
  t.is(durable, 7 * MiB);
  // A write that dies half way (the replica crashed or the client went away) must leave nothing.
  async function* dying(): AsyncGenerator<Buffer> {
    yield data.subarray(7 * MiB, 9 * MiB);
    throw new Error('replica crashed');
  }
  await t.throwsAsync(a.appendUpload('crash', durable, Readable.from(dying())), { message: 'replica crashed' });
  a.destroy();

  // A new store instance with its own client: nothing is shared but the bucket.
  const b = await openStore({ bucket });
  t.teardown(() => b.destroy());
  const uploads = [];
  for await (const u of b.listUploads()) uploads.push(u.id);
  t.deepEqual(uploads, ['crash']);
  sameBytes(t, await collect(await b.readUpload('crash', durable)), data.subarray(0, durable));
  const length = await b.appendUpload('crash', durable, Readable.from([data.subarray(durable)]));
  t.is(length, data.length);
  sameBytes(t, await collect(await b.readUpload('crash', length)), data);
  await b.commitUpload('crash', length, sha256(data));
  t.deepEqual(await b.stat(sha256(data)), { size: data.length });
  sameBytes(t, await collect(await b.read(sha256(data))), data);
});

test('s3: appending behind the end drops what was written past the durable offset', async (t) => {
  const store = await openStore();
  t.teardown(() => store.destroy());
  const data = randomBytes(20 * MiB);
  await store.createUpload('trunc');
  // One 12 MiB chunk, then a 3 MiB one.
  await appendPieces(store, 'trunc', [data.subarray(0, 12 * MiB), data.subarray(12 * MiB, 15 * MiB)]);
  t.deepEqual(await chunkLayout(store, 'trunc'), [
    [0, 12 * MiB],
    [12 * MiB, 3 * MiB],
  ]);

  // The durable offset was 7 MiB: the first chunk is cut (still a full part), the second dropped.
  const replacement = randomBytes(2 * MiB);
  t.is(await store.appendUpload('trunc', 7 * MiB, Readable.from([replacement])), 9 * MiB);
  t.deepEqual(await chunkLayout(store, 'trunc'), [
    [0, 7 * MiB],
    [7 * MiB, 2 * MiB],
  ]);
  const expected = Buffer.concat([data.subarray(0, 7 * MiB), replacement]);
  sameBytes(t, await collect(await store.readUpload('trunc', 9 * MiB)), expected);

  // Cut inside a chunk that becomes a short tail: it is rewritten together with the new bytes.
  const more = randomBytes(1 * MiB);
  t.is(await store.appendUpload('trunc', 8 * MiB, Readable.from([more])), 9 * MiB);
  t.deepEqual(await chunkLayout(store, 'trunc'), [
    [0, 7 * MiB],
    [7 * MiB, 2 * MiB],
  ]);
  sameBytes(t, await collect(await store.readUpload('trunc', 9 * MiB)), Buffer.concat([expected.subarray(0, 8 * MiB), more]));

  // Back to zero: chunk 0 stays (empty), so the upload still exists.
  t.is(await store.appendUpload('trunc', 0, Readable.from([])), 0);
  t.deepEqual(await chunkLayout(store, 'trunc'), [[0, 0]]);
  await t.throwsAsync(store.appendUpload('trunc', 5, Readable.from([Buffer.from('x')])), { instanceOf: RangeError }, 'no appending past the end');
});

test('s3: an empty blob, and a range past the end of a blob', async (t) => {
  const store = await openStore();
  t.teardown(() => store.destroy());
  const empty = Buffer.alloc(0);
  await store.createUpload('empty');
  t.is((await collect(await store.readUpload('empty', 0))).length, 0);
  await store.commitUpload('empty', 0, sha256(empty));
  t.deepEqual(await store.stat(sha256(empty)), { size: 0 });
  t.is((await collect(await store.read(sha256(empty)))).length, 0);
  const data = Buffer.from('0123456789');
  await store.createUpload('short');
  await store.appendUpload('short', 0, Readable.from([data]));
  await store.commitUpload('short', data.length, sha256(data));
  t.is((await collect(await store.read(sha256(data), { start: 20, end: 29 }))).length, 0);
  t.is((await collect(await store.read(sha256(data), { start: 5, end: 4 }))).length, 0);
  t.is((await collect(await store.read(sha256(data), { start: 8, end: 100 }))).toString(), '89');
});

test('s3: a presigned URL fetches the blob', async (t) => {
  const store = await openStore({ prefix: 'berth' });
  t.teardown(() => store.destroy());
  t.true(canPresign(store));
  t.false(canPresign(new FsBlobStore(tmpdir())), 'the constructor does no I/O');
  const data = randomBytes(100_000);
  await store.createUpload('presign');
  await store.appendUpload('presign', 0, Readable.from([data]));
  await store.commitUpload('presign', data.length, sha256(data));
  const url = await store.presignedGetUrl(sha256(data), 60);
  t.true(url.includes('/berth/blobs/sha256/'), url);
  const res = await fetch(url);
  t.is(res.status, 200);
  sameBytes(t, Buffer.from(await res.arrayBuffer()), data);
});

test('s3: with an SSE-KMS key every object write asks for KMS encryption with that key', async (t) => {
  const server = await s3();
  const proxy = await faultProxy(server.endpoint, { failEvery: 0 });
  t.teardown(() => proxy.close());
  const keyId = 'arn:aws:kms:us-east-1:111122223333:key/berth-test';
  const store = await openStore({ endpoint: proxy.url, sseKmsKeyId: keyId });
  t.teardown(() => store.destroy());

  const small = randomBytes(1000);
  await store.createUpload('one'); // PutObject
  await store.appendUpload('one', 0, Readable.from([small])); // PutObject (tail rewrite)
  await store.commitUpload('one', small.length, sha256(small)); // CopyObject
  const big = randomBytes(12 * MiB);
  await store.createUpload('many');
  // Multipart through lib-storage (CreateMultipartUpload), then a second chunk.
  await appendPieces(store, 'many', [big.subarray(0, 6 * MiB), big.subarray(6 * MiB)]);
  await store.commitUpload('many', big.length, sha256(big)); // streamed multipart
  sameBytes(t, await collect(await store.read(sha256(big))), big);

  const writes = proxy.requests.filter((r) => {
    const query = new URL(r.url, 'http://x').searchParams;
    const putObject = r.method === 'PUT' && !query.has('partNumber');
    const createMultipart = r.method === 'POST' && query.has('uploads');
    return putObject || createMultipart;
  });
  const kinds = new Set(
    writes.map((r) => (r.method === 'POST' ? 'CreateMultipartUpload' : r.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject')),
  );
  t.deepEqual([...kinds].sort(), ['CopyObject', 'CreateMultipartUpload', 'PutObject']);
  for (const w of writes) {
    t.is(w.headers['x-amz-server-side-encryption'], 'aws:kms', `${w.method} ${w.url}`);
    t.is(w.headers['x-amz-server-side-encryption-aws-kms-key-id'], keyId, `${w.method} ${w.url}`);
  }
});

test('s3: SlowDown on every 3rd request is retried transparently, streamed commit parts included', async (t) => {
  const server = await s3();
  const proxy = await faultProxy(server.endpoint, { failEvery: 3, status: 503, code: 'SlowDown' });
  t.teardown(() => proxy.close());
  const store = await openStore({ endpoint: proxy.url });
  t.teardown(() => store.destroy());
  const data = randomBytes(11 * MiB);
  await store.createUpload('slow');
  // Multipart append (buffered parts, resent by the SDK), then a short chunk.
  const length = await appendPieces(store, 'slow', [data.subarray(0, 10 * MiB), data.subarray(10 * MiB)]);
  sameBytes(t, await collect(await store.readUpload('slow', length)), data);
  // Two chunks: publishing streams parts from ranged GETs, which the store retries itself.
  await store.commitUpload('slow', length, sha256(data));
  t.deepEqual(await store.stat(sha256(data)), { size: data.length });
  sameBytes(t, await collect(await store.read(sha256(data))), data);
  t.true(await store.delete(sha256(data)));
  t.true(proxy.failures > 0);
  t.log(`${proxy.failures} of ${proxy.requests.length} requests answered with 503 SlowDown`);
});

test('s3: SlowDown or 500 on every 2nd request is retried transparently', async (t) => {
  const server = await s3();
  for (const [status, code] of [
    [503, 'SlowDown'],
    [500, 'InternalError'],
  ] as const) {
    const proxy = await faultProxy(server.endpoint, { failEvery: 2, status, code });
    t.teardown(() => proxy.close());
    const store = await openStore({ endpoint: proxy.url });
    t.teardown(() => store.destroy());
    const data = randomBytes(7 * MiB);
    await store.createUpload('slow');
    const length = await appendPieces(store, 'slow', [data.subarray(0, 1 * MiB), data.subarray(1 * MiB)]);
    sameBytes(t, await collect(await store.readUpload('slow', length)), data);
    // One chunk: CopyObject, which the SDK resends itself.
    await store.commitUpload('slow', length, sha256(data));
    sameBytes(t, await collect(await store.read(sha256(data), { start: 5, end: 1_000_004 })), data.subarray(5, 1_000_005));
    t.true(await store.delete(sha256(data)));
    t.false(await store.delete(sha256(data)));
    t.true(proxy.failures > 0);
    t.log(`${status} ${code}: ${proxy.failures} of ${proxy.requests.length} requests failed`);
  }
});

test('s3: uploads under different prefixes of one bucket are separate', async (t) => {
  const server = await s3();
  const bucket = await server.newBucket();
  const a = await openStore({ bucket, prefix: 'a/' });
  const b = await openStore({ bucket, prefix: 'b' });
  t.teardown(() => {
    a.destroy();
    b.destroy();
  });
  await a.createUpload('same-id');
  await b.createUpload('same-id');
  await a.appendUpload('same-id', 0, Readable.from([Buffer.from('from a')]));
  await a.deleteUpload('same-id');
  const listed = [];
  for await (const u of b.listUploads()) listed.push(u.id);
  t.deepEqual(listed, ['same-id']);
  t.deepEqual(await chunkLayout(b, 'same-id', 'b/'), [[0, 0]]);
  for await (const u of a.listUploads()) t.fail(`unexpected upload ${u.id}`);
});

test('s3: rejects part sizes S3 cannot use', (t) => {
  t.throws(() => new S3BlobStore({ bucket: 'bucket', partSizeBytes: 1 * MiB }), { instanceOf: RangeError });
  t.throws(() => new S3BlobStore({ bucket: 'bucket', client: new S3Client({}), partSizeBytes: 5.5 }), { instanceOf: RangeError });
});
