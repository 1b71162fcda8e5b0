import { isDigest } from '../digest.ts';
import { RegistryError } from '../errors.ts';
import type { ImageRecord, MetadataStore, Repository, TagFilter } from '../meta/metadata-store.ts';
import type { BatchDeleteResponseT, BatchGetResponseT, ImageDetailT, ImageFailureT, ImageIdT } from '../model/images.ts';
import { isValidTag } from '../names.ts';
import { indexChildren } from '../oci/manifest-parser.ts';
import { indexTypes } from '../oci/media-types.ts';

type Resolved = { readonly ok: true; readonly image: ImageRecord; readonly id: ImageIdT } | { readonly ok: false; readonly failure: ImageFailureT };

/**
 * Images as ECR reports them: describe and list, batch get, and batch delete where a tag
 * untags (and the last tag removed deletes the image) while a digest deletes the image.
 */
export class ImageService {
  private readonly meta: MetadataStore;
  private readonly registryId: string;

  constructor(meta: MetadataStore, registryId: string) {
    this.meta = meta;
    this.registryId = registryId;
  }

  async repository(name: string): Promise<Repository> {
    const repo = await this.meta.getRepository(name);
    if (!repo) throw new RegistryError('RepositoryNotFound', `repository ${name} does not exist`, { field: 'repositoryName' });
    return repo;
  }

  async list(repo: Repository, filter: TagFilter, limit: number, after: string | undefined): Promise<{ images: ImageDetailT[]; after?: string }> {
    const rows = await this.meta.listImages(repo.id, filter, { after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const images = await Promise.all(page.map((r) => this.detail(repo, r)));
    const last = page.at(-1);
    return { images, ...(rows.length > limit && last ? { after: last.digest } : {}) };
  }

  async detail(repo: Repository, image: ImageRecord): Promise<ImageDetailT> {
    let size = image.manifestSize + image.blobBytes;
    let platforms: ImageDetailT['platforms'];
    if (indexTypes.has(image.mediaType)) {
      const manifest = await this.meta.getManifest(repo.id, image.digest);
      const children = manifest ? indexChildren(manifest.content) : [];
      platforms = children.flatMap((c) => (c.platform ? [c.platform] : []));
      for (const child of children) {
        const record = await this.meta.getImage(repo.id, child.digest);
        if (record) size += record.manifestSize + record.blobBytes;
      }
    }
    return {
      registryId: this.registryId,
      repositoryName: repo.name,
      imageDigest: image.digest,
      imageTags: [...image.tags],
      imageSizeInBytes: size,
      imagePushedAt: image.pushedAt.toISOString(),
      ...(image.lastPulledAt ? { lastRecordedPullTime: image.lastPulledAt.toISOString() } : {}),
      imageManifestMediaType: image.mediaType,
      ...(image.artifactType !== undefined ? { artifactMediaType: image.artifactType } : {}),
      ...(platforms !== undefined ? { platforms } : {}),
      ...(image.subject !== undefined ? { subjectDigest: image.subject } : {}),
    };
  }

  async batchGet(repo: Repository, ids: readonly ImageIdT[]): Promise<BatchGetResponseT> {
    const out: BatchGetResponseT = { images: [], failures: [] };
    for (const id of ids) {
      const r = await this.resolve(repo, id);
      if (!r.ok) {
        out.failures.push(r.failure);
        continue;
      }
      const manifest = await this.meta.getManifest(repo.id, r.image.digest);
      if (!manifest) {
        out.failures.push(failure(id, 'ImageNotFound', 'the image was deleted meanwhile'));
        continue;
      }
      out.images.push({ imageId: r.id, imageManifest: Buffer.from(manifest.content).toString('utf8'), imageManifestMediaType: manifest.mediaType });
    }
    return out;
  }

  async batchDelete(repo: Repository, ids: readonly ImageIdT[]): Promise<BatchDeleteResponseT> {
    const out: BatchDeleteResponseT = { imageIds: [], failures: [] };
    for (const id of ids) {
      const r = await this.resolve(repo, id);
      if (!r.ok) {
        out.failures.push(r.failure);
        continue;
      }
      if (id.imageTag !== undefined && id.imageDigest === undefined) {
        // Untag; removing the last tag deletes the image, as in ECR.
        await this.meta.deleteTag(repo.id, id.imageTag);
        const after = await this.meta.getImage(repo.id, r.image.digest);
        if (after && after.tags.length === 0) await this.deleteImage(repo, after);
        out.imageIds.push(r.id);
        continue;
      }
      const listedBy = await this.meta.indexesListing(repo.id, r.image.digest);
      if (listedBy.length > 0) {
        out.failures.push(failure(id, 'ImageReferencedByManifestList', `listed by ${listedBy.slice(0, 3).join(', ')}; delete the index first`));
        continue;
      }
      await this.deleteImage(repo, r.image);
      out.imageIds.push(r.id);
    }
    return out;
  }

  /** Deletes a manifest and its tags (blobs are reclaimed later by garbage collection). */
  async deleteImage(repo: Repository, image: ImageRecord): Promise<void> {
    await this.meta.deleteManifest(repo.id, image.digest);
  }

  private async resolve(repo: Repository, id: ImageIdT): Promise<Resolved> {
    const { imageDigest, imageTag } = id;
    if (imageDigest === undefined && imageTag === undefined) return { ok: false, failure: failure(id, 'MissingDigestAndTag', 'give imageDigest, imageTag or both') };
    if (imageDigest !== undefined && !isDigest(imageDigest)) return { ok: false, failure: failure(id, 'InvalidImageDigest', 'not a sha256 or sha512 digest') };
    if (imageTag !== undefined && !isValidTag(imageTag)) return { ok: false, failure: failure(id, 'InvalidImageTag', 'not a valid tag') };
    let digest = imageDigest;
    if (imageTag !== undefined) {
      const tagged = await this.meta.getManifestByTag(repo.id, imageTag);
      if (!tagged) return { ok: false, failure: failure(id, 'ImageNotFound', `no image is tagged ${imageTag}`) };
      if (digest !== undefined && tagged.digest !== digest) {
        return { ok: false, failure: failure(id, 'ImageTagDoesNotMatchDigest', `${imageTag} points to ${tagged.digest}`) };
      }
      digest = tagged.digest;
    }
    const image = digest === undefined ? undefined : await this.meta.getImage(repo.id, digest);
    if (!image) return { ok: false, failure: failure(id, 'ImageNotFound', `no image ${digest ?? ''}`) };
    return { ok: true, image, id: { imageDigest: image.digest, ...(imageTag !== undefined ? { imageTag } : {}) } };
  }
}

function failure(imageId: ImageIdT, failureCode: ImageFailureT['failureCode'], failureReason: string): ImageFailureT {
  return { imageId, failureCode, failureReason };
}
