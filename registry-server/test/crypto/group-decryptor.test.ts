import test from 'ava';
import { randomBytes } from 'node:crypto';
import { BlobIntegrityError, encryptingStream, tagBytes, type ChunkedFormat } from '../../src/crypto/chunked-aead.ts';
import { DecryptPool } from '../../src/crypto/decrypt-pool.ts';
import { InlineDecryptor, type BlobKeyMaterial, type GroupDecryptor } from '../../src/crypto/group-decryptor.ts';

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

/** Decrypts the whole blob group by group through `d`, as the blob sender does, and joins the plaintext. */
async function decryptAll(d: GroupDecryptor, stored: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  let slot = 0;
  for (let first = 0; first <= d.lastIndex; first += d.perGroup) {
    const count = Math.min(d.perGroup, d.lastIndex - first + 1);
    const buffer = d.buffers[slot] as Buffer;
    const at = first * (d.chunkSize + tagBytes);
    let length = 0;
    for (let i = first; i < first + count; i++) length += d.storedLength(i);
    stored.copy(buffer, 0, at, at + length);
    // Copy the plaintext out before its buffer is read into again.
    for (const piece of await d.decrypt(slot, first, count)) out.push(Buffer.from(piece));
    slot = (slot + 1) % d.buffers.length;
  }
  return Buffer.concat(out);
}

const pool = new DecryptPool(2);
test.after.always(() => pool.close());

const kinds: [string, (m: BlobKeyMaterial) => GroupDecryptor][] = [
  ['inline', (m) => new InlineDecryptor(m)],
  ['worker threads', (m) => pool.decryptor(m)],
];

for (const [kind, make] of kinds) {
  test(`${kind}: every size round-trips, including empty, partial and many-group blobs`, async (t) => {
    const format = { chunkSize: 64 * KiB };
    const c = format.chunkSize;
    for (const size of [0, 1, c - 1, c, c + 1, 16 * c, 16 * c + 7, 47 * c + 3]) {
      const plain = randomBytes(size);
      const m = materialFor(format, size);
      const stored = await seal(plain, m);
      const d = make(m);
      try {
        t.true((await decryptAll(d, stored)).equals(plain), `${size} bytes`);
      } finally {
        d.close(true);
      }
    }
  });

  test(`${kind}: a flipped bit fails its group with BlobIntegrityError and leaves other groups readable`, async (t) => {
    const format = { chunkSize: 16 * KiB };
    const c = format.chunkSize;
    const plain = randomBytes(200 * c + 5);
    const m = materialFor(format, plain.length);
    const stored = await seal(plain, m);
    const d = make(m);
    try {
      const damagedChunk = 2 * d.perGroup + 1; // inside the third group
      const at = damagedChunk * (c + tagBytes) + 100;
      stored[at] = (stored[at] as number) ^ 0x10;
      const groupOf = (first: number): Buffer => {
        const at = first * (c + tagBytes);
        const buffer = d.buffers[0] as Buffer;
        stored.copy(buffer, 0, at, at + d.perGroup * (c + tagBytes));
        return buffer;
      };
      groupOf(2 * d.perGroup);
      const err = await t.throwsAsync(d.decrypt(0, 2 * d.perGroup, d.perGroup));
      t.true(err instanceof BlobIntegrityError, `${err?.name}: ${err?.message}`);
      groupOf(d.perGroup);
      const pieces = await d.decrypt(0, d.perGroup, d.perGroup);
      t.true(Buffer.concat(pieces).equals(plain.subarray(d.perGroup * c, 2 * d.perGroup * c)));
    } finally {
      d.close(false);
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
    blobs.map(async ({ m, stored }) => {
      const d = pool.decryptor(m);
      try {
        return await decryptAll(d, stored);
      } finally {
        d.close(true);
      }
    }),
  );
  results.forEach((r, i) => t.true(r.equals((blobs[i] as (typeof blobs)[number]).plain), `blob ${i}`));
});

test('worker threads: a decryptor closed with a decryption in flight never hands its memory to another pull', async (t) => {
  const format = { chunkSize: 32 * KiB };
  const plain = randomBytes(64 * format.chunkSize);
  const m = materialFor(format, plain.length);
  const stored = await seal(plain, m);
  const first = pool.decryptor(m);
  const buffer = first.buffers[0] as Buffer;
  stored.copy(buffer, 0, 0, first.perGroup * (format.chunkSize + tagBytes));
  const inFlight = first.decrypt(0, 0, first.perGroup);
  first.close(true);
  await t.throwsAsync(inFlight, { message: /closed/ });
  const second = pool.decryptor(materialFor(format, plain.length));
  try {
    t.not((second.buffers[0] as Buffer).buffer, buffer.buffer, 'a fresh block, not the one still being written');
  } finally {
    second.close(true);
  }
  // And a cleanly closed one is reused (so pulls do not allocate shared memory each time).
  const third = pool.decryptor(m);
  const block = (third.buffers[0] as Buffer).buffer;
  third.close(true);
  const fourth = pool.decryptor(m);
  t.is((fourth.buffers[0] as Buffer).buffer, block);
  fourth.close(true);
});

test('a pool of size 0 decrypts inline', (t) => {
  const inline = new DecryptPool(0).decryptor(materialFor({ chunkSize: 16 * KiB }, 10));
  t.true(inline instanceof InlineDecryptor);
});

test('a worker that exits fails the decryptions it had, and later pulls get a new one', async (t) => {
  const own = new DecryptPool(1);
  t.teardown(() => own.close());
  const format = { chunkSize: 16 * KiB };
  const plain = randomBytes(40 * format.chunkSize + 3);
  const m = materialFor(format, plain.length);
  const stored = await seal(plain, m);
  const before = own.decryptor(m);
  t.true((await decryptAll(before, stored)).equals(plain));
  // Private, reached on purpose: nothing outside the pool can end its threads.
  const [thread] = own['threads'];
  if (!thread) throw new Error('the pool started no thread');
  await thread.worker.terminate();
  await t.throwsAsync(before.decrypt(0, 0, 1), { message: /exited/ });
  before.close(false);
  const after = own.decryptor(m);
  try {
    t.true((await decryptAll(after, stored)).equals(plain));
    t.not(own['threads'][0], thread);
  } finally {
    after.close(true);
  }
});
