import { RegistryError } from '../errors.ts';
import type { MetadataStore, RepositorySettings, StoredDocument } from '../meta/metadata-store.ts';
import type { repositoryCreationTemplateModel, TemplateInput } from '../model/resources/repository-creation-template.ts';
import { documentKinds } from './document-kinds.ts';
import { canonicalLifecycleText, canonicalPolicyText } from './policy-text.ts';
import { settingsFrom } from './repositories.ts';
import type { Identity, Page, Representation, ResourceHandler } from './resource-handler.ts';

type Model = typeof repositoryCreationTemplateModel;
type Purpose = TemplateInput['appliedFor'][number];
const kind = documentKinds.creationTemplate;

/** Canonical stored form of a template: defaults explicit, policy texts canonical. */
function normalize(input: TemplateInput): TemplateInput {
  const settings = settingsFrom({ ...input, repositoryName: 'template', tags: input.resourceTags ?? {} }, undefined);
  const out: TemplateInput = {
    prefix: input.prefix,
    ...(input.description !== undefined ? { description: input.description } : {}),
    appliedFor: [...new Set(input.appliedFor)].sort(),
    imageTagMutability: settings.imageTagMutability,
    ...(settings.tagMutabilityExclusions.length > 0
      ? { imageTagMutabilityExclusionFilters: settings.tagMutabilityExclusions.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) }
      : {}),
    imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
    encryptionConfiguration: { encryptionType: settings.encryptionType, ...(settings.kmsKey !== undefined ? { kmsKey: settings.kmsKey } : {}) },
    resourceTags: { ...settings.tags },
  };
  if (input.repositoryPolicy !== undefined) out.repositoryPolicy = canonicalPolicyText(input.repositoryPolicy, 'repositoryPolicy');
  if (input.lifecyclePolicy !== undefined) out.lifecyclePolicy = canonicalLifecycleText(input.lifecyclePolicy, 'lifecyclePolicy');
  return out;
}

function represent(doc: StoredDocument): Representation<Model> {
  return {
    ...(JSON.parse(doc.body) as TemplateInput),
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    version: doc.version,
  };
}

function notFound(prefix: string): RegistryError {
  return new RegistryError('TemplateNotFound', `no repository creation template for prefix ${prefix}`, { field: 'prefix' });
}

export class TemplateHandler implements ResourceHandler<Model> {
  private readonly meta: MetadataStore;

  constructor(meta: MetadataStore) {
    this.meta = meta;
  }

  async create(input: TemplateInput): Promise<Representation<Model>> {
    const result = await this.meta.putDocument(kind, input.prefix, JSON.stringify(normalize(input)), { mode: 'create' });
    if (result.status === 'exists') throw new RegistryError('TemplateAlreadyExists', `a template for prefix ${input.prefix} already exists`, { field: 'prefix' });
    if (result.status !== 'ok') throw new RegistryError('InternalError');
    return represent(result.value);
  }

  async read(id: Identity): Promise<Representation<Model>> {
    const prefix = id.prefix ?? '';
    const doc = await this.meta.getDocument(kind, prefix);
    if (!doc) throw notFound(prefix);
    return represent(doc);
  }

  async update(id: Identity, patch: Partial<TemplateInput>, expectedVersion: number | undefined): Promise<Representation<Model>> {
    const current = await this.read(id);
    const { createdAt: _c, updatedAt: _u, version: _v, ...inputs } = current;
    if (patch.prefix !== undefined && patch.prefix !== current.prefix) {
      throw new RegistryError('InvalidParameter', 'prefix identifies the template; create another one instead', { field: 'prefix' });
    }
    // Clearing an optional text: send it as an empty string.
    const merged: TemplateInput = { ...inputs, ...patch, prefix: current.prefix };
    for (const key of ['repositoryPolicy', 'lifecyclePolicy', 'description'] as const) if (merged[key] === '') delete merged[key];
    const result = await this.meta.putDocument(kind, current.prefix, JSON.stringify(normalize(merged)), {
      mode: 'update',
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    });
    if (result.status === 'missing') throw notFound(current.prefix);
    if (result.status === 'stale') throw new RegistryError('PreconditionFailed', `template ${current.prefix} is at version ${result.current.version}`, { field: 'If-Match' });
    if (result.status !== 'ok') throw new RegistryError('InternalError');
    return represent(result.value);
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const prefix = id.prefix ?? '';
    const result = await this.meta.deleteDocument(kind, prefix, expectedVersion);
    if (result === 'missing') throw notFound(prefix);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `template ${prefix} changed since version ${expectedVersion}`, { field: 'If-Match' });
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<Model>>> {
    const rows = await this.meta.listDocuments(kind, query.prefix, { after: query.after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(represent), ...(rows.length > query.limit && last ? { after: last.key } : {}) };
  }
}

export interface AppliedTemplate {
  readonly prefix: string;
  readonly settings: RepositorySettings;
  readonly repositoryPolicy: string | undefined;
  readonly lifecyclePolicy: string | undefined;
}

/**
 * The template that applies to a new repository `name` for `purpose`: the longest namespace
 * prefix ("a/b" for "a/b/c", then "a"), else ROOT.
 */
export async function findTemplate(meta: MetadataStore, name: string, purpose: Purpose): Promise<AppliedTemplate | undefined> {
  const parts = name.split('/');
  const candidates = parts.slice(0, -1).map((_, i) => parts.slice(0, parts.length - 1 - i).join('/'));
  for (const prefix of [...candidates, 'ROOT']) {
    const doc = await meta.getDocument(kind, prefix);
    if (!doc) continue;
    const t = JSON.parse(doc.body) as TemplateInput;
    if (!t.appliedFor.includes(purpose)) continue;
    return {
      prefix,
      settings: settingsFrom({ ...t, repositoryName: name, tags: t.resourceTags ?? {} }, undefined),
      repositoryPolicy: t.repositoryPolicy,
      lifecyclePolicy: t.lifecyclePolicy,
    };
  }
  return undefined;
}
