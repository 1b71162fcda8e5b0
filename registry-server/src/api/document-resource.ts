import { RegistryError, type ApiErrorCode } from '../errors.ts';
import type { MetadataStore, StoredDocument } from '../meta/metadata-store.ts';
import type { ResourceModel } from '../model/resource.ts';
import type { Identity, Representation, ResourceHandler } from './resource-handler.ts';

export interface DocumentResourceOptions {
  readonly kind: string;
  /** The input field holding the document text. */
  readonly field: string;
  /** Validates and canonicalizes the text (throws InvalidParameter). */
  readonly canonicalize: (text: string) => string;
  readonly notFound: ApiErrorCode;
  /** Repository-scoped documents live and die with their repository. */
  readonly repositoryScoped: boolean;
  /** Output values besides the text and version. */
  readonly outputs: (doc: StoredDocument) => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/**
 * A singleton resource kept as one document: a repository's policy or lifecycle policy, the
 * registry policy. Put replaces it whole (create or update), in canonical form.
 */
export class DocumentResource<M extends ResourceModel> implements ResourceHandler<M> {
  private readonly meta: MetadataStore;
  private readonly options: DocumentResourceOptions;

  constructor(meta: MetadataStore, options: DocumentResourceOptions) {
    this.meta = meta;
    this.options = options;
  }

  private async key(id: Identity): Promise<{ key: string; repositoryId?: number }> {
    if (!this.options.repositoryScoped) return { key: 'registry' };
    const name = id.repositoryName ?? '';
    const repo = await this.meta.getRepository(name);
    if (!repo) throw new RegistryError('RepositoryNotFound', `repository ${name} does not exist`, { field: 'repositoryName' });
    return { key: name, repositoryId: repo.id };
  }

  private async represent(id: Identity, doc: StoredDocument): Promise<Representation<M>> {
    return { ...id, [this.options.field]: doc.body, ...(await this.options.outputs(doc)), version: doc.version } as Representation<M>;
  }

  async read(id: Identity): Promise<Representation<M>> {
    const { key } = await this.key(id);
    const doc = await this.meta.getDocument(this.options.kind, key);
    if (!doc) throw new RegistryError(this.options.notFound);
    return this.represent(id, doc);
  }

  async update(id: Identity, body: Record<string, unknown>, expectedVersion: number | undefined): Promise<Representation<M>> {
    const { key, repositoryId } = await this.key(id);
    const text = body[this.options.field];
    if (typeof text !== 'string') throw new RegistryError('InvalidParameter', `${this.options.field} is required`, { field: this.options.field });
    const canonical = this.options.canonicalize(text);
    const result = await this.meta.putDocument(this.options.kind, key, canonical, {
      mode: 'upsert',
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
      ...(repositoryId !== undefined ? { repositoryId } : {}),
    });
    if (result.status === 'ok') return this.represent(id, result.value);
    if (result.status === 'stale') throw new RegistryError('PreconditionFailed', `the document is at version ${result.current.version}`, { field: 'If-Match' });
    // Missing with an If-Match: there was nothing at that version.
    throw new RegistryError(this.options.notFound);
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const { key } = await this.key(id);
    const result = await this.meta.deleteDocument(this.options.kind, key, expectedVersion);
    if (result === 'missing') throw new RegistryError(this.options.notFound);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `the document changed since version ${expectedVersion}`, { field: 'If-Match' });
  }
}
