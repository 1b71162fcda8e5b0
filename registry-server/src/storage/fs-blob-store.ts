import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../digest.ts';
import { BlobNotFoundError, type BlobInfo, type BlobReader, type BlobStore, type ByteRange, type PositionalBlobStore } from './blob-store.ts';
import { FileAppender } from './file-appender.ts';

const uploadIdPattern = /^[A-Za-z0-9_-]{1,128}$/;
// Large read and write buffers: fewer syscalls and event-loop turns per gigabyte.
const ioChunk = 1 << 20;

/**
 * Filesystem BlobStore. Layout under root:
 *   blobs/<algorithm>/<first two hex>/<hex>   published, immutable content
 *   uploads/<id>                              in-progress uploads (the temporary files)
 * Publishing is fsync + rename + directory fsync, so a blob path never shows partial content.
 */
export class FsBlobStore implements BlobStore, PositionalBlobStore {
  private readonly blobsDir: string;
  private readonly uploadsDir: string;
  private readonly knownDirs = new Set<string>();
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
  }

  private uploadPath(id: string): string {
    // Ids come from us, but a store must never be talked into writing outside its root.
    if (!uploadIdPattern.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return join(this.uploadsDir, id);
  }

  private blobPath(digest: string): string {
    const d = parseDigest(digest);
    return join(this.blobsDir, d.algorithm, d.hex.slice(0, 2), d.hex);
  }

  async createUpload(id: string): Promise<void> {
    const fh = await open(this.uploadPath(id), 'wx');
    await fh.close();
  }

  async appendUpload(id: string, offset: number, data: Readable): Promise<number> {
    let fh: FileHandle;
    try {
      fh = await open(this.uploadPath(id), 'r+');
    } catch (err) {
      throw notFound(err, id);
    }
    try {
      await fh.truncate(offset);
      const out = new FileAppender(fh, offset);
      await pipeline(data, out);
      // Most bytes were flushed while the body streamed in; this makes the rest durable.
      await out.sync();
      return out.position;
    } finally {
      await fh.close();
    }
  }

  async readUpload(id: string, length: number): Promise<Readable> {
    const path = this.uploadPath(id);
    await stat(path).catch((err: unknown) => {
      throw notFound(err, id);
    });
    if (length === 0) return Readable.from([]);
    return createReadStream(path, { start: 0, end: length - 1, highWaterMark: ioChunk });
  }

  async commitUpload(id: string, length: number, digest: string): Promise<void> {
    const src = this.uploadPath(id);
    const dst = this.blobPath(digest);
    let fh: FileHandle;
    try {
      fh = await open(src, 'r+');
    } catch (err) {
      throw notFound(err, id);
    }
    try {
      await fh.truncate(length);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    const dir = join(dst, '..');
    await this.ensureDir(dir);
    // Two uploads of the same content may race here; rename replaces atomically with equal bytes.
    await rename(src, dst).catch(async (err: unknown) => {
      if (!isENOENT(err)) throw err;
      // The directory went away since we cached it (removed by hand or by a cleanup).
      this.knownDirs.delete(dir);
      await this.ensureDir(dir);
      await rename(src, dst);
    });
    await syncDir(dir);
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }

  async *listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    for (const name of await readdir(this.uploadsDir)) {
      if (!uploadIdPattern.test(name)) continue;
      const s = await stat(join(this.uploadsDir, name)).catch(() => undefined);
      if (s) yield { id: name, modified: s.mtime };
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const s = await stat(this.blobPath(digest)).catch(() => undefined);
    return s ? { size: s.size } : undefined;
  }

  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const path = this.blobPath(digest);
    // Open first so a missing blob rejects here rather than as a stream error mid-response.
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw notFound(err, digest);
    }
    if (range && range.end < range.start) {
      await fh.close();
      return Readable.from([]);
    }
    return fh.createReadStream({ start: range?.start ?? 0, end: range?.end ?? Infinity, highWaterMark: ioChunk, autoClose: true });
  }

  async openBlob(digest: string): Promise<BlobReader> {
    let fh: FileHandle;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (err) {
      throw notFound(err, digest);
    }
    const { size } = await fh.stat();
    return {
      size,
      fd: fh.fd,
      read: async (buffer, length, position) => (await fh.read(buffer, 0, length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await rm(this.blobPath(digest));
      return true;
    } catch (err) {
      if (isENOENT(err)) return false;
      throw err;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isENOENT(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function notFound(err: unknown, key: string): Error {
  return isENOENT(err) ? new BlobNotFoundError(key) : (err as Error);
}
