// berth_image and berth_images: images are not managed resources, so these read the registry's
// image operations, whose schemas they reuse.
import { Type } from '@sinclair/typebox';
import { BerthApiError, type BerthClient } from '@berth/registry-server/client';
import { ImageDetail, ImageId, ListImagesQuery, RepositoryName } from '@berth/registry-server/models';
import { Value } from '@sinclair/typebox/value';
import type * as P from '../plugin/types.ts';
import { toModelValue } from '../schema/from-model.ts';
import type { CtyValue } from '../values/index.ts';
import { dataSourceFromTypeBox, errorAt, hasUnknown, pendingState, type DataSource, type PathStep } from './common.ts';

type ImageDetail = Awaited<ReturnType<BerthClient['images']['list']>>['imageDetails'][number];
type TagStatus = 'TAGGED' | 'UNTAGGED' | 'ANY';

/** Page size asked of the list operation; every page is followed. */
export const listPageSize = 100;

// The shapes come from the registry's image operations (model/images.ts): nothing is redefined.
const imageInputs = Type.Composite([Type.Object({ repositoryName: RepositoryName }), ImageId]);
const imageOutputs = Type.Composite([
  Type.Omit(ImageDetail, ['repositoryName', 'platforms', 'subjectDigest']),
  Type.Object({ imageManifest: Type.String({ description: 'The manifest, as pushed.' }) }),
]);
const imagesInputs = Type.Object({ repositoryName: RepositoryName, tagStatus: ListImagesQuery.properties.tagStatus });
const imagesOutputs = Type.Object({
  images: Type.Array(Type.Pick(ImageDetail, ['imageDigest', 'imageTags', 'imagePushedAt', 'imageSizeInBytes']), {
    description: 'The images, in the order the registry lists them (every page).',
  }),
});

export const imageProjection = dataSourceFromTypeBox('image', imageInputs, imageOutputs, 'One image of a repository, by digest or tag, with its manifest.');
export const imagesProjection = dataSourceFromTypeBox('images', imagesInputs, imagesOutputs, 'The images of a repository.');

function repositoryDiagnostic(err: unknown, repositoryName: string): P.Diagnostic {
  if (err instanceof BerthApiError) {
    if (err.status === 404) return errorAt(`repository ${JSON.stringify(repositoryName)} not found`, err.message, ['repository_name']);
    const at = err.field === 'repositoryName' ? ['repository_name'] : err.field === 'tagStatus' ? ['tag_status'] : [];
    return errorAt(`${err.code}: ${err.message}`, err.requestId ? `request ${err.requestId}` : undefined, at);
  }
  return errorAt((err as Error).message ?? String(err), undefined);
}

async function* allImages(api: BerthClient, repositoryName: string, tagStatus: TagStatus): AsyncGenerator<ImageDetail> {
  let nextToken: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await api.images.list(repositoryName, { tagStatus, maxResults: listPageSize, ...(nextToken !== undefined ? { nextToken } : {}) });
    yield* page.imageDetails;
    nextToken = page.nextToken;
    if (nextToken !== undefined && seen.has(nextToken)) throw new Error('the registry returned the same page token twice');
    if (nextToken !== undefined) seen.add(nextToken);
  } while (nextToken !== undefined);
}

function validateRepositoryName(value: CtyValue | undefined): P.Diagnostic[] {
  if (typeof value !== 'string' || Value.Check(RepositoryName, value)) return [];
  return [errorAt('invalid repository_name', 'a repository name has 2 to 256 characters: lowercase components separated by "/"', ['repository_name'])];
}

export const imageDataSource: DataSource = {
  typeName: imageProjection.typeName,
  projection: imageProjection,
  validate(config) {
    const out = validateRepositoryName(config.repository_name);
    const digest = config.image_digest ?? null;
    const tag = config.image_tag ?? null;
    if (digest === null && tag === null) out.push(errorAt('image_digest or image_tag is required', 'name the image by its digest, by a tag, or both', ['image_digest']));
    if (typeof digest === 'string' && !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
      out.push(errorAt('invalid image_digest', `${JSON.stringify(digest)} is not a digest (algorithm:hex)`, ['image_digest']));
    }
    if (typeof tag === 'string' && !/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/.test(tag)) out.push(errorAt('invalid image_tag', `${JSON.stringify(tag)} is not a tag`, ['image_tag']));
    return out;
  },
  async read(config, api) {
    if (hasUnknown(config)) return { state: pendingState(imageProjection, config) };
    const bad = this.validate(config);
    if (bad.length > 0) return { diagnostics: bad };
    const input = toModelValue(imageProjection.fields, config, { roles: ['input'] }) as { repositoryName: string; imageDigest?: string; imageTag?: string };
    const imageId = { ...(input.imageDigest !== undefined ? { imageDigest: input.imageDigest } : {}), ...(input.imageTag !== undefined ? { imageTag: input.imageTag } : {}) };
    try {
      const got = await api().images.batchGet(input.repositoryName, [imageId]);
      const failure = got.failures[0];
      const image = got.images[0];
      if (failure || !image) {
        const code = failure?.failureCode ?? 'ImageNotFound';
        const at: PathStep[] =
          code === 'InvalidImageDigest' ? ['image_digest']
          : code === 'InvalidImageTag' || code === 'ImageTagDoesNotMatchDigest' ? ['image_tag']
          : input.imageTag !== undefined && input.imageDigest === undefined ? ['image_tag']
          : ['image_digest'];
        return { diagnostics: [errorAt(`${code}: no image ${JSON.stringify(imageId)} in ${input.repositoryName}`, failure?.failureReason, at)] };
      }
      const digest = image.imageId.imageDigest;
      let detail: ImageDetail | undefined;
      for await (const d of allImages(api(), input.repositoryName, 'ANY')) {
        if (d.imageDigest === digest) {
          detail = d;
          break;
        }
      }
      if (!detail) return { diagnostics: [errorAt(`image ${digest} disappeared while it was being read`, undefined, ['image_digest'])] };
      const state: Record<string, CtyValue> = {
        repository_name: input.repositoryName,
        image_tag: input.imageTag ?? null,
        image_digest: detail.imageDigest,
        registry_id: detail.registryId,
        image_tags: [...detail.imageTags],
        image_size_in_bytes: detail.imageSizeInBytes,
        image_pushed_at: detail.imagePushedAt,
        last_recorded_pull_time: detail.lastRecordedPullTime ?? null,
        image_manifest_media_type: detail.imageManifestMediaType,
        artifact_media_type: detail.artifactMediaType ?? null,
        image_manifest: image.imageManifest,
      };
      return { state };
    } catch (err) {
      return { diagnostics: [repositoryDiagnostic(err, input.repositoryName)] };
    }
  },
};

export const imagesDataSource: DataSource = {
  typeName: imagesProjection.typeName,
  projection: imagesProjection,
  validate(config) {
    const out = validateRepositoryName(config.repository_name);
    const status = config.tag_status ?? null;
    if (typeof status === 'string' && !['TAGGED', 'UNTAGGED', 'ANY'].includes(status)) {
      out.push(errorAt('invalid tag_status', `must be TAGGED, UNTAGGED or ANY, not ${JSON.stringify(status)}`, ['tag_status']));
    }
    return out;
  },
  async read(config, api) {
    if (hasUnknown(config)) return { state: pendingState(imagesProjection, config) };
    const bad = this.validate(config);
    if (bad.length > 0) return { diagnostics: bad };
    const repositoryName = config.repository_name as string;
    const tagStatus = (config.tag_status ?? null) as TagStatus | null;
    try {
      const images: CtyValue[] = [];
      for await (const d of allImages(api(), repositoryName, tagStatus ?? 'ANY')) {
        images.push({ image_digest: d.imageDigest, image_tags: [...d.imageTags], image_pushed_at: d.imagePushedAt, image_size_in_bytes: d.imageSizeInBytes });
      }
      return { state: { repository_name: repositoryName, tag_status: tagStatus, images } };
    } catch (err) {
      return { diagnostics: [repositoryDiagnostic(err, repositoryName)] };
    }
  },
};
