import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { digestOf, parseDigest, type Digest } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import type { ManifestRecord } from '../meta/metadata-store.ts';
import { assertName, assertTag } from '../names.ts';
import { isReplication, queryStrings, repositoryForPush, requireRepository, type OciContext, type RouteMatch } from './context.ts';
import { immutableTags } from '../registry/tag-mutability.ts';
import { parseManifest } from './manifest-parser.ts';

const maxTagsPerPush = 100;

function isDigestReference(reference: string): boolean {
  return reference.includes(':');
}

/** Reads a request body of at most `limit` bytes, or fails with 413 as soon as it grows past it. */
export async function readBounded(stream: Readable, limit: number, declared: string | undefined): Promise<Buffer> {
  const tooLarge = () => new RegistryError('SIZE_INVALID', `manifest exceeds the ${limit}-byte limit`, { status: 413 });
  if (declared !== undefined && Number(declared) > limit) {
    stream.resume(); // drain, so the connection can be reused
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function mediaTypeOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const base = header.split(';', 1)[0]?.trim().toLowerCase();
  return base ? base : undefined;
}

/** PUT /v2/<name>/manifests/<reference>[?tag=...]. */
export async function putManifest(req: FastifyRequest, reply: FastifyReply, { name, reference }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  let expected: Digest | undefined;
  const tags: string[] = [];
  if (isDigestReference(reference)) {
    expected = parseDigest(reference);
  } else {
    assertTag(reference);
    tags.push(reference);
  }
  for (const t of queryStrings(req, 'tag')) {
    assertTag(t);
    if (!tags.includes(t)) tags.push(t);
  }
  if (tags.length > maxTagsPerPush) {
    throw new RegistryError('MANIFEST_INVALID', `at most ${maxTagsPerPush} tags per request`, { status: 414 });
  }

  const body = await readBounded(req.raw, ctx.limits.maxManifestBytes, req.headers['content-length']);
  const digest = digestOf(body, expected?.algorithm ?? 'sha256');
  if (expected && digest !== expected.value) {
    throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the reference', { detail: { expected: expected.value, computed: digest } });
  }
  const parsed = parseManifest(body, mediaTypeOf(req.headers['content-type']));
  const repo = await repositoryForPush(ctx, req, name);
  // Replication work is recorded with the push itself; replicated pushes are not sent onward.
  const replicateTo = (await isReplication(ctx, req, name)) ? [] : await ctx.replication.destinationsFor(name);
  const result = await ctx.meta.putManifest(
    repo.id,
    {
      digest,
      mediaType: parsed.mediaType,
      artifactType: parsed.artifactType,
      content: body,
      subject: parsed.subject,
      annotations: parsed.annotations,
      references: parsed.references,
    },
    tags,
    immutableTags(repo.settings, tags),
    replicateTo,
  );
  if (!result.ok && result.reason === 'missing') {
    throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${result.missing.length} unknown blob(s) or manifest(s)`, {
      detail: { digests: result.missing },
    });
  }
  if (!result.ok) {
    // The spec has no tag code; MANIFEST_INVALID with the reason is what clients print.
    throw new RegistryError('MANIFEST_INVALID', `tag ${result.tag} is immutable in repository ${name} and already points to ${result.digest}`, {
      detail: { tag: result.tag, digest: result.digest, imageTagMutability: repo.settings.imageTagMutability },
    });
  }
  if (replicateTo.length > 0) ctx.replication.pushed();
  reply.code(201).headers({ Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' });
  if (parsed.subject) reply.header('OCI-Subject', parsed.subject);
  if (expected && tags.length > 0) reply.header('OCI-Tag', tags.join(', '));
  return reply.send();
}

async function findManifest(ctx: OciContext, { name, reference }: RouteMatch): Promise<ManifestRecord & { repositoryId: number }> {
  assertName(name);
  const repo = await requireRepository(ctx, name);
  let record: ManifestRecord | undefined;
  if (isDigestReference(reference)) {
    record = await ctx.meta.getManifest(repo.id, parseDigest(reference).value);
  } else {
    assertTag(reference);
    record = await ctx.meta.getManifestByTag(repo.id, reference);
  }
  if (!record) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { detail: { name, reference } });
  return { ...record, repositoryId: repo.id };
}

/** GET and HEAD /v2/<name>/manifests/<reference>: the stored bytes, exactly. */
export async function getManifest(req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext): Promise<unknown> {
  const m = await findManifest(ctx, match);
  reply.headers({
    'Content-Type': m.mediaType,
    'Content-Length': String(m.content.byteLength),
    'Docker-Content-Digest': m.digest,
    ETag: `"${m.digest}"`,
  });
  if (req.method === 'HEAD') return reply.send();
  ctx.pulls.record(m.repositoryId, m.digest);
  return reply.send(Buffer.from(m.content.buffer, m.content.byteOffset, m.content.byteLength));
}

/** DELETE /v2/<name>/manifests/<reference>: by digest deletes the manifest, by tag only the tag. */
export async function deleteManifest(_req: FastifyRequest, reply: FastifyReply, { name, reference }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const repo = await requireRepository(ctx, name);
  let deleted: boolean;
  if (isDigestReference(reference)) {
    deleted = await ctx.meta.deleteManifest(repo.id, parseDigest(reference).value);
  } else {
    assertTag(reference);
    deleted = await ctx.meta.deleteTag(repo.id, reference);
  }
  if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { detail: { name, reference } });
  return reply.code(202).header('Content-Length', '0').send();
}
