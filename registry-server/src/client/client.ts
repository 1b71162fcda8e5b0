// The typed management client. Its types are the models' own (Static<...>): nothing here is a
// hand-written copy of a resource. Used by the IaC providers, replication and tests.
import type { Static } from '@sinclair/typebox';
import type { ApiErrorCode } from '../errors.ts';
import type { ExecuteResponseT, ExpirationsResponseT, PreviewResponseT } from '../model/lifecycle.ts';
import type { BatchDeleteResponseT, BatchGetResponseT, ImageIdT, ListImagesResponseT } from '../model/images.ts';
import type { ResourceModel } from '../model/resource.ts';
import { repositoryCreationTemplateModel } from '../model/resources/repository-creation-template.ts';
import { repositoryModel } from '../model/resources/repository.ts';
import { lifecyclePolicyModel, registryPolicyModel, repositoryPolicyModel } from '../model/resources/policies.ts';
import { accessKeyModel, identityPolicyModel, principalModel } from '../model/resources/identity.ts';
import type { AuthorizationTokenT, SimulationRequestT } from '../model/auth.ts';
import type { SimulationResult } from '../model/auth.ts';

export type Representation<M extends ResourceModel> = Static<M['inputs']> & Static<M['outputs']>;
export type IdentityOf<M extends ResourceModel> = Pick<Static<M['inputs']>, M['identity'][number]> &
  (M extends { readonly assignedId: infer K extends string } ? Record<K, string> : unknown);

export interface ClientOptions {
  /** Base URL of the registry, e.g. http://127.0.0.1:5000 */
  readonly endpoint: string;
  /** An access key to sign every request with (HTTP Basic). */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
}

/** A management API error, with the registry's code and the field at fault. */
export class BerthApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode | string;
  readonly field: string | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, body: { code?: string; message?: string; field?: string; requestId?: string }) {
    super(body.message ?? `HTTP ${status}`);
    this.name = 'BerthApiError';
    this.status = status;
    this.code = body.code ?? 'Unknown';
    this.field = body.field;
    this.requestId = body.requestId;
  }
}

export interface WriteOptions {
  /** The version the change is based on; a newer server version fails with PreconditionFailed. */
  readonly ifMatch?: number;
}

/** Operations on one resource type. */
export class ResourceClient<M extends ResourceModel> {
  readonly model: M;
  private readonly http: Http;

  constructor(http: Http, model: M) {
    this.http = http;
    this.model = model;
  }

  private itemPath(id: Record<string, unknown>): string {
    return this.model.path.replace(/\{([A-Za-z]+)\}/g, (_, key: string) => {
      const v = id[key];
      if (typeof v !== 'string' || v === '') throw new Error(`${this.model.name}: missing identity field ${key}`);
      return encodeURIComponent(v);
    });
  }

  async create(input: Static<M['inputs']>): Promise<Representation<M>> {
    if (!this.model.collectionPath) throw new Error(`${this.model.name} is a singleton: use put`);
    return this.http.call('POST', this.model.collectionPath, input);
  }

  async read(id: IdentityOf<M>): Promise<Representation<M>> {
    return this.http.call('GET', this.itemPath(id as Record<string, unknown>));
  }

  /** Changes the fields given; for a singleton, sets the whole resource. */
  async update(id: IdentityOf<M>, patch: Partial<Static<M['inputs']>>, options: WriteOptions = {}): Promise<Representation<M>> {
    const method = this.model.collectionPath === undefined ? 'PUT' : 'PATCH';
    return this.http.call(method, this.itemPath(id as Record<string, unknown>), patch, options.ifMatch);
  }

  async delete(id: IdentityOf<M>, query: Record<string, string | boolean> = {}, options: WriteOptions = {}): Promise<void> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    await this.http.call('DELETE', `${this.itemPath(id as Record<string, unknown>)}${qs ? `?${qs}` : ''}`, undefined, options.ifMatch);
  }

  async list(query: { prefix?: string; maxResults?: number; nextToken?: string } = {}): Promise<{ items: Representation<M>[]; nextToken?: string }> {
    if (!this.model.collectionPath) throw new Error(`${this.model.name} has no collection`);
    const qs = new URLSearchParams();
    if (query.prefix !== undefined) qs.set('prefix', query.prefix);
    if (query.maxResults !== undefined) qs.set('maxResults', String(query.maxResults));
    if (query.nextToken !== undefined) qs.set('nextToken', query.nextToken);
    const q = qs.toString();
    return this.http.call('GET', `${this.model.collectionPath}${q ? `?${q}` : ''}`);
  }

  /** Every item, following nextToken. */
  async *listAll(query: { prefix?: string; maxResults?: number } = {}): AsyncGenerator<Representation<M>> {
    let nextToken: string | undefined;
    do {
      const page = await this.list({ ...query, ...(nextToken !== undefined ? { nextToken } : {}) });
      yield* page.items;
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  }
}

class Http {
  private readonly base: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly doFetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.base = `${options.endpoint.replace(/\/+$/, '')}/api/v1`;
    const c = options.credentials;
    this.headers = {
      ...(c ? { Authorization: `Basic ${Buffer.from(`${c.accessKeyId}:${c.secretAccessKey}`).toString('base64')}` } : {}),
      ...options.headers,
    };
    this.doFetch = options.fetch ?? fetch;
  }

  async call<T>(method: string, path: string, body?: unknown, ifMatch?: number): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...this.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (ifMatch !== undefined) headers['If-Match'] = `"${ifMatch}"`;
    const res = await this.doFetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new BerthApiError(res.status, { message: `non-JSON reply (${res.status}): ${text.slice(0, 200)}` });
    }
    if (!res.ok) throw new BerthApiError(res.status, (parsed ?? {}) as Record<string, string>);
    return parsed as T;
  }
}

/** Image operations of one registry (not resources: nothing declares an image). */
export class ImagesClient {
  private readonly http: Http;

  constructor(http: Http) {
    this.http = http;
  }

  private path(repositoryName: string, rest: string): string {
    return `/repositories/${encodeURIComponent(repositoryName)}/images${rest}`;
  }

  async list(repositoryName: string, query: { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY'; maxResults?: number; nextToken?: string } = {}): Promise<ListImagesResponseT> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.http.call('GET', this.path(repositoryName, qs ? `?${qs}` : ''));
  }

  async batchGet(repositoryName: string, imageIds: ImageIdT[]): Promise<BatchGetResponseT> {
    return this.http.call('POST', this.path(repositoryName, '/batch-get'), { imageIds });
  }

  async batchDelete(repositoryName: string, imageIds: ImageIdT[]): Promise<BatchDeleteResponseT> {
    return this.http.call('POST', this.path(repositoryName, '/batch-delete'), { imageIds });
  }
}

/** A repository's lifecycle policy operations beyond put/get/delete. */
export class LifecycleClient {
  private readonly http: Http;

  constructor(http: Http) {
    this.http = http;
  }

  private path(repositoryName: string, rest: string): string {
    return `/repositories/${encodeURIComponent(repositoryName)}/lifecycle-policy${rest}`;
  }

  /** What the stored policy (or `lifecyclePolicyText`) would expire now. */
  async preview(repositoryName: string, lifecyclePolicyText?: string): Promise<PreviewResponseT> {
    return this.http.call('POST', this.path(repositoryName, '/preview'), lifecyclePolicyText === undefined ? {} : { lifecyclePolicyText });
  }

  async execute(repositoryName: string): Promise<ExecuteResponseT> {
    return this.http.call('POST', this.path(repositoryName, '/execute'), {});
  }

  async expirations(repositoryName: string, query: { maxResults?: number; nextToken?: string } = {}): Promise<ExpirationsResponseT> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return this.http.call('GET', this.path(repositoryName, `/expirations${qs ? `?${qs}` : ''}`));
  }
}

/** The management API, one property per resource type. */
export class BerthClient {
  readonly repositories: ResourceClient<typeof repositoryModel>;
  readonly repositoryCreationTemplates: ResourceClient<typeof repositoryCreationTemplateModel>;
  readonly repositoryPolicies: ResourceClient<typeof repositoryPolicyModel>;
  readonly registryPolicy: ResourceClient<typeof registryPolicyModel>;
  readonly lifecyclePolicies: ResourceClient<typeof lifecyclePolicyModel>;
  readonly images: ImagesClient;
  readonly lifecycle: LifecycleClient;
  readonly principals: ResourceClient<typeof principalModel>;
  readonly accessKeys: ResourceClient<typeof accessKeyModel>;
  readonly identityPolicies: ResourceClient<typeof identityPolicyModel>;
  private readonly http: Http;

  constructor(options: ClientOptions) {
    this.http = new Http(options);
    this.repositories = this.resource(repositoryModel);
    this.repositoryCreationTemplates = this.resource(repositoryCreationTemplateModel);
    this.repositoryPolicies = this.resource(repositoryPolicyModel);
    this.registryPolicy = this.resource(registryPolicyModel);
    this.lifecyclePolicies = this.resource(lifecyclePolicyModel);
    this.images = new ImagesClient(this.http);
    this.lifecycle = new LifecycleClient(this.http);
    this.principals = this.resource(principalModel);
    this.accessKeys = this.resource(accessKeyModel);
    this.identityPolicies = this.resource(identityPolicyModel);
  }

  /** Replaces an access key's secret; the answer holds the new one (and nothing else ever will). */
  async rotateAccessKey(accessKeyId: string, options: WriteOptions = {}): Promise<Representation<typeof accessKeyModel>> {
    return this.http.call('POST', `/access-keys/${encodeURIComponent(accessKeyId)}/rotate`, undefined, options.ifMatch);
  }

  async listIdentityPolicies(principalName: string): Promise<{ policyNames: string[] }> {
    return this.http.call('GET', `/principals/${encodeURIComponent(principalName)}/policies`);
  }

  /** Which statement decides an action on a resource for a principal (or anonymous). */
  async simulatePolicy(request: SimulationRequestT): Promise<Static<typeof SimulationResult>> {
    return this.http.call('POST', '/simulate-policy', request);
  }

  /** A 12-hour login token acting as the caller (docker login -u BERTH -p <password>). */
  async authorizationToken(): Promise<AuthorizationTokenT> {
    return this.http.call('GET', '/authorization-token');
  }

  resource<M extends ResourceModel>(model: M): ResourceClient<M> {
    return new ResourceClient(this.http, model);
  }
}
