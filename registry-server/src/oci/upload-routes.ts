import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest, type DigestAlgorithm } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import type { UploadSession } from '../meta/metadata-store.ts';
import { assertName } from '../names.ts';
import { rangeHeaders, type ChunkRange, type OpenUpload } from '../registry/uploads.ts';
import { hasBody, queryString, repositoryForPush, requireRepository, type OciContext, type RouteMatch } from './context.ts';

const contentRangePattern = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/;

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function sessionHeaders(name: string, session: UploadSession, length: number): Record<string, string> {
  return { Location: uploadLocation(name, session.id), 'Docker-Upload-UUID': session.id, ...rangeHeaders(length) };
}

function blobCreated(reply: FastifyReply, name: string, digest: string): FastifyReply {
  reply.removeHeader('Range');
  reply.removeHeader('Docker-Upload-UUID');
  return reply.code(201).headers({ Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).send();
}

function readChunkRange(req: FastifyRequest): ChunkRange | undefined {
  const header = req.headers['content-range'];
  if (header === undefined) return undefined;
  const m = contentRangePattern.exec(header);
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || end < start) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', 'Content-Range must be <start>-<end>, inclusive', { status: 416, detail: { 'Content-Range': header.slice(0, 100) } });
  }
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) !== end - start + 1) {
    throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range', { detail: { 'Content-Range': header, 'Content-Length': declared } });
  }
  return { start, end };
}

/** The body size the request announces, if it does. */
function declaredLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  return v !== undefined && /^\d{1,16}$/.test(v) ? Number(v) : undefined;
}

function readAlgorithm(req: FastifyRequest): DigestAlgorithm {
  const algorithm = queryString(req, 'digest-algorithm') ?? 'sha256';
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm ${algorithm.slice(0, 50)}`, { detail: { parameter: 'digest-algorithm' } });
  }
  return algorithm;
}

/** POST /v2/<name>/blobs/uploads/ : start a session, upload monolithically, or mount. */
export async function startUpload(req: FastifyRequest, reply: FastifyReply, { name }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const mount = queryString(req, 'mount');
  const from = queryString(req, 'from');
  const digestParam = queryString(req, 'digest');
  const algorithm = readAlgorithm(req);
  const repo = await repositoryForPush(ctx, req, name);

  if (mount !== undefined) {
    const digest = parseDigest(mount);
    if (from !== undefined) {
      assertName(from);
      // Mounting reads the source: without pull rights there, it is an ordinary upload.
      const source = (await ctx.guard.allows(req, 'ecr:GetDownloadUrlForLayer', from, 'pull')) ? await ctx.meta.getRepository(from) : undefined;
      const mounted = source && (await ctx.uploads.mount(repo, source, digest.value));
      if (mounted) return blobCreated(reply, name, digest.value);
    }
    // Could not mount: fall through to an ordinary session, as the spec asks.
  } else if (digestParam !== undefined) {
    const digest = parseDigest(digestParam);
    const blob = await ctx.uploads.monolithic(repo, digest, req.raw, declaredLength(req));
    return blobCreated(reply, name, blob.digest);
  }

  const session = await ctx.uploads.start(repo, algorithm);
  return reply.code(202).headers({ ...sessionHeaders(name, session, 0), 'Content-Length': '0' }).send();
}

async function sessionFor(ctx: OciContext, { name, reference }: RouteMatch): Promise<OpenUpload> {
  assertName(name);
  const repo = await requireRepository(ctx, name).catch(() => {
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN');
  });
  return ctx.uploads.find(repo, reference);
}

/** GET <location>: the upload's progress. */
export async function uploadStatus(_req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const session = await sessionFor(ctx, match);
  return reply.code(204).headers(sessionHeaders(match.name, session, session.offset)).send();
}

/** PATCH <location>: append a chunk (with Content-Range) or a stream (without). */
export async function patchUpload(req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const session = await sessionFor(ctx, match);
  // Error replies (416 and the rest) carry the session's state too, so a client can resume.
  reply.headers(sessionHeaders(match.name, session, session.offset));
  const range = readChunkRange(req);
  const length = await ctx.uploads.append(session, req.raw, range, declaredLength(req));
  return reply.code(202).headers({ ...sessionHeaders(match.name, session, length), 'Content-Length': '0' }).send();
}

/** PUT <location>?digest=: close the session, with an optional final chunk. */
export async function finishUpload(req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const session = await sessionFor(ctx, match);
  reply.headers(sessionHeaders(match.name, session, session.offset));
  const digestParam = queryString(req, 'digest');
  if (digestParam === undefined) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to close an upload');
  const digest = parseDigest(digestParam);
  const range = readChunkRange(req);
  const blob = await ctx.uploads.finish(session, digest, hasBody(req) ? req.raw : undefined, range, declaredLength(req));
  return blobCreated(reply, match.name, blob.digest);
}

/** DELETE <location>: cancel. */
export async function cancelUpload(_req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const session = await sessionFor(ctx, match);
  await ctx.uploads.cancel(session);
  return reply.code(204).send();
}
