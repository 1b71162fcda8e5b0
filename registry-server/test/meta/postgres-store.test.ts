// The PostgreSQL metadata store: the shared conformance suite, then what only a shared database
// has: replicas racing each other (two stores = two pools = two replicas), concurrent migration
// and index-backed keyset pages. One fresh database for this file; each test in its own schema.
import { createHash, randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { Client } from 'pg';
import type { ManifestInput, PutManifestResult } from '../../src/meta/metadata-store.ts';
import { postgresMigrations } from '../../src/meta/postgres/migrations.ts';
import { PostgresMetadataStore } from '../../src/meta/postgres/postgres-store.ts';
import { sqliteMigrations } from '../../src/meta/sqlite/migrations.ts';
import { createTestDatabase, postgresAvailable } from '../../../test/support/postgres.ts';
import { requirement } from '../../../test/support/requirements.ts';
import { metadataStoreConformance } from '../conformance/metadata-store.ts';

const postgres = requirement('PostgreSQL', await postgresAvailable);
const pgTest = postgres.test;

let database: ReturnType<typeof createTestDatabase> | undefined;
async function databaseUrl(): Promise<string> {
  postgres.check();
  database ??= createTestDatabase('meta');
  return (await database).url;
}
test.after.always(async () => {
  if (database) await (await database).drop();
});

let schemas = 0;
const freshSchema = (label: string): string => `t${++schemas}_${label}`;

metadataStoreConformance(
  'postgres',
  async () => {
    const meta = new PostgresMetadataStore({ connectionString: await databaseUrl(), schema: freshSchema('conformance'), poolSize: 4 });
    return { meta, cleanup: () => meta.close() };
  },
  { skip: postgres.skipped },
);

/** Two replicas of the registry: separate stores (and pools) on one migrated schema. */
async function replicas(t: ExecutionContext, label: string): Promise<[PostgresMetadataStore, PostgresMetadataStore]> {
  const url = await databaseUrl();
  const schema = freshSchema(label);
  const a = new PostgresMetadataStore({ connectionString: url, schema, poolSize: 10 });
  const b = new PostgresMetadataStore({ connectionString: url, schema, poolSize: 10 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.migrate();
  await b.migrate();
  return [a, b];
}

function manifest(): ManifestInput {
  const content = randomBytes(64);
  return {
    digest: `sha256:${createHash('sha256').update(content).digest('hex')}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: undefined,
    content,
    subject: undefined,
    annotations: undefined,
    references: [],
  };
}

test('postgres migrations: the same versions as SQLite', (t) => {
  t.deepEqual(
    postgresMigrations.map((m) => m.version),
    sqliteMigrations.map((m) => m.version),
  );
});

pgTest('postgres: 100 concurrent pushes to one mutable tag from two replicas leave it at one of the pushed digests', async (t) => {
  const [a, b] = await replicas(t, 'mutable');
  const repo = await a.ensureRepository('race/mutable');
  const pushed = Array.from({ length: 100 }, () => manifest());
  const results = await Promise.all(pushed.map((m, i) => (i % 2 === 0 ? a : b).putManifest(repo.id, m, ['latest', 'stable'])));
  t.true(results.every((r) => r.ok), 'a mutable tag refuses nobody');
  const [fromA, fromB] = await Promise.all([a.getManifestByTag(repo.id, 'latest'), b.getManifestByTag(repo.id, 'latest')]);
  t.truthy(fromA);
  t.is(fromA?.digest, fromB?.digest, 'both replicas see the same tag');
  t.true(pushed.some((m) => m.digest === fromA?.digest), 'the tag points at one of the pushed manifests');
  t.is((await b.getManifestByTag(repo.id, 'stable'))?.digest, fromA?.digest, 'tags moved together by one push stay together');
  t.deepEqual(await a.listTags(repo.id, { limit: 10 }), ['latest', 'stable']);
  t.is((await b.listImages(repo.id, 'ANY', { limit: 1000 })).length, 100, 'every manifest is stored');
  t.is((await a.listImages(repo.id, 'TAGGED', { limit: 1000 })).length, 1);
});

pgTest('postgres: 100 concurrent pushes to one immutable tag from two replicas: exactly one wins', async (t) => {
  const [a, b] = await replicas(t, 'immutable');
  const repo = await a.ensureRepository('race/immutable');
  const pushed = Array.from({ length: 100 }, () => manifest());
  const results = await Promise.all(pushed.map((m, i) => (i % 2 === 0 ? a : b).putManifest(repo.id, m, ['v1'], ['v1'])));
  const winners = pushed.filter((_, i) => results[i]?.ok);
  t.is(winners.length, 1, 'exactly one push wins the tag');
  const winner = winners[0]?.digest;
  const losers = results.filter((r) => !r.ok);
  t.is(losers.length, 99);
  t.true(
    losers.every((r: PutManifestResult) => !r.ok && r.reason === 'immutable' && r.tag === 'v1' && r.digest === winner),
    'every other push is refused as immutable, naming the winner',
  );
  t.is((await a.getManifestByTag(repo.id, 'v1'))?.digest, winner);
  t.is((await b.getManifestByTag(repo.id, 'v1'))?.digest, winner);
  t.deepEqual(
    (await b.listImages(repo.id, 'ANY', { limit: 1000 })).map((i) => i.digest),
    [winner],
    'a refused push stores nothing',
  );
});

pgTest('postgres: advanceUpload compare-and-set across two replicas lets exactly one writer win', async (t) => {
  const [a, b] = await replicas(t, 'upload');
  const repo = await a.ensureRepository('race/upload');
  await a.createUpload({ id: 'race', repositoryId: repo.id, digestAlgorithm: 'sha256' });
  for (let round = 0; round < 20; round++) {
    const from = round * 10;
    const won = await Promise.all([a.advanceUpload('race', from, from + 10), b.advanceUpload('race', from, from + 10)]);
    t.is(won.filter(Boolean).length, 1, `round ${round}: one of two writers at the same offset`);
  }
  t.is((await b.getUpload('race'))?.offset, 200);
  // Twenty writers, each proposing its own new offset: one wins and its offset is the one kept.
  const proposals = Array.from({ length: 20 }, (_, i) => 1000 + i);
  const won = await Promise.all(proposals.map((to, i) => (i % 2 === 0 ? a : b).advanceUpload('race', 200, to)));
  t.is(won.filter(Boolean).length, 1);
  t.is((await a.getUpload('race'))?.offset, proposals[won.indexOf(true)]);
});

pgTest('postgres: four replicas migrating a fresh database at once apply every migration exactly once', async (t) => {
  postgres.check();
  const db = await createTestDatabase('migrate');
  const stores = Array.from({ length: 4 }, () => new PostgresMetadataStore({ connectionString: db.url, poolSize: 2 }));
  t.teardown(async () => {
    for (const s of stores) await s.close();
    await db.drop();
  });
  await Promise.all(stores.map((s) => s.migrate()));
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const versions = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    t.deepEqual(
      versions.rows.map((r) => r.version),
      postgresMigrations.map((m) => m.version),
    );
    const root = await client.query<{ n: string }>("SELECT count(*) AS n FROM documents WHERE kind = 'repository-creation-template'");
    t.is(root.rows[0]?.n, '1', 'data migrations ran once');
  } finally {
    await client.end();
  }
  // And every replica works on the result.
  const repos = await Promise.all(stores.map((s, i) => s.ensureRepository(`replica/${i}`)));
  t.is(new Set(repos.map((r) => r.id)).size, 4);
  t.deepEqual(await stores[3]?.listRepositories({ limit: 10 }), ['replica/0', 'replica/1', 'replica/2', 'replica/3']);
});

pgTest('postgres: a lease contended by two replicas has one holder', async (t) => {
  const [a, b] = await replicas(t, 'lease');
  for (let round = 0; round < 20; round++) {
    const name = `job-${round}`;
    const won = await Promise.all([a.tryLease(name, 'a', 60_000), b.tryLease(name, 'b', 60_000)]);
    t.is(won.filter(Boolean).length, 1, `round ${round}`);
  }
});

pgTest('postgres: four replicas claiming 50 replication tasks at once claim each exactly once', async (t) => {
  const url = await databaseUrl();
  const schema = freshSchema('claims');
  const stores = Array.from({ length: 4 }, () => new PostgresMetadataStore({ connectionString: url, schema, poolSize: 3 }));
  t.teardown(async () => {
    for (const s of stores) await s.close();
  });
  for (const s of stores) await s.migrate();
  const [first] = stores;
  if (!first) throw new Error('no store');
  const repo = await first.ensureRepository('race/claims');
  // 25 images with 2 destinations each: 50 tasks.
  for (let i = 0; i < 25; i++) t.true((await first.putManifest(repo.id, manifest(), [`v${i}`], [], ['one.example', 'two.example'])).ok);
  const now = new Date(Date.now() + 1000);
  const claims: { holder: string; id: number }[] = [];
  // Each replica runs two claim loops on its pool; a loop stops when it finds nothing left.
  await Promise.all(
    stores.flatMap((s, i) =>
      [0, 1].map(async (loop) => {
        const holder = `replica-${i}-${loop}`;
        for (;;) {
          const got = await s.claimReplicationTasks(holder, now, 60_000, 1 + ((i + loop) % 3));
          if (got.length === 0) return;
          for (const task of got) claims.push({ holder, id: task.id });
        }
      }),
    ),
  );
  t.is(claims.length, 50, 'fifty claims in all');
  t.is(new Set(claims.map((c) => c.id)).size, 50, 'every task claimed, none twice');
  t.true(new Set(claims.map((c) => c.holder)).size > 1, 'the work was shared');
  t.deepEqual(await first.claimReplicationTasks('late', now, 60_000, 100), [], 'nothing is left to claim');
  // Each holder can finish what it claimed, and only that.
  const results = await Promise.all(claims.map((c, i) => (stores[i % 4] as PostgresMetadataStore).finishReplicationTask(c.id, c.holder, 1, { state: 'COMPLETE' })));
  t.true(results.every(Boolean));
});

pgTest('postgres: concurrent pushes of one digest from two replicas merge every tag into one task per destination', async (t) => {
  const [a, b] = await replicas(t, 'merge');
  const repo = await a.ensureRepository('race/merge');
  const m = manifest();
  const tags = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  // Destinations in differing orders: the store sorts them, so pushes lock rows alike.
  const results = await Promise.all(tags.map((tag, i) => (i % 2 === 0 ? a : b).putManifest(repo.id, m, [tag], [], i % 3 === 0 ? ['y', 'x'] : ['x', 'y'])));
  t.true(results.every((r) => r.ok));
  const tasks = await a.listReplicationTasks(repo.id, m.digest);
  t.deepEqual(tasks.map((x) => x.destination), ['x', 'y']);
  for (const task of tasks) {
    t.deepEqual(task.tags, tags, 'no push lost its tag');
    t.is(task.generation, 20, 'one generation per push');
  }
});

// Keyset pages must stay index seeks: a page costs the same with 10 or 100,000 rows.
pgTest('postgres: page queries are index scans, never a sequential scan or a sort', async (t) => {
  const url = await databaseUrl();
  const schema = freshSchema('plans');
  const meta = new PostgresMetadataStore({ connectionString: url, schema, poolSize: 1 });
  await meta.migrate();
  await meta.close();
  const client = new Client({ connectionString: url, options: `-c search_path=${schema}` });
  await client.connect();
  t.teardown(() => client.end());
  const n = 20_000;
  await client.query(`
    INSERT INTO repositories (name, created_at) SELECT 'repo/' || lpad(i::text, 6, '0'), 0 FROM generate_series(1, ${n}) i;
    INSERT INTO manifests (repository_id, digest, media_type, size, content, subject, pushed_at)
      SELECT 1, 'sha256:' || md5(i::text), 'application/vnd.oci.image.manifest.v1+json', 2, '\\x7b7d', CASE WHEN i % 2 = 0 THEN 'sha256:subject-' || (i % 100) END, 0
      FROM generate_series(1, ${n}) i;
    INSERT INTO tags (repository_id, name, manifest_digest, updated_at) SELECT 1, 'tag-' || i, 'sha256:' || md5(i::text), 0 FROM generate_series(1, ${n}) i;
    INSERT INTO documents (kind, key, body, version, created_at, updated_at) SELECT 'policy', 'key/' || i, '{}', 1, 0, 0 FROM generate_series(1, ${n}) i;
    -- Many repositories with few expirations each, as in life: with only a few repositories the
    -- planner may rightly prefer walking the primary key backwards and filtering.
    INSERT INTO lifecycle_expirations (repository_name, digest, tags, rule_priority, reason, expired_at)
      SELECT 'repo/' || (i % 2000), 'sha256:' || md5(i::text), '[]', 1, 'x', 0 FROM generate_series(1, ${n}) i;
  `);
  // Fresh statistics and visibility, as autovacuum would give a table this size (one statement:
  // VACUUM refuses to run inside the implicit transaction of a multi-statement query).
  // Replication tasks: mostly finished, a few due, as a running registry keeps them.
  await client.query(`
    INSERT INTO replication_tasks (repository_id, digest, destination, tags, state, attempts, next_attempt_at, generation, created_at, updated_at)
      SELECT 1, 'sha256:' || md5(i::text), 'dest', '[]', CASE WHEN i % 100 = 0 THEN 'IN_PROGRESS' ELSE 'COMPLETE' END, 0, i, 1, 0, 0
      FROM generate_series(1, ${n}) i;
  `);
  await client.query('VACUUM ANALYZE repositories, manifests, tags, documents, lifecycle_expirations, replication_tasks');
  // [title, query, the plan it must show, whether a Sort may appear (only above an index that already picked the few rows)]
  const cases: [string, string, RegExp, boolean?][] = [
    ['tags page', "SELECT name FROM tags WHERE repository_id = 1 AND name > 'tag-5' ORDER BY name LIMIT 10", /Index (Only )?Scan using tags_pkey/],
    ['catalog page', "SELECT name FROM repositories WHERE name > 'repo/000100' ORDER BY name LIMIT 10", /Index (Only )?Scan using repositories_name_key/],
    ['catalog prefix page', "SELECT name FROM repositories WHERE name >= 'repo/0001' AND name < 'repo/0002' AND name > '' ORDER BY name LIMIT 10", /Index (Only )?Scan using repositories_name_key/],
    [
      'referrers page',
      "SELECT digest FROM manifests WHERE repository_id = 1 AND subject = 'sha256:subject-4' AND digest > '' ORDER BY digest LIMIT 10",
      /Index (Only )?Scan using manifests_by_subject/,
    ],
    ['images page', "SELECT digest, media_type, size FROM manifests m WHERE m.repository_id = 1 AND m.digest > 'sha256:5' ORDER BY m.digest LIMIT 10", /Index Scan using manifests_repository_id_digest_key/],
    ['documents page', "SELECT key, body FROM documents WHERE kind = 'policy' AND key > 'key/5' ORDER BY key LIMIT 10", /Index Scan using documents_pkey/],
    // A repository's handful of expirations may come by a bitmap scan of its index and a sort of
    // those few rows, or by a backward index scan: either way the repository index, never a scan.
    ['expirations page', "SELECT id FROM lifecycle_expirations WHERE repository_name = 'repo/7' AND id < 9000000 ORDER BY id DESC LIMIT 10", /(Index (Only )?Scan Backward|Bitmap Index Scan) (using|on) lifecycle_expirations_by_repository/, true],
    [
      'replication claim',
      "SELECT id FROM replication_tasks WHERE state = 'IN_PROGRESS' AND next_attempt_at <= 5000 AND (claimed_until IS NULL OR claimed_until < 5000) ORDER BY next_attempt_at, id LIMIT 10 FOR UPDATE SKIP LOCKED",
      /Index Scan using replication_tasks_due/,
    ],
    [
      'manifest by tag',
      "SELECT m.content FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest WHERE t.repository_id = 1 AND t.name = 'tag-77'",
      /Index Scan using tags_pkey[\s\S]*Index Scan using manifests_repository_id_digest_key|Index Scan using manifests_repository_id_digest_key[\s\S]*Index Scan using tags_pkey/,
    ],
  ];
  for (const [title, sql, expected, sortAllowed] of cases) {
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    t.regex(plan, expected, `${title}:\n${plan}`);
    t.notRegex(plan, sortAllowed ? /Seq Scan/ : /Seq Scan|Sort/, `${title}:\n${plan}`);
  }
});
