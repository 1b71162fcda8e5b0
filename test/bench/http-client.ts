// The distribution-API client both registries are measured with: node:http over keep-alive
// connections, request bodies streamed with backpressure, response bodies counted (and hashed
// when asked) without being kept.
import { createHash, type Hash } from 'node:crypto';
import { Agent, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { drained } from '../support/streams.ts';

/** A request body: one buffer, or chunks produced on demand (never all in memory at once). */
export type Body = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export class HttpError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

interface ExchangeOptions {
  readonly method: string;
  readonly headers?: Record<string, string>;
  readonly body?: Body;
  /** Status codes that count as success; anything else rejects with the response text. */
  readonly expect: number | readonly number[];
  /** Fails the request after this long without any socket activity. */
  readonly idleTimeoutMs?: number;
}

// Small responses (errors, manifests, upload starts) are collected up to this size.
const maxCollected = 8 * 1024 * 1024;
const defaultIdleTimeoutMs = 60_000;

/** Only loopback addresses: the benchmark must never talk to anything but its own children. */
function assertLoopback(url: URL): URL {
  if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') throw new Error(`refusing to contact ${url.origin}: the benchmark only talks to http://127.0.0.1`);
  return url;
}

function describe(method: string, url: URL): string {
  return `${method} ${url.pathname}`;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

async function writeBody(req: ClientRequest, body: Body): Promise<void> {
  if (body instanceof Uint8Array) {
    req.end(body);
    return;
  }
  for await (const chunk of body) {
    if (req.destroyed) return;
    if (!req.write(chunk)) await drained(req);
  }
  if (!req.destroyed) req.end();
}

/** Reads a whole (small) response body. */
function collect(res: IncomingMessage, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxCollected) {
        res.destroy(new Error(`${what}: response body larger than ${maxCollected} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(chunks, size)));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error(`${what}: connection closed before the response body ended`));
    });
  });
}

/** Reads and discards a response body; returns the byte count (and feeds `hash` when given). */
function discard(res: IncomingMessage, what: string, hash: Hash | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    res.on(
      'data',
      hash
        ? (chunk: Buffer) => {
            size += chunk.length;
            hash.update(chunk);
          }
        : (chunk: Buffer) => {
            size += chunk.length;
          },
    );
    res.once('end', () => resolve(size));
    res.once('error', reject);
    res.once('close', () => {
      if (!res.complete) reject(new Error(`${what}: connection closed after ${size} bytes of the response body`));
    });
  });
}

function expected(status: number, expect: number | readonly number[]): boolean {
  return typeof expect === 'number' ? status === expect : expect.includes(status);
}

/** One HTTP exchange; `consume` reads the body of a successful response. */
function exchange<T>(agent: Agent, url: URL, options: ExchangeOptions, consume: (res: IncomingMessage) => Promise<T>): Promise<T> {
  const what = describe(options.method, url);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const succeed = (value: T): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
      req.destroy();
    };
    const req = request(url, { method: options.method, headers: options.headers, agent });
    const idle = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    req.setTimeout(idle, () => fail(new Error(`${what}: no progress for ${idle} ms`)));
    req.once('error', (err) => fail(new Error(`${what}: ${err.message}`)));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      if (!expected(status, options.expect)) {
        collect(res, what).then(
          (text) => fail(new HttpError(`${what}: expected ${String(options.expect)}, got ${status}: ${text.toString('utf8').slice(0, 500)}`, status)),
          (err: unknown) => fail(new HttpError(`${what}: expected ${String(options.expect)}, got ${status} (${(err as Error).message})`, status)),
        );
        return;
      }
      consume(res).then(succeed, (err: unknown) => fail(err as Error));
    });
    if (options.body === undefined) req.end();
    else writeBody(req, options.body).catch((err: unknown) => fail(new Error(`${what}: sending the body: ${(err as Error).message}`)));
  });
}

/** A blob pull's outcome. */
export interface Pulled {
  readonly bytes: number;
  /** "sha256:<hex>" of the received bytes, when verification was asked for. */
  readonly digest: string | undefined;
}

/** A distribution-API client for one registry, on its own keep-alive connection pool. */
export class RegistryClient {
  readonly base: URL;
  /** Sent with every request (Berth requires credentials; the reference registry ignores none). */
  readonly authorization: string | undefined;
  private readonly agent: Agent;

  constructor(base: string, options: { maxSockets?: number; authorization?: string } = {}) {
    this.base = assertLoopback(new URL(base));
    this.authorization = options.authorization;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64, maxFreeSockets: options.maxSockets ?? 64, scheduling: 'lifo' });
  }

  /** Resolves a path or a Location header (relative or absolute) against the registry. */
  resolve(pathOrLocation: string): URL {
    return assertLoopback(new URL(pathOrLocation, this.base));
  }

  async request(target: string | URL, options: ExchangeOptions): Promise<Response> {
    const url = typeof target === 'string' ? this.resolve(target) : assertLoopback(target);
    if (this.authorization !== undefined) options = { ...options, headers: { Authorization: this.authorization, ...options.headers } };
    return exchange(this.agent, url, options, async (res) => ({ status: res.statusCode ?? 0, headers: res.headers, body: await collect(res, describe(options.method, url)) }));
  }

  /** POST /v2/<name>/blobs/uploads/: opens an upload session and returns its location. */
  async startUpload(name: string): Promise<URL> {
    const res = await this.request(`/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' }, expect: 202 });
    const location = header(res.headers, 'location');
    if (!location) throw new Error(`POST /v2/${name}/blobs/uploads/: 202 without a Location header`);
    return this.resolve(location);
  }

  /** PUT <location>?digest=: the whole blob in one request, closing the session. */
  async finishUpload(location: URL, digest: string, body: Body, length: number): Promise<void> {
    // Append to the query as-is: the reference registry's location carries signed state.
    const url = this.resolve(`${location.href}${location.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`);
    const res = await this.request(url, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length) },
      body,
      expect: 201,
    });
    const stored = header(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== digest) throw new Error(`PUT ${location.pathname}: registry stored ${stored}, expected ${digest}`);
  }

  /** Monolithic push: POST then PUT with the whole body. */
  async pushBlob(name: string, digest: string, body: Body, length: number): Promise<void> {
    const location = await this.startUpload(name);
    await this.finishUpload(location, digest, body, length);
  }

  /** GET /v2/<name>/blobs/<digest>, discarding the bytes; checks the length and, if asked, the digest. */
  async pullBlob(name: string, digest: string, options: { size: number; verify: boolean }): Promise<Pulled> {
    const url = this.resolve(`/v2/${name}/blobs/${digest}`);
    const what = describe('GET', url);
    const hash = options.verify ? createHash('sha256') : undefined;
    const bytes = await exchange(this.agent, url, { method: 'GET', expect: 200, ...(this.authorization !== undefined ? { headers: { Authorization: this.authorization } } : {}) }, (res) => discard(res, what, hash));
    if (bytes !== options.size) throw new Error(`${what}: received ${bytes} bytes, expected ${options.size}`);
    const received = hash ? `sha256:${hash.digest('hex')}` : undefined;
    if (received !== undefined && received !== digest) throw new Error(`${what}: content hashes to ${received}`);
    return { bytes, digest: received };
  }

  async headBlob(name: string, digest: string): Promise<number> {
    const res = await this.request(`/v2/${name}/blobs/${digest}`, { method: 'HEAD', expect: 200 });
    return Number(header(res.headers, 'content-length'));
  }

  async putManifest(name: string, reference: string, body: Uint8Array, mediaType: string): Promise<string | undefined> {
    const res = await this.request(`/v2/${name}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'Content-Type': mediaType, 'Content-Length': String(body.byteLength) },
      body,
      expect: 201,
    });
    return header(res.headers, 'docker-content-digest');
  }

  async getManifest(name: string, reference: string, accept: string): Promise<Response> {
    return this.request(`/v2/${name}/manifests/${reference}`, { method: 'GET', headers: { Accept: accept }, expect: 200 });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** One GET on a fresh connection; the status, or undefined when nothing answers. For readiness probes. */
export async function probe(url: string, timeoutMs = 1000): Promise<number | undefined> {
  const target = assertLoopback(new URL(url));
  return new Promise((resolve) => {
    const req = request(target, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
      res.once('error', () => resolve(undefined));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
    req.end();
  });
}
