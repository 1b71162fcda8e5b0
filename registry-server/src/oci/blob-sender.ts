import type { ServerResponse } from 'node:http';
import type { BlobReader } from '../storage/blob-store.ts';

const chunkSize = 1 << 20;
// Free buffers kept between requests; beyond this, buffers are left to the collector.
const maxPooled = 16;
const pool: Buffer[] = [];

function acquire(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(chunkSize);
}

function release(buffer: Buffer): void {
  if (pool.length < maxPooled) pool.push(buffer);
}

/**
 * Streams bytes [start, end] of an open blob to the response with two reused buffers: one is
 * read into while the other is being written, and a buffer is refilled only after the socket
 * has taken its previous contents. Pulls then allocate nothing per chunk.
 */
export async function sendBlobRange(res: ServerResponse, reader: BlobReader, start: number, end: number): Promise<void> {
  const buffers = [acquire(), acquire()] as const;
  const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
  const closed = new Promise<never>((_, reject) => {
    res.once('close', () => {
      if (!res.writableFinished) reject(new Error('client closed the connection'));
    });
  });
  closed.catch(() => undefined);
  let position = start;
  let turn = 0;
  let reusable = true;
  try {
    while (position <= end) {
      const buffer = buffers[turn] as Buffer;
      await Promise.race([inFlight[turn], closed]);
      const n = await reader.read(buffer, Math.min(chunkSize, end - position + 1), position);
      if (n === 0) throw new Error(`blob ended at ${position}, before byte ${end}`);
      const written = new Promise<void>((resolve, reject) => {
        res.write(buffer.subarray(0, n), (err) => (err ? reject(err) : resolve()));
      });
      // Observed when awaited; until then a failure must not count as unhandled.
      written.catch(() => undefined);
      inFlight[turn] = written;
      position += n;
      turn ^= 1;
    }
    await Promise.race([Promise.all(inFlight), closed]);
    res.end();
  } catch (err) {
    // A write may still reference a buffer: never hand those back to the pool.
    reusable = false;
    res.destroy(err as Error);
  } finally {
    await reader.close();
    if (reusable) buffers.forEach(release);
  }
}
