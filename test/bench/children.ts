// Child processes and temporary directories the benchmark owns, and their cleanup on every way
// out (normal end, error, SIGINT/SIGTERM).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

type Cleanup = () => Promise<void> | void;

const cleanups: Cleanup[] = [];

/** Registers work to run at exit (last registered runs first); returns a function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i !== -1) cleanups.splice(i, 1);
  };
}

/** Runs every registered cleanup, newest first; a failing one is reported and the rest still run. */
export async function runCleanups(): Promise<void> {
  for (let fn = cleanups.pop(); fn !== undefined; fn = cleanups.pop()) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`bench: cleanup failed: ${(err as Error).message}\n`);
    }
  }
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

// Enough of a server's log to explain a failure without letting a chatty child grow the bench.
const maxKeptOutput = 1 << 20;

function keepTail(text: string): string {
  return text.length > maxKeptOutput ? text.slice(text.length - maxKeptOutput) : text;
}

/** A child process with captured output, stopped (SIGTERM, then SIGKILL) by the cleanup at exit. */
export class ManagedChild {
  readonly label: string;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  private readonly unregister: () => void;
  private status: ExitStatus | undefined;
  private out = '';
  private err = '';

  private constructor(label: string, child: ChildProcess, pid: number) {
    this.label = label;
    this.child = child;
    this.pid = pid;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.out = keepTail(this.out + d)));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.err = keepTail(this.err + d)));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
    this.unregister = onCleanup(async () => {
      await this.stop();
    });
  }

  /** Starts `command`; rejects when it cannot be started (missing binary, permissions). */
  static async spawn(label: string, command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<ManagedChild> {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`${label}: cannot start ${command}: ${err.message}`)));
    });
    if (child.pid === undefined) throw new Error(`${label}: ${command} has no pid`);
    return new ManagedChild(label, child, child.pid);
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** Undefined while running. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs. Safe to call more than once. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitStatus> {
    this.unregister();
    if (this.status) return this.status;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and returns its output. */
export async function runCommand(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  const child = await ManagedChild.spawn(command, command, args, { env: options.env });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.stop('SIGKILL', 0);
  }, timeoutMs);
  const status = await child.exited;
  clearTimeout(timer);
  await child.stop(); // unregisters the cleanup; the process is already gone
  if (timedOut) throw new Error(`${command} ${args.join(' ')}: still running after ${timeoutMs} ms, killed`);
  return { ...status, stdout: child.stdout, stderr: child.stderr };
}

/** The absolute path of an executable on PATH (or given as a path), if there is one. */
export async function which(command: string): Promise<string | undefined> {
  const candidates = command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const path of candidates) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A fresh directory under the system temp dir, removed by the cleanup at exit. */
export async function makeTempDir(prefix: string, parent = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
