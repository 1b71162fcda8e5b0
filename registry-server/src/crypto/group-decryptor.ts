/**
 * Reads and decrypts groups of consecutive stored chunks of one encrypted blob, for the positional
 * blob sender. A group is read into one of the decryptor's buffers (slots); its plaintext comes
 * back as pieces that stay valid until that slot is opened again. Two implementations: inline (on
 * the calling thread, ChunkOpener) and in a worker thread (decrypt-pool.ts), which keeps the
 * per-chunk cipher output off the event loop's heap and, for local files, reads there too.
 */
import { BlobIntegrityError, ChunkOpener, storedChunkLength, tagBytes, type ChunkedFormat } from './chunked-aead.ts';
import type { BlobReader } from '../storage/blob-store.ts';

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
  /** Chunks per group: every slot holds this many stored chunks. */
  readonly perGroup: number;
  /** Slots to read groups into (at least two, so reading overlaps decrypting and sending). */
  readonly slots: number;
  /**
   * Reads stored chunks first..first+count-1 into `slot` and returns their plaintext. Rejects
   * with BlobIntegrityError when a chunk fails authentication or the stored blob is short.
   */
  open(slot: number, first: number, count: number): Promise<readonly Buffer[]>;
  /**
   * Ends the decryptor once nothing is reading or decrypting for it, then closes its reader.
   * reuseBuffers false when a socket write may still reference a slot.
   */
  close(reuseBuffers: boolean): Promise<void>;
}

/** Bytes of stored chunks a group buffer holds (at least one chunk). */
export const groupTarget = 1 << 20;

export function chunksPerGroup(chunkSize: number, bytes = groupTarget): number {
  return Math.max(1, Math.floor(bytes / (chunkSize + tagBytes)));
}

/** Where the stored bytes of chunks first..first+count-1 lie. */
export function groupExtent(first: number, count: number, plainSize: number, format: ChunkedFormat): { position: number; length: number } {
  const last = first + count - 1;
  const position = first * (format.chunkSize + tagBytes);
  const length = last * (format.chunkSize + tagBytes) + storedChunkLength(last, plainSize, format) - position;
  return { position, length };
}

/** Fills buffer[0, length) from `position`; a blob that ends early is damaged. */
export async function readStored(reader: BlobReader, buffer: Buffer, position: number, length: number): Promise<void> {
  let got = 0;
  while (got < length) {
    const n = await reader.read(buffer.subarray(got), length - got, position + got);
    if (n === 0) throw new BlobIntegrityError(`encrypted blob ends at ${position + got}, before ${position + length}`);
    got += n;
  }
}

/** Decrypts on the calling thread; each chunk's plaintext is a new buffer. */
export class InlineDecryptor implements GroupDecryptor {
  readonly chunkSize: number;
  readonly lastIndex: number;
  readonly perGroup: number;
  readonly slots = 2;
  private readonly buffers: readonly Buffer[];
  private readonly opener: ChunkOpener;
  private readonly reader: BlobReader;

  constructor(material: BlobKeyMaterial, reader: BlobReader) {
    this.opener = new ChunkOpener(material.key, material.salt, material.context, material.format, material.plainSize);
    this.reader = reader;
    this.chunkSize = this.opener.chunkSize;
    this.lastIndex = this.opener.lastIndex;
    this.perGroup = chunksPerGroup(this.chunkSize);
    const bytes = this.perGroup * (this.chunkSize + tagBytes);
    this.buffers = Array.from({ length: this.slots }, () => Buffer.allocUnsafe(bytes));
  }

  async open(slot: number, first: number, count: number): Promise<readonly Buffer[]> {
    const buffer = this.buffers[slot] as Buffer;
    const { position, length } = groupExtent(first, count, this.opener.plainSize, this.opener);
    await readStored(this.reader, buffer, position, length);
    const pieces: Buffer[] = [];
    let offset = 0;
    for (let i = first; i < first + count; i++) {
      const stored = this.opener.storedLength(i);
      pieces.push(this.opener.open(i, buffer.subarray(offset, offset + stored)));
      offset += stored;
    }
    return pieces;
  }

  close(_reuseBuffers: boolean): Promise<void> {
    return this.reader.close();
  }
}
