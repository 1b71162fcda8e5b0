// Who is calling: an access key sent with Basic auth, a token (Bearer, or as a Basic password the
// way `docker login` sends ECR-style tokens), or nobody. Failures are throttled per key (a few
// guesses) and per source address (many more, so that one noisy client behind a shared address
// does not lock everyone out); verified secrets are remembered briefly so scrypt runs once.
import { fingerprint, hashSecret, sameFingerprint, verifySecret, accessKeyIdPattern } from './secret-hash.ts';
import type { IdentityStore, PrincipalRecord } from './identity-store.ts';
import type { LoginThrottle } from './throttle.ts';
import type { FreshCache } from './freshness.ts';
import type { TokenService, VerifiedToken } from './token-service.ts';

export interface CallerPrincipal {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
}

export interface AuthenticatedCaller {
  /** null when the request carries no credentials. */
  readonly principal: CallerPrincipal | null;
  readonly via: 'anonymous' | 'access-key' | 'token';
  readonly accessKeyId?: string;
  /** Set when the caller presented a token. */
  readonly token?: VerifiedToken;
}

export type AuthOutcome =
  | { readonly ok: true; readonly caller: AuthenticatedCaller }
  | { readonly ok: false; readonly status: 401; readonly reason: string }
  | { readonly ok: false; readonly status: 429; readonly reason: string; readonly retryAfterSeconds: number };

export const anonymous: AuthenticatedCaller = Object.freeze({ principal: null, via: 'anonymous' });

const verifiedTtlMs = 5 * 60_000;
const maxVerified = 10_000;
const useRecordIntervalMs = 60_000;

interface VerifiedSecret {
  readonly print: Buffer;
  /** The stored hash it was checked against: a rotation invalidates the entry. */
  readonly secretHash: string;
  readonly until: number;
}

export class Authenticator {
  private readonly store: IdentityStore;
  private readonly tokens: TokenService;
  private readonly keyThrottle: LoginThrottle;
  private readonly ipThrottle: LoginThrottle;
  private readonly registryId: string;
  private readonly verified = new Map<string, VerifiedSecret>();
  /** Recent successful sign-ins by Authorization header (see freshness.ts for how long). */
  private readonly recent: FreshCache<AuthenticatedCaller>;
  private readonly usesRecorded = new Map<string, number>();
  /** A hash to verify against when the key does not exist, so timing does not reveal which ids do. */
  private decoy: Promise<string> | undefined;

  constructor(store: IdentityStore, tokens: TokenService, throttles: { perKey: LoginThrottle; perAddress: LoginThrottle }, registryId: string, recent: FreshCache<AuthenticatedCaller>) {
    this.store = store;
    this.recent = recent;
    this.tokens = tokens;
    this.keyThrottle = throttles.perKey;
    this.ipThrottle = throttles.perAddress;
    this.registryId = registryId;
  }

  principalOf(p: PrincipalRecord): CallerPrincipal {
    return { id: p.principalId, arn: `arn:berth:iam::${this.registryId}:principal/${p.name}`, name: p.name };
  }

  /** Reads an Authorization header; `ip` keys the throttle. */
  async authenticate(authorization: string | undefined, ip: string): Promise<AuthOutcome> {
    if (authorization === undefined || authorization === '') return { ok: true, caller: anonymous };
    const now = Date.now();
    const known = this.recent.get(authorization, now);
    if (known) {
      if (known.accessKeyId !== undefined) this.noteUse(known.accessKeyId, now);
      return { ok: true, caller: known };
    }
    const outcome = await this.authenticateAnew(authorization, ip);
    if (outcome.ok && outcome.caller.principal !== null) {
      this.recent.set(authorization, outcome.caller, outcome.caller.token ? outcome.caller.token.expiresAt * 1000 : Infinity, now);
    }
    return outcome;
  }

  private async authenticateAnew(authorization: string, ip: string): Promise<AuthOutcome> {
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'bearer') return this.bearer(value, ['registry', 'login']);
    if (scheme !== 'basic') return fail('unsupported authorization scheme (use Basic or Bearer)');
    if (value.length > 12_000) return fail('credentials too long');
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail('malformed Basic credentials');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    if (accessKeyIdPattern.test(user)) return this.accessKey(user, password, ip);
    // `docker login -u BERTH -p <token>`: an authorization token in place of a password.
    if (password.split('.').length === 3) {
      const gate = this.gate(ip, undefined);
      if (!gate.allowed) return throttled(gate.retryAfterSeconds);
      const outcome = await this.bearer(password, ['login']);
      if (!outcome.ok) this.ipThrottle.failure([`ip:${ip}`]);
      return outcome;
    }
    return this.signInFailed(ip, undefined, 'unknown access key id');
  }

  private gate(ip: string, id: string | undefined): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const byKey = id === undefined ? ({ allowed: true } as const) : this.keyThrottle.check([`key:${id}`]);
    if (!byKey.allowed) return byKey;
    return this.ipThrottle.check([`ip:${ip}`]);
  }

  /** Checks an access key's secret (throttled); used by Basic auth and the token endpoint. */
  async accessKey(id: string, secret: string, ip: string): Promise<AuthOutcome> {
    const gate = this.gate(ip, id);
    if (!gate.allowed) return throttled(gate.retryAfterSeconds);
    const key = await this.store.getAccessKey(id);
    if (!key) {
      this.decoy ??= hashSecret('decoy secret of no key at all');
      await verifySecret(secret, await this.decoy);
      return this.signInFailed(ip, id, 'unknown access key id or wrong secret');
    }
    const print = fingerprint(secret);
    const cached = this.verified.get(id);
    const now = Date.now();
    let good = cached !== undefined && cached.until > now && cached.secretHash === key.secretHash && sameFingerprint(cached.print, print);
    if (!good) {
      good = await verifySecret(secret, key.secretHash);
      if (good) {
        if (this.verified.size >= maxVerified) this.verified.clear();
        this.verified.set(id, { print, secretHash: key.secretHash, until: now + verifiedTtlMs });
      }
    }
    if (!good) return this.signInFailed(ip, id, 'unknown access key id or wrong secret');
    if (key.status !== 'Active') return this.signInFailed(ip, id, 'the access key is inactive');
    const principal = await this.store.getPrincipal(key.principalName);
    if (!principal) return this.signInFailed(ip, id, 'the access key belongs to no principal');
    this.keyThrottle.success([`key:${id}`]);
    this.noteUse(id, now);
    return { ok: true, caller: { principal: this.principalOf(principal), via: 'access-key', accessKeyId: id } };
  }

  /** Verifies a token and that its principal (and access key, if any) still stand. */
  async bearer(token: string, uses: readonly VerifiedToken['use'][]): Promise<AuthOutcome> {
    const result = await this.tokens.verify(token);
    if (!result.ok) return fail(`token refused: ${result.reason}`);
    const t = result.token;
    if (!uses.includes(t.use)) return fail(`token refused: a ${t.use} token cannot be used here`);
    if (t.principalId === null) return { ok: true, caller: { principal: null, via: 'token', token: t } };
    const standing = await this.standing(t);
    if (!standing) return fail('token refused: its principal or access key no longer exists or is inactive');
    return { ok: true, caller: { principal: standing, via: 'token', token: t, ...(t.accessKeyId !== undefined ? { accessKeyId: t.accessKeyId } : {}) } };
  }

  /** The principal behind a token, if it and the key the token came from are still valid. */
  async standing(t: VerifiedToken): Promise<CallerPrincipal | undefined> {
    let principal: PrincipalRecord | undefined;
    if (t.accessKeyId !== undefined) {
      const key = await this.store.getAccessKey(t.accessKeyId);
      if (!key || key.status !== 'Active') return undefined;
      principal = await this.store.getPrincipal(key.principalName);
    } else if (t.principalName !== undefined) {
      principal = await this.store.getPrincipal(t.principalName);
    }
    if (!principal || principal.principalId !== t.principalId) return undefined;
    return this.principalOf(principal);
  }

  private signInFailed(ip: string, id: string | undefined, reason: string): AuthOutcome {
    if (id !== undefined) this.keyThrottle.failure([`key:${id}`]);
    this.ipThrottle.failure([`ip:${ip}`]);
    return fail(reason);
  }

  /** Records a key's last use at most once a minute (a write per request would be waste). */
  private noteUse(id: string, now: number): void {
    const last = this.usesRecorded.get(id) ?? 0;
    if (now - last < useRecordIntervalMs) return;
    if (this.usesRecorded.size >= maxVerified) this.usesRecorded.clear();
    this.usesRecorded.set(id, now);
    this.store.recordUse(id, new Date(now)).catch(() => {
      // Last-used is advisory; a failed write must not fail the request.
    });
  }
}

function fail(reason: string): AuthOutcome {
  return { ok: false, status: 401, reason };
}

function throttled(retryAfterSeconds: number): AuthOutcome {
  return { ok: false, status: 429, reason: 'too many failed sign-in attempts', retryAfterSeconds };
}
