// Two team repositories on a Berth registry, each with a lifecycle policy and a pull policy.
//   pulumi config set berth:endpoint http://127.0.0.1:5000
//   pulumi up
import * as pulumi from '@pulumi/pulumi';
import { LifecyclePolicy, Repository, RepositoryPolicy } from '@berth/provider/pulumi';

const teams = ['web', 'api'];

const lifecycle = {
  rules: [
    {
      rulePriority: 1,
      description: 'keep the last 20 releases',
      selection: { tagStatus: 'tagged', tagPrefixList: ['release-'], countType: 'imageCountMoreThan', countNumber: 20 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'untagged images go after a week',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    },
  ],
};

const pullForEveryone = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
};

export const repositoryUris: Record<string, pulumi.Output<string>> = {};

for (const team of teams) {
  const repository = new Repository(team, {
    repositoryName: `platform/${team}`,
    imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
    imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
    tags: { team },
  });
  new LifecyclePolicy(`${team}-lifecycle`, { repositoryName: repository.repositoryName, lifecyclePolicyText: JSON.stringify(lifecycle) });
  new RepositoryPolicy(`${team}-policy`, { repositoryName: repository.repositoryName, policyText: JSON.stringify(pullForEveryone) });
  repositoryUris[team] = repository.repositoryUri;
}
