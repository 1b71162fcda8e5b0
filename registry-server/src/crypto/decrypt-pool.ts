/**
 * Decryption of encrypted pulls in worker threads. Each pull gets a small block of shared memory
 * (three group buffers): the event loop reads stored chunks into a buffer, a worker
 * authenticates and decrypts them in place, and the event loop writes the plaintext from the
 * same memory to the socket. The event loop then allocates nothing per chunk and the cipher's
 * garbage stays on the worker's heap; decryption also runs beside the event loop's I/O.
 */
import { Worker } from 'node:worker_threads';
import { BlobIntegrityError, chunkCount, storedChunkLength, tagBytes } from './chunked-aead.ts';
import type { DecryptReply, DecryptRequest } from './decrypt-worker.ts';
import { chunksPerGroup, InlineDecryptor, type BlobKeyMaterial, type GroupDecryptor } from './group-decryptor.ts';

// Four buffers: one being sent, two being decrypted (by two threads where there are), one read.
const slotsPerPull = 4;
// Shared blocks kept between pulls; beyond this, blocks are left to the collector.
const maxPooledBlocks = 8;

interface Pending {
  readonly resolve: (plain: number) => void;
  readonly reject: (err: Error) => void;
}

class DecryptThread {
  readonly worker: Worker;
  readonly sessions = new Map<number, Pending[]>();
  active = 0;
  /** Set once the thread has exited: it is never picked again. */
  gone = false;

  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.unref();
    this.worker.on('message', (m: DecryptReply) => {
      const queue = this.sessions.get(m.id);
      const pending = queue?.shift();
      if (!pending) return;
      if (m.op === 'done') pending.resolve(m.plain);
      else pending.reject(m.integrity ? new BlobIntegrityError(m.message) : new Error(m.message));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`decrypt worker exited (code ${code})`)));
  }

  private fail(err: Error): void {
    this.gone = true;
    for (const queue of this.sessions.values()) for (const p of queue.splice(0)) p.reject(err);
  }

  send(m: DecryptRequest): void {
    this.worker.postMessage(m);
  }
}

let nextId = 1;

class WorkerDecryptor implements GroupDecryptor {
  readonly chunkSize: number;
  readonly lastIndex: number;
  readonly perGroup: number;
  readonly buffers: readonly Buffer[];
  private readonly plainSize: number;
  private readonly id = nextId++;
  // Per thread, the decryptions sent to it (each thread answers in order).
  private readonly queues: Pending[][];
  private readonly pool: DecryptPool;
  private readonly threads: readonly DecryptThread[];
  private readonly memory: SharedArrayBuffer;
  private closed = false;

  constructor(pool: DecryptPool, threads: readonly DecryptThread[], memory: SharedArrayBuffer, material: BlobKeyMaterial) {
    this.pool = pool;
    this.threads = threads;
    this.memory = memory;
    this.chunkSize = material.format.chunkSize;
    this.plainSize = material.plainSize;
    this.lastIndex = chunkCount(material.plainSize, material.format) - 1;
    this.perGroup = chunksPerGroup(this.chunkSize);
    const slotBytes = memory.byteLength / slotsPerPull;
    const view = Buffer.from(memory);
    this.buffers = Array.from({ length: slotsPerPull }, (_, i) => view.subarray(i * slotBytes, (i + 1) * slotBytes));
    this.queues = threads.map((thread) => {
      const queue: Pending[] = [];
      thread.active++;
      thread.sessions.set(this.id, queue);
      thread.send({
        op: 'begin',
        id: this.id,
        memory,
        slotBytes,
        key: material.key,
        salt: material.salt,
        context: material.context,
        chunkSize: this.chunkSize,
        plainSize: material.plainSize,
      });
      return queue;
    });
  }

  storedLength(index: number): number {
    return storedChunkLength(index, this.plainSize, { chunkSize: this.chunkSize });
  }

  decrypt(slot: number, first: number, count: number): Promise<readonly Buffer[]> {
    // Consecutive buffers go to different threads, so two groups can be decrypted at once.
    const t = slot % this.threads.length;
    if ((this.threads[t] as DecryptThread).gone) return Promise.reject(new Error('the decrypt worker exited'));
    return new Promise<number>((resolve, reject) => {
      (this.queues[t] as Pending[]).push({ resolve, reject });
      (this.threads[t] as DecryptThread).send({ op: 'decrypt', id: this.id, slot, first, count });
    }).then((plain) => [(this.buffers[slot] as Buffer).subarray(0, plain)]);
  }

  close(reuseBuffers: boolean): void {
    if (this.closed) return;
    this.closed = true;
    // A decryption still in flight writes into the block: it must never serve another pull.
    const idle = this.queues.every((q) => q.length === 0);
    this.threads.forEach((thread, t) => {
      thread.send({ op: 'end', id: this.id });
      thread.sessions.delete(this.id);
      thread.active--;
      for (const p of (this.queues[t] as Pending[]).splice(0)) p.reject(new Error('decryption closed'));
    });
    if (idle && reuseBuffers) this.pool.giveBack(this.memory);
  }
}

export class DecryptPool {
  private readonly threads: DecryptThread[] = [];
  private readonly blocks: SharedArrayBuffer[] = [];
  private readonly url: URL;
  private readonly size: number;

  constructor(size: number) {
    this.size = size;
    // Source runs as .ts (tests), the build as .js next to the bundle.
    this.url = new URL(import.meta.url.endsWith('.ts') ? './decrypt-worker.ts' : './decrypt-worker.js', import.meta.url);
  }

  /**
   * A decryptor for one pull. Inline when there are no worker threads or a chunk does not fit a
   * group buffer. The key material is copied to the worker; the caller still owns (and zeroes) it.
   */
  decryptor(material: BlobKeyMaterial): GroupDecryptor {
    if (this.size === 0) return new InlineDecryptor(material);
    const { chunkSize } = material.format;
    const bytes = chunksPerGroup(chunkSize) * (chunkSize + tagBytes) * slotsPerPull;
    const pooled = this.blocks.findIndex((b) => b.byteLength === bytes);
    const memory = pooled >= 0 ? (this.blocks.splice(pooled, 1)[0] as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
    return new WorkerDecryptor(this, this.pickThreads(), memory, material);
  }

  giveBack(memory: SharedArrayBuffer): void {
    if (this.blocks.length >= maxPooledBlocks) this.blocks.shift();
    this.blocks.push(memory);
  }

  /** The two least busy threads (one when the pool has one), starting threads up to the pool size. */
  private pickThreads(): DecryptThread[] {
    // A thread that died (it should not) is replaced, so pulls never wait on it.
    for (let i = this.threads.length - 1; i >= 0; i--) if ((this.threads[i] as DecryptThread).gone) this.threads.splice(i, 1);
    while (this.threads.length < Math.min(this.size, 2)) this.threads.push(new DecryptThread(this.url));
    if (this.threads.length < this.size && this.threads.every((t) => t.active > 0)) this.threads.push(new DecryptThread(this.url));
    return [...this.threads].sort((a, b) => a.active - b.active).slice(0, 2);
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    this.threads.length = 0;
  }
}
