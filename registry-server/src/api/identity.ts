// Principals, access keys and identity policies behind the shared resource plumbing.
import { RegistryError } from '../errors.ts';
import { hashSecret, newAccessKeyId, newSecret } from '../auth/secret-hash.ts';
import type { AccessKeyRecord, IdentityStore, PrincipalRecord, WriteResult } from '../auth/identity-store.ts';
import type { accessKeyModel, AccessKeyInput, identityPolicyModel, IdentityPolicyInput, principalModel, PrincipalInput } from '../model/resources/identity.ts';
import { canonicalPolicyText } from './policy-text.ts';
import type { Identity, Page, Representation, ResourceHandler } from './resource-handler.ts';

/** Bounds per principal: a key being rotated in and one going out, with room to spare. */
export const maxKeysPerPrincipal = 5;
export const maxPoliciesPerPrincipal = 20;

export function principalArn(registryId: string, name: string): string {
  return `arn:berth:iam::${registryId}:principal/${name}`;
}

function stale(what: string, version: number): RegistryError {
  return new RegistryError('PreconditionFailed', `${what} is at version ${version}`, { field: 'If-Match', headers: { ETag: `"${version}"` } });
}

function principalNotFound(name: string): RegistryError {
  return new RegistryError('PrincipalNotFound', `principal ${name} does not exist`, { field: 'principalName' });
}

function unwrap<T>(result: WriteResult<T>, what: string, missing: () => RegistryError): T {
  if (result.status === 'ok') return result.value;
  if (result.status === 'stale') throw stale(what, result.version);
  throw missing();
}

export class PrincipalHandler implements ResourceHandler<typeof principalModel> {
  private readonly store: IdentityStore;
  private readonly registryId: string;

  constructor(store: IdentityStore, registryId: string) {
    this.store = store;
    this.registryId = registryId;
  }

  private represent(p: PrincipalRecord): Representation<typeof principalModel> {
    return {
      principalName: p.name,
      type: p.type,
      ...(p.description !== undefined ? { description: p.description } : {}),
      ...(p.tags !== undefined ? { tags: p.tags } : {}),
      principalId: p.principalId,
      arn: principalArn(this.registryId, p.name),
      registryId: this.registryId,
      createdAt: p.createdAt,
      version: p.version,
    };
  }

  private async find(name: string): Promise<PrincipalRecord> {
    const p = await this.store.getPrincipal(name);
    if (!p) throw principalNotFound(name);
    return p;
  }

  async create(input: PrincipalInput): Promise<Representation<typeof principalModel>> {
    const r = await this.store.createPrincipal(input.principalName, {
      type: input.type ?? 'USER',
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.tags !== undefined ? { tags: input.tags } : {}),
    });
    if (r.status !== 'ok') throw new RegistryError('PrincipalAlreadyExists', `principal ${input.principalName} already exists`, { field: 'principalName' });
    return this.represent(r.value);
  }

  async read(id: Identity): Promise<Representation<typeof principalModel>> {
    return this.represent(await this.find(id.principalName ?? ''));
  }

  async update(id: Identity, patch: Partial<PrincipalInput>, expectedVersion: number | undefined): Promise<Representation<typeof principalModel>> {
    const current = await this.find(id.principalName ?? '');
    if (patch.type !== undefined && patch.type !== current.type) {
      throw new RegistryError('InvalidParameter', 'type is fixed when the principal is created; replace the principal to change it', { field: 'type' });
    }
    const description = 'description' in patch ? patch.description : current.description;
    const tags = 'tags' in patch ? patch.tags : current.tags;
    const body = {
      principalId: current.principalId,
      type: current.type,
      createdAt: current.createdAt,
      ...(description !== undefined ? { description } : {}),
      ...(tags !== undefined ? { tags } : {}),
    };
    return this.represent(unwrap(await this.store.updatePrincipal(current, body, expectedVersion), `principal ${current.name}`, () => principalNotFound(current.name)));
  }

  async delete(id: Identity, options: { force?: boolean }, expectedVersion: number | undefined): Promise<void> {
    const name = id.principalName ?? '';
    const result = await this.store.deletePrincipal(name, options.force === true, expectedVersion);
    if (result === 'missing') throw principalNotFound(name);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `principal ${name} changed since version ${expectedVersion}`, { field: 'If-Match' });
    if (result === 'dependents') throw new RegistryError('PrincipalHasDependents', `principal ${name} still has access keys or policies; delete them first or pass force=true`);
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<typeof principalModel>>> {
    const rows = await this.store.listPrincipals(query.prefix, { after: query.after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map((p) => this.represent(p)), ...(rows.length > query.limit && last ? { after: last.name } : {}) };
  }
}

function accessKeyNotFound(id: string): RegistryError {
  return new RegistryError('AccessKeyNotFound', `access key ${id} does not exist`, { field: 'accessKeyId' });
}

export class AccessKeyHandler implements ResourceHandler<typeof accessKeyModel> {
  private readonly store: IdentityStore;

  constructor(store: IdentityStore) {
    this.store = store;
  }

  private async represent(k: AccessKeyRecord, secret?: string): Promise<Representation<typeof accessKeyModel>> {
    const lastUsedAt = await this.store.lastUsed(k.accessKeyId);
    return {
      principalName: k.principalName,
      status: k.status,
      ...(k.description !== undefined ? { description: k.description } : {}),
      accessKeyId: k.accessKeyId,
      ...(secret !== undefined ? { secretAccessKey: secret } : {}),
      createdAt: k.createdAt,
      ...(k.rotatedAt !== undefined ? { rotatedAt: k.rotatedAt } : {}),
      ...(lastUsedAt !== undefined ? { lastUsedAt } : {}),
      version: k.version,
    };
  }

  private async find(id: string): Promise<AccessKeyRecord> {
    const k = await this.store.getAccessKey(id);
    if (!k) throw accessKeyNotFound(id);
    return k;
  }

  /** Creates a key; its secret is in this answer and nowhere else, ever. */
  async create(input: AccessKeyInput): Promise<Representation<typeof accessKeyModel>> {
    if (!(await this.store.getPrincipal(input.principalName))) throw principalNotFound(input.principalName);
    if ((await this.store.keysOf(input.principalName)).length >= maxKeysPerPrincipal) {
      throw new RegistryError('LimitExceeded', `principal ${input.principalName} already has ${maxKeysPerPrincipal} access keys; delete one first`, { field: 'principalName' });
    }
    const secret = newSecret();
    const body = {
      principalName: input.principalName,
      status: input.status ?? 'Active',
      ...(input.description !== undefined ? { description: input.description } : {}),
      secretHash: await hashSecret(secret),
      createdAt: new Date().toISOString(),
    };
    for (;;) {
      // Ids are random; a collision is astronomically rare but must not overwrite a key.
      const r = await this.store.createAccessKey(newAccessKeyId(), body);
      if (r.status === 'ok') return this.represent(r.value, secret);
    }
  }

  async read(id: Identity): Promise<Representation<typeof accessKeyModel>> {
    return this.represent(await this.find(id.accessKeyId ?? ''));
  }

  async update(id: Identity, patch: Partial<AccessKeyInput>, expectedVersion: number | undefined): Promise<Representation<typeof accessKeyModel>> {
    const current = await this.find(id.accessKeyId ?? '');
    if (patch.principalName !== undefined && patch.principalName !== current.principalName) {
      throw new RegistryError('InvalidParameter', 'an access key belongs to one principal for life; create a key for the other principal', { field: 'principalName' });
    }
    const { version: _v, accessKeyId: _id, ...body } = current;
    const description = 'description' in patch ? patch.description : current.description;
    const { description: _d, ...rest } = body;
    const next = { ...rest, status: patch.status ?? current.status, ...(description !== undefined ? { description } : {}) };
    return this.represent(unwrap(await this.store.updateAccessKey(current, next, expectedVersion), `access key ${current.accessKeyId}`, () => accessKeyNotFound(current.accessKeyId)));
  }

  /** Replaces the secret (the old one stops working at once); the new one is in this answer only. */
  async rotate(id: string, expectedVersion: number | undefined): Promise<Representation<typeof accessKeyModel>> {
    const current = await this.find(id);
    const secret = newSecret();
    const { version: _v, accessKeyId: _id, ...body } = current;
    const next = { ...body, secretHash: await hashSecret(secret), rotatedAt: new Date().toISOString() };
    return this.represent(unwrap(await this.store.updateAccessKey(current, next, expectedVersion), `access key ${id}`, () => accessKeyNotFound(id)), secret);
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const key = id.accessKeyId ?? '';
    const result = await this.store.deleteAccessKey(key, expectedVersion);
    if (result === 'missing') throw accessKeyNotFound(key);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `access key ${key} changed since version ${expectedVersion}`, { field: 'If-Match' });
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<typeof accessKeyModel>>> {
    // The prefix filters by principal name: "which keys does ci have" is the question asked.
    const items: Representation<typeof accessKeyModel>[] = [];
    let after = query.after;
    for (;;) {
      const rows = await this.store.listAccessKeys({ after, limit: 500 });
      for (const k of rows) {
        after = k.accessKeyId;
        if (!k.principalName.startsWith(query.prefix)) continue;
        if (items.length === query.limit) return { items, after: items.at(-1)?.accessKeyId ?? '' };
        items.push(await this.represent(k));
      }
      if (rows.length < 500) return { items };
    }
  }
}

function policyNotFound(principal: string, policy: string): RegistryError {
  return new RegistryError('IdentityPolicyNotFound', `principal ${principal} has no policy ${policy}`, { field: 'policyName' });
}

export class IdentityPolicyHandler implements ResourceHandler<typeof identityPolicyModel> {
  private readonly store: IdentityStore;
  private readonly registryId: string;

  constructor(store: IdentityStore, registryId: string) {
    this.store = store;
    this.registryId = registryId;
  }

  async read(id: Identity): Promise<Representation<typeof identityPolicyModel>> {
    const principal = id.principalName ?? '';
    const name = id.policyName ?? '';
    if (!(await this.store.getPrincipal(principal))) throw principalNotFound(principal);
    const p = await this.store.getPolicy(principal, name);
    if (!p) throw policyNotFound(principal, name);
    return { principalName: principal, policyName: name, policyText: p.text, registryId: this.registryId, version: p.version };
  }

  async update(id: Identity, body: Partial<IdentityPolicyInput>, expectedVersion: number | undefined): Promise<Representation<typeof identityPolicyModel>> {
    const principal = id.principalName ?? '';
    const name = id.policyName ?? '';
    if (!(await this.store.getPrincipal(principal))) throw principalNotFound(principal);
    if (typeof body.policyText !== 'string') throw new RegistryError('InvalidParameter', 'policyText is required', { field: 'policyText' });
    const text = canonicalPolicyText(body.policyText, 'policyText', 'identity');
    const existing = await this.store.policiesOf(principal);
    if (existing.length >= maxPoliciesPerPrincipal && !existing.some((p) => p.policyName === name)) {
      throw new RegistryError('LimitExceeded', `principal ${principal} already has ${maxPoliciesPerPrincipal} policies`, { field: 'policyName' });
    }
    const p = unwrap(await this.store.putPolicy(principal, name, text, expectedVersion), `policy ${name}`, () => policyNotFound(principal, name));
    return { principalName: principal, policyName: name, policyText: p.text, registryId: this.registryId, version: p.version };
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const principal = id.principalName ?? '';
    const name = id.policyName ?? '';
    const result = await this.store.deletePolicy(principal, name, expectedVersion);
    if (result === 'missing') throw policyNotFound(principal, name);
    if (result === 'stale') throw new RegistryError('PreconditionFailed', `policy ${name} changed since version ${expectedVersion}`, { field: 'If-Match' });
  }
}
