import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import { assertName } from '../names.ts';
import { canPresign, hasPositionalReads, type ByteRange } from '../storage/blob-store.ts';
import { sendBlobRange, sendDecryptedRange } from './blob-sender.ts';
import { requireRepository, type OciContext, type RouteMatch } from './context.ts';

const rangePattern = /^bytes=(\d{0,15})-(\d{0,15})$/;

/** Parses a single-range Range header against a blob of `size` bytes (RFC 9110 §14). */
export function parseRange(header: string, size: number): ByteRange {
  const m = rangePattern.exec(header.trim());
  const unsatisfiable = (): RegistryError =>
    new RegistryError('SIZE_INVALID', 'requested range not satisfiable', {
      status: 416,
      headers: { 'Content-Range': `bytes */${size}` },
      detail: { Range: header.slice(0, 100) },
    });
  if (!m) throw unsatisfiable();
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') throw unsatisfiable();
  if (a === '') {
    // Suffix range: the last b bytes.
    const suffix = Number(b);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) throw unsatisfiable();
  return { start, end };
}

/** GET and HEAD /v2/<name>/blobs/<digest>. */
export async function getBlob(req: FastifyRequest, reply: FastifyReply, { name, reference }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const digest = parseDigest(reference).value;
  const repo = await requireRepository(ctx, name);
  const blob = await ctx.meta.getRepositoryBlob(repo.id, digest);
  if (!blob) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  // Looked up for GETs only (a HEAD answers from the blob record).
  const sealed = req.method === 'GET' ? await ctx.vault.sealed(digest) : undefined;
  // Pulls from object storage may go straight to it (not encrypted ones: only Berth holds their
  // keys); clients follow 307 with their Range header.
  if (req.method === 'GET' && !sealed && ctx.limits.redirectSeconds > 0 && canPresign(ctx.store)) {
    const location = await ctx.store.presignedGetUrl(digest, ctx.limits.redirectSeconds);
    return reply.code(307).headers({ Location: location, 'Docker-Content-Digest': digest, 'Cache-Control': 'no-store', 'Content-Length': '0' }).send();
  }

  const headers: Record<string, string> = {
    'Docker-Content-Digest': digest,
    'Content-Type': 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  };
  const rangeHeader = req.headers.range;
  const range = rangeHeader === undefined ? undefined : parseRange(rangeHeader, blob.size);
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${blob.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    reply.code(206);
  } else {
    headers['Content-Length'] = String(blob.size);
  }
  if (req.method === 'HEAD') return reply.headers(headers).send();
  if (sealed) {
    // Decrypted (and authenticated) chunk by chunk; a key that cannot be used is refused before
    // any header is sent, and so is a blob whose first chunk fails authentication.
    const opened = await ctx.vault.openSealed(sealed, range);
    if (opened) {
      const status = reply.statusCode;
      const all = { ...(reply.getHeaders() as OutgoingHttpHeaders), ...headers };
      reply.hijack();
      await sendDecryptedRange(reply.raw, opened.decryptor, opened.span, {
        begin: () => reply.raw.writeHead(status, all),
        failed: (err) => req.log.error({ err, digest }, 'encrypted blob failed to decrypt'),
      });
      return reply;
    }
    const plain = await ctx.vault.readSealed(sealed, range);
    plain.once('error', (err) => req.log.error({ err, digest }, 'encrypted blob failed to decrypt'));
    return reply.headers(headers).send(plain);
  }
  reply.headers(headers);
  if (hasPositionalReads(ctx.store)) {
    const reader = await ctx.store.openBlob(digest).catch((err: unknown) => {
      req.log.error({ err, digest }, 'blob recorded in metadata but missing from storage');
      throw new RegistryError('BLOB_UNKNOWN', 'blob content is missing from storage', { detail: { digest } });
    });
    reply.hijack();
    reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
    await sendBlobRange(reply.raw, reader, range?.start ?? 0, range?.end ?? blob.size - 1);
    return reply;
  }
  const stream = await ctx.store.read(digest, range).catch((err: unknown) => {
    req.log.error({ err, digest }, 'blob recorded in metadata but missing from storage');
    throw new RegistryError('BLOB_UNKNOWN', 'blob content is missing from storage', { detail: { digest } });
  });
  return reply.send(stream);
}

/** DELETE /v2/<name>/blobs/<digest>: unlinks the blob from the repository (storage is reclaimed by GC). */
export async function deleteBlob(_req: FastifyRequest, reply: FastifyReply, { name, reference }: RouteMatch, ctx: OciContext): Promise<unknown> {
  assertName(name);
  const digest = parseDigest(reference).value;
  const repo = await requireRepository(ctx, name);
  if (!(await ctx.meta.unlinkBlob(repo.id, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  return reply.code(202).header('Content-Length', '0').send();
}
