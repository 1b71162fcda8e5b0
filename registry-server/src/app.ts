import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { RegistryError } from './errors.ts';
import type { MetadataStore } from './meta/metadata-store.ts';
import { SqliteMetadataStore } from './meta/sqlite/sqlite-store.ts';
import { ajvKeywords, apiPlugin, apiPrefix } from './api/plugin.ts';
import type { OciContext } from './oci/context.ts';
import { ociPlugin } from './oci/router.ts';
import { healthRoutes, type Readiness } from './ops/health.ts';
import { HashPool } from './registry/stream-hash.ts';
import { PullRecorder } from './registry/pull-recorder.ts';
import { LifecycleRunner } from './registry/lifecycle-runner.ts';
import { UploadService } from './registry/uploads.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { FsBlobStore } from './storage/fs-blob-store.ts';
import { Authenticator } from './auth/authenticator.ts';
import { Authorizer } from './auth/authorizer.ts';
import { bootstrapAdmin, type AdminCredentials, type BootstrapResult } from './auth/bootstrap.ts';
import { Guard } from './auth/guard.ts';
import { IdentityStore, identityKinds } from './auth/identity-store.ts';
import { documentKinds } from './api/document-kinds.ts';
import { LoginThrottle } from './auth/throttle.ts';
import { loginTokenTtlSeconds } from './api/identity-routes.ts';
import { TokenService } from './auth/token-service.ts';
import { tokenRoutes } from './auth/token-routes.ts';
import { FreshCache, Freshness, observeWrites } from './auth/freshness.ts';
import { loadRootKey } from './kms/root-key.ts';
import { KeyService, kmsKinds } from './kms/key-service.ts';
import { BlobVault, vaultKinds } from './registry/blob-vault.ts';
import { DecryptPool } from './crypto/decrypt-pool.ts';
import { ReplicationConfigurations } from './replication/configuration.ts';
import { Replicator } from './replication/replicator.ts';
import { PeriodicJob } from './ops/periodic-job.ts';

/** How long another replica's change to keys or policies may take to be seen here. */
const authCacheMs = 1000;

export interface Server {
  readonly app: FastifyInstance;
  readonly meta: MetadataStore;
  readonly store: BlobStore;
  readonly keys: KeyService;
  readonly vault: BlobVault;
  readonly readiness: Readiness;
  /** What the first start did about an administrator (a generated secret is shown once by main). */
  readonly bootstrap: BootstrapResult;
  /** Every route registered (method and URL), for the authorization coverage test. */
  readonly routes: readonly { readonly method: string; readonly url: string; readonly auth: boolean }[];
  /** Stops accepting, lets in-flight requests finish (up to the timeout), closes the stores. */
  close(): Promise<void>;
}

export const serverVersion = '0.1.0';

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

export interface ServerOptions {
  readonly logger?: boolean;
  /** The administrator's key on first start (from the environment); generated when absent. */
  readonly admin?: AdminCredentials | undefined;
}

/**
 * Builds the registry on the backends the configuration names: by default the filesystem and
 * SQLite under the data directory; S3 and PostgreSQL for stateless replicas. The scale-out
 * backends are loaded only when chosen (the AWS SDK alone costs megabytes).
 */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  let meta: MetadataStore;
  if (config.metadata === 'postgres') {
    const { PostgresMetadataStore } = await import('./meta/postgres/postgres-store.ts');
    meta = new PostgresMetadataStore({ connectionString: config.postgresUrl ?? '', poolSize: config.postgresPoolSize });
  } else {
    meta = new SqliteMetadataStore({ path: join(config.dataDir, 'metadata.db'), synchronous: config.sqliteSynchronous });
  }
  await meta.migrate();
  let store: BlobStore;
  if (config.storage === 's3') {
    const { S3BlobStore } = await import('./storage/s3-blob-store.ts');
    store = new S3BlobStore({
      bucket: config.s3Bucket ?? '',
      prefix: config.s3Prefix,
      forcePathStyle: config.s3ForcePathStyle,
      partSizeBytes: config.s3PartSize,
      ...(config.s3Region !== undefined ? { region: config.s3Region } : {}),
      ...(config.s3Endpoint !== undefined ? { endpoint: config.s3Endpoint } : {}),
      ...(config.s3SseKmsKeyId !== undefined ? { sseKmsKeyId: config.s3SseKmsKeyId } : {}),
    });
  } else {
    const fs = new FsBlobStore(config.dataDir);
    await fs.init();
    store = fs;
  }
  return assemble(config, meta, store, options);
}

export async function assemble(config: Config, rawMeta: MetadataStore, store: BlobStore, options: ServerOptions = {}): Promise<Server> {
  // Sign-ins and policy sets are remembered for a second, and forgotten on any write here.
  const freshness = new Freshness();
  // (Writes that change no identity or policy are left out: they happen on every push or pull.)
  const meta = observeWrites(rawMeta, freshness, new Set([identityKinds.accessKeyUse, documentKinds.lifecycleRun, kmsKinds.audit, vaultKinds.blob, vaultKinds.upload]));
  // The root key wraps all KMS key material; without it nothing encrypted could be read.
  const rootKey = await loadRootKey({
    env: process.env,
    keyFile: config.rootKeyFile,
    dataDir: config.dataDir,
    embeddedDefault: config.storage === 'fs' && config.metadata === 'sqlite',
  });
  const keys = new KeyService(meta, { registryId: config.registryId, region: config.region, rootKey });
  // Encrypted pulls decrypt in worker threads: one more than hash uploads, since a pull spreads
  // its groups of chunks over two of them; none when hashing is inline too.
  const decryption = new DecryptPool(config.hashWorkers === 0 ? 0 : config.hashWorkers + 1);
  const vault = new BlobVault(store, meta, keys, { registryKeyEncryption: config.registryKeyEncryption }, decryption);
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            // Credentials never reach a log line, whatever a later change logs.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', '*.password', '*.secret'], censor: '[redacted]' },
          },
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    // Management JSON bodies are small; blob and manifest bodies are streamed by their routes.
    bodyLimit: 1024 * 1024,
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, keywords: ajvKeywords } },
    // On close, idle keep-alive connections are dropped at once; busy ones finish their request.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // A connection silent for this long is dropped (slow-loris bound); large uploads keep
    // flowing, so they never hit it.
    connectionTimeout: 5 * 60_000,
    keepAliveTimeout: 75_000,
  });

  const routes: { method: string; url: string; auth: boolean }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, auth: route.config?.auth !== undefined });
  });

  const readiness: Readiness = {
    accepting: true,
    check: async () => {
      await meta.getRepository('');
    },
  };
  app.addHook('onRequest', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
    // While shutting down, connections close after their current response instead of idling.
    if (!readiness.accepting) reply.header('Connection', 'close');
  });
  // One line per request, written when it completes.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  const identities = new IdentityStore(meta);
  const bootstrap = await bootstrapAdmin(identities, options.admin);
  const service = `berth:${config.registryId}`;
  const tokens = new TokenService(identities, {
    issuer: 'berth',
    service,
    ttlSeconds: config.tokenTtlSeconds,
    rotationSeconds: config.signingKeyRotationHours * 3600,
    maxTtlSeconds: Math.max(config.tokenTtlSeconds, loginTokenTtlSeconds, 24 * 3600),
  });
  await tokens.init();
  const guard = new Guard(new Authenticator(identities, tokens, { perKey: new LoginThrottle({ maxFailures: 5 }), perAddress: new LoginThrottle({ maxFailures: 50 }) }, config.registryId, new FreshCache(freshness, authCacheMs)),
    new Authorizer(meta, identities, config, new FreshCache(freshness, authCacheMs)),
    {
    publicHost: () => config.publicHost,
    service,
  });

  const replication = new ReplicationConfigurations(meta, keys);
  const replicator = new Replicator(meta, vault, replication, config.registryId, app.log.child({ component: 'replication' }), {
    concurrency: config.replicationConcurrency,
    backoffMs: config.replicationRetrySeconds * 1000,
  });
  const hashing = new HashPool(config.hashWorkers);
  const uploads = new UploadService(meta, vault, hashing, { maxBlobBytes: config.maxBlobBytes });
  const pulls = new PullRecorder(meta);
  const ctx: OciContext = {
    meta,
    store,
    vault,
    uploads,
    pulls,
    limits: { maxManifestBytes: config.maxManifestBytes, maxPageSize: config.maxPageSize, redirectSeconds: config.storage === 's3' ? config.s3RedirectSeconds : 0 },
    guard,
    replication: { destinationsFor: (name) => replication.destinationsFor(name), pushed: () => replicator.wake() },
  };


  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send(new RegistryError('NAME_UNKNOWN', 'no such endpoint', { detail: { method: req.method, path: req.url.split('?', 1)[0]?.slice(0, 300) } }).toBody()),
  );
  await app.register(healthRoutes, readiness);
  await app.register(async (scope) => ociPlugin(scope, ctx));
  await app.register(async (scope) => tokenRoutes(scope, { guard, tokens }));
  const registry = {
    registryId: config.registryId,
    region: config.region,
    // Read when needed: with port 0 the real port is known only once listening.
    get publicHost(): string {
      if (config.publicHost) return config.publicHost;
      const a = app.server.address();
      const host = typeof a === 'object' && a ? a.address : config.listen.host;
      const port = typeof a === 'object' && a ? a.port : config.listen.port;
      return `${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
  };
  const lifecycle = new LifecycleRunner(meta);
  // Replicas share the schedule: whoever holds the lease runs it; if it dies the lease lapses.
  const replicaId = randomUUID();
  const scheduleLease = 'lifecycle-schedule';
  const scheduler = new PeriodicJob(
    config.lifecycleIntervalSeconds,
    () => meta.tryLease(scheduleLease, replicaId, config.lifecycleIntervalSeconds * 1500),
    async () => app.log.info(await lifecycle.executeAll(), 'scheduled lifecycle run'),
    (err) => app.log.error({ err }, 'scheduled lifecycle run failed'),
  );
  // Key rotations and destructions that have come due, on one replica at a time; a destroyed
  // key's wrapped data keys go with it.
  const kmsLease = 'kms-schedule';
  const kmsIntervalSeconds = 60;
  const kmsJob = new PeriodicJob(
    kmsIntervalSeconds,
    () => meta.tryLease(kmsLease, replicaId, kmsIntervalSeconds * 1500),
    async () => {
      const due = await keys.runDueWork();
      for (const keyId of due.destroyed) await vault.forgetKey(keyId);
      if (due.rotated.length + due.destroyed.length > 0) app.log.info(due, 'KMS keys rotated or destroyed');
    },
    (err) => app.log.error({ err }, 'scheduled KMS work failed'),
  );
  await app.register(async (scope) => apiPlugin(scope, { meta, registry, version: serverVersion, lifecycle, guard, identities, tokens, keys, replication }), { prefix: apiPrefix });

  // Monolithic uploads interrupted by a crash leave files no session owns. Housekeeping only:
  // storage that is down right now must not keep the registry from starting (requests will say).
  try {
    const swept = await uploads.sweepOrphans(new Date());
    if (swept > 0) app.log.info({ swept }, 'removed orphaned upload files');
  } catch (err) {
    app.log.warn({ err }, 'could not sweep orphaned uploads; will try at the next start');
  }

  if (config.replicationConcurrency > 0) replicator.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      readiness.accepting = false;
      const timeout = config.shutdownTimeoutSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        app.close(),
        new Promise<void>((resolveTimeout) => {
          timer = setTimeout(() => {
            app.log.warn({ timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutdown timeout: closing remaining connections; their uploads stay resumable');
            app.server.closeAllConnections();
            resolveTimeout();
          }, timeout);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      await scheduler.close();
      await kmsJob.close();
      await replicator.stop();
      await meta.releaseLease(scheduleLease, replicaId).catch(() => undefined);
      await meta.releaseLease(kmsLease, replicaId).catch(() => undefined);
      await hashing.close();
      await decryption.close();
      await pulls.close();
      await meta.close();
      // Stores holding connections (S3's HTTP agent) let them go.
      (store as { destroy?: () => void }).destroy?.();
    })();
    return closing;
  };
  return { app, meta, store, keys, vault, readiness, bootstrap, routes, close };
}
