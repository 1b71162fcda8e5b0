// Every managed resource's description, for the projections (IaC providers, docs).
import { repositoryCreationTemplateModel } from './resources/repository-creation-template.ts';
import { repositoryModel } from './resources/repository.ts';
import { lifecyclePolicyModel, registryPolicyModel, repositoryPolicyModel } from './resources/policies.ts';
import { accessKeyModel, identityPolicyModel, principalModel } from './resources/identity.ts';
import { kmsAliasModel, kmsKeyModel } from './resources/kms.ts';
import { replicationConfigurationModel, replicationRuleModel } from './resources/replication.ts';

export { repositoryModel, repositoryCreationTemplateModel, repositoryPolicyModel, registryPolicyModel, lifecyclePolicyModel };
export { principalModel, accessKeyModel, identityPolicyModel };
export { kmsKeyModel, kmsAliasModel };
export { replicationConfigurationModel, replicationRuleModel };
export { fieldMeta, metaKeyword, withMeta, type FieldMeta } from './meta.ts';
export type { ResourceModel, Operation } from './resource.ts';
// Image operations are not resources, but their shapes are shared too (IaC data sources).
export { ImageDetail, ImageId, ListImagesQuery } from './images.ts';
export { RepositoryName } from './resources/repository.ts';
// Identity operations that are not resources (the registry login token: an IaC data source).
export { AuthorizationToken } from './auth.ts';

export const resourceModels = [
  repositoryModel,
  repositoryCreationTemplateModel,
  repositoryPolicyModel,
  registryPolicyModel,
  lifecyclePolicyModel,
  principalModel,
  accessKeyModel,
  identityPolicyModel,
  kmsKeyModel,
  kmsAliasModel,
  replicationConfigurationModel,
  replicationRuleModel,
] as const;
