import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { DigestAlgorithm } from '../digest.ts';
import type { HashReply, HashRequest } from './hash-worker.ts';

/** A running digest fed chunk by chunk. `update` may ask the caller to wait (backpressure). */
export interface StreamHash {
  readonly algorithm: DigestAlgorithm;
  /** Absorbs a chunk; the chunk may be reused once this returns (or its promise settles). */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** The digest of everything so far ("algorithm:hex"); the hash stays usable. */
  peek(): Promise<string>;
  dispose(): void;
}

/** Hashing on the calling thread: best for small content. */
export class InlineHash implements StreamHash {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;

  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  update(chunk: Uint8Array): undefined {
    this.hash.update(chunk);
    return undefined;
  }

  async peek(): Promise<string> {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}`;
  }

  dispose(): void {}
}

const slotSize = 256 * 1024;
// 8 slots (2 MiB) keep a worker busy while the next chunks arrive; more only costs memory.
const slotsPerWorker = 8;

/** One worker thread and the ring of slots it reads chunks from. */
class HashThread {
  readonly worker: Worker;
  readonly ring: SharedArrayBuffer;
  readonly view: Buffer;
  private readonly free: number[] = [];
  private readonly slotWaiters: (() => void)[] = [];
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (err: Error) => void }>();
  active = 0;

  constructor(workerUrl: URL) {
    this.ring = new SharedArrayBuffer(slotSize * slotsPerWorker);
    this.view = Buffer.from(this.ring);
    for (let i = slotsPerWorker - 1; i >= 0; i--) this.free.push(i);
    this.worker = new Worker(workerUrl, { workerData: { ring: this.ring, slotSize } });
    this.worker.unref();
    this.worker.on('message', (m: HashReply) => this.onReply(m));
    this.worker.on('error', (err) => {
      for (const d of this.digests.values()) d.reject(err);
      this.digests.clear();
    });
  }

  send(m: HashRequest): void {
    this.worker.postMessage(m);
  }

  /** A free slot, waiting for one when the worker is behind. */
  takeSlot(): number | Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    return new Promise((resolve) => {
      this.slotWaiters.push(() => resolve(this.free.pop() as number));
    });
  }

  digest(id: number, keep: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      this.digests.set(id, { resolve, reject });
      this.send({ op: 'digest', id, keep });
    });
  }

  private onReply(m: HashReply): void {
    if (m.op === 'free') {
      this.free.push(m.slot);
      this.slotWaiters.shift()?.();
    } else {
      const d = this.digests.get(m.id);
      this.digests.delete(m.id);
      if (m.op === 'digest') d?.resolve(m.hex);
      else d?.reject(new Error(m.message));
    }
  }
}

let nextId = 1;

/** Hashing in a worker thread: the event loop only copies chunks into a shared ring. */
class WorkerHash implements StreamHash {
  readonly algorithm: DigestAlgorithm;
  private readonly thread: HashThread;
  private readonly id = nextId++;
  private slot = -1;
  private filled = 0;
  private disposed = false;

  constructor(thread: HashThread, algorithm: DigestAlgorithm) {
    this.thread = thread;
    this.algorithm = algorithm;
    thread.active++;
    thread.send({ op: 'open', id: this.id, algorithm });
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.slot < 0) {
        const slot = this.thread.takeSlot();
        if (typeof slot !== 'number') return slot.then((s) => this.resume(s, chunk, offset));
        this.slot = slot;
      }
      offset = this.fill(chunk, offset);
    }
    return undefined;
  }

  private async resume(slot: number, chunk: Uint8Array, offset: number): Promise<void> {
    this.slot = slot;
    const rest = this.update(chunk.subarray(this.fill(chunk, offset)));
    if (rest) await rest;
  }

  /** Copies what fits into the current slot; sends the slot when full. Returns the new offset. */
  private fill(chunk: Uint8Array, offset: number): number {
    const n = Math.min(slotSize - this.filled, chunk.byteLength - offset);
    this.thread.view.set(chunk.subarray(offset, offset + n), this.slot * slotSize + this.filled);
    this.filled += n;
    if (this.filled === slotSize) this.flush();
    return offset + n;
  }

  private flush(): void {
    if (this.slot < 0) return;
    this.thread.send({ op: 'update', id: this.id, slot: this.slot, length: this.filled });
    this.slot = -1;
    this.filled = 0;
  }

  async peek(): Promise<string> {
    this.flush();
    return `${this.algorithm}:${await this.thread.digest(this.id, true)}`;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.flush();
    this.thread.send({ op: 'close', id: this.id });
    this.thread.active--;
  }
}

/**
 * Chooses where content is hashed: large or unknown-length content goes to a small pool of
 * worker threads (SHA-256 is the most expensive step of a push), small content stays inline.
 */
export class HashPool {
  private readonly threads: HashThread[] = [];
  private readonly size: number;
  private readonly workerUrl: URL;

  constructor(size: number) {
    this.size = size;
    // Source runs as .ts (tests), the build as .js next to the bundle.
    this.workerUrl = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);
  }

  /** A hash for content of `expectedBytes` (undefined when unknown). */
  open(algorithm: DigestAlgorithm, expectedBytes: number | undefined): StreamHash {
    if (this.size === 0 || (expectedBytes !== undefined && expectedBytes < 1024 * 1024)) return new InlineHash(algorithm);
    return new WorkerHash(this.pickThread(), algorithm);
  }

  private pickThread(): HashThread {
    if (this.threads.length < this.size) {
      const t = new HashThread(this.workerUrl);
      this.threads.push(t);
      return t;
    }
    return this.threads.reduce((a, b) => (b.active < a.active ? b : a));
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads.length = 0;
  }
}
