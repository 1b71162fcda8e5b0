// The provider's data sources, by Terraform type name.
import { repositoryModel } from '@berth/registry-server/models';
import { authorizationTokenDataSource } from './authorization-token.ts';
import type { DataSource } from './common.ts';
import { lifecyclePolicyDocumentDataSource, policyDocumentDataSource } from './documents.ts';
import { imageDataSource, imagesDataSource } from './images.ts';
import { modelDataSource } from './model.ts';

export type { DataSource, DataSourceResult } from './common.ts';
export { dataSourceFromTypeBox } from './common.ts';

export const dataSources: ReadonlyMap<string, DataSource> = new Map(
  [modelDataSource(repositoryModel), imageDataSource, imagesDataSource, policyDocumentDataSource, lifecyclePolicyDocumentDataSource, authorizationTokenDataSource].map((d) => [d.typeName, d]),
);
