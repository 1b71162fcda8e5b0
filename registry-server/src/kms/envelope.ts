// The cryptography under the key service, kept apart so that it can be read (and tested) alone.
// Two layers, both AES-256-GCM:
//  - key material (32 random bytes per key version) is wrapped under the root key, with the key
//    id and version as additional data, so a wrapped version copied onto another key (or
//    renumbered) fails to unwrap instead of silently decrypting under the wrong identity;
//  - ciphertext blobs (data keys, Encrypt's output) carry a header naming key id and version,
//    authenticated together with the canonical encryption context.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ivBytes = 12;
const tagBytes = 16;
/** "BK" and a format number: lets a later format be told apart from this one. */
const magic = Buffer.from([0x42, 0x4b, 0x01]);
const headerBytes = magic.length + 16 + 4;
export const minBlobBytes = headerBytes + ivBytes + tagBytes;

export type EncryptionContext = Readonly<Record<string, string>>;

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < ivBytes + tagBytes) throw new EnvelopeError('sealed data is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, ivBytes), { authTagLength: tagBytes });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(ivBytes, ivBytes + tagBytes));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(ivBytes + tagBytes)), decipher.final()]);
  } catch {
    throw new EnvelopeError('authentication failed');
  }
}

function materialAad(keyId: string, version: number): Buffer {
  return Buffer.from(`berth-kms-material/v1/${keyId}/${version}`, 'utf8');
}

/** Material wrapped under the root key, as stored: base64 of iv | tag | ciphertext. */
export function wrapMaterial(rootKey: Buffer, keyId: string, version: number, material: Buffer): string {
  return seal(rootKey, material, materialAad(keyId, version)).toString('base64');
}

export function unwrapMaterial(rootKey: Buffer, keyId: string, version: number, wrapped: string): Buffer {
  return open(rootKey, Buffer.from(wrapped, 'base64'), materialAad(keyId, version));
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isKeyId(text: string): boolean {
  return uuidPattern.test(text);
}

function uuidBytes(keyId: string): Buffer {
  if (!isKeyId(keyId)) throw new EnvelopeError(`not a key id: ${keyId}`);
  return Buffer.from(keyId.replace(/-/g, ''), 'hex');
}

function uuidText(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The context in one unambiguous byte form: pairs sorted by key, JSON-encoded, so that
 * {"a":"b","c":"d"} and {"c":"d","a":"b"} authenticate alike and nothing can be spliced.
 */
export function canonicalContext(context: EncryptionContext | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(pairs), 'utf8');
}

export interface BlobHeader {
  readonly keyId: string;
  readonly keyVersion: number;
}

function header(keyId: string, keyVersion: number): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt32BE(keyVersion);
  return Buffer.concat([magic, uuidBytes(keyId), version]);
}

/** Which key and version a blob was sealed under; undefined when it is not one of ours. */
export function readBlobHeader(blob: Buffer): BlobHeader | undefined {
  if (blob.length < minBlobBytes || !blob.subarray(0, magic.length).equals(magic)) return undefined;
  const keyVersion = blob.readUInt32BE(magic.length + 16);
  if (keyVersion < 1) return undefined;
  return { keyId: uuidText(blob.subarray(magic.length, magic.length + 16)), keyVersion };
}

/** A self-describing ciphertext: header | iv | tag | ciphertext, the header authenticated. */
export function sealBlob(material: Buffer, keyId: string, keyVersion: number, plaintext: Buffer, context: EncryptionContext | undefined): Buffer {
  const head = header(keyId, keyVersion);
  return Buffer.concat([head, seal(material, plaintext, Buffer.concat([head, canonicalContext(context)]))]);
}

export function openBlob(material: Buffer, blob: Buffer, context: EncryptionContext | undefined): Buffer {
  if (!readBlobHeader(blob)) throw new EnvelopeError('not a Berth KMS ciphertext');
  const head = blob.subarray(0, headerBytes);
  return open(material, blob.subarray(headerBytes), Buffer.concat([head, canonicalContext(context)]));
}
