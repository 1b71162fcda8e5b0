import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import test from 'ava';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, settingNames, summarize } from '../../src/config.ts';
import { repoRoot, tempDir } from '../../../test/support/registry.ts';

test('defaults serve 127.0.0.1:5000 with data under ./data', (t) => {
  const { config, sources } = loadConfig([], {});
  t.deepEqual(config.listen, { host: '127.0.0.1', port: 5000 });
  t.is(config.dataDir, resolve('data'));
  t.is(config.maxManifestBytes, 4 * 1024 * 1024);
  t.is(sources.listen, 'default');
});

test('file, then environment, then flags: later sources win, and the summary names each source', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'berth.json');
  await writeFile(file, JSON.stringify({ listen: '0.0.0.0:6000', maxManifestBytes: '8MiB', maxPageSize: 50, logLevel: 'warn' }));
  const loaded = loadConfig(['--config', file, '--max-page-size', '7'], { BERTH_LISTEN: '[::1]:7000', BERTH_MAX_BLOB_BYTES: '1GiB' });
  t.deepEqual(loaded.config.listen, { host: '::1', port: 7000 });
  t.is(loaded.config.maxManifestBytes, 8 * 1024 * 1024);
  t.is(loaded.config.maxBlobBytes, 1024 ** 3);
  t.is(loaded.config.maxPageSize, 7);
  t.is(loaded.config.logLevel, 'warn');
  const summary = summarize(loaded);
  t.is(summary.listen, '[::1]:7000 (env)');
  t.is(summary.maxManifestBytes, '8388608 (file)');
  t.is(summary.maxPageSize, '7 (flag)');
  t.is(summary.sqliteSynchronous, 'FULL (default)');
  const viaEnv = loadConfig([], { BERTH_CONFIG: file });
  t.is(viaEnv.config.maxPageSize, 50);
});

test('bad values fail with the setting and its source named', async (t) => {
  const dir = await tempDir();
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--listen', 'nonsense'], {}, /--listen: listen: "nonsense" must be host:port/],
    [['--listen', '127.0.0.1:70000'], {}, /listen/],
    [[], { BERTH_MAX_MANIFEST_BYTES: 'lots' }, /BERTH_MAX_MANIFEST_BYTES: maxManifestBytes: "lots" is not a size/],
    [[], { BERTH_MAX_MANIFEST_BYTES: '1TiB' }, /maxManifestBytes: .* is outside/],
    [['--max-page-size', '0'], {}, /maxPageSize/],
    [['--log-level', 'loud'], {}, /logLevel: "loud" must be one of/],
    [['--sqlite-synchronous', 'OFF'], {}, /sqliteSynchronous/],
    [['--no-such-flag', 'x'], {}, /Unknown option '--no-such-flag'/],
    [['--config', join(dir, 'missing.json')], {}, /config file .*missing.json/],
  ];
  for (const [argv, env, message] of cases) {
    const err = t.throws(() => loadConfig(argv, env), { instanceOf: ConfigError }, argv.join(' '));
    t.regex(err?.message ?? '', message);
  }
  const file = join(dir, 'bad.json');
  await writeFile(file, JSON.stringify({ listen: '127.0.0.1:1', colour: 'blue' }));
  t.throws(() => loadConfig(['--config', file], {}), { message: /unknown setting "colour"/ });
});

test('the server exits with status 2 and a clear message on a bad configuration', (t) => {
  const res = spawnSync(process.execPath, [join(repoRoot, 'registry-server/dist/main.js'), '--max-blob-bytes', 'huge'], { encoding: 'utf8' });
  t.is(res.status, 2);
  t.regex(res.stderr, /configuration error: --max-blob-bytes: maxBlobBytes: "huge" is not a size/);
  const help = spawnSync(process.execPath, [join(repoRoot, 'registry-server/dist/main.js'), '--help'], { encoding: 'utf8' });
  t.is(help.status, 0);
  t.regex(help.stdout, /BERTH_DATA_DIR/);
});

test('the README documents every setting by file key, environment variable and flag', (t) => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  for (const s of settingNames()) {
    t.true(readme.includes(`| \`${s.key}\` | \`${s.env}\` | \`${s.flag}\` |`), `README row for ${s.key}`);
  }
});

test('scale-out settings: backends need their locations, bad values are named, a database password is never shown', (t) => {
  t.throws(() => loadConfig(['--storage', 's3'], {}), { instanceOf: ConfigError, message: /s3Bucket is not set/ });
  t.throws(() => loadConfig(['--metadata', 'postgres'], {}), { instanceOf: ConfigError, message: /postgresUrl is not set/ });
  t.throws(() => loadConfig(['--s3-bucket', 'No_Such'], {}), { instanceOf: ConfigError, message: /--s3-bucket: s3Bucket: "No_Such" is not a bucket name/ });
  t.throws(() => loadConfig(['--s3-endpoint', 'ftp://x'], {}), { instanceOf: ConfigError, message: /s3Endpoint: not a http or https URL/ });
  const bad = t.throws(() => loadConfig([], { BERTH_POSTGRES_URL: 'mysql://u:hunter2@db/x' }), { instanceOf: ConfigError });
  t.false(bad?.message.includes('hunter2'));
  const loaded = loadConfig(['--storage', 's3', '--s3-bucket', 'blobs', '--s3-prefix', 'team', '--metadata', 'postgres'], { BERTH_POSTGRES_URL: 'postgres://berth:hunter2@db:5432/berth' });
  t.like(loaded.config, { storage: 's3', s3Bucket: 'blobs', s3Prefix: 'team/', metadata: 'postgres' });
  const summary = JSON.stringify(summarize(loaded));
  t.false(summary.includes('hunter2'));
  t.regex(summary, /postgres:\/\/berth:redacted@db:5432\/berth/);
});
