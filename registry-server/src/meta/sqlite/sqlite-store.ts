import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  defaultRepositorySettings,
  type BlobRecord,
  type ExpirationRecord,
  type ImageRecord,
  type TagFilter,
  type ManifestInput,
  type ManifestRecord,
  type MetadataStore,
  type Page,
  type PutDocumentOptions,
  type PutDocumentResult,
  type PutManifestResult,
  type ReferrerRecord,
  type ReplicationOutcome,
  type ReplicationTask,
  type Repository,
  type RepositorySettings,
  type RepositoryStats,
  type StoredDocument,
  type TagMutability,
  type UpdateResult,
  type UploadSession,
} from '../metadata-store.ts';
import { sqliteMigrations } from './migrations.ts';
import {
  documentColumns,
  imageSelect,
  outcomeParams,
  prefixEnd,
  replicationTaskColumns,
  repositoryColumns,
  settingsParams,
  sortedUnique,
  tagFilters,
  toDocument,
  toImage,
  toManifest,
  toReplicationTask,
  toRepository,
} from '../rows.ts';

const imageSelectSql = imageSelect("group_concat(t.name, char(10))");

type Row = Record<string, unknown>;

export interface SqliteOptions {
  /** Database file, or ':memory:'. */
  readonly path: string;
  /** FULL fsyncs the WAL on every commit (survives power loss); NORMAL survives a process crash. */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/**
 * MetadataStore on node:sqlite. The driver is synchronous, so each method body runs without
 * interleaving other JavaScript; explicit transactions group multi-row changes for crash safety.
 */
export class SqliteMetadataStore implements MetadataStore {
  private readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new DatabaseSync(options.path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = ${options.synchronous ?? 'FULL'};
      PRAGMA foreign_keys = ON;
      PRAGMA busy_timeout = 5000;
    `);
  }

  /** Prepared statements are cached by their text. */
  private q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => Number(r.version)));
    for (const m of sqliteMigrations) {
      if (applied.has(m.version)) continue;
      this.tx(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
      });
    }
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  async listImages(repositoryId: number, filter: TagFilter, page: Page): Promise<ImageRecord[]> {
    const rows = this.q(`${imageSelectSql} WHERE m.repository_id = ? AND m.digest > ?${tagFilters[filter]} ORDER BY m.digest LIMIT ?`).all(
      repositoryId,
      page.after ?? '',
      page.limit,
    ) as Row[];
    return rows.map(toImage);
  }

  async getImage(repositoryId: number, digest: string): Promise<ImageRecord | undefined> {
    const r = this.q(`${imageSelectSql} WHERE m.repository_id = ? AND m.digest = ?`).get(repositoryId, digest) as Row | undefined;
    return r && toImage(r);
  }

  async indexesListing(repositoryId: number, digest: string): Promise<string[]> {
    const rows = this.q("SELECT manifest_digest FROM manifest_references WHERE repository_id = ? AND digest = ? AND kind = 'manifest' ORDER BY manifest_digest").all(
      repositoryId,
      digest,
    ) as Row[];
    return rows.map((r) => r.manifest_digest as string);
  }

  async recordExpirations(records: readonly Omit<ExpirationRecord, 'id'>[]): Promise<void> {
    if (records.length === 0) return;
    this.tx(() => {
      const ins = this.q('INSERT INTO lifecycle_expirations (repository_name, digest, tags, rule_priority, reason, expired_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const r of records) ins.run(r.repositoryName, r.digest, JSON.stringify(r.tags), r.rulePriority, r.reason, r.expiredAt.getTime());
    });
  }

  async listExpirations(repositoryName: string, page: { after?: number; limit: number }): Promise<ExpirationRecord[]> {
    const rows = this.q(
      'SELECT id, repository_name, digest, tags, rule_priority, reason, expired_at FROM lifecycle_expirations WHERE repository_name = ? AND id < ? ORDER BY id DESC LIMIT ?',
    ).all(repositoryName, page.after ?? Number.MAX_SAFE_INTEGER, page.limit) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      repositoryName: r.repository_name as string,
      digest: r.digest as string,
      tags: JSON.parse(r.tags as string) as string[],
      rulePriority: Number(r.rule_priority),
      reason: r.reason as string,
      expiredAt: new Date(Number(r.expired_at)),
    }));
  }

  async recordPulls(pulls: readonly { repositoryId: number; digest: string; at: Date }[]): Promise<void> {
    if (pulls.length === 0) return;
    this.tx(() => {
      const set = this.q('UPDATE manifests SET last_pulled_at = max(coalesce(last_pulled_at, 0), ?) WHERE repository_id = ? AND digest = ?');
      for (const p of pulls) set.run(p.at.getTime(), p.repositoryId, p.digest);
    });
  }

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    // One statement: take a free lease, or overwrite one that is ours or has expired.
    const r = this.q(
      `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`,
    ).run(name, holder, now + ttlMs, now);
    return r.changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.q('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async getDocument(kind: string, key: string): Promise<StoredDocument | undefined> {
    const r = this.q(`SELECT ${documentColumns} FROM documents WHERE kind = ? AND key = ?`).get(kind, key) as Row | undefined;
    return r && toDocument(r);
  }

  async listDocuments(kind: string, prefix: string, page: Page): Promise<StoredDocument[]> {
    const after = page.after ?? '';
    const rows = (
      prefix === ''
        ? this.q(`SELECT ${documentColumns} FROM documents WHERE kind = ? AND key > ? ORDER BY key LIMIT ?`).all(kind, after, page.limit)
        : this.q(`SELECT ${documentColumns} FROM documents WHERE kind = ? AND key >= ? AND key < ? AND key > ? ORDER BY key LIMIT ?`).all(
            kind,
            prefix,
            prefixEnd(prefix),
            after,
            page.limit,
          )
    ) as Row[];
    return rows.map(toDocument);
  }

  async putDocument(kind: string, key: string, body: string, options: PutDocumentOptions): Promise<PutDocumentResult> {
    const now = Date.now();
    return this.tx((): PutDocumentResult => {
      const current = this.q(`SELECT ${documentColumns} FROM documents WHERE kind = ? AND key = ?`).get(kind, key) as Row | undefined;
      if (current) {
        const doc = toDocument(current);
        if (options.mode === 'create') return { status: 'exists', current: doc };
        if (options.expectedVersion !== undefined && doc.version !== options.expectedVersion) return { status: 'stale', current: doc };
        const r = this.q(`UPDATE documents SET body = ?, version = version + 1, updated_at = ? WHERE kind = ? AND key = ? RETURNING ${documentColumns}`).get(
          body,
          now,
          kind,
          key,
        ) as Row;
        return { status: 'ok', value: toDocument(r) };
      }
      if (options.mode === 'update') return { status: 'missing' };
      if (options.expectedVersion !== undefined) return { status: 'missing' };
      const r = this.q(
        `INSERT INTO documents (kind, key, repository_id, body, version, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING ${documentColumns}`,
      ).get(kind, key, options.repositoryId ?? null, body, now, now) as Row;
      return { status: 'ok', value: toDocument(r) };
    });
  }

  async deleteDocument(kind: string, key: string, expectedVersion?: number): Promise<'deleted' | 'missing' | 'stale'> {
    return this.tx(() => {
      const r = this.q('SELECT version FROM documents WHERE kind = ? AND key = ?').get(kind, key) as Row | undefined;
      if (!r) return 'missing';
      if (expectedVersion !== undefined && Number(r.version) !== expectedVersion) return 'stale';
      this.q('DELETE FROM documents WHERE kind = ? AND key = ?').run(kind, key);
      return 'deleted';
    });
  }

  async getRepository(name: string): Promise<Repository | undefined> {
    const r = this.q(`SELECT ${repositoryColumns} FROM repositories WHERE name = ?`).get(name) as Row | undefined;
    return r && toRepository(r);
  }

  async ensureRepository(name: string, settings: RepositorySettings = defaultRepositorySettings): Promise<Repository> {
    return (await this.createRepository(name, settings)) ?? toRepository(this.q(`SELECT ${repositoryColumns} FROM repositories WHERE name = ?`).get(name) as Row);
  }

  async createRepository(name: string, settings: RepositorySettings): Promise<Repository | undefined> {
    const now = Date.now();
    const r = this.q(
      `INSERT INTO repositories (name, created_at, updated_at, version, image_tag_mutability, tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, tags)
       VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING ${repositoryColumns}`,
    ).get(name, now, now, ...settingsParams(settings, (v) => (v ? 1 : 0))) as Row | undefined;
    return r && toRepository(r);
  }

  async updateRepository(name: string, settings: RepositorySettings, expectedVersion?: number): Promise<UpdateResult<Repository>> {
    return this.tx((): UpdateResult<Repository> => {
      const current = this.q(`SELECT ${repositoryColumns} FROM repositories WHERE name = ?`).get(name) as Row | undefined;
      if (!current) return { status: 'missing' };
      if (expectedVersion !== undefined && Number(current.version) !== expectedVersion) return { status: 'stale', current: toRepository(current) };
      const r = this.q(
        `UPDATE repositories SET version = version + 1, updated_at = ?, image_tag_mutability = ?, tag_mutability_exclusions = ?, scan_on_push = ?,
         encryption_type = ?, kms_key = ?, tags = ? WHERE name = ? RETURNING ${repositoryColumns}`,
      ).get(Date.now(), ...settingsParams(settings, (v) => (v ? 1 : 0)), name) as Row;
      return { status: 'ok', value: toRepository(r) };
    });
  }

  async deleteRepository(name: string, options: { force: boolean; expectedVersion?: number }): Promise<'deleted' | 'missing' | 'not-empty' | 'stale'> {
    return this.tx(() => {
      const r = this.q('SELECT id, version FROM repositories WHERE name = ?').get(name) as Row | undefined;
      if (!r) return 'missing';
      if (options.expectedVersion !== undefined && Number(r.version) !== options.expectedVersion) return 'stale';
      if (!options.force && this.q('SELECT 1 FROM manifests WHERE repository_id = ? LIMIT 1').get(r.id as number)) return 'not-empty';
      this.q('DELETE FROM repositories WHERE id = ?').run(r.id as number);
      return 'deleted';
    });
  }

  async listRepositoryRecords(prefix: string, page: Page): Promise<Repository[]> {
    const after = page.after ?? '';
    // A prefix is the key range [prefix, prefixEnd): still one index seek per page.
    const rows = (
      prefix === ''
        ? this.q(`SELECT ${repositoryColumns} FROM repositories WHERE name > ? ORDER BY name LIMIT ?`).all(after, page.limit)
        : this.q(`SELECT ${repositoryColumns} FROM repositories WHERE name >= ? AND name < ? AND name > ? ORDER BY name LIMIT ?`).all(
            prefix,
            prefixEnd(prefix),
            after,
            page.limit,
          )
    ) as Row[];
    return rows.map(toRepository);
  }

  async repositoryStats(repositoryId: number): Promise<RepositoryStats> {
    const images = this.q('SELECT count(*) AS n FROM manifests WHERE repository_id = ?').get(repositoryId) as Row;
    const bytes = this.q(
      'SELECT coalesce(sum(b.size), 0) AS n FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = ?',
    ).get(repositoryId) as Row;
    return { imageCount: Number(images.n), sizeInBytes: Number(bytes.n) };
  }

  async listRepositories(page: Page): Promise<string[]> {
    const rows = this.q('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?').all(page.after ?? '', page.limit) as Row[];
    return rows.map((r) => r.name as string);
  }

  async getRepositoryBlob(repositoryId: number, digest: string): Promise<BlobRecord | undefined> {
    const r = this.q(
      'SELECT b.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = ? AND rb.digest = ?',
    ).get(repositoryId, digest) as Row | undefined;
    return r && { digest: r.digest as string, size: Number(r.size) };
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const r = this.q('SELECT digest, size FROM blobs WHERE digest = ?').get(digest) as Row | undefined;
    return r && { digest: r.digest as string, size: Number(r.size) };
  }

  async putBlob(repositoryId: number, blob: BlobRecord): Promise<void> {
    const now = Date.now();
    this.tx(() => {
      this.q('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING').run(blob.digest, blob.size, now);
      this.q('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(repositoryId, blob.digest, now);
    });
  }

  async linkBlob(repositoryId: number, digest: string): Promise<boolean> {
    const r = this.q(
      'INSERT INTO repository_blobs (repository_id, digest, created_at) SELECT ?, digest, ? FROM blobs WHERE digest = ? ON CONFLICT DO NOTHING',
    ).run(repositoryId, Date.now(), digest);
    if (r.changes > 0) return true;
    return (await this.getRepositoryBlob(repositoryId, digest)) !== undefined;
  }

  async unlinkBlob(repositoryId: number, digest: string): Promise<boolean> {
    return this.q('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes > 0;
  }

  async completeUpload(uploadId: string, repositoryId: number, blob: BlobRecord): Promise<void> {
    const now = Date.now();
    this.tx(() => {
      this.q('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING').run(blob.digest, blob.size, now);
      this.q('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(repositoryId, blob.digest, now);
      this.q('DELETE FROM uploads WHERE id = ?').run(uploadId);
    });
  }

  async createUpload(session: { id: string; repositoryId: number; digestAlgorithm: string }): Promise<UploadSession> {
    const now = Date.now();
    this.q('INSERT INTO uploads (id, repository_id, upload_offset, digest_algorithm, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?)').run(
      session.id,
      session.repositoryId,
      session.digestAlgorithm,
      now,
      now,
    );
    return { id: session.id, repositoryId: session.repositoryId, digestAlgorithm: session.digestAlgorithm, offset: 0, createdAt: new Date(now) };
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const r = this.q('SELECT id, repository_id, upload_offset, digest_algorithm, created_at FROM uploads WHERE id = ?').get(id) as Row | undefined;
    return (
      r && {
        id: r.id as string,
        repositoryId: Number(r.repository_id),
        digestAlgorithm: r.digest_algorithm as string,
        offset: Number(r.upload_offset),
        createdAt: new Date(Number(r.created_at)),
      }
    );
  }

  async advanceUpload(id: string, from: number, to: number): Promise<boolean> {
    const r = this.q('UPDATE uploads SET upload_offset = ?, updated_at = ? WHERE id = ? AND upload_offset = ?').run(to, Date.now(), id, from);
    return r.changes > 0;
  }

  async deleteUpload(id: string): Promise<boolean> {
    return this.q('DELETE FROM uploads WHERE id = ?').run(id).changes > 0;
  }

  async listUploadIds(): Promise<Set<string>> {
    return new Set((this.q('SELECT id FROM uploads').all() as Row[]).map((r) => r.id as string));
  }

  async putManifest(
    repositoryId: number,
    m: ManifestInput,
    tags: readonly string[],
    immutableTags: readonly string[] = [],
    replicateTo: readonly string[] = [],
  ): Promise<PutManifestResult> {
    const now = Date.now();
    return this.tx((): PutManifestResult => {
      const missing: string[] = [];
      for (const ref of m.references) {
        if (ref.kind === 'subject') continue;
        const found =
          ref.kind === 'blob'
            ? this.q('SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?').get(repositoryId, ref.digest)
            : this.q('SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, ref.digest);
        if (!found) missing.push(ref.digest);
      }
      if (missing.length > 0) return { ok: false, reason: 'missing', missing };
      for (const tag of immutableTags) {
        const current = this.q('SELECT manifest_digest FROM tags WHERE repository_id = ? AND name = ?').get(repositoryId, tag) as Row | undefined;
        if (current && current.manifest_digest !== m.digest) return { ok: false, reason: 'immutable', tag, digest: current.manifest_digest as string };
      }
      const inserted = this.q(
        `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject, annotations, pushed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING`,
      ).run(repositoryId, m.digest, m.mediaType, m.artifactType ?? null, m.content.byteLength, m.content, m.subject ?? null, m.annotations ?? null, now);
      if (inserted.changes > 0) {
        const ins = this.q('INSERT INTO manifest_references (repository_id, manifest_digest, digest, kind) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
        for (const ref of m.references) ins.run(repositoryId, m.digest, ref.digest, ref.kind);
      }
      const tag = this.q(
        `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
      );
      for (const t of tags) tag.run(repositoryId, t, m.digest, now);
      if (replicateTo.length > 0) this.enqueueReplication(repositoryId, m.digest, tags, replicateTo, now);
      return { ok: true };
    });
  }

  /** Inside putManifest's transaction: creates each destination's task, or merges this push into it and makes it due. */
  private enqueueReplication(repositoryId: number, digest: string, tags: readonly string[], destinations: readonly string[], now: number): void {
    const pushed = sortedUnique(tags);
    const find = this.q('SELECT id, tags FROM replication_tasks WHERE repository_id = ? AND digest = ? AND destination = ?');
    const insert = this.q(
      `INSERT INTO replication_tasks (repository_id, digest, destination, tags, state, attempts, next_attempt_at, generation, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'IN_PROGRESS', 0, ?, 1, ?, ?)`,
    );
    // The claim stays: its holder's generation is now stale, so its outcome will not count.
    const merge = this.q(
      `UPDATE replication_tasks SET tags = ?, state = 'IN_PROGRESS', attempts = 0, next_attempt_at = ?, generation = generation + 1,
       failure_code = NULL, failure_reason = NULL, updated_at = ? WHERE id = ?`,
    );
    for (const destination of sortedUnique(destinations)) {
      const current = find.get(repositoryId, digest, destination) as Row | undefined;
      if (!current) insert.run(repositoryId, digest, destination, JSON.stringify(pushed), now, now, now);
      else merge.run(JSON.stringify(sortedUnique([...(JSON.parse(current.tags as string) as string[]), ...pushed])), now, now, current.id as number);
    }
  }

  async claimReplicationTasks(holder: string, now: Date, leaseMs: number, limit: number): Promise<ReplicationTask[]> {
    const at = now.getTime();
    // One write transaction: BEGIN IMMEDIATE keeps other processes on the file from claiming the same rows.
    return this.tx(() => {
      const rows = this.q(
        `SELECT ${replicationTaskColumns} FROM replication_tasks rt JOIN repositories r ON r.id = rt.repository_id
         WHERE rt.state = 'IN_PROGRESS' AND rt.next_attempt_at <= ? AND (rt.claimed_until IS NULL OR rt.claimed_until < ?)
         ORDER BY rt.next_attempt_at, rt.id LIMIT ?`,
      ).all(at, at, limit) as Row[];
      const claim = this.q('UPDATE replication_tasks SET claimed_by = ?, claimed_until = ? WHERE id = ?');
      for (const r of rows) claim.run(holder, at + leaseMs, r.id as number);
      return rows.map(toReplicationTask);
    });
  }

  async finishReplicationTask(id: number, holder: string, generation: number, outcome: ReplicationOutcome): Promise<boolean> {
    const now = Date.now();
    return this.tx(() => {
      const r = this.q('SELECT generation FROM replication_tasks WHERE id = ? AND claimed_by = ?').get(id, holder) as Row | undefined;
      if (!r) return false;
      if (Number(r.generation) !== generation) {
        // A push merged in since the claim: that push made the task due; only the claim goes.
        this.q('UPDATE replication_tasks SET claimed_by = NULL, claimed_until = NULL, updated_at = ? WHERE id = ?').run(now, id);
        return false;
      }
      this.q(
        `UPDATE replication_tasks SET state = ?, attempts = attempts + ?, next_attempt_at = coalesce(?, next_attempt_at), failure_code = ?, failure_reason = ?,
         claimed_by = NULL, claimed_until = NULL, updated_at = ? WHERE id = ?`,
      ).run(...outcomeParams(outcome), now, id);
      return true;
    });
  }

  async listReplicationTasks(repositoryId: number, digest: string): Promise<ReplicationTask[]> {
    const rows = this.q(
      `SELECT ${replicationTaskColumns} FROM replication_tasks rt JOIN repositories r ON r.id = rt.repository_id
       WHERE rt.repository_id = ? AND rt.digest = ? ORDER BY rt.destination`,
    ).all(repositoryId, digest) as Row[];
    return rows.map(toReplicationTask);
  }

  async getManifest(repositoryId: number, digest: string): Promise<ManifestRecord | undefined> {
    const r = this.q('SELECT digest, media_type, content FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, digest) as
      | Row
      | undefined;
    return r && toManifest(r);
  }

  async getManifestByTag(repositoryId: number, tag: string): Promise<ManifestRecord | undefined> {
    const r = this.q(
      `SELECT m.digest, m.media_type, m.content FROM tags t
       JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
       WHERE t.repository_id = ? AND t.name = ?`,
    ).get(repositoryId, tag) as Row | undefined;
    return r && toManifest(r);
  }

  async deleteManifest(repositoryId: number, digest: string): Promise<boolean> {
    // Tags and references go with it through ON DELETE CASCADE.
    return this.q('DELETE FROM manifests WHERE repository_id = ? AND digest = ?').run(repositoryId, digest).changes > 0;
  }

  async deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    return this.q('DELETE FROM tags WHERE repository_id = ? AND name = ?').run(repositoryId, tag).changes > 0;
  }

  async listTags(repositoryId: number, page: Page): Promise<string[]> {
    const rows = this.q('SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?').all(
      repositoryId,
      page.after ?? '',
      page.limit,
    ) as Row[];
    return rows.map((r) => r.name as string);
  }

  async listReferrers(repositoryId: number, subject: string, page: Page, artifactType?: string): Promise<ReferrerRecord[]> {
    const rows = (
      artifactType === undefined
        ? this.q(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests
             WHERE repository_id = ? AND subject = ? AND digest > ? ORDER BY digest LIMIT ?`,
          ).all(repositoryId, subject, page.after ?? '', page.limit)
        : this.q(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests
             WHERE repository_id = ? AND subject = ? AND digest > ? AND artifact_type = ? ORDER BY digest LIMIT ?`,
          ).all(repositoryId, subject, page.after ?? '', artifactType, page.limit)
    ) as Row[];
    return rows.map((r) => ({
      digest: r.digest as string,
      mediaType: r.media_type as string,
      artifactType: (r.artifact_type as string | null) ?? undefined,
      size: Number(r.size),
      annotations: (r.annotations as string | null) ?? undefined,
    }));
  }
}

