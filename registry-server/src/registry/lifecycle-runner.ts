import { RegistryError } from '../errors.ts';
import { evaluateLifecyclePolicy, validateLifecyclePolicy, type LifecyclePolicy } from '../lifecycle/index.ts';
import type { ImageRecord, MetadataStore, Repository } from '../meta/metadata-store.ts';
import { documentKinds } from '../api/document-kinds.ts';
import { indexChildren } from '../oci/manifest-parser.ts';
import { indexTypes } from '../oci/media-types.ts';

export interface Expiry {
  readonly imageDigest: string;
  readonly imageTags: readonly string[];
  readonly imagePushedAt: string;
  readonly appliedRulePriority: number;
  readonly reason: string;
}

const pageSize = 1000;

/**
 * Runs lifecycle policies: a preview lists what would expire and why; an execution deletes it
 * and records every expiry. Images are the repository's top-level manifests: index children and
 * referrers follow the image they belong to.
 */
export class LifecycleRunner {
  private readonly meta: MetadataStore;

  constructor(meta: MetadataStore) {
    this.meta = meta;
  }

  async policyOf(repo: Repository, text?: string): Promise<LifecyclePolicy> {
    const source = text ?? (await this.meta.getDocument(documentKinds.lifecyclePolicy, repo.name))?.body;
    if (source === undefined) throw new RegistryError('LifecyclePolicyNotFound', `repository ${repo.name} has no lifecycle policy`);
    const result = validateLifecyclePolicy(source);
    if (!result.ok) {
      const first = result.errors[0];
      throw new RegistryError('InvalidParameter', `lifecyclePolicyText: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'invalid'}`, { field: 'lifecyclePolicyText' });
    }
    return result.policy;
  }

  async preview(repo: Repository, policy: LifecyclePolicy, now = new Date()): Promise<Expiry[]> {
    const images = await this.topLevelImages(repo);
    const evaluation = evaluateLifecyclePolicy(
      policy,
      images.map((i) => ({ digest: i.digest, tags: i.tags, pushedAt: i.pushedAt, lastPulledAt: i.lastPulledAt ?? null })),
      now,
    );
    const byDigest = new Map(images.map((i) => [i.digest, i]));
    return evaluation.expired.map((e) => ({
      imageDigest: e.digest,
      imageTags: [...e.tags],
      imagePushedAt: (byDigest.get(e.digest)?.pushedAt ?? new Date(0)).toISOString(),
      appliedRulePriority: e.rulePriority,
      reason: e.reason,
    }));
  }

  /** Expires what the repository's policy selects, now; returns and records what went. */
  async execute(repo: Repository, now = new Date()): Promise<Expiry[]> {
    const expiries = await this.preview(repo, await this.policyOf(repo), now);
    for (const e of expiries) await this.expire(repo, e.imageDigest);
    await this.meta.recordExpirations(
      expiries.map((e) => ({ repositoryName: repo.name, digest: e.imageDigest, tags: e.imageTags, rulePriority: e.appliedRulePriority, reason: e.reason, expiredAt: now })),
    );
    await this.meta.putDocument(documentKinds.lifecycleRun, repo.name, JSON.stringify({ at: now.toISOString(), expired: expiries.length }), {
      mode: 'upsert',
      repositoryId: repo.id,
    });
    return expiries;
  }

  /** Runs every repository's policy (the scheduled job). */
  async executeAll(now = new Date()): Promise<{ repositories: number; expired: number }> {
    let repositories = 0;
    let expired = 0;
    let after: string | undefined;
    for (;;) {
      const docs = await this.meta.listDocuments(documentKinds.lifecyclePolicy, '', { after, limit: 100 });
      for (const doc of docs) {
        const repo = await this.meta.getRepository(doc.key);
        if (!repo) continue;
        repositories++;
        expired += (await this.execute(repo, now)).length;
      }
      if (docs.length < 100) break;
      after = docs.at(-1)?.key;
    }
    return { repositories, expired };
  }

  private async topLevelImages(repo: Repository): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.meta.listImages(repo.id, 'ANY', { after, limit: pageSize });
      for (const image of page) if (!image.referenced) out.push(image);
      if (page.length < pageSize) return out;
      after = page.at(-1)?.digest;
    }
  }

  /** Deletes an image with its referrers, and the children of an index that nothing else lists. */
  private async expire(repo: Repository, digest: string): Promise<void> {
    const manifest = await this.meta.getManifest(repo.id, digest);
    if (!manifest) return;
    const children = indexTypes.has(manifest.mediaType) ? indexChildren(manifest.content).map((c) => c.digest) : [];
    const referrers = await this.meta.listReferrers(repo.id, digest, { limit: 10_000 });
    await this.meta.deleteManifest(repo.id, digest);
    for (const r of referrers) await this.meta.deleteManifest(repo.id, r.digest);
    for (const child of children) {
      const image = await this.meta.getImage(repo.id, child);
      if (image && image.tags.length === 0 && (await this.meta.indexesListing(repo.id, child)).length === 0) await this.expire(repo, child);
    }
  }
}
