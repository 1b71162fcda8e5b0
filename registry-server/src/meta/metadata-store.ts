// The metadata seam: repositories, blobs known to each repository, manifests with their
// references, tags and upload sessions. Implementations: SQLite (default), PostgreSQL.
// Every listing is keyset-paginated: a page costs the same however many rows precede it.

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

/** A repository's user-set configuration. */
export interface RepositorySettings {
  readonly imageTagMutability: TagMutability;
  /** Wildcard tag filters excepted from the mutability setting. */
  readonly tagMutabilityExclusions: readonly string[];
  readonly scanOnPush: boolean;
  readonly encryptionType: 'AES256' | 'KMS';
  readonly kmsKey: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

export const defaultRepositorySettings: RepositorySettings = {
  imageTagMutability: 'MUTABLE',
  tagMutabilityExclusions: [],
  scanOnPush: false,
  encryptionType: 'AES256',
  kmsKey: undefined,
  tags: {},
};

export interface Repository {
  readonly id: number;
  readonly name: string;
  readonly createdAt: Date;
  /** Increases with every settings change. */
  readonly version: number;
  readonly settings: RepositorySettings;
}

export interface RepositoryStats {
  readonly imageCount: number;
  readonly sizeInBytes: number;
}

export type UpdateResult<T> = { readonly status: 'ok'; readonly value: T } | { readonly status: 'missing' } | { readonly status: 'stale'; readonly current: T };

export interface BlobRecord {
  readonly digest: string;
  readonly size: number;
}

/** A reference from a manifest to content it needs (or, for `subject`, content it describes). */
export interface ManifestReference {
  readonly digest: string;
  readonly kind: 'blob' | 'manifest' | 'subject';
}

export interface ManifestInput {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly content: Uint8Array;
  readonly subject: string | undefined;
  /** JSON text of the manifest's annotations, when it has any (kept for referrer listings). */
  readonly annotations: string | undefined;
  readonly references: readonly ManifestReference[];
}

export interface ManifestRecord {
  readonly digest: string;
  readonly mediaType: string;
  readonly content: Uint8Array;
}

export interface ReferrerRecord {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly annotations: string | undefined;
}

/** A manifest seen as an image: what ECR's DescribeImages reports. */
export interface ImageRecord {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly manifestSize: number;
  /** Bytes of the blobs the manifest references (config and layers). */
  readonly blobBytes: number;
  readonly tags: readonly string[];
  readonly pushedAt: Date;
  readonly lastPulledAt: Date | undefined;
  /** Whether an index in the repository lists it, or it is the referrer of another manifest. */
  readonly referenced: boolean;
  readonly subject: string | undefined;
}

/** One image expired by a lifecycle rule (kept after the image, and the repository, are gone). */
export interface ExpirationRecord {
  readonly id: number;
  readonly repositoryName: string;
  readonly digest: string;
  readonly tags: readonly string[];
  readonly rulePriority: number;
  readonly reason: string;
  readonly expiredAt: Date;
}

export type TagFilter = 'TAGGED' | 'UNTAGGED' | 'ANY';

export interface UploadSession {
  readonly id: string;
  readonly repositoryId: number;
  /** The algorithm the upload is hashed with while it streams in (sha256 unless asked otherwise). */
  readonly digestAlgorithm: string;
  /** Durable length of the upload. */
  readonly offset: number;
  readonly createdAt: Date;
}

/**
 * A resource kept as one JSON document under (kind, key): creation templates, policies and the
 * other settings-shaped resources. Documents tied to a repository go when it goes.
 */
export interface StoredDocument {
  readonly kind: string;
  readonly key: string;
  readonly body: string;
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface PutDocumentOptions {
  /** create: fail if present; update: fail if absent; upsert: either. */
  readonly mode: 'create' | 'update' | 'upsert';
  readonly expectedVersion?: number;
  /** Ties the document's life to this repository. */
  readonly repositoryId?: number;
}

export type PutDocumentResult = UpdateResult<StoredDocument> | { readonly status: 'exists'; readonly current: StoredDocument };

export interface Page {
  /** Return entries strictly after this key. */
  readonly after?: string | undefined;
  readonly limit: number;
}

export type PutManifestResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing'; readonly missing: readonly string[] }
  | { readonly ok: false; readonly reason: 'immutable'; readonly tag: string; readonly digest: string };

/** Where a replication task stands (ECR's image replication statuses). */
export type ReplicationState = 'IN_PROGRESS' | 'COMPLETE' | 'FAILED';

/**
 * Replication work for one image and one destination: the outbox row a push writes in its own
 * transaction. One row per (repository, digest, destination); a later push of the same digest
 * merges its tags in and makes the row due again.
 */
export interface ReplicationTask {
  readonly id: number;
  readonly repositoryId: number;
  readonly repositoryName: string;
  readonly digest: string;
  /** Tags pushed for this digest since the task was created (sorted, deduplicated). */
  readonly tags: readonly string[];
  /** The destination's key (its normalized endpoint). */
  readonly destination: string;
  readonly state: ReplicationState;
  /** Attempts that failed since the task was last made due by a push. */
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  /** Bumped by every push that merges into the task; a worker's result applies only to the generation it claimed. */
  readonly generation: number;
  readonly failureCode: string | undefined;
  readonly failureReason: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** How a claimed task ended: done, retry at a time (still IN_PROGRESS), or given up. */
export type ReplicationOutcome =
  | { readonly state: 'COMPLETE' }
  | { readonly state: 'IN_PROGRESS'; readonly retryAt: Date; readonly failureCode: string; readonly failureReason: string }
  | { readonly state: 'FAILED'; readonly failureCode: string; readonly failureReason: string };

export interface MetadataStore {
  /** Applies pending versioned migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  getDocument(kind: string, key: string): Promise<StoredDocument | undefined>;
  /** Documents of a kind whose keys start with `prefix`, in key order. */
  listDocuments(kind: string, prefix: string, page: Page): Promise<StoredDocument[]>;
  putDocument(kind: string, key: string, body: string, options: PutDocumentOptions): Promise<PutDocumentResult>;
  deleteDocument(kind: string, key: string, expectedVersion?: number): Promise<'deleted' | 'missing' | 'stale'>;

  getRepository(name: string): Promise<Repository | undefined>;
  /** Returns the repository, creating it with `settings` when absent. */
  ensureRepository(name: string, settings?: RepositorySettings): Promise<Repository>;
  /** Creates a repository; undefined when the name is taken. */
  createRepository(name: string, settings: RepositorySettings): Promise<Repository | undefined>;
  /** Replaces a repository's settings, if its version is still `expectedVersion` (when given). */
  updateRepository(name: string, settings: RepositorySettings, expectedVersion?: number): Promise<UpdateResult<Repository>>;
  /** Deletes a repository and everything in it; refuses one holding manifests unless `force`. */
  deleteRepository(name: string, options: { force: boolean; expectedVersion?: number }): Promise<'deleted' | 'missing' | 'not-empty' | 'stale'>;
  listRepositories(page: Page): Promise<string[]>;
  /** Repositories whose names start with `prefix`, in name order. */
  listRepositoryRecords(prefix: string, page: Page): Promise<Repository[]>;
  repositoryStats(repositoryId: number): Promise<RepositoryStats>;

  /** A blob linked to the repository (pushed to it or mounted into it). */
  getRepositoryBlob(repositoryId: number, digest: string): Promise<BlobRecord | undefined>;
  /** A blob anywhere in the registry. */
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Records a published blob and links it to the repository. */
  putBlob(repositoryId: number, blob: BlobRecord): Promise<void>;
  /** putBlob and the removal of the upload session that produced it, in one transaction. */
  completeUpload(uploadId: string, repositoryId: number, blob: BlobRecord): Promise<void>;
  /** Links an existing blob into a repository (cross-repository mount); false if the blob is unknown. */
  linkBlob(repositoryId: number, digest: string): Promise<boolean>;
  unlinkBlob(repositoryId: number, digest: string): Promise<boolean>;

  createUpload(session: { id: string; repositoryId: number; digestAlgorithm: string }): Promise<UploadSession>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /** Moves the durable offset forward; false when the offset was no longer `from` (a concurrent writer). */
  advanceUpload(id: string, from: number, to: number): Promise<boolean>;
  deleteUpload(id: string): Promise<boolean>;
  /** Ids of every live upload session. */
  listUploadIds(): Promise<Set<string>>;

  /**
   * Stores a manifest and points `tags` at it, atomically, after checking that every blob and
   * manifest it references exists in the repository (subjects need not), and that none of
   * `immutableTags` already points at another manifest.
   */
  putManifest(
    repositoryId: number,
    manifest: ManifestInput,
    tags: readonly string[],
    immutableTags?: readonly string[],
    /** Destinations to replicate the image to: their tasks are written in the same transaction. */
    replicateTo?: readonly string[],
  ): Promise<PutManifestResult>;
  getManifest(repositoryId: number, digest: string): Promise<ManifestRecord | undefined>;
  getManifestByTag(repositoryId: number, tag: string): Promise<ManifestRecord | undefined>;
  /** Deletes a manifest and every tag pointing at it. */
  deleteManifest(repositoryId: number, digest: string): Promise<boolean>;
  deleteTag(repositoryId: number, tag: string): Promise<boolean>;
  listTags(repositoryId: number, page: Page): Promise<string[]>;
  /** Manifests in the repository whose subject is `digest`, ordered by digest. */
  listReferrers(repositoryId: number, subject: string, page: Page, artifactType?: string): Promise<ReferrerRecord[]>;

  /** Images (manifests) of a repository in digest order, with their tags and sizes. */
  listImages(repositoryId: number, filter: TagFilter, page: Page): Promise<ImageRecord[]>;
  getImage(repositoryId: number, digest: string): Promise<ImageRecord | undefined>;
  /** Digests of the index manifests in the repository that list `digest`. */
  indexesListing(repositoryId: number, digest: string): Promise<string[]>;
  recordExpirations(records: readonly Omit<ExpirationRecord, 'id'>[]): Promise<void>;
  /** Expirations of a repository, newest first; `after` is the id of the last one seen. */
  listExpirations(repositoryName: string, page: { after?: number; limit: number }): Promise<ExpirationRecord[]>;
  /** Records pull times (batched by the caller); unknown manifests are ignored. */
  recordPulls(pulls: readonly { repositoryId: number; digest: string; at: Date }[]): Promise<void>;

  /**
   * Takes or renews the lease `name` for `holder` (scheduled work that must run on one replica
   * at a time). True when `holder` now holds it for `ttlMs` from now: the lease was free, had
   * expired, or was already `holder`'s (then it is extended); false while another holder's
   * lease is unexpired.
   */
  tryLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up early; does nothing unless `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;

  /**
   * Claims up to `limit` IN_PROGRESS tasks due at `now` (nextAttemptAt <= now) that nobody
   * holds (or whose claim expired), for `holder` until now + leaseMs, oldest due first. Safe
   * across replicas: a task is claimed by one holder at a time.
   */
  claimReplicationTasks(holder: string, now: Date, leaseMs: number, limit: number): Promise<ReplicationTask[]>;
  /**
   * Records the outcome of a claimed task and releases the claim. Applies only while `holder`
   * holds it; when a push bumped its generation meanwhile, the outcome is dropped and the task
   * stays IN_PROGRESS, due now (the new push still has to be replicated). Failed outcomes add
   * one to attempts. True when the outcome was recorded.
   */
  finishReplicationTask(id: number, holder: string, generation: number, outcome: ReplicationOutcome): Promise<boolean>;
  /** The tasks of one image, one per destination, ordered by destination. */
  listReplicationTasks(repositoryId: number, digest: string): Promise<ReplicationTask[]>;
}
