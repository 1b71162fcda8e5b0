// The real provider under the real Terraform CLI against a real registry: apply, an empty plan
// afterwards (policy JSON written differently included), in-place update, replacement, drift
// and out-of-band deletion, import, destroy. Skipped (with the reason logged) where no
// `terraform` is on PATH; Terraform is part of this project's machine image.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { kmsAliasModel, kmsKeyModel } from '@berth/registry-server/models';
import { repoRoot, startRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace } from './terraform-cli.ts';

const available = terraformAvailable;
reportTerraformAvailability();
const maybe = available ? test.serial : test.serial.skip;

const workspace = (endpoint: string) => terraformWorkspace(endpoint, 'berth-tf-res-');

const policy = (actions: string[], pretty: boolean) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: actions }] }, null, pretty ? 2 : undefined);

function config(opts: { mutability: string; actions: string[]; pretty: boolean; name?: string }): string {
  return `
resource "berth_repository" "app" {
  repository_name      = "${opts.name ?? 'tf/app'}"
  image_tag_mutability = "${opts.mutability}"
  tags = { team = "platform" }
}

resource "berth_repository" "bare" {
  repository_name = "tf-bare/app"
}

resource "berth_registry_policy" "main" {
  policy_text = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "NoImageDeletes", Effect = "Deny", Principal = "*", Action = "ecr:BatchDeleteImage" }] })
}

resource "berth_repository_policy" "app" {
  repository_name = berth_repository.app.repository_name
  policy_text     = ${JSON.stringify(policy(opts.actions, opts.pretty))}
}

resource "berth_lifecycle_policy" "app" {
  repository_name       = berth_repository.app.repository_name
  lifecycle_policy_text = jsonencode({ rules = [{ rulePriority = 1, selection = { tagStatus = "untagged", countType = "imageCountMoreThan", countNumber = 5 }, action = { type = "expire" } }] })
}
`;
}

maybe('apply, empty plan, in-place update, replacement, drift, import and destroy with the real Terraform', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());

  tf.write(config({ mutability: 'MUTABLE', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], pretty: true }));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 5 added, 0 changed, 0 destroyed/);
  t.regex((await api.registryPolicy.read({})).policyText, /NoImageDeletes/);
  t.like(await api.repositories.read({ repositoryName: 'tf/app' }), { imageTagMutability: 'MUTABLE', tags: { team: 'platform' } });

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.out}`);

  // The same policy written differently is no change at all.
  tf.write(config({ mutability: 'MUTABLE', actions: ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchGetImage'], pretty: false }));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.true(r.code === 0 || r.code === 2, r.out);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no perpetual diff on policy JSON:\n${r.out}`);

  // In-place update.
  tf.write(config({ mutability: 'IMMUTABLE', actions: ['ecr:BatchGetImage'], pretty: false }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /0 added, 2 changed, 0 destroyed/);
  t.is((await api.repositories.read({ repositoryName: 'tf/app' })).imageTagMutability, 'IMMUTABLE');
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  // Drift: changed outside Terraform, then corrected.
  await api.repositories.update({ repositoryName: 'tf/app' }, { imageTagMutability: 'MUTABLE' });
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /image_tag_mutability\s+= "MUTABLE" -> "IMMUTABLE"/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);

  // Deleted outside Terraform: planned for creation again.
  await api.lifecyclePolicies.delete({ repositoryName: 'tf/app' });
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /berth_lifecycle_policy\.app will be created/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);

  // Replacement: the name forces a new repository (and its policies follow).
  tf.write(config({ mutability: 'IMMUTABLE', actions: ['ecr:BatchGetImage'], pretty: false, name: 'tf/renamed' }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /must be replaced/);
  t.is((await api.repositories.list({ prefix: 'tf/' })).items.map((x) => x.repositoryName).join(','), 'tf/renamed');

  // Import into a fresh state.
  r = await tf.run(['state', 'rm', 'berth_repository.app']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['import', 'berth_repository.app', 'tf/renamed']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `imported state matches the config:\n${r.out}`);

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.deepEqual((await api.repositories.list({ prefix: 'tf/' })).items, []);
});

maybe('examples/terraform applies as written, plans empty, and destroys', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());
  tf.writeRaw(readFileSync(join(repoRoot, 'examples', 'terraform', 'main.tf'), 'utf8'));
  let r = await tf.run(['apply', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Resources: 13 added/);
  t.true(r.out.includes(`"web" = "${reg.host}/platform/web"`), r.out);
  t.regex(r.out, /ci_secret_access_key = <sensitive>/);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items.map((x) => x.repositoryName), ['platform/api', 'platform/secure', 'platform/web']);
  t.deepEqual((await api.repositories.read({ repositoryName: 'platform/secure' })).encryptionConfiguration, { encryptionType: 'KMS', kmsKey: 'alias/platform-images' });
  const keyId = (await api.resource(kmsAliasModel).read({ aliasName: 'alias/platform-images' })).targetKeyId;
  t.like(await api.resource(kmsKeyModel).read({ keyId }), { keyState: 'Enabled', enableKeyRotation: true, deletionWindowInDays: 7 });
  t.is((await api.repositoryCreationTemplates.read({ prefix: 'prod' })).imageTagMutability, 'IMMUTABLE');
  // The CI service account's key pushes and pulls platform/web, and nothing else.
  r = await tf.run(['output', '-json']);
  t.is(r.code, 0, r.out);
  const out = JSON.parse(r.out) as Record<string, { value: string; sensitive: boolean }>;
  t.true(out.ci_secret_access_key?.sensitive);
  const ci = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: out.ci_access_key_id?.value ?? '', secretAccessKey: out.ci_secret_access_key?.value ?? '' } });
  t.is((await ci.authorizationToken()).userName, 'BERTH');
  const web = (await api.repositories.read({ repositoryName: 'platform/web' })).repositoryArn;
  const other = (await api.repositories.read({ repositoryName: 'platform/api' })).repositoryArn;
  t.is((await api.simulatePolicy({ principalName: 'ci-web', action: 'ecr:PutImage', resource: web })).decision, 'allowed');
  t.is((await api.simulatePolicy({ principalName: 'ci-web', action: 'ecr:PutImage', resource: other })).decision, 'implicitDeny');
  await t.throwsAsync(ci.repositories.create({ repositoryName: 'platform/new' }), { instanceOf: BerthApiError });
  r = await tf.run(['plan', '-detailed-exitcode', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  r = await tf.run(['destroy', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items, []);
  await t.throwsAsync(api.principals.read({ principalName: 'ci-web' }), { instanceOf: BerthApiError });
  await t.throwsAsync(api.resource(kmsAliasModel).read({ aliasName: 'alias/platform-images' }), { instanceOf: BerthApiError });
  t.is((await api.resource(kmsKeyModel).read({ keyId })).keyState, 'PendingDeletion');
});

maybe('the CDKTF example, synthesized, applies through the provider with references resolved in order', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());
  const { buildApp } = await import('../../../examples/cdktf/main.ts');
  const outdir = join(tf.dir, 'synth');
  buildApp(outdir).synth();
  tf.writeRaw('');
  // CDKTF's local backend names a state file in the directory it synthesized from (here the
  // repository root): the test keeps it, and the secrets it holds, in its own workspace.
  const synthesized = JSON.parse(readFileSync(join(outdir, 'stacks', 'berth', 'cdk.tf.json'), 'utf8')) as { terraform: { backend: { local: { path: string } } } };
  const statePath = join(tf.dir, 'work', 'terraform.berth.tfstate');
  synthesized.terraform.backend.local.path = statePath;
  writeFileSync(join(tf.dir, 'work', 'cdk.tf.json'), JSON.stringify(synthesized));
  // CDKTF declares a local backend, which needs init; init installs the provider from a
  // filesystem mirror laid out as the README describes (no network).
  tf.useMirror();
  let r = await tf.run(['init']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Installed berth\/berth v0\.1\.0/);
  r = await tf.run(['apply', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Resources: 9 added/);
  t.true(existsSync(statePath), 'the state is written in the workspace');
  t.like(await api.repositories.read({ repositoryName: 'platform/secure' }), { encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/platform-images' } });
  t.like(await api.repositories.read({ repositoryName: 'platform/web' }), { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', tags: { team: 'platform' } });
  t.like(await api.principals.read({ principalName: 'ci-web' }), { type: 'SERVICE_ACCOUNT' });
  r = await tf.run(['output', '-json']);
  t.is(r.code, 0, r.out);
  const out = JSON.parse(r.out) as Record<string, { value: string; sensitive: boolean }>;
  t.true(out.ci_secret_access_key?.sensitive);
  const ci = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: out.ci_access_key_id?.value ?? '', secretAccessKey: out.ci_secret_access_key?.value ?? '' } });
  t.is((await ci.authorizationToken()).userName, 'BERTH', 'the CI key signs in');
  t.is((await api.lifecyclePolicies.read({ repositoryName: 'platform/web' })).version, 1);
  r = await tf.run(['plan', '-detailed-exitcode', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  r = await tf.run(['destroy', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.out);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items, []);
});
