// Runs in a worker thread: decrypts groups of stored chunks in place in shared memory, so the
// cipher's per-chunk output buffers are allocated and collected on this thread's small heap,
// not the event loop's (whose full collections they would otherwise keep triggering). Given a
// file descriptor it also reads the group itself, so the bytes are decrypted while still in this
// core's cache and the event loop only sends.
import { readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BlobIntegrityError, ChunkOpener, tagBytes } from './chunked-aead.ts';

export type DecryptRequest =
  | {
      op: 'begin';
      id: number;
      memory: SharedArrayBuffer;
      slotBytes: number;
      key: Uint8Array;
      salt: Uint8Array;
      context: Uint8Array;
      chunkSize: number;
      plainSize: number;
    }
  | {
      op: 'decrypt';
      id: number;
      slot: number;
      first: number;
      count: number;
      /** Read the group from this open file first (else it is already in the slot). */
      read?: { fd: number; position: number; length: number };
    }
  | { op: 'end'; id: number };

export type DecryptReply =
  | { op: 'done'; id: number; plain: number }
  | { op: 'failed'; id: number; integrity: boolean; message: string }
  /** The session is gone: nothing more is read or written for it. */
  | { op: 'ended'; id: number };

interface Session {
  readonly opener: ChunkOpener;
  readonly memory: Buffer;
  readonly slotBytes: number;
}

function readGroup(fd: number, into: Buffer, position: number, length: number): void {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, got, length - got, position + got);
    if (n === 0) throw new BlobIntegrityError(`encrypted blob ends at ${position + got}, before ${position + length}`);
    got += n;
  }
}

if (parentPort) {
  const port = parentPort;
  const sessions = new Map<number, Session>();
  port.on('message', (m: DecryptRequest) => {
    try {
      switch (m.op) {
        case 'begin': {
          const key = Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength);
          const opener = new ChunkOpener(key, Buffer.from(m.salt), Buffer.from(m.context), { chunkSize: m.chunkSize }, m.plainSize);
          key.fill(0); // the opener holds its own copy
          sessions.set(m.id, { opener, memory: Buffer.from(m.memory), slotBytes: m.slotBytes });
          break;
        }
        case 'decrypt': {
          const s = sessions.get(m.id);
          if (!s) throw new Error(`no decryption session ${m.id}`);
          const base = m.slot * s.slotBytes;
          if (m.read) readGroup(m.read.fd, s.memory.subarray(base, base + s.slotBytes), m.read.position, m.read.length);
          // Chunk k's plaintext goes to k * chunkSize, never past its own stored start
          // (k * (chunkSize + 16)), so writing in place only overwrites chunks already opened.
          let from = base;
          let to = base;
          for (let i = m.first; i < m.first + m.count; i++) {
            const length = s.opener.storedLength(i);
            const plain = s.opener.open(i, s.memory.subarray(from, from + length));
            // fill copies with memcpy; copy() into shared memory goes through V8's slower
            // relaxed byte moves (measured 0.03 vs 0.07 ms per MiB).
            if (plain.length > 0) s.memory.fill(plain, to, to + plain.length);
            from += length;
            to += length - tagBytes;
          }
          port.postMessage({ op: 'done', id: m.id, plain: to - base } satisfies DecryptReply);
          break;
        }
        case 'end':
          sessions.delete(m.id);
          port.postMessage({ op: 'ended', id: m.id } satisfies DecryptReply);
          break;
      }
    } catch (err) {
      port.postMessage({ op: 'failed', id: m.id, integrity: err instanceof BlobIntegrityError, message: (err as Error).message } satisfies DecryptReply);
    }
  });
}
