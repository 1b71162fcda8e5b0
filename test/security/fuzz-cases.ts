// Generators and a raw HTTP/1.1 sender for the request fuzz test (fuzz.test.ts).
//
// Requests are written to a plain TCP socket rather than through fetch or node:http: those
// clients refuse (or silently repair) exactly the malformed things worth sending — bad
// Content-Length, duplicate headers, control bytes in the target, half-sent bodies.
// Everything is derived from one seeded PRNG, so a failing run replays exactly.
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast and good enough to pick cases; the same seed gives the same run. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    // Lists may hold undefined on purpose (an absent field).
    return items[this.int(items.length)] as T;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      r -= w;
      if (r < 0) return v;
    }
    const last = items[items.length - 1];
    if (!last) throw new Error('weighted pick from an empty list');
    return last[1];
  }
  hex(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  string(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  bytes(length: number): Buffer {
    const b = Buffer.alloc(length);
    for (let i = 0; i < length; i++) b[i] = this.int(256);
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// What a case is, and what the run knows about the registry under test
// ---------------------------------------------------------------------------------------------

/** Which source address a request comes from (see `sourceAddress` in the test). */
export type Origin = 'admin' | 'stranger';

export interface FuzzCase {
  /** The generator that made it (the per-kind histogram and offender reports use it). */
  readonly kind: string;
  readonly method: string;
  /** The request-target exactly as written on the request line. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  /** A whole request written as-is (framing fuzz); method/target/headers only describe it. */
  readonly raw?: Buffer;
  /** No automatic Content-Length (the case sets its own framing headers, or none). */
  readonly noLength?: boolean;
  /** No automatic Host header. */
  readonly noHost?: boolean;
  /** Half-close after writing: for bodies shorter than declared, so the server sees EOF. */
  readonly endAfterWrite?: boolean;
  readonly origin: Origin;
  /** Forged or garbage credentials on a protected route: must never be answered 2xx/3xx. */
  readonly forged?: boolean;
}

export interface FuzzWorld {
  /** A repository holding a pushed image (the fuzz may change or delete it). */
  readonly repo: string;
  readonly tag: string;
  readonly manifestDigest: string;
  readonly blobDigests: readonly string[];
  /** Paths (from Location) of upload sessions started before the run. */
  readonly uploadPaths: readonly string[];
  readonly adminAuthorization: string;
  readonly adminAccessKeyId: string;
  /** A real bearer token for the admin (GET /token, pull+push on the fuzz repositories). */
  readonly bearer: string;
  /** A real login token (GET /api/v1/authorization-token password). */
  readonly loginToken: string;
  /** A principal and access key made for the run (the fuzz may delete them). */
  readonly principal: string;
  readonly accessKeyId: string;
  /** Put in every path-traversal name, so anything it creates outside the data dir is found. */
  readonly marker: string;
  /** Repository names the fuzz must not touch (the final health check reads them). */
  readonly protectedRepo: string;
  readonly service: string;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over TCP
// ---------------------------------------------------------------------------------------------

export interface RawResponse {
  /** Final (non-1xx) status, undefined when the connection closed without one. */
  readonly status: number | undefined;
  readonly head: string;
  readonly bodyExcerpt: string;
  readonly error?: string;
  readonly timedOut: boolean;
  readonly ms: number;
}

export function encodeRequest(c: FuzzCase, host: string): Buffer {
  if (c.raw) return c.raw;
  const lines = [`${c.method} ${c.target} HTTP/1.1`];
  const has = (name: string) => c.headers.some(([k]) => k.toLowerCase() === name);
  if (!c.noHost && !has('host')) lines.push(`Host: ${host}`);
  for (const [k, v] of c.headers) lines.push(`${k}: ${v}`);
  if (!has('connection')) lines.push('Connection: close');
  if (!c.noLength && !has('content-length') && !has('transfer-encoding') && c.body) lines.push(`Content-Length: ${c.body.byteLength}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return c.body ? Buffer.concat([head, c.body]) : head;
}

/** Splits off 1xx interim responses and parses the status line of the final one. */
function parseResponse(data: Buffer): { status: number | undefined; head: string; body: string } {
  let text = data.toString('latin1');
  for (;;) {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (!m) return { status: undefined, head: text.slice(0, 200), body: '' };
    const status = Number(m[1]);
    const end = text.indexOf('\r\n\r\n');
    const head = end < 0 ? text : text.slice(0, end);
    const body = end < 0 ? '' : text.slice(end + 4);
    if (status >= 100 && status < 200) {
      text = body;
      continue;
    }
    return { status, head, body };
  }
}

export function sendRaw(port: number, localAddress: string, request: Buffer, options: { endAfterWrite?: boolean; timeoutMs: number }): Promise<RawResponse> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let error: string | undefined;
    let timedOut = false;
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, options.timeoutMs);
    // A request the server is still waiting on (short body, no end of headers) gets EOF after a
    // while, so nothing waits for the timeout; a complete one is never cut short before that.
    const idle = setTimeout(() => socket.end(), 2000);
    socket.on('connect', () => {
      socket.write(request);
      if (options.endAfterWrite) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      // Only the start of a response matters; a large body is read and dropped.
      if (kept < 64 * 1024) {
        chunks.push(d);
        kept += d.byteLength;
      }
    });
    // The server may answer (and close) before reading a large body: EPIPE/ECONNRESET here is
    // expected and the answer already read still counts.
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(idle);
      const parsed = parseResponse(Buffer.concat(chunks));
      resolve({
        status: parsed.status,
        head: parsed.head,
        bodyExcerpt: parsed.body.slice(0, 300),
        ...(error !== undefined ? { error } : {}),
        timedOut,
        ms: Date.now() - started,
      });
    });
  });
}

/** Runs tasks with at most `limit` in flight; results keep the input order. */
export async function pool<T, R>(items: readonly T[], limit: number, run: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await run(items[i] as T, i);
    }
  });
  await Promise.all(workers);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Building blocks: names, digests, references, tokens, JSON
// ---------------------------------------------------------------------------------------------

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const sha256hex = (v: string) => createHash('sha256').update(v).digest('hex');

/** Repository names: valid ones, and every spelling of ".." and friends that could escape. */
export function repoNames(w: FuzzWorld): string[] {
  const m = w.marker;
  return [
    w.repo,
    w.repo,
    'fuzz/other',
    'fuzz/new-repo',
    'library/busybox',
    'a',
    `..`,
    `../${m}`,
    `../../${m}`,
    `../../../../../../../../tmp/${m}`,
    `fuzz/../../${m}`,
    `fuzz/./app`,
    `%2e%2e/${m}`,
    `%2e%2e%2f%2e%2e%2f${m}`,
    `%2E%2E/%2E%2E/${m}`,
    `..%2f..%2f${m}`,
    `..%252f..%252f${m}`,
    `fuzz%2Fapp`,
    `fuzz%2fapp`,
    `..%5c..%5c${m}`,
    `..\\..\\${m}`,
    `fuzz\\app`,
    `fuzz/app%00`,
    `fuzz%00/../${m}`,
    `fuzz/app%00.png`,
    `%c0%ae%c0%ae/${m}`,
    `%e2%80%ae${m}`,
    `%ef%bc%8e%ef%bc%8e/${m}`,
    `f%C3%BCzz/app`,
    `fuzz/ṗṗ`,
    `\u202e${m}`,
    `Fuzz/App`,
    `fuzz//app`,
    `fuzz/app/`,
    `/fuzz/app`,
    `-fuzz`,
    `fuzz/.hidden`,
    `fuzz/app.`,
    `fuzz/__proto__`,
    `__proto__`,
    `constructor/prototype`,
    `a`.repeat(256),
    `a`.repeat(4000),
    `${'a/'.repeat(120)}b`,
    `fuzz/${m}`,
    `fuzz%20app`,
    `fuzz/app?x=1`,
    `fuzz/app#frag`,
    `fuzz/app;param`,
    `.`,
    `...`,
    `fuzz/..`,
    `fuzz/.`,
    `_catalog`,
    `blobs/uploads`,
  ];
}

export function digests(w: FuzzWorld, rng: Rng): string[] {
  const hex = rng.hex(64);
  return [
    ...w.blobDigests,
    w.manifestDigest,
    `sha256:${hex}`,
    `sha256:${hex}`,
    'sha256:xyz',
    'sha256:',
    'sha256',
    ':',
    `:${hex}`,
    `sha256:${hex.toUpperCase()}`,
    `SHA256:${hex}`,
    `sha256:${hex.slice(0, 63)}`,
    `sha256:${hex}0`,
    `sha256:${hex}${hex}`,
    `sha512:${hex}`,
    `sha512:${rng.hex(128)}`,
    `sha384:${rng.hex(96)}`,
    `md5:${rng.hex(32)}`,
    `blake3:${hex}`,
    `sha256+b64:${b64url(hex)}`,
    `${'x'.repeat(300)}:${hex}`,
    `sha256:../../${w.marker}`,
    `sha256:..%2f..%2f${w.marker}`,
    `sha256:%2e%2e%2f${w.marker}`,
    `sha256:${hex}%00`,
    `sha256:${hex}%0a`,
    `sha256:${hex.slice(0, 62)}..`,
    `sha256:${hex}/..`,
    `sha256:-1`,
    `sha256:${'0'.repeat(64)}`,
    `sha256:${'f'.repeat(64)}`,
    `sha256:${'g'.repeat(64)}`,
    `sha256:${hex.slice(0, 32)}%00${hex.slice(0, 31)}`,
    `sha256:${hex}:${hex}`,
    `sha256%3a${hex}`,
  ];
}

export function references(w: FuzzWorld, rng: Rng): string[] {
  return [
    w.tag,
    'latest',
    'v1.0',
    `t${rng.int(1000)}`,
    'a'.repeat(128),
    'a'.repeat(129),
    'a'.repeat(5000),
    '-leading-dash',
    '.leading-dot',
    'UPPER',
    'tag%20space',
    'tag%00',
    '..',
    `..%2f..%2f${w.marker}`,
    `%2e%2e`,
    '__proto__',
    'constructor',
    'täg',
    '%F0%9F%90%B3',
    ...digests(w, rng),
  ];
}

/** A JWT signed with a key the registry does not have, or not signed at all. */
function forgedJwts(w: FuzzWorld, rng: Rng): string[] {
  const parts = w.bearer.split('.');
  const [h = '', p = '', s = ''] = parts;
  let payload: Record<string, unknown> = {};
  try {
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    // A token that is not a JWT: forge from scratch.
  }
  const later = Math.floor(Date.now() / 1000) + 10 * 365 * 86400;
  const widened = { ...payload, exp: later, access: [{ type: 'repository', name: '*', actions: ['*'] }, { type: 'registry', name: 'catalog', actions: ['*'] }] };
  const header = (() => {
    try {
      return JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return { alg: 'ES256', typ: 'JWT' };
    }
  })();
  // Never the last character: in base64url it may carry only padding bits, which decoders
  // ignore, so changing it would not change the token at all.
  const flip = (text: string) => {
    if (text.length < 2) return 'A';
    const i = rng.int(text.length - 1);
    const c = text[i] === 'A' ? 'B' : 'A';
    return text.slice(0, i) + c + text.slice(i + 1);
  };
  const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(widened))}.`;
  const noneUpper = `${b64url(JSON.stringify({ alg: 'NONE', typ: 'JWT' }))}.${b64url(JSON.stringify(widened))}.`;
  const hsBody = `${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${b64url(JSON.stringify(widened))}`;
  const hs = `${hsBody}.${createHmac('sha256', '').update(hsBody).digest('base64url')}`;
  const hsKid = `${hsBody}.${createHmac('sha256', String(header.kid ?? 'kid')).update(hsBody).digest('base64url')}`;
  const kidTraversal = `${b64url(JSON.stringify({ ...header, kid: `../../../../${w.marker}` }))}.${p}.${s}`;
  const kidJunk = `${b64url(JSON.stringify({ ...header, kid: { $ne: null }, jku: 'http://127.0.0.1:1/jwks', x5u: 'file:///etc/passwd' }))}.${p}.${s}`;
  return [
    none,
    noneUpper,
    `${none}${s}`,
    hs,
    hsKid,
    `${h}.${b64url(JSON.stringify(widened))}.${s}`,
    `${h}.${flip(p)}.${s}`,
    `${h}.${p}.${flip(s)}`,
    `${h}.${p}.`,
    `${h}.${p}`,
    `${h}..${s}`,
    `.${p}.${s}`,
    `${h}.${p}.${s}.${s}`,
    kidTraversal,
    kidJunk,
    `${b64url('not json')}.${p}.${s}`,
    `${b64url('{"alg":')}.${p}.${s}`,
    `${b64url(JSON.stringify({ alg: 'ES256', crit: ['exp'], typ: 'JWT' }))}.${p}.${s}`,
    `${b64url(JSON.stringify([1, 2, 3]))}.${b64url('null')}.${s}`,
    // Written as text: an object literal's __proto__ sets the prototype and JSON.stringify drops it.
    `${h}.${b64url(`{"__proto__":{"admin":true},${JSON.stringify(payload).slice(1)}`)}.${s}`,
    `${h}.${b64url(`{"__proto__":{"polluted":"jwt"},"sub":"admin"}`)}.${s}`,
    `${h}.${b64url(JSON.stringify({ ...payload, nbf: later, exp: later }))}.${s}`,
    `${h}.${b64url(JSON.stringify({ ...payload, exp: 1 }))}.${s}`,
    `${h}.${b64url(JSON.stringify({ ...payload, exp: 'never', iat: -1 }))}.${s}`,
    `${h}.${b64url(JSON.stringify({ ...payload, use: 'refresh' }))}.${s}`,
    `${'a'.repeat(3000)}.${'b'.repeat(3000)}.${'c'.repeat(3000)}`,
    '...',
    '..',
    '.',
    'a.b.c',
    '%00.%00.%00',
    `${h}.${p}.${s}`.replace(/[A-Za-z]/g, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())),
    `${h}.${p}.${b64url(Buffer.alloc(64))}`,
    `${h}.${p}.${b64url(Buffer.alloc(64, 0xff))}`,
    `${h}.${p}.${b64url(rng.bytes(200))}`,
  ];
}

export interface AuthChoice {
  readonly header: string | undefined;
  readonly origin: Origin;
  /** The header cannot possibly sign anyone in. */
  readonly forged: boolean;
}

/** Credentials that cannot work; sent from stranger addresses, where throttling is harmless. */
export function badAuth(w: FuzzWorld, rng: Rng): AuthChoice {
  const unknownKey = `BKIA${rng.string(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`;
  const jwt = rng.pick(forgedJwts(w, rng));
  const header = rng.pick([
    'Digest username="admin", realm="berth", nonce="x", response="y"',
    'Negotiate YIIB',
    'NTLM TlRMTVNTUAABAAAA',
    'AWS4-HMAC-SHA256 Credential=AKIA/20240101/local/ecr/aws4_request, Signature=00',
    'OAuth oauth_token="x"',
    'Basic',
    'Basic ',
    'Basic !!!not-base64***',
    'Basic ====',
    'Basic %%%',
    `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
    `Basic ${Buffer.from(':').toString('base64')}`,
    `Basic ${Buffer.from(':secret').toString('base64')}`,
    `Basic ${Buffer.from(`${unknownKey}:wrong`).toString('base64')}`,
    `Basic ${Buffer.from(`${unknownKey.toLowerCase()}:wrong`).toString('base64')}`,
    `Basic ${Buffer.from('user:password').toString('base64')}`,
    `Basic ${Buffer.from(`BERTH:${jwt}`).toString('base64')}`,
    `Basic ${Buffer.from(`${w.adminAccessKeyId}\0:x`).toString('base64')}`,
    `Basic ${Buffer.from('BKIA\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9:s\u00e9cret').toString('base64')}`,
    `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc0, 0x80]).toString('base64')}`,
    `Basic ${'A'.repeat(12_001)}`,
    `Basic ${Buffer.from(`${unknownKey}:${'s'.repeat(8000)}`).toString('base64')}`,
    'Bearer',
    'Bearer ',
    `Bearer ${jwt}`,
    `Bearer ${jwt}`,
    `Bearer ${jwt}`,
    `Bearer ${jwt}`,
    `bearer ${jwt}`,
    `Bearer  ${jwt} trailing`,
    `Bearer ${'x'.repeat(15_000)}`,
    `Bearer ${b64url(rng.bytes(40))}`,
    `${w.bearer}`,
    '\u00e9\u00e9\u00e9',
    'Basic\tYWRtaW46YWRtaW4=',
  ]);
  return { header, origin: 'stranger', forged: true };
}

/** Who a request claims to be: mostly the admin (to reach the handlers), sometimes not. */
export function pickAuth(w: FuzzWorld, rng: Rng): AuthChoice {
  return rng.weighted<() => AuthChoice>([
    [70, () => ({ header: w.adminAuthorization, origin: 'admin', forged: false })],
    [10, () => ({ header: `Bearer ${w.bearer}`, origin: 'admin', forged: false })],
    [2, () => ({ header: `Basic ${Buffer.from(`BERTH:${w.loginToken}`).toString('base64')}`, origin: 'admin', forged: false })],
    [8, () => ({ header: undefined, origin: 'admin', forged: false })],
    [10, () => badAuth(w, rng)],
  ])();
}

/** Deep nesting without building a deep object (the generator must not overflow either). */
function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A malformed JSON body, given a plausible object to damage. */
export function badJson(rng: Rng, plausible: Record<string, unknown>): Buffer {
  const text = JSON.stringify(plausible);
  const keys = Object.keys(plausible);
  const key = keys.length > 0 ? rng.pick(keys) : 'x';
  const junkValue = rng.pick<unknown>([
    null,
    true,
    0,
    -1,
    1e308,
    -0,
    2 ** 53 + 1,
    '',
    ' ',
    'x'.repeat(70_000),
    [],
    [1, 2],
    {},
    { $ne: null },
    { __proto__: null },
    '\u0000',
    '\ud800',
    '../../../etc/passwd',
    '${jndi:ldap://127.0.0.1:1/a}',
    "'; DROP TABLE repositories; --",
    '%s%s%s%n',
    '*'.repeat(2000),
  ]);
  const variant = rng.int(24);
  switch (variant) {
    case 0:
      return Buffer.from(text.slice(0, rng.int(Math.max(1, text.length))));
    case 1:
      return Buffer.from(JSON.stringify({ ...plausible, [key]: junkValue }));
    case 2:
      return Buffer.from(JSON.stringify([plausible]));
    case 3:
      return Buffer.from(rng.pick(['null', 'true', '0', '"string"', '[]', '""', '1e999', '-', 'NaN', 'Infinity', 'undefined', '{}', '{,}', '{"a":1,}', "{'a':1}"]));
    case 4:
      return Buffer.from(deepJson(rng.pick([1000, 10_000, 100_000, 300_000]), 'array'));
    case 5:
      return Buffer.from(deepJson(rng.pick([1000, 10_000, 100_000]), 'object'));
    case 6:
      return Buffer.from(`{"__proto__":{"polluted":"yes","isAdmin":true},${text.slice(1)}`);
    case 7:
      return Buffer.from(`{"constructor":{"prototype":{"polluted":"yes"}},${text.slice(1)}`);
    case 8:
      return Buffer.from(text.replace(/"([A-Za-z]+)":/, '"__proto__":'));
    case 9:
      return Buffer.from(JSON.stringify({ ...plausible, tags: { __proto__: 'x', constructor: 'y', prototype: 'z' } }).replace('"tags":{}', '"tags":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'));
    case 10:
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 11:
      return Buffer.from(text, 'utf16le');
    case 12:
      return Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from('}')]);
    case 13:
      return Buffer.from(`${text}${text}`);
    case 14:
      return Buffer.from(`${text}\u0000`);
    case 15:
      return Buffer.from(JSON.stringify({ ...plausible, [key]: 'x'.repeat(rng.pick([10_000, 300_000, 900_000])) }));
    case 16:
      return Buffer.from(`{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`);
    case 17:
      return Buffer.from(`{${Array.from({ length: 2000 }, () => `"${key}":1`).join(',')}}`);
    case 18:
      return Buffer.from(JSON.stringify({ ...plausible, [key]: { toString: 'x', valueOf: 'y', hasOwnProperty: 'z' } }));
    case 19:
      return Buffer.from(JSON.stringify({ ...plausible, hasOwnProperty: 1, toString: 2, __defineGetter__: 3 }));
    case 20:
      return Buffer.from(JSON.stringify(Object.fromEntries(keys.map((k) => [k, [plausible[k], plausible[k]]]))));
    case 21:
      return Buffer.from(`{"${key}":"\\ud800\\udfff\\u0000\\uffff"}`);
    case 22:
      return rng.bytes(rng.pick([0, 1, 16, 1000]));
    default:
      return Buffer.from(text.replace(/:/g, rng.pick([':[', ':{', ': ,', '::'])));
  }
}

// ---------------------------------------------------------------------------------------------
// Header junk
// ---------------------------------------------------------------------------------------------

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=nope',
  'application/JSON',
  'application/json;;;',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.oci.image.manifest.v1+json; charset=utf-8; x=y',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'text/plain',
  'text/html',
  '*/*',
  '',
  ';',
  'application/',
  '/json',
  'x'.repeat(2000),
  'application/json\u00e9',
];

function junkHeaders(rng: Rng): [string, string][] {
  const out: [string, string][] = [];
  const n = rng.int(3);
  for (let i = 0; i < n; i++) {
    out.push(
      rng.pick<[string, string]>([
        ['Accept', rng.pick(['*/*', 'application/vnd.oci.image.index.v1+json;q=0.5, */*;q=abc', '', ',,,', 'x'.repeat(4000), 'application/vnd.oci.image.manifest.v1+json'])],
        ['If-Match', rng.pick(['"abc"', '*', 'W/"1"', '99999999999999999999', '-1', '1.5', '', '"1", "2"', '0', '1', 'null', '"\u00e9"'])],
        ['If-None-Match', rng.pick(['*', '"x"', 'W/""', ''])],
        ['Range', rng.pick(['bytes=0-10', 'bytes=10-0', 'bytes=-5', 'bytes=5-', 'bytes=0-0,1-1,2-2', 'bytes=abc', 'bytes=-', 'bytes=99999999999999999999-', 'items=0-1', 'bytes=0-10,', '', 'bytes=0-1'.repeat(300)])],
        ['X-Request-Id', rng.pick(['../../etc', 'x'.repeat(200), '\u00e9', 'ok-id', ''])],
        ['X-Forwarded-For', rng.pick(['1.2.3.4', 'garbage', '127.0.0.1, 10.0.0.1', ''])],
        ['Transfer-Encoding', rng.pick(['identity', 'gzip', 'chunked, gzip'])],
        ['Content-Encoding', rng.pick(['gzip', 'br', 'deflate', 'x'])],
        ['Expect', rng.pick(['100-continue', '200-ok', ''])],
        ['Cookie', rng.pick(['a=b', '__proto__=x', 'x'.repeat(3000)])],
        ['Docker-Content-Digest', rng.pick(['sha256:xyz', ''])],
        ['Origin', 'http://evil.example'],
        ['Host', rng.pick(['evil.example', '"quote', 'a b', '[::1', '127.0.0.1:99999', 'x'.repeat(1000), ''])],
      ]),
    );
  }
  return out;
}

function withAuth(headers: [string, string][], auth: AuthChoice): [string, string][] {
  return auth.header === undefined ? headers : [['Authorization', auth.header], ...headers];
}

function qs(params: Record<string, string>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

// ---------------------------------------------------------------------------------------------
// Generators, one per area
// ---------------------------------------------------------------------------------------------

type Gen = (w: FuzzWorld, rng: Rng) => FuzzCase;

function ociCase(kind: string, w: FuzzWorld, rng: Rng, method: string, path: string, extra: [string, string][] = [], body?: Buffer, more: Partial<FuzzCase> = {}): FuzzCase {
  const auth = pickAuth(w, rng);
  const headers = withAuth([...extra, ...(rng.chance(0.2) ? junkHeaders(rng) : [])], auth);
  return { kind, method, target: path, headers, ...(body ? { body } : {}), origin: auth.origin, forged: auth.forged, ...more };
}

const blobGen: Gen = (w, rng) => {
  const name = rng.pick(repoNames(w));
  const digest = rng.pick(digests(w, rng));
  const method = rng.weighted([
    [5, 'GET'],
    [3, 'HEAD'],
    [2, 'DELETE'],
    [1, 'PUT'],
    [1, 'OPTIONS'],
  ]);
  const headers: [string, string][] = rng.chance(0.5) ? [['Range', rng.pick(['bytes=0-10', 'bytes=10-0', 'bytes=-5', 'bytes=5-', 'bytes=0-0,1-1', 'bytes=abc', 'bytes=-', 'bytes=99999999999999999999-', 'items=0-1', 'bytes=0-', 'bytes= 0-1', 'bytes=-0', 'bytes=0-18446744073709551616'])]] : [];
  return ociCase('oci.blob', w, rng, method, `/v2/${name}/blobs/${digest}`, headers);
};

const uploadGen: Gen = (w, rng) => {
  const name = rng.chance(0.6) ? w.repo : rng.pick(repoNames(w));
  const fakeId = rng.pick(['00000000-0000-0000-0000-000000000000', rng.string(36), '..', `..%2f..%2f${w.marker}`, `%2e%2e%2f${w.marker}`, 'a'.repeat(200), 'x%00y', `..\\${w.marker}`, '__proto__', '']);
  const sessionPath = (): string => {
    if (rng.chance(0.6) && w.uploadPaths.length > 0) {
      const p = rng.pick(w.uploadPaths);
      // Sometimes the real session under another repository's name.
      return rng.chance(0.2) ? p.replace(`/v2/${w.repo}/`, `/v2/${rng.pick(repoNames(w))}/`) : p;
    }
    return `/v2/${name}/blobs/uploads/${fakeId}`;
  };
  const body = rng.pick([Buffer.alloc(0), rng.bytes(10), rng.bytes(1000), Buffer.from('hello')]);
  const digest = rng.pick(digests(w, rng));
  const range = rng.pick(['0-9', '0-0', '10-5', '-5-10', '0-', 'bytes=0-9', 'bytes 0-9/10', 'a-b', '99999999999999999999-99999999999999999999', '0-18446744073709551615', '-', '', '1-10', '5-4', `0-${body.byteLength - 1}`, `0-${body.byteLength}`]);
  const len = rng.pick([String(body.byteLength), '-1', 'abc', '1e3', '0x10', ` ${body.byteLength}`, `${body.byteLength}, ${body.byteLength}`, '99999999999999999999', '0']);
  const variant = rng.int(9);
  switch (variant) {
    case 0:
      return ociCase('oci.upload.start', w, rng, 'POST', `/v2/${name}/blobs/uploads/`, rng.chance(0.3) ? [['Content-Type', rng.pick(contentTypes)]] : []);
    case 1: {
      const q = rng.pick<Record<string, string>>([
        { mount: digest, from: rng.pick(repoNames(w)) },
        { mount: digest },
        { from: w.repo },
        { digest },
        { digest, mount: digest, from: w.repo },
        { mount: '', from: '' },
        { 'mount[]': digest },
        { digest: `${digest}&digest=${digest}` },
      ]);
      return ociCase('oci.upload.start', w, rng, 'POST', `/v2/${name}/blobs/uploads/${qs(q)}`, [['Content-Type', 'application/octet-stream']], rng.chance(0.5) ? body : undefined);
    }
    case 2:
      return ociCase('oci.upload.patch', w, rng, 'PATCH', sessionPath(), [
        ['Content-Type', rng.pick(['application/octet-stream', ...contentTypes])],
        ...(rng.chance(0.7) ? ([['Content-Range', range]] as [string, string][]) : []),
      ], body);
    case 3:
      return ociCase('oci.upload.patch', w, rng, 'PATCH', sessionPath(), [['Content-Length', len], ['Content-Range', range]], body, { noLength: true, endAfterWrite: true });
    case 4: {
      const q = rng.pick<Record<string, string>>([{ digest }, {}, { digest: '' }, { digest: `${digest}&digest=sha256:${rng.hex(64)}` }, { 'digest[0]': digest }, { digest: encodeURIComponent(digest) }]);
      const session = sessionPath();
      return ociCase('oci.upload.finish', w, rng, 'PUT', `${session}${session.includes('?') ? '&' : '?'}${qs(q).slice(1)}`, [['Content-Type', 'application/octet-stream'], ...(rng.chance(0.3) ? ([['Content-Range', range]] as [string, string][]) : [])], body);
    }
    case 5:
      return ociCase('oci.upload.status', w, rng, rng.pick(['GET', 'HEAD']), sessionPath());
    case 6:
      return ociCase('oci.upload.cancel', w, rng, 'DELETE', sessionPath());
    case 7: {
      // Chunked body, sometimes malformed chunk framing.
      const chunked = rng.pick([
        `5\r\nhello\r\n0\r\n\r\n`,
        `zz\r\nhello\r\n0\r\n\r\n`,
        `5\r\nhel`,
        `-1\r\nx\r\n0\r\n\r\n`,
        `FFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n`,
        `5;ext="\u00e9"\r\nhello\r\n0\r\n\r\n`,
        `5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n`,
      ]);
      const te = rng.pick<[string, string][]>([[['Transfer-Encoding', 'chunked']], [['Transfer-Encoding', 'chunked'], ['Content-Length', '5']], [['Transfer-Encoding', 'chunked, chunked']], [['Transfer-Encoding', 'xchunked']]]);
      return ociCase('oci.upload.chunked', w, rng, rng.pick(['PATCH', 'PUT']), `${sessionPath()}${qs({ digest })}`, te, Buffer.from(chunked, 'latin1'), { noLength: true, endAfterWrite: true });
    }
    default:
      return ociCase('oci.upload.monolithic', w, rng, 'POST', `/v2/${name}/blobs/uploads/${qs({ digest: rng.chance(0.5) ? `sha256:${createHash('sha256').update(body).digest('hex')}` : digest })}`, [['Content-Type', 'application/octet-stream']], body);
  }
};

function manifestBody(w: FuzzWorld, rng: Rng): { body: Buffer; contentType: string } {
  const d = rng.pick(digests(w, rng));
  const desc = (mediaType: string) => ({ mediaType, digest: rng.chance(0.7) ? rng.pick(w.blobDigests) : d, size: rng.pick([0, 1, -1, 1.5, 2 ** 63, '10', null, 32]) });
  const ct = rng.pick(contentTypes);
  const base: Record<string, unknown> = rng.pick([
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.image.config.v1+json'), layers: [desc('application/vnd.oci.image.layer.v1.tar+gzip')] },
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...desc('application/vnd.oci.image.manifest.v1+json'), platform: { architecture: 'amd64', os: 'linux' } }] },
    { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: desc('application/vnd.docker.container.image.v1+json'), layers: [] },
    { schemaVersion: 1, name: w.repo, tag: 'x', fsLayers: [], history: [], signatures: [] },
    { schemaVersion: 2, config: desc('application/vnd.oci.image.config.v1+json'), layers: [], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: 1 }, artifactType: rng.pick(['x/y', '', '../..', 'a'.repeat(5000)]) },
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.empty.v1+json'), layers: Array.from({ length: rng.pick([0, 1, 1000, 20_000]) }, () => desc('x')) },
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: Array.from({ length: rng.pick([0, 5000]) }, () => desc('application/vnd.oci.image.manifest.v1+json')) },
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: desc('application/vnd.oci.image.config.v1+json'), layers: [], annotations: { __proto__: 'x', a: 'b'.repeat(100_000) } },
  ]);
  const body = rng.chance(0.6) ? badJson(rng, base) : Buffer.from(JSON.stringify(base));
  return { body, contentType: ct };
}

const manifestGen: Gen = (w, rng) => {
  const name = rng.chance(0.5) ? w.repo : rng.pick(repoNames(w));
  const ref = rng.pick(references(w, rng));
  const method = rng.weighted([
    [4, 'GET'],
    [2, 'HEAD'],
    [6, 'PUT'],
    [2, 'DELETE'],
  ]);
  const accept: [string, string][] = rng.chance(0.5) ? [['Accept', rng.pick([...contentTypes, 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json'])]] : [];
  if (method !== 'PUT') return ociCase('oci.manifest', w, rng, method, `/v2/${name}/manifests/${ref}`, accept);
  const { body, contentType } = manifestBody(w, rng);
  const headers: [string, string][] = rng.chance(0.9) ? [['Content-Type', contentType]] : [];
  if (rng.chance(0.1)) {
    // Declares more than it sends, then half-closes: a truncated upload.
    return ociCase('oci.manifest.truncated', w, rng, method, `/v2/${name}/manifests/${ref}`, [...headers, ['Content-Length', String(body.byteLength + rng.pick([1, 1000, 5 * 1024 ** 3]))]], body, { noLength: true, endAfterWrite: true });
  }
  return ociCase('oci.manifest.put', w, rng, method, `/v2/${name}/manifests/${ref}`, headers, body);
};

const listingGen: Gen = (w, rng) => {
  const name = rng.pick(repoNames(w));
  const n = rng.pick(['-1', '0', '1', 'abc', '1e309', '99999999999', '1.5', '', '00001', '0x10', '%00', '1&n=2', 'NaN', '-0', String(2 ** 53)]);
  const last = rng.pick(['', 'a', '..', `%2e%2e`, '\u00e9', 'z'.repeat(5000), w.tag, '%ff', '%', '%zz']);
  const variant = rng.int(4);
  if (variant === 0) return ociCase('oci.tags', w, rng, 'GET', `/v2/${name}/tags/list${qs(rng.chance(0.7) ? { n, last } : { n })}`);
  if (variant === 1) return ociCase('oci.catalog', w, rng, rng.pick(['GET', 'GET', 'POST', 'DELETE']), `/v2/_catalog${qs(rng.chance(0.7) ? { n, last } : {})}`);
  const digest = rng.pick(digests(w, rng));
  const artifactType = rng.pick(['application/vnd.example', '', '%00', 'x'.repeat(3000), 'a/b&artifactType=c/d', '*/*']);
  return ociCase('oci.referrers', w, rng, 'GET', `/v2/${name}/referrers/${digest}${rng.chance(0.5) ? qs({ artifactType }) : ''}`);
};

const ociPathGen: Gen = (w, rng) => {
  const name = rng.pick(repoNames(w));
  const path = rng.pick([
    `/v2/`,
    `/v2`,
    `/v2//`,
    `/v2/${name}`,
    `/v2/${name}/`,
    `/v2/${name}/blobs/`,
    `/v2/${name}/blobs/uploads`,
    `/v2/${name}/manifests/`,
    `/v2/${name}/tags`,
    `/v2/${name}/tags/list/extra`,
    `/v2/${name}/referrers/`,
    `/v2/../${w.marker}`,
    `/v2/%2e%2e/%2e%2e/${w.marker}`,
    `/v2/${name}/blobs/uploads/../../../../${w.marker}`,
    `/V2/`,
    `/v2/_catalog/extra`,
    `//v2/`,
    `/v2/?${'a=1&'.repeat(3000)}`,
    `/v2/${name}/manifests/latest?${'x'.repeat(7000)}`,
    `/./v2/`,
    `/v2/.%2e/`,
    `/v2/${name}/manifests/latest#frag`,
    `/%76%32/`,
  ]);
  const method = rng.pick(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'SEARCH', 'CONNECT']);
  if (method === 'CONNECT') return ociCase('oci.path', w, rng, method, '127.0.0.1:1', []);
  return ociCase('oci.path', w, rng, method, path, [], rng.chance(0.3) ? rng.bytes(64) : undefined);
};

/** The management API: every route with junk parameters, query strings and bodies. */
const apiGen: Gen = (w, rng) => {
  const enc = (s: string) => (rng.chance(0.7) ? encodeURIComponent(s) : s);
  // Never the admin: deleting or changing it would lock the rest of the run out.
  const principal = rng.pick([w.principal, 'fuzz-user', 'nobody', 'Admin2', '..', `..%2f${w.marker}`, '__proto__', 'constructor', 'a'.repeat(65), '9starts-with-digit', 'x y', '%00', '\u00e9']);
  const keyId = rng.pick([w.accessKeyId, `BKIA${rng.string(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, 'BKIA', 'bkia', '..', `..%2f${w.marker}`, '__proto__', 'x'.repeat(300)]);
  const repoName = rng.pick(repoNames(w).filter((n) => n !== w.protectedRepo));
  const policyName = rng.pick(['pull', 'p', '..', '__proto__', 'x'.repeat(129), `..%2f${w.marker}`, 'ok.name-1']);
  const arn = `arn:berth:ecr:local:000000000000:repository/${rng.pick(['fuzz/app', '*', 'fuzz/*', '**', '*'.repeat(200), `${'*a'.repeat(40)}b`])}`;
  const stmt = () => ({
    Sid: rng.pick(['s', '', 'x'.repeat(500), '__proto__']),
    // Allow only: a valid Deny that happened to cover the admin would end the run early.
    Effect: rng.pick(['Allow', 'allow', 'Permit', '', 1]),
    Principal: rng.pick<unknown>(['*', { AWS: '*' }, { Berth: ['arn:berth:iam::000000000000:principal/fuzz-user'] }, { AWS: [] }, 42, null, { __proto__: 'x' }]),
    Action: rng.pick<unknown>(['ecr:BatchGetImage', 'ecr:*', '*', ['ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], 'nope', '', [], `ecr:${'*'.repeat(300)}`, 7]),
    Resource: rng.pick<unknown>([arn, '*', [arn, arn], '', `arn:${'a:'.repeat(500)}`, undefined]),
    Condition: rng.pick<unknown>([
      undefined,
      { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128', '300.1.1.1/99', 'x'] } },
      { StringLike: { 'aws:PrincipalArn': `${'*a'.repeat(50)}b` } },
      { DateGreaterThan: { 'aws:CurrentTime': 'yesterday' } },
      { Bogus: { x: 'y' } },
      { StringEquals: { __proto__: 'x' } },
      { NumericLessThan: { 'x:y': 1e309 } },
      'not-an-object',
    ]),
  });
  const policyText = (): string =>
    rng.weighted<() => string>([
      [3, () => JSON.stringify({ Version: rng.pick(['2012-10-17', '2008-10-17', '', 'x']), Statement: Array.from({ length: rng.pick([0, 1, 2, 200]) }, stmt) })],
      [1, () => JSON.stringify({ Version: '2012-10-17', Statement: stmt() })],
      [2, () => badJson(rng, { Version: '2012-10-17', Statement: [stmt()] }).toString('utf8')],
      [1, () => deepJson(rng.pick([100, 2000, 5000]), rng.pick(['array', 'object'] as const))],
      [1, () => `{"Version":"2012-10-17","Statement":[${Array.from({ length: 500 }, () => '{}').join(',')}]}`],
      [1, () => rng.pick(['', ' ', 'null', '[]', '{}', '"x"', 'x'.repeat(10_241)])],
    ])();
  const lifecycleText = (): string =>
    rng.weighted<() => string>([
      [
        3,
        () =>
          JSON.stringify({
            rules: Array.from({ length: rng.pick([0, 1, 3, 300]) }, (_, i) => ({
              rulePriority: rng.pick<unknown>([i + 1, 0, -1, 1.5, 2 ** 53, '1', null]),
              description: rng.pick(['d', 'x'.repeat(3000)]),
              selection: {
                tagStatus: rng.pick<unknown>(['tagged', 'untagged', 'any', 'TAGGED', '', 3]),
                tagPatternList: rng.pick<unknown>([undefined, ['*'], [`${'*a'.repeat(60)}b`], ['*'.repeat(500)], [''], 'prod*']),
                tagPrefixList: rng.pick<unknown>([undefined, ['v'], [''], 'v']),
                countType: rng.pick<unknown>(['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'nope', '']),
                countUnit: rng.pick<unknown>([undefined, 'days', 'hours', 'years']),
                countNumber: rng.pick<unknown>([1, 0, -1, 1e309, 2 ** 53, '5', null]),
              },
              action: rng.pick<unknown>([{ type: 'expire' }, { type: 'transition' }, {}, null]),
            })),
          }),
      ],
      [2, () => badJson(rng, { rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] }).toString('utf8')],
      [1, () => deepJson(rng.pick([100, 5000]), 'array')],
    ])();
  const imageIds = () =>
    rng.pick<unknown>([
      [{ imageTag: w.tag }],
      [{ imageDigest: rng.pick(digests(w, rng)) }],
      [{ imageTag: rng.pick(references(w, rng)), imageDigest: rng.pick(digests(w, rng)) }],
      Array.from({ length: rng.pick([0, 101, 2000]) }, () => ({ imageTag: rng.string(8) })),
      [{}],
      [null],
      'x',
      { __proto__: [] },
    ]);

  const routes: { method: string; path: string; body?: () => Record<string, unknown>; query?: () => Record<string, string> }[] = [
    { method: 'GET', path: '/api/v1/repositories', query: () => ({ maxResults: rng.pick(['-1', '0', '1', '1001', 'abc', '1e309', '']), nextToken: rng.pick(['', 'garbage', '!!!', b64url('{"x":1}'), b64url('\u0000'), 'x'.repeat(5000)]), prefix: rng.pick(['', 'fuzz', '%', '_', '..', '\u00e9', '*']) }) },
    { method: 'POST', path: '/api/v1/repositories', body: () => ({ repositoryName: rng.chance(0.5) ? `fuzz/gen-${rng.string(6)}` : repoName, imageTagMutability: rng.pick<unknown>(['MUTABLE', 'IMMUTABLE', 'both', 1, null]), tags: rng.pick<unknown>([{}, { env: 'x' }, [], { ['k'.repeat(300)]: 'v' }, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'v']))]), encryptionConfiguration: { encryptionType: 'KMS' }, scanOnPush: 'yes' }) },
    { method: 'GET', path: `/api/v1/repositories/${enc(repoName)}` },
    { method: 'PATCH', path: `/api/v1/repositories/${enc(repoName)}`, body: () => ({ imageTagMutability: rng.pick<unknown>(['MUTABLE', 'IMMUTABLE', 'x', null]), tags: rng.pick<unknown>([{ a: 'b' }, null, [], 'x']), repositoryName: 'renamed' }) },
    { method: 'DELETE', path: `/api/v1/repositories/${enc(repoName)}${qs(rng.pick<Record<string, string>>([{}, { force: 'true' }, { force: 'maybe' }, { force: '1' }, { force: 'true&force=false' }]))}` },
    { method: 'GET', path: `/api/v1/repositories/${enc(repoName)}/policy` },
    { method: 'PUT', path: `/api/v1/repositories/${enc(repoName)}/policy`, body: () => ({ policyText: rng.chance(0.9) ? policyText() : rng.pick<unknown>([1, null, [], {}]) }) },
    { method: 'DELETE', path: `/api/v1/repositories/${enc(repoName)}/policy` },
    { method: 'GET', path: '/api/v1/registry/policy' },
    { method: 'PUT', path: '/api/v1/registry/policy', body: () => ({ policyText: rng.chance(0.9) ? policyText() : rng.pick<unknown>([1, null, [], {}]) }) },
    { method: 'DELETE', path: '/api/v1/registry/policy' },
    { method: 'GET', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy` },
    { method: 'PUT', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy`, body: () => ({ lifecyclePolicyText: rng.chance(0.9) ? lifecycleText() : rng.pick<unknown>([1, null, [], {}]) }) },
    { method: 'DELETE', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy` },
    { method: 'POST', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy/preview`, body: () => (rng.chance(0.7) ? { lifecyclePolicyText: lifecycleText() } : {}) },
    { method: 'POST', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy/execute`, body: () => ({}) },
    { method: 'GET', path: `/api/v1/repositories/${enc(repoName)}/lifecycle-policy/expirations${qs({ maxResults: rng.pick(['-5', '10', 'x']), nextToken: rng.pick(['', '!!', 'abc']) })}` },
    { method: 'GET', path: `/api/v1/repositories/${enc(repoName)}/images${qs({ tagStatus: rng.pick(['TAGGED', 'UNTAGGED', 'ANY', 'x', '']), maxResults: rng.pick(['1', '-1', 'x', '100000']), nextToken: rng.pick(['', 'x', b64url('{}')]) })}` },
    { method: 'POST', path: `/api/v1/repositories/${enc(repoName)}/images/batch-get`, body: () => ({ imageIds: imageIds(), acceptedMediaTypes: rng.pick<unknown>([undefined, ['x'], 'y']) }) },
    { method: 'POST', path: `/api/v1/repositories/${enc(repoName)}/images/batch-delete`, body: () => ({ imageIds: imageIds() }) },
    { method: 'GET', path: `/api/v1/repository-creation-templates/${enc(rng.pick(['fuzz', '..', 'ROOT', 'x'.repeat(300), `..%2f${w.marker}`]))}` },
    { method: 'POST', path: '/api/v1/repository-creation-templates', body: () => ({ prefix: rng.pick(['fuzz-t', '..', '', 'ROOT', 'x'.repeat(300)]), appliedFor: rng.pick<unknown>([['PULL_THROUGH_CACHE'], ['CREATE_ON_PUSH'], 'x', []]), repositoryPolicy: policyText(), lifecyclePolicy: lifecycleText() }) },
    { method: 'GET', path: '/api/v1/principals', query: () => ({ maxResults: rng.pick(['-1', '5', 'x']), prefix: rng.pick(['', 'a', '%']) }) },
    { method: 'POST', path: '/api/v1/principals', body: () => ({ principalName: rng.chance(0.4) ? `fuzz-${rng.string(6)}` : principal, type: rng.pick<unknown>(['USER', 'SERVICE_ACCOUNT', 'ROOT', 1]), description: rng.pick(['', 'x'.repeat(1001), '\u0000']), tags: rng.pick<unknown>([{}, { a: 'b' }, []]) }) },
    { method: 'GET', path: `/api/v1/principals/${enc(principal)}` },
    { method: 'PATCH', path: `/api/v1/principals/${enc(principal)}`, body: () => ({ description: rng.pick<unknown>(['d', 1, null]), principalName: 'admin', type: 'SERVICE_ACCOUNT' }) },
    { method: 'DELETE', path: `/api/v1/principals/${enc(principal)}${qs(rng.pick<Record<string, string>>([{}, { force: 'true' }, { force: 'x' }]))}` },
    { method: 'GET', path: `/api/v1/principals/${enc(principal)}/policies` },
    { method: 'GET', path: `/api/v1/principals/${enc(principal)}/policies/${enc(policyName)}` },
    { method: 'PUT', path: `/api/v1/principals/${enc(principal)}/policies/${enc(policyName)}`, body: () => ({ policyText: rng.chance(0.9) ? policyText() : rng.pick<unknown>([1, null, [], {}]) }) },
    { method: 'DELETE', path: `/api/v1/principals/${enc(principal)}/policies/${enc(policyName)}` },
    { method: 'GET', path: '/api/v1/access-keys', query: () => ({ prefix: rng.pick(['', 'BKIA', '%']), maxResults: rng.pick(['1', '-1']) }) },
    { method: 'POST', path: '/api/v1/access-keys', body: () => ({ principalName: rng.chance(0.3) ? 'admin' : principal, status: rng.pick<unknown>(['Active', 'Inactive', 'x', 1]), description: rng.pick(['', 'x'.repeat(257)]) }) },
    { method: 'GET', path: `/api/v1/access-keys/${enc(keyId)}` },
    { method: 'PATCH', path: `/api/v1/access-keys/${enc(keyId)}`, body: () => ({ status: rng.pick<unknown>(['Active', 'Inactive', 'Deleted', null]), principalName: 'admin' }) },
    { method: 'DELETE', path: `/api/v1/access-keys/${enc(keyId)}` },
    { method: 'POST', path: `/api/v1/access-keys/${enc(keyId)}/rotate` },
    { method: 'POST', path: '/api/v1/simulate-policy', body: () => ({ principalName: rng.pick<unknown>([undefined, principal, 'admin', 1]), action: rng.pick(['ecr:BatchGetImage', 'x', 'ecr:', '*:*', 'a'.repeat(200)]), resource: rng.pick([arn, '', 'x'.repeat(3000), 'arn:berth:ecr:local:000000000000:repository/', 'arn:berth:ecr:local:999999999999:repository/x']), context: rng.pick<unknown>([undefined, { 'aws:SourceIp': '10.0.0.1' }, { 'aws:CurrentTime': 'x' }, { 'aws:SourceIp': Array.from({ length: 51 }, () => 'x') }, { __proto__: 'x' }, { bad: 'key' }]) }) },
    { method: 'GET', path: '/api/v1/authorization-token' },
    { method: 'POST', path: '/api/v1/authorization-token' },
    { method: 'GET', path: '/api/v1/openapi.json' },
    { method: 'GET', path: rng.pick(['/api/v1/', '/api/v1', '/api/v2/repositories', '/api/v1/../v2/', `/api/v1/%2e%2e/${w.marker}`, '/api/v1/repositories/', '/api/v1//repositories', '/api/v1/nope']) },
  ];
  const route = rng.pick(routes);
  const auth = pickAuth(w, rng);
  const query = route.query ? qs(Object.fromEntries(Object.entries(route.query()).filter(() => rng.chance(0.6)))) : '';
  const headers: [string, string][] = [];
  let body: Buffer | undefined;
  if (route.body && rng.chance(0.95)) {
    const plausible = route.body();
    body = rng.chance(0.45) ? badJson(rng, plausible) : Buffer.from(JSON.stringify(plausible));
    headers.push(['Content-Type', rng.chance(0.75) ? 'application/json' : rng.pick(contentTypes)]);
  } else if (rng.chance(0.1)) {
    body = rng.bytes(20);
    headers.push(['Content-Type', rng.pick(contentTypes)]);
  }
  if (rng.chance(0.25)) headers.push(['If-Match', rng.pick(['"abc"', '*', 'W/"1"', '99999999999999999999', '-1', '1.5', '', '"1"', '1', '0', 'null', '1, 2', '"2"'])]);
  if (rng.chance(0.15)) headers.push(...junkHeaders(rng));
  return { kind: `api.${route.method}`, method: route.method, target: `${route.path}${query}`, headers: withAuth(headers, auth), ...(body ? { body } : {}), origin: auth.origin, forged: auth.forged };
};

/** The token endpoint: GET with query junk, the OAuth2 POST form with grant junk. */
const tokenGen: Gen = (w, rng) => {
  const scope = () =>
    rng.pick([
      `repository:${w.repo}:pull,push`,
      `repository:${w.repo}:pull`,
      `repository:${w.repo}:*`,
      `repository:${w.repo}:delete`,
      'registry:catalog:*',
      `repository:../${w.marker}:pull`,
      `repository:${encodeURIComponent(`../${w.marker}`)}:pull`,
      'repository:a:b:c:pull',
      'repository::pull',
      'repository:x:',
      ':::',
      'repository',
      `repository:${'a'.repeat(5000)}:pull`,
      `repository:x:${'pull,'.repeat(1000)}push`,
      'repository:x:pull%00',
      'repository:x:PULL',
      'repository(plugin):x:pull',
      `${Array.from({ length: 300 }, (_, i) => `repository:r${i}:pull`).join('&scope=')}`,
      '',
      '%',
    ]);
  const service = rng.pick([w.service, w.service, '', 'other', 'berth:999999999999', 'x'.repeat(1000), '%00', `${w.service}&service=other`]);
  if (rng.chance(0.5)) {
    const auth = rng.chance(0.8) ? pickAuth(w, rng) : badAuth(w, rng);
    const q: Record<string, string> = {};
    if (rng.chance(0.8)) q.service = service;
    if (rng.chance(0.8)) q.scope = scope();
    if (rng.chance(0.15)) q.offline_token = rng.pick(['true', 'false', 'x']);
    if (rng.chance(0.1)) q.account = rng.pick(['admin', '..', 'x'.repeat(300)]);
    return { kind: 'token.get', method: rng.chance(0.95) ? 'GET' : rng.pick(['HEAD', 'PUT', 'DELETE']), target: `/token${qs(q)}`, headers: withAuth([], auth), origin: auth.origin, forged: false };
  }
  // Password grants: only unknown key ids or tokens, from stranger addresses (a wrong secret for
  // the admin's own key would lock it out for the rest of the run).
  const form: Record<string, string> = {};
  form.grant_type = rng.pick(['password', 'password', 'refresh_token', 'refresh_token', 'client_credentials', '', 'x'.repeat(300)]);
  if (rng.chance(0.8)) form.service = service;
  if (rng.chance(0.8)) form.scope = scope();
  if (rng.chance(0.3)) form.access_type = rng.pick(['offline', 'online', '']);
  if (rng.chance(0.3)) form.client_id = rng.pick(['docker', '', 'x'.repeat(500)]);
  const jwt = rng.pick(forgedJwts(w, rng));
  let origin: Origin = 'stranger';
  if (form.grant_type === 'password') {
    form.username = rng.pick([`BKIA${rng.string(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, 'BERTH', '', 'admin', '..', 'x'.repeat(300)]);
    form.password = rng.pick([jwt, 'wrong', '', 'x'.repeat(10_000), w.loginToken]);
  } else if (form.grant_type === 'refresh_token') {
    form.refresh_token = rng.pick([jwt, w.bearer, '', 'x.y.z']);
    origin = rng.chance(0.5) ? 'admin' : 'stranger';
  }
  const encoded = Object.entries(form)
    .map(([k, v]) => `${rng.chance(0.95) ? encodeURIComponent(k) : k}=${rng.chance(0.9) ? encodeURIComponent(v) : v}`)
    .join('&');
  const body = rng.weighted<() => Buffer>([
    [8, () => Buffer.from(encoded)],
    [1, () => Buffer.from(`${encoded}&${'a=b&'.repeat(5000)}`)],
    [1, () => Buffer.from(`%%%&=&==&${encoded}%`)],
    [1, () => rng.bytes(100)],
    [1, () => Buffer.from(JSON.stringify(form))],
  ])();
  const ct = rng.weighted([
    [8, 'application/x-www-form-urlencoded'],
    [1, 'application/x-www-form-urlencoded; charset=utf-16'],
    [1, 'application/json'],
    [1, rng.pick(contentTypes)],
  ]);
  return { kind: 'token.post', method: 'POST', target: `/token${rng.chance(0.1) ? qs({ service }) : ''}`, headers: [['Content-Type', ct]], body, origin, forged: false };
};

/** Garbage credentials on random protected routes: always refused, never a 5xx. */
const authGen: Gen = (w, rng) => {
  const auth = badAuth(w, rng);
  const name = rng.chance(0.7) ? w.repo : rng.pick(repoNames(w));
  const route = rng.pick<[string, string]>([
    ['GET', '/v2/'],
    ['GET', `/v2/${name}/manifests/${w.tag}`],
    ['HEAD', `/v2/${name}/manifests/${w.manifestDigest}`],
    ['GET', `/v2/${name}/blobs/${rng.pick(w.blobDigests)}`],
    ['POST', `/v2/${name}/blobs/uploads/`],
    ['PUT', `/v2/${name}/manifests/forged`],
    ['DELETE', `/v2/${name}/manifests/${w.manifestDigest}`],
    ['GET', `/v2/${name}/tags/list`],
    ['GET', '/v2/_catalog'],
    ['GET', '/api/v1/repositories'],
    ['POST', '/api/v1/principals'],
    ['GET', '/api/v1/access-keys'],
    ['PUT', '/api/v1/registry/policy'],
    ['GET', '/api/v1/authorization-token'],
  ]);
  const body = route[0] === 'PUT' || route[0] === 'POST' ? Buffer.from('{}') : undefined;
  return { kind: 'auth.forged', method: route[0], target: route[1], headers: withAuth(body ? [['Content-Type', 'application/json']] : [], auth), ...(body ? { body } : {}), origin: auth.origin, forged: auth.forged };
};

/** Broken HTTP framing, written byte for byte. */
const protocolGen: Gen = (w, rng) => {
  const host = '127.0.0.1';
  const auth = `Authorization: ${w.adminAuthorization}\r\n`;
  const p = `/v2/${w.repo}/manifests/${w.tag}`;
  const raw = rng.pick<string | Buffer>([
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello!`,
    `PUT ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: -1\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 1e3\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Content-Length: 99999999999999999999999\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/9.9\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.0\r\n${auth}\r\n`,
    `GET ${p}\r\n\r\n`,
    `GET  ${p}  HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    `G\u00c9T ${p} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    `get ${p} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    `GET http://evil.example${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    `GET * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nHost: other\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${auth}${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nNoColonHeader\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n : empty-name\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nX-Folded: a\r\n  continued\r\nConnection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\nHost: ${host}\n${auth.replace('\r\n', '\n')}Connection: close\n\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'x'.repeat(15_500)}\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'x'.repeat(17_000)}\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\nConnection: close\r\n\r\n`,
    `GET /v2/${w.repo}/manifests/a\u0000b HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    `GET /v2/${w.repo}/blobs/sha256:\u0000../../${w.marker} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    `GET /v2/../../${w.marker} HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    `GET /v2/${w.repo}\\..\\..\\${w.marker}/tags/list HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`,
    Buffer.concat([Buffer.from(`GET /v2/`), Buffer.from([0xc3, 0xbc, 0xff, 0xfe]), Buffer.from(`/tags/list HTTP/1.1\r\nHost: ${host}\r\n${auth}Connection: close\r\n\r\n`)]),
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nX-Ctl: a\u0001b\u007f\r\n${auth}Connection: close\r\n\r\n`,
    `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Basic \u0000\u0000\r\nConnection: close\r\n\r\n`,
    `PATCH /v2/${w.repo}/blobs/uploads/x HTTP/1.1\r\nHost: ${host}\r\n${auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffffffffffffffff\r\nx\r\n`,
    `POST /token HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\nConnection: close\r\n\r\ngrant_type=password`,
    `\r\n\r\n\r\n`,
    `GARBAGE\r\n\r\n`,
    Buffer.from(rng.bytes(200)),
    `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
    `GET /readyz HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
    `GET /v2/ HTTP/1.1\r\nHost: ${host}\r\n${auth}Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
  ]);
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  // Requests without Connection: close, or that never finish, are ended from this side.
  return { kind: 'protocol', method: 'RAW', target: bytes.toString('latin1').split('\r\n', 1)[0]?.slice(0, 120) ?? '', headers: [], raw: bytes, origin: 'admin', forged: false };
};

const healthGen: Gen = (w, rng) => {
  const path = rng.pick(['/healthz', '/readyz', '/healthz?x=1', '/readyz/', '/healthz/../v2/', '/%68ealthz', '/metrics', '/', '/favicon.ico', '/.env', `/../${w.marker}`]);
  const auth = rng.chance(0.5) ? pickAuth(w, rng) : badAuth(w, rng);
  return { kind: 'health', method: rng.pick(['GET', 'HEAD', 'POST', 'DELETE']), target: path, headers: withAuth([], auth), origin: auth.origin, forged: false };
};

const generators: readonly (readonly [number, Gen])[] = [
  [11, blobGen],
  [15, uploadGen],
  [15, manifestGen],
  [8, listingGen],
  [7, ociPathGen],
  [24, apiGen],
  [8, tokenGen],
  [6, authGen],
  [4, protocolGen],
  [2, healthGen],
];

/**
 * Oversized bodies, a handful only (each costs real I/O): JSON beyond the 1 MiB body limit,
 * manifests beyond the 4 MiB manifest limit, streamed without a length, and a form beyond the
 * token endpoint's 16 KiB.
 */
export function largeCases(w: FuzzWorld): FuzzCase[] {
  const admin = (kind: string, method: string, target: string, headers: [string, string][], body: Buffer, more: Partial<FuzzCase> = {}): FuzzCase => ({
    kind,
    method,
    target,
    headers: [['Authorization', w.adminAuthorization], ...headers],
    body,
    origin: 'admin',
    forged: false,
    ...more,
  });
  const json = (bytes: number) => Buffer.from(JSON.stringify({ repositoryName: 'fuzz/big', description: 'x'.repeat(bytes) }));
  const manifest = (bytes: number) =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: w.blobDigests[0], size: 1 }, layers: [], annotations: { pad: 'x'.repeat(bytes) } }));
  const chunk = (body: Buffer) => Buffer.concat([Buffer.from(`${body.byteLength.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  const oci = 'application/vnd.oci.image.manifest.v1+json';
  return [
    admin('large.json', 'POST', '/api/v1/repositories', [['Content-Type', 'application/json']], json(1024 * 1024 + 10)),
    admin('large.json', 'PUT', '/api/v1/registry/policy', [['Content-Type', 'application/json']], Buffer.from(JSON.stringify({ policyText: 'x'.repeat(3 * 1024 * 1024) }))),
    admin('large.json', 'POST', `/api/v1/repositories/${encodeURIComponent(w.repo)}/images/batch-get`, [['Content-Type', 'application/json']], Buffer.from(JSON.stringify({ imageIds: Array.from({ length: 60_000 }, (_, i) => ({ imageTag: `t${i}` })) }))),
    admin('large.json.chunked', 'POST', '/api/v1/principals', [['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], chunk(json(2 * 1024 * 1024)), { noLength: true }),
    admin('large.manifest', 'PUT', `/v2/${w.repo}/manifests/big1`, [['Content-Type', oci]], manifest(4 * 1024 * 1024 + 1)),
    admin('large.manifest', 'PUT', `/v2/${w.repo}/manifests/big2`, [['Content-Type', oci]], manifest(6 * 1024 * 1024)),
    admin('large.manifest.chunked', 'PUT', `/v2/${w.repo}/manifests/big3`, [['Content-Type', oci], ['Transfer-Encoding', 'chunked']], chunk(manifest(5 * 1024 * 1024)), { noLength: true }),
    admin('large.manifest.declared', 'PUT', `/v2/${w.repo}/manifests/big4`, [['Content-Type', oci], ['Content-Length', String(8 * 1024 ** 3)]], manifest(1000), { noLength: true, endAfterWrite: true }),
    admin('large.manifest.declared', 'PUT', `/v2/${w.repo}/manifests/big5`, [['Content-Type', oci], ['Content-Length', String(4 * 1024 * 1024 + 1)]], manifest(1000), { noLength: true, endAfterWrite: true }),
    { kind: 'large.token', method: 'POST', target: '/token', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from(`grant_type=password&username=BERTH&password=${'x'.repeat(64 * 1024)}`), origin: 'stranger', forged: false },
    admin('large.upload', 'PATCH', w.uploadPaths[0] ?? `/v2/${w.repo}/blobs/uploads/x`, [['Content-Type', 'application/octet-stream']], Buffer.alloc(3 * 1024 * 1024, 7)),
  ];
}

/** `count` cases from the seed: the large ones spread through, the rest drawn by weight. */
export function generateCases(w: FuzzWorld, seed: number, count: number): FuzzCase[] {
  const rng = new Rng(seed);
  const large = largeCases(w);
  const cases: FuzzCase[] = [];
  for (let i = 0; cases.length < count - large.length; i++) cases.push(rng.weighted(generators)(w, rng));
  const step = Math.floor(cases.length / (large.length + 1));
  large.forEach((c, i) => cases.splice((i + 1) * step + i, 0, c));
  return cases;
}

/** For reports: a short digest of a body. */
export function bodySummary(body: Buffer | undefined): string {
  if (!body) return 'no body';
  const head = body.subarray(0, 120).toString('utf8').replace(/[^\x20-\x7e]/g, '.');
  return `${body.byteLength} bytes (sha256 ${sha256hex(body.toString('latin1')).slice(0, 12)}): ${head}`;
}
