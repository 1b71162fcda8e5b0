/**
 * Berth at-rest format for encrypted blobs (chunked AES-256-GCM), layout and arithmetic only.
 * The streams that apply it live in chunked-aead.ts.
 *
 * Every blob has its own random 32-byte data key and a random 4-byte salt; both are stored,
 * the key wrapped, next to the blob's metadata, never in the stored bytes. The plaintext is cut
 * into chunks of a fixed size C (`ChunkedFormat.chunkSize`: a multiple of 16 from 4 KiB to
 * 4 MiB; 256 KiB by default, see defaultFormat; like the key and salt it is kept with the blob's
 * metadata). Only the last chunk may be shorter, and it may be empty (an empty blob is one
 * empty final chunk). Chunk i (0-based) is stored as
 *
 *     ciphertext_i (as long as plaintext chunk i) || tag_i (16 bytes)
 *
 * and the chunks follow each other with nothing else between or around them, so
 *
 *     stored size = plain size + 16 * max(1, ceil(plain size / C))
 *
 * and chunk i begins at stored offset i * (C + 16): a plaintext range maps to stored bytes
 * without reading anything else. Chunk i is sealed with AES-256-GCM under
 *
 *     nonce = salt (4 bytes) || i (8 bytes, big-endian)
 *     AAD   = context || i (8 bytes, big-endian) || final (1 byte: 1 for the last chunk, else 0)
 *
 * where `context` is chosen by the caller and fixed per blob (e.g. "berth-blob-v1" || 32-byte
 * blob id), which binds the chunks to their blob. Binding the index makes swapped or moved
 * chunks fail; binding the final flag makes dropping trailing chunks (truncation at a chunk
 * boundary) or appending chunks fail, even when the reader's idea of the size is wrong too.
 * Because the key is per blob, the index alone already makes nonces unique; the salt makes a
 * key reused by mistake unlikely to repeat a nonce. Digests stay over the plaintext.
 */

import type { ByteRange } from '../storage/blob-store.ts';

export interface ChunkedFormat {
  /** Plaintext bytes per chunk (the last one may be shorter). */
  chunkSize: number;
}

export const tagBytes = 16;
export const keyBytes = 32;
export const saltBytes = 4;
export const minChunkSize = 4 * 1024;
export const maxChunkSize = 4 * 1024 * 1024;

/**
 * 256 KiB. node:crypto pays a fixed cost per chunk (a new GCM context, a fresh output buffer
 * per update call, two stream pushes); measured on 64 MiB, 64 KiB chunks ran at ~55-60% of
 * one-context AES-GCM, 256 KiB at ~65-85%, 1 MiB at ~70-100%. 256 KiB gets most of that gain
 * while keeping a stream's memory (at most ~2 chunks) and a range read's extra work (at most
 * two chunks decrypted beyond the range) small, and divides the stores' 1 MiB I/O size. Tag
 * space is 16 B per chunk (0.006%). The chunk size is not stored in the blob: record it with
 * the wrapped key, so that this default can change without breaking older blobs.
 */
export const defaultFormat: ChunkedFormat = Object.freeze({ chunkSize: 256 * 1024 });

/** Thrown (or emitted by the streams) when stored bytes fail authentication or are cut short or extended. */
export class BlobIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlobIntegrityError';
  }
}

export function checkFormat(format: ChunkedFormat): number {
  const c = format.chunkSize;
  if (!Number.isInteger(c) || c < minChunkSize || c > maxChunkSize || c % 16 !== 0) {
    throw new RangeError(`chunkSize must be a multiple of 16 from ${minChunkSize} to ${maxChunkSize}, not ${c}`);
  }
  return c;
}

export function checkSize(plainSize: number): void {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) throw new RangeError(`invalid plaintext size ${plainSize}`);
}

/** Number of stored chunks for a plaintext of this size (at least one: the empty blob has an empty final chunk). */
export function chunkCount(plainSize: number, format: ChunkedFormat): number {
  const c = checkFormat(format);
  checkSize(plainSize);
  return Math.max(1, Math.ceil(plainSize / c));
}

/** Stored length of chunk `index` (its plaintext and its tag): only the last chunk may be short. */
export function storedChunkLength(index: number, plainSize: number, format: ChunkedFormat): number {
  const last = chunkCount(plainSize, format) - 1;
  return (index === last ? plainSize - index * format.chunkSize : format.chunkSize) + tagBytes;
}

export function encryptedSize(plainSize: number, format: ChunkedFormat = defaultFormat): number {
  return plainSize + tagBytes * chunkCount(plainSize, format);
}

/** What to read from storage, and what to keep of its plaintext, to serve a plaintext range. */
export interface ChunkSpan {
  /** First and last chunk index, inclusive. */
  readonly firstChunk: number;
  readonly lastChunk: number;
  /** Stored bytes to read, both ends inclusive (as ByteRange / HTTP Range). */
  readonly stored: ByteRange;
  /** Plaintext bytes of the first chunk to drop before the range begins. */
  readonly skip: number;
  /** Plaintext bytes of the range (end - start + 1, or 0 for the whole empty blob). */
  readonly length: number;
}

/**
 * Maps an inclusive plaintext range (undefined: the whole blob, the only choice for an empty
 * one) to the chunks that hold it and their stored byte range.
 */
export function plainRangeToChunks(range: ByteRange | undefined, plainSize: number, format: ChunkedFormat = defaultFormat): ChunkSpan {
  const c = checkFormat(format);
  const count = chunkCount(plainSize, format);
  const start = range?.start ?? 0;
  const end = range?.end ?? plainSize - 1;
  if (range && (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= plainSize)) {
    throw new RangeError(`range ${start}-${end} is not within a blob of ${plainSize} bytes`);
  }
  if (plainSize === 0) {
    // Still read (and so authenticate) the empty final chunk: an empty answer must be genuine too.
    return { firstChunk: 0, lastChunk: 0, stored: { start: 0, end: tagBytes - 1 }, skip: 0, length: 0 };
  }
  const firstChunk = Math.floor(start / c);
  const lastChunk = Math.floor(end / c);
  const storedChunk = c + tagBytes;
  const lastPlain = lastChunk === count - 1 ? plainSize - lastChunk * c : c;
  return {
    firstChunk,
    lastChunk,
    stored: { start: firstChunk * storedChunk, end: lastChunk * storedChunk + lastPlain + tagBytes - 1 },
    skip: start - firstChunk * c,
    length: end - start + 1,
  };
}

/** Writes the 12-byte nonce of chunk `index` into `out` (reused by the streams to avoid allocation). */
export function writeNonce(out: Buffer, salt: Buffer, index: number): Buffer {
  salt.copy(out, 0, 0, saltBytes);
  writeIndex(out, saltBytes, index);
  return out;
}

/** Fills the 9-byte suffix of a preallocated AAD buffer (context || index || final). */
export function writeAadSuffix(aad: Buffer, index: number, final: boolean): Buffer {
  const at = aad.length - 9;
  writeIndex(aad, at, index);
  aad[at + 8] = final ? 1 : 0;
  return aad;
}

export function newAad(context: Buffer): Buffer {
  const aad = Buffer.alloc(context.length + 9);
  context.copy(aad, 0);
  return aad;
}

function writeIndex(out: Buffer, at: number, index: number): void {
  // Indexes stay below 2^53 (sizes are safe integers), so two 32-bit halves are exact.
  out.writeUInt32BE(Math.floor(index / 0x1_0000_0000), at);
  out.writeUInt32BE(index >>> 0, at + 4);
}

export function checkKeyMaterial(key: Buffer, salt: Buffer, context: Buffer): void {
  if (key.length !== keyBytes) throw new RangeError(`data key must be ${keyBytes} bytes`);
  if (salt.length !== saltBytes) throw new RangeError(`salt must be ${saltBytes} bytes`);
  if (!Buffer.isBuffer(context)) throw new TypeError('context must be a Buffer');
}
