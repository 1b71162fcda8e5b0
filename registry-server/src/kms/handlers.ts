// KMS keys and aliases behind the shared resource plumbing, and the ARN a KMS request acts on.
import type { FastifyRequest } from 'fastify';
import type { ResourceRef } from '../auth/authorizer.ts';
import { RegistryError } from '../errors.ts';
import type { Identity, Page, Representation, ResourceHandler } from '../api/resource-handler.ts';
import type { KmsAliasInput, kmsAliasModel, KmsKeyInput, kmsKeyModel } from '../model/resources/kms.ts';
import { readBlobHeader } from './envelope.ts';
import type { AliasRecord, KeyService, KmsKeyRecord } from './key-service.ts';

export class KmsKeyHandler implements ResourceHandler<typeof kmsKeyModel> {
  private readonly keys: KeyService;

  constructor(keys: KeyService) {
    this.keys = keys;
  }

  represent(k: KmsKeyRecord): Representation<typeof kmsKeyModel> {
    return {
      description: k.description,
      keyUsage: k.keyUsage,
      keySpec: k.keySpec,
      enabled: k.keyState === 'Enabled',
      enableKeyRotation: k.rotationEnabled,
      rotationPeriodInDays: k.rotationPeriodInDays,
      deletionWindowInDays: k.deletionWindowInDays,
      ...(k.tags !== undefined ? { tags: k.tags } : {}),
      keyId: k.keyId,
      arn: this.keys.keyArn(k.keyId),
      keyState: k.keyState,
      keyManager: k.keyManager,
      createdAt: k.createdAt,
      ...(k.deletionDate !== undefined ? { deletionDate: k.deletionDate } : {}),
      ...(k.nextRotationDate !== undefined ? { nextRotationDate: k.nextRotationDate } : {}),
      currentKeyVersion: k.currentKeyVersion,
      version: k.version,
    };
  }

  private async find(keyId: string): Promise<KmsKeyRecord> {
    const key = await this.keys.getKey(keyId);
    if (!key || key.destroying === true) throw new RegistryError('KMSKeyNotFound', `KMS key ${keyId} does not exist`, { field: 'keyId' });
    return key;
  }

  async create(input: KmsKeyInput): Promise<Representation<typeof kmsKeyModel>> {
    return this.represent(await this.keys.createKey(input));
  }

  /** A key pending deletion is still described (with its keyState and deletionDate), as in AWS. */
  async read(id: Identity): Promise<Representation<typeof kmsKeyModel>> {
    return this.represent(await this.find(id.keyId ?? ''));
  }

  async update(id: Identity, patch: Partial<KmsKeyInput>, expectedVersion: number | undefined): Promise<Representation<typeof kmsKeyModel>> {
    return this.represent(await this.keys.updateKey(id.keyId ?? '', patch, expectedVersion));
  }

  /** Like aws_kms_key: deleting schedules destruction after the key's deletion window; deleting again is a no-op. */
  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const key = await this.find(id.keyId ?? '');
    if (key.keyState === 'PendingDeletion') return;
    await this.keys.scheduleKeyDeletion(key.keyId, undefined, expectedVersion);
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<typeof kmsKeyModel>>> {
    const rows = await this.keys.listKeys(query.prefix, { after: query.after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map((k) => this.represent(k)), ...(rows.length > query.limit && last ? { after: last.keyId } : {}) };
  }
}

export class KmsAliasHandler implements ResourceHandler<typeof kmsAliasModel> {
  private readonly keys: KeyService;

  constructor(keys: KeyService) {
    this.keys = keys;
  }

  private represent(a: AliasRecord): Representation<typeof kmsAliasModel> {
    return { aliasName: a.aliasName, targetKeyId: a.targetKeyId, arn: this.keys.aliasArn(a.aliasName), targetKeyArn: this.keys.keyArn(a.keyId), version: a.version };
  }

  async create(input: KmsAliasInput): Promise<Representation<typeof kmsAliasModel>> {
    return this.represent(await this.keys.createAlias(input.aliasName, input.targetKeyId));
  }

  async read(id: Identity): Promise<Representation<typeof kmsAliasModel>> {
    const name = id.aliasName ?? '';
    const alias = await this.keys.getAlias(name);
    if (!alias) throw new RegistryError('AliasNotFound', `alias ${name} does not exist`, { field: 'aliasName' });
    return this.represent(alias);
  }

  async update(id: Identity, patch: Partial<KmsAliasInput>, expectedVersion: number | undefined): Promise<Representation<typeof kmsAliasModel>> {
    const name = id.aliasName ?? '';
    if (patch.targetKeyId === undefined) return this.read(id);
    return this.represent(await this.keys.updateAlias(name, patch.targetKeyId, expectedVersion));
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    await this.keys.deleteAlias(id.aliasName ?? '', expectedVersion);
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<typeof kmsAliasModel>>> {
    const rows = await this.keys.listAliases(query.prefix, { after: query.after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map((a) => this.represent(a)), ...(rows.length > query.limit && last ? { after: last.aliasName } : {}) };
  }
}

/**
 * The ARN a KMS request acts on, for authorization: the key in the path, the key or alias in
 * the body (an alias resolved to its key, as AWS authorizes Encrypt through an alias), the key
 * a ciphertext names, an alias in the path, or key/* for creation and listing.
 */
export async function kmsResourceOf(keys: KeyService, req: FastifyRequest): Promise<ResourceRef> {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (params.keyId !== undefined) return { arn: keys.keyArn(params.keyId) };
  if (params.aliasName !== undefined) return { arn: keys.aliasArn(params.aliasName) };
  if (typeof body.ciphertextBlob === 'string') {
    const head = readBlobHeader(Buffer.from(body.ciphertextBlob, 'base64'));
    if (!head) throw new RegistryError('KMSInvalidCiphertext', 'the ciphertext is not a Berth KMS ciphertext', { field: 'ciphertextBlob' });
    return { arn: keys.keyArn(head.keyId) };
  }
  if (typeof body.aliasName === 'string') return { arn: keys.aliasArn(body.aliasName) };
  if (typeof body.keyId === 'string') {
    const keyId = await keys.keyIdOf(body.keyId);
    // An unknown key is authorized as named; the handler then says it does not exist.
    if (keyId === undefined) return { arn: body.keyId.startsWith('arn:') ? body.keyId : body.keyId.startsWith('alias/') ? keys.aliasArn(body.keyId) : keys.keyArn(body.keyId) };
    return { arn: keys.keyArn(keyId) };
  }
  return { arn: keys.keyArn('*') };
}
