// A CDKTF app for Berth: one repository whose tags cannot move (except `latest`), a repository
// policy that lets everyone pull, a lifecycle policy (keep 20 releases, expire untagged images
// after a week), and a CI service account that may push and pull that repository only, with an
// access key; and a repository encrypted under a KMS key of its own, named through an alias
// (the encryption is fixed at creation; destroying the key schedules its deletion). The classes are the bindings generated from the provider's schema
// (provider/cdktf/berth, `make generate`); `cdktf synth` writes cdktf.out/stacks/berth/cdk.tf.json.
// The provider signs in with BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY from the environment.
import { fileURLToPath } from 'node:url';
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { AccessKey } from '../../provider/cdktf/berth/access-key/index.ts';
import { IdentityPolicy } from '../../provider/cdktf/berth/identity-policy/index.ts';
import { KmsAlias } from '../../provider/cdktf/berth/kms-alias/index.ts';
import { KmsKey } from '../../provider/cdktf/berth/kms-key/index.ts';
import { LifecyclePolicy } from '../../provider/cdktf/berth/lifecycle-policy/index.ts';
import { Principal } from '../../provider/cdktf/berth/principal/index.ts';
import { BerthProvider } from '../../provider/cdktf/berth/provider/index.ts';
import { RepositoryPolicy } from '../../provider/cdktf/berth/repository-policy/index.ts';
import { Repository } from '../../provider/cdktf/berth/repository/index.ts';

export const repositoryName = 'platform/web';

export const pullPolicy = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'PullForEveryone', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }],
};

export const lifecycleRules = {
  rules: [
    {
      rulePriority: 1,
      description: 'Keep the 20 most recent releases',
      selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 20 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'Expire untagged images after a week',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 },
      action: { type: 'expire' },
    },
  ],
};

export const ciPrincipalName = 'ci-web';

export const secureRepositoryName = 'platform/secure';
export const imagesAliasName = 'alias/platform-images';

/** Push and pull on one repository (its ARN), and registry logins. */
export function pushPullPolicy(repositoryArn: string) {
  return {
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
  };
}

export class BerthStack extends TerraformStack {
  readonly repository: Repository;
  readonly repositoryPolicy: RepositoryPolicy;
  readonly lifecyclePolicy: LifecyclePolicy;
  readonly ci: Principal;
  readonly ciPolicy: IdentityPolicy;
  readonly ciKey: AccessKey;
  readonly imagesKey: KmsKey;
  readonly imagesAlias: KmsAlias;
  readonly secureRepository: Repository;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const endpoint = new TerraformVariable(this, 'endpoint', {
      type: 'string',
      default: 'http://127.0.0.1:5000',
      description: 'The Berth registry URL',
    });
    // No credentials here: the provider reads BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY.
    new BerthProvider(this, 'berth', { endpoint: endpoint.stringValue });

    this.repository = new Repository(this, 'web', {
      repositoryName,
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest' }],
      tags: { team: 'platform' },
    });

    // Both policies name the repository through its attribute, so Terraform creates them after it.
    this.repositoryPolicy = new RepositoryPolicy(this, 'web_pull', {
      repositoryName: this.repository.repositoryName,
      policyText: JSON.stringify(pullPolicy),
    });

    this.lifecyclePolicy = new LifecyclePolicy(this, 'web_lifecycle', {
      repositoryName: this.repository.repositoryName,
      lifecyclePolicyText: JSON.stringify(lifecycleRules),
    });

    new TerraformOutput(this, 'repository_id', { value: this.repository.id });

    // CI: a service account allowed to push and pull this repository only, and its access key.
    this.ci = new Principal(this, 'ci', { principalName: ciPrincipalName, type: 'SERVICE_ACCOUNT', description: 'CI pipeline of the web team' });
    this.ciPolicy = new IdentityPolicy(this, 'ci_push_pull', {
      principalName: this.ci.principalName,
      policyName: 'push-pull-platform-web',
      policyText: JSON.stringify(pushPullPolicy(this.repository.repositoryArn)),
    });
    this.ciKey = new AccessKey(this, 'ci_key', { principalName: this.ci.principalName, description: 'CI pipeline' });
    new TerraformOutput(this, 'ci_access_key_id', { value: this.ciKey.accessKeyId });
    new TerraformOutput(this, 'ci_secret_access_key', { value: this.ciKey.secretAccessKey, sensitive: true });

    // Encryption at rest under a KMS key of its own, named through an alias; naming another key
    // replaces the repository. Destroying the key schedules its deletion (after 7 days here).
    this.imagesKey = new KmsKey(this, 'images_key', { description: `encrypts ${secureRepositoryName}`, deletionWindowInDays: 7 });
    this.imagesAlias = new KmsAlias(this, 'images_alias', { aliasName: imagesAliasName, targetKeyId: this.imagesKey.keyId });
    this.secureRepository = new Repository(this, 'secure', {
      repositoryName: secureRepositoryName,
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: this.imagesAlias.aliasName },
    });
    new TerraformOutput(this, 'images_key_arn', { value: this.imagesKey.arn });
  }
}

/** The app; `outdir` defaults to CDKTF_OUTDIR (set by the cdktf CLI) or cdktf.out. */
export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new BerthStack(app, 'berth');
  return app;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) buildApp().synth();
