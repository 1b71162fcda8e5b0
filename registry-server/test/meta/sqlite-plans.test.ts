// Keyset pagination must stay an index seek: a page costs the same with 10 or 100,000 rows.
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { sqliteMigrations } from '../../src/meta/sqlite/migrations.ts';

const db = new DatabaseSync(':memory:');
for (const m of sqliteMigrations) db.exec(m.sql);

function plan(sql: string): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(' | ');
}

const cases: [string, string, RegExp][] = [
  ['tags page', 'SELECT name FROM tags WHERE repository_id = 1 AND name > ? ORDER BY name LIMIT 10', /SEARCH tags USING PRIMARY KEY \(repository_id=\? AND name>\?\)/],
  ['catalog page', 'SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT 10', /SEARCH repositories USING COVERING INDEX .* \(name>\?\)/],
  ['referrers page', 'SELECT digest FROM manifests WHERE repository_id = 1 AND subject = ? AND digest > ? ORDER BY digest LIMIT 10', /SEARCH manifests USING (COVERING )?INDEX manifests_by_subject \(repository_id=\? AND subject=\? AND digest>\?\)/],
  [
    'replication claim',
    "SELECT id FROM replication_tasks WHERE state = 'IN_PROGRESS' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at, id LIMIT 10",
    /SEARCH replication_tasks USING INDEX replication_tasks_due \(state=\? AND next_attempt_at<\?\)/,
  ],
  ['manifest by tag', 'SELECT m.content FROM tags t JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest WHERE t.repository_id = 1 AND t.name = ?', /SEARCH t USING PRIMARY KEY .*SEARCH m USING INDEX/],
];

for (const [title, sql, expected] of cases) {
  test(`${title} is an index search, never a scan or a sort`, (t) => {
    const p = plan(sql);
    t.regex(p, expected);
    t.notRegex(p, /SCAN|TEMP B-TREE/);
  });
}
