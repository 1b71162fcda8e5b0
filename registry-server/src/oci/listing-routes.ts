import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../digest.ts';
import { assertName } from '../names.ts';
import { queryString, requireRepository, type OciContext, type RouteMatch } from './context.ts';
import { mediaTypes } from './media-types.ts';
import { nextLink, readPage } from './pagination.ts';

/** GET /v2/<name>/tags/list?n=&last= */
export async function listTags(req: FastifyRequest, reply: FastifyReply, { name }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const page = readPage(req, ctx.limits.maxPageSize);
  const repo = await requireRepository(ctx, name);
  const { items: tags, more } = await fetchPage(page.limit, (limit) => ctx.meta.listTags(repo.id, { after: page.after, limit }));
  const last = tags.at(-1);
  if (last !== undefined && more) {
    reply.header('Link', nextLink(`/v2/${name}/tags/list`, { n: String(page.limit), last }));
  }
  return reply.send({ name, tags });
}

/** GET /v2/_catalog?n=&last= */
export async function listCatalog(req: FastifyRequest, reply: FastifyReply, _match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const page = readPage(req, ctx.limits.maxPageSize);
  const { items: repositories, more } = await fetchPage(page.limit, (limit) => ctx.meta.listRepositories({ after: page.after, limit }));
  const last = repositories.at(-1);
  if (last !== undefined && more) {
    reply.header('Link', nextLink('/v2/_catalog', { n: String(page.limit), last }));
  }
  return reply.send({ repositories });
}

/** GET /v2/<name>/referrers/<digest>[?artifactType=]: never 404; an image index. */
export async function listReferrers(req: FastifyRequest, reply: FastifyReply, { name, reference }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const subject = parseDigest(reference).value;
  const artifactType = queryString(req, 'artifactType') || undefined;
  const page = readPage(req, ctx.limits.maxPageSize);
  const repo = await ctx.meta.getRepository(name);
  const { items: rows, more } = repo
    ? await fetchPage(page.limit, (limit) => ctx.meta.listReferrers(repo.id, subject, { after: page.after, limit }, artifactType))
    : { items: [], more: false };
  const manifests = rows.map((r) => ({
    mediaType: r.mediaType,
    digest: r.digest,
    size: r.size,
    ...(r.artifactType !== undefined ? { artifactType: r.artifactType } : {}),
    ...(r.annotations !== undefined ? { annotations: JSON.parse(r.annotations) as Record<string, string> } : {}),
  }));
  reply.header('Content-Type', mediaTypes.ociIndex);
  if (artifactType !== undefined) reply.header('OCI-Filters-Applied', 'artifactType');
  const last = rows.at(-1);
  if (last !== undefined && more) {
    const params: Record<string, string> = { n: String(page.limit), last: last.digest };
    if (artifactType !== undefined) params.artifactType = artifactType;
    reply.header('Link', nextLink(`/v2/${name}/referrers/${subject}`, params));
  }
  // A Buffer keeps Fastify from appending a charset to the media type.
  return reply.send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests })));
}

/** Fetches one row past the page to learn whether a next page exists. */
async function fetchPage<T>(limit: number, fetch: (limit: number) => Promise<T[]>): Promise<{ items: T[]; more: boolean }> {
  if (limit === 0) return { items: [], more: false };
  const rows = await fetch(limit + 1);
  return { items: rows.slice(0, limit), more: rows.length > limit };
}
