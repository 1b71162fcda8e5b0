import type { Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RegistryError } from '../errors.ts';

/** Passes bytes through unchanged while hashing and counting them, refusing past `limit`. */
export class HashingTap extends Transform {
  bytes = 0;
  private readonly hash: Hash;
  private readonly limit: number;
  private readonly onLimit: () => RegistryError;

  constructor(hash: Hash, limit: number, onLimit: () => RegistryError) {
    super({ highWaterMark: 1 << 20 });
    this.hash = hash;
    this.limit = limit;
    this.onLimit = onLimit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(this.onLimit());
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}
