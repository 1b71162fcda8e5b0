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

export class BlobNotFoundError extends Error {
  readonly key: string;
  constructor(key: string) {
    super(`blob or upload not found: ${key}`);
    this.key = key;
  }
}
