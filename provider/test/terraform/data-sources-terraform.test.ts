// The data sources under the real Terraform CLI: documents built in HCL feeding a repository
// policy and a lifecycle policy, repository and image lookups, an empty plan after apply, and
// a document error reported by Terraform against the attribute. Skipped where no `terraform`.
import { join } from 'node:path';
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { startRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { pushImage } from '../../../test/support/oci.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace } from './terraform-cli.ts';

const available = terraformAvailable;
reportTerraformAvailability();
const maybe = available ? test.serial : test.serial.skip;

const workspace = (endpoint: string) => terraformWorkspace(endpoint, 'berth-tf-ds-');

const config = (action: string) => `
resource "berth_repository" "app" {
  repository_name = "tfds/app"
  tags = { team = "platform" }
}

data "berth_repository" "base" {
  repository_name = "tfds/base"
}

data "berth_image" "release" {
  repository_name = data.berth_repository.base.repository_name
  image_tag       = "v1"
}

data "berth_images" "base" {
  repository_name = data.berth_repository.base.repository_name
}

data "berth_policy_document" "pull" {
  statement = [
    {
      sid        = "Pull"
      actions    = ["ecr:GetDownloadUrlForLayer", "${action}", "ecr:BatchGetImage"]
      principals = [{ type = "AWS", identifiers = ["*"] }]
    },
    {
      sid        = "NoPushFromAnyone"
      effect     = "Deny"
      actions    = ["ecr:PutImage"]
      principals = [{ type = "*", identifiers = ["*"] }]
      conditions = [{ test = "StringNotEquals", variable = "aws:PrincipalTag/team", values = ["platform"] }]
    },
  ]
}

data "berth_lifecycle_policy_document" "keep" {
  rules = [
    {
      rule_priority = 1
      description   = "untagged images"
      selection     = { tag_status = "untagged", count_type = "sinceImagePushed", count_unit = "days", count_number = 7 }
    },
    {
      rule_priority = 2
      selection     = { tag_status = "tagged", tag_prefix_list = ["v"], count_type = "imageCountMoreThan", count_number = 20 }
      action        = { type = "expire" }
    },
  ]
}

resource "berth_repository_policy" "app" {
  repository_name = berth_repository.app.repository_name
  policy_text     = data.berth_policy_document.pull.json
}

resource "berth_lifecycle_policy" "app" {
  repository_name       = berth_repository.app.repository_name
  lifecycle_policy_text = data.berth_lifecycle_policy_document.keep.json
}

output "base_arn" {
  value = data.berth_repository.base.repository_arn
}
output "release_digest" {
  value = data.berth_image.release.image_digest
}
output "image_count" {
  value = length(data.berth_images.base.images)
}
output "manifest_schema" {
  value = jsondecode(data.berth_image.release.image_manifest).schemaVersion
}
`;

maybe('data sources feed a repository policy and a lifecycle policy under the real Terraform', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const base = await api.repositories.create({ repositoryName: 'tfds/base' });
  const digest = await pushImage(reg.url, 'tfds/base', 'v1');
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());

  tf.write(config('ecr:BatchCheckLayerAvailability'));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 3 added, 0 changed, 0 destroyed/);
  const policy = await api.repositoryPolicies.read({ repositoryName: 'tfds/app' });
  const stored = JSON.parse(policy.policyText) as { Statement: { Sid: string; Action: string[]; Principal: unknown; Condition?: unknown }[] };
  t.deepEqual(stored.Statement[0], { Sid: 'Pull', Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] } as never);
  t.like(stored.Statement[1], { Sid: 'NoPushFromAnyone', Effect: 'Deny', Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalTag/team': ['platform'] } } });
  const lifecycle = JSON.parse((await api.lifecyclePolicies.read({ repositoryName: 'tfds/app' })).lifecyclePolicyText) as { rules: unknown[] };
  t.is(lifecycle.rules.length, 2);

  r = await tf.run(['output', '-json']);
  t.is(r.code, 0, r.out);
  const outputs = JSON.parse(r.out) as Record<string, { value: unknown }>;
  t.is(outputs.base_arn?.value, base.repositoryArn);
  t.is(outputs.release_digest?.value, digest);
  t.is(outputs.image_count?.value, 1);
  t.is(outputs.manifest_schema?.value, 2);

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.out}`);

  // An invalid action in the document: Terraform reports the provider's error on the data source.
  tf.write(config('not an action'));
  r = await tf.run(['plan']);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /invalid policy document/);
  t.regex(r.out, /Statement\[0\]\.Action/);
  t.regex(r.out, /data "berth_policy_document" "pull"/);

  // A change to the document is an in-place policy update.
  tf.write(config('ecr:DescribeImages'));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /0 added, 1 changed, 0 destroyed/);
  t.true((await api.repositoryPolicies.read({ repositoryName: 'tfds/app' })).policyText.includes('ecr:DescribeImages'));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
});
