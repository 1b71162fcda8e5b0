// Images are not managed resources (nothing declares them); these are the schemas of the image
// operations, shared by the routes, OpenAPI and the client.
import { Type, type Static } from '@sinclair/typebox';
import { Timestamp } from './common.ts';
import { RepositoryName } from './resources/repository.ts';

export const ImageId = Type.Object(
  {
    imageDigest: Type.Optional(Type.String({ maxLength: 200, description: 'sha256:... or sha512:...' })),
    imageTag: Type.Optional(Type.String({ maxLength: 128, description: 'A tag.' })),
  },
  { additionalProperties: false, description: 'An image by digest, by tag, or both (then the tag must point at the digest).' },
);

export const Platform = Type.Object({
  os: Type.String(),
  architecture: Type.String(),
  variant: Type.Optional(Type.String()),
});

export const ImageDetail = Type.Object({
  registryId: Type.String(),
  repositoryName: Type.String(),
  imageDigest: Type.String(),
  imageTags: Type.Array(Type.String()),
  imageSizeInBytes: Type.Integer({ description: 'The manifest and the blobs it references; for an index, its child images too.' }),
  imagePushedAt: Timestamp,
  lastRecordedPullTime: Type.Optional(Timestamp),
  imageManifestMediaType: Type.String(),
  artifactMediaType: Type.Optional(Type.String({ description: 'The artifactType (or config media type) of the manifest.' })),
  platforms: Type.Optional(Type.Array(Platform, { description: 'The platforms an index covers.' })),
  subjectDigest: Type.Optional(Type.String({ description: 'For a referrer (signature, SBOM, ...): the image it describes.' })),
});

export const ImageFailure = Type.Object({
  imageId: ImageId,
  failureCode: Type.Union([
    Type.Literal('InvalidImageDigest'),
    Type.Literal('InvalidImageTag'),
    Type.Literal('ImageTagDoesNotMatchDigest'),
    Type.Literal('ImageNotFound'),
    Type.Literal('MissingDigestAndTag'),
    Type.Literal('ImageReferencedByManifestList'),
  ]),
  failureReason: Type.String(),
});

export const RepositoryParams = Type.Object({ repositoryName: RepositoryName });

export const ListImagesQuery = Type.Object(
  {
    tagStatus: Type.Optional(Type.Union([Type.Literal('TAGGED'), Type.Literal('UNTAGGED'), Type.Literal('ANY')], { default: 'ANY' })),
    maxResults: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    nextToken: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);

export const ListImagesResponse = Type.Object({ imageDetails: Type.Array(ImageDetail), nextToken: Type.Optional(Type.String()) });

export const BatchImagesRequest = Type.Object({ imageIds: Type.Array(ImageId, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false });

export const BatchGetResponse = Type.Object({
  images: Type.Array(
    Type.Object({
      imageId: ImageId,
      imageManifest: Type.String({ description: 'The manifest bytes, as pushed (UTF-8).' }),
      imageManifestMediaType: Type.String(),
    }),
  ),
  failures: Type.Array(ImageFailure),
});

export const BatchDeleteResponse = Type.Object({ imageIds: Type.Array(ImageId), failures: Type.Array(ImageFailure) });

export type ImageIdT = Static<typeof ImageId>;
export type ImageDetailT = Static<typeof ImageDetail>;
export type ImageFailureT = Static<typeof ImageFailure>;
export type BatchGetResponseT = Static<typeof BatchGetResponse>;
export type BatchDeleteResponseT = Static<typeof BatchDeleteResponse>;
export type ListImagesResponseT = Static<typeof ListImagesResponse>;
