// A client for pushing images into another registry over the OCI distribution API, as the
// replication engine needs it: blob existence, cross-repository mounts, streamed blob uploads,
// manifest digests and manifest pushes. Authentication follows the distribution spec's flow:
// nothing is sent until a 401 names a scheme (Basic, or a Bearer token realm); after that, the
// credentials that worked are sent pre-emptively. Everything read from the remote is bounded.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface RemoteRegistryOptions {
  /** Base URL, http or https, e.g. http://127.0.0.1:5000 (may have a path prefix). */
  readonly endpoint: string;
  /** With `password`: Basic credentials, also used at a Bearer token realm. */
  readonly username?: string;
  readonly password?: string;
  /** Extra headers on every request to the registry (not to the token realm). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, default 30000 (an idle timeout while streaming). */
  readonly timeoutMs?: number;
}

export class RemoteError extends Error {
  /** HTTP status, undefined for network errors. */
  readonly status: number | undefined;
  /** The OCI error code from the body, or UNREACHABLE / TIMEOUT / AUTH_FAILED / HTTP_<status>. */
  readonly code: string;
  /** Network errors, timeouts, 408, 429 and 5xx: worth trying again later. */
  readonly retryable: boolean;

  constructor(message: string, details: { status: number | undefined; code: string; retryable: boolean; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RemoteError';
    this.status = details.status;
    this.code = details.code;
    this.retryable = details.retryable;
  }
}

const manifestAccept = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** Error bodies and token responses are read up to this much; the rest is dropped with the socket. */
const smallBodyLimit = 64 * 1024;
/** A manifest read back only when a registry answers HEAD without Docker-Content-Digest. */
const manifestLimit = 4 * 1024 * 1024;
const defaultTokenSeconds = 60;
const maxCachedTokens = 1000;

type Body = { readonly kind: 'bytes'; readonly data: Uint8Array } | { readonly kind: 'stream'; readonly size: number; readonly open: () => Promise<NodeJS.ReadableStream> };

interface Call {
  readonly method: string;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Body;
  /** The scopes this call needs (`type:name:actions`), asked for at a Bearer realm. */
  readonly scopes: readonly string[];
  /** How much of the response body to keep (for errors and small documents). */
  readonly readLimit?: number;
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body was longer than the read limit (and was dropped past it). */
  readonly truncated: boolean;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Map<string, string>;
}

type HostAuth = { readonly kind: 'basic' } | { readonly kind: 'bearer'; readonly realm: string; readonly service: string };

interface CachedToken {
  readonly token: string;
  readonly validUntil: number;
}

/** A network failure before any response: the request never produced an answer. */
class TransportFailure extends Error {
  readonly reusedSocket: boolean;
  readonly original: unknown;
  constructor(original: unknown, reusedSocket: boolean) {
    super(original instanceof Error ? original.message : String(original));
    this.original = original;
    this.reusedSocket = reusedSocket;
  }
}

/** The caller's stream failed (or gave the wrong length): not the remote's fault, passed through. */
class SourceFailure extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super(original instanceof Error ? original.message : String(original));
    this.original = original;
  }
}

export class RemoteRegistry {
  private readonly base: URL;
  /** The endpoint's path prefix without a trailing slash ('' for none). */
  private readonly prefix: string;
  private readonly basic: string | undefined;
  private readonly extraHeaders: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** Per origin: the scheme that answered a challenge, sent pre-emptively afterwards. */
  private readonly hosts = new Map<string, HostAuth>();
  /** Bearer tokens per (realm, service, scopes). */
  private readonly tokens = new Map<string, CachedToken>();
  /** Token requests under way, so that concurrent 401s share one. */
  private readonly pendingTokens = new Map<string, Promise<CachedToken>>();

  constructor(options: RemoteRegistryOptions) {
    const base = new URL(options.endpoint);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`endpoint must be http or https: ${options.endpoint}`);
    if (base.username || base.password) throw new TypeError('endpoint must not carry credentials; use username and password');
    base.search = '';
    base.hash = '';
    this.prefix = base.pathname.replace(/\/+$/, '');
    this.base = base;
    this.basic = options.username !== undefined || options.password !== undefined ? `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}` : undefined;
    this.extraHeaders = { ...options.headers };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    // Idle pooled sockets are closed after a few seconds, before servers with short keep-alive
    // timeouts (Node's default is 5 s) close them under a request.
    const agentOptions = { keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 4_000, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  /** HEAD the blob: true when present, false on 404. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const reply = await this.send({ method: 'HEAD', url: this.url(`/v2/${repository}/blobs/${digest}`), scopes: [pushScope(repository)] });
    if (reply.status === 200) return true;
    if (reply.status === 404) return false;
    // Registries serving blobs from object storage redirect HEAD as well, and only after they
    // found the blob.
    if ((reply.status === 302 || reply.status === 303 || reply.status === 307) && reply.headers.location) return true;
    throw this.failure('HEAD', 'blob', reply);
  }

  /** Mounts a blob from another repository of the same registry; false when the registry would not. */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const url = this.url(`/v2/${repository}/blobs/uploads/`);
    url.search = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    // The token must also allow pulling from the source, or the registry falls back to an upload.
    const scopes = [pushScope(repository), `repository:${from}:pull`];
    const reply = await this.send({ method: 'POST', url, scopes, headers: { 'Content-Length': '0' } });
    if (reply.status === 201) return true;
    if (reply.status === 202) {
      // The registry opened an ordinary upload session instead; close it rather than leave it to expire.
      const location = headerValue(reply.headers.location);
      if (location !== undefined) {
        try {
          await this.send({ method: 'DELETE', url: this.resolve(location, url), scopes });
        } catch {
          // Abandoned sessions expire on their own.
        }
      }
      return false;
    }
    throw this.failure('POST', 'mount', reply);
  }

  /** Uploads a blob: POST opens a session, one PUT streams the content from `open()`. */
  async pushBlob(repository: string, digest: string, size: number, open: () => Promise<NodeJS.ReadableStream>): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError(`invalid blob size ${size}`);
    const scopes = [pushScope(repository)];
    const start = this.url(`/v2/${repository}/blobs/uploads/`);
    const opened = await this.send({ method: 'POST', url: start, scopes, headers: { 'Content-Length': '0' } });
    if (opened.status !== 202) throw this.failure('POST', 'upload', opened);
    const location = headerValue(opened.headers.location);
    if (location === undefined) throw new RemoteError(`POST ${start.pathname}: 202 without a Location`, { status: 202, code: 'HTTP_202', retryable: false });
    const target = this.resolve(location, start);
    // The session's query (its state) is kept verbatim; the digest is appended to it.
    const query = `${target.search === '' ? '?' : `${target.search}&`}digest=${encodeURIComponent(digest)}`;
    target.search = query;
    // The POST settled the scope, so the PUT carries its credentials from the start: a stream
    // is re-read (open() again) only if the remote still challenges it.
    const put = await this.send({
      method: 'PUT',
      url: target,
      scopes,
      headers: { 'Content-Type': 'application/octet-stream' },
      body: { kind: 'stream', size, open },
    });
    if (put.status !== 201) throw this.failure('PUT', 'upload', put);
  }

  /** The digest of a manifest by tag or digest; undefined when the remote has none. */
  async manifestDigest(repository: string, reference: string): Promise<string | undefined> {
    const url = this.url(`/v2/${repository}/manifests/${reference}`);
    const head = await this.send({ method: 'HEAD', url, scopes: [pushScope(repository)], headers: { Accept: manifestAccept } });
    if (head.status === 404) return undefined;
    if (head.status !== 200) throw this.failure('HEAD', 'manifest', head);
    const digest = headerValue(head.headers['docker-content-digest'])?.trim();
    if (digest) return digest;
    // Docker-Content-Digest is optional in the OCI spec: hash the manifest instead.
    const got = await this.send({ method: 'GET', url, scopes: [pushScope(repository)], headers: { Accept: manifestAccept }, readLimit: manifestLimit });
    if (got.status === 404) return undefined;
    if (got.status !== 200) throw this.failure('GET', 'manifest', got);
    if (got.truncated) throw new RemoteError(`GET ${url.pathname}: manifest larger than ${manifestLimit} bytes`, { status: 200, code: 'MANIFEST_TOO_LARGE', retryable: false });
    return `sha256:${createHash('sha256').update(got.body).digest('hex')}`;
  }

  /** PUTs a manifest by tag or digest; anything but 201 is a RemoteError with the remote's code. */
  async putManifest(repository: string, reference: string, mediaType: string, content: Uint8Array): Promise<void> {
    const url = this.url(`/v2/${repository}/manifests/${reference}`);
    const reply = await this.send({ method: 'PUT', url, scopes: [pushScope(repository)], headers: { 'Content-Type': mediaType }, body: { kind: 'bytes', data: content } });
    if (reply.status !== 201) throw this.failure('PUT', 'manifest', reply);
  }

  /** Destroys pooled keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  // -------------------------------------------------------------------------------------------
  // Requests and authentication
  // -------------------------------------------------------------------------------------------

  private url(path: string): URL {
    const url = new URL(this.base.href);
    url.pathname = `${this.prefix}${path}`;
    return url;
  }

  private resolve(location: string, against: URL): URL {
    const url = new URL(location, against);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RemoteError(`the registry gave an unusable Location (${url.protocol})`, { status: undefined, code: 'HTTP_LOCATION', retryable: false });
    }
    return url;
  }

  /**
   * One request with authentication: pre-emptive credentials when this origin answered a
   * challenge before, otherwise none; on 401, the challenge is answered once. A pooled socket
   * the server had closed is retried once on a fresh one.
   */
  private async send(call: Call): Promise<Reply> {
    const origin = call.url.origin;
    let authorization = this.cachedAuthorization(origin, call.scopes);
    let answered: (() => void) | undefined;
    let staleRetried = false;
    let challenged = false;
    for (;;) {
      let reply: Reply;
      try {
        reply = await this.exchange(call, authorization);
      } catch (err) {
        if (err instanceof TransportFailure) {
          if (err.reusedSocket && !staleRetried) {
            staleRetried = true;
            continue;
          }
          throw networkError(call, err.original);
        }
        if (err instanceof SourceFailure) throw err.original;
        throw err;
      }
      if (reply.status !== 401) {
        answered?.();
        return reply;
      }
      if (challenged) throw authFailed(call, reply, 'the credentials were refused');
      challenged = true;
      if (authorization !== undefined) this.forget(origin, call.scopes);
      const outcome = await this.answerChallenge(call, reply, authorization);
      authorization = outcome.authorization;
      answered = outcome.remember;
    }
  }

  private cachedAuthorization(origin: string, scopes: readonly string[]): string | undefined {
    const host = this.hosts.get(origin);
    if (!host) return undefined;
    if (host.kind === 'basic') return this.basic;
    const cached = this.tokens.get(tokenKey(host.realm, host.service, normalizeScopes(scopes)));
    return cached && cached.validUntil > Date.now() ? `Bearer ${cached.token}` : undefined;
  }

  /** Drops credentials the remote refused, so the next call challenges afresh. */
  private forget(origin: string, scopes: readonly string[]): void {
    const host = this.hosts.get(origin);
    if (host?.kind === 'bearer') this.tokens.delete(tokenKey(host.realm, host.service, normalizeScopes(scopes)));
  }

  private async answerChallenge(call: Call, reply: Reply, refused: string | undefined): Promise<{ authorization: string; remember: () => void }> {
    const challenges = parseChallenges(headerValue(reply.headers['www-authenticate']) ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.get('realm'));
    const origin = call.url.origin;
    if (bearer) {
      const realm = bearer.params.get('realm') ?? '';
      const service = bearer.params.get('service') ?? '';
      // The challenge's scope, with what this call needs (a pull challenge on HEAD would
      // otherwise buy a token the next push cannot use).
      const scopes = normalizeScopes([...(bearer.params.get('scope') ?? '').split(' '), ...call.scopes]);
      const token = await this.token(call, realm, service, scopes, refused);
      return {
        authorization: `Bearer ${token.token}`,
        remember: () => {
          this.hosts.set(origin, { kind: 'bearer', realm, service });
          // Pre-emptive lookups use the call's own scopes; when they differ from the scopes
          // the token was asked with, file it under those too.
          const own = normalizeScopes(call.scopes);
          if (own !== scopes) this.storeToken(tokenKey(realm, service, own), token);
        },
      };
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (this.basic === undefined) throw authFailed(call, reply, 'the registry asks for Basic credentials and none are configured');
      const basic = this.basic;
      return { authorization: basic, remember: () => this.hosts.set(origin, { kind: 'basic' }) };
    }
    throw authFailed(call, reply, 'the registry answered 401 without a supported challenge');
  }

  private async token(call: Call, realm: string, service: string, scopes: string, refused: string | undefined): Promise<CachedToken> {
    const key = tokenKey(realm, service, scopes);
    const cached = this.tokens.get(key);
    // A cached token the remote just refused is not offered again.
    if (cached && cached.validUntil > Date.now() && `Bearer ${cached.token}` !== refused) return cached;
    let pending = this.pendingTokens.get(key);
    if (!pending) {
      pending = this.fetchToken(call, realm, service, scopes).finally(() => this.pendingTokens.delete(key));
      this.pendingTokens.set(key, pending);
    }
    const token = await pending;
    this.storeToken(key, token);
    return token;
  }

  private storeToken(key: string, token: CachedToken): void {
    if (this.tokens.size >= maxCachedTokens) {
      const now = Date.now();
      for (const [k, t] of this.tokens) if (t.validUntil <= now) this.tokens.delete(k);
      if (this.tokens.size >= maxCachedTokens) this.tokens.clear();
    }
    this.tokens.set(key, token);
  }

  private async fetchToken(call: Call, realm: string, service: string, scopes: string): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RemoteError(`${call.method} ${call.url.pathname}: invalid token realm`, { status: 401, code: 'AUTH_FAILED', retryable: false });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RemoteError(`${call.method} ${call.url.pathname}: token realm must be http or https`, { status: 401, code: 'AUTH_FAILED', retryable: false });
    }
    if (service !== '') url.searchParams.append('service', service);
    for (const scope of scopes.split(' ')) if (scope !== '') url.searchParams.append('scope', scope);
    const tokenCall: Call = { method: 'GET', url, scopes: [], readLimit: smallBodyLimit };
    let reply: Reply;
    try {
      // The registry's extra headers are for the registry only; the realm gets credentials alone.
      reply = await this.exchange(tokenCall, this.basic, false);
    } catch (err) {
      if (err instanceof TransportFailure) throw networkError(tokenCall, err.original);
      throw err;
    }
    if (reply.status === 401 || reply.status === 403) throw authFailed(tokenCall, reply, 'the token realm refused the credentials');
    if (reply.status !== 200) {
      throw new RemoteError(`GET ${url.origin}${url.pathname}: token request answered ${reply.status}`, { status: reply.status, code: `HTTP_${reply.status}`, retryable: retryableStatus(reply.status) });
    }
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      if (reply.truncated) throw new Error('too large');
      parsed = JSON.parse(reply.body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RemoteError(`GET ${url.origin}${url.pathname}: unreadable token response`, { status: 200, code: 'AUTH_FAILED', retryable: false });
    }
    const token = typeof parsed.token === 'string' && parsed.token !== '' ? parsed.token : typeof parsed.access_token === 'string' ? parsed.access_token : '';
    if (token === '') throw new RemoteError(`GET ${url.origin}${url.pathname}: the token response has no token`, { status: 200, code: 'AUTH_FAILED', retryable: false });
    const seconds = typeof parsed.expires_in === 'number' && Number.isFinite(parsed.expires_in) && parsed.expires_in > 0 ? parsed.expires_in : defaultTokenSeconds;
    // Retired a little early, so a token never expires between being picked and being checked.
    const margin = Math.min(30, seconds / 5);
    return { token, validUntil: Date.now() + (seconds - margin) * 1000 };
  }

  /** One HTTP exchange. The response body is kept up to the call's limit; past it the socket is dropped. */
  private exchange(call: Call, authorization: string | undefined, toRegistry = true): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const body = call.body;
      // Opened only now (each attempt reads the content afresh); a synchronous throw is the source's too.
      const open = body?.kind === 'stream' ? Promise.resolve().then(() => body.open()) : undefined;
      const headers: Record<string, string> = { ...(toRegistry ? this.extraHeaders : {}), ...call.headers };
      if (authorization !== undefined) headers.Authorization = authorization;
      if (call.body?.kind === 'bytes') headers['Content-Length'] = String(call.body.data.byteLength);
      if (call.body?.kind === 'stream') headers['Content-Length'] = String(call.body.size);
      const secure = call.url.protocol === 'https:';
      const transport = secure ? https : http;
      const limit = call.readLimit ?? smallBodyLimit;
      let settled = false;
      let uploading = false;
      let source: NodeJS.ReadableStream | undefined;
      const request = transport.request(call.url, { method: call.method, headers, agent: secure ? this.httpsAgent : this.httpAgent });

      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        if (source) (source as Partial<Readable>).destroy?.();
        request.destroy();
        reject(err);
      };
      request.setTimeout(this.timeoutMs, () => {
        fail(new RemoteError(`${call.method} ${call.url.origin}${call.url.pathname}: no activity for ${this.timeoutMs} ms`, { status: undefined, code: 'TIMEOUT', retryable: true }));
      });
      request.on('error', (err) => fail(new TransportFailure(err, request.reusedSocket)));
      request.on('response', (res) => {
        // The remote answered before the body was sent (an early error): stop sending.
        if (uploading && source) {
          source.removeAllListeners('data');
          (source as Partial<Readable>).destroy?.();
        }
        const chunks: Buffer[] = [];
        let length = 0;
        let truncated = false;
        const done = (): void => {
          if (settled) return;
          settled = true;
          // A socket whose request body was cut short cannot carry another request.
          if (uploading || truncated) request.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), truncated });
        };
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          if (length + chunk.length > limit) {
            chunks.push(chunk.subarray(0, limit - length));
            length = limit;
            truncated = true;
            done();
            res.destroy();
            return;
          }
          chunks.push(chunk);
          length += chunk.length;
        });
        res.on('end', done);
        res.on('error', (err) => fail(new TransportFailure(err, false)));
        res.on('close', () => {
          if (!res.complete && !truncated) fail(new TransportFailure(new Error('the response ended early'), false));
        });
      });

      if (call.body?.kind === 'bytes') {
        request.end(call.body.data);
        return;
      }
      if (open === undefined || call.body?.kind !== 'stream') {
        request.end();
        return;
      }
      const size = call.body.size;
      uploading = true;
      open.then(
        (stream) => {
          source = stream;
          if (settled) {
            (stream as Partial<Readable>).destroy?.();
            return;
          }
          let sent = 0;
          stream.on('error', (err) => fail(new SourceFailure(err)));
          stream.on('data', (chunk: Buffer | string) => {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            sent += bytes.length;
            if (sent > size) {
              fail(new SourceFailure(new Error(`the blob stream gave more than the expected ${size} bytes`)));
              return;
            }
            // Backpressure: the stream waits while the socket's buffer is full.
            if (!request.write(bytes)) {
              stream.pause();
              request.once('drain', () => stream.resume());
            }
          });
          stream.on('end', () => {
            if (sent !== size) {
              fail(new SourceFailure(new Error(`the blob stream gave ${sent} bytes, expected ${size}`)));
              return;
            }
            uploading = false;
            request.end();
          });
          stream.resume();
        },
        (err: unknown) => fail(new SourceFailure(err)),
      );
    });
  }

  private failure(method: string, what: string, reply: Reply): RemoteError {
    const code = ociCode(reply) ?? `HTTP_${reply.status}`;
    const message = ociMessage(reply);
    return new RemoteError(`${method} ${what}: ${reply.status} ${code}${message ? `: ${message}` : ''}`, { status: reply.status, code, retryable: retryableStatus(reply.status) });
  }
}

function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function networkError(call: Call, err: unknown): RemoteError {
  if (err instanceof RemoteError) return err;
  const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
  return new RemoteError(`${call.method} ${call.url.origin}${call.url.pathname}: ${reason}`, { status: undefined, code: 'UNREACHABLE', retryable: true, cause: err });
}

function authFailed(call: Call, reply: Reply, why: string): RemoteError {
  return new RemoteError(`${call.method} ${call.url.origin}${call.url.pathname}: ${why} (${reply.status})`, { status: reply.status, code: 'AUTH_FAILED', retryable: false });
}

function parseErrors(reply: Reply): { code?: unknown; message?: unknown }[] | undefined {
  if (reply.body.length === 0 || reply.truncated) return undefined;
  try {
    const parsed = JSON.parse(reply.body.toString('utf8')) as { errors?: unknown };
    return Array.isArray(parsed.errors) ? (parsed.errors as { code?: unknown; message?: unknown }[]) : undefined;
  } catch {
    return undefined;
  }
}

function ociCode(reply: Reply): string | undefined {
  const code = parseErrors(reply)?.[0]?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? code : undefined;
}

function ociMessage(reply: Reply): string | undefined {
  const message = parseErrors(reply)?.[0]?.message;
  return typeof message === 'string' ? message.slice(0, 500) : undefined;
}

function tokenKey(realm: string, service: string, scopes: string): string {
  return `${realm}\n${service}\n${scopes}`;
}

/** Scopes merged per resource (actions united) and sorted: one spelling per set of scopes. */
export function normalizeScopes(scopes: readonly string[]): string {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const s = scope.trim();
    if (s === '') continue;
    const cut = s.lastIndexOf(':');
    const resource = cut > 0 ? s.slice(0, cut) : s;
    const actions = byResource.get(resource) ?? new Set<string>();
    if (cut > 0) for (const a of s.slice(cut + 1).split(',')) if (a !== '') actions.add(a);
    byResource.set(resource, actions);
  }
  return [...byResource.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .join(' ');
}

/** Parses WWW-Authenticate (possibly several challenges): schemes lowercased, parameter names too. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const tokenChar = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
  let i = 0;
  const n = Math.min(header.length, 8192);
  const skip = (chars: string): void => {
    while (i < n && chars.includes(header[i] ?? '')) i++;
  };
  while (i < n) {
    skip(' \t,');
    const start = i;
    while (i < n && tokenChar.test(header[i] ?? '')) i++;
    if (i === start) {
      i++;
      continue;
    }
    const name = header.slice(start, i).toLowerCase();
    skip(' \t');
    const current = challenges.at(-1);
    if (header[i] === '=' && current) {
      i++;
      skip(' \t');
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\') i++;
          value += header[i] ?? '';
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ' && header[i] !== '\t') i++;
        value = header.slice(vs, i);
      }
      current.params.set(name, value);
    } else if (header[i] === '=') {
      // token68 without a scheme: ignore.
      while (i < n && header[i] !== ',') i++;
    } else {
      challenges.push({ scheme: name, params: new Map() });
    }
  }
  return challenges;
}
