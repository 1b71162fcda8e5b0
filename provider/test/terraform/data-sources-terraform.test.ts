// The data sources under the real Terraform CLI: documents built in HCL feeding a repository
// policy and a lifecycle policy, repository and image lookups, an empty plan after apply, and
// a document error reported by Terraform against the attribute. Skipped where no `terraform`.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { startRegistry } from '../../../test/support/registry.ts';
import { pushImage } from '../../../test/support/oci.ts';
import { PROVIDER_BIN } from './harness.ts';

const available = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
if (!available) test('terraform availability', (t) => t.log('terraform is not on PATH: the Terraform CLI scenarios are skipped'));
const maybe = available ? test.serial : test.serial.skip;

function workspace(endpoint: string) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tf-ds-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'work'));
  const wrapper = join(bin, 'terraform-provider-berth');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${PROVIDER_BIN}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/berth/berth" = "${bin}"\n  }\n  direct {}\n}\n`);
  const write = (body: string) =>
    writeFileSync(
      join(dir, 'work', 'main.tf'),
      `terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\nprovider "berth" {\n  endpoint = "${endpoint}"\n}\n${body}`,
    );
  const run = (args: string[]): Promise<{ code: number | null; output: string }> =>
    new Promise((resolve) => {
      const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'), TF_DATA_DIR: join(dir, '.terraform'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      const [command = '', ...rest] = args;
      const argv = command === 'state' || command === 'output' ? args : [command, '-no-color', '-input=false', ...rest];
      const child = spawn('terraform', argv, { cwd: join(dir, 'work'), env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('close', (code) => {
        clearTimeout(killer);
        resolve({ code, output });
      });
    });
  return { dir, write, run, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const config = (action: string) => `
resource "berth_repository" "app" {
  repository_name = "tfds/app"
  # Set explicitly: a repository without tags reads back as {} (a resource issue, not a data source one).
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
  const api = new BerthClient({ endpoint: reg.url });
  const base = await api.repositories.create({ repositoryName: 'tfds/base' });
  const digest = await pushImage(reg.url, 'tfds/base', 'v1');
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());

  tf.write(config('ecr:BatchCheckLayerAvailability'));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Apply complete! Resources: 3 added, 0 changed, 0 destroyed/);
  const policy = await api.repositoryPolicies.read({ repositoryName: 'tfds/app' });
  const stored = JSON.parse(policy.policyText) as { Statement: { Sid: string; Action: string[]; Principal: unknown; Condition?: unknown }[] };
  t.deepEqual(stored.Statement[0], { Sid: 'Pull', Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] } as never);
  t.like(stored.Statement[1], { Sid: 'NoPushFromAnyone', Effect: 'Deny', Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalTag/team': ['platform'] } } });
  const lifecycle = JSON.parse((await api.lifecyclePolicies.read({ repositoryName: 'tfds/app' })).lifecyclePolicyText) as { rules: unknown[] };
  t.is(lifecycle.rules.length, 2);

  r = await tf.run(['output', '-json']);
  t.is(r.code, 0, r.output);
  const outputs = JSON.parse(r.output) as Record<string, { value: unknown }>;
  t.is(outputs.base_arn?.value, base.repositoryArn);
  t.is(outputs.release_digest?.value, digest);
  t.is(outputs.image_count?.value, 1);
  t.is(outputs.manifest_schema?.value, 2);

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.output}`);

  // An invalid action in the document: Terraform reports the provider's error on the data source.
  tf.write(config('not an action'));
  r = await tf.run(['plan']);
  t.is(r.code, 1, r.output);
  t.regex(r.output, /invalid policy document/);
  t.regex(r.output, /Statement\[0\]\.Action/);
  t.regex(r.output, /data "berth_policy_document" "pull"/);

  // A change to the document is an in-place policy update.
  tf.write(config('ecr:DescribeImages'));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /0 added, 1 changed, 0 destroyed/);
  t.true((await api.repositoryPolicies.read({ repositoryName: 'tfds/app' })).policyText.includes('ecr:DescribeImages'));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.output);

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.output);
});
