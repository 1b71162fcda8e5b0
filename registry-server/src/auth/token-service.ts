// Issues and verifies Berth's tokens with a ring of ES256 signing keys kept in the metadata store:
// the newest key signs; older keys keep verifying until every token they signed has expired.
import { randomUUID, type KeyObject } from 'node:crypto';
import { exportSigningKey, generateSigningKey, importSigningKey, signJwt, verifyJwt, type JwtClaims, type SigningKeyRecord } from './jwt.ts';
import type { IdentityStore } from './identity-store.ts';
import { accessFromClaim, type Access } from './scope.ts';

/** What a token is for: registry access (scoped), acting as a principal (login), or refreshing. */
export type TokenUse = 'registry' | 'login' | 'refresh';

export interface TokenSubject {
  /** The principal's id, or null for an anonymous token. */
  readonly principalId: string | null;
  readonly principalName?: string;
  /** The access key the token was obtained with (refresh tokens re-check it). */
  readonly accessKeyId?: string;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly issuedAt: Date;
}

export interface VerifiedToken {
  readonly use: TokenUse;
  readonly principalId: string | null;
  readonly principalName: string | undefined;
  readonly accessKeyId: string | undefined;
  /** The access claim of a registry token. */
  readonly access: Access[] | undefined;
  readonly expiresAt: number;
}

export interface TokenServiceOptions {
  readonly issuer: string;
  /** The `service` of the challenge, and every token's audience. */
  readonly service: string;
  readonly ttlSeconds: number;
  readonly rotationSeconds: number;
  /** The longest lifetime any token may have (login tokens): keys verify this long after retiring. */
  readonly maxTtlSeconds: number;
}

interface RingKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly createdAt: number;
}

const reloadIntervalMs = 5_000;
const maxCachedTokens = 10_000;

export class TokenService {
  private readonly store: IdentityStore;
  readonly options: TokenServiceOptions;
  private ring = new Map<string, RingKey>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  /** Tokens verified recently (signature checks cost more than the rest of a manifest GET). */
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(store: IdentityStore, options: TokenServiceOptions) {
    this.store = store;
    this.options = options;
  }

  /** Loads the ring, creating the first key or a fresh one when the newest is due for rotation. */
  async init(): Promise<void> {
    await this.reload();
    await this.rotateIfDue();
  }

  private async reload(): Promise<void> {
    this.loading ??= (async () => {
      const next = new Map<string, RingKey>();
      for (const { body } of await this.store.signingKeys()) {
        const k = importSigningKey(JSON.parse(body) as SigningKeyRecord);
        next.set(k.kid, { kid: k.kid, privateKey: k.privateKey, publicKey: k.publicKey, createdAt: Date.parse(k.createdAt) });
      }
      this.ring = next;
      this.loadedAt = Date.now();
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private newest(): RingKey | undefined {
    let best: RingKey | undefined;
    for (const k of this.ring.values()) if (!best || k.createdAt > best.createdAt) best = k;
    return best;
  }

  /** Adds a key when the newest is older than the rotation period; drops keys no token can need. */
  async rotateIfDue(now = Date.now()): Promise<void> {
    const newest = this.newest();
    if (!newest || now - newest.createdAt >= this.options.rotationSeconds * 1000) {
      const key = generateSigningKey();
      await this.store.putSigningKey(key.kid, JSON.stringify(exportSigningKey(key, new Date(now))));
      await this.reload();
    }
    // A key retired at time R (when its successor arrived) verifies until R + the longest TTL.
    const keys = [...this.ring.values()].sort((a, b) => a.createdAt - b.createdAt);
    for (let i = 0; i < keys.length - 1; i++) {
      const key = keys[i];
      const successor = keys[i + 1];
      if (key && successor && now - successor.createdAt > this.options.maxTtlSeconds * 1000 + 60_000) {
        await this.store.deleteSigningKey(key.kid);
        this.ring.delete(key.kid);
      }
    }
  }

  async issue(subject: TokenSubject, use: TokenUse, access: Access[] | undefined, ttlSeconds = this.options.ttlSeconds): Promise<IssuedToken> {
    if (Date.now() - this.loadedAt > reloadIntervalMs) await this.reload();
    await this.rotateIfDue();
    const key = this.newest();
    if (!key) throw new Error('no signing key');
    const issuedAt = new Date();
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.options.issuer,
      sub: subject.principalId ?? '',
      aud: this.options.service,
      exp: iat + ttlSeconds,
      nbf: iat,
      iat,
      jti: randomUUID(),
      'berth:use': use,
    };
    if (subject.principalName !== undefined) claims['berth:name'] = subject.principalName;
    if (subject.accessKeyId !== undefined) claims['berth:key'] = subject.accessKeyId;
    if (access !== undefined) claims.access = access;
    return { token: signJwt(claims, key), expiresIn: ttlSeconds, issuedAt };
  }

  /** Verifies a token's signature, audience, issuer and times; undefined with a reason if refused. */
  async verify(token: string): Promise<{ ok: true; token: VerifiedToken } | { ok: false; reason: string }> {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt > now) return { ok: true, token: cached };
      this.verified.delete(token);
    }
    let result = this.check(token);
    // A key made by another replica since the last load: load once more before refusing.
    if (!result.ok && result.reason === 'unknown kid' && Date.now() - this.loadedAt > 1000) {
      await this.reload();
      result = this.check(token);
    }
    if (!result.ok) return result;
    const claims = result.claims;
    const use = claims['berth:use'];
    if (use !== 'registry' && use !== 'login' && use !== 'refresh') return { ok: false, reason: 'not a Berth token' };
    const access = accessFromClaim(claims.access);
    if (access === undefined) return { ok: false, reason: 'malformed access claim' };
    const verified: VerifiedToken = {
      use,
      principalId: claims.sub === '' ? null : claims.sub,
      principalName: typeof claims['berth:name'] === 'string' ? claims['berth:name'] : undefined,
      accessKeyId: typeof claims['berth:key'] === 'string' ? claims['berth:key'] : undefined,
      access: claims.access === undefined ? undefined : access,
      expiresAt: claims.exp,
    };
    if (this.verified.size >= maxCachedTokens) this.verified.clear();
    this.verified.set(token, verified);
    return { ok: true, token: verified };
  }

  private check(token: string): { ok: true; claims: JwtClaims } | { ok: false; reason: string } {
    return verifyJwt(token, { keys: (kid) => this.ring.get(kid)?.publicKey, audience: this.options.service, issuer: this.options.issuer });
  }

  /** The public keys, as a JWK set (for anyone verifying Berth tokens elsewhere). */
  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [...this.ring.values()].map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: 'ES256', use: 'sig' })) };
  }
}
