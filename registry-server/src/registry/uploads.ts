import { randomUUID } from 'node:crypto';
import { pipeline as streamPipeline, type Readable } from 'node:stream';
import type { Digest, DigestAlgorithm } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import type { BlobRecord, MetadataStore, Repository, UploadSession } from '../meta/metadata-store.ts';
import type { BlobVault, WriteKey } from './blob-vault.ts';
import { BlobNotFoundError } from '../storage/blob-store.ts';
import { HashingTap } from './hashing-tap.ts';
import type { HashPool, StreamHash } from './stream-hash.ts';

export interface UploadLimits {
  readonly maxBlobBytes: number;
}

/** An inclusive byte range a chunk claims to cover (from Content-Range). */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/** A session with the repository it belongs to (whose key its blobs are written under). */
export interface OpenUpload extends UploadSession {
  readonly repository: Repository;
}

interface CachedHash {
  readonly hash: StreamHash;
  readonly offset: number;
}

// How many in-progress hash states to keep; others are rebuilt from storage on demand.
const maxCachedHashes = 4096;

/**
 * Blob upload sessions: start, append chunks, finish with digest verification, cancel, and
 * single-request (monolithic) uploads. The durable state is the metadata row's offset plus the
 * stored bytes; the running hash is a cache that is rebuilt from storage after a restart or on
 * another replica.
 */
export class UploadService {
  private readonly hashes = new Map<string, CachedHash>();
  private readonly busy = new Set<string>();
  private readonly meta: MetadataStore;
  private readonly vault: BlobVault;
  private readonly limits: UploadLimits;
  private readonly hashing: HashPool;

  constructor(meta: MetadataStore, vault: BlobVault, hashing: HashPool, limits: UploadLimits) {
    this.meta = meta;
    this.vault = vault;
    this.hashing = hashing;
    this.limits = limits;
  }

  async start(repository: Repository, algorithm: DigestAlgorithm): Promise<UploadSession> {
    // A repository whose key is disabled refuses the push before any byte is sent.
    await this.vault.keyFor(repository);
    const id = randomUUID();
    await this.vault.createUpload(id);
    try {
      return await this.meta.createUpload({ id, repositoryId: repository.id, digestAlgorithm: algorithm });
    } catch (err) {
      await this.vault.deleteUpload(id);
      throw err;
    }
  }

  /** The session, if it exists and belongs to `repository`. */
  async find(repository: Repository, id: string): Promise<OpenUpload> {
    const session = /^[0-9a-f-]{36}$/.test(id) ? await this.meta.getUpload(id) : undefined;
    if (!session || session.repositoryId !== repository.id) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { detail: { uuid: id.slice(0, 100) } });
    }
    return { ...session, repository };
  }

  /** Appends one chunk (of `declaredBytes`, when the request says); returns the new durable length. */
  async append(session: OpenUpload, data: Readable, range?: ChunkRange, declaredBytes?: number): Promise<number> {
    return this.exclusive(session, async () => this.appendLocked(session, data, range, declaredBytes));
  }

  /** Closes the session: appends an optional final chunk, verifies the digest and publishes the blob. */
  async finish(session: OpenUpload, digest: Digest, data: Readable | undefined, range?: ChunkRange, declaredBytes?: number): Promise<BlobRecord> {
    return this.exclusive(session, async () => {
      const key = await this.vault.keyFor(session.repository);
      const length = data ? await this.appendLocked(session, data, range, declaredBytes) : await this.durableLength(session.id);
      let actual: string;
      try {
        actual = await this.digestOf(session.id, length, digest.algorithm);
      } catch (err) {
        if (err instanceof BlobNotFoundError) return this.recoverPublished(session, digest, length);
        throw err;
      }
      if (actual !== digest.value) {
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { expected: digest.value, computed: actual },
        });
      }
      const blob = { digest: digest.value, size: length };
      await this.vault.commit(session.id, blob.size, blob.digest, key);
      await this.meta.completeUpload(session.id, session.repositoryId, blob);
      this.forget(session.id);
      return blob;
    });
  }

  /** The session's length as recorded now (another request may have appended since it was read). */
  private async durableLength(id: string): Promise<number> {
    const current = await this.meta.getUpload(id);
    if (!current) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    return current.offset;
  }

  /**
   * The session's bytes are gone from upload storage while its row remains. Only publishing
   * removes them, after verification, so a crash hit the gap between publishing the blob and
   * recording it. Complete from the published blob when it is there with the session's length;
   * otherwise drop the session so the client starts over.
   */
  private async recoverPublished(session: UploadSession, digest: Digest, length: number): Promise<BlobRecord> {
    const stored = await this.vault.stat(digest.value);
    if (stored?.size === length) {
      const blob = { digest: digest.value, size: length };
      await this.meta.completeUpload(session.id, session.repositoryId, blob);
      return blob;
    }
    await this.meta.deleteUpload(session.id);
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'the upload data is gone; start a new upload');
  }

  async cancel(session: UploadSession): Promise<void> {
    await this.meta.deleteUpload(session.id);
    this.forget(session.id);
    await this.vault.deleteUpload(session.id);
  }

  /** A whole blob in one request (POST ?digest=), with no session row. */
  async monolithic(repository: Repository, digest: Digest, data: Readable, declaredBytes?: number): Promise<BlobRecord> {
    const key = await this.vault.keyFor(repository);
    const id = `m-${randomUUID()}`;
    await this.vault.createUpload(id);
    const hash = this.hashing.open(digest.algorithm, declaredBytes);
    try {
      const length = await this.vault.append(id, 0, through(data, this.tap(hash, 0)), key);
      const actual = await hash.peek();
      if (actual !== digest.value) {
        throw new RegistryError('DIGEST_INVALID', 'provided digest did not match uploaded content', {
          detail: { expected: digest.value, computed: actual },
        });
      }
      const blob = { digest: digest.value, size: length };
      await this.vault.commit(id, blob.size, blob.digest, key);
      await this.meta.putBlob(repository.id, blob);
      return blob;
    } catch (err) {
      await this.vault.deleteUpload(id);
      throw err;
    } finally {
      hash.dispose();
    }
  }

  /** Cross-repository mount: links an existing blob of `from` into `repository`. */
  async mount(repository: Repository, from: Repository, digest: string): Promise<BlobRecord | undefined> {
    const blob = await this.meta.getRepositoryBlob(from.id, digest);
    if (!blob) return undefined;
    // The blob's data key is wrapped under this repository's key too (or it is encrypted now).
    await this.vault.link(digest, (await this.vault.keyFor(repository))?.keyId);
    return (await this.meta.linkBlob(repository.id, digest)) ? blob : undefined;
  }

  /** Removes stored uploads that no session owns (left by a crash during a monolithic upload). */
  async sweepOrphans(olderThan: Date): Promise<number> {
    const live = await this.meta.listUploadIds();
    let removed = 0;
    for await (const u of this.vault.listUploads()) {
      if (!live.has(u.id) && u.modified < olderThan) {
        await this.vault.deleteUpload(u.id);
        removed++;
      }
    }
    return removed;
  }

  private async appendLocked(session: OpenUpload, data: Readable, range?: ChunkRange, declaredBytes?: number): Promise<number> {
    const current = await this.meta.getUpload(session.id);
    if (!current) throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
    const offset = current.offset;
    if (range && range.start !== offset) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', `chunk starts at ${range.start} but the upload has ${offset} bytes`, {
        status: 416,
        headers: rangeHeaders(offset),
      });
    }
    const algorithm = current.digestAlgorithm as DigestAlgorithm;
    let hash: StreamHash | undefined;
    let length: number;
    try {
      hash = await this.hashAt(session.id, offset, algorithm, declaredBytes === undefined ? undefined : offset + declaredBytes);
      length = await this.vault.append(session.id, offset, through(data, this.tap(hash, offset)), await this.vault.keyFor(session.repository));
    } catch (err) {
      hash?.dispose(); // it absorbed bytes that are not durable
      if (err instanceof BlobNotFoundError) {
        // Published by a finish that crashed before recording it: nothing left to append to.
        await this.meta.deleteUpload(session.id);
        throw new RegistryError('BLOB_UPLOAD_UNKNOWN', 'the upload data is gone; start a new upload');
      }
      throw err;
    }
    if (range && length - offset !== range.end - range.start + 1) {
      hash.dispose();
      throw new RegistryError('SIZE_INVALID', `chunk carried ${length - offset} bytes but Content-Range announced ${range.end - range.start + 1}`, {
        headers: rangeHeaders(offset),
      });
    }
    if (!(await this.meta.advanceUpload(session.id, offset, length))) {
      hash.dispose();
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload was changed by a concurrent request', { status: 416 });
    }
    this.remember(session.id, { hash, offset: length });
    return length;
  }

  private tap(hash: StreamHash, offset: number): HashingTap {
    const max = this.limits.maxBlobBytes;
    return new HashingTap(hash, max - offset, () => new RegistryError('SIZE_INVALID', `blob exceeds the ${max}-byte limit`, { status: 413 }));
  }

  /**
   * A hash over the first `offset` bytes of an upload, taken out of the cache (the caller owns
   * it now) or rebuilt from storage. `expectedBytes` is the size the upload is heading for.
   */
  private async hashAt(id: string, offset: number, algorithm: DigestAlgorithm, expectedBytes?: number): Promise<StreamHash> {
    const cached = this.hashes.get(id);
    this.hashes.delete(id);
    if (cached && cached.offset === offset && cached.hash.algorithm === algorithm) return cached.hash;
    cached?.hash.dispose();
    const hash = this.hashing.open(algorithm, expectedBytes ?? (offset > 0 ? offset : undefined));
    if (offset > 0) {
      try {
        const stream = await this.vault.readUpload(id, offset);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const pending = hash.update(chunk);
          if (pending) await pending;
        }
      } catch (err) {
        hash.dispose();
        throw err;
      }
    }
    return hash;
  }

  private async digestOf(id: string, length: number, algorithm: DigestAlgorithm): Promise<string> {
    const hash = await this.hashAt(id, length, algorithm);
    try {
      return await hash.peek();
    } finally {
      // Back into the cache: a failed verification leaves the session usable.
      this.remember(id, { hash, offset: length });
    }
  }

  private remember(id: string, entry: CachedHash): void {
    this.forget(id);
    if (this.hashes.size >= maxCachedHashes) {
      const oldest = this.hashes.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    this.hashes.set(id, entry);
  }

  private forget(id: string): void {
    this.hashes.get(id)?.hash.dispose();
    this.hashes.delete(id);
  }

  private async exclusive<T>(session: UploadSession, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(session.id)) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'another request is writing to this upload', { status: 416 });
    }
    this.busy.add(session.id);
    try {
      return await fn();
    } finally {
      this.busy.delete(session.id);
    }
  }
}

/** Pipes `data` into `tap` so that an error on either side (a client that hangs up) reaches the reader. */
function through(data: Readable, tap: HashingTap): Readable {
  streamPipeline(data, tap, () => {});
  return tap;
}

/** The Range header distribution clients expect: "0-<last byte>", and "0-0" for an empty upload. */
export function rangeHeaders(length: number): Record<string, string> {
  return { Range: `0-${Math.max(0, length - 1)}` };
}
