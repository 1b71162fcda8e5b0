/**
 * Decrypts groups of consecutive stored chunks of one encrypted blob, for the positional blob
 * sender. A group is read into one of the decryptor's buffers; its plaintext comes back as pieces
 * that stay valid until that buffer is read into again. Two implementations: inline (on the
 * calling thread, ChunkOpener) and in a worker thread (decrypt-pool.ts), which keeps the
 * per-chunk cipher output off the event loop's heap.
 */
import { ChunkOpener, tagBytes, type ChunkedFormat } from './chunked-aead.ts';

export interface BlobKeyMaterial {
  readonly key: Buffer;
  readonly salt: Buffer;
  readonly context: Buffer;
  readonly format: ChunkedFormat;
  readonly plainSize: number;
}

export interface GroupDecryptor {
  readonly chunkSize: number;
  readonly lastIndex: number;
  /** Chunks per group: every buffer holds this many stored chunks. */
  readonly perGroup: number;
  /** Buffers to read groups into (at least two, so reading overlaps decrypting and sending). */
  readonly buffers: readonly Buffer[];
  /** Stored length of chunk `index` (its plaintext and its tag). */
  storedLength(index: number): number;
  /**
   * The plaintext of chunks first..first+count-1, whose stored bytes fill buffers[slot] from its
   * start. Rejects with BlobIntegrityError when a chunk fails authentication.
   */
  decrypt(slot: number, first: number, count: number): Promise<readonly Buffer[]>;
  /** Ends the decryptor; reuseBuffers false when a socket write may still reference a buffer. */
  close(reuseBuffers: boolean): void;
}

/** Bytes of stored chunks a group buffer holds (at least one chunk). */
export const groupTarget = 1 << 20;

export function chunksPerGroup(chunkSize: number, bytes = groupTarget): number {
  return Math.max(1, Math.floor(bytes / (chunkSize + tagBytes)));
}

/** Decrypts on the calling thread; each chunk's plaintext is a new buffer. */
export class InlineDecryptor implements GroupDecryptor {
  readonly chunkSize: number;
  readonly lastIndex: number;
  readonly perGroup: number;
  readonly buffers: readonly Buffer[];
  private readonly opener: ChunkOpener;

  constructor(material: BlobKeyMaterial) {
    this.opener = new ChunkOpener(material.key, material.salt, material.context, material.format, material.plainSize);
    this.chunkSize = this.opener.chunkSize;
    this.lastIndex = this.opener.lastIndex;
    this.perGroup = chunksPerGroup(this.chunkSize);
    const bytes = this.perGroup * (this.chunkSize + tagBytes);
    this.buffers = [Buffer.allocUnsafe(bytes), Buffer.allocUnsafe(bytes)];
  }

  storedLength(index: number): number {
    return this.opener.storedLength(index);
  }

  async decrypt(slot: number, first: number, count: number): Promise<readonly Buffer[]> {
    const buffer = this.buffers[slot] as Buffer;
    const pieces: Buffer[] = [];
    let offset = 0;
    for (let i = first; i < first + count; i++) {
      const length = this.opener.storedLength(i);
      pieces.push(this.opener.open(i, buffer.subarray(offset, offset + length)));
      offset += length;
    }
    return pieces;
  }

  close(_reuseBuffers: boolean): void {}
}
