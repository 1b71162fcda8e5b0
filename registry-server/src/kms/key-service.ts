// KMS keys, their versions of key material, aliases and the audit trail, kept as documents in
// the metadata store so every replica sees the same keys. Material is stored only wrapped under
// the root key; unwrapped versions are cached in memory, but every use re-reads the key's
// document, so a key disabled or destroyed elsewhere stops working here at once.
import { randomBytes, randomUUID } from 'node:crypto';
import { RegistryError } from '../errors.ts';
import type { MetadataStore, StoredDocument } from '../meta/metadata-store.ts';
import { EnvelopeError, isKeyId, openBlob, readBlobHeader, sealBlob, unwrapMaterial, wrapMaterial, type EncryptionContext } from './envelope.ts';

export const kmsKinds = {
  key: 'kms-key',
  /** Key "<keyId>/<version, 10 digits>": one wrapped version of a key's material. */
  material: 'kms-key-material',
  /** Key "alias/<name>". */
  alias: 'kms-alias',
  /** Key "<keyId>/<inverted time>": newest first in key order. */
  audit: 'kms-audit',
} as const;

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export const rotationPeriodBounds = { min: 90, max: 2560, default: 365 } as const;
export const deletionWindowBounds = { min: 7, max: 30, default: 30 } as const;
/** AWS's limit for Encrypt's plaintext. */
export const maxPlaintextBytes = 4096;
export const maxDataKeyBytes = 1024;
export const registryKeyAlias = 'alias/berth/ecr';
/** Names no user alias may take: AWS's and the registry's own. */
const reservedAliasPrefixes = ['alias/aws/', 'alias/berth/'];
export const aliasNamePattern = '^alias/[a-zA-Z0-9/_-]{1,250}$';
const aliasRegex = new RegExp(aliasNamePattern);

export interface KmsKeyRecord {
  readonly keyId: string;
  readonly description: string;
  readonly keyUsage: 'ENCRYPT_DECRYPT';
  readonly keySpec: 'SYMMETRIC_DEFAULT';
  readonly keyState: KeyState;
  /** CUSTOMER keys are the user's; BERTH is the registry-managed default (like aws/ecr). */
  readonly keyManager: 'CUSTOMER' | 'BERTH';
  readonly createdAt: string;
  readonly currentKeyVersion: number;
  readonly rotationEnabled: boolean;
  readonly rotationPeriodInDays: number;
  /** From here the next automatic rotation is counted (enablement or the last rotation). */
  readonly rotationAnchor?: string;
  readonly nextRotationDate?: string;
  readonly lastRotatedAt?: string;
  /** Used when the key resource is deleted (a deletion is scheduled this many days ahead). */
  readonly deletionWindowInDays: number;
  readonly deletionDate?: string;
  /** Set once destruction has begun; it is then finished by the next runDueWork, never undone. */
  readonly destroying?: boolean;
  readonly tags?: Record<string, string>;
  /** Document version. */
  readonly version: number;
}

type KeyBody = Omit<KmsKeyRecord, 'keyId' | 'version'>;

export interface AliasRecord {
  readonly aliasName: string;
  /** As given (a key id or key ARN), so that infrastructure code sees no spurious change. */
  readonly targetKeyId: string;
  /** The key id it resolved to. */
  readonly keyId: string;
  readonly createdAt: string;
  readonly version: number;
}

export interface AuditRecord {
  readonly keyId: string;
  readonly keyVersion?: number;
  readonly operation: 'Encrypt' | 'Decrypt' | 'GenerateDataKey' | 'ReEncrypt';
  readonly at: string;
  readonly principal?: string;
  readonly requestId?: string;
  /** Only the keys: values may be sensitive and are not kept. */
  readonly encryptionContextKeys: readonly string[];
  readonly success: boolean;
  readonly errorCode?: string;
}

/** Who is using a key, for the audit trail. */
export interface KmsCaller {
  readonly principal?: string | undefined;
  readonly requestId?: string | undefined;
}

export interface CreateKeyInput {
  readonly description?: string | undefined;
  readonly keyUsage?: 'ENCRYPT_DECRYPT' | undefined;
  readonly keySpec?: 'SYMMETRIC_DEFAULT' | undefined;
  readonly enabled?: boolean | undefined;
  readonly enableKeyRotation?: boolean | undefined;
  readonly rotationPeriodInDays?: number | undefined;
  readonly deletionWindowInDays?: number | undefined;
  readonly tags?: Record<string, string> | undefined;
}

export interface KeyPatch extends CreateKeyInput {}

export interface KeyServiceOptions {
  readonly registryId: string;
  readonly region: string;
  readonly rootKey: Buffer;
  readonly now?: () => Date;
}

export interface DataKey {
  readonly plaintext: Buffer;
  readonly ciphertextBlob: Buffer;
  readonly keyId: string;
  readonly keyArn: string;
  readonly keyVersion: number;
}

export interface Decrypted {
  readonly plaintext: Buffer;
  readonly keyId: string;
  readonly keyArn: string;
  readonly keyVersion: number;
}

const dayMs = 86_400_000;
const maxCachedVersions = 1000;
const maxContextPairs = 64;
const maxContextBytes = 8192;

function keyNotFound(ref: string): RegistryError {
  return new RegistryError('KMSKeyNotFound', `KMS key ${ref} does not exist`, { field: 'keyId' });
}

function aliasNotFound(name: string): RegistryError {
  return new RegistryError('AliasNotFound', `alias ${name} does not exist`, { field: 'aliasName' });
}

function invalidCiphertext(reason: string): RegistryError {
  return new RegistryError('KMSInvalidCiphertext', `the ciphertext cannot be decrypted: ${reason}`, { field: 'ciphertextBlob' });
}

function stale(what: string, version: number): RegistryError {
  return new RegistryError('PreconditionFailed', `${what} is at version ${version}`, { field: 'If-Match', headers: { ETag: `"${version}"` } });
}

function materialKey(keyId: string, version: number): string {
  return `${keyId}/${String(version).padStart(10, '0')}`;
}

function addDays(at: Date, days: number): string {
  return new Date(at.getTime() + days * dayMs).toISOString();
}

function checkRange(value: number, bounds: { min: number; max: number }, field: string): void {
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new RegistryError('InvalidParameter', `${field} must be an integer from ${bounds.min} to ${bounds.max}`, { field });
  }
}

function checkContext(context: EncryptionContext | undefined): void {
  if (context === undefined) return;
  const entries = Object.entries(context);
  if (entries.length > maxContextPairs) throw new RegistryError('InvalidParameter', `encryptionContext may have at most ${maxContextPairs} pairs`, { field: 'encryptionContext' });
  let bytes = 0;
  for (const [k, v] of entries) {
    if (typeof v !== 'string') throw new RegistryError('InvalidParameter', `encryptionContext.${k} must be a string`, { field: 'encryptionContext' });
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > maxContextBytes) throw new RegistryError('InvalidParameter', `encryptionContext may hold at most ${maxContextBytes} bytes`, { field: 'encryptionContext' });
}

/** Why a key in this state cannot be used for cryptography; undefined when it can. */
export function unusable(key: KmsKeyRecord): RegistryError | undefined {
  if (key.keyState === 'Disabled') return new RegistryError('KMSDisabled', `KMS key ${key.keyId} is disabled; enable it to use it`, { field: 'keyId' });
  if (key.keyState === 'PendingDeletion') {
    return new RegistryError('KMSInvalidState', `KMS key ${key.keyId} is pending deletion (on ${key.deletionDate ?? '?'}); cancel the deletion and enable it to use it`, { field: 'keyId' });
  }
  return undefined;
}

/** Audit keys sort newest first: the inverted time, then an inverted per-process counter. */
let auditCounter = 0;
function auditKey(keyId: string, at: Date): string {
  auditCounter = (auditCounter + 1) % 1_000_000;
  const inverted = String(9_999_999_999_999 - at.getTime()).padStart(13, '0');
  const seq = String(999_999 - auditCounter).padStart(6, '0');
  return `${keyId}/${inverted}.${seq}.${randomBytes(3).toString('hex')}`;
}

export class KeyService {
  private readonly meta: MetadataStore;
  private readonly registryId: string;
  private readonly region: string;
  private readonly rootKey: Buffer;
  private readonly now: () => Date;
  /** Unwrapped material by "<keyId>/<version>"; consulted only after the key's state is checked. */
  private readonly material = new Map<string, Buffer>();

  constructor(meta: MetadataStore, options: KeyServiceOptions) {
    if (options.rootKey.length !== 32) throw new Error('the root key must be 32 bytes');
    this.meta = meta;
    this.registryId = options.registryId;
    this.region = options.region;
    this.rootKey = options.rootKey;
    this.now = options.now ?? (() => new Date());
  }

  keyArn(keyId: string): string {
    return `arn:berth:kms:${this.region}:${this.registryId}:key/${keyId}`;
  }

  aliasArn(aliasName: string): string {
    return `arn:berth:kms:${this.region}:${this.registryId}:${aliasName}`;
  }

  // Keys

  private record(doc: StoredDocument): KmsKeyRecord {
    return { ...(JSON.parse(doc.body) as KeyBody), keyId: doc.key, version: doc.version };
  }

  async getKey(keyId: string): Promise<KmsKeyRecord | undefined> {
    if (!isKeyId(keyId)) return undefined;
    const doc = await this.meta.getDocument(kmsKinds.key, keyId);
    return doc && this.record(doc);
  }

  private async mustGet(keyId: string): Promise<KmsKeyRecord> {
    const key = await this.getKey(keyId);
    if (!key || key.destroying === true) throw keyNotFound(keyId);
    return key;
  }

  async listKeys(prefix: string, page: { after?: string | undefined; limit: number }): Promise<KmsKeyRecord[]> {
    return (await this.meta.listDocuments(kmsKinds.key, prefix, page)).map((d) => this.record(d)).filter((k) => k.destroying !== true);
  }

  async createKey(input: CreateKeyInput, manager: 'CUSTOMER' | 'BERTH' = 'CUSTOMER'): Promise<KmsKeyRecord> {
    const period = input.rotationPeriodInDays ?? rotationPeriodBounds.default;
    checkRange(period, rotationPeriodBounds, 'rotationPeriodInDays');
    const window = input.deletionWindowInDays ?? deletionWindowBounds.default;
    checkRange(window, deletionWindowBounds, 'deletionWindowInDays');
    const now = this.now();
    const rotationEnabled = input.enableKeyRotation === true;
    const body: KeyBody = {
      description: input.description ?? '',
      keyUsage: input.keyUsage ?? 'ENCRYPT_DECRYPT',
      keySpec: input.keySpec ?? 'SYMMETRIC_DEFAULT',
      keyState: input.enabled === false ? 'Disabled' : 'Enabled',
      keyManager: manager,
      createdAt: now.toISOString(),
      currentKeyVersion: 1,
      rotationEnabled,
      rotationPeriodInDays: period,
      ...(rotationEnabled ? { rotationAnchor: now.toISOString(), nextRotationDate: addDays(now, period) } : {}),
      deletionWindowInDays: window,
      ...(input.tags !== undefined ? { tags: input.tags } : {}),
    };
    for (;;) {
      const keyId = randomUUID();
      // Material first: a key document never exists without the material it names.
      if (!(await this.writeMaterial(keyId, 1, now))) continue;
      const r = await this.meta.putDocument(kmsKinds.key, keyId, JSON.stringify(body), { mode: 'create' });
      if (r.status === 'ok') return this.record(r.value);
    }
  }

  /** Writes a new version's material; false if that version number is taken. */
  private async writeMaterial(keyId: string, version: number, at: Date): Promise<boolean> {
    const material = randomBytes(32);
    const wrapped = wrapMaterial(this.rootKey, keyId, version, material);
    const r = await this.meta.putDocument(kmsKinds.material, materialKey(keyId, version), JSON.stringify({ wrapped, createdAt: at.toISOString() }), { mode: 'create' });
    if (r.status !== 'ok') return false;
    this.cache(keyId, version, material);
    return true;
  }

  private cache(keyId: string, version: number, material: Buffer): void {
    if (this.material.size >= maxCachedVersions) this.material.clear();
    this.material.set(`${keyId}/${version}`, material);
  }

  /** A version's material, unwrapped; the caller has checked the key's state. */
  private async materialOf(keyId: string, version: number): Promise<Buffer> {
    const cached = this.material.get(`${keyId}/${version}`);
    if (cached) return cached;
    const doc = await this.meta.getDocument(kmsKinds.material, materialKey(keyId, version));
    if (!doc) throw invalidCiphertext(`KMS key ${keyId} has no version ${version}`);
    let material: Buffer;
    try {
      material = unwrapMaterial(this.rootKey, keyId, version, (JSON.parse(doc.body) as { wrapped: string }).wrapped);
    } catch (err) {
      // Tampered material, or a different root key than the one it was wrapped under.
      if (err instanceof EnvelopeError) throw new RegistryError('InternalError', `the material of KMS key ${keyId} version ${version} does not unwrap under this root key`);
      throw err;
    }
    this.cache(keyId, version, material);
    return material;
  }

  /**
   * Read-modify-write with optimistic concurrency. With `expectedVersion` (If-Match) a changed
   * key is refused; without it a concurrent write is simply retried on the fresh document.
   */
  private async mutate(keyId: string, change: (key: KmsKeyRecord) => KeyBody, expectedVersion?: number): Promise<KmsKeyRecord> {
    for (;;) {
      const current = await this.mustGet(keyId);
      if (expectedVersion !== undefined && current.version !== expectedVersion) throw stale(`KMS key ${keyId}`, current.version);
      const r = await this.meta.putDocument(kmsKinds.key, keyId, JSON.stringify(change(current)), { mode: 'update', expectedVersion: current.version });
      if (r.status === 'ok') return this.record(r.value);
      if (r.status === 'missing') throw keyNotFound(keyId);
      if (r.status === 'stale' && expectedVersion !== undefined) throw stale(`KMS key ${keyId}`, r.current.version);
    }
  }

  private static body(key: KmsKeyRecord): KeyBody {
    const { keyId: _id, version: _v, ...body } = key;
    return body;
  }

  /** Applies the fields present (UpdateKeyDescription, Enable/DisableKey, EnableKeyRotation, TagResource). */
  async updateKey(keyId: string, patch: KeyPatch, expectedVersion?: number): Promise<KmsKeyRecord> {
    if (patch.rotationPeriodInDays !== undefined) checkRange(patch.rotationPeriodInDays, rotationPeriodBounds, 'rotationPeriodInDays');
    if (patch.deletionWindowInDays !== undefined) checkRange(patch.deletionWindowInDays, deletionWindowBounds, 'deletionWindowInDays');
    return this.mutate(
      keyId,
      (key) => {
        if (patch.keyUsage !== undefined && patch.keyUsage !== key.keyUsage) throw new RegistryError('InvalidParameter', 'keyUsage is fixed when the key is created', { field: 'keyUsage' });
        if (patch.keySpec !== undefined && patch.keySpec !== key.keySpec) throw new RegistryError('InvalidParameter', 'keySpec is fixed when the key is created', { field: 'keySpec' });
        // Only fields whose value differs count: IaC sends unchanged values along.
        const now0: Record<string, unknown> = { ...key, enabled: key.keyState === 'Enabled', enableKeyRotation: key.rotationEnabled };
        const changes = Object.keys(patch).filter((k) => {
          const v = (patch as Record<string, unknown>)[k];
          return v !== undefined && JSON.stringify(v) !== JSON.stringify(now0[k]);
        });
        if (key.keyState === 'PendingDeletion' && changes.some((k) => k !== 'tags' && k !== 'deletionWindowInDays')) {
          throw new RegistryError('KMSInvalidState', `KMS key ${keyId} is pending deletion; cancel the deletion first`, { field: 'keyId' });
        }
        if (key.keyManager === 'BERTH' && changes.some((k) => k !== 'tags' && k !== 'description')) {
          throw new RegistryError('InvalidParameter', `KMS key ${keyId} is managed by the registry; only its description and tags can change`, { field: 'keyId' });
        }
        const now = this.now();
        const body = KeyService.body(key);
        let next: KeyBody = { ...body };
        if (patch.description !== undefined) next = { ...next, description: patch.description };
        if ('tags' in patch) {
          const { tags: _t, ...rest } = next;
          next = patch.tags !== undefined ? { ...rest, tags: patch.tags } : rest;
        }
        if (patch.deletionWindowInDays !== undefined) next = { ...next, deletionWindowInDays: patch.deletionWindowInDays };
        if (patch.enabled !== undefined && key.keyState !== 'PendingDeletion') next = { ...next, keyState: patch.enabled ? 'Enabled' : 'Disabled' };
        const rotationEnabled = patch.enableKeyRotation ?? key.rotationEnabled;
        const period = patch.rotationPeriodInDays ?? key.rotationPeriodInDays;
        const { rotationAnchor: _a, nextRotationDate: _n, ...withoutSchedule } = next;
        if (!rotationEnabled) {
          next = { ...withoutSchedule, rotationEnabled: false, rotationPeriodInDays: period };
        } else {
          // Turning rotation on starts the count now; a new period counts from the same anchor.
          const anchor = key.rotationEnabled && key.rotationAnchor !== undefined ? key.rotationAnchor : now.toISOString();
          next = { ...withoutSchedule, rotationEnabled: true, rotationPeriodInDays: period, rotationAnchor: anchor, nextRotationDate: addDays(new Date(anchor), period) };
        }
        return next;
      },
      expectedVersion,
    );
  }

  /** Adds a version of material and makes it current; older versions stay for decryption. */
  private async rotate(keyId: string, automatic: boolean, expectedVersion?: number): Promise<KmsKeyRecord> {
    const now = this.now();
    const start = await this.mustGet(keyId);
    // A version number left by a crash between the two writes is skipped, never reused.
    let version = start.currentKeyVersion + 1;
    while (!(await this.writeMaterial(keyId, version, now))) version += 1;
    const written = version;
    return this.mutate(
      keyId,
      (key) => {
        const refusal = unusable(key);
        if (refusal) throw new RegistryError('KMSInvalidState', `${refusal.message}; only enabled keys rotate`, { field: 'keyId' });
        const body = KeyService.body(key);
        const next: KeyBody = { ...body, currentKeyVersion: Math.max(key.currentKeyVersion, written), lastRotatedAt: now.toISOString() };
        // On-demand rotation leaves the automatic schedule alone, as AWS does.
        if (automatic && key.rotationEnabled) return { ...next, rotationAnchor: now.toISOString(), nextRotationDate: addDays(now, key.rotationPeriodInDays) };
        return next;
      },
      expectedVersion,
    );
  }

  async rotateKeyOnDemand(keyId: string, expectedVersion?: number): Promise<KmsKeyRecord> {
    const key = await this.mustGet(keyId);
    const refusal = unusable(key);
    if (refusal) throw new RegistryError('KMSInvalidState', `${refusal.message}; only enabled keys rotate`, { field: 'keyId' });
    return this.rotate(keyId, false, expectedVersion);
  }

  async scheduleKeyDeletion(keyId: string, pendingWindowInDays?: number, expectedVersion?: number): Promise<KmsKeyRecord> {
    if (pendingWindowInDays !== undefined) checkRange(pendingWindowInDays, deletionWindowBounds, 'pendingWindowInDays');
    return this.mutate(
      keyId,
      (key) => {
        if (key.keyManager === 'BERTH') throw new RegistryError('InvalidParameter', `KMS key ${keyId} is managed by the registry and cannot be deleted`, { field: 'keyId' });
        if (key.keyState === 'PendingDeletion') throw new RegistryError('KMSInvalidState', `KMS key ${keyId} is already pending deletion (on ${key.deletionDate ?? '?'})`, { field: 'keyId' });
        const days = pendingWindowInDays ?? key.deletionWindowInDays;
        return { ...KeyService.body(key), keyState: 'PendingDeletion', deletionDate: addDays(this.now(), days) };
      },
      expectedVersion,
    );
  }

  /** Undoes a scheduled deletion; the key comes back Disabled, as in AWS. */
  async cancelKeyDeletion(keyId: string, expectedVersion?: number): Promise<KmsKeyRecord> {
    return this.mutate(
      keyId,
      (key) => {
        if (key.keyState !== 'PendingDeletion') throw new RegistryError('KMSInvalidState', `KMS key ${keyId} is not pending deletion`, { field: 'keyId' });
        const { deletionDate: _d, ...body } = KeyService.body(key);
        return { ...body, keyState: 'Disabled' };
      },
      expectedVersion,
    );
  }

  /**
   * Destroys a key: its material, its aliases and its document. Marked first, so that a crash
   * part way leaves a key the next run finishes destroying rather than one half usable.
   */
  private async destroy(key: KmsKeyRecord): Promise<void> {
    if (key.destroying !== true) {
      const r = await this.meta.putDocument(kmsKinds.key, key.keyId, JSON.stringify({ ...KeyService.body(key), destroying: true }), { mode: 'update', expectedVersion: key.version });
      // Changed meanwhile (a cancellation): not ours to destroy any more.
      if (r.status !== 'ok') return;
    }
    for (const [k] of this.material) if (k.startsWith(`${key.keyId}/`)) this.material.delete(k);
    for (;;) {
      const docs = await this.meta.listDocuments(kmsKinds.material, `${key.keyId}/`, { limit: 500 });
      for (const d of docs) await this.meta.deleteDocument(kmsKinds.material, d.key);
      if (docs.length < 500) break;
    }
    for (const alias of await this.allAliases()) if (alias.keyId === key.keyId) await this.meta.deleteDocument(kmsKinds.alias, alias.aliasName);
    await this.meta.deleteDocument(kmsKinds.key, key.keyId);
  }

  /** Scheduled work: automatic rotations that are due, and destruction of keys past their deletion date. */
  async runDueWork(now: Date = this.now()): Promise<{ rotated: string[]; destroyed: string[] }> {
    const rotated: string[] = [];
    const destroyed: string[] = [];
    let after: string | undefined;
    for (;;) {
      const docs = await this.meta.listDocuments(kmsKinds.key, '', { after, limit: 200 });
      for (const doc of docs) {
        const key = this.record(doc);
        if (key.destroying === true || (key.keyState === 'PendingDeletion' && key.deletionDate !== undefined && Date.parse(key.deletionDate) <= now.getTime())) {
          await this.destroy(key);
          destroyed.push(key.keyId);
        } else if (key.keyState === 'Enabled' && key.rotationEnabled && key.nextRotationDate !== undefined && Date.parse(key.nextRotationDate) <= now.getTime()) {
          // Disabled keys are not rotated; once enabled again a passed date rotates at the next run.
          try {
            await this.rotate(key.keyId, true);
            rotated.push(key.keyId);
          } catch (err) {
            // Disabled or deleted between the listing and now: skip it this time.
            if (!(err instanceof RegistryError)) throw err;
          }
        }
      }
      if (docs.length < 200) break;
      after = docs.at(-1)?.key;
    }
    return { rotated, destroyed };
  }

  // Resolution

  /** The key named by an id, a key ARN, an alias name or an alias ARN (of this registry). */
  async resolveKey(ref: string, options: { createDefault?: boolean } = {}): Promise<KmsKeyRecord> {
    const arnPrefix = `arn:berth:kms:${this.region}:${this.registryId}:`;
    let name = ref;
    if (ref.startsWith('arn:')) {
      if (!ref.startsWith(arnPrefix)) throw keyNotFound(ref);
      name = ref.slice(arnPrefix.length);
      if (name.startsWith('key/')) name = name.slice('key/'.length);
      else if (!name.startsWith('alias/')) throw keyNotFound(ref);
    }
    if (name.startsWith('alias/')) {
      const alias = await this.getAlias(name);
      if (!alias) {
        // The registry's default key comes into being the first time its alias is named.
        if (name === registryKeyAlias && options.createDefault !== false) return this.defaultRegistryKey();
        throw new RegistryError('KMSKeyNotFound', `alias ${name} does not exist`, { field: 'keyId' });
      }
      return this.mustGet(alias.keyId);
    }
    if (!isKeyId(name)) throw keyNotFound(ref);
    return this.mustGet(name);
  }

  /** The id of the key a reference names; undefined when it names none (yet). */
  async keyIdOf(ref: string): Promise<string | undefined> {
    try {
      // Never creates the default key: this is asked before the caller is authorized.
      return (await this.resolveKey(ref, { createDefault: false })).keyId;
    } catch (err) {
      if (err instanceof RegistryError) return undefined;
      throw err;
    }
  }

  /** The registry-managed key for repositories with encryptionType AES256, made on first use. */
  async defaultRegistryKey(): Promise<KmsKeyRecord> {
    for (;;) {
      const alias = await this.getAlias(registryKeyAlias);
      if (alias) {
        const key = await this.getKey(alias.keyId);
        if (key) return key;
      }
      const key = await this.createKey({ description: 'Default key for repositories encrypted with AES256 (managed by the registry)', enableKeyRotation: true }, 'BERTH');
      const r = await this.meta.putDocument(kmsKinds.alias, registryKeyAlias, JSON.stringify({ targetKeyId: key.keyId, keyId: key.keyId, createdAt: key.createdAt }), { mode: 'create' });
      if (r.status === 'ok') return key;
      // Another replica made it first: theirs is the key; ours, never used, goes.
      await this.destroy(key);
    }
  }

  // Cryptography

  private async usable(ref: string): Promise<KmsKeyRecord> {
    const key = await this.resolveKey(ref);
    const refusal = unusable(key);
    if (refusal) throw refusal;
    return key;
  }

  private async audit(record: Omit<AuditRecord, 'at'>, at: Date): Promise<void> {
    const full: AuditRecord = { ...record, at: at.toISOString() };
    await this.meta.putDocument(kmsKinds.audit, auditKey(record.keyId, at), JSON.stringify(full), { mode: 'create' });
  }

  /** Runs `op`, recording it in the key's audit trail whether it succeeds or is refused. */
  private async audited<T>(
    operation: AuditRecord['operation'],
    keyId: string | undefined,
    context: EncryptionContext | undefined,
    caller: KmsCaller | undefined,
    op: () => Promise<T & { keyId: string; keyVersion?: number }>,
  ): Promise<T> {
    const at = this.now();
    const base = {
      operation,
      encryptionContextKeys: Object.keys(context ?? {}).sort(),
      ...(caller?.principal !== undefined ? { principal: caller.principal } : {}),
      ...(caller?.requestId !== undefined ? { requestId: caller.requestId } : {}),
    };
    try {
      const result = await op();
      await this.audit({ ...base, keyId: result.keyId, ...(result.keyVersion !== undefined ? { keyVersion: result.keyVersion } : {}), success: true }, at);
      return result;
    } catch (err) {
      // Refusals on a known key are recorded too: attempts on a disabled key are worth seeing.
      if (keyId !== undefined && err instanceof RegistryError && (await this.getKey(keyId))) await this.audit({ ...base, keyId, success: false, errorCode: err.code }, at);
      throw err;
    }
  }

  private async sealUnder(key: KmsKeyRecord, plaintext: Buffer, context: EncryptionContext | undefined): Promise<Buffer> {
    const material = await this.materialOf(key.keyId, key.currentKeyVersion);
    return sealBlob(material, key.keyId, key.currentKeyVersion, plaintext, context);
  }

  /** A fresh data key: the plaintext to use and forget, and the blob to store beside the data. */
  async generateDataKey(keyRef: string, context?: EncryptionContext, options: { numberOfBytes?: number; caller?: KmsCaller } = {}): Promise<DataKey> {
    checkContext(context);
    const bytes = options.numberOfBytes ?? 32;
    checkRange(bytes, { min: 1, max: maxDataKeyBytes }, 'numberOfBytes');
    const keyId = await this.keyIdOf(keyRef);
    return this.audited('GenerateDataKey', keyId, context, options.caller, async () => {
      const key = await this.usable(keyRef);
      const plaintext = randomBytes(bytes);
      const ciphertextBlob = await this.sealUnder(key, plaintext, context);
      return { plaintext, ciphertextBlob, keyId: key.keyId, keyArn: this.keyArn(key.keyId), keyVersion: key.currentKeyVersion };
    });
  }

  /** A data key's plaintext back from its blob (the key's state is checked as for any use). */
  async decryptDataKey(ciphertextBlob: Buffer, context?: EncryptionContext, caller?: KmsCaller): Promise<Decrypted> {
    return this.decrypt(ciphertextBlob, context, { ...(caller !== undefined ? { caller } : {}) });
  }

  async encrypt(keyRef: string, plaintext: Buffer, context?: EncryptionContext, caller?: KmsCaller): Promise<{ ciphertextBlob: Buffer; keyId: string; keyArn: string; keyVersion: number }> {
    checkContext(context);
    if (plaintext.length < 1 || plaintext.length > maxPlaintextBytes) {
      throw new RegistryError('InvalidParameter', `plaintext must be 1 to ${maxPlaintextBytes} bytes`, { field: 'plaintext' });
    }
    const keyId = await this.keyIdOf(keyRef);
    return this.audited('Encrypt', keyId, context, caller, async () => {
      const key = await this.usable(keyRef);
      return { ciphertextBlob: await this.sealUnder(key, plaintext, context), keyId: key.keyId, keyArn: this.keyArn(key.keyId), keyVersion: key.currentKeyVersion };
    });
  }

  /**
   * Decrypts a blob with the key and version named inside it. With `expectedKey` (an id, ARN
   * or alias) a blob sealed under another key is refused, as AWS's KeyId parameter does.
   */
  async decrypt(ciphertextBlob: Buffer, context?: EncryptionContext, options: { expectedKey?: string; caller?: KmsCaller; operation?: 'Decrypt' | 'ReEncrypt' } = {}): Promise<Decrypted> {
    checkContext(context);
    const head = readBlobHeader(ciphertextBlob);
    if (!head) throw invalidCiphertext('it is not a Berth KMS ciphertext');
    return this.audited(options.operation ?? 'Decrypt', head.keyId, context, options.caller, async () => {
      const key = await this.mustGet(head.keyId);
      if (options.expectedKey !== undefined && (await this.resolveKey(options.expectedKey)).keyId !== key.keyId) {
        throw new RegistryError('KMSInvalidCiphertext', `the ciphertext was not made under ${options.expectedKey}`, { field: 'keyId' });
      }
      const refusal = unusable(key);
      if (refusal) throw refusal;
      if (head.keyVersion > key.currentKeyVersion) throw invalidCiphertext(`KMS key ${key.keyId} has no version ${head.keyVersion}`);
      let plaintext: Buffer;
      try {
        plaintext = openBlob(await this.materialOf(key.keyId, head.keyVersion), ciphertextBlob, context);
      } catch (err) {
        if (err instanceof EnvelopeError) throw invalidCiphertext('it was altered, or the encryption context differs');
        throw err;
      }
      return { plaintext, keyId: key.keyId, keyArn: this.keyArn(key.keyId), keyVersion: head.keyVersion };
    });
  }

  /** Decrypts under the blob's key and encrypts under another without the plaintext leaving. */
  async reEncrypt(
    ciphertextBlob: Buffer,
    sourceContext: EncryptionContext | undefined,
    destinationKey: string,
    destinationContext: EncryptionContext | undefined,
    caller?: KmsCaller,
  ): Promise<{ ciphertextBlob: Buffer; keyId: string; sourceKeyId: string }> {
    const opened = await this.decrypt(ciphertextBlob, sourceContext, { operation: 'ReEncrypt', ...(caller !== undefined ? { caller } : {}) });
    try {
      const sealed = await this.encrypt(destinationKey, opened.plaintext, destinationContext, caller);
      return { ciphertextBlob: sealed.ciphertextBlob, keyId: sealed.keyId, sourceKeyId: opened.keyId };
    } finally {
      opened.plaintext.fill(0);
    }
  }

  // Aliases

  private alias(doc: StoredDocument): AliasRecord {
    return { ...(JSON.parse(doc.body) as Omit<AliasRecord, 'aliasName' | 'version'>), aliasName: doc.key, version: doc.version };
  }

  async getAlias(aliasName: string): Promise<AliasRecord | undefined> {
    const doc = await this.meta.getDocument(kmsKinds.alias, aliasName);
    return doc && this.alias(doc);
  }

  async listAliases(prefix: string, page: { after?: string | undefined; limit: number }): Promise<AliasRecord[]> {
    return (await this.meta.listDocuments(kmsKinds.alias, prefix, page)).map((d) => this.alias(d));
  }

  private async allAliases(): Promise<AliasRecord[]> {
    const all: AliasRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.listAliases('', { after, limit: 500 });
      all.push(...page);
      if (page.length < 500) return all;
      after = page.at(-1)?.aliasName;
    }
  }

  private static checkAliasName(aliasName: string): void {
    if (!aliasRegex.test(aliasName)) throw new RegistryError('InvalidParameter', 'aliasName must be "alias/" and 1 to 250 of letters, digits and /_-', { field: 'aliasName' });
    const reserved = reservedAliasPrefixes.find((p) => aliasName.startsWith(p));
    if (reserved) throw new RegistryError('InvalidParameter', `aliases starting with ${reserved} are reserved`, { field: 'aliasName' });
  }

  /** The key an alias may point at: named by id or key ARN (not another alias), customer-managed, not pending deletion. */
  private async aliasTarget(targetKeyId: string): Promise<KmsKeyRecord> {
    if (targetKeyId.startsWith('alias/') || targetKeyId.includes(':alias/')) {
      throw new RegistryError('InvalidParameter', 'targetKeyId must be a key id or key ARN, not an alias', { field: 'targetKeyId' });
    }
    let key: KmsKeyRecord;
    try {
      key = await this.resolveKey(targetKeyId);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'KMSKeyNotFound') throw new RegistryError('KMSKeyNotFound', `KMS key ${targetKeyId} does not exist`, { field: 'targetKeyId' });
      throw err;
    }
    if (key.keyManager === 'BERTH') throw new RegistryError('InvalidParameter', 'aliases cannot point at the registry-managed key', { field: 'targetKeyId' });
    if (key.keyState === 'PendingDeletion') throw new RegistryError('KMSInvalidState', `KMS key ${key.keyId} is pending deletion`, { field: 'targetKeyId' });
    return key;
  }

  async createAlias(aliasName: string, targetKeyId: string): Promise<AliasRecord> {
    KeyService.checkAliasName(aliasName);
    const key = await this.aliasTarget(targetKeyId);
    const body = { targetKeyId, keyId: key.keyId, createdAt: this.now().toISOString() };
    const r = await this.meta.putDocument(kmsKinds.alias, aliasName, JSON.stringify(body), { mode: 'create' });
    if (r.status !== 'ok') throw new RegistryError('AliasAlreadyExists', `alias ${aliasName} already exists`, { field: 'aliasName' });
    return this.alias(r.value);
  }

  /** Points an alias at another key (UpdateAlias). */
  async updateAlias(aliasName: string, targetKeyId: string, expectedVersion?: number): Promise<AliasRecord> {
    const current = await this.getAlias(aliasName);
    if (!current || reservedAliasPrefixes.some((p) => aliasName.startsWith(p))) throw aliasNotFound(aliasName);
    const key = await this.aliasTarget(targetKeyId);
    const body = { targetKeyId, keyId: key.keyId, createdAt: current.createdAt };
    const r = await this.meta.putDocument(kmsKinds.alias, aliasName, JSON.stringify(body), { mode: 'update', expectedVersion: expectedVersion ?? current.version });
    if (r.status === 'ok') return this.alias(r.value);
    if (r.status === 'stale') throw stale(`alias ${aliasName}`, r.current.version);
    throw aliasNotFound(aliasName);
  }

  async deleteAlias(aliasName: string, expectedVersion?: number): Promise<void> {
    // The registry's own alias is not the user's to remove.
    if (reservedAliasPrefixes.some((p) => aliasName.startsWith(p))) throw aliasNotFound(aliasName);
    const r = await this.meta.deleteDocument(kmsKinds.alias, aliasName, expectedVersion);
    if (r === 'missing') throw aliasNotFound(aliasName);
    if (r === 'stale') throw new RegistryError('PreconditionFailed', `alias ${aliasName} changed since version ${expectedVersion}`, { field: 'If-Match' });
  }

  // Audit

  /** A key's audit records, newest first; `after` is the opaque position of the last one seen. */
  async listAudit(keyId: string, page: { after?: string | undefined; limit: number }): Promise<{ records: AuditRecord[]; after?: string }> {
    const docs = await this.meta.listDocuments(kmsKinds.audit, `${keyId}/`, { after: page.after, limit: page.limit + 1 });
    const shown = docs.slice(0, page.limit);
    const last = shown.at(-1);
    return { records: shown.map((d) => JSON.parse(d.body) as AuditRecord), ...(docs.length > page.limit && last ? { after: last.key } : {}) };
  }
}
