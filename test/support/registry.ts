// Starting Berth for tests: in-process (fast, for HTTP tests) or as a child process (for crash
// tests and real clients). Both listen on a free loopback port with a fresh data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '../../registry-server/src/app.ts';
import { defaults, type Config } from '../../registry-server/src/config.ts';
import { adminEnv, testAdmin } from './auth.ts';

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

export async function startRegistry(overrides: Partial<Config> = {}): Promise<RunningRegistry> {
  const dataDir = overrides.dataDir ?? (await tempDir());
  const config: Config = { ...defaults, logLevel: 'silent', ...overrides, dataDir, listen: { host: '127.0.0.1', port: 0 } };
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
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
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
  const child = spawn(process.execPath, [join(repoRoot, 'registry-server', 'dist', 'main.js'), '--listen', host, '--data-dir', dataDir, ...(options.args ?? [])], {
    env: { ...process.env, ...adminEnv, ...options.env },
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
