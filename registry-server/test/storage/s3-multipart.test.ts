import test from 'ava';
import { maxPartBytes, maxParts, planParts, type SourceRange } from '../../src/storage/s3/multipart.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const size = (part: SourceRange[]): number => part.reduce((n, r) => n + (r.end - r.start), 0);

/** Every S3 rule a multipart upload must satisfy, and the ranges must cover the source in order. */
function checkPlan(t: import('ava').ExecutionContext, ranges: SourceRange[], parts: SourceRange[][], minPart: number): void {
  t.true(parts.length <= maxParts, `${parts.length} parts`);
  parts.forEach((p, i) => {
    t.true(size(p) <= maxPartBytes, `part ${i} is ${size(p)} bytes`);
    if (i < parts.length - 1) t.true(size(p) >= minPart, `part ${i} is ${size(p)} bytes`);
  });
  const flat = parts.flat();
  let i = 0;
  for (const r of ranges) {
    let at = r.start;
    while (at < r.end) {
      const piece = flat[i++];
      t.truthy(piece);
      if (!piece) return;
      t.is(piece.key, r.key);
      t.is(piece.start, at);
      at = piece.end;
    }
    t.is(at, r.end);
  }
  t.is(i, flat.length);
}

test('s3 part plan: part-sized chunks become one part each', (t) => {
  const ranges = [8, 8, 9, 3].map((m, i) => ({ key: `c${i}`, start: 0, end: m * MiB }));
  const parts = planParts(ranges, 8 * MiB);
  t.deepEqual(parts.map((p) => p.map((r) => r.key)), [['c0'], ['c1'], ['c2'], ['c3']]);
  checkPlan(t, ranges, parts, 8 * MiB);
});

test('s3 part plan: a chunk above 5 GiB is split, with no small part before the last', (t) => {
  const ranges = [{ key: 'big', start: 0, end: 5 * GiB + 1 }, { key: 'next', start: 0, end: 8 * MiB }];
  const parts = planParts(ranges, 8 * MiB);
  t.is(parts.length, 2);
  t.is(size(parts[0] ?? []), 5 * GiB);
  checkPlan(t, ranges, parts, 8 * MiB);
});

test('s3 part plan: many small chunks are grouped to stay within 10,000 parts', (t) => {
  // 20,000 chunks of 8 MiB: 156 GiB.
  const ranges = Array.from({ length: 20_000 }, (_, i) => ({ key: `c${i}`, start: 0, end: 8 * MiB }));
  const parts = planParts(ranges, 8 * MiB);
  t.is(parts.length, 10_000);
  checkPlan(t, ranges, parts, 8 * MiB);
});
