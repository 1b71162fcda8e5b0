import { RegistryError } from '../errors.ts';
import type { MetadataStore, Repository, RepositorySettings } from '../meta/metadata-store.ts';
import type { repositoryModel, RepositoryInput } from '../model/resources/repository.ts';
import { isValidName } from '../names.ts';
import { unusable, type KeyService } from '../kms/key-service.ts';
import type { Identity, Page, Representation, ResourceHandler } from './resource-handler.ts';

type Model = typeof repositoryModel;

export interface RegistryIdentity {
  readonly registryId: string;
  readonly region: string;
  readonly publicHost: string;
}

/** Repository behaviour behind the shared resource plumbing. */
export class RepositoryHandler implements ResourceHandler<Model> {
  private readonly meta: MetadataStore;
  private readonly registry: RegistryIdentity;
  private readonly keys: KeyService;

  constructor(meta: MetadataStore, registry: RegistryIdentity, keys: KeyService) {
    this.meta = meta;
    this.registry = registry;
    this.keys = keys;
  }

  async create(input: RepositoryInput): Promise<Representation<Model>> {
    if (!isValidName(input.repositoryName)) throw new RegistryError('InvalidParameter', 'invalid repository name', { field: 'repositoryName' });
    const settings = settingsFrom(input, undefined);
    if (settings.kmsKey !== undefined) await checkKey(this.keys, settings.kmsKey);
    const created = await this.meta.createRepository(input.repositoryName, settings);
    if (!created) throw new RegistryError('RepositoryAlreadyExists', `repository ${input.repositoryName} already exists`, { field: 'repositoryName' });
    return this.represent(created);
  }

  async read(id: Identity): Promise<Representation<Model>> {
    return this.represent(await this.find(id));
  }

  async update(id: Identity, patch: Partial<RepositoryInput>, expectedVersion: number | undefined): Promise<Representation<Model>> {
    const current = await this.find(id);
    if (patch.encryptionConfiguration !== undefined && !sameEncryption(patch.encryptionConfiguration, current.settings)) {
      throw new RegistryError('InvalidParameter', 'encryptionConfiguration is fixed when the repository is created; replace the repository to change it', {
        field: 'encryptionConfiguration',
      });
    }
    const settings = settingsFrom({ ...representInputs(current), ...patch, repositoryName: current.name }, current.settings);
    const result = await this.meta.updateRepository(current.name, settings, expectedVersion);
    if (result.status === 'missing') throw notFound(current.name);
    if (result.status === 'stale') {
      throw new RegistryError('PreconditionFailed', `repository ${current.name} is at version ${result.current.version}, not ${expectedVersion}`, {
        field: 'If-Match',
        headers: { ETag: `"${result.current.version}"` },
      });
    }
    return this.represent(result.value);
  }

  async delete(id: Identity, options: { force?: boolean }, expectedVersion: number | undefined): Promise<void> {
    const name = id.repositoryName ?? '';
    const result = await this.meta.deleteRepository(name, { force: options.force === true, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });
    if (result === 'missing') throw notFound(name);
    if (result === 'not-empty') throw new RegistryError('RepositoryNotEmpty', `repository ${name} contains images; delete them first or pass force=true`);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `repository ${name} changed since version ${expectedVersion}`, { field: 'If-Match' });
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<Model>>> {
    const rows = await this.meta.listRepositoryRecords(query.prefix, { after: query.after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const items = await Promise.all(page.map((r) => this.represent(r)));
    const last = page.at(-1);
    return { items, ...(rows.length > query.limit && last ? { after: last.name } : {}) };
  }

  private async find(id: Identity): Promise<Repository> {
    const name = id.repositoryName ?? '';
    const repo = await this.meta.getRepository(name);
    if (!repo) throw notFound(name);
    return repo;
  }

  private async represent(repo: Repository): Promise<Representation<Model>> {
    const stats = await this.meta.repositoryStats(repo.id);
    const { registryId, region, publicHost } = this.registry;
    return {
      ...representInputs(repo),
      repositoryId: String(repo.id),
      registryId,
      repositoryArn: `arn:berth:ecr:${region}:${registryId}:repository/${repo.name}`,
      repositoryUri: `${publicHost}/${repo.name}`,
      createdAt: repo.createdAt.toISOString(),
      imageCount: stats.imageCount,
      sizeInBytes: stats.sizeInBytes,
      version: repo.version,
    };
  }
}

/** A repository is created only under a key that exists and can be used now (as ECR asks of KMS). */
export async function checkKey(keys: KeyService, ref: string): Promise<void> {
  const field = 'encryptionConfiguration.kmsKey';
  let key;
  try {
    key = await keys.resolveKey(ref, { createDefault: false });
  } catch (err) {
    if (err instanceof RegistryError) throw new RegistryError(err.code, err.message, { field });
    throw err;
  }
  const refusal = unusable(key);
  if (refusal) throw new RegistryError(refusal.code, refusal.message, { field });
}

function notFound(name: string): RegistryError {
  return new RegistryError('RepositoryNotFound', `repository ${name} does not exist`, { field: 'repositoryName' });
}

function sameEncryption(e: NonNullable<RepositoryInput['encryptionConfiguration']>, s: RepositorySettings): boolean {
  return e.encryptionType === s.encryptionType && (e.kmsKey ?? undefined) === s.kmsKey;
}

/** The inputs as the API shows them, every server default filled in. */
function representInputs(repo: Repository): Required<Omit<RepositoryInput, 'imageTagMutabilityExclusionFilters'>> & Pick<RepositoryInput, 'imageTagMutabilityExclusionFilters'> {
  const s = repo.settings;
  return {
    repositoryName: repo.name,
    imageTagMutability: s.imageTagMutability,
    ...(s.tagMutabilityExclusions.length > 0
      ? { imageTagMutabilityExclusionFilters: s.tagMutabilityExclusions.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) }
      : {}),
    imageScanningConfiguration: { scanOnPush: s.scanOnPush },
    encryptionConfiguration: { encryptionType: s.encryptionType, ...(s.kmsKey !== undefined ? { kmsKey: s.kmsKey } : {}) },
    tags: { ...s.tags },
  };
}

/** Validates the cross-field rules and turns API inputs into stored settings. */
export function settingsFrom(input: RepositoryInput, current: RepositorySettings | undefined): RepositorySettings {
  const mutability = input.imageTagMutability ?? current?.imageTagMutability ?? 'MUTABLE';
  const withExclusions = mutability.endsWith('_WITH_EXCLUSION');
  const filters = input.imageTagMutabilityExclusionFilters;
  if (withExclusions && (filters === undefined || filters.length === 0)) {
    throw new RegistryError('InvalidParameter', `${mutability} needs at least one exclusion filter`, { field: 'imageTagMutabilityExclusionFilters' });
  }
  if (!withExclusions && filters !== undefined && filters.length > 0) {
    throw new RegistryError('InvalidParameter', `exclusion filters apply only to the *_WITH_EXCLUSION settings, not ${mutability}`, {
      field: 'imageTagMutabilityExclusionFilters',
    });
  }
  const encryption = input.encryptionConfiguration ?? (current ? { encryptionType: current.encryptionType, kmsKey: current.kmsKey } : { encryptionType: 'AES256' as const });
  if (encryption.encryptionType === 'KMS' && (encryption.kmsKey === undefined || encryption.kmsKey === '')) {
    throw new RegistryError('InvalidParameter', 'encryptionType KMS needs kmsKey: a key id, alias (alias/<name>) or key ARN', { field: 'encryptionConfiguration.kmsKey' });
  }
  if (encryption.encryptionType !== 'KMS' && encryption.kmsKey !== undefined) {
    throw new RegistryError('InvalidParameter', 'kmsKey is only allowed with encryptionType KMS', { field: 'encryptionConfiguration.kmsKey' });
  }
  return {
    imageTagMutability: mutability,
    tagMutabilityExclusions: withExclusions ? [...new Set((filters ?? []).map((f) => f.filter))] : [],
    scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? current?.scanOnPush ?? false,
    encryptionType: encryption.encryptionType,
    kmsKey: encryption.encryptionType === 'KMS' ? encryption.kmsKey : undefined,
    tags: input.tags ?? current?.tags ?? {},
  };
}
