import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';

// Access key secrets are stored only as scrypt hashes. The parameters travel with each hash so
// the cost can be raised later without invalidating existing keys.

// N·r sets the memory (128·N·r bytes: 1 MiB here), p multiplies the work without more memory:
// the same cost as N=16384, p=1, at a sixteenth of the memory, which a registry meant to stay
// under 150 MiB keeps for good once allocated (malloc does not give it back).
const cost = { N: 1024, r: 8, p: 16 };
const saltBytes = 16;
const keyBytes = 32;
const maxSecretLength = 256;
// Bounds on stored parameters, so a damaged or hostile row cannot make one login eat the host.
const maxN = 2 ** 20;
const maxR = 32;
const maxP = 16;
const maxMemoryBytes = 256 * 1024 * 1024;

export const accessKeyIdPattern = /^BKIA[A-Z2-7]{16}$/;
export const secretPattern = /^[A-Za-z0-9_-]{40}$/;

type Params = { N: number; r: number; p: number; salt: Buffer; hash: Buffer };

function scryptAsync(secret: BinaryLike, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** OpenSSL counts 128·r·(N+2) for V plus 128·r·p for B; a little headroom on top. */
function memoryFor(N: number, r: number, p: number): number {
  return 128 * r * (N + 2) + 128 * r * p + 1024 * 1024;
}

function decodeBase64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parseInteger(text: string): number | undefined {
  return /^[1-9][0-9]{0,7}$/.test(text) ? Number(text) : undefined;
}

function parseStored(stored: string): Params | undefined {
  if (typeof stored !== 'string' || stored.length > 512) return undefined;
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const N = parseInteger(parts[1] ?? '');
  const r = parseInteger(parts[2] ?? '');
  const p = parseInteger(parts[3] ?? '');
  const salt = decodeBase64url(parts[4] ?? '');
  const hash = decodeBase64url(parts[5] ?? '');
  if (N === undefined || r === undefined || p === undefined || !salt || !hash) return undefined;
  // scrypt needs N a power of two above 1; floors keep a tampered row from being trivially cheap.
  if (N < 1024 || N > maxN || (N & (N - 1)) !== 0) return undefined;
  if (r > maxR || p > maxP || memoryFor(N, r, p) > maxMemoryBytes) return undefined;
  // The hash is always keyBytes long: a shorter one would match a prefix of the derived key.
  if (salt.length < 16 || salt.length > 64 || hash.length !== keyBytes) return undefined;
  return { N, r, p, salt, hash };
}

export async function hashSecret(secret: string): Promise<string> {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > maxSecretLength) {
    throw new RangeError(`secret must be 1 to ${maxSecretLength} characters`);
  }
  const salt = randomBytes(saltBytes);
  const { N, r, p } = cost;
  const hash = await scryptAsync(secret, salt, keyBytes, { N, r, p, maxmem: memoryFor(N, r, p) });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** False for a wrong secret and for anything malformed: a login path should never throw here. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (typeof secret !== 'string' || secret.length === 0 || secret.length > maxSecretLength) return false;
  const params = parseStored(stored);
  if (!params) return false;
  const { N, r, p, salt, hash } = params;
  try {
    const candidate = await scryptAsync(secret, salt, hash.length, { N, r, p, maxmem: memoryFor(N, r, p) });
    return timingSafeEqual(candidate, hash);
  } catch {
    return false;
  }
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** "BKIA" and 16 base32 characters: exactly 80 random bits, no padding. */
export function newAccessKeyId(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = 'BKIA';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += base32Alphabet[(value >>> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** 240 random bits as 40 base64url characters: safe in URLs, headers and shells without quoting. */
export function newSecret(): string {
  return randomBytes(30).toString('base64url');
}

/** Key for an in-memory cache of recently verified credentials; never stored. */
export function fingerprint(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function sameFingerprint(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
