// The replication configuration (whole) and its rules (one by one) as management resources, and
// DescribeImageReplicationStatus.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RegistryError } from '../errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import type { replicationConfigurationModel, replicationRuleModel, ReplicationConfigurationInput, ReplicationRuleInput } from '../model/resources/replication.ts';
import { ReplicationStatus } from '../model/resources/replication.ts';
import type { ReplicationConfigurations, StoredRule } from '../replication/configuration.ts';
import type { Identity, Page, Representation, ResourceHandler } from './resource-handler.ts';
import { RepositoryParams } from '../model/images.ts';

type ConfigModel = typeof replicationConfigurationModel;
type RuleModel = typeof replicationRuleModel;

export class ReplicationConfigurationHandler implements ResourceHandler<ConfigModel> {
  private readonly configs: ReplicationConfigurations;
  private readonly registryId: string;

  constructor(configs: ReplicationConfigurations, registryId: string) {
    this.configs = configs;
    this.registryId = registryId;
  }

  async read(): Promise<Representation<ConfigModel>> {
    const { doc, rules } = await this.configs.load();
    if (!doc) throw new RegistryError('ReplicationConfigurationNotFound');
    return { rules: rules.map((r) => this.configs.view(r)), registryId: this.registryId, version: doc.version };
  }

  async update(_id: Identity, body: Partial<ReplicationConfigurationInput>, expectedVersion: number | undefined): Promise<Representation<ConfigModel>> {
    const { doc, rules: before } = await this.configs.load();
    if (expectedVersion !== undefined && doc?.version !== expectedVersion) {
      throw new RegistryError('PreconditionFailed', `the replication configuration is at version ${doc?.version ?? 'none'}`, { field: 'If-Match' });
    }
    const input = body.rules ?? [];
    const names = input.map((r, i) => r.name ?? `rule-${i + 1}`);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) throw new RegistryError('InvalidParameter', `rules.${i}.name ${name} is used by another rule`, { field: `rules.${i}.name` });
    });
    const rules: StoredRule[] = [];
    for (const [i, rule] of input.entries()) {
      const name = names[i] as string;
      rules.push(await this.configs.seal(name, rule, before.find((r) => r.name === name), `rules.${i}`));
    }
    const stored = await this.configs.store(rules, doc);
    return { rules: rules.map((r) => this.configs.view(r)), registryId: this.registryId, version: stored.version };
  }

  async delete(_id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const { doc } = await this.configs.load();
    if (!doc) throw new RegistryError('ReplicationConfigurationNotFound');
    if (expectedVersion !== undefined && doc.version !== expectedVersion) {
      throw new RegistryError('PreconditionFailed', `the replication configuration is at version ${doc.version}`, { field: 'If-Match' });
    }
    await this.configs.clear(doc);
  }
}

export class ReplicationRuleHandler implements ResourceHandler<RuleModel> {
  private readonly configs: ReplicationConfigurations;
  private readonly registryId: string;

  constructor(configs: ReplicationConfigurations, registryId: string) {
    this.configs = configs;
    this.registryId = registryId;
  }

  private represent(rule: StoredRule): Representation<RuleModel> {
    return { ...this.configs.view(rule), registryId: this.registryId, version: rule.version };
  }

  private static notFound(name: string): RegistryError {
    return new RegistryError('ReplicationRuleNotFound', `no replication rule named ${name}`, { field: 'name' });
  }

  async create(input: ReplicationRuleInput & { name: string }): Promise<Representation<RuleModel>> {
    const { doc, rules } = await this.configs.load();
    if (rules.some((r) => r.name === input.name)) {
      throw new RegistryError('ReplicationRuleAlreadyExists', `a replication rule named ${input.name} already exists`, { field: 'name' });
    }
    const rule = await this.configs.seal(input.name, input, undefined, 'rule');
    await this.configs.store([...rules, rule], doc);
    return this.represent(rule);
  }

  async read(id: Identity): Promise<Representation<RuleModel>> {
    const name = id.name ?? '';
    const rule = (await this.configs.load()).rules.find((r) => r.name === name);
    if (!rule) throw ReplicationRuleHandler.notFound(name);
    return this.represent(rule);
  }

  async update(id: Identity, patch: Partial<ReplicationRuleInput>, expectedVersion: number | undefined): Promise<Representation<RuleModel>> {
    const name = id.name ?? '';
    const { doc, rules } = await this.configs.load();
    const at = rules.findIndex((r) => r.name === name);
    const current = rules[at];
    if (!current) throw ReplicationRuleHandler.notFound(name);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw new RegistryError('PreconditionFailed', `the rule is at version ${current.version}`, { field: 'If-Match' });
    }
    const view = this.configs.view(current);
    const rule = await this.configs.seal(name, { destinations: patch.destinations ?? view.destinations, repositoryFilters: patch.repositoryFilters ?? view.repositoryFilters }, current, 'rule');
    const next = [...rules];
    next[at] = rule;
    await this.configs.store(next, doc);
    return this.represent(rule);
  }

  async delete(id: Identity, _options: Record<string, never>, expectedVersion: number | undefined): Promise<void> {
    const name = id.name ?? '';
    const { doc, rules } = await this.configs.load();
    const current = rules.find((r) => r.name === name);
    if (!current || !doc) throw ReplicationRuleHandler.notFound(name);
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw new RegistryError('PreconditionFailed', `the rule is at version ${current.version}`, { field: 'If-Match' });
    }
    // The last rule gone is no configuration at all (so a whole-configuration owner can create one).
    const rest = rules.filter((r) => r.name !== name);
    if (rest.length === 0) await this.configs.clear(doc);
    else await this.configs.store(rest, doc);
  }

  async list(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<RuleModel>>> {
    const { rules } = await this.configs.load();
    const sorted = rules.filter((r) => r.name.startsWith(query.prefix) && (query.after === undefined || r.name > query.after)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const items = sorted.slice(0, query.limit).map((r) => this.represent(r));
    return { items, ...(sorted.length > query.limit ? { after: sorted[query.limit - 1]?.name as string } : {}) };
  }
}

const statusQuery = Type.Object(
  {
    imageDigest: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$' })),
    imageTag: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$' })),
  },
  { additionalProperties: false },
);
const statusReply = Type.Object({
  repositoryName: Type.String(),
  imageId: Type.Object({ imageDigest: Type.String(), imageTag: Type.Optional(Type.String()) }),
  replicationStatuses: Type.Array(ReplicationStatus),
});

/** GET /repositories/{repositoryName}/images/replication-status?imageDigest=|imageTag= (DescribeImageReplicationStatus). */
export function registerReplicationStatusRoute(app: FastifyInstance, meta: MetadataStore, configs: ReplicationConfigurations): void {
  app.get(
    '/repositories/:repositoryName/images/replication-status',
    {
      config: { auth: { action: 'ecr:DescribeImageReplicationStatus', resource: 'repository' } },
      schema: { tags: ['Images'], summary: 'Replication status of an image, per destination', params: RepositoryParams, querystring: statusQuery, response: { 200: statusReply } },
    },
    async (req) => {
      const { repositoryName } = req.params as { repositoryName: string };
      const q = req.query as { imageDigest?: string; imageTag?: string };
      if ((q.imageDigest === undefined) === (q.imageTag === undefined)) {
        throw new RegistryError('InvalidParameter', 'give exactly one of imageDigest and imageTag', { field: 'imageDigest' });
      }
      const repo = await meta.getRepository(repositoryName);
      if (!repo) throw new RegistryError('RepositoryNotFound', `repository ${repositoryName} does not exist`, { field: 'repositoryName' });
      const manifest = q.imageDigest !== undefined ? await meta.getManifest(repo.id, q.imageDigest) : await meta.getManifestByTag(repo.id, q.imageTag as string);
      if (!manifest) throw new RegistryError('ImageNotFound', `no image ${q.imageDigest ?? q.imageTag} in ${repositoryName}`, { field: q.imageDigest !== undefined ? 'imageDigest' : 'imageTag' });
      const tasks = await meta.listReplicationTasks(repo.id, manifest.digest);
      const destinations = await configs.describe(tasks.map((t) => t.destination));
      const replicationStatuses = await Promise.all(
        tasks.map(async (t) => ({
          ...destinations.get(t.destination),
          status: t.state,
          ...(t.failureCode !== undefined ? { failureCode: t.failureCode } : {}),
          attempts: t.attempts,
          updatedAt: t.updatedAt.toISOString(),
        })),
      );
      return { repositoryName, imageId: { imageDigest: manifest.digest, ...(q.imageTag !== undefined ? { imageTag: q.imageTag } : {}) }, replicationStatuses };
    },
  );
}
