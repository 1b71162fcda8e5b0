// The registries under test, each a fresh child process on its own loopback port and data directory.
import { adminEnv } from '../support/auth.ts';
import { stat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedChild, freePort, makeTempDir, sleep } from './children.ts';
import { probe } from './http-client.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const berthMain = join(repoRoot, 'registry-server', 'dist', 'main.js');

export interface RunningRegistry {
  /** "Berth" or "reference". */
  readonly label: string;
  readonly url: string;
  /** The server process itself (not a wrapper), for /proc/<pid>/status. */
  readonly pid: number;
  readonly dataDir: string;
  /** What the process wrote so far (its warnings and errors). */
  output(): string;
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

const readyTimeoutMs = 20_000;

/** Starts `command` and waits until `readyPath` answers 200. */
export async function startServer(options: {
  label: string;
  command: string;
  args: readonly string[];
  url: string;
  readyPath: string;
  dataDir: string;
  /** Also removed on stop (configuration files and the like). */
  workDir?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<RunningRegistry> {
  const child = await ManagedChild.spawn(options.label, options.command, options.args, options.env ? { env: options.env } : {});
  const output = (): string => `${child.stdout}${child.stderr}`.trim();
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const exited = child.exitStatus;
    if (exited) throw new Error(`${options.label} exited during startup (code ${exited.code}, signal ${exited.signal}):\n${output()}`);
    if ((await probe(`${options.url}${options.readyPath}`)) === 200) break;
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`${options.label} did not become ready at ${options.url} within ${readyTimeoutMs} ms:\n${output()}`);
    }
    await sleep(50);
  }
  return {
    label: options.label,
    url: options.url,
    pid: child.pid,
    dataDir: options.dataDir,
    output,
    async stop() {
      const status = await child.stop();
      await rm(options.workDir ?? options.dataDir, { recursive: true, force: true });
      // A crash during the run would otherwise pass unnoticed once the numbers are in.
      if (status.signal !== 'SIGTERM' && status.code !== 0 && status.code !== null) {
        throw new Error(`${options.label} exited with code ${status.code} when stopped:\n${output()}`);
      }
    },
  };
}

/** Fails early with a useful message when the server has not been built (or is older than its sources). */
export async function checkBerthBuild(): Promise<string | undefined> {
  const built = await stat(berthMain).catch(() => undefined);
  if (!built) throw new Error(`${berthMain} is missing: build the server first (make bench builds it; or: cd registry-server && npx tsup)`);
  const src = join(repoRoot, 'registry-server', 'src');
  let newest = 0;
  for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest > built.mtimeMs ? `warning: ${berthMain} is older than registry-server/src; rebuild for current numbers` : undefined;
}

/**
 * Berth's built server, started as `make run` starts it: the executable itself, so its
 * shebang's Node flags apply (npm puts the pinned Node first on PATH). Fresh data directory.
 */
export async function startBerth(parentDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningRegistry> {
  const dataDir = await makeTempDir('berth-', parentDir);
  const url = `http://127.0.0.1:${await freePort()}`;
  return startServer({
    label: 'Berth',
    command: berthMain,
    args: ['--listen', new URL(url).host, '--data-dir', dataDir, '--log-level', 'warn'],
    url,
    readyPath: '/readyz',
    dataDir,
    env: { ...process.env, ...adminEnv, ...extraEnv },
  });
}
