import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { RepositoryParams } from '../model/images.ts';
import { ExecuteResponse, ExpirationsQuery, ExpirationsResponse, PreviewRequest, PreviewResponse } from '../model/lifecycle.ts';
import type { LifecycleRunner } from '../registry/lifecycle-runner.ts';
import { pageSize } from './plumbing.ts';

const tags = ['LifecyclePolicy'];

/** Preview (dry run), execution on demand, and the record of what lifecycle rules expired. */
export function registerLifecycleRoutes(app: FastifyInstance, meta: MetadataStore, runner: LifecycleRunner): void {
  const repository = async (name: string) => {
    const repo = await meta.getRepository(name);
    if (!repo) throw new RegistryError('RepositoryNotFound', `repository ${name} does not exist`, { field: 'repositoryName' });
    return repo;
  };
  app.post(
    '/repositories/:repositoryName/lifecycle-policy/preview',
    { config: { auth: { action: 'ecr:StartLifecyclePolicyPreview', resource: 'repository' } }, schema: { tags, summary: 'What the stored (or a given) policy would expire now, and by which rule', params: RepositoryParams, body: PreviewRequest, response: { 200: PreviewResponse } } },
    async (req) => {
      const repo = await repository((req.params as { repositoryName: string }).repositoryName);
      const text = (req.body as { lifecyclePolicyText?: string } | undefined)?.lifecyclePolicyText;
      const results = await runner.preview(repo, await runner.policyOf(repo, text));
      return { results, summary: { expiringImageTotalCount: results.length } };
    },
  );
  app.post(
    '/repositories/:repositoryName/lifecycle-policy/execute',
    { config: { auth: { action: 'berth:ExecuteLifecyclePolicy', resource: 'repository' } }, schema: { tags, summary: 'Run the policy now', params: RepositoryParams, response: { 200: ExecuteResponse } } },
    async (req) => {
      const repo = await repository((req.params as { repositoryName: string }).repositoryName);
      const executedAt = new Date();
      return { executedAt: executedAt.toISOString(), expired: await runner.execute(repo, executedAt) };
    },
  );
  app.get(
    '/repositories/:repositoryName/lifecycle-policy/expirations',
    { config: { auth: { action: 'ecr:GetLifecyclePolicy', resource: 'repository' } }, schema: { tags, summary: 'Images lifecycle rules expired, newest first', params: RepositoryParams, querystring: ExpirationsQuery, response: { 200: ExpirationsResponse } } },
    async (req) => {
      const { repositoryName } = req.params as { repositoryName: string };
      const q = req.query as { maxResults?: number; nextToken?: string };
      const limit = pageSize(q.maxResults);
      const rows = await meta.listExpirations(repositoryName, { ...(q.nextToken !== undefined ? { after: Number(q.nextToken) } : {}), limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        expirations: page.map((r) => ({ imageDigest: r.digest, imageTags: [...r.tags], appliedRulePriority: r.rulePriority, reason: r.reason, expiredAt: r.expiredAt.toISOString() })),
        ...(rows.length > limit && last ? { nextToken: String(last.id) } : {}),
      };
    },
  );
}
