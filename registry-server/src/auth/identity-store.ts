// Principals, access keys, identity policies and token signing keys, kept as documents in the
// metadata store, so every backend (and every replica sharing one) sees the same identities.
import { randomBytes } from 'node:crypto';
import type { MetadataStore, StoredDocument } from '../meta/metadata-store.ts';

export const identityKinds = {
  principal: 'principal',
  accessKey: 'access-key',
  /** Last sign-in per key, apart from the key so that using a key never changes its version. */
  accessKeyUse: 'access-key-use',
  /** Key "<principalName>/<policyName>". */
  identityPolicy: 'identity-policy',
  signingKey: 'signing-key',
} as const;

export interface PrincipalRecord {
  readonly name: string;
  readonly principalId: string;
  readonly type: 'USER' | 'SERVICE_ACCOUNT';
  readonly description?: string;
  readonly tags?: Record<string, string>;
  readonly createdAt: string;
  readonly version: number;
}

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly principalName: string;
  readonly status: 'Active' | 'Inactive';
  readonly description?: string;
  readonly secretHash: string;
  readonly createdAt: string;
  readonly rotatedAt?: string;
  readonly version: number;
}

export interface IdentityPolicyRecord {
  readonly principalName: string;
  readonly policyName: string;
  /** Canonical policy JSON. */
  readonly text: string;
  readonly version: number;
}

type Body<T> = Omit<T, 'version' | 'name' | 'accessKeyId'>;

const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** "BPID" and 16 random base32 characters: a principal's unique id. */
export function newPrincipalId(): string {
  const bytes = randomBytes(16);
  let out = 'BPID';
  for (const b of bytes) out += base32[b & 31];
  return out;
}

function parse<T>(doc: StoredDocument): T {
  return JSON.parse(doc.body) as T;
}

export type WriteResult<T> = { readonly status: 'ok'; readonly value: T } | { readonly status: 'missing' } | { readonly status: 'stale'; readonly version: number } | { readonly status: 'exists' };

export class IdentityStore {
  private readonly meta: MetadataStore;

  constructor(meta: MetadataStore) {
    this.meta = meta;
  }

  // Principals

  private principal(doc: StoredDocument): PrincipalRecord {
    return { ...parse<Body<PrincipalRecord>>(doc), name: doc.key, version: doc.version };
  }

  async getPrincipal(name: string): Promise<PrincipalRecord | undefined> {
    const doc = await this.meta.getDocument(identityKinds.principal, name);
    return doc && this.principal(doc);
  }

  async createPrincipal(name: string, body: Omit<Body<PrincipalRecord>, 'principalId' | 'createdAt'>): Promise<WriteResult<PrincipalRecord>> {
    const full: Body<PrincipalRecord> = { ...body, principalId: newPrincipalId(), createdAt: new Date().toISOString() };
    const r = await this.meta.putDocument(identityKinds.principal, name, JSON.stringify(full), { mode: 'create' });
    return r.status === 'ok' ? { status: 'ok', value: this.principal(r.value) } : { status: 'exists' };
  }

  async updatePrincipal(current: PrincipalRecord, body: Body<PrincipalRecord>, expectedVersion: number | undefined): Promise<WriteResult<PrincipalRecord>> {
    const r = await this.meta.putDocument(identityKinds.principal, current.name, JSON.stringify(body), {
      mode: 'update',
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    });
    if (r.status === 'ok') return { status: 'ok', value: this.principal(r.value) };
    if (r.status === 'stale') return { status: 'stale', version: r.current.version };
    return { status: 'missing' };
  }

  async listPrincipals(prefix: string, page: { after?: string | undefined; limit: number }): Promise<PrincipalRecord[]> {
    return (await this.meta.listDocuments(identityKinds.principal, prefix, page)).map((d) => this.principal(d));
  }

  async countPrincipals(): Promise<number> {
    return (await this.meta.listDocuments(identityKinds.principal, '', { limit: 1 })).length;
  }

  /** Deletes a principal; with `force` its keys and policies too, else they make it 'dependents'. */
  async deletePrincipal(name: string, force: boolean, expectedVersion: number | undefined): Promise<'deleted' | 'missing' | 'stale' | 'dependents'> {
    const keys = await this.keysOf(name);
    const policies = await this.policiesOf(name);
    if (!force && (keys.length > 0 || policies.length > 0)) {
      if (!(await this.getPrincipal(name))) return 'missing';
      return 'dependents';
    }
    const result = await this.meta.deleteDocument(identityKinds.principal, name, expectedVersion);
    if (result !== 'deleted') return result;
    for (const k of keys) await this.deleteAccessKey(k.accessKeyId);
    for (const p of policies) await this.meta.deleteDocument(identityKinds.identityPolicy, `${name}/${p.policyName}`);
    return 'deleted';
  }

  // Access keys

  private accessKey(doc: StoredDocument): AccessKeyRecord {
    return { ...parse<Body<AccessKeyRecord>>(doc), accessKeyId: doc.key, version: doc.version };
  }

  async getAccessKey(id: string): Promise<AccessKeyRecord | undefined> {
    const doc = await this.meta.getDocument(identityKinds.accessKey, id);
    return doc && this.accessKey(doc);
  }

  async createAccessKey(id: string, body: Body<AccessKeyRecord>): Promise<WriteResult<AccessKeyRecord>> {
    const r = await this.meta.putDocument(identityKinds.accessKey, id, JSON.stringify(body), { mode: 'create' });
    return r.status === 'ok' ? { status: 'ok', value: this.accessKey(r.value) } : { status: 'exists' };
  }

  async updateAccessKey(current: AccessKeyRecord, body: Body<AccessKeyRecord>, expectedVersion: number | undefined): Promise<WriteResult<AccessKeyRecord>> {
    const r = await this.meta.putDocument(identityKinds.accessKey, current.accessKeyId, JSON.stringify(body), {
      mode: 'update',
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    });
    if (r.status === 'ok') return { status: 'ok', value: this.accessKey(r.value) };
    if (r.status === 'stale') return { status: 'stale', version: r.current.version };
    return { status: 'missing' };
  }

  async deleteAccessKey(id: string, expectedVersion?: number): Promise<'deleted' | 'missing' | 'stale'> {
    const result = await this.meta.deleteDocument(identityKinds.accessKey, id, expectedVersion);
    if (result === 'deleted') await this.meta.deleteDocument(identityKinds.accessKeyUse, id);
    return result;
  }

  async listAccessKeys(page: { after?: string | undefined; limit: number }): Promise<AccessKeyRecord[]> {
    return (await this.meta.listDocuments(identityKinds.accessKey, '', page)).map((d) => this.accessKey(d));
  }

  /** A principal's keys (few: creation is capped per principal), found by walking every key. */
  async keysOf(principalName: string): Promise<AccessKeyRecord[]> {
    const found: AccessKeyRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.listAccessKeys({ after, limit: 500 });
      for (const k of page) if (k.principalName === principalName) found.push(k);
      if (page.length < 500) return found;
      after = page.at(-1)?.accessKeyId;
    }
  }

  async lastUsed(id: string): Promise<string | undefined> {
    const doc = await this.meta.getDocument(identityKinds.accessKeyUse, id);
    return doc ? parse<{ at: string }>(doc).at : undefined;
  }

  async recordUse(id: string, at: Date): Promise<void> {
    await this.meta.putDocument(identityKinds.accessKeyUse, id, JSON.stringify({ at: at.toISOString() }), { mode: 'upsert' });
  }

  // Identity policies

  private policy(doc: StoredDocument): IdentityPolicyRecord {
    const slash = doc.key.indexOf('/');
    return { principalName: doc.key.slice(0, slash), policyName: doc.key.slice(slash + 1), text: doc.body, version: doc.version };
  }

  async getPolicy(principalName: string, policyName: string): Promise<IdentityPolicyRecord | undefined> {
    const doc = await this.meta.getDocument(identityKinds.identityPolicy, `${principalName}/${policyName}`);
    return doc && this.policy(doc);
  }

  async putPolicy(principalName: string, policyName: string, text: string, expectedVersion: number | undefined): Promise<WriteResult<IdentityPolicyRecord>> {
    const r = await this.meta.putDocument(identityKinds.identityPolicy, `${principalName}/${policyName}`, text, {
      mode: 'upsert',
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    });
    if (r.status === 'ok') return { status: 'ok', value: this.policy(r.value) };
    if (r.status === 'stale') return { status: 'stale', version: r.current.version };
    return { status: 'missing' };
  }

  async deletePolicy(principalName: string, policyName: string, expectedVersion: number | undefined): Promise<'deleted' | 'missing' | 'stale'> {
    return this.meta.deleteDocument(identityKinds.identityPolicy, `${principalName}/${policyName}`, expectedVersion);
  }

  /** A principal's policies in name order (bounded per principal by the API). */
  async policiesOf(principalName: string): Promise<IdentityPolicyRecord[]> {
    return (await this.meta.listDocuments(identityKinds.identityPolicy, `${principalName}/`, { limit: 1000 })).map((d) => this.policy(d));
  }

  // Token signing keys (JSON records from auth/jwt.ts)

  async signingKeys(): Promise<{ kid: string; body: string; createdAt: Date }[]> {
    return (await this.meta.listDocuments(identityKinds.signingKey, '', { limit: 100 })).map((d) => ({ kid: d.key, body: d.body, createdAt: d.createdAt }));
  }

  async putSigningKey(kid: string, body: string): Promise<boolean> {
    return (await this.meta.putDocument(identityKinds.signingKey, kid, body, { mode: 'create' })).status === 'ok';
  }

  async deleteSigningKey(kid: string): Promise<void> {
    await this.meta.deleteDocument(identityKinds.signingKey, kid);
  }
}
