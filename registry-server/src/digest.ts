import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.ts';

// Registered algorithms the registry accepts (distribution-spec / image-spec descriptor rules).
export type DigestAlgorithm = 'sha256' | 'sha512';

const encodedLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const digestPattern = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** algorithm:hex */
  readonly value: string;
}

/** Parses and validates a digest string; throws DIGEST_INVALID (or UNSUPPORTED for other algorithms). */
export function parseDigest(text: string): Digest {
  const m = digestPattern.exec(text);
  if (!m) throw new RegistryError('DIGEST_INVALID', 'invalid digest format', { detail: { digest: truncate(text) } });
  const algorithm = m[1] as string;
  const hex = m[2] as string;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm ${truncate(algorithm)}`, { detail: { digest: truncate(text) } });
  }
  if (hex.length !== encodedLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError('DIGEST_INVALID', `invalid ${algorithm} digest`, { detail: { digest: truncate(text) } });
  }
  return { algorithm, hex, value: text };
}

export function isDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

function truncate(s: string): string {
  return s.length > 150 ? `${s.slice(0, 150)}…` : s;
}
