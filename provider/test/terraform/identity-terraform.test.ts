// Identity under the real Terraform CLI against a real registry: a service account, its identity
// policy and access key; an empty plan afterwards (policy JSON written differently included);
// the key signs in and is allowed or denied as the policy says; its secret survives refreshes
// and updates; deactivating it in place makes the registry refuse it; import (the key's secret
// is then unknown to Terraform); destroy. Also the berth_authorization_token data source and a
// provider with a wrong secret. Skipped (with the reason logged) where no `terraform` is on PATH.
import test from 'ava';
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace, type TerraformWorkspace } from './terraform-cli.ts';

reportTerraformAvailability();
const maybe = terraformAvailable ? test : test.skip;

const repoArn = (name: string) => `arn:berth:ecr:*:*:repository/${name}`;

/** Push and pull on one repository (plus describing it), written compactly or pretty, actions in either order. */
function pushPull(repository: string, style: 'compact' | 'pretty'): string {
  const actions = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:DescribeRepositories'];
  const doc =
    style === 'compact'
      ? { Version: '2012-10-17', Statement: [{ Sid: 'PushPull', Effect: 'Allow', Action: actions, Resource: repoArn(repository) }] }
      : { Statement: { Resource: [repoArn(repository)], Action: [...actions].reverse(), Effect: 'Allow', Sid: 'PushPull' }, Version: '2012-10-17' };
  return JSON.stringify(doc, null, style === 'pretty' ? 4 : undefined);
}

function config(opts: { status?: 'Active' | 'Inactive'; style: 'compact' | 'pretty' }): string {
  return `
resource "berth_principal" "ci" {
  principal_name = "ci-bot"
  type           = "SERVICE_ACCOUNT"
  description    = "Builds and pushes the app"
}

resource "berth_identity_policy" "ci" {
  principal_name = berth_principal.ci.principal_name
  policy_name    = "push-pull-app"
  policy_text    = ${JSON.stringify(pushPull('ci/app', opts.style))}
}

resource "berth_access_key" "ci" {
  principal_name = berth_principal.ci.principal_name
  description    = "pipeline"
${opts.status ? `  status         = "${opts.status}"\n` : ''}}

output "access_key_id" {
  value = berth_access_key.ci.access_key_id
}

output "secret_access_key" {
  value     = berth_access_key.ci.secret_access_key
  sensitive = true
}
`;
}

async function outputs(tf: TerraformWorkspace): Promise<Record<string, unknown>> {
  const r = await tf.run(['output', '-json']);
  if (r.code !== 0) throw new Error(r.out);
  return Object.fromEntries(Object.entries(JSON.parse(r.out) as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]));
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

async function registry(t: { teardown(fn: () => unknown): void }): Promise<{ reg: RunningRegistry; api: BerthClient }> {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  return { reg, api: new BerthClient({ endpoint: reg.url, credentials: testAdmin }) };
}

maybe('a service account: principal, identity policy and access key; the key works as the policy says; deactivate, import, destroy', async (t) => {
  const { reg, api } = await registry(t);
  await api.repositories.create({ repositoryName: 'ci/app' });
  await api.repositories.create({ repositoryName: 'ci/other' });
  const tf = terraformWorkspace(reg.url, 'berth-tf-id-');
  t.teardown(() => tf.cleanup());

  tf.write(config({ style: 'compact' }));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 3 added, 0 changed, 0 destroyed/);
  t.regex(r.out, /secret_access_key\s+= \(sensitive value\)/);
  t.like(await api.principals.read({ principalName: 'ci-bot' }), { type: 'SERVICE_ACCOUNT', description: 'Builds and pushes the app' });
  t.deepEqual((await api.listIdentityPolicies('ci-bot')).policyNames, ['push-pull-app']);

  const out = await outputs(tf);
  const accessKeyId = out.access_key_id as string;
  const secretAccessKey = out.secret_access_key as string;
  t.regex(accessKeyId, /^BKIA[A-Z2-7]{16}$/);
  t.is(typeof secretAccessKey, 'string');
  t.false(r.out.includes(secretAccessKey), 'the secret is not printed');
  t.like(await api.accessKeys.read({ accessKeyId }), { principalName: 'ci-bot', status: 'Active', description: 'pipeline' });

  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.out}`);

  // The key signs in; the identity policy allows the one repository and nothing else.
  const ci = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId, secretAccessKey } });
  t.is(await status(ci.repositories.read({ repositoryName: 'ci/app' })), 200);
  t.is(await status(ci.repositories.read({ repositoryName: 'ci/other' })), 403);
  t.is(await status(ci.repositories.create({ repositoryName: 'ci/new' })), 403);
  const arnOf = async (repositoryName: string) => (await api.repositories.read({ repositoryName })).repositoryArn;
  t.is((await api.simulatePolicy({ principalName: 'ci-bot', action: 'ecr:PutImage', resource: await arnOf('ci/app') })).decision, 'allowed');
  t.is((await api.simulatePolicy({ principalName: 'ci-bot', action: 'ecr:PutImage', resource: await arnOf('ci/other') })).decision, 'implicitDeny');

  // A refresh (reads never return the secret) keeps it in the state.
  r = await tf.run(['apply', '-refresh-only', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.is((await outputs(tf)).secret_access_key, secretAccessKey);

  // The same policy written differently is no change.
  tf.write(config({ style: 'pretty' }));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `policy JSON reformatted is no diff:\n${r.out}`);

  // Deactivating the key is an in-place update; the secret stays in the state, the registry refuses the key.
  tf.write(config({ style: 'pretty', status: 'Inactive' }));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /0 added, 1 changed, 0 destroyed/);
  t.regex(r.out, /status\s+= "Active" -> "Inactive"/);
  t.notRegex(r.out, /must be replaced/);
  t.is((await api.accessKeys.read({ accessKeyId })).status, 'Inactive');
  t.deepEqual(await outputs(tf), { access_key_id: accessKeyId, secret_access_key: secretAccessKey });
  t.is(await status(ci.repositories.read({ repositoryName: 'ci/app' })), 401);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  // Import into a fresh state: the principal by name, the policy as "principal,policy", the key by its id.
  for (const address of ['berth_principal.ci', 'berth_identity_policy.ci', 'berth_access_key.ci']) {
    r = await tf.run(['state', 'rm', address]);
    t.is(r.code, 0, r.out);
  }
  r = await tf.run(['import', 'berth_principal.ci', 'ci-bot']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['import', 'berth_identity_policy.ci', 'ci-bot,push-pull-app']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['import', 'berth_access_key.ci', accessKeyId]);
  t.is(r.code, 0, r.out);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `imported state matches the config:\n${r.out}`);
  r = await tf.run(['state', 'show', 'berth_access_key.ci']);
  t.is(r.code, 0, r.out);
  t.true(r.out.includes(accessKeyId), r.out);
  // An imported key's secret was only ever shown to whoever created it.
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  const afterImport = await outputs(tf);
  t.is(afterImport.access_key_id, accessKeyId);
  t.is(afterImport.secret_access_key ?? null, null);

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Destroy complete! Resources: 3 destroyed/);
  t.is(await status(api.principals.read({ principalName: 'ci-bot' })), 404);
  t.is(await status(api.accessKeys.read({ accessKeyId })), 404);
});

maybe('berth_authorization_token: the password signs in to the distribution API as user BERTH', async (t) => {
  const { reg } = await registry(t);
  const tf = terraformWorkspace(reg.url, 'berth-tf-tok-');
  t.teardown(() => tf.cleanup());
  tf.write(`
data "berth_authorization_token" "login" {}

output "user_name" {
  value = data.berth_authorization_token.login.user_name
}
output "password" {
  value     = data.berth_authorization_token.login.password
  sensitive = true
}
output "proxy_endpoint" {
  value = data.berth_authorization_token.login.proxy_endpoint
}
`);
  const r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /password\s+= \(sensitive value\)/);
  const out = await outputs(tf);
  t.is(out.user_name, 'BERTH');
  t.is(typeof out.password, 'string');
  t.false(r.out.includes(out.password as string), 'the password is not printed');
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  t.is((await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('BERTH', out.password as string) } })).status, 200);
  t.is((await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('BERTH', `${out.password as string}x`) } })).status, 401);
});

maybe('a provider with a wrong secret fails with a diagnostic that says the credentials were refused', async (t) => {
  const { reg } = await registry(t);
  const tf = terraformWorkspace(reg.url, 'berth-tf-bad-');
  t.teardown(() => tf.cleanup());
  tf.writeRaw(`
terraform {
  required_providers {
    berth = { source = "berth/berth" }
  }
}
provider "berth" {
  endpoint          = "${reg.url}"
  access_key_id     = "${testAdmin.accessKeyId}"
  secret_access_key = "not-the-secret"
}
resource "berth_repository" "app" {
  repository_name = "bad/app"
}
`);
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 1, r.out);
  t.regex(r.out, /Error: the registry refused the provider's credentials \(Unauthenticated\)/);
  t.regex(r.out, /BERTH_SECRET_ACCESS_KEY/);
  t.regex(r.out, /with berth_repository\.app/);
  // Half a key is refused before any request.
  tf.writeRaw(`
terraform {
  required_providers {
    berth = { source = "berth/berth" }
  }
}
provider "berth" {
  endpoint      = "${reg.url}"
  access_key_id = "${testAdmin.accessKeyId}"
}
data "berth_authorization_token" "login" {}
`);
  r = await tf.run(['plan'], { BERTH_ACCESS_KEY_ID: undefined, BERTH_SECRET_ACCESS_KEY: undefined });
  t.is(r.code, 1, r.out);
  t.regex(r.out, /incomplete Berth credentials: secret_access_key is not set/);
});
