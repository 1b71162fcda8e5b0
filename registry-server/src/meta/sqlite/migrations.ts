// Versioned schema for the SQLite store. Append new versions; never edit an applied one.
export const sqliteMigrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE repositories (
  -- AUTOINCREMENT: a repository created again under an old name never gets the old id back.
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE repository_blobs (
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (repository_id, digest)
) WITHOUT ROWID;
CREATE TABLE manifests (
  id INTEGER PRIMARY KEY,
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  artifact_type TEXT,
  size INTEGER NOT NULL,
  content BLOB NOT NULL,
  subject TEXT,
  annotations TEXT,
  pushed_at INTEGER NOT NULL,
  UNIQUE (repository_id, digest)
);
CREATE INDEX manifests_by_subject ON manifests (repository_id, subject, digest) WHERE subject IS NOT NULL;
CREATE TABLE manifest_references (
  repository_id INTEGER NOT NULL,
  manifest_digest TEXT NOT NULL,
  digest TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (repository_id, manifest_digest, kind, digest),
  FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX manifest_references_by_target ON manifest_references (repository_id, digest);
CREATE TABLE tags (
  repository_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (repository_id, name),
  FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX tags_by_manifest ON tags (repository_id, manifest_digest);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  upload_offset INTEGER NOT NULL,
  digest_algorithm TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 2,
    sql: `
ALTER TABLE repositories ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE repositories ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN image_tag_mutability TEXT NOT NULL DEFAULT 'MUTABLE';
ALTER TABLE repositories ADD COLUMN tag_mutability_exclusions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE repositories ADD COLUMN scan_on_push INTEGER NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN encryption_type TEXT NOT NULL DEFAULT 'AES256';
ALTER TABLE repositories ADD COLUMN kms_key TEXT;
ALTER TABLE repositories ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
`,
  },
  {
    version: 3,
    sql: `
CREATE TABLE documents (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  repository_id INTEGER REFERENCES repositories(id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX documents_by_repository ON documents (repository_id) WHERE repository_id IS NOT NULL;
-- The embedded default ships a ROOT template that creates repositories on first push.
INSERT INTO documents (kind, key, body, version, created_at, updated_at) VALUES (
  'repository-creation-template', 'ROOT',
  '{"prefix":"ROOT","description":"Creates any repository on its first push (shipped with Berth; edit or delete it).","appliedFor":["CREATE_ON_PUSH"],"imageTagMutability":"MUTABLE","imageScanningConfiguration":{"scanOnPush":false},"encryptionConfiguration":{"encryptionType":"AES256"},"resourceTags":{}}',
  1, CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER)
);
`,
  },
  {
    version: 4,
    sql: `
ALTER TABLE manifests ADD COLUMN last_pulled_at INTEGER;
`,
  },
  {
    version: 5,
    sql: `
CREATE TABLE lifecycle_expirations (
  id INTEGER PRIMARY KEY,
  repository_name TEXT NOT NULL,
  digest TEXT NOT NULL,
  tags TEXT NOT NULL,
  rule_priority INTEGER NOT NULL,
  reason TEXT NOT NULL,
  expired_at INTEGER NOT NULL
);
CREATE INDEX lifecycle_expirations_by_repository ON lifecycle_expirations (repository_name, id);
`,
  },
  {
    version: 6,
    sql: `
-- Named leases for work that must run once across replicas; expires_at in epoch ms.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
  },
  {
    version: 7,
    sql: `
-- The replication outbox: one row per (repository, digest, destination), written by the push
-- in its own transaction so no pushed image is forgotten by a crash. Times in epoch ms; tags a
-- sorted JSON array of the tags pushed for the digest.
CREATE TABLE replication_tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  destination TEXT NOT NULL,
  tags TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETE', 'FAILED')),
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  claimed_by TEXT,
  claimed_until INTEGER,
  failure_code TEXT,
  failure_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (repository_id, digest, destination)
);
-- The claim query: due IN_PROGRESS tasks, oldest due first.
CREATE INDEX replication_tasks_due ON replication_tasks (state, next_attempt_at, id);
`,
  },
];
