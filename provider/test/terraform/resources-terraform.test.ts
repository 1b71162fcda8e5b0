// The real provider under the real Terraform CLI against a real registry: apply, an empty plan
// afterwards (policy JSON written differently included), in-place update, replacement, drift
// and out-of-band deletion, import, destroy. Skipped (with the reason logged) where no
// `terraform` is on PATH; Terraform is part of this project's machine image.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { repoRoot, startRegistry } from '../../../test/support/registry.ts';
import { PROVIDER_BIN } from './harness.ts';

const available = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
if (!available) test('terraform availability', (t) => t.log('terraform is not on PATH: the Terraform CLI scenarios are skipped'));
const maybe = available ? test.serial : test.serial.skip;

function workspace(endpoint: string) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tf-res-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'work'));
  const wrapper = join(bin, 'terraform-provider-berth');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${PROVIDER_BIN}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/berth/berth" = "${bin}"\n  }\n  direct {}\n}\n`);
  const writeRaw = (text: string) => writeFileSync(join(dir, 'work', 'main.tf'), text);
  const write = (body: string) =>
    writeFileSync(
      join(dir, 'work', 'main.tf'),
      `terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\nprovider "berth" {\n  endpoint = "${endpoint}"\n}\n${body}`,
    );
  const run = (args: string[]): Promise<{ code: number | null; output: string }> =>
    new Promise((resolve) => {
      const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'), TF_DATA_DIR: join(dir, '.terraform'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      // Flags go right after the subcommand; `state` subcommands take none of them.
      const [command = '', ...rest] = args;
      const argv = command === 'state' ? args : [command, '-no-color', '-input=false', ...rest];
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
  return { dir, write, writeRaw, run, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

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
  policy_text = jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "NoDeletes", Effect = "Deny", Principal = "*", Action = "ecr:DeleteRepository" }] })
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
  const api = new BerthClient({ endpoint: reg.url });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());

  tf.write(config({ mutability: 'MUTABLE', actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], pretty: true }));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Apply complete! Resources: 5 added, 0 changed, 0 destroyed/);
  t.regex((await api.registryPolicy.read({})).policyText, /NoDeletes/);
  t.like(await api.repositories.read({ repositoryName: 'tf/app' }), { imageTagMutability: 'MUTABLE', tags: { team: 'platform' } });

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.output}`);

  // The same policy written differently is no change at all.
  tf.write(config({ mutability: 'MUTABLE', actions: ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchGetImage'], pretty: false }));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.true(r.code === 0 || r.code === 2, r.output);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no perpetual diff on policy JSON:\n${r.output}`);

  // In-place update.
  tf.write(config({ mutability: 'IMMUTABLE', actions: ['ecr:BatchGetImage'], pretty: false }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /0 added, 2 changed, 0 destroyed/);
  t.is((await api.repositories.read({ repositoryName: 'tf/app' })).imageTagMutability, 'IMMUTABLE');
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.output);

  // Drift: changed outside Terraform, then corrected.
  await api.repositories.update({ repositoryName: 'tf/app' }, { imageTagMutability: 'MUTABLE' });
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.output);
  t.regex(r.output, /image_tag_mutability\s+= "MUTABLE" -> "IMMUTABLE"/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);

  // Deleted outside Terraform: planned for creation again.
  await api.lifecyclePolicies.delete({ repositoryName: 'tf/app' });
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.output);
  t.regex(r.output, /berth_lifecycle_policy\.app will be created/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);

  // Replacement: the name forces a new repository (and its policies follow).
  tf.write(config({ mutability: 'IMMUTABLE', actions: ['ecr:BatchGetImage'], pretty: false, name: 'tf/renamed' }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /must be replaced/);
  t.is((await api.repositories.list({ prefix: 'tf/' })).items.map((x) => x.repositoryName).join(','), 'tf/renamed');

  // Import into a fresh state.
  r = await tf.run(['state', 'rm', 'berth_repository.app']);
  t.is(r.code, 0, r.output);
  r = await tf.run(['import', 'berth_repository.app', 'tf/renamed']);
  t.is(r.code, 0, r.output);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `imported state matches the config:\n${r.output}`);

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.deepEqual((await api.repositories.list({ prefix: 'tf/' })).items, []);
});

maybe('examples/terraform applies as written, plans empty, and destroys', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());
  tf.writeRaw(readFileSync(join(repoRoot, 'examples', 'terraform', 'main.tf'), 'utf8'));
  let r = await tf.run(['apply', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Resources: 7 added/);
  t.true(r.output.includes(`"web" = "${reg.host}/platform/web"`), r.output);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items.map((x) => x.repositoryName), ['platform/api', 'platform/web']);
  t.is((await api.repositoryCreationTemplates.read({ prefix: 'prod' })).imageTagMutability, 'IMMUTABLE');
  r = await tf.run(['plan', '-detailed-exitcode', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  r = await tf.run(['destroy', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items, []);
});

maybe('the CDKTF example, synthesized, applies through the provider with references resolved in order', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url });
  const tf = workspace(reg.url);
  t.teardown(() => tf.cleanup());
  const { buildApp } = await import('../../../examples/cdktf/main.ts');
  const outdir = join(tf.dir, 'synth');
  buildApp(outdir).synth();
  tf.writeRaw('');
  writeFileSync(join(tf.dir, 'work', 'cdk.tf.json'), readFileSync(join(outdir, 'stacks', 'berth', 'cdk.tf.json')));
  // CDKTF declares a local backend, which needs init; init installs the provider from a
  // filesystem mirror laid out as the README describes (no network).
  const platform = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const mirrored = join(tf.dir, 'mirror', 'registry.terraform.io', 'berth', 'berth', '0.1.0', platform);
  mkdirSync(mirrored, { recursive: true });
  writeFileSync(join(mirrored, 'terraform-provider-berth_v0.1.0'), `#!/bin/sh\nexec "${process.execPath}" "${PROVIDER_BIN}" "$@"\n`);
  chmodSync(join(mirrored, 'terraform-provider-berth_v0.1.0'), 0o755);
  writeFileSync(
    join(tf.dir, 'cli.tfrc'),
    `provider_installation {\n  filesystem_mirror {\n    path    = "${join(tf.dir, 'mirror')}"\n    include = ["berth/berth"]\n  }\n  direct {\n    exclude = ["berth/berth"]\n  }\n}\n`,
  );
  let r = await tf.run(['init']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Installed berth\/berth v0\.1\.0/);
  r = await tf.run(['apply', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Resources: 3 added/);
  t.like(await api.repositories.read({ repositoryName: 'platform/web' }), { imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION', tags: { team: 'platform' } });
  t.is((await api.lifecyclePolicies.read({ repositoryName: 'platform/web' })).version, 1);
  r = await tf.run(['plan', '-detailed-exitcode', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  r = await tf.run(['destroy', '-auto-approve', `-var=endpoint=${reg.url}`]);
  t.is(r.code, 0, r.output);
  t.deepEqual((await api.repositories.list({ prefix: 'platform/' })).items, []);
});
