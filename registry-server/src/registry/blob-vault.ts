// Blob storage with encryption at rest. Repositories encrypted under a KMS key (or the
// registry-managed key for AES256) write every blob in the chunked AES-256-GCM format under a
// data key of its own; the data key is kept only wrapped, once under each KMS key of a
// repository that references the blob, so deduplication and mounts work across keys and a blob
// stays readable while any of those keys is usable. Digests stay over the plaintext.
//
// What is stored where:
//  - an encrypted blob's bytes live in the blob store under a name derived from a random blob id
//    (never under its digest: two concurrent pushes of the same content under different keys
//    must not overwrite each other's ciphertext); its salt, size and wrapped keys are a
//    'blob-cipher' document keyed by digest. No document: the blob is plaintext under its digest.
//  - an upload is a sequence of segments, one per append, each encrypted under a fresh data key
//    (a resumed or repeated append never reuses a key and nonce); the segments are an
//    'upload-cipher' document. A one-segment upload (every ordinary push) is already the blob's
//    final form and is published without rewriting; several segments are re-encrypted once.
import { createHash, randomBytes } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import {
  BlobIntegrityError,
  decryptRange,
  decryptingStream,
  defaultFormat,
  encryptedSize,
  encryptingStream,
  plainRangeToChunks,
  tagBytes,
  type ChunkSpan,
} from '../crypto/chunked-aead.ts';
import { DecryptPool } from '../crypto/decrypt-pool.ts';
import type { GroupDecryptor } from '../crypto/group-decryptor.ts';
import { RegistryError } from '../errors.ts';
import { unusable, type KeyService, type KmsCaller } from '../kms/key-service.ts';
import type { MetadataStore, Repository } from '../meta/metadata-store.ts';
import { hasPositionalReads, type BlobInfo, type BlobReader, type BlobStore, type ByteRange } from '../storage/blob-store.ts';

export const vaultKinds = {
  /** Key: the blob's digest. */
  blob: 'blob-cipher',
  /** Key: the upload id. Tied to the repository, so it goes when the repository goes. */
  upload: 'upload-cipher',
} as const;

interface Segment {
  /** 16 random bytes, hex: names the stored object and is bound into every chunk and the wrapped key. */
  readonly id: string;
  readonly plain: number;
  /** Recorded, so that a change of the default never misreads an upload in progress. */
  readonly chunkSize: number;
  readonly salt: string;
  /** The data key, wrapped under the upload's KMS key (base64). */
  readonly wrapped: string;
}

interface UploadCipher {
  readonly keyId: string;
  readonly segments: readonly Segment[];
}

interface BlobCipher {
  readonly id: string;
  readonly salt: string;
  readonly chunkSize: number;
  readonly size: number;
  /** KMS key id → the data key wrapped under it (base64). Empty once every key was destroyed. */
  readonly wraps: Readonly<Record<string, string>>;
}

/** An encrypted blob, as looked up once per request. */
export interface SealedBlob {
  readonly digest: string;
  readonly cipher: BlobCipher;
}

/** What protects the blobs an upload writes: the repository's KMS key. */
export interface WriteKey {
  readonly keyId: string;
  readonly repositoryId: number;
}

export interface VaultOptions {
  /** AES256 repositories are encrypted under the registry-managed key (else stored as plaintext). */
  readonly registryKeyEncryption: boolean;
}

const caller: KmsCaller = { principal: 'berth:registry' };
const chunkContext = (id: string): Buffer => Buffer.from(`berth-blob-v1:${id}`, 'utf8');
const keyContext = (id: string): Record<string, string> => ({ 'berth:blob': id });
/** Where an encrypted blob's bytes are stored: a digest-shaped name no content will have. */
export function storageName(id: string): string {
  return `sha256:${createHash('sha256').update(`berth-encrypted-blob:${id}`).digest('hex')}`;
}

const unrecordedChunkSize = 256 * 1024;

/** Plaintext length of `stored` bytes in the chunked format (the inverse of encryptedSize). */
function plainLength(stored: number, chunkSize: number): number {
  if (stored < tagBytes) return 0;
  const chunks = Math.ceil(stored / (chunkSize + tagBytes));
  return stored - chunks * tagBytes;
}

// Unwrapped data keys of recently read blobs: a pull then costs no KMS decryption. The key
// protecting the blob is still checked on every read, so disabling it takes effect at once.
const dataKeyTtlMs = 5 * 60_000;
const maxCachedDataKeys = 1024;

export class BlobVault {
  readonly store: BlobStore;
  private readonly meta: MetadataStore;
  private readonly keys: KeyService;
  private readonly options: VaultOptions;
  private readonly decryption: DecryptPool;
  private readonly dataKeys = new Map<string, { readonly key: Buffer; readonly until: number }>();

  constructor(store: BlobStore, meta: MetadataStore, keys: KeyService, options: VaultOptions, decryption = new DecryptPool(0)) {
    this.store = store;
    this.decryption = decryption;
    this.meta = meta;
    this.keys = keys;
    this.options = options;
  }

  /**
   * The key new blobs of `repository` are written under (undefined: plaintext). Refuses, with
   * the KMS error, when that key cannot be used now.
   */
  async keyFor(repository: Repository): Promise<WriteKey | undefined> {
    const s = repository.settings;
    if (s.encryptionType === 'AES256' && !this.options.registryKeyEncryption) return undefined;
    const key = s.encryptionType === 'KMS' ? await this.keys.resolveKey(s.kmsKey ?? '') : await this.keys.defaultRegistryKey();
    const refusal = unusable(key);
    if (refusal) {
      throw new RegistryError(refusal.code, `repository ${repository.name} is encrypted under KMS key ${key.keyId}: ${refusal.message}`, { detail: { keyId: key.keyId, keyState: key.keyState } });
    }
    return { keyId: key.keyId, repositoryId: repository.id };
  }

  // Uploads

  createUpload(id: string): Promise<void> {
    return this.store.createUpload(id);
  }

  /** Appends like BlobStore.appendUpload, with offsets over the plaintext; an upload keeps the form it began in. */
  async append(id: string, offset: number, data: Readable, key: WriteKey | undefined): Promise<number> {
    const doc = await this.uploadCipher(id);
    if (!doc && (key === undefined || offset > 0)) return this.store.appendUpload(id, offset, data);
    const keyId = doc?.cipher.keyId ?? (key as WriteKey).keyId;
    const { kept, stored } = cut(doc?.cipher.segments ?? [], offset, id);
    const segmentId = randomBytes(16).toString('hex');
    const salt = randomBytes(4);
    const dataKey = await this.keys.generateDataKey(keyId, keyContext(segmentId), { caller });
    let end: number;
    try {
      const sealed = encryptingStream(dataKey.plaintext, salt, chunkContext(segmentId));
      pipeline(data, sealed, () => {});
      end = await this.store.appendUpload(id, stored, sealed);
    } finally {
      dataKey.plaintext.fill(0);
    }
    const added = plainLength(end - stored, defaultFormat.chunkSize);
    const segments = added > 0 ? [...kept, { id: segmentId, plain: added, chunkSize: defaultFormat.chunkSize, salt: salt.toString('base64'), wrapped: dataKey.ciphertextBlob.toString('base64') }] : kept;
    if (added > 0 || kept.length !== (doc?.cipher.segments.length ?? 0)) {
      const body = JSON.stringify({ keyId, segments } satisfies UploadCipher);
      await this.meta.putDocument(vaultKinds.upload, id, body, { mode: 'upsert', ...(key ? { repositoryId: key.repositoryId } : {}) });
    }
    return offset + added;
  }

  /** The first `length` plaintext bytes of an upload (to rebuild its hash). */
  async readUpload(id: string, length: number): Promise<Readable> {
    const doc = await this.uploadCipher(id);
    if (!doc) return this.store.readUpload(id, length);
    const { kept, stored } = cut(doc.cipher.segments, length, id);
    if (stored === 0) return Readable.from([]);
    const parts = await Promise.all(kept.map(async (s) => ({ ...s, key: await this.unwrap(s.wrapped, s.id) })));
    return decryptSegments(await this.store.readUpload(id, stored), parts);
  }

  async deleteUpload(id: string): Promise<void> {
    await this.store.deleteUpload(id);
    await this.meta.deleteDocument(vaultKinds.upload, id);
  }

  listUploads(): AsyncIterable<{ id: string; modified: Date }> {
    return this.store.listUploads();
  }

  /**
   * Publishes the first `length` bytes of an upload as blob `digest` (verified by the caller)
   * and removes the upload; content already stored is kept and the upload dropped.
   */
  async commit(id: string, length: number, digest: string, key: WriteKey | undefined): Promise<void> {
    const doc = await this.uploadCipher(id);
    if (!doc && key === undefined) {
      if (await this.cipherOf(digest)) {
        await this.link(digest, undefined);
        await this.store.deleteUpload(id);
      } else if ((await this.store.stat(digest))?.size === length) await this.store.deleteUpload(id);
      else await this.store.commitUpload(id, length, digest);
      return;
    }
    if (await this.cipherOf(digest)) {
      await this.link(digest, key?.keyId);
      await this.deleteUpload(id);
      return;
    }
    const keyId = doc?.cipher.keyId ?? (key as WriteKey).keyId;
    const segments = doc ? cut(doc.cipher.segments, length, id).kept : [];
    const only = segments[0];
    let cipher: BlobCipher;
    if (segments.length === 1 && only && only.plain === length) {
      // The ordinary push: one append, already in the final format.
      await this.store.commitUpload(id, encryptedSize(length, only), storageName(only.id));
      cipher = { id: only.id, salt: only.salt, chunkSize: only.chunkSize, size: length, wraps: { [keyId]: only.wrapped } };
    } else {
      cipher = await this.sealCopy(() => this.readUpload(id, length), length, keyId);
      await this.store.deleteUpload(id);
    }
    await this.install(digest, cipher, keyId);
    await this.meta.deleteDocument(vaultKinds.upload, id);
  }

  // Blobs

  /**
   * Makes `digest` readable through `keyId` (a repository linking a blob it did not upload): its
   * data key is wrapped under that key too (undefined, for a plaintext repository: under the
   * registry-managed key). A plaintext blob linked into an encrypted repository is encrypted in
   * place. Refuses with a KMS error when no usable key can unwrap the data key.
   */
  async link(digest: string, keyId: string | undefined): Promise<void> {
    for (;;) {
      const doc = await this.meta.getDocument(vaultKinds.blob, digest);
      if (!doc) {
        if (keyId === undefined) return;
        const info = await this.store.stat(digest);
        if (!info) throw new RegistryError('BLOB_UNKNOWN', 'blob content is missing from storage', { detail: { digest } });
        const cipher = await this.sealCopy(() => this.store.read(digest), info.size, keyId);
        await this.install(digest, cipher, keyId);
        return;
      }
      const cipher = JSON.parse(doc.body) as BlobCipher;
      // A plaintext repository reads encrypted content through the registry-managed key.
      const wrapKey = keyId ?? (await this.keys.defaultRegistryKey()).keyId;
      if (cipher.wraps[wrapKey] !== undefined) return;
      const plain = await this.dataKeyOf(digest, cipher);
      let wrapped: string;
      try {
        wrapped = (await this.keys.encrypt(wrapKey, plain, keyContext(cipher.id), caller)).ciphertextBlob.toString('base64');
      } finally {
        plain.fill(0);
      }
      const next = JSON.stringify({ ...cipher, wraps: { ...cipher.wraps, [wrapKey]: wrapped } } satisfies BlobCipher);
      const r = await this.meta.putDocument(vaultKinds.blob, digest, next, { mode: 'update', expectedVersion: doc.version });
      if (r.status === 'ok') return;
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const cipher = await this.cipherOf(digest);
    return cipher ? { size: cipher.size } : this.store.stat(digest);
  }

  /** The encryption of `digest` when it is stored encrypted (then only this vault can serve it); undefined for plaintext. */
  async sealed(digest: string): Promise<SealedBlob | undefined> {
    const cipher = await this.cipherOf(digest);
    return cipher ? { digest, cipher } : undefined;
  }

  /** The plaintext of a blob or a range of it, decrypted as it streams when the blob is encrypted. */
  async read(digest: string, range?: ByteRange): Promise<Readable> {
    const sealed = await this.sealed(digest);
    return sealed ? this.readSealed(sealed, range) : this.store.read(digest, range);
  }

  /** An encrypted blob's plaintext (or a range of it) as a stream, from any store. */
  async readSealed({ digest, cipher }: SealedBlob, range?: ByteRange): Promise<Readable> {
    const key = await this.dataKeyOf(digest, cipher);
    const name = storageName(cipher.id);
    try {
      return await decryptRange((start, end) => this.store.read(name, { start, end }), key, Buffer.from(cipher.salt, 'base64'), chunkContext(cipher.id), { chunkSize: cipher.chunkSize }, cipher.size, range);
    } finally {
      key.fill(0); // the decryptor holds its own copy
    }
  }

  /**
   * An encrypted blob opened for positional reads (stores that have them: the filesystem), for
   * sendDecryptedRange; undefined when the store cannot (then use readSealed).
   */
  async openSealed({ digest, cipher }: SealedBlob, range?: ByteRange): Promise<{ decryptor: GroupDecryptor; span: ChunkSpan } | undefined> {
    if (!hasPositionalReads(this.store)) return undefined;
    const format = { chunkSize: cipher.chunkSize };
    const span = plainRangeToChunks(range, cipher.size, format);
    const key = await this.dataKeyOf(digest, cipher);
    try {
      const reader = await this.store.openBlob(storageName(cipher.id));
      try {
        return { decryptor: this.decryption.decryptor({ key, salt: Buffer.from(cipher.salt, 'base64'), context: chunkContext(cipher.id), format, plainSize: cipher.size }, reader), span };
      } catch (err) {
        await reader.close();
        throw err;
      }
    } finally {
      key.fill(0); // the decryptor holds its own copy
    }
  }

  /**
   * A KMS key was destroyed: its wrapped data keys go; blobs left with none are unreadable for
   * good, and their ciphertext is deleted.
   */
  async forgetKey(keyId: string): Promise<number> {
    let after: string | undefined;
    let shredded = 0;
    for (;;) {
      const docs = await this.meta.listDocuments(vaultKinds.blob, '', { after, limit: 500 });
      for (const doc of docs) {
        let current: typeof doc | undefined = doc;
        while (current) {
          const cipher = JSON.parse(current.body) as BlobCipher;
          if (cipher.wraps[keyId] === undefined) break;
          const wraps = Object.fromEntries(Object.entries(cipher.wraps).filter(([k]) => k !== keyId));
          const r = await this.meta.putDocument(vaultKinds.blob, current.key, JSON.stringify({ ...cipher, wraps } satisfies BlobCipher), { mode: 'update', expectedVersion: current.version });
          if (r.status === 'ok') {
            this.dataKeys.delete(current.key);
            if (Object.keys(wraps).length === 0) {
              await this.store.delete(storageName(cipher.id));
              shredded++;
            }
            break;
          }
          current = await this.meta.getDocument(vaultKinds.blob, current.key);
        }
      }
      if (docs.length < 500) break;
      after = docs.at(-1)?.key;
    }
    return shredded;
  }

  // Internals

  private async cipherOf(digest: string): Promise<BlobCipher | undefined> {
    const doc = await this.meta.getDocument(vaultKinds.blob, digest);
    return doc ? (JSON.parse(doc.body) as BlobCipher) : undefined;
  }

  private async uploadCipher(id: string): Promise<{ cipher: UploadCipher } | undefined> {
    const doc = await this.meta.getDocument(vaultKinds.upload, id);
    if (!doc) return undefined;
    const cipher = JSON.parse(doc.body) as { keyId: string; segments: (Omit<Segment, 'chunkSize'> & { chunkSize?: number })[] };
    // Segments written before chunk sizes were recorded all used 256 KiB (uploads in progress
    // across an upgrade).
    return { cipher: { ...cipher, segments: cipher.segments.map((s) => ({ ...s, chunkSize: s.chunkSize ?? unrecordedChunkSize })) } };
  }

  private async unwrap(wrapped: string, id: string): Promise<Buffer> {
    return (await this.keys.decryptDataKey(Buffer.from(wrapped, 'base64'), keyContext(id), caller)).plaintext;
  }

  /**
   * The blob's data key (a copy the caller may wipe), through the first of its keys that is
   * usable now; the KMS error of the last refusal when none is.
   */
  private async dataKeyOf(digest: string, cipher: BlobCipher): Promise<Buffer> {
    const ids = Object.keys(cipher.wraps);
    if (ids.length === 0) {
      throw new RegistryError('KMSInvalidState', `the KMS keys of blob ${digest} were destroyed; it can no longer be read`, { detail: { digest } });
    }
    let refusal: RegistryError | undefined;
    for (const keyId of ids) {
      const key = await this.keys.getKey(keyId);
      const problem = !key || key.destroying === true ? new RegistryError('KMSKeyNotFound', `KMS key ${keyId} no longer exists`) : unusable(key);
      if (problem) {
        refusal = problem;
        continue;
      }
      const cached = this.dataKeys.get(digest);
      if (cached && cached.until > Date.now()) return Buffer.from(cached.key);
      const plain = await this.unwrap(cipher.wraps[keyId] as string, cipher.id);
      this.remember(digest, plain);
      return plain;
    }
    throw new RegistryError((refusal as RegistryError).code, `blob ${digest} cannot be read: ${(refusal as RegistryError).message}`, { detail: { digest, keyIds: ids } });
  }

  private remember(digest: string, key: Buffer): void {
    this.dataKeys.delete(digest);
    if (this.dataKeys.size >= maxCachedDataKeys) {
      const oldest = this.dataKeys.keys().next();
      if (!oldest.done) this.dataKeys.delete(oldest.value);
    }
    this.dataKeys.set(digest, { key: Buffer.from(key), until: Date.now() + dataKeyTtlMs });
  }

  /** Encrypts `length` plaintext bytes from `source` under a new data key into a new stored object. */
  private async sealCopy(source: () => Promise<Readable>, length: number, keyId: string): Promise<BlobCipher> {
    const id = randomBytes(16).toString('hex');
    const salt = randomBytes(4);
    const dataKey = await this.keys.generateDataKey(keyId, keyContext(id), { caller });
    const uploadId = `seal-${id}`;
    await this.store.createUpload(uploadId);
    try {
      const sealed = encryptingStream(dataKey.plaintext, salt, chunkContext(id));
      pipeline(await source(), sealed, () => {});
      const stored = await this.store.appendUpload(uploadId, 0, sealed);
      if (stored !== encryptedSize(length)) throw new BlobIntegrityError(`re-encryption produced ${stored} bytes, expected ${encryptedSize(length)}`);
      await this.store.commitUpload(uploadId, stored, storageName(id));
    } catch (err) {
      await this.store.deleteUpload(uploadId).catch(() => undefined);
      throw err;
    } finally {
      dataKey.plaintext.fill(0);
    }
    return { id, salt: salt.toString('base64'), chunkSize: defaultFormat.chunkSize, size: length, wraps: { [keyId]: dataKey.ciphertextBlob.toString('base64') } };
  }

  /**
   * Records a newly stored encrypted blob. Another push of the same content may have won:
   * then ours is deleted and our key added to theirs. A plaintext copy from before the blob
   * was encrypted is removed (plaintext repositories then read it through the registry key).
   */
  private async install(digest: string, cipher: BlobCipher, keyId: string): Promise<void> {
    let wraps = cipher.wraps;
    const plaintextCopy = await this.store.stat(digest);
    if (plaintextCopy) {
      const registryKey = (await this.keys.defaultRegistryKey()).keyId;
      if (wraps[registryKey] === undefined) {
        const plain = await this.unwrap(wraps[keyId] as string, cipher.id);
        try {
          wraps = { ...wraps, [registryKey]: (await this.keys.encrypt(registryKey, plain, keyContext(cipher.id), caller)).ciphertextBlob.toString('base64') };
        } finally {
          plain.fill(0);
        }
      }
    }
    const r = await this.meta.putDocument(vaultKinds.blob, digest, JSON.stringify({ ...cipher, wraps } satisfies BlobCipher), { mode: 'create' });
    if (r.status !== 'ok') {
      await this.store.delete(storageName(cipher.id));
      await this.link(digest, keyId);
      return;
    }
    if (plaintextCopy) await this.store.delete(digest);
  }
}

/** The segments wholly before `offset` and their stored length; `offset` must fall between segments. */
function cut(segments: readonly Segment[], offset: number, id: string): { kept: Segment[]; stored: number } {
  const kept: Segment[] = [];
  let plain = 0;
  let stored = 0;
  for (const s of segments) {
    if (plain + s.plain > offset) break;
    kept.push(s);
    plain += s.plain;
    stored += encryptedSize(s.plain, s);
  }
  if (plain !== offset) throw new BlobIntegrityError(`upload ${id}: ${offset} bytes is not where a segment ends`);
  return { kept, stored };
}

/** Stored bytes of consecutive segments in, their plaintext out (each segment under its own key). */
function decryptSegments(source: Readable, parts: readonly (Segment & { key: Buffer })[]): Readable {
  async function* plaintext(): AsyncGenerator<Buffer> {
    const input = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let spare: Buffer | undefined;
    try {
      for (const part of parts) {
        const out: Buffer[] = [];
        let failure: Error | undefined;
        const opened = decryptingStream(part.key, Buffer.from(part.salt, 'base64'), chunkContext(part.id), part, part.plain);
        part.key.fill(0);
        const ended = new Promise<void>((resolve, reject) => {
          opened.once('end', resolve);
          opened.once('error', reject);
        });
        ended.catch(() => undefined);
        opened.on('data', (b: Buffer) => out.push(b));
        opened.on('error', (err: Error) => {
          failure = err;
        });
        let need = encryptedSize(part.plain, part);
        while (need > 0) {
          let piece = spare ?? ((await input.next()).value as Buffer | undefined);
          spare = undefined;
          if (!piece) throw new BlobIntegrityError('the upload ends inside a segment');
          if (piece.length > need) {
            spare = piece.subarray(need);
            piece = piece.subarray(0, need);
          }
          need -= piece.length;
          opened.write(piece);
          if (failure) throw failure;
          while (out.length > 0) yield out.shift() as Buffer;
        }
        opened.end();
        await ended;
        while (out.length > 0) yield out.shift() as Buffer;
      }
    } finally {
      source.destroy();
    }
  }
  return Readable.from(plaintext());
}
