// Gathers the policies that bear on a request (the caller's identity policies, the repository's
// policy, the registry policy) and decides it with IAM semantics.
import { documentKinds } from '../api/document-kinds.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { evaluate, type AttachedPolicy, type Decision } from '../policy/evaluate.ts';
import { validatePolicyDocument, type PolicyContext, type PolicyDocument } from '../policy/index.ts';
import type { AuthenticatedCaller } from './authenticator.ts';
import type { IdentityStore } from './identity-store.ts';
import type { FreshCache } from './freshness.ts';

export interface RegistryCoordinates {
  readonly registryId: string;
  readonly region: string;
}

/** What a request acts on: its ARN, and the repository whose policy applies (if any). */
export interface ResourceRef {
  readonly arn: string;
  readonly repositoryName?: string;
}

export interface RequestFacts {
  readonly sourceIp: string;
  readonly secureTransport: boolean;
  readonly now?: Date;
}

export interface Explained extends Decision {
  /** Every policy considered, by source label. */
  readonly policies: readonly string[];
}

const maxParsed = 2_000;

export class Authorizer {
  private readonly meta: MetadataStore;
  private readonly identities: IdentityStore;
  readonly registry: RegistryCoordinates;
  /** Parsed policies by their canonical text: parsing is the costly part of a decision. */
  private readonly parsed = new Map<string, PolicyDocument>();
  /** The policies bearing on (principal, repository), read recently. */
  private readonly recent: FreshCache<AttachedPolicy[]>;

  constructor(meta: MetadataStore, identities: IdentityStore, registry: RegistryCoordinates, recent: FreshCache<AttachedPolicy[]>) {
    this.meta = meta;
    this.recent = recent;
    this.identities = identities;
    this.registry = registry;
  }

  repository(name: string): ResourceRef {
    return { arn: `arn:berth:ecr:${this.registry.region}:${this.registry.registryId}:repository/${name}`, repositoryName: name };
  }

  /** The registry as a whole: catalog listing, registry policy, collections. */
  registryResource(): ResourceRef {
    return { arn: `arn:berth:ecr:${this.registry.region}:${this.registry.registryId}:registry` };
  }

  template(prefix: string): ResourceRef {
    return { arn: `arn:berth:ecr:${this.registry.region}:${this.registry.registryId}:repository-creation-template/${prefix}` };
  }

  kmsKey(keyId: string): ResourceRef {
    return { arn: `arn:berth:kms:${this.registry.region}:${this.registry.registryId}:key/${keyId}` };
  }

  principal(name: string): ResourceRef {
    return { arn: `arn:berth:iam::${this.registry.registryId}:principal/${name}` };
  }

  private parse(text: string, context: PolicyContext): PolicyDocument | undefined {
    const hit = this.parsed.get(text);
    if (hit) return hit;
    const result = validatePolicyDocument(text, { context });
    // Stored policies were validated on the way in; one that no longer parses grants nothing.
    if (!result.ok) return undefined;
    if (this.parsed.size >= maxParsed) this.parsed.clear();
    this.parsed.set(text, result.policy);
    return result.policy;
  }

  /** The policies that bear on a caller acting on a resource. */
  async policiesFor(principalName: string | null, ref: ResourceRef): Promise<AttachedPolicy[]> {
    const cacheKey = `${principalName ?? ''}\u0000${ref.repositoryName ?? ''}\u0000${ref.arn}`;
    const known = this.recent.get(cacheKey);
    if (known) return known;
    const out = await this.readPolicies(principalName, ref);
    this.recent.set(cacheKey, out);
    return out;
  }

  private async readPolicies(principalName: string | null, ref: ResourceRef): Promise<AttachedPolicy[]> {
    const out: AttachedPolicy[] = [];
    const [identity, repositoryPolicy, registryPolicy] = await Promise.all([
      principalName === null ? Promise.resolve([]) : this.identities.policiesOf(principalName),
      ref.repositoryName === undefined ? Promise.resolve(undefined) : this.meta.getDocument(documentKinds.repositoryPolicy, ref.repositoryName),
      this.meta.getDocument(documentKinds.registryPolicy, 'registry'),
    ]);
    for (const p of identity) {
      const document = this.parse(p.text, 'identity');
      if (document) out.push({ kind: 'identity', source: `identity:${principalName}/${p.policyName}`, document });
    }
    if (repositoryPolicy && ref.repositoryName !== undefined) {
      const document = this.parse(repositoryPolicy.body, 'resource');
      if (document) out.push({ kind: 'resource', source: `repository:${ref.repositoryName}`, document, attachedTo: ref.arn });
    }
    if (registryPolicy) {
      const document = this.parse(registryPolicy.body, 'resource');
      // The registry policy covers everything the registry holds.
      if (document) out.push({ kind: 'resource', source: 'registry', document, attachedTo: `arn:berth:*:*:${this.registry.registryId}:*` });
    }
    return out;
  }

  /** The condition keys a request offers (aws:SourceIp, aws:CurrentTime, aws:username, ...). */
  context(caller: AuthenticatedCaller, facts: RequestFacts): Record<string, string> {
    const now = facts.now ?? new Date();
    const ctx: Record<string, string> = {
      'aws:SourceIp': facts.sourceIp,
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:SecureTransport': facts.secureTransport ? 'true' : 'false',
      'aws:PrincipalAccount': this.registry.registryId,
    };
    if (caller.principal) {
      ctx['aws:username'] = caller.principal.name;
      ctx['aws:userid'] = caller.principal.id;
      ctx['aws:PrincipalArn'] = caller.principal.arn;
    }
    if (caller.accessKeyId !== undefined) ctx['berth:AccessKeyId'] = caller.accessKeyId;
    return ctx;
  }

  /** Decides every action (all must be allowed); the first one not allowed decides. */
  async decide(caller: AuthenticatedCaller, actions: readonly string[], ref: ResourceRef, facts: RequestFacts): Promise<Explained & { action: string }> {
    const policies = await this.policiesFor(caller.principal?.name ?? null, ref);
    const context = this.context(caller, facts);
    let last: Decision = { decision: 'implicitDeny' };
    let lastAction = actions[0] ?? '';
    for (const action of actions) {
      last = evaluate({ caller: { principal: caller.principal }, action, resource: ref.arn, context }, policies, this.registry.registryId);
      lastAction = action;
      if (last.decision !== 'allowed') break;
    }
    return { ...last, action: lastAction, policies: policies.map((p) => p.source) };
  }
}
