import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

// ES256 compact JWS (RFC 7515) carrying JWT claims (RFC 7519). Only one algorithm is ever
// accepted, so the header's "alg" cannot steer verification ("none", HS256 with the public key).

export type JwtClaims = {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  [claim: string]: unknown;
};

export type SigningKey = { kid: string; privateKey: KeyObject; publicKey: KeyObject };

/** The JSON-safe form kept in configuration or the metadata store. */
export type SigningKeyRecord = { kid: string; privatePkcs8: string; createdAt: string };

export type VerifyOptions = {
  keys: (kid: string) => KeyObject | undefined;
  audience: string;
  issuer: string;
  /** Epoch seconds; defaults to the wall clock. */
  now?: number;
  clockSkewSeconds?: number;
  maxLength?: number;
};

export type VerifyResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

const defaultSkewSeconds = 30;
const defaultMaxLength = 8192;
const signatureBytes = 64;
const base64urlPattern = /^[A-Za-z0-9_-]+$/;

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Buffer.from(…, 'base64url') skips junk silently; insist on the canonical encoding instead. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!base64urlPattern.test(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeSegment(segment);
  if (!bytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function isP256(key: KeyObject, type: 'private' | 'public'): boolean {
  return key.type === type && key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** base64url of the first 16 bytes of SHA-256 over the SPKI DER: stable for a key, short in headers. */
export function keyIdFor(publicKey: KeyObject): string {
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest().subarray(0, 16).toString('base64url');
}

export function signJwt(claims: Record<string, unknown>, key: { kid: string; privateKey: KeyObject }): string {
  if (!isP256(key.privateKey, 'private')) throw new TypeError('signing key must be a P-256 private key');
  const signingInput = `${encodeSegment({ alg: 'ES256', typ: 'JWT', kid: key.kid })}.${encodeSegment(claims)}`;
  // JWS wants raw r||s, not the DER that node produces by default.
  const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

export function verifyJwt(token: string, options: VerifyOptions): VerifyResult {
  const maxLength = options.maxLength ?? defaultMaxLength;
  const skew = options.clockSkewSeconds ?? defaultSkewSeconds;
  const now = options.now ?? Math.floor(Date.now() / 1000);

  if (typeof token !== 'string') return fail('token is not a string');
  if (token.length > maxLength) return fail(`token longer than ${maxLength} characters`);
  const segments = token.split('.');
  if (segments.length !== 3) return fail('token must have three segments');
  const [headerText, payloadText, signatureText] = segments as [string, string, string];

  const header = decodeJsonObject(headerText);
  if (!header) return fail('header is not base64url JSON');
  if (header.alg !== 'ES256') return fail('unsupported alg');
  // RFC 7515 §4.1.9: typ is compared case-insensitively; absent is fine.
  if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) return fail('unsupported typ');
  // RFC 7515 §4.1.11: extensions we do not understand must be refused, and we understand none.
  if (header.crit !== undefined) return fail('unsupported crit');
  if (typeof header.kid !== 'string' || header.kid === '') return fail('missing kid');

  let key: KeyObject | undefined;
  try {
    key = options.keys(header.kid);
  } catch {
    key = undefined;
  }
  if (!key) return fail('unknown kid');
  if (!isP256(key, 'public')) return fail('key is not a P-256 public key');

  const signature = decodeSegment(signatureText);
  if (!signature || signature.length !== signatureBytes) return fail('malformed signature');
  let valid = false;
  try {
    valid = verify('sha256', Buffer.from(`${headerText}.${payloadText}`, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return fail('bad signature');

  // Claims are only looked at once the signature holds.
  const payload = decodeJsonObject(payloadText);
  if (!payload) return fail('payload is not base64url JSON');
  if (!isFiniteNumber(payload.exp)) return fail('missing exp');
  if (now >= payload.exp + skew) return fail('token expired');
  if (payload.nbf !== undefined) {
    if (!isFiniteNumber(payload.nbf)) return fail('malformed nbf');
    if (now + skew < payload.nbf) return fail('token not yet valid');
  }
  if (!isFiniteNumber(payload.iat)) return fail('missing iat');
  if (payload.iat > now + skew) return fail('iat in the future');
  if (payload.iss !== options.issuer) return fail('issuer mismatch');
  const aud = payload.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (!audiences || !audiences.includes(options.audience)) return fail('audience mismatch');
  if (typeof payload.sub !== 'string') return fail('missing sub');
  if (typeof payload.jti !== 'string' || payload.jti === '') return fail('missing jti');
  return { ok: true, claims: payload as JwtClaims };
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: keyIdFor(publicKey), privateKey, publicKey };
}

export function exportSigningKey(key: { kid: string; privateKey: KeyObject }, createdAt: Date = new Date()): SigningKeyRecord {
  if (!isP256(key.privateKey, 'private')) throw new TypeError('signing key must be a P-256 private key');
  const der = key.privateKey.export({ format: 'der', type: 'pkcs8' });
  return { kid: key.kid, privatePkcs8: der.toString('base64'), createdAt: createdAt.toISOString() };
}

/** Throws on a damaged record: keys are loaded at start-up, where failing loudly is right. */
export function importSigningKey(record: SigningKeyRecord): SigningKey & { createdAt: string } {
  if (typeof record.privatePkcs8 !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(record.privatePkcs8)) {
    throw new TypeError('privatePkcs8 is not base64');
  }
  const privateKey = createPrivateKey({ key: Buffer.from(record.privatePkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  if (!isP256(privateKey, 'private')) throw new TypeError('stored key is not a P-256 private key');
  const publicKey = createPublicKey(privateKey);
  const kid = keyIdFor(publicKey);
  // A kid that does not match its key would make verifiers pick the wrong key.
  if (record.kid !== kid) throw new TypeError('kid does not match the stored key');
  if (typeof record.createdAt !== 'string' || Number.isNaN(Date.parse(record.createdAt))) throw new TypeError('createdAt is not a date');
  return { kid, privateKey, publicKey, createdAt: record.createdAt };
}
