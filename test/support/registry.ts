// Starting Berth for tests: in-process (fast, for HTTP tests) or as a child process (for crash
// tests and real clients). Both listen on a free loopback port with a fresh data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '../../registry-server/src/app.ts';
import { defaults, settingNames, type Config } from '../../registry-server/src/config.ts';
import { adminEnv, testAdmin } from './auth.ts';
import type { RunningS3 } from './s3.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunningRegistry {
  readonly url: string;
  readonly host: string;
  readonly dataDir: string;
  readonly server: Server;
  /** Closes the server; removes the data directory unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export async function tempDir(prefix = 'berth-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Fresh scale-out backends (an S3 bucket on a local S3 server, a PostgreSQL database) for a
 * registry's configuration, or why they cannot be had.
 */
export type ScaleOut =
  | { readonly ok: true; fresh(label: string): Promise<{ readonly config: Partial<Config>; drop(): Promise<void> }> }
  | { readonly ok: false; readonly reason: string };

let s3: Promise<RunningS3> | undefined;

/** The KMS root key of scale-out test registries (32 bytes, base64). */
export const testRootKey = Buffer.alloc(32, 7).toString('base64');

export async function scaleOutBackends(): Promise<ScaleOut> {
  // Loaded on demand: most test files never need PostgreSQL, the S3 server or the AWS SDK.
  const { createTestDatabase, postgresAvailable } = await import('./postgres.ts');
  const { s3Credentials, startS3 } = await import('./s3.ts');
  const reason = await postgresAvailable;
  if (reason !== undefined) return { ok: false, reason };
  s3 ??= startS3().then((server) => {
    server.unref();
    return server;
  });
  const server = await s3;
  // The registry's S3 client finds credentials through the SDK's usual chain, as in production.
  process.env.AWS_ACCESS_KEY_ID = s3Credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3Credentials.secretAccessKey;
  // Scale-out deployments generate no root key: every replica is given the same one.
  process.env.BERTH_ROOT_KEY ??= testRootKey;
  return {
    ok: true,
    async fresh(label) {
      const db = await createTestDatabase(label);
      const bucket = await server.newBucket();
      return {
        config: { storage: 's3', s3Bucket: bucket, s3Endpoint: server.endpoint, s3Region: 'us-east-1', s3ForcePathStyle: true, s3PartSize: 5 * 1024 * 1024, metadata: 'postgres', postgresUrl: db.url, postgresPoolSize: 4 },
        drop: () => db.drop(),
      };
    },
  };
}

/** BERTH_TEST_BACKEND=s3-postgres runs every registry a test starts on S3 + PostgreSQL. */
const suiteBackend = process.env.BERTH_TEST_BACKEND;
/** A restarted registry (same data directory) finds the same bucket and database again. */
const scaleOutByDataDir = new Map<string, { config: Partial<Config>; drop(): Promise<void> }>();

async function backendFor(dataDir: string, overrides: Partial<Config>): Promise<Partial<Config>> {
  if (suiteBackend === undefined || suiteBackend === 'default' || overrides.storage !== undefined || overrides.metadata !== undefined) return {};
  if (suiteBackend !== 's3-postgres') throw new Error(`BERTH_TEST_BACKEND must be s3-postgres or default, not ${suiteBackend}`);
  const known = scaleOutByDataDir.get(dataDir);
  if (known) return known.config;
  const backends = await scaleOutBackends();
  if (!backends.ok) throw new Error(`BERTH_TEST_BACKEND=s3-postgres but ${backends.reason}`);
  const fresh = await backends.fresh('suite');
  scaleOutByDataDir.set(dataDir, fresh);
  return fresh.config;
}

export async function startRegistry(overrides: Partial<Config> = {}): Promise<RunningRegistry> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const backend = await backendFor(dataDir, overrides);
  const config: Config = { ...defaults, logLevel: 'silent', ...backend, ...overrides, dataDir, listen: { host: '127.0.0.1', port: 0 } };
  const server = await createServer(config, { logger: config.logLevel !== 'silent', admin: testAdmin });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const host = `127.0.0.1:${address.port}`;
  return {
    url: `http://${host}`,
    host,
    dataDir,
    server,
    async close(options = {}) {
      await server.close();
      if (!options.keepData) {
        await rm(dataDir, { recursive: true, force: true });
        const scaleOut = scaleOutByDataDir.get(dataDir);
        scaleOutByDataDir.delete(dataDir);
        await scaleOut?.drop();
      }
    },
  };
}

export interface ChildRegistry {
  readonly url: string;
  readonly host: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Runs the built server (registry-server/dist/main.js) as a separate process. */
export async function spawnRegistry(options: { dataDir?: string; port?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ChildRegistry> {
  const dataDir = options.dataDir ?? (await tempDir());
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  // The suite's backend travels as the environment variables an operator would set.
  const backendEnv: NodeJS.ProcessEnv = {};
  const backend = await backendFor(dataDir, {});
  for (const { key, env } of settingNames()) {
    const value = backend[key as keyof Config];
    if (value !== undefined) backendEnv[env] = String(value);
  }
  const child = spawn(process.execPath, [join(repoRoot, 'registry-server', 'dist', 'main.js'), '--listen', host, '--data-dir', dataDir, ...(options.args ?? [])], {
    env: { ...process.env, ...adminEnv, ...backendEnv, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://${host}`;
  await waitFor(async () => (await fetch(`${url}/readyz`)).ok, 15_000, () => `registry did not become ready:\n${out}`);
  return {
    url,
    host,
    dataDir,
    child,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function freePort(): Promise<number> {
  const { createServer: netServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 50));
  }
}
