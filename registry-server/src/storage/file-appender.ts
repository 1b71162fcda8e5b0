import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

// Start flushing to disk every this many bytes, so writeback overlaps the upload and the
// final fsync has little left to do.
const syncEvery = 32 * 1024 * 1024;
// Stay well under IOV_MAX per writev call.
const maxIovecs = 256;

/**
 * A Writable that appends to an open file at a position with positional writev (queued chunks
 * go down in one call), and keeps a background fdatasync running as data accumulates.
 */
export class FileAppender extends Writable {
  position: number;
  private readonly fh: FileHandle;
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncError: unknown;

  constructor(fh: FileHandle, position: number) {
    super({ highWaterMark: 1 << 20 });
    this.fh = fh;
    this.position = position;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeAll([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.writeAll(chunks.map((c) => c.chunk)).then(() => callback(), callback);
  }

  /** Makes everything written so far durable. */
  async sync(): Promise<void> {
    await this.syncing;
    if (this.syncError) throw this.syncError;
    await this.fh.datasync();
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    if (this.syncError) throw this.syncError;
    for (let i = 0; i < buffers.length; i += maxIovecs) {
      let batch = buffers.slice(i, i + maxIovecs);
      while (batch.length > 0) {
        const { bytesWritten } = await this.fh.writev(batch, this.position);
        this.position += bytesWritten;
        this.unsynced += bytesWritten;
        batch = remainder(batch, bytesWritten);
      }
    }
    if (this.unsynced >= syncEvery && this.syncing === undefined) {
      this.unsynced = 0;
      this.syncing = this.fh.datasync().then(
        () => {
          this.syncing = undefined;
        },
        (err: unknown) => {
          this.syncError = err;
          this.syncing = undefined;
        },
      );
    }
  }
}

/** What is left of `buffers` after the first `written` bytes (short writes are legal). */
function remainder(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
