import type { ServerResponse } from 'node:http';
import { BlobIntegrityError, tagBytes, type ChunkSpan } from '../crypto/chunked-aead.ts';
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
 * Streams the plaintext of an encrypted blob's chunks `span` to the response, reading whole
 * groups of chunks by position into the decryptor's buffers: the next group is read and
 * decrypted while the current one is being sent, a buffer is read into again only once the socket
 * has taken the plaintext it held, and reading waits while the socket is full. A chunk that
 * fails authentication ends the response early (the client sees a short body).
 */
export async function sendDecryptedRange(
  res: ServerResponse,
  reader: BlobReader,
  decryptor: GroupDecryptor,
  span: ChunkSpan,
  handlers: { readonly begin: () => void; readonly failed: (err: unknown) => void },
): Promise<void> {
  const storedChunk = decryptor.chunkSize + tagBytes;
  const slots = decryptor.buffers.length;
  // Per buffer, the socket's acceptance of the last plaintext written from it.
  const taken: (Promise<void> | undefined)[] = Array.from({ length: slots }, () => undefined);
  let skip = span.skip;
  let left = span.length;
  interface Group {
    readonly first: number;
    readonly count: number;
    readonly slot: number;
    readonly plain: Promise<readonly Buffer[]>;
  }
  const closed = closedEarly(res);
  // Decryption starts as soon as a group is read, so it overlaps the socket taking the group before.
  const readGroup = async (first: number, slot: number): Promise<Group> => {
    await Promise.race([taken[slot], closed]);
    const buffer = decryptor.buffers[slot] as Buffer;
    const count = Math.min(decryptor.perGroup, span.lastChunk - first + 1);
    let length = 0;
    for (let i = first; i < first + count; i++) length += decryptor.storedLength(i);
    const position = first * storedChunk;
    let got = 0;
    while (got < length) {
      const n = await reader.read(buffer.subarray(got), length - got, position + got);
      if (n === 0) throw new BlobIntegrityError(`encrypted blob ends at ${position + got}, before ${position + length}`);
      got += n;
    }
    const plain = decryptor.decrypt(slot, first, count);
    plain.catch(() => undefined); // observed below; must not count as unhandled meanwhile
    return { first, count, slot, plain };
  };
  // Groups being read or decrypted, in order; all buffers but the one being sent are in use.
  const ahead: Promise<Group>[] = [];
  let nextFirst = span.firstChunk;
  let nextSlot = 0;
  const readAhead = (): void => {
    while (ahead.length < slots - 1 && nextFirst <= span.lastChunk) {
      const group = readGroup(nextFirst, nextSlot);
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
      const group: Group = await Promise.race([next, closed]);
      // The buffer sent last time has been taken by the socket (awaited below), so it can be read into.
      readAhead();
      const pieces = await Promise.race([group.plain, closed]);
      let written: Promise<void> | undefined;
      for (let plain of pieces) {
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
    // A write may still reference a buffer: never hand those back for reuse.
    reusable = false;
    handlers.failed(err);
    if (res.headersSent) res.destroy(err as Error);
    else {
      const body = JSON.stringify(new RegistryError('INTERNAL_ERROR', 'the blob failed its integrity check in storage').toBody());
      res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
    }
  } finally {
    decryptor.close(reusable);
    await reader.close();
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
