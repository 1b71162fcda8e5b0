// The BlobStore conformance suite. Every implementation runs it with a few lines:
//   blobStoreConformance('fs', async () => ({ store, cleanup }))
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import { BlobNotFoundError, hasPositionalReads, type BlobStore } from '../../src/storage/blob-store.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let counter = 0;
const uploadId = (): string => `conf-${process.pid}-${Date.now()}-${counter++}`;

export function blobStoreConformance(name: string, open: () => Promise<BlobStoreFixture>): void {
  const withStore = (title: string, fn: (t: import('ava').ExecutionContext, store: BlobStore) => Promise<void>): void => {
    test(`${name} blob store: ${title}`, async (t) => {
      const fixture = await open();
      t.teardown(() => fixture.cleanup());
      await fn(t, fixture.store);
    });
  };

  withStore('upload in pieces, commit, read back whole and by range', async (t, store) => {
    const data = randomBytes(300_000);
    const id = uploadId();
    await store.createUpload(id);
    let len = await store.appendUpload(id, 0, Readable.from([data.subarray(0, 100_000)]));
    t.is(len, 100_000);
    len = await store.appendUpload(id, len, Readable.from([data.subarray(100_000, 250_000), data.subarray(250_000)]));
    t.is(len, 300_000);
    t.deepEqual(await collect(await store.readUpload(id, 200_000)), data.subarray(0, 200_000));
    const digest = sha256(data);
    t.is(await store.stat(digest), undefined, 'not visible before commit');
    await store.commitUpload(id, len, digest);
    t.deepEqual(await store.stat(digest), { size: 300_000 });
    t.deepEqual(await collect(await store.read(digest)), data);
    t.deepEqual(await collect(await store.read(digest, { start: 10, end: 19 })), data.subarray(10, 20));
    t.deepEqual(await collect(await store.read(digest, { start: 299_990, end: 299_999 })), data.subarray(299_990));
    await t.throwsAsync(store.readUpload(id, 1), { instanceOf: BlobNotFoundError }, 'upload is gone after commit');
  });

  withStore('append at an earlier offset drops bytes a crashed write left behind', async (t, store) => {
    const id = uploadId();
    await store.createUpload(id);
    await store.appendUpload(id, 0, Readable.from([Buffer.from('hello world')]));
    // The durable offset was 5: everything past it is discarded before appending.
    const len = await store.appendUpload(id, 5, Readable.from([Buffer.from('!')]));
    t.is(len, 6);
    t.is((await collect(await store.readUpload(id, 6))).toString(), 'hello!');
  });

  withStore('commit publishes only the first `length` bytes', async (t, store) => {
    const id = uploadId();
    await store.createUpload(id);
    await store.appendUpload(id, 0, Readable.from([Buffer.from('abcdefgh')]));
    const digest = sha256(Buffer.from('abcd'));
    await store.commitUpload(id, 4, digest);
    t.is((await collect(await store.read(digest))).toString(), 'abcd');
  });

  withStore('missing blobs and uploads are reported as BlobNotFoundError', async (t, store) => {
    const digest = sha256(randomBytes(8));
    await t.throwsAsync(store.read(digest), { instanceOf: BlobNotFoundError });
    t.is(await store.stat(digest), undefined);
    t.false(await store.delete(digest));
    await t.throwsAsync(store.appendUpload(uploadId(), 0, Readable.from([Buffer.from('x')])), { instanceOf: BlobNotFoundError });
    await t.notThrowsAsync(store.deleteUpload(uploadId()), 'deleting a missing upload is not an error');
  });

  withStore('two uploads of the same content commit concurrently to one intact blob', async (t, store) => {
    const data = randomBytes(2 * 1024 * 1024);
    const digest = sha256(data);
    const ids = [uploadId(), uploadId(), uploadId()];
    await Promise.all(ids.map((id) => store.createUpload(id)));
    await Promise.all(ids.map((id) => store.appendUpload(id, 0, Readable.from([data]))));
    await Promise.all(ids.map((id) => store.commitUpload(id, data.length, digest)));
    t.deepEqual(await collect(await store.read(digest)), data);
  });

  withStore('uploads are listed until committed or deleted', async (t, store) => {
    const a = uploadId();
    const b = uploadId();
    await store.createUpload(a);
    await store.createUpload(b);
    const listed = async (): Promise<Set<string>> => {
      const ids = new Set<string>();
      for await (const u of store.listUploads()) {
        t.true(u.modified instanceof Date);
        ids.add(u.id);
      }
      return ids;
    };
    let ids = await listed();
    t.true(ids.has(a) && ids.has(b));
    await store.deleteUpload(a);
    await store.appendUpload(b, 0, Readable.from([Buffer.from('x')]));
    await store.commitUpload(b, 1, sha256(Buffer.from('x')));
    ids = await listed();
    t.false(ids.has(a));
    t.false(ids.has(b));
  });

  withStore('positional reads, where the store offers them, return the same bytes', async (t, store) => {
    if (!hasPositionalReads(store)) {
      t.pass('this store streams only');
      return;
    }
    const data = randomBytes(10_000);
    const id = uploadId();
    await store.createUpload(id);
    await store.appendUpload(id, 0, Readable.from([data]));
    await store.commitUpload(id, data.length, sha256(data));
    const reader = await store.openBlob(sha256(data));
    t.is(reader.size, 10_000);
    const buf = Buffer.alloc(100);
    t.is(await reader.read(buf, 100, 9_950), 50);
    t.deepEqual(buf.subarray(0, 50), data.subarray(9_950));
    t.is(await reader.read(buf, 100, 10_000), 0);
    await reader.close();
    await t.throwsAsync(store.openBlob(sha256(randomBytes(4))), { instanceOf: BlobNotFoundError });
  });

  withStore('delete removes a blob', async (t, store) => {
    const id = uploadId();
    const data = Buffer.from('to be deleted');
    await store.createUpload(id);
    await store.appendUpload(id, 0, Readable.from([data]));
    await store.commitUpload(id, data.length, sha256(data));
    t.true(await store.delete(sha256(data)));
    t.is(await store.stat(sha256(data)), undefined);
  });

  withStore('streams a 32 MiB upload in many chunks without losing a byte', async (t, store) => {
    const id = uploadId();
    await store.createUpload(id);
    const hash = createHash('sha256');
    const chunk = randomBytes(64 * 1024);
    async function* source(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 512; i++) {
        const c = Buffer.from(chunk);
        c.writeUInt32BE(i, 0);
        hash.update(c);
        yield c;
      }
    }
    const len = await store.appendUpload(id, 0, Readable.from(source()));
    t.is(len, 32 * 1024 * 1024);
    const digest = `sha256:${hash.digest('hex')}`;
    await store.commitUpload(id, len, digest);
    const check = createHash('sha256');
    for await (const c of await store.read(digest)) check.update(c as Buffer);
    t.is(`sha256:${check.digest('hex')}`, digest);
  });
}
