// Benchmark content: incompressible, distinct per seed, and reproducible, so that a blob too large
// to keep in memory can be produced twice (once to learn its digest, once to send it).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** `total` pseudo-random bytes (the AES-256-CTR keystream for `seed`), `chunkSize` at a time. */
export function* pseudoRandomChunks(total: number, seed: string, chunkSize = MiB): Generator<Buffer> {
  const key = createHash('sha256').update(`berth-bench/${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(Math.min(chunkSize, total));
  for (let left = total; left > 0; ) {
    const n = Math.min(left, zeros.length);
    yield cipher.update(n === zeros.length ? zeros : zeros.subarray(0, n));
    left -= n;
  }
}

/** Overwrites `out` with the bytes pseudoRandomChunks(out.length, seed) produces; returns it. */
export function fillPseudoRandom(out: Buffer, seed: string): Buffer {
  let offset = 0;
  for (const chunk of pseudoRandomChunks(out.length, seed)) offset += chunk.copy(out, offset);
  return out;
}

/** The same bytes as pseudoRandomChunks, in one new buffer. */
export function pseudoRandomBuffer(total: number, seed: string): Buffer {
  return fillPseudoRandom(Buffer.allocUnsafe(total), seed);
}

/** Views of `data`, `chunkSize` bytes each (no copies). */
export function* slices(data: Uint8Array, chunkSize = MiB): Generator<Uint8Array> {
  for (let offset = 0; offset < data.byteLength; offset += chunkSize) yield data.subarray(offset, Math.min(offset + chunkSize, data.byteLength));
}

export function sha256(data: Uint8Array | Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  if (data instanceof Uint8Array) hash.update(data);
  else for (const chunk of data) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

export interface Blob {
  readonly data: Buffer;
  readonly digest: string;
}

/** `count` distinct random blobs of `minBytes`..`maxBytes` bytes each. */
export function randomBlobs(count: number, minBytes: number, maxBytes: number): Blob[] {
  const sizes = randomBytes(count * 4);
  return Array.from({ length: count }, (_, i) => {
    const data = randomBytes(minBytes + (sizes.readUInt32LE(i * 4) % (maxBytes - minBytes + 1)));
    return { data, digest: sha256(data) };
  });
}
