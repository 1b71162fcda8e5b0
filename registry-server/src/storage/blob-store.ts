import type { Readable } from 'node:stream';

/** A byte range, both ends inclusive (as in HTTP Range). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobInfo {
  readonly size: number;
}

/**
 * Content-addressed blob storage. Uploads are append-only byte sequences addressed by an id;
 * committing one publishes it atomically under its digest. The store never hashes: callers
 * verify digests while streaming. Implementations: filesystem (default), S3.
 */
export interface BlobStore {
  /** Creates an empty upload. */
  createUpload(id: string): Promise<void>;
  /**
   * Makes the upload exactly `offset` bytes long (dropping anything a crashed write left past it),
   * appends `data`, and returns the new length once the bytes are durable.
   */
  appendUpload(id: string, offset: number, data: Readable): Promise<number>;
  /** Reads the first `length` bytes of an upload (used to rebuild a hash after a restart). */
  readUpload(id: string, length: number): Promise<Readable>;
  /** Publishes the first `length` bytes of an upload as blob `digest` and removes the upload. */
  commitUpload(id: string, length: number, digest: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Upload ids present in storage with their last modification time (for sweeping orphans). */
  listUploads(): AsyncIterable<{ id: string; modified: Date }>;

  stat(digest: string): Promise<BlobInfo | undefined>;
  /** Streams a blob or a range of it; rejects with BlobNotFoundError when absent. */
  read(digest: string, range?: ByteRange): Promise<Readable>;
  /** Removes a blob; false when it was not there. */
  delete(digest: string): Promise<boolean>;
}

/** An open blob read by position into caller-owned buffers. */
export interface BlobReader {
  readonly size: number;
  /**
   * The open file's descriptor where the blob is a local file, so a worker thread can read it by
   * position itself (decryption then reads and decrypts in one thread's cache). Valid until close().
   */
  readonly fd?: number;
  /** Reads up to `length` bytes at `position` into the start of `buffer`; 0 at end of blob. */
  read(buffer: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Optional capability: stores with cheap positional reads (the filesystem) let the HTTP layer
 * reuse its buffers while streaming, instead of allocating one per chunk.
 */
export interface PositionalBlobStore {
  /** Opens a blob; rejects with BlobNotFoundError when absent. */
  openBlob(digest: string): Promise<BlobReader>;
}

export function hasPositionalReads(store: BlobStore): store is BlobStore & PositionalBlobStore {
  return typeof (store as Partial<PositionalBlobStore>).openBlob === 'function';
}

/**
 * Optional capability: stores that can hand out a time-limited URL for a blob (S3), so that
 * pulls can be redirected to the storage service instead of streaming through the registry.
 */
export interface PresigningBlobStore {
  presignedGetUrl(digest: string, expiresSeconds: number): Promise<string>;
}

export function canPresign(store: BlobStore): store is BlobStore & PresigningBlobStore {
  return typeof (store as Partial<PresigningBlobStore>).presignedGetUrl === 'function';
}

export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`blob or upload not found: ${key}`);
    this.key = key;
  }
}
