import type { FastifyInstance } from 'fastify';
import {
  BatchDeleteResponse,
  BatchGetResponse,
  BatchImagesRequest,
  ListImagesQuery,
  ListImagesResponse,
  RepositoryParams,
  type ImageIdT,
} from '../model/images.ts';
import type { ImageService } from '../registry/images.ts';
import { decodeToken, encodeToken, pageSize } from './plumbing.ts';

const tags = ['Images'];

/** Image operations under a repository: list and describe, batch get, batch delete. */
export function registerImageRoutes(app: FastifyInstance, images: ImageService): void {
  app.get(
    '/repositories/:repositoryName/images',
    { config: { auth: { action: 'ecr:DescribeImages', resource: 'repository' } }, schema: { tags, summary: 'List and describe images', params: RepositoryParams, querystring: ListImagesQuery, response: { 200: ListImagesResponse } } },
    async (req) => {
      const { repositoryName } = req.params as { repositoryName: string };
      const q = req.query as { tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY'; maxResults?: number; nextToken?: string };
      const repo = await images.repository(repositoryName);
      const page = await images.list(repo, q.tagStatus ?? 'ANY', pageSize(q.maxResults), q.nextToken === undefined ? undefined : decodeToken(q.nextToken));
      return { imageDetails: page.images, ...(page.after !== undefined ? { nextToken: encodeToken(page.after) } : {}) };
    },
  );
  app.post(
    '/repositories/:repositoryName/images/batch-get',
    { config: { auth: { action: 'ecr:BatchGetImage', resource: 'repository' } }, schema: { tags, summary: 'Get image manifests by digest or tag', params: RepositoryParams, body: BatchImagesRequest, response: { 200: BatchGetResponse } } },
    async (req) => {
      const { repositoryName } = req.params as { repositoryName: string };
      return images.batchGet(await images.repository(repositoryName), (req.body as { imageIds: ImageIdT[] }).imageIds);
    },
  );
  app.post(
    '/repositories/:repositoryName/images/batch-delete',
    {
      config: { auth: { action: 'ecr:BatchDeleteImage', resource: 'repository' } },
      schema: {
        tags,
        summary: 'Untag (by tag) or delete (by digest) images; per-image failures are reported, not thrown',
        params: RepositoryParams,
        body: BatchImagesRequest,
        response: { 200: BatchDeleteResponse },
      },
    },
    async (req) => {
      const { repositoryName } = req.params as { repositoryName: string };
      return images.batchDelete(await images.repository(repositoryName), (req.body as { imageIds: ImageIdT[] }).imageIds);
    },
  );
}
