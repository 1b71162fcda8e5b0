import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobIntegrityError, encryptingStream, tagBytes, type ChunkedFormat } from '../../src/crypto/chunked-aead.ts';
import { DecryptPool } from '../../src/crypto/decrypt-pool.ts';
import { InlineDecryptor, type BlobKeyMaterial, type GroupDecryptor } from '../../src/crypto/group-decryptor.ts';
import type { BlobReader } from '../../src/storage/blob-store.ts';

const KiB = 1024;

async function seal(plain: Buffer, material: Omit<BlobKeyMaterial, 'plainSize'>): Promise<Buffer> {
  const enc = encryptingStream(material.key, material.salt, material.context, material.format);
  const parts: Buffer[] = [];
  enc.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((resolve, reject) => enc.on('end', resolve).on('error', reject));
  enc.end(plain);
  await done;
  return Buffer.concat(parts);
}

function materialFor(format: ChunkedFormat, plainSize: number): BlobKeyMaterial {
  return { key: randomBytes(32), salt: randomBytes(4), context: Buffer.from(`berth-blob-v1:${randomBytes(8).toString('hex')}`), format, plainSize };
}

type Opened = BlobReader & { readonly closed: () => boolean };

/** A reader over bytes in memory: no descriptor, so the event loop reads for the worker. */
async function memoryReader(stored: Buffer): Promise<Opened> {
  let closed = false;
  return {
    size: stored.length,
    read: async (buffer, length, position) => stored.copy(buffer, 0, position, Math.min(stored.length, position + length)),
    close: async () => void (closed = true),
    closed: () => closed,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'berth-decryptor-'));
test.after.always(() => rm(dir, { recursive: true, force: true }));
let files = 0;

/** A reader over a real file, as the filesystem store opens one: the worker reads by descriptor. */
async function fileReader(stored: Buffer): Promise<Opened> {
  const path = join(dir, `blob-${files++}`);
  await writeFile(path, stored);
  const fh = await open(path, 'r');
  let closed = false;
  return {
    size: stored.length,
    fd: fh.fd,
    read: async (buffer, length, position) => (await fh.read(buffer, 0, length, position)).bytesRead,
    close: async () => {
      closed = true;
      await fh.close();
    },
    closed: () => closed,
  };
}

/** Decrypts the whole blob group by group through `d`, as the blob sender does, and joins the plaintext. */
async function decryptAll(d: GroupDecryptor): Promise<Buffer> {
  const out: Buffer[] = [];
  let slot = 0;
  for (let first = 0; first <= d.lastIndex; first += d.perGroup) {
    const count = Math.min(d.perGroup, d.lastIndex - first + 1);
    // Copy the plaintext out before its slot is opened again.
    for (const piece of await d.open(slot, first, count)) out.push(Buffer.from(piece));
    slot = (slot + 1) % d.slots;
  }
  return Buffer.concat(out);
}

// Private, read on purpose: the shared block a worker decryptor's slots live in.
const memoryOf = (d: GroupDecryptor): SharedArrayBuffer => (d as unknown as { memory: SharedArrayBuffer }).memory;

const pool = new DecryptPool(2);
test.after.always(() => pool.close());

type Kind = [string, (m: BlobKeyMaterial, stored: Buffer) => Promise<{ d: GroupDecryptor; reader: Opened }>];
const kinds: Kind[] = [
  ['inline', async (m, stored) => { const reader = await fileReader(stored); return { d: new InlineDecryptor(m, reader), reader }; }],
  ['worker, event loop reads', async (m, stored) => { const reader = await memoryReader(stored); return { d: pool.decryptor(m, reader), reader }; }],
  ['worker reads the file', async (m, stored) => { const reader = await fileReader(stored); return { d: pool.decryptor(m, reader), reader }; }],
];

for (const [kind, make] of kinds) {
  test(`${kind}: every size round-trips, including empty, partial and many-group blobs; close closes the blob`, async (t) => {
    const format = { chunkSize: 64 * KiB };
    const c = format.chunkSize;
    for (const size of [0, 1, c - 1, c, c + 1, 16 * c, 16 * c + 7, 47 * c + 3]) {
      const plain = randomBytes(size);
      const m = materialFor(format, size);
      const { d, reader } = await make(m, await seal(plain, m));
      try {
        t.true((await decryptAll(d)).equals(plain), `${size} bytes`);
      } finally {
        await d.close(true);
      }
      t.true(reader.closed(), `${size} bytes: reader closed`);
    }
  });

  test(`${kind}: a flipped bit fails its group with BlobIntegrityError and leaves other groups readable`, async (t) => {
    const format = { chunkSize: 16 * KiB };
    const c = format.chunkSize;
    const plain = randomBytes(200 * c + 5);
    const m = materialFor(format, plain.length);
    const stored = await seal(plain, m);
    const perGroup = Math.floor((1 << 20) / (c + tagBytes));
    const at = (2 * perGroup + 1) * (c + tagBytes) + 100; // inside the third group
    stored[at] = (stored[at] as number) ^ 0x10;
    const { d } = await make(m, stored);
    try {
      t.is(d.perGroup, perGroup);
      const err = await t.throwsAsync(d.open(0, 2 * perGroup, perGroup));
      t.true(err instanceof BlobIntegrityError, `${err?.name}: ${err?.message}`);
      const pieces = await d.open(1, perGroup, perGroup);
      t.true(Buffer.concat(pieces).equals(plain.subarray(perGroup * c, 2 * perGroup * c)));
    } finally {
      await d.close(false);
    }
  });

  test(`${kind}: a stored blob cut short fails with BlobIntegrityError`, async (t) => {
    const format = { chunkSize: 16 * KiB };
    const plain = randomBytes(10 * format.chunkSize);
    const m = materialFor(format, plain.length);
    const stored = await seal(plain, m);
    const { d } = await make(m, stored.subarray(0, stored.length - 20));
    try {
      const err = await t.throwsAsync(d.open(0, 0, d.lastIndex + 1));
      t.true(err instanceof BlobIntegrityError, `${err?.name}: ${err?.message}`);
      t.regex(err?.message ?? '', /ends at/);
    } finally {
      await d.close(false);
    }
  });
}

test('worker threads: concurrent pulls on a shared pool each get their own bytes', async (t) => {
  const format = { chunkSize: 32 * KiB };
  const blobs = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const plain = randomBytes(100 * format.chunkSize + i * 1000);
      const m = materialFor(format, plain.length);
      return { plain, m, stored: await seal(plain, m) };
    }),
  );
  const results = await Promise.all(
    blobs.map(async ({ m, stored }, i) => {
      // Half read by the worker from files, half by the event loop.
      const d = pool.decryptor(m, i % 2 ? await fileReader(stored) : await memoryReader(stored));
      try {
        return await decryptAll(d);
      } finally {
        await d.close(true);
      }
    }),
  );
  results.forEach((r, i) => t.true(r.equals((blobs[i] as (typeof blobs)[number]).plain), `blob ${i}`));
});

test('worker threads: each pull gets one thread, the least busy, up to the pool size', async (t) => {
  const own = new DecryptPool(2);
  t.teardown(() => own.close());
  const format = { chunkSize: 16 * KiB };
  const m = materialFor(format, 3 * format.chunkSize);
  const stored = await seal(randomBytes(m.plainSize), m);
  const a = own.decryptor(m, await memoryReader(stored));
  const b = own.decryptor(m, await memoryReader(stored));
  const c = own.decryptor(m, await memoryReader(stored));
  // Private, read on purpose: which threads the pulls were given.
  t.deepEqual(
    own['threads'].map((thread) => thread.active),
    [2, 1],
  );
  await Promise.all([a, b, c].map((d) => d.close(true)));
  t.deepEqual(
    own['threads'].map((thread) => thread.active),
    [0, 0],
  );
});

test('worker threads: close waits for the worker to drop the pull before closing the file and reusing the memory', async (t) => {
  const own = new DecryptPool(1);
  t.teardown(() => own.close());
  const format = { chunkSize: 32 * KiB };
  const plain = randomBytes(64 * format.chunkSize);
  const m = materialFor(format, plain.length);
  const stored = await seal(plain, m);
  const reader = await fileReader(stored);
  // The file must not be closed (its descriptor could be reused) while the worker may still read it.
  let sessionsAtClose = -1;
  const watched: BlobReader = { size: reader.size, fd: reader.fd as number, read: reader.read, close: () => ((sessionsAtClose = own['threads'][0]?.sessions.size ?? -1), reader.close()) };
  const first = own.decryptor(m, watched);
  const block = memoryOf(first);
  const inFlight = first.open(0, 0, first.perGroup);
  const closing = first.close(true);
  await t.throwsAsync(inFlight, { message: /closed/ });
  // Until the worker has answered, the block is not free for another pull.
  const second = own.decryptor(m, await memoryReader(stored));
  t.not(memoryOf(second), block, 'a fresh block, not the one possibly still being written');
  await closing;
  t.is(sessionsAtClose, 1, 'only the second pull was on the thread when the file was closed');
  t.true(reader.closed());
  await second.close(true);
  // Cleanly closed blocks are reused (so pulls do not allocate shared memory each time).
  const third = own.decryptor(m, await memoryReader(stored));
  t.is(memoryOf(third), block);
  await third.close(true);
});

test('worker threads: a group opened after closing began is refused without reading into the memory', async (t) => {
  const format = { chunkSize: 16 * KiB };
  const plain = randomBytes(8 * format.chunkSize);
  const m = materialFor(format, plain.length);
  const inner = await memoryReader(await seal(plain, m));
  let reads = 0;
  const counted: BlobReader = { size: inner.size, read: (b, l, p) => (reads++, inner.read(b, l, p)), close: inner.close };
  const d = pool.decryptor(m, counted);
  const closing = d.close(true);
  // The sender's read-ahead can still reach open() after its loop ended in an error.
  await t.throwsAsync(d.open(0, 0, 1), { message: /closed/ });
  await closing;
  t.is(reads, 0);
});

test('a pool of size 0 decrypts inline', async (t) => {
  const reader = await memoryReader(Buffer.alloc(0));
  const inline = new DecryptPool(0).decryptor(materialFor({ chunkSize: 16 * KiB }, 10), reader);
  t.true(inline instanceof InlineDecryptor);
  await inline.close(true);
  t.true(reader.closed());
});

test('a worker that exits fails the decryptions it had, and later pulls get a new one', async (t) => {
  const own = new DecryptPool(1);
  t.teardown(() => own.close());
  const format = { chunkSize: 16 * KiB };
  const plain = randomBytes(40 * format.chunkSize + 3);
  const m = materialFor(format, plain.length);
  const stored = await seal(plain, m);
  const before = own.decryptor(m, await fileReader(stored));
  t.true((await decryptAll(before)).equals(plain));
  // Private, reached on purpose: nothing outside the pool can end its threads.
  const [thread] = own['threads'];
  if (!thread) throw new Error('the pool started no thread');
  await thread.worker.terminate();
  await t.throwsAsync(before.open(0, 0, 1), { message: /exited/ });
  await before.close(false);
  const after = own.decryptor(m, await fileReader(stored));
  try {
    t.true((await decryptAll(after)).equals(plain));
    t.not(own['threads'][0], thread);
  } finally {
    await after.close(true);
  }
});
