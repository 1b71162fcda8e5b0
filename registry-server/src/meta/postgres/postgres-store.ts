import { DatabaseError, Pool, escapeIdentifier, type PoolClient, type QueryResultRow } from 'pg';
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
import { postgresMigrations } from './migrations.ts';
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

const imageSelectSql = imageSelect("string_agg(t.name, E'\\n')");

type Row = Record<string, unknown>;

export interface PostgresOptions {
  /** postgres://user:password@host:port/database?… */
  readonly connectionString: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** Schema holding Berth's tables (created by migrate); the connection's search_path otherwise. */
  readonly schema?: string;
}

/** A database error, with its SQLSTATE when PostgreSQL gave one. */
export class PostgresStoreError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'PostgresStoreError';
    this.code = code;
  }
}

/** Ends a transaction early with a result, rolling back whatever it wrote. */
class Abort<T> {
  readonly value: T;
  constructor(value: T) {
    this.value = value;
  }
}

/** A race lost to a concurrent writer in a way that a fresh attempt resolves. */
class Retry extends Error {}

// serialization_failure, deadlock_detected: the transaction did nothing and may run again.
const retryableCodes = new Set(['40001', '40P01']);
const maxAttempts = 8;

/**
 * MetadataStore on PostgreSQL, for several registry replicas sharing one database. Transactions
 * run at READ COMMITTED; where replicas race, statements are compare-and-set (conditional
 * UPDATE, INSERT … ON CONFLICT) or lock the rows they decide on (SELECT … FOR UPDATE), so the
 * outcome is one of the serial ones.
 */
export class PostgresMetadataStore implements MetadataStore {
  private readonly pool: Pool;
  private readonly schema: string | undefined;
  private closed = false;

  constructor(options: PostgresOptions) {
    // Lower case only: the name goes unquoted into search_path, where PostgreSQL folds case.
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(`invalid PostgreSQL schema name "${options.schema}" (lower-case letters, digits and _ only)`);
    }
    this.schema = options.schema;
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      // The schema goes in as a startup option, so every pooled connection resolves names there
      // from its first query on.
      ...(options.schema !== undefined ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle connection that breaks (a server restart, say) is dropped from the pool and the next
    // query opens another; without a listener the error would crash the process.
    this.pool.on('error', () => {});
  }

  /** One statement: on `client` inside a transaction, else on its own (and then retried if it lost a deadlock). */
  private async query<R extends QueryResultRow = Row>(sql: string, params: unknown[] = [], client?: PoolClient): Promise<{ rows: R[]; rowCount: number }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await (client ?? this.pool).query<R>(sql, params);
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      } catch (err) {
        // A statement of its own is its own transaction: when it loses, nothing of it remains.
        const retry = client === undefined && err instanceof DatabaseError && err.code !== undefined && retryableCodes.has(err.code) && attempt < maxAttempts;
        if (!retry) throw mapError(err);
        await backoff(attempt);
      }
    }
  }

  private async one<R extends QueryResultRow = Row>(sql: string, params: unknown[] = [], client?: PoolClient): Promise<R | undefined> {
    return (await this.query<R>(sql, params, client)).rows[0];
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction on one connection. Throwing Abort rolls back and
   * returns its value; deadlocks, serialization failures and Retry run `fn` again.
   */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw mapError(err);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; do not hand it back to the pool
        }
        if (err instanceof Abort) return err.value as T;
        const code = err instanceof PostgresStoreError || err instanceof DatabaseError ? err.code : undefined;
        const retryable = err instanceof Retry || (code !== undefined && retryableCodes.has(code));
        if (!retryable || attempt >= maxAttempts) throw err instanceof Retry ? new Error(`gave up after ${attempt} attempts: ${err.message}`) : mapError(err);
        await backoff(attempt);
      } finally {
        client.release(broken);
      }
    }
  }

  async migrate(): Promise<void> {
    const schema = this.schema ?? 'public';
    await this.tx(async (c) => {
      // Replicas starting together queue here; the first applies what is pending, the others then
      // find nothing left to do. The lock goes with the transaction, whatever happens.
      await this.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`berth:migrate:${schema}`], c);
      if (this.schema !== undefined) await this.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(this.schema)}`, [], c);
      await this.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)', [], c);
      const applied = new Set((await this.query('SELECT version FROM schema_migrations', [], c)).rows.map((r) => Number(r.version)));
      for (const m of postgresMigrations) {
        if (applied.has(m.version)) continue;
        await this.query(m.sql, [], c);
        await this.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()], c);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    // The database's clock decides expiry, so replicas with skewed clocks still agree. The upsert
    // locks the row it conflicts with and re-checks the WHERE on its latest version: of two
    // contenders for an expired lease, exactly one updates it.
    const r = await this.query(
      `INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, (extract(epoch FROM statement_timestamp()) * 1000)::bigint + $3)
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= (extract(epoch FROM statement_timestamp()) * 1000)::bigint`,
      [name, holder, Math.ceil(ttlMs)],
    );
    return r.rowCount > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async listImages(repositoryId: number, filter: TagFilter, page: Page): Promise<ImageRecord[]> {
    const { rows } = await this.query(`${imageSelectSql} WHERE m.repository_id = $1 AND m.digest > $2${tagFilters[filter]} ORDER BY m.digest LIMIT $3`, [
      repositoryId,
      page.after ?? '',
      page.limit,
    ]);
    return rows.map(toImage);
  }

  async getImage(repositoryId: number, digest: string): Promise<ImageRecord | undefined> {
    const r = await this.one(`${imageSelectSql} WHERE m.repository_id = $1 AND m.digest = $2`, [repositoryId, digest]);
    return r && toImage(r);
  }

  async indexesListing(repositoryId: number, digest: string): Promise<string[]> {
    const { rows } = await this.query(
      "SELECT manifest_digest FROM manifest_references WHERE repository_id = $1 AND digest = $2 AND kind = 'manifest' ORDER BY manifest_digest",
      [repositoryId, digest],
    );
    return rows.map((r) => r.manifest_digest as string);
  }

  async recordExpirations(records: readonly Omit<ExpirationRecord, 'id'>[]): Promise<void> {
    if (records.length === 0) return;
    // One statement is one transaction; ids follow the order of `records`.
    await this.query(
      `INSERT INTO lifecycle_expirations (repository_name, digest, tags, rule_priority, reason, expired_at)
       SELECT n, d, t, p, r, e FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::bigint[]) WITH ORDINALITY AS u(n, d, t, p, r, e, i)
       ORDER BY i`,
      [
        records.map((r) => r.repositoryName),
        records.map((r) => r.digest),
        records.map((r) => JSON.stringify(r.tags)),
        records.map((r) => r.rulePriority),
        records.map((r) => r.reason),
        records.map((r) => r.expiredAt.getTime()),
      ],
    );
  }

  async listExpirations(repositoryName: string, page: { after?: number; limit: number }): Promise<ExpirationRecord[]> {
    const { rows } = await this.query(
      `SELECT id, repository_name, digest, tags, rule_priority, reason, expired_at FROM lifecycle_expirations
       WHERE repository_name = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
      [repositoryName, page.after ?? Number.MAX_SAFE_INTEGER, page.limit],
    );
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
    // One UPDATE for the batch; a manifest pulled twice in it counts its latest pull.
    await this.tx(async (c) => {
      // Lock the rows in key order first: an UPDATE … FROM visits them in whatever order its join
      // runs, and two batches visiting shared rows in different orders would deadlock.
      await this.query(
        `SELECT 1 FROM manifests m JOIN unnest($1::bigint[], $2::text[]) AS u(r, d) ON m.repository_id = u.r AND m.digest = u.d
         ORDER BY m.repository_id, m.digest FOR NO KEY UPDATE OF m`,
        [pulls.map((p) => p.repositoryId), pulls.map((p) => p.digest)],
        c,
      );
      await this.query(
        `UPDATE manifests m SET last_pulled_at = GREATEST(coalesce(m.last_pulled_at, 0), p.at)
         FROM (SELECT r, d, max(a) AS at FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(r, d, a) GROUP BY r, d) p
         WHERE m.repository_id = p.r AND m.digest = p.d`,
        [pulls.map((p) => p.repositoryId), pulls.map((p) => p.digest), pulls.map((p) => p.at.getTime())],
        c,
      );
    });
  }

  async getDocument(kind: string, key: string): Promise<StoredDocument | undefined> {
    const r = await this.one(`SELECT ${documentColumns} FROM documents WHERE kind = $1 AND key = $2`, [kind, key]);
    return r && toDocument(r);
  }

  async listDocuments(kind: string, prefix: string, page: Page): Promise<StoredDocument[]> {
    const after = page.after ?? '';
    const { rows } =
      prefix === ''
        ? await this.query(`SELECT ${documentColumns} FROM documents WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3`, [kind, after, page.limit])
        : await this.query(`SELECT ${documentColumns} FROM documents WHERE kind = $1 AND key >= $2 AND key < $3 AND key > $4 ORDER BY key LIMIT $5`, [
            kind,
            prefix,
            prefixEnd(prefix),
            after,
            page.limit,
          ]);
    return rows.map(toDocument);
  }

  async putDocument(kind: string, key: string, body: string, options: PutDocumentOptions): Promise<PutDocumentResult> {
    return this.tx(async (c): Promise<PutDocumentResult> => {
      const now = Date.now();
      // The current row is locked while we decide; an absent one is claimed by the insert below,
      // and a concurrent creator that gets there first sends us round again to find its row.
      for (;;) {
        const current = await this.one(`SELECT ${documentColumns} FROM documents WHERE kind = $1 AND key = $2 FOR UPDATE`, [kind, key], c);
        if (current) {
          const doc = toDocument(current);
          if (options.mode === 'create') return { status: 'exists', current: doc };
          if (options.expectedVersion !== undefined && doc.version !== options.expectedVersion) return { status: 'stale', current: doc };
          const r = await this.one(
            `UPDATE documents SET body = $1, version = version + 1, updated_at = $2 WHERE kind = $3 AND key = $4 RETURNING ${documentColumns}`,
            [body, now, kind, key],
            c,
          );
          if (!r) throw new Error('document vanished while locked');
          return { status: 'ok', value: toDocument(r) };
        }
        if (options.mode === 'update') return { status: 'missing' };
        if (options.expectedVersion !== undefined) return { status: 'missing' };
        const r = await this.one(
          `INSERT INTO documents (kind, key, repository_id, body, version, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6)
           ON CONFLICT (kind, key) DO NOTHING RETURNING ${documentColumns}`,
          [kind, key, options.repositoryId ?? null, body, now, now],
          c,
        );
        if (r) return { status: 'ok', value: toDocument(r) };
      }
    });
  }

  async deleteDocument(kind: string, key: string, expectedVersion?: number): Promise<'deleted' | 'missing' | 'stale'> {
    return this.tx(async (c) => {
      const r = await this.one('SELECT version FROM documents WHERE kind = $1 AND key = $2 FOR UPDATE', [kind, key], c);
      if (!r) return 'missing';
      if (expectedVersion !== undefined && Number(r.version) !== expectedVersion) return 'stale';
      await this.query('DELETE FROM documents WHERE kind = $1 AND key = $2', [kind, key], c);
      return 'deleted';
    });
  }

  async getRepository(name: string): Promise<Repository | undefined> {
    const r = await this.one(`SELECT ${repositoryColumns} FROM repositories WHERE name = $1`, [name]);
    return r && toRepository(r);
  }

  async ensureRepository(name: string, settings: RepositorySettings = defaultRepositorySettings): Promise<Repository> {
    // Create-or-read races a concurrent delete only in the gap between the two; try again then.
    for (let attempt = 1; ; attempt++) {
      const repo = (await this.createRepository(name, settings)) ?? (await this.getRepository(name));
      if (repo) return repo;
      if (attempt >= maxAttempts) throw new Error(`repository ${name} keeps disappearing while being ensured`);
    }
  }

  async createRepository(name: string, settings: RepositorySettings): Promise<Repository | undefined> {
    const now = Date.now();
    const r = await this.one(
      `INSERT INTO repositories (name, created_at, updated_at, version, image_tag_mutability, tag_mutability_exclusions, scan_on_push, encryption_type, kms_key, tags)
       VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING RETURNING ${repositoryColumns}`,
      [name, now, now, ...settingsParams(settings, (v) => v)],
    );
    return r && toRepository(r);
  }

  async updateRepository(name: string, settings: RepositorySettings, expectedVersion?: number): Promise<UpdateResult<Repository>> {
    return this.tx(async (c): Promise<UpdateResult<Repository>> => {
      const current = await this.one(`SELECT ${repositoryColumns} FROM repositories WHERE name = $1 FOR UPDATE`, [name], c);
      if (!current) return { status: 'missing' };
      if (expectedVersion !== undefined && Number(current.version) !== expectedVersion) return { status: 'stale', current: toRepository(current) };
      const r = await this.one(
        `UPDATE repositories SET version = version + 1, updated_at = $1, image_tag_mutability = $2, tag_mutability_exclusions = $3, scan_on_push = $4,
         encryption_type = $5, kms_key = $6, tags = $7 WHERE name = $8 RETURNING ${repositoryColumns}`,
        [Date.now(), ...settingsParams(settings, (v) => v), name],
        c,
      );
      if (!r) throw new Error('repository vanished while locked');
      return { status: 'ok', value: toRepository(r) };
    });
  }

  async deleteRepository(name: string, options: { force: boolean; expectedVersion?: number }): Promise<'deleted' | 'missing' | 'not-empty' | 'stale'> {
    return this.tx(async (c) => {
      // FOR UPDATE waits out pushes in flight (their manifest inserts hold a key-share lock on the
      // repository row) and holds off new ones, so the emptiness check below stays true.
      const r = await this.one('SELECT id, version FROM repositories WHERE name = $1 FOR UPDATE', [name], c);
      if (!r) return 'missing';
      if (options.expectedVersion !== undefined && Number(r.version) !== options.expectedVersion) return 'stale';
      if (!options.force && (await this.one('SELECT 1 FROM manifests WHERE repository_id = $1 LIMIT 1', [r.id], c))) return 'not-empty';
      // Blob links, manifests, references, tags, uploads and documents go by ON DELETE CASCADE.
      await this.query('DELETE FROM repositories WHERE id = $1', [r.id], c);
      return 'deleted';
    });
  }

  async listRepositoryRecords(prefix: string, page: Page): Promise<Repository[]> {
    const after = page.after ?? '';
    // A prefix is the key range [prefix, prefixEnd): still one index seek per page.
    const { rows } =
      prefix === ''
        ? await this.query(`SELECT ${repositoryColumns} FROM repositories WHERE name > $1 ORDER BY name LIMIT $2`, [after, page.limit])
        : await this.query(`SELECT ${repositoryColumns} FROM repositories WHERE name >= $1 AND name < $2 AND name > $3 ORDER BY name LIMIT $4`, [
            prefix,
            prefixEnd(prefix),
            after,
            page.limit,
          ]);
    return rows.map(toRepository);
  }

  async repositoryStats(repositoryId: number): Promise<RepositoryStats> {
    const r = await this.one(
      `SELECT (SELECT count(*) FROM manifests WHERE repository_id = $1) AS images,
              (SELECT coalesce(sum(b.size), 0) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1) AS bytes`,
      [repositoryId],
    );
    return { imageCount: Number(r?.images ?? 0), sizeInBytes: Number(r?.bytes ?? 0) };
  }

  async listRepositories(page: Page): Promise<string[]> {
    const { rows } = await this.query('SELECT name FROM repositories WHERE name > $1 ORDER BY name LIMIT $2', [page.after ?? '', page.limit]);
    return rows.map((r) => r.name as string);
  }

  async getRepositoryBlob(repositoryId: number, digest: string): Promise<BlobRecord | undefined> {
    const r = await this.one('SELECT b.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = $1 AND rb.digest = $2', [
      repositoryId,
      digest,
    ]);
    return r && { digest: r.digest as string, size: Number(r.size) };
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const r = await this.one('SELECT digest, size FROM blobs WHERE digest = $1', [digest]);
    return r && { digest: r.digest as string, size: Number(r.size) };
  }

  async putBlob(repositoryId: number, blob: BlobRecord): Promise<void> {
    await this.tx(async (c) => {
      await this.linkNewBlob(c, repositoryId, blob);
    });
  }

  private async linkNewBlob(c: PoolClient, repositoryId: number, blob: BlobRecord): Promise<void> {
    const now = Date.now();
    await this.query('INSERT INTO blobs (digest, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING', [blob.digest, blob.size, now], c);
    await this.query('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [repositoryId, blob.digest, now], c);
  }

  async linkBlob(repositoryId: number, digest: string): Promise<boolean> {
    const r = await this.query(
      'INSERT INTO repository_blobs (repository_id, digest, created_at) SELECT $1, digest, $2 FROM blobs WHERE digest = $3 ON CONFLICT DO NOTHING',
      [repositoryId, Date.now(), digest],
    );
    if (r.rowCount > 0) return true;
    return (await this.getRepositoryBlob(repositoryId, digest)) !== undefined;
  }

  async unlinkBlob(repositoryId: number, digest: string): Promise<boolean> {
    return (await this.query('DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2', [repositoryId, digest])).rowCount > 0;
  }

  async completeUpload(uploadId: string, repositoryId: number, blob: BlobRecord): Promise<void> {
    await this.tx(async (c) => {
      await this.linkNewBlob(c, repositoryId, blob);
      await this.query('DELETE FROM uploads WHERE id = $1', [uploadId], c);
    });
  }

  async createUpload(session: { id: string; repositoryId: number; digestAlgorithm: string }): Promise<UploadSession> {
    const now = Date.now();
    await this.query('INSERT INTO uploads (id, repository_id, upload_offset, digest_algorithm, created_at, updated_at) VALUES ($1, $2, 0, $3, $4, $5)', [
      session.id,
      session.repositoryId,
      session.digestAlgorithm,
      now,
      now,
    ]);
    return { id: session.id, repositoryId: session.repositoryId, digestAlgorithm: session.digestAlgorithm, offset: 0, createdAt: new Date(now) };
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const r = await this.one('SELECT id, repository_id, upload_offset, digest_algorithm, created_at FROM uploads WHERE id = $1', [id]);
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
    // Compare-and-set: a concurrent UPDATE of the row makes this one re-check the offset on the
    // row it left, so of two writers starting from the same offset only one moves it.
    const r = await this.query('UPDATE uploads SET upload_offset = $1, updated_at = $2 WHERE id = $3 AND upload_offset = $4', [to, Date.now(), id, from]);
    return r.rowCount > 0;
  }

  async deleteUpload(id: string): Promise<boolean> {
    return (await this.query('DELETE FROM uploads WHERE id = $1', [id])).rowCount > 0;
  }

  async listUploadIds(): Promise<Set<string>> {
    return new Set((await this.query('SELECT id FROM uploads')).rows.map((r) => r.id as string));
  }

  async putManifest(
    repositoryId: number,
    m: ManifestInput,
    tags: readonly string[],
    immutableTags: readonly string[] = [],
    replicateTo: readonly string[] = [],
  ): Promise<PutManifestResult> {
    return this.tx(async (c): Promise<PutManifestResult> => {
      const now = Date.now();
      // References must exist, and stay so until commit: the key-share locks keep a concurrent
      // unlink or manifest delete from removing them under us.
      const blobRefs = m.references.filter((r) => r.kind === 'blob').map((r) => r.digest);
      const manifestRefs = m.references.filter((r) => r.kind === 'manifest').map((r) => r.digest);
      const found = new Set<string>();
      if (blobRefs.length > 0) {
        const { rows } = await this.query('SELECT digest FROM repository_blobs WHERE repository_id = $1 AND digest = ANY($2::text[]) FOR KEY SHARE', [repositoryId, blobRefs], c);
        for (const r of rows) found.add(`blob ${r.digest as string}`);
      }
      if (manifestRefs.length > 0) {
        const { rows } = await this.query('SELECT digest FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[]) FOR KEY SHARE', [repositoryId, manifestRefs], c);
        for (const r of rows) found.add(`manifest ${r.digest as string}`);
      }
      const missing = m.references.filter((r) => r.kind !== 'subject' && !found.has(`${r.kind} ${r.digest}`)).map((r) => r.digest);
      if (missing.length > 0) throw new Abort<PutManifestResult>({ ok: false, reason: 'missing', missing });

      // The manifest row first, then tag rows: the order a manifest delete takes them in (the row,
      // then its tags by cascade), so a push and a delete do not wait on each other in a cycle.
      const inserted = await this.query(
        `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, size, content, subject, annotations, pushed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (repository_id, digest) DO NOTHING`,
        [repositoryId, m.digest, m.mediaType, m.artifactType ?? null, m.content.byteLength, m.content, m.subject ?? null, m.annotations ?? null, now],
        c,
      );
      if (inserted.rowCount > 0) {
        if (m.references.length > 0) {
          await this.query(
            `INSERT INTO manifest_references (repository_id, manifest_digest, digest, kind)
             SELECT $1, $2, d, k FROM unnest($3::text[], $4::text[]) AS u(d, k) ON CONFLICT DO NOTHING`,
            [repositoryId, m.digest, m.references.map((r) => r.digest), m.references.map((r) => r.kind)],
            c,
          );
        }
      } else if (tags.length > 0 && !(await this.one('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR KEY SHARE', [repositoryId, m.digest], c))) {
        // Already stored, but deleted since our insert looked: start over (the insert will store it).
        throw new Retry('manifest deleted during push');
      }

      // Then the tag rows, one statement per tag in name order, whether the row exists yet or not:
      // every push takes them in the same order, so two pushes never wait on each other in a
      // cycle, and each row stays locked until commit. A refusal rolls back everything above.
      const writes = new Set(tags);
      const immutable = new Set(immutableTags);
      let refused = false;
      for (const tag of [...new Set([...tags, ...immutableTags])].sort()) {
        if (!writes.has(tag)) {
          // Checked, not written: only an existing row matters.
          const r = await this.one('SELECT manifest_digest FROM tags WHERE repository_id = $1 AND name = $2 FOR UPDATE', [repositoryId, tag], c);
          if (r && r.manifest_digest !== m.digest) refused = true;
        } else if (immutable.has(tag)) {
          // Inserts the tag, or locks the existing row and keeps it unless it already names this
          // manifest (a concurrent push that created it first is waited for, then seen).
          const r = await this.query(
            `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (repository_id, name) DO UPDATE SET updated_at = excluded.updated_at WHERE tags.manifest_digest = excluded.manifest_digest`,
            [repositoryId, tag, m.digest, now],
            c,
          );
          if (r.rowCount === 0) refused = true;
        } else {
          await this.query(
            `INSERT INTO tags (repository_id, name, manifest_digest, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (repository_id, name) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at`,
            [repositoryId, tag, m.digest, now],
            c,
          );
        }
        if (refused) break;
      }
      if (refused) {
        // Report the first refusing tag in the caller's order (the rows are locked: this is final).
        const { rows } = await this.query('SELECT name, manifest_digest FROM tags WHERE repository_id = $1 AND name = ANY($2::text[])', [repositoryId, immutableTags], c);
        const current = new Map(rows.map((r) => [r.name as string, r.manifest_digest as string]));
        for (const tag of immutableTags) {
          const digest = current.get(tag);
          if (digest !== undefined && digest !== m.digest) throw new Abort<PutManifestResult>({ ok: false, reason: 'immutable', tag, digest });
        }
        throw new Retry('immutable tag changed during push');
      }
      if (replicateTo.length > 0) await this.enqueueReplication(c, repositoryId, m.digest, tags, replicateTo, now);
      return { ok: true };
    });
  }

  /**
   * Inside putManifest's transaction: creates each destination's task, or merges this push into
   * it and makes it due. One upsert for every destination; the merge happens in the statement,
   * on the row it locked, so concurrent pushes of the same digest lose no tags. Destinations go
   * in sorted order so two such pushes lock the rows in the same order.
   */
  private async enqueueReplication(c: PoolClient, repositoryId: number, digest: string, tags: readonly string[], destinations: readonly string[], now: number): Promise<void> {
    // The claim stays on a merge: its holder's generation is now stale, so its outcome will not count.
    await this.query(
      `INSERT INTO replication_tasks AS rt (repository_id, digest, destination, tags, state, attempts, next_attempt_at, generation, created_at, updated_at)
       SELECT $1, $2, d, $3, 'IN_PROGRESS', 0, $4, 1, $4, $4 FROM unnest($5::text[]) AS u(d) ORDER BY d
       ON CONFLICT (repository_id, digest, destination) DO UPDATE SET
         tags = (SELECT array_to_json(coalesce(array_agg(t ORDER BY t COLLATE "C"), '{}'))::text
                 FROM (SELECT json_array_elements_text(rt.tags::json) UNION SELECT json_array_elements_text(excluded.tags::json)) AS merged(t)),
         state = 'IN_PROGRESS', attempts = 0, next_attempt_at = excluded.next_attempt_at, generation = rt.generation + 1,
         failure_code = NULL, failure_reason = NULL, updated_at = excluded.updated_at`,
      [repositoryId, digest, JSON.stringify(sortedUnique(tags)), now, sortedUnique(destinations)],
      c,
    );
  }

  async claimReplicationTasks(holder: string, now: Date, leaseMs: number, limit: number): Promise<ReplicationTask[]> {
    const at = now.getTime();
    // SKIP LOCKED: concurrent claimers on other replicas pass over the rows another is claiming
    // instead of waiting for them, and the lock re-checks the conditions on the row's latest
    // version, so a row is claimed once. MATERIALIZED keeps the locking subquery from being
    // inlined (and possibly run more than once).
    const { rows } = await this.query(
      `WITH due AS MATERIALIZED (
         SELECT id FROM replication_tasks
         WHERE state = 'IN_PROGRESS' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
         ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE replication_tasks rt SET claimed_by = $3, claimed_until = $4
       FROM due, repositories r WHERE rt.id = due.id AND r.id = rt.repository_id
       RETURNING ${replicationTaskColumns}`,
      [at, limit, holder, at + Math.ceil(leaseMs)],
    );
    // RETURNING follows no order: give the claim's.
    return rows.map(toReplicationTask).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
  }

  async finishReplicationTask(id: number, holder: string, generation: number, outcome: ReplicationOutcome): Promise<boolean> {
    return this.tx(async (c) => {
      const now = Date.now();
      // Locked, so a push merging in now waits for this outcome and then bumps the generation
      // (making the task due again), or committed first and is seen here as a stale generation.
      const r = await this.one('SELECT generation FROM replication_tasks WHERE id = $1 AND claimed_by = $2 FOR UPDATE', [id, holder], c);
      if (!r) return false;
      if (Number(r.generation) !== generation) {
        // A push merged in since the claim: that push made the task due; only the claim goes.
        await this.query('UPDATE replication_tasks SET claimed_by = NULL, claimed_until = NULL, updated_at = $1 WHERE id = $2', [now, id], c);
        return false;
      }
      await this.query(
        `UPDATE replication_tasks SET state = $1, attempts = attempts + $2, next_attempt_at = coalesce($3, next_attempt_at), failure_code = $4, failure_reason = $5,
         claimed_by = NULL, claimed_until = NULL, updated_at = $6 WHERE id = $7`,
        [...outcomeParams(outcome), now, id],
        c,
      );
      return true;
    });
  }

  async listReplicationTasks(repositoryId: number, digest: string): Promise<ReplicationTask[]> {
    const { rows } = await this.query(
      `SELECT ${replicationTaskColumns} FROM replication_tasks rt JOIN repositories r ON r.id = rt.repository_id
       WHERE rt.repository_id = $1 AND rt.digest = $2 ORDER BY rt.destination`,
      [repositoryId, digest],
    );
    return rows.map(toReplicationTask);
  }

  async getManifest(repositoryId: number, digest: string): Promise<ManifestRecord | undefined> {
    const r = await this.one('SELECT digest, media_type, content FROM manifests WHERE repository_id = $1 AND digest = $2', [repositoryId, digest]);
    return r && toManifest(r);
  }

  async getManifestByTag(repositoryId: number, tag: string): Promise<ManifestRecord | undefined> {
    const r = await this.one(
      `SELECT m.digest, m.media_type, m.content FROM tags t
       JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
       WHERE t.repository_id = $1 AND t.name = $2`,
      [repositoryId, tag],
    );
    return r && toManifest(r);
  }

  async deleteManifest(repositoryId: number, digest: string): Promise<boolean> {
    return this.tx(async (c) => {
      // The row, then its tags in name order, as putManifest takes them (the cascade alone would
      // lock the tags in storage order and could deadlock with a push). Locking the row holds off
      // any new tag naming it, so the cascade below finds only the tags locked here.
      if (!(await this.one('SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 FOR UPDATE', [repositoryId, digest], c))) return false;
      await this.query('SELECT 1 FROM tags WHERE repository_id = $1 AND manifest_digest = $2 ORDER BY name FOR UPDATE', [repositoryId, digest], c);
      // Tags and references go with it through ON DELETE CASCADE.
      return (await this.query('DELETE FROM manifests WHERE repository_id = $1 AND digest = $2', [repositoryId, digest], c)).rowCount > 0;
    });
  }

  async deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    return (await this.query('DELETE FROM tags WHERE repository_id = $1 AND name = $2', [repositoryId, tag])).rowCount > 0;
  }

  async listTags(repositoryId: number, page: Page): Promise<string[]> {
    const { rows } = await this.query('SELECT name FROM tags WHERE repository_id = $1 AND name > $2 ORDER BY name LIMIT $3', [
      repositoryId,
      page.after ?? '',
      page.limit,
    ]);
    return rows.map((r) => r.name as string);
  }

  async listReferrers(repositoryId: number, subject: string, page: Page, artifactType?: string): Promise<ReferrerRecord[]> {
    const { rows } =
      artifactType === undefined
        ? await this.query(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests
             WHERE repository_id = $1 AND subject = $2 AND digest > $3 ORDER BY digest LIMIT $4`,
            [repositoryId, subject, page.after ?? '', page.limit],
          )
        : await this.query(
            `SELECT digest, media_type, artifact_type, size, annotations FROM manifests
             WHERE repository_id = $1 AND subject = $2 AND digest > $3 AND artifact_type = $4 ORDER BY digest LIMIT $5`,
            [repositoryId, subject, page.after ?? '', artifactType, page.limit],
          );
    return rows.map((r) => ({
      digest: r.digest as string,
      mediaType: r.media_type as string,
      artifactType: (r.artifact_type as string | null) ?? undefined,
      size: Number(r.size),
      annotations: (r.annotations as string | null) ?? undefined,
    }));
  }
}

/** A short random pause before another attempt, so the contenders do not collide again in step. */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
}

function mapError(err: unknown): Error {
  if (err instanceof PostgresStoreError) return err;
  if (err instanceof DatabaseError) {
    const detail = err.detail ? ` (${err.detail})` : '';
    return new PostgresStoreError(`PostgreSQL metadata store: ${err.message}${detail} [SQLSTATE ${err.code ?? '?'}]`, err.code, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return new PostgresStoreError(`PostgreSQL metadata store: ${message}`, typeof code === 'string' ? code : undefined, err);
}

