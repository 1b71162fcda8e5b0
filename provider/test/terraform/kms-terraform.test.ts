// KMS under the real Terraform CLI against a real registry: a key, an alias and repositories
// encrypted under the key (named by the alias and by the key's ARN); an empty plan afterwards;
// disabling the key in place (which keeps the key's ARN known, so the repository referencing it
// is not replaced); changing a repository's key replaces it; import of the key (by its id) and
// the alias (by its name); destroy schedules the key's deletion and deletes the alias. A key
// whose deletion was scheduled outside Terraform is gone on refresh, cannot be imported, and
// destroying it again is a no-op. Skipped (with the reason logged) where no `terraform` is on
// PATH; under CI=true a missing terraform fails instead.
import test from 'ava';
import { BerthApiError, BerthClient, type ResourceClient } from '@berth/registry-server/client';
import { kmsAliasModel, kmsKeyModel } from '@berth/registry-server/models';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace, type TerraformWorkspace } from './terraform-cli.ts';

reportTerraformAvailability();
const maybe = terraformAvailable ? test : test.skip;

interface Apis {
  reg: RunningRegistry;
  api: BerthClient;
  keys: ResourceClient<typeof kmsKeyModel>;
  aliases: ResourceClient<typeof kmsAliasModel>;
}

async function registry(t: { teardown(fn: () => unknown): void }): Promise<Apis> {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  return { reg, api, keys: api.resource(kmsKeyModel), aliases: api.resource(kmsAliasModel) };
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof BerthApiError) return err.status;
    throw err;
  }
}

async function outputs(tf: TerraformWorkspace): Promise<Record<string, string>> {
  const r = await tf.run(['output', '-json']);
  if (r.code !== 0) throw new Error(r.out);
  return Object.fromEntries(Object.entries(JSON.parse(r.out) as Record<string, { value: string }>).map(([k, v]) => [k, v.value]));
}

/** `arnKey`: which key the berth_repository.by_arn names by its ARN. */
function config(opts: { enabled?: boolean; arnKey: 'main' | 'spare' }): string {
  return `
resource "berth_kms_key" "main" {
  description             = "encrypts tf/secure"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  rotation_period_in_days = 180
  tags                    = { team = "platform" }
${opts.enabled === undefined ? '' : `  enabled                 = ${opts.enabled}\n`}}

resource "berth_kms_key" "spare" {
  description = "a second key"
}

resource "berth_kms_alias" "main" {
  alias_name    = "alias/tf-images"
  target_key_id = berth_kms_key.main.key_id
}

resource "berth_repository" "by_alias" {
  repository_name = "tf/secure"
  encryption_configuration = {
    encryption_type = "KMS"
    kms_key         = berth_kms_alias.main.alias_name
  }
}

resource "berth_repository" "by_arn" {
  repository_name = "tf/secure-arn"
  encryption_configuration = {
    encryption_type = "KMS"
    kms_key         = berth_kms_key.${opts.arnKey}.arn
  }
}

output "key_id" {
  value = berth_kms_key.main.key_id
}
output "key_arn" {
  value = berth_kms_key.main.arn
}
output "spare_key_id" {
  value = berth_kms_key.spare.key_id
}
output "alias_arn" {
  value = berth_kms_alias.main.arn
}
`;
}

maybe('a KMS key, its alias and encrypted repositories: empty plan, disable in place, replace on a new key, import, destroy schedules deletion', async (t) => {
  const { reg, api, keys, aliases } = await registry(t);
  const tf = terraformWorkspace(reg.url, 'berth-tf-kms-');
  t.teardown(() => tf.cleanup());

  tf.write(config({ arnKey: 'main' }));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 5 added, 0 changed, 0 destroyed/);
  const out = await outputs(tf);
  const keyId = out.key_id as string;
  t.regex(keyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const key = await keys.read({ keyId });
  t.like(key, {
    keyId,
    arn: out.key_arn,
    description: 'encrypts tf/secure',
    keyState: 'Enabled',
    enabled: true,
    enableKeyRotation: true,
    rotationPeriodInDays: 180,
    deletionWindowInDays: 7,
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'SYMMETRIC_DEFAULT',
    tags: { team: 'platform' },
  });
  t.like(await aliases.read({ aliasName: 'alias/tf-images' }), { targetKeyId: keyId, targetKeyArn: key.arn, arn: out.alias_arn });
  t.deepEqual((await api.repositories.read({ repositoryName: 'tf/secure' })).encryptionConfiguration, { encryptionType: 'KMS', kmsKey: 'alias/tf-images' });
  const byArn = await api.repositories.read({ repositoryName: 'tf/secure-arn' });
  t.deepEqual(byArn.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: key.arn });
  // Server-chosen values (key usage and spec, enabled) are in the state.
  r = await tf.run(['state', 'show', 'berth_kms_key.main']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /key_state\s+= "Enabled"/);
  t.regex(r.out, /key_spec\s+= "SYMMETRIC_DEFAULT"/);
  t.regex(r.out, new RegExp(`id\\s+= "${keyId}"`));

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.out}`);

  // Disabling the key is an in-place update; its ARN stays known in the plan, so the repository
  // that names the key by ARN is not replaced.
  tf.write(config({ arnKey: 'main', enabled: false }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  t.regex(r.out, /enabled\s+= true -> false/);
  t.notRegex(r.out, /must be replaced/);
  t.like(await keys.read({ keyId }), { keyState: 'Disabled', enabled: false });
  t.is((await api.repositories.read({ repositoryName: 'tf/secure-arn' })).repositoryId, byArn.repositoryId, 'not replaced');
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after disabling:\n${r.out}`);

  // Another key for a repository: encryption is fixed at creation, so the repository is replaced.
  tf.write(config({ arnKey: 'spare', enabled: false }));
  r = await tf.run(['plan']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /berth_repository\.by_arn must be replaced/);
  t.regex(r.out, /# forces replacement/);
  t.regex(r.out, /Plan: 1 to add, 0 to change, 1 to destroy/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 1 added, 0 changed, 1 destroyed/);
  const spare = await keys.read({ keyId: (await outputs(tf)).spare_key_id as string });
  const replaced = await api.repositories.read({ repositoryName: 'tf/secure-arn' });
  t.deepEqual(replaced.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: spare.arn });
  t.not(replaced.repositoryId, byArn.repositoryId, 'a new repository');
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  // Import into a fresh state: the key by its id, the alias by its name.
  for (const address of ['berth_kms_key.main', 'berth_kms_alias.main']) {
    r = await tf.run(['state', 'rm', address]);
    t.is(r.code, 0, r.out);
  }
  r = await tf.run(['import', 'berth_kms_key.main', keyId]);
  t.is(r.code, 0, r.out);
  r = await tf.run(['import', 'berth_kms_alias.main', 'alias/tf-images']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `imported state matches the config:\n${r.out}`);
  r = await tf.run(['state', 'show', 'berth_kms_alias.main']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /id\s+= "alias\/tf-images"/);
  t.regex(r.out, new RegExp(`target_key_id\\s+= "${keyId}"`));
  r = await tf.run(['import', 'berth_kms_alias.missing', 'alias/nothing-here']);
  t.not(r.code, 0, r.out);

  // Destroy: the repositories and the alias go, the keys' deletion is scheduled (7 days for main,
  // the default 30 for spare).
  const before = Date.now();
  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Destroy complete! Resources: 5 destroyed/);
  const gone = await keys.read({ keyId });
  t.is(gone.keyState, 'PendingDeletion');
  t.is(typeof gone.deletionDate, 'string');
  const days = (Date.parse(gone.deletionDate as string) - before) / 86_400_000;
  t.true(days > 6.9 && days < 7.1, `deletion in 7 days, got ${days}`);
  t.like(await keys.read({ keyId: spare.keyId }), { keyState: 'PendingDeletion' });
  t.is(await status(aliases.read({ aliasName: 'alias/tf-images' })), 404);
  t.is(await status(api.repositories.read({ repositoryName: 'tf/secure' })), 404);
  t.is(await status(api.repositories.read({ repositoryName: 'tf/secure-arn' })), 404);

  // After destroy, a refreshed plan works and creates everything anew (new keys).
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /Plan: 5 to add, 0 to change, 0 to destroy/);
});

maybe('a key whose deletion was scheduled outside Terraform: gone on refresh, not importable, destroying it again is a no-op', async (t) => {
  const { reg, keys } = await registry(t);
  const tf = terraformWorkspace(reg.url, 'berth-tf-kms-gone-');
  t.teardown(() => tf.cleanup());
  tf.write(`
resource "berth_kms_key" "k" {
  description = "short-lived"
}
output "key_id" {
  value = berth_kms_key.k.key_id
}
`);
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  const keyId = (await outputs(tf)).key_id as string;

  // Scheduled outside Terraform: destroying without a refresh deletes it again, which is a no-op.
  await keys.delete({ keyId });
  const scheduled = await keys.read({ keyId });
  t.is(scheduled.keyState, 'PendingDeletion');
  r = await tf.run(['destroy', '-auto-approve', '-refresh=false']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Resources: 1 destroyed/);
  t.is((await keys.read({ keyId })).deletionDate, scheduled.deletionDate, 'the schedule is unchanged');

  // A new key, then scheduled outside Terraform: a refresh drops it, a plan creates a new one.
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  const second = (await outputs(tf)).key_id as string;
  await keys.delete({ keyId: second });
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /Plan: 1 to add, 0 to change, 0 to destroy/);
  r = await tf.run(['apply', '-refresh-only', '-auto-approve']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['state', 'list']);
  t.is(r.out.trim(), '', r.out);

  // It cannot be imported either.
  r = await tf.run(['import', 'berth_kms_key.k', second]);
  t.not(r.code, 0, r.out);
  t.regex(r.out, /its deletion is scheduled/);
  t.like(await keys.read({ keyId: second }), { keyState: 'PendingDeletion' });
  t.is(await status(keys.read({ keyId: '00000000-0000-4000-8000-000000000000' })), 404);
});
