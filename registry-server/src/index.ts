// Public surface of the registry server package (used by tests, benchmarks and, later, the providers).
export { createServer, assemble, type Server } from './app.ts';
export { loadConfig, defaults as defaultConfig, type Config } from './config.ts';
export type { BlobStore, ByteRange, BlobInfo } from './storage/blob-store.ts';
export { BlobNotFoundError } from './storage/blob-store.ts';
export { FsBlobStore } from './storage/fs-blob-store.ts';
export type * from './meta/metadata-store.ts';
export { SqliteMetadataStore } from './meta/sqlite/sqlite-store.ts';
export { ociRoutes } from './oci/router.ts';
export { BerthClient, BerthApiError, ResourceClient, type ClientOptions, type Representation } from './client/client.ts';
export { repositoryModel } from './model/resources/repository.ts';
export type { ResourceModel } from './model/resource.ts';
export { fieldMeta, type FieldMeta } from './model/meta.ts';
export { errorCatalog, type ErrorCode } from './errors.ts';
