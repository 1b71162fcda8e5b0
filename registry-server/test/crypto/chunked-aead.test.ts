import test from 'ava';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BlobIntegrityError,
  decryptingStream,
  decryptRange,
  defaultFormat,
  encryptedSize,
  encryptingStream,
  plainRangeToChunks,
  type ChunkedFormat,
} from '../../src/crypto/chunked-aead.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const C = 4 * KiB; // small chunks keep the many-case tests fast; the format does not care
const small: ChunkedFormat = { chunkSize: C };
const key = randomBytes(32);
const salt = randomBytes(4);
const context = Buffer.concat([Buffer.from('berth-blob-v1'), randomBytes(32)]);

/** Deterministic sizes and offsets, so a failure reproduces. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (((x ^ (x >>> 14)) >>> 0) % n);
  };
}

/** Cuts `input` into pieces whose sizes `pieceSize` chooses. */
function* pieces(input: Buffer, pieceSize: () => number): Generator<Buffer> {
  for (let at = 0; at < input.length; ) {
    const n = Math.max(1, pieceSize());
    yield input.subarray(at, at + n);
    at += n;
  }
}

/** Feeds `input` through `stream`; returns everything it emitted and the error it ended with. */
async function drive(stream: Transform, input: Buffer, pieceSize: () => number = () => input.length): Promise<{ out: Buffer; error: unknown }> {
  const got: Buffer[] = [];
  let error: unknown;
  try {
    await pipeline(Readable.from(pieces(input, pieceSize)), stream, async (source: AsyncIterable<Buffer>) => {
      for await (const b of source) got.push(b);
    });
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(got), error };
}

async function encrypt(plain: Buffer, format: ChunkedFormat = small, pieceSize?: () => number, k = key, s = salt, ctx = context): Promise<Buffer> {
  const { out, error } = await drive(encryptingStream(k, s, ctx, format), plain, pieceSize);
  if (error) throw error;
  return out;
}

function decrypt(stored: Buffer, plainSize: number, opts: { format?: ChunkedFormat; range?: { start: number; end: number }; pieceSize?: () => number; key?: Buffer; salt?: Buffer; context?: Buffer } = {}) {
  const stream = decryptingStream(opts.key ?? key, opts.salt ?? salt, opts.context ?? context, opts.format ?? small, plainSize, opts.range);
  return drive(stream, stored, opts.pieceSize);
}

const sizes = [0, 1, C - 1, C, C + 1, 10 * C + 7];
const pieceKinds: Array<[string, () => () => number]> = [
  ['1-byte pieces', () => () => 1],
  ['odd pieces', () => { const r = prng(7); return () => 1 + r(2 * C + 17); }],
  ['tag-straddling pieces', () => () => C + 15],
  ['one huge piece', () => () => Number.MAX_SAFE_INTEGER],
];

for (const size of sizes) {
  for (const [name, make] of pieceKinds) {
    test(`round trip of ${size} bytes, ${name}`, async (t) => {
      const plain = randomBytes(size);
      const stored = await encrypt(plain, small, make());
      t.is(stored.length, encryptedSize(size, small));
      const { out, error } = await decrypt(stored, size, { pieceSize: make() });
      t.is(error, undefined);
      t.true(out.equals(plain));
    });
  }
}

test('round trips of random sizes with random pieces, default and odd chunk sizes', async (t) => {
  const r = prng(42);
  for (const format of [small, defaultFormat, { chunkSize: 4 * KiB + 16 * 37 }]) {
    for (let i = 0; i < 12; i++) {
      const size = r(i % 3 === 0 ? 3 * format.chunkSize : 40 * KiB);
      const plain = randomBytes(size);
      const stored = await encrypt(plain, format, () => 1 + r(3 * format.chunkSize));
      t.is(stored.length, encryptedSize(size, format), `size ${size}, chunk ${format.chunkSize}`);
      const { out, error } = await decrypt(stored, size, { format, pieceSize: () => 1 + r(3 * format.chunkSize) });
      t.is(error, undefined);
      t.true(out.equals(plain), `size ${size}, chunk ${format.chunkSize}`);
    }
  }
});

test('the stored bytes follow the documented layout, nonce and AAD exactly', async (t) => {
  const size = 2 * C + 5;
  const plain = randomBytes(size);
  const stored = await encrypt(plain);
  t.is(stored.length, size + 3 * 16);
  for (let i = 0; i < 3; i++) {
    const len = i === 2 ? 5 : C;
    const at = i * (C + 16);
    const nonce = Buffer.alloc(12);
    salt.copy(nonce);
    nonce.writeBigUInt64BE(BigInt(i), 4);
    const aad = Buffer.alloc(9);
    aad.writeBigUInt64BE(BigInt(i), 0);
    aad[8] = i === 2 ? 1 : 0;
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    d.setAAD(Buffer.concat([context, aad]));
    d.setAuthTag(stored.subarray(at + len, at + len + 16));
    const got = Buffer.concat([d.update(stored.subarray(at, at + len)), d.final()]);
    t.true(got.equals(plain.subarray(i * C, i * C + len)));
  }
  // The empty blob is one empty final chunk: just the tag of nothing.
  const empty = await encrypt(Buffer.alloc(0));
  const nonce = Buffer.concat([salt, Buffer.alloc(8)]);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.concat([context, Buffer.alloc(8), Buffer.from([1])]));
  c.final();
  t.true(empty.equals(c.getAuthTag()));
});

test('encryptedSize and format validation', (t) => {
  t.is(encryptedSize(0, small), 16);
  t.is(encryptedSize(1, small), 17);
  t.is(encryptedSize(C, small), C + 16);
  t.is(encryptedSize(C + 1, small), C + 1 + 32);
  t.is(encryptedSize(10 * C + 7, small), 10 * C + 7 + 11 * 16);
  t.is(encryptedSize(64 * MiB), 64 * MiB + 256 * 16);
  t.is(defaultFormat.chunkSize, 256 * KiB);
  for (const chunkSize of [0, 4080, 4 * KiB + 8, 4 * MiB + 16, 6008, Number.NaN]) {
    t.throws(() => encryptedSize(1, { chunkSize }), { instanceOf: RangeError }, String(chunkSize));
  }
  t.notThrows(() => encryptedSize(1, { chunkSize: 4 * MiB }));
  t.throws(() => encryptedSize(-1, small), { instanceOf: RangeError });
  t.throws(() => encryptingStream(randomBytes(16), salt, context, small), { instanceOf: RangeError });
  t.throws(() => encryptingStream(key, randomBytes(12), context, small), { instanceOf: RangeError });
});

test('plainRangeToChunks', (t) => {
  const size = 10 * C + 7;
  const S = C + 16;
  t.deepEqual(plainRangeToChunks({ start: 0, end: 0 }, size, small), { firstChunk: 0, lastChunk: 0, stored: { start: 0, end: S - 1 }, skip: 0, length: 1 });
  t.deepEqual(plainRangeToChunks({ start: C + 5, end: 3 * C }, size, small), { firstChunk: 1, lastChunk: 3, stored: { start: S, end: 4 * S - 1 }, skip: 5, length: 2 * C - 4 });
  t.deepEqual(plainRangeToChunks({ start: size - 1, end: size - 1 }, size, small), { firstChunk: 10, lastChunk: 10, stored: { start: 10 * S, end: 10 * S + 7 + 16 - 1 }, skip: 6, length: 1 });
  t.deepEqual(plainRangeToChunks(undefined, size, small).stored, { start: 0, end: encryptedSize(size, small) - 1 });
  t.deepEqual(plainRangeToChunks(undefined, 0, small), { firstChunk: 0, lastChunk: 0, stored: { start: 0, end: 15 }, skip: 0, length: 0 });
  t.deepEqual(plainRangeToChunks(undefined, C, small).stored, { start: 0, end: S - 1 });
  for (const bad of [{ start: -1, end: 3 }, { start: 5, end: 4 }, { start: 0, end: size }, { start: 0.5, end: 3 }]) {
    t.throws(() => plainRangeToChunks(bad, size, small), { instanceOf: RangeError }, JSON.stringify(bad));
  }
  t.throws(() => plainRangeToChunks({ start: 0, end: 0 }, 0, small), { instanceOf: RangeError });
});

test('every kind of range decrypts to the plaintext slice', async (t) => {
  const size = 10 * C + 7;
  const plain = randomBytes(size);
  const stored = await encrypt(plain);
  const ranges = [
    { start: 0, end: 0 },
    { start: C, end: C }, // first byte of a chunk
    { start: C, end: 2 * C - 1 }, // exactly one chunk
    { start: C + 5, end: C + 100 }, // inside a chunk
    { start: C - 1, end: C }, // across one boundary
    { start: 3, end: 7 * C + 9 }, // across many chunks
    { start: 10 * C, end: size - 1 }, // the short last chunk
    { start: size - 1, end: size - 1 }, // last byte
    { start: 0, end: size - 1 }, // whole
  ];
  const r = prng(9);
  for (let i = 0; i < 40; i++) {
    const a = r(size);
    const b = r(size);
    ranges.push({ start: Math.min(a, b), end: Math.max(a, b) });
  }
  for (const range of ranges) {
    const span = plainRangeToChunks(range, size, small);
    const want = plain.subarray(range.start, range.end + 1);
    const { out, error } = await decrypt(stored.subarray(span.stored.start, span.stored.end + 1), size, { range, pieceSize: () => 1 + r(C + 40) });
    t.is(error, undefined, JSON.stringify(range));
    t.true(out.equals(want), JSON.stringify(range));
    // decryptRange asks storage for exactly the span (inclusive ends, as BlobStore.read).
    const asked: Array<[number, number]> = [];
    const readable = await decryptRange(
      async (start, end) => {
        asked.push([start, end]);
        return Readable.from([stored.subarray(start, end + 1)]);
      },
      key, salt, context, small, size, range,
    );
    const got: Buffer[] = [];
    for await (const b of readable) got.push(b as Buffer);
    t.deepEqual(asked, [[span.stored.start, span.stored.end]]);
    t.true(Buffer.concat(got).equals(want), JSON.stringify(range));
  }
  // Whole blob without a range, including the empty blob.
  const whole = await decryptRange(async (s, e) => Readable.from([stored.subarray(s, e + 1)]), key, salt, context, small, size);
  t.true(Buffer.concat(await whole.toArray()).equals(plain));
  const empty = await encrypt(Buffer.alloc(0));
  const none = await decryptRange(async (s, e) => Readable.from([empty.subarray(s, e + 1)]), key, salt, context, small, 0);
  t.is(Buffer.concat(await none.toArray()).length, 0);
});

test('decryptRange passes on storage errors', async (t) => {
  const stored = await encrypt(randomBytes(3 * C));
  const out = await decryptRange(
    async () => {
      const p = new PassThrough();
      p.write(stored.subarray(0, C));
      setImmediate(() => p.destroy(new Error('disk gone')));
      return p;
    },
    key, salt, context, small, 3 * C,
  );
  await t.throwsAsync(out.toArray(), { message: 'disk gone' });
});

// --- tampering ---

const size = 10 * C + 7;
const S = C + 16;
const chunks = 11;
const lastLen = 7;

async function fixture(): Promise<{ plain: Buffer; stored: Buffer }> {
  const plain = randomBytes(size);
  return { plain, stored: await encrypt(plain) };
}

/** Decryption must fail with BlobIntegrityError and emit only a prefix of whole good chunks before `bad`. */
async function rejects(t: import('ava').ExecutionContext, plain: Buffer, stored: Buffer, plainSize: number, bad: number, what: string, opts: Parameters<typeof decrypt>[2] = {}): Promise<void> {
  for (const pieceSize of [() => stored.length, () => 1, () => 3 * C + 5]) {
    const { out, error } = await decrypt(stored, plainSize, { ...opts, pieceSize });
    t.true(error instanceof BlobIntegrityError, `${what}: ${String(error)}`);
    t.true(out.length <= bad * C, `${what}: emitted ${out.length} bytes, chunk ${bad} is bad`);
    t.true(out.equals(plain.subarray(0, out.length)), `${what}: emitted bytes are not plaintext`);
  }
}

test('a flipped bit in any chunk ciphertext or tag is detected, and its plaintext never emitted', async (t) => {
  const { plain, stored } = await fixture();
  const r = prng(3);
  for (let i = 0; i < chunks; i++) {
    const len = i === chunks - 1 ? lastLen : C;
    const ct = Buffer.from(stored);
    ct[i * S + r(len)]! ^= 1 << r(8);
    await rejects(t, plain, ct, size, i, `ciphertext of chunk ${i}`);
    const tag = Buffer.from(stored);
    tag[i * S + len + r(16)]! ^= 1 << r(8);
    await rejects(t, plain, tag, size, i, `tag of chunk ${i}`);
  }
});

test('swapped chunks are detected', async (t) => {
  const { plain, stored } = await fixture();
  const swapped = Buffer.from(stored);
  stored.copy(swapped, 2 * S, 5 * S, 6 * S);
  stored.copy(swapped, 5 * S, 2 * S, 3 * S);
  await rejects(t, plain, swapped, size, 2, 'swap 2 and 5');
  // A chunk moved into a range read at another index fails too.
  const range = { start: 2 * C, end: 3 * C - 1 };
  const { error } = await decrypt(stored.subarray(5 * S, 6 * S), size, { range });
  t.true(error instanceof BlobIntegrityError);
});

test('truncation is detected, even when the size is lied about too', async (t) => {
  const { plain, stored } = await fixture();
  // Last chunk dropped, true size known: the input ends early.
  await rejects(t, plain, stored.subarray(0, 10 * S), size, 10, 'last chunk dropped');
  // Cut inside a chunk.
  await rejects(t, plain, stored.subarray(0, 4 * S + 100), size, 4, 'cut inside chunk 4');
  await rejects(t, plain, stored.subarray(0, stored.length - 1), size, 10, 'last tag byte dropped');
  // Last chunk dropped and the size shrunk to match: chunk 9 was not sealed as final.
  await rejects(t, plain, stored.subarray(0, 10 * S), 10 * C, 9, 'last chunk dropped, size shrunk');
  // Everything dropped and the size claimed 0: an empty final chunk never existed.
  await rejects(t, plain, stored.subarray(0, 16), 0, 0, 'claimed empty');
});

test('appended chunks are detected, even when the size is lied about too', async (t) => {
  const plain = randomBytes(3 * C);
  const stored = await encrypt(plain);
  // Extra bytes after the last chunk.
  await rejects(t, plain, Buffer.concat([stored, stored.subarray(0, S)]), 3 * C, 3, 'chunk 0 appended');
  await rejects(t, plain, Buffer.concat([stored, Buffer.alloc(1)]), 3 * C, 3, 'one byte appended');
  // A genuine chunk 3 (from a longer blob under the same key) appended and the size grown:
  // chunk 2 was sealed as final.
  const longer = await encrypt(Buffer.concat([plain, randomBytes(9)]));
  const grown = Buffer.concat([stored, longer.subarray(3 * S)]);
  await rejects(t, plain, grown, 3 * C + 9, 2, 'real chunk 3 appended, size grown');
});

test('wrong key, salt or context is detected', async (t) => {
  const { plain, stored } = await fixture();
  await rejects(t, plain, stored, size, 0, 'wrong key', { key: randomBytes(32) });
  const otherSalt = Buffer.from(salt);
  otherSalt[3]! ^= 0x80;
  await rejects(t, plain, stored, size, 0, 'wrong salt', { salt: otherSalt });
  await rejects(t, plain, stored, size, 0, 'wrong context', { context: Buffer.concat([Buffer.from('berth-blob-v1'), randomBytes(32)]) });
  // The empty blob is authenticated too.
  const empty = await encrypt(Buffer.alloc(0));
  for (const opts of [{ key: randomBytes(32) }, { context: Buffer.from('berth-blob-v1') }]) {
    const { error } = await decrypt(empty, 0, opts);
    t.true(error instanceof BlobIntegrityError);
  }
  const bent = Buffer.from(empty);
  bent[0]! ^= 1;
  t.true((await decrypt(bent, 0)).error instanceof BlobIntegrityError);
});

test('a range read over a tampered chunk fails without emitting it', async (t) => {
  const { plain, stored } = await fixture();
  const bad = Buffer.from(stored);
  bad[6 * S + 10]! ^= 4;
  const range = { start: 4 * C + 3, end: 8 * C };
  const span = plainRangeToChunks(range, size, small);
  const { out, error } = await decrypt(bad.subarray(span.stored.start, span.stored.end + 1), size, { range });
  t.true(error instanceof BlobIntegrityError);
  // Chunks 4 and 5 may have been emitted (an error can discard what the reader had not taken yet); chunk 6 never.
  t.true(out.length <= 6 * C - range.start);
  t.true(out.equals(plain.subarray(range.start, range.start + out.length)));
  // Fed piece by piece, the good chunks before it do reach the reader.
  const slow = await decrypt(bad.subarray(span.stored.start, span.stored.end + 1), size, { range, pieceSize: () => 100 });
  t.true(slow.error instanceof BlobIntegrityError);
  t.true(slow.out.equals(plain.subarray(range.start, 6 * C)));
});

// --- resources ---

/** A gc() for measuring live memory (AVA does not start workers with --expose-gc). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

test.serial('memory stays bounded while streaming 64 MiB through encryption and decryption', async (t) => {
  const gc = exposeGc();
  const total = 64 * MiB;
  const piece = randomBytes(192 * KiB + 13); // odd size, reused: the source allocates nothing
  const format = defaultFormat;
  async function* source(): AsyncGenerator<Buffer> {
    for (let left = total; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
  }
  const want = createHash('sha256');
  for (let left = total; left > 0; left -= piece.length) want.update(left >= piece.length ? piece : piece.subarray(0, left));

  gc();
  const base = process.memoryUsage().arrayBuffers;
  let peak = 0;
  let seen = 0;
  let nextSample = 0;
  const got = createHash('sha256');
  await pipeline(
    source(),
    encryptingStream(key, salt, context, format),
    decryptingStream(key, salt, context, format, total),
    async (plain: AsyncIterable<Buffer>) => {
      for await (const b of plain) {
        got.update(b);
        seen += b.length;
        if (seen >= nextSample) {
          nextSample += 4 * MiB;
          // V8 frees ArrayBuffer memory in the background after a collection; let it finish.
          gc();
          await new Promise((resolve) => setTimeout(resolve, 5));
          gc();
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
        }
      }
    },
  );
  t.is(seen, total);
  t.is(got.digest('hex'), want.digest('hex'));
  t.log(`live ArrayBuffer growth while streaming 64 MiB: ${(peak / MiB).toFixed(2)} MiB`);
  t.true(peak < 8 * MiB, `grew by ${peak} bytes`);
});
