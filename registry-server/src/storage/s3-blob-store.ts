import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type _Object,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BlobNotFoundError, type BlobInfo, type BlobStore, type ByteRange, type PresigningBlobStore } from './blob-store.ts';
import { KeyLayout } from './s3/keys.ts';
import { concatRanges, maxPartBytes, planParts, streamPartsToObject, type SourceRange } from './s3/multipart.ts';

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket ("berth/" or "berth"); empty by default. */
  readonly prefix?: string;
  /** Defaults to AWS_REGION, then us-east-1 (S3-compatible services mostly ignore it). */
  readonly region?: string;
  /** For S3-compatible services (MinIO, Ceph, R2...): their base URL. */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Multipart part size and minimum size of every chunk but the last; default 8 MiB, at least 5 MiB. */
  readonly partSizeBytes?: number;
  /** When set, every object written is encrypted with this KMS key (SSE-KMS). */
  readonly sseKmsKeyId?: string;
  /** Attempts per request, retries included, with backoff on SlowDown and 5xx; default 5. */
  readonly maxAttempts?: number;
  /**
   * An AwsCredentialIdentity ({ accessKeyId, secretAccessKey, sessionToken? }) or a provider of
   * one; else the SDK's default provider chain (environment, profile, instance role...).
   */
  readonly credentials?: S3ClientConfig['credentials'];
  /** A preconfigured client; the options above that configure a client are then ignored. */
  readonly client?: S3Client;
}

/** One stored piece of an upload: bytes [offset, offset + size) of it. */
interface Chunk {
  readonly key: string;
  readonly offset: number;
  readonly size: number;
}

const MiB = 1024 * 1024;
const minPartBytes = 5 * MiB;
// CopyObject copies at most 5 GiB in one request.
const maxCopyBytes = 5 * 1024 ** 3;
const deleteBatch = 1000;
// Parts copied at once while publishing; each is a stream, so this bounds sockets, not memory.
const commitConcurrency = 4;
// The SDK otherwise warns on the console whenever a streamed request fails; we retry those ourselves.
const silentLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * BlobStore on S3 or an S3-compatible service.
 *
 * S3 cannot read back the parts of an unfinished multipart upload, and an upload must survive a
 * crash and continue on another replica that re-reads it to rebuild its hash. So an upload is a
 * run of ordinary objects, `uploads/<id>/<offset>`, each at least partSizeBytes long except the
 * last (the "tail"). Appending rewrites the tail followed by the new bytes, or starts a new chunk
 * when the tail is full; both are written streaming through lib-storage, which holds at most a
 * few parts in memory whatever the size of the body. Chunk 0 always exists (empty at first), so
 * an upload is present exactly while it has objects.
 *
 * Publishing copies the chunks into `blobs/<algorithm>/<hh>/<hex>` (CopyObject for one chunk, a
 * multipart upload fed by ranged GETs for several) and then deletes the upload.
 */
export class S3BlobStore implements BlobStore, PresigningBlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly partSizeBytes: number;
  private readonly keys: KeyLayout;
  private readonly maxAttempts: number;
  private readonly sse: Record<string, string>;
  private readonly ownsClient: boolean;

  constructor(options: S3BlobStoreOptions) {
    if (options.bucket.length < 3) throw new Error(`invalid bucket name ${JSON.stringify(options.bucket)}`);
    const partSize = options.partSizeBytes ?? 8 * MiB;
    if (!Number.isSafeInteger(partSize) || partSize < minPartBytes || partSize > maxPartBytes) {
      throw new RangeError(`partSizeBytes must be an integer from ${minPartBytes} to ${maxPartBytes}`);
    }
    this.bucket = options.bucket;
    this.partSizeBytes = partSize;
    this.keys = new KeyLayout(options.prefix);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.sse = options.sseKmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.sseKmsKeyId } : {};
    this.ownsClient = !options.client;
    this.client =
      options.client ??
      new S3Client({
        region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        // Standard mode backs off exponentially, longer for throttling (SlowDown), and retries 5xx.
        maxAttempts: this.maxAttempts,
        retryMode: 'standard',
        // Many S3-compatible services reject the aws-chunked trailing checksums the SDK would
        // otherwise add to every upload; blob digests are verified by the registry anyway.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        logger: silentLogger,
      });
  }

  /** Releases the client's sockets (when the store created the client). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  async createUpload(id: string): Promise<void> {
    // An empty chunk 0 marks the upload as existing (for append, read and listing).
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keys.chunkKey(id, 0), Body: Buffer.alloc(0), ...this.sse }));
  }

  async appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    const chunks = await this.chunks(id);
    const length = uploadLength(chunks);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > length) {
      throw new RangeError(`cannot append to upload ${id} at ${offset}: it has ${length} bytes`);
    }
    // Truncate to `offset`: drop whole chunks at or past it (a crashed write's leftovers); chunk 0
    // stays as the upload's marker and is rewritten below if it is the one cut.
    const kept = chunks.filter((c) => c.offset < offset || c.offset === 0);
    await this.deleteKeys(chunks.filter((c) => !kept.includes(c)).map((c) => c.key));
    const last = kept.at(-1) ?? { key: this.keys.chunkKey(id, 0), offset: 0, size: 0 };
    const lastSize = Math.min(last.size, offset - last.offset);

    let appended = 0;
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of data) {
        appended += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    };
    if (lastSize < this.partSizeBytes) {
      // The tail is short: rewrite it with the new bytes after it, so chunks stay part-sized.
      // lib-storage reads a whole part before sending one, so the old tail has been read by then.
      const head = { key: last.key, start: 0, end: lastSize };
      await this.writeObject(last.key, concatStreams([concatRanges([head], this.openRange), counted()]));
    } else {
      if (lastSize < last.size) await this.writeObject(last.key, concatRanges([{ key: last.key, start: 0, end: lastSize }], this.openRange));
      await this.writeObject(this.keys.chunkKey(id, offset), counted());
    }
    return offset + appended;
  }

  async readUpload(id: string, length: number): Promise<Readable> {
    const ranges = rangesUpTo(await this.chunks(id), length);
    return Readable.from(concatRanges(ranges, this.openRange), { objectMode: false });
  }

  async commitUpload(id: string, length: number, digest: string): Promise<void> {
    const chunks = await this.chunks(id);
    const key = this.keys.blobKey(digest);
    // Content-addressed: an existing blob already holds these bytes (the caller verified them).
    if (!(await this.head(key))) {
      const ranges = rangesUpTo(chunks, length);
      const total = ranges.reduce((n, r) => n + (r.end - r.start), 0);
      if (total < length) throw new Error(`upload ${id} has ${total} bytes, not ${length}`);
      const only = ranges.length === 1 ? (ranges[0] as SourceRange) : undefined;
      const whole = only && only.start === 0 && only.end === chunks.find((c) => c.key === only.key)?.size;
      if (whole && length <= maxCopyBytes) {
        await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: copySource(this.bucket, only.key), ...this.sse }));
      } else if (length <= this.partSizeBytes) {
        // Small: one buffered PutObject (through lib-storage), which the SDK can retry.
        await this.writeObject(key, concatRanges(ranges, this.openRange));
      } else {
        await streamPartsToObject({
          client: this.client,
          bucket: this.bucket,
          key,
          params: this.sse,
          parts: planParts(ranges, this.partSizeBytes),
          open: this.openRange,
          maxAttempts: this.maxAttempts,
          concurrency: commitConcurrency,
        });
      }
    }
    await this.deleteUpload(id);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.deleteKeys((await this.listChunks(id)).map((c) => c.key));
  }

  async *listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    // Keys come sorted, so an upload's chunks are adjacent: report each id when the next begins.
    let current: { id: string; modified: Date } | undefined;
    for await (const o of this.listObjects(this.keys.uploadsRoot)) {
      const id = o.Key ? this.keys.uploadIdOf(o.Key) : undefined;
      if (!id) continue;
      const modified = o.LastModified ?? new Date(0);
      if (current?.id === id) {
        if (modified > current.modified) current.modified = modified;
        continue;
      }
      if (current) yield current;
      current = { id, modified };
    }
    if (current) yield current;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    return this.head(this.keys.blobKey(digest));
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const key = this.keys.blobKey(digest);
    if (range && range.end < range.start) {
      if (!(await this.head(key))) throw new BlobNotFoundError(digest);
      return Readable.from([]);
    }
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      // A range that starts past the end: nothing to send, as with the filesystem store.
      if (statusOf(err) === 416) return Readable.from([]);
      throw err;
    }
  }

  async delete(digest: string): Promise<boolean> {
    const key = this.keys.blobKey(digest);
    // DeleteObject succeeds whether or not the key existed, so ask first.
    if (!(await this.head(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return true;
  }

  async presignedGetUrl(digest: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.keys.blobKey(digest) }), { expiresIn: expiresSeconds });
  }

  /** Streams `body` into one object: one PutObject when small, else a multipart upload. */
  private async writeObject(key: string, body: AsyncIterable<Buffer>): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: Readable.from(body, { objectMode: false }), ...this.sse },
      partSize: this.partSizeBytes,
      // At most ~(queueSize + 1) parts in memory; parts are buffers, so the SDK retries them.
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /** A ranged GET of bytes [start, end) of an object. */
  private readonly openRange = async (r: SourceRange): Promise<Readable> => {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: r.key, Range: `bytes=${r.start}-${r.end - 1}` }));
    return out.Body as Readable;
  };

  /** An upload's chunks in order; BlobNotFoundError when it has none. */
  private async chunks(id: string): Promise<Chunk[]> {
    const chunks = await this.listChunks(id);
    if (chunks.length === 0) throw new BlobNotFoundError(id);
    return chunks;
  }

  private async listChunks(id: string): Promise<Chunk[]> {
    const chunks: Chunk[] = [];
    for await (const o of this.listObjects(this.keys.uploadPrefix(id))) {
      const offset = o.Key ? this.keys.chunkOffset(id, o.Key) : undefined;
      if (o.Key && offset !== undefined) chunks.push({ key: o.Key, offset, size: o.Size ?? 0 });
    }
    return chunks.sort((a, b) => a.offset - b.offset);
  }

  private async *listObjects(prefix: string): AsyncGenerator<_Object> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += deleteBatch) {
      const batch = keys.slice(i, i + deleteBatch);
      const out = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = out.Errors?.[0];
      if (failed) throw new Error(`could not delete ${failed.Key ?? '?'}: ${failed.Code ?? ''} ${failed.Message ?? ''}`);
    }
  }

  private async head(key: string): Promise<BlobInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

function uploadLength(chunks: readonly Chunk[]): number {
  const last = chunks.at(-1);
  return last ? last.offset + last.size : 0;
}

/** The ranges of chunk objects that hold the first `length` bytes (fewer if the upload is shorter). */
function rangesUpTo(chunks: readonly Chunk[], length: number): SourceRange[] {
  const ranges: SourceRange[] = [];
  let position = 0;
  for (const c of chunks) {
    if (position >= length) break;
    // A gap would silently shift every later byte; better to fail loudly.
    if (c.offset !== position) throw new Error(`upload chunk ${c.key} starts at ${c.offset}, expected ${position}`);
    const end = Math.min(c.size, length - c.offset);
    if (end > 0) ranges.push({ key: c.key, start: 0, end });
    position = c.offset + c.size;
  }
  return ranges;
}

async function* concatStreams(sources: readonly AsyncIterable<Buffer>[]): AsyncGenerator<Buffer> {
  for (const s of sources) yield* s;
}

function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || (statusOf(err) === 404 && name !== 'NoSuchBucket');
}
