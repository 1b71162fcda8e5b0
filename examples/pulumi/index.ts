// Two team repositories on a Berth registry, each with a lifecycle policy and a pull policy, a
// repository encrypted under a KMS key of its own (named through an alias), and a CI service
// account that may push and pull platform/web only, with an access key.
//   pulumi config set berth:endpoint http://127.0.0.1:5000
//   export BERTH_ACCESS_KEY_ID=BKIA... BERTH_SECRET_ACCESS_KEY=...   (or berth:accessKeyId and
//   pulumi config set --secret berth:secretAccessKey ...)
//   pulumi up
import * as pulumi from '@pulumi/pulumi';
import { AccessKey, IdentityPolicy, KmsAlias, KmsKey, LifecyclePolicy, Principal, Repository, RepositoryPolicy } from '@berth/provider/pulumi';

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
const repositoryArns: Record<string, pulumi.Output<string>> = {};

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
  repositoryArns[team] = repository.repositoryArn;
}

// Encryption at rest under a customer-managed KMS key, named through an alias. A repository's
// encryption is fixed when it is created (another key replaces the repository); destroying the
// key schedules its deletion (after 7 days here) instead of deleting it at once.
const imagesKey = new KmsKey('images-key', { description: 'encrypts platform/secure', deletionWindowInDays: 7 });
const imagesAlias = new KmsAlias('images-alias', { aliasName: 'alias/platform-images', targetKeyId: imagesKey.keyId });
const secure = new Repository('secure', {
  repositoryName: 'platform/secure',
  encryptionConfiguration: imagesAlias.aliasName.apply((kmsKey) => ({ encryptionType: 'KMS' as const, kmsKey })),
});
export const secureRepositoryUri = secure.repositoryUri;
export const imagesKeyArn = imagesKey.arn;

/** Push and pull on one repository, and registry logins. */
const pushPull = (repositoryArn: string) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'PushPull',
      Effect: 'Allow',
      Action: [
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchCheckLayerAvailability',
        'ecr:ListImages',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
      ],
      Resource: repositoryArn,
    },
    { Sid: 'Login', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
  ],
});

// CI: a service account that pushes and pulls platform/web, and its access key.
const ci = new Principal('ci', { principalName: 'ci-web', type: 'SERVICE_ACCOUNT', description: 'CI pipeline of the web team' });
new IdentityPolicy('ci-push-pull', {
  principalName: ci.principalName,
  policyName: 'push-pull-platform-web',
  policyText: (repositoryArns.web as pulumi.Output<string>).apply((arn) => JSON.stringify(pushPull(arn))),
});
const ciKey = new AccessKey('ci-key', { principalName: ci.principalName, description: 'CI pipeline' });

export const ciAccessKeyId = ciKey.accessKeyId;
// A secret output (encrypted in the state): pulumi stack output --show-secrets ciSecretAccessKey
export const ciSecretAccessKey = pulumi.secret(ciKey.secretAccessKey);
