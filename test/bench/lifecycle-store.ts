// Lifecycle preview end to end over the embedded store: list every image of one repository from
// SQLite and evaluate a policy, for 10k, 50k and 100k images (the target: 100k under 2 s, linear).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateLifecyclePolicy } from '../../registry-server/src/lifecycle/index.ts';
import { defaultRepositorySettings } from '../../registry-server/src/meta/metadata-store.ts';
import { SqliteMetadataStore } from '../../registry-server/src/meta/sqlite/sqlite-store.ts';
import { LifecycleRunner } from '../../registry-server/src/registry/lifecycle-runner.ts';

const policy = validateLifecyclePolicy({
  rules: [
    { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['prod'], countType: 'imageCountMoreThan', countNumber: 50 }, action: { type: 'expire' } },
    { rulePriority: 2, selection: { tagStatus: 'tagged', tagPatternList: ['release-*-rc*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
    { rulePriority: 3, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } },
    { rulePriority: 4, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1000 }, action: { type: 'expire' } },
  ],
});
if (!policy.ok) throw new Error(JSON.stringify(policy.errors));

const dir = await mkdtemp(join(tmpdir(), 'berth-lifecycle-bench-'));
try {
  console.log('lifecycle preview through the SQLite store (list every image, evaluate a 4-rule policy)');
  console.log('images   load+evaluate ms   per image');
  let base: number | undefined;
  for (const size of [10_000, 50_000, 100_000]) {
    const meta = new SqliteMetadataStore({ path: join(dir, `meta-${size}.db`), synchronous: 'NORMAL' });
    await meta.migrate();
    const repo = await meta.ensureRepository('bench/lifecycle', defaultRepositorySettings);
    for (let i = 0; i < size; i++) {
      const content = Buffer.from(`{"schemaVersion":2,"n":${i}}`);
      const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
      const tags = i % 3 === 0 ? [] : i % 3 === 1 ? [`prod-${i}`] : [`release-${i}-rc1`, `build-${i}`];
      await meta.putManifest(repo.id, { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: undefined, content, subject: undefined, annotations: undefined, references: [] }, tags);
    }
    const runner = new LifecycleRunner(meta);
    const runs: number[] = [];
    let expired = 0;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      expired = (await runner.preview(repo, policy.policy)).length;
      runs.push(performance.now() - t);
    }
    runs.sort((a, b) => a - b);
    const ms = runs[1] ?? 0;
    base ??= ms / size;
    console.log(`${String(size).padStart(6)}   ${ms.toFixed(0).padStart(16)}   ${((ms / size) * 1000).toFixed(1)} µs (${(ms / size / base).toFixed(2)}x the 10k cost)  ${expired} would expire`);
    await meta.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
