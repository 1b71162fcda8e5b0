// A CDKTF app for Berth: one repository whose tags cannot move (except `latest`), a repository
// policy that lets everyone pull, and a lifecycle policy (keep 20 releases, expire untagged
// images after a week). The classes are the bindings generated from the provider's schema
// (provider/cdktf/berth, `make generate`); `cdktf synth` writes cdktf.out/stacks/berth/cdk.tf.json.
import { fileURLToPath } from 'node:url';
import { App, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { LifecyclePolicy } from '../../provider/cdktf/berth/lifecycle-policy/index.ts';
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

export class BerthStack extends TerraformStack {
  readonly repository: Repository;
  readonly repositoryPolicy: RepositoryPolicy;
  readonly lifecyclePolicy: LifecyclePolicy;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const endpoint = new TerraformVariable(this, 'endpoint', {
      type: 'string',
      default: 'http://127.0.0.1:5000',
      description: 'The Berth registry URL',
    });
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
  }
}

/** The app; `outdir` defaults to CDKTF_OUTDIR (set by the cdktf CLI) or cdktf.out. */
export function buildApp(outdir?: string): App {
  const app = new App(outdir === undefined ? {} : { outdir });
  new BerthStack(app, 'berth');
  return app;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) buildApp().synth();
