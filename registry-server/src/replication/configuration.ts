// The registry's replication configuration: one document of named rules. Passwords of
// destinations are stored only encrypted under the registry-managed KMS key and never returned.
// Both the whole-configuration resource and the per-rule resource edit the same document, each
// rule carrying its own version so that modules owning different rules never conflict.
import { RegistryError } from '../errors.ts';
import { registryKeyAlias, type KeyService } from '../kms/key-service.ts';
import type { MetadataStore, StoredDocument } from '../meta/metadata-store.ts';
import {
  replicationLimits,
  type ReplicationDestinationInput,
  type ReplicationRuleInput,
  type RepositoryFilterInput,
} from '../model/resources/replication.ts';

export const replicationKind = 'replication-configuration';
const docKey = 'registry';

interface StoredDestination {
  readonly endpoint: string;
  readonly registryId?: string;
  readonly region?: string;
  readonly username?: string;
  /** base64 KMS ciphertext of the password. */
  readonly sealedPassword?: string;
}

export interface StoredRule {
  readonly name: string;
  readonly version: number;
  readonly destinations: readonly StoredDestination[];
  readonly repositoryFilters: readonly RepositoryFilterInput[];
}

interface StoredConfiguration {
  readonly rules: readonly StoredRule[];
}

/** A destination as configured now; its password stays sealed until a client is built (unseal). */
export interface Destination {
  readonly key: string;
  readonly endpoint: string;
  readonly registryId: string | undefined;
  readonly region: string | undefined;
  readonly username: string | undefined;
  readonly sealedPassword: string | undefined;
}

/** A rule as the API shows it (no password). */
export interface RuleView {
  readonly name: string;
  readonly destinations: Omit<ReplicationDestinationInput, 'password'>[];
  readonly repositoryFilters: RepositoryFilterInput[];
}

/** Scheme and host lowercased, default port dropped, no trailing slash: one key per registry. */
export function destinationKey(endpoint: string): string {
  const url = new URL(endpoint);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/** True when the repository matches one of the filters (no filters: every repository). */
export function matchesFilters(repository: string, filters: readonly RepositoryFilterInput[]): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => (f.filterType === 'PREFIX_MATCH' ? repository.startsWith(f.filter) : wildcard(f.filter).test(repository)));
}

const patterns = new Map<string, RegExp>();
function wildcard(filter: string): RegExp {
  let re = patterns.get(filter);
  if (!re) {
    re = new RegExp(`^${filter.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
    if (patterns.size > 1000) patterns.clear();
    patterns.set(filter, re);
  }
  return re;
}

const credentialContext = (key: string) => ({ purpose: 'berth-replication-credentials', destination: key });

export class ReplicationConfigurations {
  private readonly meta: MetadataStore;
  private readonly keys: KeyService;

  constructor(meta: MetadataStore, keys: KeyService) {
    this.meta = meta;
    this.keys = keys;
  }

  async load(): Promise<{ doc: StoredDocument | undefined; rules: StoredRule[] }> {
    const doc = await this.meta.getDocument(replicationKind, docKey);
    return { doc, rules: doc ? [...(JSON.parse(doc.body) as StoredConfiguration).rules] : [] };
  }

  /** Keys of the destinations a push to `repository` replicates to now (deduplicated). */
  async destinationsFor(repository: string): Promise<string[]> {
    const { rules } = await this.load();
    const keys = new Set<string>();
    for (const rule of rules) {
      if (!matchesFilters(repository, rule.repositoryFilters)) continue;
      for (const d of rule.destinations) keys.add(destinationKey(d.endpoint));
    }
    return [...keys].sort();
  }

  /** The destination with this key as configured now (the first rule naming it wins). */
  async destination(key: string): Promise<Destination | undefined> {
    const d = find((await this.load()).rules, key);
    return d && { key, endpoint: d.endpoint, registryId: d.registryId, region: d.region, username: d.username, sealedPassword: d.sealedPassword };
  }

  /** A destination's password, decrypted (a KMS use, audited: callers keep the client it builds). */
  async unseal(d: Destination): Promise<string | undefined> {
    if (d.sealedPassword === undefined) return undefined;
    return (await this.keys.decrypt(Buffer.from(d.sealedPassword, 'base64'), credentialContext(d.key))).plaintext.toString('utf8');
  }

  /** The configured view of destination keys (for statuses), without credentials. */
  async describe(keys: readonly string[]): Promise<Map<string, { endpoint: string; registryId?: string; region?: string }>> {
    const { rules } = await this.load();
    return new Map(
      keys.map((key) => {
        const d = find(rules, key);
        return [key, d ? { endpoint: d.endpoint, ...(d.registryId ? { registryId: d.registryId } : {}), ...(d.region ? { region: d.region } : {}) } : { endpoint: key }];
      }),
    );
  }

  view(rule: StoredRule): RuleView {
    return {
      name: rule.name,
      destinations: rule.destinations.map(({ sealedPassword: _sealed, ...d }) => ({ ...d })),
      repositoryFilters: rule.repositoryFilters.map((f) => ({ ...f })),
    };
  }

  /**
   * Validates and stores `input` as rule `name` (replacing the rule of that name, if any, at
   * `previous`). An omitted password keeps the stored one for the same endpoint and user.
   */
  async seal(name: string, input: Omit<ReplicationRuleInput, 'name'>, previous: StoredRule | undefined, at: string): Promise<StoredRule> {
    const seen = new Set<string>();
    const destinations: StoredDestination[] = [];
    for (const [i, d] of input.destinations.entries()) {
      const field = `${at}.destinations.${i}`;
      let key: string;
      try {
        key = destinationKey(d.endpoint);
      } catch {
        throw new RegistryError('InvalidParameter', `${field}.endpoint is not a URL`, { field: `${field}.endpoint` });
      }
      if (seen.has(key)) throw new RegistryError('InvalidParameter', `${field}.endpoint ${key} appears twice in the rule`, { field: `${field}.endpoint` });
      seen.add(key);
      if (d.password !== undefined && d.username === undefined) {
        throw new RegistryError('InvalidParameter', `${field}.password needs a username`, { field: `${field}.username` });
      }
      let sealedPassword: string | undefined;
      if (d.password !== undefined) {
        sealedPassword = (await this.keys.encrypt(registryKeyAlias, Buffer.from(d.password, 'utf8'), credentialContext(key))).ciphertextBlob.toString('base64');
      } else if (d.username !== undefined) {
        const kept = previous?.destinations.find((p) => destinationKey(p.endpoint) === key && p.username === d.username)?.sealedPassword;
        if (kept === undefined) throw new RegistryError('InvalidParameter', `${field}.password is required with a username`, { field: `${field}.password` });
        sealedPassword = kept;
      }
      destinations.push({
        endpoint: d.endpoint,
        ...(d.registryId !== undefined ? { registryId: d.registryId } : {}),
        ...(d.region !== undefined ? { region: d.region } : {}),
        ...(d.username !== undefined ? { username: d.username } : {}),
        ...(sealedPassword !== undefined ? { sealedPassword } : {}),
      });
    }
    const repositoryFilters = (input.repositoryFilters ?? []).map((f) => ({ filter: f.filter, filterType: f.filterType }));
    const version = previous === undefined ? 1 : previous.version + 1;
    return { name, version, destinations, repositoryFilters };
  }

  /** Writes the rules, refusing when the document moved past `expected` (the version read). */
  async store(rules: readonly StoredRule[], expected: StoredDocument | undefined): Promise<StoredDocument> {
    if (rules.length > replicationLimits.rules) {
      throw new RegistryError('LimitExceeded', `a replication configuration has at most ${replicationLimits.rules} rules`, { field: 'rules' });
    }
    const body = JSON.stringify({ rules } satisfies StoredConfiguration);
    const r = await this.meta.putDocument(replicationKind, docKey, body, expected ? { mode: 'update', expectedVersion: expected.version } : { mode: 'create' });
    if (r.status === 'ok') return r.value;
    throw new RegistryError('PreconditionFailed', 'the replication configuration changed meanwhile; retry', { field: 'If-Match' });
  }

  async clear(expected: StoredDocument): Promise<void> {
    const r = await this.meta.deleteDocument(replicationKind, docKey, expected.version);
    if (r === 'stale') throw new RegistryError('PreconditionFailed', 'the replication configuration changed meanwhile; retry', { field: 'If-Match' });
  }
}

function find(rules: readonly StoredRule[], key: string): StoredDestination | undefined {
  for (const rule of rules) {
    const d = rule.destinations.find((x) => destinationKey(x.endpoint) === key);
    if (d) return d;
  }
  return undefined;
}
