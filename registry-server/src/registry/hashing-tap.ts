import { Transform, type TransformCallback } from 'node:stream';
import { blobGarbage } from '../crypto/young-collector.ts';
import { RegistryError } from '../errors.ts';
import type { StreamHash } from './stream-hash.ts';

/** Passes bytes through unchanged while hashing and counting them, refusing past `limit`. */
export class HashingTap extends Transform {
  bytes = 0;
  private readonly hash: StreamHash;
  private readonly limit: number;
  private readonly onLimit: () => RegistryError;

  constructor(hash: StreamHash, limit: number, onLimit: () => RegistryError) {
    super({ highWaterMark: 1 << 20 });
    this.hash = hash;
    this.limit = limit;
    this.onLimit = onLimit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    blobGarbage.add(chunk.length);
    if (this.bytes > this.limit) {
      callback(this.onLimit());
      return;
    }
    const pending = this.hash.update(chunk);
    if (pending) pending.then(() => callback(null, chunk), callback);
    else callback(null, chunk);
  }
}
