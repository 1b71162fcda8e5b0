// Runs in a worker thread: keeps running hashes by id and feeds them from a ring of slots
// shared with the main thread, so digests are computed off the event loop.
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

export type HashRequest =
  | { op: 'open'; id: number; algorithm: string }
  | { op: 'update'; id: number; slot: number; length: number }
  | { op: 'digest'; id: number; keep: boolean }
  | { op: 'close'; id: number };

export type HashReply = { op: 'free'; slot: number } | { op: 'digest'; id: number; hex: string } | { op: 'error'; id: number; message: string };

interface WorkerInit {
  readonly ring: SharedArrayBuffer;
  readonly slotSize: number;
}

if (parentPort) {
  const port = parentPort;
  const { ring, slotSize } = workerData as WorkerInit;
  const hashes = new Map<number, Hash>();
  port.on('message', (m: HashRequest) => {
    try {
      switch (m.op) {
        case 'open':
          hashes.set(m.id, createHash(m.algorithm));
          break;
        case 'update':
          hashes.get(m.id)?.update(new Uint8Array(ring, m.slot * slotSize, m.length));
          port.postMessage({ op: 'free', slot: m.slot } satisfies HashReply);
          break;
        case 'digest': {
          const hash = hashes.get(m.id);
          if (!hash) throw new Error(`no hash ${m.id}`);
          const hex = (m.keep ? hash.copy() : hash).digest('hex');
          if (!m.keep) hashes.delete(m.id);
          port.postMessage({ op: 'digest', id: m.id, hex } satisfies HashReply);
          break;
        }
        case 'close':
          hashes.delete(m.id);
          break;
      }
    } catch (err) {
      if (m.op === 'update') port.postMessage({ op: 'free', slot: m.slot } satisfies HashReply);
      port.postMessage({ op: 'error', id: m.id, message: (err as Error).message } satisfies HashReply);
    }
  });
}
