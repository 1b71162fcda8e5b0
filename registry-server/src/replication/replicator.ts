// Works the replication outbox: claims due tasks (safely across replicas), copies each image to
// its destination (blobs the destination lacks, mounting where it saw them before; manifests
// children first; then the image's tags; then referrers whose subject is the image), and records
// the outcome. Failures that may pass (network, 5xx, 429) retry with exponential backoff and
// jitter; the rest fail the task with the destination's error code. Work survives restarts: a
// claim is a lease in the metadata store, and an unfinished task is claimed again once it lapses.
import { randomUUID } from 'node:crypto';
import { parseManifest } from '../oci/manifest-parser.ts';
import type { MetadataStore, ReplicationOutcome, ReplicationTask } from '../meta/metadata-store.ts';
import type { BlobVault } from '../registry/blob-vault.ts';
import type { ReplicationConfigurations, Destination } from './configuration.ts';
import { RemoteError, RemoteRegistry } from './remote-registry.ts';
import { replicationHeader } from '../oci/context.ts';

export interface ReplicatorOptions {
  /** Tasks worked on at once by this replica. */
  readonly concurrency: number;
  /** How often to look for due tasks when nothing nudges the replicator. */
  readonly pollMs: number;
  /** How long a claim lasts; an unfinished task is retried by anyone after it. */
  readonly leaseMs: number;
  /** Failed attempts before a retryable failure becomes FAILED. */
  readonly maxAttempts: number;
  /** First retry delay; doubled per attempt up to maxBackoffMs, then jittered by ±50%. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export const defaultReplicatorOptions: ReplicatorOptions = {
  concurrency: 8,
  pollMs: 1000,
  leaseMs: 10 * 60_000,
  maxAttempts: 12,
  backoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
};

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Exponential backoff with jitter: base·2^attempt capped, times a random factor in [0.5, 1.5). */
export function backoff(attempt: number, options: Pick<ReplicatorOptions, 'backoffMs' | 'maxBackoffMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxBackoffMs, options.backoffMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random()));
}

/** A task's image is gone from the source (deleted before it could be copied). */
class SourceGone extends Error {}

// Where each destination saw a blob last, so a later copy into another repository can mount it.
const maxRemembered = 10_000;

export class Replicator {
  private readonly meta: MetadataStore;
  private readonly vault: BlobVault;
  private readonly configs: ReplicationConfigurations;
  private readonly registryId: string;
  private readonly options: ReplicatorOptions;
  private readonly log: Log;
  private readonly holder = `replicator-${randomUUID()}`;
  private readonly remotes = new Map<string, { remote: RemoteRegistry; signature: string }>();
  private readonly seen = new Map<string, string>();
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(meta: MetadataStore, vault: BlobVault, configs: ReplicationConfigurations, registryId: string, log: Log, options: Partial<ReplicatorOptions> = {}) {
    this.meta = meta;
    this.vault = vault;
    this.configs = configs;
    this.registryId = registryId;
    this.log = log;
    this.options = { ...defaultReplicatorOptions, ...options };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** A push recorded replication work: look now rather than at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    // Cut copies in progress: their tasks record a retry, or their claims lapse and they resume.
    for (const { remote } of this.remotes.values()) remote.close();
    this.remotes.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.claim().finally(() => {
        this.running = undefined;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 0 : this.options.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async claim(): Promise<void> {
    try {
      const room = this.options.concurrency - this.active;
      if (room <= 0) return;
      const tasks = await this.meta.claimReplicationTasks(this.holder, new Date(), this.options.leaseMs, room);
      for (const task of tasks) {
        this.active++;
        const work = this.run(task).finally(() => {
          this.active--;
          this.inFlight.delete(work);
          // A slot is free: more may be waiting.
          this.wake();
        });
        this.inFlight.add(work);
      }
      if (tasks.length === room) this.again = true;
    } catch (err) {
      this.log.error({ err }, 'claiming replication tasks failed');
    }
  }

  private async run(task: ReplicationTask): Promise<void> {
    let outcome: ReplicationOutcome;
    try {
      const destination = await this.configs.destination(task.destination);
      if (!destination) {
        outcome = { state: 'FAILED', failureCode: 'DESTINATION_REMOVED', failureReason: `no rule names ${task.destination} any more` };
      } else {
        await this.copyImage(task, destination);
        outcome = { state: 'COMPLETE' };
      }
    } catch (err) {
      outcome = this.failure(task, err);
    }
    try {
      await this.meta.finishReplicationTask(task.id, this.holder, task.generation, outcome);
    } catch (err) {
      // The claim lapses and someone retries: copies are idempotent.
      this.log.error({ err, task: task.id }, 'recording a replication outcome failed');
    }
    if (outcome.state === 'COMPLETE') this.log.info({ repository: task.repositoryName, digest: task.digest, destination: task.destination }, 'image replicated');
    else this.log.warn({ repository: task.repositoryName, digest: task.digest, destination: task.destination, failure: outcome.failureCode, reason: outcome.failureReason, state: outcome.state }, 'replication attempt failed');
  }

  private failure(task: ReplicationTask, err: unknown): ReplicationOutcome {
    if (err instanceof SourceGone) return { state: 'FAILED', failureCode: 'IMAGE_NOT_FOUND', failureReason: err.message };
    const remote = err instanceof RemoteError ? err : undefined;
    const code = remote?.code ?? 'INTERNAL_ERROR';
    const reason = (err as Error).message?.slice(0, 1000) ?? String(err);
    const retryable = remote ? remote.retryable : true;
    if (!retryable || task.attempts + 1 >= this.options.maxAttempts) return { state: 'FAILED', failureCode: code, failureReason: reason };
    return { state: 'IN_PROGRESS', retryAt: new Date(Date.now() + backoff(task.attempts, this.options)), failureCode: code, failureReason: reason };
  }

  private async remoteFor(d: Destination): Promise<RemoteRegistry> {
    // Stopping closed every client: a task that reaches here afterwards records a retry.
    if (this.stopped) throw new RemoteError('the registry is shutting down', { status: undefined, code: 'SHUTTING_DOWN', retryable: true });
    // Kept until the configuration changes (endpoint, user or sealed password): the password is
    // unsealed (a KMS use, audited) once per client, not once per image.
    const signature = JSON.stringify([d.endpoint, d.username, d.sealedPassword]);
    const cached = this.remotes.get(d.key);
    if (cached && cached.signature === signature) return cached.remote;
    const password = await this.configs.unseal(d);
    // Another task may have built the same client meanwhile: share it rather than close it.
    const built = this.remotes.get(d.key);
    if (built && built.signature === signature) return built.remote;
    built?.remote.close();
    const remote = new RemoteRegistry({
      endpoint: d.endpoint,
      ...(d.username !== undefined ? { username: d.username } : {}),
      ...(password !== undefined ? { password } : {}),
      headers: { [replicationHeader]: this.registryId },
    });
    this.remotes.set(d.key, { remote, signature });
    return remote;
  }

  private async copyImage(task: ReplicationTask, d: Destination): Promise<void> {
    const remote = await this.remoteFor(d);
    const repo = await this.meta.getRepository(task.repositoryName);
    if (!repo || repo.id !== task.repositoryId) throw new SourceGone(`repository ${task.repositoryName} is gone`);
    const copied = new Set<string>();
    await this.copyManifest(remote, d, repo.id, task.repositoryName, task.digest, copied);
    // Tags the push set, while they still name this image here (a tag moved since belongs to a
    // later push, which has its own task). An immutable tag at the destination refuses the
    // move: the image arrives without that tag, as in ECR.
    const manifest = await this.meta.getManifest(repo.id, task.digest);
    if (!manifest) throw new SourceGone(`image ${task.digest} is gone from ${task.repositoryName}`);
    const mediaType = manifest.mediaType;
    for (const tag of task.tags) {
      const current = await this.meta.getManifestByTag(repo.id, tag);
      if (current?.digest !== task.digest) continue;
      try {
        await remote.putManifest(task.repositoryName, tag, mediaType, manifest.content);
      } catch (err) {
        if (err instanceof RemoteError && !err.retryable && tagRefused(err)) {
          this.log.info({ repository: task.repositoryName, tag, destination: d.key, code: err.code }, 'destination refused the tag; the image is there without it');
          continue;
        }
        throw err;
      }
    }
    // Referrers whose subject is this image (signatures, SBOMs), each children first.
    let after: string | undefined;
    for (;;) {
      const page = await this.meta.listReferrers(repo.id, task.digest, { after, limit: 100 });
      for (const r of page) await this.copyManifest(remote, d, repo.id, task.repositoryName, r.digest, copied);
      if (page.length < 100) break;
      after = page.at(-1)?.digest;
    }
  }

  /** Copies a manifest by digest: its blobs and child manifests first. */
  private async copyManifest(remote: RemoteRegistry, d: Destination, repositoryId: number, repository: string, digest: string, copied: Set<string>): Promise<void> {
    if (copied.has(digest)) return;
    copied.add(digest);
    const manifest = await this.meta.getManifest(repositoryId, digest);
    if (!manifest) throw new SourceGone(`manifest ${digest} is gone from ${repository}`);
    if ((await remote.manifestDigest(repository, digest)) === digest) return;
    const parsed = parseManifest(manifest.content, manifest.mediaType);
    for (const ref of parsed.references) {
      if (ref.kind === 'manifest') await this.copyManifest(remote, d, repositoryId, repository, ref.digest, copied);
      else if (ref.kind === 'blob') await this.copyBlob(remote, d, repository, ref.digest);
    }
    await remote.putManifest(repository, digest, manifest.mediaType, manifest.content);
  }

  private async copyBlob(remote: RemoteRegistry, d: Destination, repository: string, digest: string): Promise<void> {
    if (await remote.blobExists(repository, digest)) return this.remember(d, digest, repository);
    const seenIn = this.seen.get(`${d.key} ${digest}`);
    if (seenIn !== undefined && seenIn !== repository && (await remote.mountBlob(repository, digest, seenIn))) return this.remember(d, digest, repository);
    const blob = await this.meta.getBlob(digest);
    if (!blob) throw new SourceGone(`blob ${digest} is gone`);
    await remote.pushBlob(repository, digest, blob.size, () => this.vault.read(digest));
    this.remember(d, digest, repository);
  }

  private remember(d: Destination, digest: string, repository: string): void {
    const key = `${d.key} ${digest}`;
    this.seen.delete(key);
    this.seen.set(key, repository);
    if (this.seen.size > maxRemembered) this.seen.delete(this.seen.keys().next().value as string);
  }
}

/** A destination's refusal of a tag (an immutable tag there), as opposed to other errors. */
function tagRefused(err: RemoteError): boolean {
  return err.status === 409 || err.code === 'TAG_INVALID' || err.code === 'ImageTagAlreadyExists' || (err.code === 'MANIFEST_INVALID' && /immutable/i.test(err.message));
}
