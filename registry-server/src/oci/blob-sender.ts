import type { ServerResponse } from 'node:http';
import type { ChunkSpan } from '../crypto/chunked-aead.ts';
import type { GroupDecryptor } from '../crypto/group-decryptor.ts';
import { RegistryError } from '../errors.ts';
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
  const closed = closedEarly(res);
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

/**
 * Streams the plaintext of an encrypted blob's chunks `span` to the response, group by group
 * through the decryptor's slots: the next groups are read and decrypted while the current one is
 * being sent, a slot is opened again only once the socket has taken the plaintext it held, and
 * reading waits while the socket is full. A chunk that fails authentication ends the response
 * early (the client sees a short body). Closes the decryptor (and with it the blob).
 */
export async function sendDecryptedRange(
  res: ServerResponse,
  decryptor: GroupDecryptor,
  span: ChunkSpan,
  handlers: { readonly begin: () => void; readonly failed: (err: unknown) => void },
): Promise<void> {
  const slots = decryptor.slots;
  // Per slot, the socket's acceptance of the last plaintext written from it.
  const taken: (Promise<void> | undefined)[] = Array.from({ length: slots }, () => undefined);
  let skip = span.skip;
  let left = span.length;
  const closed = closedEarly(res);
  interface Group {
    readonly slot: number;
    readonly pieces: readonly Buffer[];
  }
  // Groups being read or decrypted, in order; every slot but the one being sent may be in use.
  const ahead: Promise<Group>[] = [];
  let nextFirst = span.firstChunk;
  let nextSlot = 0;
  const readAhead = (): void => {
    while (ahead.length < slots - 1 && nextFirst <= span.lastChunk) {
      const first = nextFirst;
      const slot = nextSlot;
      const count = Math.min(decryptor.perGroup, span.lastChunk - first + 1);
      const group = Promise.race([taken[slot], closed])
        .then(() => decryptor.open(slot, first, count))
        .then((pieces) => ({ slot, pieces }));
      // An early failure must not surface as an unhandled rejection before its turn.
      group.catch(() => undefined);
      ahead.push(group);
      nextFirst += decryptor.perGroup;
      nextSlot = (nextSlot + 1) % slots;
    }
  };
  let reusable = true;
  try {
    let previous: Promise<void> | undefined;
    readAhead();
    for (let next = ahead.shift(); next; next = ahead.shift()) {
      // The slot sent last time is opened again once the socket has taken it (awaited below).
      readAhead();
      const group: Group = await Promise.race([next, closed]);
      let written: Promise<void> | undefined;
      for (let plain of group.pieces) {
        if (skip > 0 || plain.length > left) plain = plain.subarray(skip, Math.min(plain.length, skip + left));
        skip = 0;
        left -= plain.length;
        // Headers go out once the first chunk authenticated: a blob damaged at its start (or a
        // range inside a damaged chunk) is a clean error response, not a cut one.
        if (!res.headersSent) handlers.begin();
        if (plain.length > 0) {
          written = new Promise<void>((resolve, reject) => {
            res.write(plain, (err) => (err ? reject(err) : resolve()));
          });
          written.catch(() => undefined);
        }
      }
      taken[group.slot] = written;
      // Sending a group overlaps the socket taking the one before; no more is queued.
      if (previous) await Promise.race([previous, closed]);
      previous = written;
    }
    if (previous) await Promise.race([previous, closed]);
    if (!res.headersSent) handlers.begin();
    res.end();
  } catch (err) {
    // A write may still reference a slot: never hand those back for reuse.
    reusable = false;
    handlers.failed(err);
    if (res.headersSent) res.destroy(err as Error);
    else {
      const body = JSON.stringify(new RegistryError('INTERNAL_ERROR', 'the blob failed its integrity check in storage').toBody());
      res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
    }
  } finally {
    await decryptor.close(reusable);
  }
}

/** Rejects when the client goes away before the response is finished (never unhandled). */
function closedEarly(res: ServerResponse): Promise<never> {
  const closed = new Promise<never>((_, reject) => {
    res.once('close', () => {
      if (!res.writableFinished) reject(new Error('client closed the connection'));
    });
  });
  closed.catch(() => undefined);
  return closed;
}
