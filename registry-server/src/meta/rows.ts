// Rows to records, shared by the SQL stores. Both schemas keep the same columns (timestamps as
// epoch milliseconds, settings as JSON text); only booleans differ (SQLite 0/1, PostgreSQL
// true/false) and the one aggregate that joins tag names.
import type {
  ImageRecord,
  ManifestRecord,
  ReplicationOutcome,
  ReplicationState,
  ReplicationTask,
  Repository,
  RepositorySettings,
  StoredDocument,
  TagMutability,
} from './metadata-store.ts';

type Row = Record<string, unknown>;

/** A boolean column as either store returns it. */
function flag(value: unknown): boolean {
  return value === true || Number(value) === 1;
}

export const documentColumns = 'kind, key, body, version, created_at, updated_at';

export function toDocument(r: Row): StoredDocument {
  return {
    kind: r.kind as string,
    key: r.key as string,
    body: r.body as string,
    version: Number(r.version),
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

export const repositoryColumns = 'id, name, created_at, version, image_tag_mutability, tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, tags';

/** The image listing's SELECT; `joinTags` is the dialect's aggregate of t.name separated by newlines. */
export function imageSelect(joinTags: string): string {
  return `SELECT m.digest, m.media_type, m.artifact_type, m.size, m.pushed_at, m.last_pulled_at, m.subject,
  (SELECT ${joinTags} FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest) AS tag_names,
  (SELECT coalesce(sum(b.size), 0) FROM manifest_references r JOIN blobs b ON b.digest = r.digest
     WHERE r.repository_id = m.repository_id AND r.manifest_digest = m.digest AND r.kind = 'blob') AS blob_bytes,
  EXISTS (SELECT 1 FROM manifest_references r WHERE r.repository_id = m.repository_id AND r.digest = m.digest AND r.kind = 'manifest') AS listed
  FROM manifests m`;
}

export const tagFilters = {
  ANY: '',
  TAGGED: ' AND EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)',
  UNTAGGED: ' AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.manifest_digest = m.digest)',
} as const;

export function toImage(r: Row): ImageRecord {
  const names = r.tag_names as string | null;
  return {
    digest: r.digest as string,
    mediaType: r.media_type as string,
    artifactType: (r.artifact_type as string | null) ?? undefined,
    manifestSize: Number(r.size),
    blobBytes: Number(r.blob_bytes),
    tags: names ? names.split('\n').sort() : [],
    pushedAt: new Date(Number(r.pushed_at)),
    lastPulledAt: r.last_pulled_at === null ? undefined : new Date(Number(r.last_pulled_at)),
    referenced: flag(r.listed) || r.subject !== null,
    subject: (r.subject as string | null) ?? undefined,
  };
}

export function toRepository(r: Row): Repository {
  return {
    id: Number(r.id),
    name: r.name as string,
    createdAt: new Date(Number(r.created_at)),
    version: Number(r.version),
    settings: {
      imageTagMutability: r.image_tag_mutability as TagMutability,
      tagMutabilityExclusions: JSON.parse(r.tag_mutability_exclusions as string) as string[],
      scanOnPush: flag(r.scan_on_push),
      encryptionType: r.encryption_type as 'AES256' | 'KMS',
      kmsKey: (r.kms_key as string | null) ?? undefined,
      tags: JSON.parse(r.tags as string) as Record<string, string>,
    },
  };
}

/** Settings as statement parameters; `bool` encodes scanOnPush the dialect's way. */
export function settingsParams<B>(s: RepositorySettings, bool: (v: boolean) => B): (string | B | null)[] {
  return [s.imageTagMutability, JSON.stringify(s.tagMutabilityExclusions), bool(s.scanOnPush), s.encryptionType, s.kmsKey ?? null, JSON.stringify(s.tags)];
}

/** The least string greater than every string that starts with `prefix`. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

export function toManifest(r: Row): ManifestRecord {
  return { digest: r.digest as string, mediaType: r.media_type as string, content: r.content as Uint8Array };
}

/** Columns of a replication task, from `replication_tasks rt` joined to `repositories r`. */
export const replicationTaskColumns =
  'rt.id, rt.repository_id, r.name AS repository_name, rt.digest, rt.destination, rt.tags, rt.state, rt.attempts, rt.next_attempt_at, rt.generation, rt.failure_code, rt.failure_reason, rt.created_at, rt.updated_at';

export function toReplicationTask(r: Row): ReplicationTask {
  return {
    id: Number(r.id),
    repositoryId: Number(r.repository_id),
    repositoryName: r.repository_name as string,
    digest: r.digest as string,
    destination: r.destination as string,
    tags: JSON.parse(r.tags as string) as string[],
    state: r.state as ReplicationState,
    attempts: Number(r.attempts),
    nextAttemptAt: new Date(Number(r.next_attempt_at)),
    generation: Number(r.generation),
    failureCode: (r.failure_code as string | null) ?? undefined,
    failureReason: (r.failure_reason as string | null) ?? undefined,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
  };
}

/** Sorted and deduplicated: the form task tags are stored in. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * A finished task's new column values, for one UPDATE shared by both stores:
 *   SET state = ?, attempts = attempts + ?, next_attempt_at = coalesce(?, next_attempt_at), failure_code = ?, failure_reason = ?
 * Only a retry moves next_attempt_at; COMPLETE is not a failed attempt.
 */
export function outcomeParams(o: ReplicationOutcome): [ReplicationState, number, number | null, string | null, string | null] {
  switch (o.state) {
    case 'COMPLETE':
      return ['COMPLETE', 0, null, null, null];
    case 'IN_PROGRESS':
      return ['IN_PROGRESS', 1, o.retryAt.getTime(), o.failureCode, o.failureReason];
    case 'FAILED':
      return ['FAILED', 1, null, o.failureCode, o.failureReason];
  }
}
