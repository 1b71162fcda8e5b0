/**
 * Streaming encryption and ranged decryption of blobs in Berth's chunked AES-256-GCM at-rest
 * format. The format itself (layout, nonce, AAD, size arithmetic) is documented and computed in
 * chunked-format.ts; everything is re-exported here so callers need one import.
 */

import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ByteRange } from '../storage/blob-store.ts';
import { blobGarbage } from './young-collector.ts';
import {
  BlobIntegrityError,
  checkFormat,
  checkKeyMaterial,
  checkSize,
  chunkCount,
  defaultFormat,
  newAad,
  plainRangeToChunks,
  storedChunkLength,
  tagBytes,
  writeAadSuffix,
  writeNonce,
  type ChunkedFormat,
} from './chunked-format.ts';

export {
  BlobIntegrityError,
  chunkCount,
  defaultFormat,
  encryptedSize,
  keyBytes,
  maxChunkSize,
  minChunkSize,
  plainRangeToChunks,
  saltBytes,
  storedChunkLength,
  tagBytes,
  type ChunkSpan,
  type ChunkedFormat,
} from './chunked-format.ts';

const algorithm = 'aes-256-gcm';

/**
 * Plaintext in, stored bytes out. Holds back at most one chunk: a full chunk is sealed only once
 * a further byte arrives (or, at end of input, as the final chunk), since the final flag is part
 * of its AAD. Input pieces of any size; whole chunks inside large pieces are sealed in place
 * without copying into the hold-back buffer.
 */
export function encryptingStream(key: Buffer, salt: Buffer, context: Buffer, format: ChunkedFormat = defaultFormat): Transform {
  checkKeyMaterial(key, salt, context);
  const c = checkFormat(format);
  const secret = createSecretKey(key);
  // Reused across chunks: createCipheriv and setAAD copy what they are given.
  const nonce = Buffer.alloc(12);
  const aad = newAad(context);
  let held: Buffer | undefined; // allocated on first use, reused for every chunk
  let fill = 0;
  let index = 0;

  const seal = (stream: Transform, plain: Buffer, final: boolean): void => {
    const cipher = createCipheriv(algorithm, secret, writeNonce(nonce, salt, index), { authTagLength: tagBytes });
    cipher.setAAD(writeAadSuffix(aad, index, final));
    index += 1;
    // Ciphertext and tag go out as two buffers: joining them would copy every byte once more
    // (measured ~10-40% of encryption throughput), and the consumer owns pushed buffers anyway.
    const ct = cipher.update(plain);
    cipher.final();
    blobGarbage.add(plain.length);
    if (ct.length > 0) stream.push(ct);
    stream.push(cipher.getAuthTag());
  };

  return new Transform({
    readableHighWaterMark: c + tagBytes,
    writableHighWaterMark: c,
    transform(piece: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      try {
        let off = 0;
        while (off < piece.length) {
          // More input exists, so a full held chunk is not the last one.
          if (fill === c) {
            seal(this, held as Buffer, false);
            fill = 0;
          }
          // A whole chunk inside the piece with at least one byte after it: seal it in place.
          if (fill === 0 && piece.length - off > c) {
            seal(this, piece.subarray(off, off + c), false);
            off += c;
            continue;
          }
          held ??= Buffer.allocUnsafe(c);
          const n = piece.copy(held, fill, off, Math.min(piece.length, off + c - fill));
          fill += n;
          off += n;
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        // The empty blob still gets its (empty) final chunk.
        seal(this, held ? held.subarray(0, fill) : Buffer.alloc(0), true);
        held = undefined;
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/**
 * Authenticates and decrypts single stored chunks of one blob: the primitive under
 * decryptingStream and the positional sender. Reuses its nonce and AAD buffers across chunks.
 */
export class ChunkOpener {
  readonly chunkSize: number;
  readonly plainSize: number;
  readonly lastIndex: number;
  private readonly secret: KeyObject;
  private readonly salt: Buffer;
  private readonly nonce = Buffer.alloc(12);
  private readonly aad: Buffer;

  constructor(key: Buffer, salt: Buffer, context: Buffer, format: ChunkedFormat, plainSize: number) {
    checkKeyMaterial(key, salt, context);
    this.chunkSize = checkFormat(format);
    checkSize(plainSize);
    this.plainSize = plainSize;
    this.lastIndex = chunkCount(plainSize, format) - 1;
    this.secret = createSecretKey(key);
    this.salt = salt;
    this.aad = newAad(context);
  }

  /** Stored length of chunk `index` (its plaintext and its tag). */
  storedLength(index: number): number {
    return storedChunkLength(index, this.plainSize, { chunkSize: this.chunkSize });
  }

  /** The plaintext of chunk `index` from exactly its stored bytes; BlobIntegrityError when they fail authentication. */
  open(index: number, stored: Buffer): Buffer {
    const ctEnd = stored.length - tagBytes;
    const decipher = createDecipheriv(algorithm, this.secret, writeNonce(this.nonce, this.salt, index), { authTagLength: tagBytes });
    decipher.setAAD(writeAadSuffix(this.aad, index, index === this.lastIndex));
    decipher.setAuthTag(stored.subarray(ctEnd));
    const plain = decipher.update(stored.subarray(0, ctEnd));
    blobGarbage.add(ctEnd);
    try {
      decipher.final();
    } catch {
      // `plain` is unauthenticated: drop it, never release it.
      throw new BlobIntegrityError(`encrypted blob chunk ${index} failed authentication`);
    }
    return plain;
  }
}

/**
 * Stored bytes in, plaintext out. Input must be exactly the stored range that
 * plainRangeToChunks(range, plainSize, format) names; output is exactly the plaintext of the
 * range (the whole blob when undefined). Each chunk's plaintext is released only after its tag
 * verified; a bad tag, a short input or extra input ends the stream with BlobIntegrityError.
 */
export function decryptingStream(
  key: Buffer,
  salt: Buffer,
  context: Buffer,
  format: ChunkedFormat,
  plainSize: number,
  range?: ByteRange,
): Transform {
  const opener = new ChunkOpener(key, salt, context, format, plainSize);
  const c = opener.chunkSize;
  const span = plainRangeToChunks(range, plainSize, format);
  let held: Buffer | undefined;
  let fill = 0;
  let index = span.firstChunk;
  let skip = span.skip; // plaintext still to drop before the range
  let left = span.length; // plaintext still to emit
  let failed = false;

  // Stored length of the chunk being read (0 once past the span: no more input is allowed).
  const storedLength = (i: number): number => (i > span.lastChunk ? 0 : opener.storedLength(i));
  let need = storedLength(index);

  const open = (stored: Buffer): Buffer => {
    const plain = opener.open(index, stored);
    index += 1;
    need = storedLength(index);
    const from = skip;
    const to = Math.min(plain.length, from + left);
    skip = 0;
    left -= to - from;
    return from === 0 && to === plain.length ? plain : plain.subarray(from, to);
  };

  const emit = (stream: Transform, plain: Buffer): void => {
    if (plain.length > 0) stream.push(plain);
  };

  return new Transform({
    readableHighWaterMark: c,
    writableHighWaterMark: c + tagBytes,
    transform(piece: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      if (failed) return done();
      try {
        let off = 0;
        while (off < piece.length) {
          if (need === 0) throw new BlobIntegrityError('encrypted blob has data past its last chunk');
          // A whole stored chunk in the piece: authenticate it in place.
          if (fill === 0 && piece.length - off >= need) {
            const n = need;
            emit(this, open(piece.subarray(off, off + n)));
            off += n;
            continue;
          }
          held ??= Buffer.allocUnsafe(c + tagBytes);
          const n = piece.copy(held, fill, off, Math.min(piece.length, off + need - fill));
          fill += n;
          off += n;
          if (fill === need) {
            fill = 0;
            emit(this, open(held.subarray(0, need)));
          }
        }
        done();
      } catch (err) {
        failed = true;
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      if (need !== 0) {
        return done(new BlobIntegrityError(`encrypted blob ends inside chunk ${index}`));
      }
      held = undefined;
      done();
    },
  });
}

/**
 * Reads and decrypts a plaintext range (the whole blob when undefined). `readStored` gets the
 * inclusive stored byte range to fetch, as BlobStore.read takes it.
 */
export async function decryptRange(
  readStored: (start: number, end: number) => Promise<Readable>,
  key: Buffer,
  salt: Buffer,
  context: Buffer,
  format: ChunkedFormat,
  plainSize: number,
  range?: ByteRange,
): Promise<Readable> {
  // Build the decryptor first so bad arguments fail before any I/O.
  const out = decryptingStream(key, salt, context, format, plainSize, range);
  const { stored } = plainRangeToChunks(range, plainSize, format);
  const source = await readStored(stored.start, stored.end);
  // pipeline destroys `out` with the source's error too, so readers see storage failures.
  pipeline(source, out, () => {});
  return out;
}
