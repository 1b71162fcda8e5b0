import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, type CompletedPart, type S3Client } from '@aws-sdk/client-s3';
import { withRetries } from './retry.ts';

/** Bytes [start, end) of one object. */
export interface SourceRange {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

// S3 limits: a part is at most 5 GiB, an upload has at most 10,000 parts, and every part but
// the last is at least 5 MiB.
export const maxPartBytes = 5 * 1024 ** 3;
export const maxParts = 10_000;

/**
 * Groups source ranges into parts: each closes once it reaches the target size (so a chunk that
 * is already part-sized becomes one part), ranges are split so no part exceeds 5 GiB, and the
 * target grows with the total so a huge blob made of many small chunks stays under 10,000 parts.
 */
export function planParts(ranges: readonly SourceRange[], minPartBytes: number): SourceRange[][] {
  const total = ranges.reduce((n, r) => n + (r.end - r.start), 0);
  const target = Math.max(minPartBytes, Math.ceil(total / maxParts));
  const parts: SourceRange[][] = [];
  let current: SourceRange[] = [];
  let size = 0;
  for (const r of ranges) {
    let start = r.start;
    while (start < r.end) {
      const take = Math.min(r.end - start, maxPartBytes - size);
      current.push({ key: r.key, start, end: start + take });
      size += take;
      start += take;
      if (size >= target) {
        parts.push(current);
        current = [];
        size = 0;
      }
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

export interface StreamedCopy {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** Extra CreateMultipartUpload parameters (server-side encryption). */
  readonly params: Record<string, string>;
  readonly parts: readonly SourceRange[][];
  /** Opens a ranged read of a source object. */
  open(range: SourceRange): Promise<Readable>;
  readonly maxAttempts: number;
  readonly concurrency: number;
}

/**
 * Writes `parts` as one object by a multipart upload whose parts are streamed from ranged GETs,
 * so no part is held in memory. The SDK does not resend a streamed body, so each part is retried
 * here, re-reading its source from the start.
 */
export async function streamPartsToObject(copy: StreamedCopy): Promise<void> {
  const { client, bucket, key } = copy;
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...copy.params }));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`no upload id for ${key}`);
  try {
    const completed: CompletedPart[] = new Array<CompletedPart>(copy.parts.length);
    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      while (!failed && next < copy.parts.length) {
        const index = next++;
        const ranges = copy.parts[index] as SourceRange[];
        const contentLength = ranges.reduce((n, r) => n + (r.end - r.start), 0);
        const ETag = await withRetries(copy.maxAttempts, async () => {
          const body = Readable.from(concatRanges(ranges, copy.open), { objectMode: false });
          try {
            const out = await client.send(
              new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1, Body: body, ContentLength: contentLength }),
            );
            return out.ETag;
          } finally {
            body.destroy();
          }
        });
        completed[index] = { PartNumber: index + 1, ETag };
      }
    };
    const guarded = (): Promise<void> =>
      worker().catch((err: unknown) => {
        failed = true;
        throw err;
      });
    // Settle every worker before aborting, so no part lands after the abort.
    const results = await Promise.allSettled(Array.from({ length: Math.min(copy.concurrency, copy.parts.length) }, guarded));
    const rejected = results.find((r) => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } }));
  } catch (err) {
    // Best effort: a bucket lifecycle rule for incomplete multipart uploads catches the rest.
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
    throw err;
  }
}

/** The bytes of several ranges in order, opening each GET only when the previous one is done. */
export async function* concatRanges(ranges: readonly SourceRange[], open: (range: SourceRange) => Promise<Readable>): AsyncGenerator<Buffer> {
  for (const r of ranges) {
    if (r.end <= r.start) continue;
    const body = await open(r);
    try {
      for await (const chunk of body) yield chunk as Buffer;
    } finally {
      body.destroy();
    }
  }
}
