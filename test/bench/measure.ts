// Timing, statistics, process memory from /proc, and the HTTP load generators (wrk, or a node:http
// fallback when wrk cannot be had).
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { runCommand } from './children.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

/** Seconds `fn` took, from a monotonic clock. */
export async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `fn(index)` for every index in 0..count-1 with at most `concurrency` in flight; the first failure rejects. */
export async function pool(count: number, concurrency: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await fn(i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export interface ProcMemory {
  /** Resident set size now, KiB. */
  readonly rssKiB: number;
  /** Peak resident set size since the process started ("high water mark"), KiB. */
  readonly hwmKiB: number;
}

export async function readProcMemory(pid: number): Promise<ProcMemory> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m?.[1]) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

// USER_HZ: the unit of the CPU times in /proc/<pid>/stat; 100 in the Linux ABI on every architecture Node runs on.
const userHz = 100;

/** CPU time (user + system, all threads) a process has used so far, in seconds. */
export async function readProcCpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesized command name (which may itself contain spaces or parentheses).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot read CPU times from /proc/${pid}/stat`);
  return (utime + stime) / userHz;
}

export interface MachineCpu {
  /** CPU seconds spent on anything but idle and I/O wait, summed over all CPUs. */
  readonly busy: number;
  /** CPU seconds stolen by the hypervisor, summed over all CPUs. */
  readonly steal: number;
  /** Wall seconds times CPUs. */
  readonly total: number;
}

/** The machine-wide CPU counters from /proc/stat. */
export async function readMachineCpu(): Promise<MachineCpu> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy: busy / userHz, steal: steal / userHz, total: (busy + idle + iowait + steal) / userHz };
}

/** Sums fields of /proc/self/stat (indexes counted after the command name), in seconds. */
async function readOwnStatSeconds(indexes: readonly number[]): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return indexes.reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / userHz;
}

/** CPU seconds used by this process and its children that have exited (servers, wrk). */
export function readOwnTreeCpuSeconds(): Promise<number> {
  return readOwnStatSeconds([11, 12, 13, 14]); // utime, stime, cutime, cstime
}

/** CPU seconds used by this process's children that have exited (curl, after each transfer). */
export function readChildrenCpuSeconds(): Promise<number> {
  return readOwnStatSeconds([13, 14]); // cutime, cstime
}

/** Polls a process's VmRSS (a cross-check for VmHWM, which the kernel keeps exactly). */
export class RssSampler {
  private readonly pid: number;
  private peakKiB = 0;
  private samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(pid: number) {
    this.pid = pid;
  }

  start(intervalMs = 50): void {
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.sample());
    }, intervalMs);
  }

  private async sample(): Promise<void> {
    const m = await readProcMemory(this.pid).catch(() => undefined);
    if (!m) return;
    this.samples++;
    this.peakKiB = Math.max(this.peakKiB, m.rssKiB);
  }

  /** Stops polling; the largest VmRSS seen and the number of samples. */
  async stop(): Promise<{ peakKiB: number; samples: number }> {
    clearInterval(this.timer);
    await this.pending;
    await this.sample();
    return { peakKiB: this.peakKiB, samples: this.samples };
  }
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers: Record<string, string>;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Median and 99th percentile latency as the tool prints them (wrk only). */
  readonly latencyP50: string | undefined;
  readonly latencyP99: string | undefined;
}

function wrkNumber(text: string, pattern: RegExp, what: string): string {
  const m = pattern.exec(text);
  if (!m?.[1]) throw new Error(`cannot find ${what} in wrk's output:\n${text}`);
  return m[1];
}

/**
 * wrk on one thread: it leaves the most CPU to the server on a small machine, and one thread
 * drives far more requests per second than either registry serves. Connections are kept alive.
 */
export async function runWrk(wrk: string, options: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '5s', '--latency'];
  for (const [k, v] of Object.entries(options.headers)) args.push('-H', `${k}: ${v}`);
  args.push(options.url);
  const result = await runCommand(wrk, args, { timeoutMs: (options.seconds + 30) * 1000 });
  const out = result.stdout;
  if (result.code !== 0) throw new Error(`wrk exited with code ${result.code}:\n${result.stderr}${out}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk: ${non2xx[1]} responses were not 2xx/3xx:\n${out}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socketErrors) throw new Error(`wrk: requests failed (${socketErrors[0]}):\n${out}`);
  return {
    requestsPerSecond: Number(wrkNumber(out, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec')),
    requests: Number(wrkNumber(out, /(\d+) requests in /, 'the request count')),
    latencyP50: /^\s+50%\s+(\S+)$/m.exec(out)?.[1],
    latencyP99: /^\s+99%\s+(\S+)$/m.exec(out)?.[1],
  };
}

/** The fallback when wrk is unavailable: `connections` keep-alive loops in this process. */
export async function runNodeLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const url = new URL(options.url);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to load ${url.origin}`);
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', headers: options.headers, agent }, (res) => {
        res.resume();
        res.once('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`GET ${url.pathname}: ${res.statusCode}`))));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end();
    });
  let requests = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(options.seconds * 1e9));
  try {
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (process.hrtime.bigint() < end) {
          await once();
          requests++;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return { requestsPerSecond: requests / elapsed, requests, latencyP50: undefined, latencyP99: undefined };
}
