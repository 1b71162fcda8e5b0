import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface Config {
  /** host:port to listen on. */
  listen: { host: string; port: number };
  dataDir: string;
  maxManifestBytes: number;
  maxBlobBytes: number;
  maxPageSize: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sqliteSynchronous: 'FULL' | 'NORMAL';
  shutdownTimeoutSeconds: number;
  hashWorkers: number;
  registryId: string;
  region: string;
  /** host[:port] clients use to reach the registry (in repository URIs); defaults to listen. */
  publicHost: string | undefined;
  lifecycleIntervalSeconds: number;
  /** Images this replica copies to replication destinations at once (0: this replica does not replicate). */
  replicationConcurrency: number;
  /** First retry delay of a failed replication; doubled per attempt (to 5 minutes), with jitter. */
  replicationRetrySeconds: number;
  /**
   * Proxies whose X-Forwarded-For/-Proto/-Host are believed: false (none), true (any: only when
   * nothing else can reach Berth) or their addresses and CIDR blocks. They decide aws:SourceIp,
   * sign-in throttling by address and the scheme of the token realm.
   */
  trustProxy: boolean | string[];
  /** Lifetime of the bearer tokens the token endpoint issues. */
  tokenTtlSeconds: number;
  /** Where blobs live: the data directory, or an S3-compatible bucket. */
  storage: 'fs' | 's3';
  s3Bucket: string | undefined;
  /** Key prefix inside the bucket (several registries can share one). */
  s3Prefix: string;
  /** Region for signing; the SDK's default chain when unset. */
  s3Region: string | undefined;
  /** Endpoint URL of an S3-compatible service; AWS when unset. */
  s3Endpoint: string | undefined;
  s3ForcePathStyle: boolean;
  /** Size of the parts of multipart uploads (and of buffered chunks). */
  s3PartSize: number;
  /** 0: blob pulls stream through Berth; above 0, they redirect to a presigned URL valid that long. */
  s3RedirectSeconds: number;
  /** When set, objects are written with SSE-KMS under this key (the service's KMS, not Berth's). */
  s3SseKmsKeyId: string | undefined;
  /** Where metadata lives: the embedded SQLite database, or PostgreSQL. */
  metadata: 'sqlite' | 'postgres';
  /** postgres://user[:password]@host:port/database (a password is never logged). */
  postgresUrl: string | undefined;
  postgresPoolSize: number;
  /** A new token signing key is made this often; older ones verify until their tokens expire. */
  signingKeyRotationHours: number;
  /** A file holding the 32-byte root key that wraps KMS key material (BERTH_ROOT_KEY wins). */
  rootKeyFile: string | undefined;
  /**
   * AES256 repositories encrypt their blobs under the registry-managed key. false stores them as
   * plaintext (for disks or buckets that encrypt already); KMS repositories are always encrypted.
   */
  registryKeyEncryption: boolean;
}

type Source = 'default' | 'file' | 'env' | 'flag';

interface Setting<K extends keyof Config> {
  readonly key: K;
  readonly env: string;
  readonly flag: string;
  readonly description: string;
  readonly parse: (raw: unknown) => Config[K];
  readonly show: (value: Config[K]) => string;
}

export class ConfigError extends Error {}

const sizeUnits: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1024 ** 2, g: 1e9, gb: 1e9, gib: 1024 ** 3, t: 1e12, tb: 1e12, tib: 1024 ** 4 };

function size(field: string, min: number, max: number) {
  return (raw: unknown): number => {
    const text = String(raw).trim().toLowerCase();
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text);
    const unit = m ? sizeUnits[m[2] ?? ''] : undefined;
    if (!m || unit === undefined) throw new ConfigError(`${field}: "${String(raw)}" is not a size (examples: 4194304, 4MiB, 10GiB)`);
    const value = Math.floor(Number(m[1]) * unit);
    if (value < min || value > max) throw new ConfigError(`${field}: ${value} is outside ${min}..${max}`);
    return value;
  };
}

function integer(field: string, min: number, max: number) {
  return (raw: unknown): number => {
    const value = typeof raw === 'number' ? raw : /^\d+$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new ConfigError(`${field}: "${String(raw)}" must be an integer in ${min}..${max}`);
    return value;
  };
}

function number(field: string, min: number, max: number) {
  return (raw: unknown): number => {
    const value = typeof raw === 'number' ? raw : /^\d+(?:\.\d+)?$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN;
    if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(`${field}: "${String(raw)}" must be a number in ${min}..${max}`);
    return value;
  };
}

function oneOf<T extends string>(field: string, values: readonly T[]) {
  return (raw: unknown): T => {
    const v = String(raw);
    if (!(values as readonly string[]).includes(v)) throw new ConfigError(`${field}: "${v}" must be one of ${values.join(', ')}`);
    return v as T;
  };
}

function boolean(field: string) {
  return (raw: unknown): boolean => {
    const v = String(raw).trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ConfigError(`${field}: "${String(raw)}" must be true or false`);
  };
}

/** A string matching `pattern`; `what` says what it should be. */
function matching(field: string, pattern: RegExp, what: string) {
  return (raw: unknown): string => {
    const text = String(raw).trim();
    if (!pattern.test(text)) throw new ConfigError(`${field}: "${text}" ${what}`);
    return text;
  };
}

/** A URL with one of `protocols` (e.g. ['http:', 'https:']). The text is kept as given. */
function url(field: string, protocols: readonly string[], example: string) {
  return (raw: unknown): string => {
    const text = String(raw).trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    // The text itself is not echoed: a database URL may hold a password.
    if (!parsed || !protocols.includes(parsed.protocol)) throw new ConfigError(`${field}: not a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL (for example ${example})`);
    return text;
  };
}

function listenAddress(raw: unknown): Config['listen'] {
  const text = String(raw).trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`listen: "${text}" must be host:port (for example 127.0.0.1:5000 or [::1]:5000)`);
  return { host: m[1] ?? m[2] ?? '', port };
}

const settings: { [K in keyof Config]: Setting<K> } = {
  listen: {
    key: 'listen',
    env: 'BERTH_LISTEN',
    flag: 'listen',
    description: 'address and port to serve on',
    parse: listenAddress,
    show: (v) => (v.host.includes(':') ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`),
  },
  dataDir: {
    key: 'dataDir',
    env: 'BERTH_DATA_DIR',
    flag: 'data-dir',
    description: 'directory for blobs, uploads and the SQLite database',
    parse: (raw) => {
      const text = String(raw).trim();
      if (text === '') throw new ConfigError('dataDir: must not be empty');
      return resolve(text);
    },
    show: (v) => v,
  },
  maxManifestBytes: {
    key: 'maxManifestBytes',
    env: 'BERTH_MAX_MANIFEST_BYTES',
    flag: 'max-manifest-bytes',
    description: 'largest manifest accepted (413 above it)',
    parse: size('maxManifestBytes', 1024, 64 * 1024 ** 2),
    show: String,
  },
  maxBlobBytes: {
    key: 'maxBlobBytes',
    env: 'BERTH_MAX_BLOB_BYTES',
    flag: 'max-blob-bytes',
    description: 'largest blob accepted (413 above it)',
    parse: size('maxBlobBytes', 1024, 2 ** 52),
    show: String,
  },
  maxPageSize: {
    key: 'maxPageSize',
    env: 'BERTH_MAX_PAGE_SIZE',
    flag: 'max-page-size',
    description: 'most entries in one page of tags, repositories or referrers',
    parse: integer('maxPageSize', 1, 100_000),
    show: String,
  },
  logLevel: {
    key: 'logLevel',
    env: 'BERTH_LOG_LEVEL',
    flag: 'log-level',
    description: 'fatal, error, warn, info, debug, trace or silent',
    parse: oneOf('logLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    show: String,
  },
  sqliteSynchronous: {
    key: 'sqliteSynchronous',
    env: 'BERTH_SQLITE_SYNCHRONOUS',
    flag: 'sqlite-synchronous',
    description: 'FULL survives power loss; NORMAL survives a process crash and commits faster',
    parse: oneOf('sqliteSynchronous', ['FULL', 'NORMAL'] as const),
    show: String,
  },
  shutdownTimeoutSeconds: {
    key: 'shutdownTimeoutSeconds',
    env: 'BERTH_SHUTDOWN_TIMEOUT_SECONDS',
    flag: 'shutdown-timeout-seconds',
    description: 'how long SIGTERM waits for in-flight requests',
    parse: integer('shutdownTimeoutSeconds', 0, 3600),
    show: String,
  },
  hashWorkers: {
    key: 'hashWorkers',
    env: 'BERTH_HASH_WORKERS',
    flag: 'hash-workers',
    description: 'threads that compute digests of large uploads off the event loop; encrypted pulls decrypt in one more (0: both inline)',
    parse: integer('hashWorkers', 0, 64),
    show: String,
  },
  registryId: {
    key: 'registryId',
    env: 'BERTH_REGISTRY_ID',
    flag: 'registry-id',
    description: 'the registry id in ARNs (12 digits, like an AWS account)',
    parse: (raw) => {
      const text = String(raw).trim();
      if (!/^\d{12}$/.test(text)) throw new ConfigError(`registryId: "${text}" must be 12 digits`);
      return text;
    },
    show: String,
  },
  region: {
    key: 'region',
    env: 'BERTH_REGION',
    flag: 'region',
    description: 'the region name in ARNs',
    parse: (raw) => {
      const text = String(raw).trim();
      if (!/^[a-z0-9-]{1,32}$/.test(text)) throw new ConfigError(`region: "${text}" must be 1 to 32 of a-z, 0-9 and -`);
      return text;
    },
    show: String,
  },
  publicHost: {
    key: 'publicHost',
    env: 'BERTH_PUBLIC_HOST',
    flag: 'public-host',
    description: 'host[:port] that clients use, shown in repository URIs (default: the listen address)',
    parse: (raw) => {
      const text = String(raw).trim();
      if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:.]+\](?::\d{1,5})?$/.test(text)) throw new ConfigError(`publicHost: "${text}" must be host or host:port`);
      return text;
    },
    show: (v) => v ?? '(listen address)',
  },
  lifecycleIntervalSeconds: {
    key: 'lifecycleIntervalSeconds',
    env: 'BERTH_LIFECYCLE_INTERVAL_SECONDS',
    flag: 'lifecycle-interval-seconds',
    description: 'how often every lifecycle policy runs (0: only on demand)',
    parse: integer('lifecycleIntervalSeconds', 0, 7 * 24 * 3600),
    show: String,
  },
  replicationConcurrency: {
    key: 'replicationConcurrency',
    env: 'BERTH_REPLICATION_CONCURRENCY',
    flag: 'replication-concurrency',
    description: 'images this replica copies to replication destinations at once (0: this replica does not replicate)',
    parse: integer('replicationConcurrency', 0, 256),
    show: String,
  },
  replicationRetrySeconds: {
    key: 'replicationRetrySeconds',
    env: 'BERTH_REPLICATION_RETRY_SECONDS',
    flag: 'replication-retry-seconds',
    description: 'first retry delay of a failed replication, doubled per attempt up to 5 minutes, with jitter',
    parse: number('replicationRetrySeconds', 0.01, 300),
    show: String,
  },
  trustProxy: {
    key: 'trustProxy',
    env: 'BERTH_TRUST_PROXY',
    flag: 'trust-proxy',
    description: 'proxies whose X-Forwarded-* headers are believed: false, true, or addresses/CIDRs separated by commas',
    parse: (raw) => {
      if (typeof raw === 'boolean') return raw;
      const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      const items = list.map((x) => x.trim()).filter((x) => x !== '');
      if (items.length === 1 && (items[0] === 'true' || items[0] === 'false')) return items[0] === 'true';
      for (const item of items) {
        const [address, bits, extra] = item.split('/');
        const family = isIP(address ?? '');
        const max = family === 4 ? 32 : 128;
        if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
          throw new ConfigError(`trustProxy: "${item}" is not an IP address or CIDR block (or use true/false)`);
        }
      }
      if (items.length === 0) throw new ConfigError('trustProxy: give true, false or at least one address');
      return items;
    },
    show: (v) => (Array.isArray(v) ? v.join(',') : String(v)),
  },
  tokenTtlSeconds: {
    key: 'tokenTtlSeconds',
    env: 'BERTH_TOKEN_TTL_SECONDS',
    flag: 'token-ttl-seconds',
    description: 'lifetime of registry bearer tokens',
    parse: integer('tokenTtlSeconds', 30, 12 * 3600),
    show: String,
  },
  signingKeyRotationHours: {
    key: 'signingKeyRotationHours',
    env: 'BERTH_SIGNING_KEY_ROTATION_HOURS',
    flag: 'signing-key-rotation-hours',
    description: 'how often a new ES256 token signing key replaces the current one',
    parse: integer('signingKeyRotationHours', 1, 24 * 365),
    show: String,
  },
  storage: {
    key: 'storage',
    env: 'BERTH_STORAGE',
    flag: 'storage',
    description: 'where blobs live: fs (the data directory) or s3 (a bucket)',
    parse: oneOf('storage', ['fs', 's3'] as const),
    show: String,
  },
  s3Bucket: {
    key: 's3Bucket',
    env: 'BERTH_S3_BUCKET',
    flag: 's3-bucket',
    description: 'bucket for blobs with storage s3',
    parse: matching('s3Bucket', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'is not a bucket name (3 to 63 of a-z, 0-9, . and -)'),
    show: (v) => v ?? '(unset)',
  },
  s3Prefix: {
    key: 's3Prefix',
    env: 'BERTH_S3_PREFIX',
    flag: 's3-prefix',
    description: 'key prefix inside the bucket',
    parse: (raw) => {
      const text = String(raw).trim();
      if (text.length > 200 || !/^[A-Za-z0-9!_.*'()\/-]*$/.test(text) || text.startsWith('/')) throw new ConfigError(`s3Prefix: "${text}" must be up to 200 of letters, digits and !_.*'()/- (not starting with /)`);
      return text === '' || text.endsWith('/') ? text : `${text}/`;
    },
    show: (v) => v || '(none)',
  },
  s3Region: {
    key: 's3Region',
    env: 'BERTH_S3_REGION',
    flag: 's3-region',
    description: "the bucket's region (default: the AWS SDK's usual sources)",
    parse: matching('s3Region', /^[a-z0-9-]{1,40}$/, 'is not a region name'),
    show: (v) => v ?? '(SDK default)',
  },
  s3Endpoint: {
    key: 's3Endpoint',
    env: 'BERTH_S3_ENDPOINT',
    flag: 's3-endpoint',
    description: 'endpoint URL of an S3-compatible service (default: AWS)',
    parse: url('s3Endpoint', ['http:', 'https:'], 'https://s3.example.com'),
    show: (v) => v ?? '(AWS)',
  },
  s3ForcePathStyle: {
    key: 's3ForcePathStyle',
    env: 'BERTH_S3_FORCE_PATH_STYLE',
    flag: 's3-force-path-style',
    description: 'address the bucket in the path (most S3-compatible services need it)',
    parse: boolean('s3ForcePathStyle'),
    show: String,
  },
  s3PartSize: {
    key: 's3PartSize',
    env: 'BERTH_S3_PART_SIZE',
    flag: 's3-part-size',
    description: 'multipart part size (5MiB to 5GiB); chunked uploads are buffered in the bucket to this size',
    parse: size('s3PartSize', 5 * 1024 ** 2, 5 * 1024 ** 3),
    show: String,
  },
  s3RedirectSeconds: {
    key: 's3RedirectSeconds',
    env: 'BERTH_S3_REDIRECT_SECONDS',
    flag: 's3-redirect-seconds',
    description: '0: blob pulls stream through Berth; above 0: they redirect to a presigned URL valid that long',
    parse: integer('s3RedirectSeconds', 0, 7 * 24 * 3600),
    show: String,
  },
  s3SseKmsKeyId: {
    key: 's3SseKmsKeyId',
    env: 'BERTH_S3_SSE_KMS_KEY_ID',
    flag: 's3-sse-kms-key-id',
    description: "write objects with SSE-KMS under this key of the storage service's KMS",
    parse: (raw) => {
      const text = String(raw).trim();
      if (text === '' || text.length > 2048) throw new ConfigError('s3SseKmsKeyId: must be a key id, alias or ARN');
      return text;
    },
    show: (v) => v ?? '(none)',
  },
  metadata: {
    key: 'metadata',
    env: 'BERTH_METADATA',
    flag: 'metadata',
    description: 'where metadata lives: sqlite (the data directory) or postgres',
    parse: oneOf('metadata', ['sqlite', 'postgres'] as const),
    show: String,
  },
  postgresUrl: {
    key: 'postgresUrl',
    env: 'BERTH_POSTGRES_URL',
    flag: 'postgres-url',
    description: 'postgres://user[:password]@host:port/database with metadata postgres (PG* variables fill what it leaves out)',
    parse: url('postgresUrl', ['postgres:', 'postgresql:'], 'postgres://user@host:5432/database'),
    show: (v) => (v === undefined ? '(unset)' : redactUrl(v)),
  },
  postgresPoolSize: {
    key: 'postgresPoolSize',
    env: 'BERTH_POSTGRES_POOL_SIZE',
    flag: 'postgres-pool-size',
    description: 'connections each replica keeps to PostgreSQL',
    parse: integer('postgresPoolSize', 1, 1000),
    show: String,
  },
  rootKeyFile: {
    key: 'rootKeyFile',
    env: 'BERTH_ROOT_KEY_FILE',
    flag: 'root-key-file',
    description: 'file holding the base64 root key that wraps KMS key material (BERTH_ROOT_KEY wins; the embedded default generates <dataDir>/root.key)',
    parse: (raw) => {
      const text = String(raw).trim();
      if (text === '' || text.length > 4096) throw new ConfigError('rootKeyFile: must be a file path');
      return resolve(text);
    },
    show: (v) => v ?? '(unset)',
  },
  registryKeyEncryption: {
    key: 'registryKeyEncryption',
    env: 'BERTH_REGISTRY_KEY_ENCRYPTION',
    flag: 'registry-key-encryption',
    description: 'encrypt the blobs of AES256 repositories under the registry-managed key (false: store them as plaintext; KMS repositories are always encrypted)',
    parse: boolean('registryKeyEncryption'),
    show: String,
  },
};

/** A URL with its password replaced, for logs. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = 'redacted';
    return url.toString();
  } catch {
    return '(unparseable)';
  }
}

export const defaults: Config = {
  listen: { host: '127.0.0.1', port: 5000 },
  dataDir: resolve('data'),
  maxManifestBytes: 4 * 1024 ** 2,
  maxBlobBytes: 64 * 1024 ** 3,
  maxPageSize: 1000,
  logLevel: 'info',
  sqliteSynchronous: 'FULL',
  shutdownTimeoutSeconds: 30,
  hashWorkers: Math.max(1, Math.min(4, availableParallelism() - 1)),
  registryId: '000000000000',
  region: 'local',
  publicHost: undefined,
  lifecycleIntervalSeconds: 3600,
  replicationConcurrency: 8,
  replicationRetrySeconds: 1,
  trustProxy: false,
  tokenTtlSeconds: 300,
  storage: 'fs',
  s3Bucket: undefined,
  s3Prefix: '',
  s3Region: undefined,
  s3Endpoint: undefined,
  s3ForcePathStyle: false,
  s3PartSize: 8 * 1024 ** 2,
  s3RedirectSeconds: 0,
  s3SseKmsKeyId: undefined,
  metadata: 'sqlite',
  postgresUrl: undefined,
  postgresPoolSize: 10,
  signingKeyRotationHours: 24,
  rootKeyFile: undefined,
  registryKeyEncryption: true,
};

export interface LoadedConfig {
  readonly config: Config;
  readonly sources: Record<keyof Config, Source>;
  readonly file: string | undefined;
}

/**
 * Effective configuration: defaults, then a JSON file (--config or BERTH_CONFIG), then
 * BERTH_* environment variables, then flags. Unknown keys and bad values fail with the field named.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): LoadedConfig {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const s of Object.values(settings)) options[s.flag] = { type: 'string' };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${usage()}`);
  }

  const config: Config = structuredClone(defaults);
  const sources = Object.fromEntries(Object.keys(settings).map((k) => [k, 'default'])) as Record<keyof Config, Source>;
  const file = values.config ?? env.BERTH_CONFIG;
  const assign = <K extends keyof Config>(key: K, raw: unknown, source: Source, origin: string): void => {
    try {
      config[key] = settings[key].parse(raw);
    } catch (err) {
      throw new ConfigError(`${origin}: ${(err as Error).message}`);
    }
    sources[key] = source;
  };

  if (file) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`config file ${file}: must be a JSON object`);
    for (const [k, v] of Object.entries(doc)) {
      if (!(k in settings)) throw new ConfigError(`config file ${file}: unknown setting "${k}" (known: ${Object.keys(settings).join(', ')})`);
      assign(k as keyof Config, v, 'file', `config file ${file}`);
    }
  }
  for (const s of Object.values(settings)) {
    const raw = env[s.env];
    if (raw !== undefined && raw !== '') assign(s.key, raw, 'env', s.env);
  }
  for (const s of Object.values(settings)) {
    const raw = values[s.flag];
    if (raw !== undefined) assign(s.key, raw, 'flag', `--${s.flag}`);
  }
  checkCombination(config);
  return { config, sources, file };
}

/** Settings that only make sense together. */
export function checkCombination(config: Config): void {
  if (config.storage === 's3' && config.s3Bucket === undefined) throw new ConfigError('storage is s3 but s3Bucket is not set (BERTH_S3_BUCKET)');
  if (config.metadata === 'postgres' && config.postgresUrl === undefined) throw new ConfigError('metadata is postgres but postgresUrl is not set (BERTH_POSTGRES_URL)');
}

/** One line per setting with its value and where it came from (nothing here is secret). */
export function summarize(loaded: LoadedConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of Object.values(settings) as Setting<keyof Config>[]) {
    out[s.key] = `${s.show(loaded.config[s.key] as never)} (${loaded.sources[s.key]})`;
  }
  return out;
}

/** Names of every setting, for docs and their drift test. */
export function settingNames(): { key: string; env: string; flag: string }[] {
  return (Object.values(settings) as Setting<keyof Config>[]).map((s) => ({ key: s.key, env: s.env, flag: `--${s.flag}` }));
}

export function usage(): string {
  const lines = ['Usage: berth [--config file.json] [--<setting> value ...]', '', 'Settings (file key / environment variable / flag):'];
  for (const s of Object.values(settings) as Setting<keyof Config>[]) {
    lines.push(`  ${s.key} / ${s.env} / --${s.flag}: ${s.description} [default ${s.show(defaults[s.key] as never)}]`);
  }
  return lines.join('\n');
}
