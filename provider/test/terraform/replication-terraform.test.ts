// Replication under the real Terraform CLI against a real registry. The whole configuration
// (berth_replication_configuration): two rules, one to an http endpoint with a user name and a
// write-only password, one with a WILDCARD filter and no name (the server names it rule-2); an
// empty plan afterwards although the registry never returns the password (the state keeps the
// value applied); no password in the API's answer nor in Terraform's output; a filter changed in
// place; an import, after which the plan shows only the password being set (it cannot be read
// back; the version output is then known after apply) and one apply makes it empty again; destroy, after which the configuration is gone (404). Rules
// one by one (berth_replication_rule): two working directories (two states) each own a rule,
// both exist, and destroying one leaves the other. Skipped (with the reason logged) where no
// `terraform` is on PATH; under CI=true a missing terraform fails instead.
import test from 'ava';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace, type TerraformWorkspace } from './terraform-cli.ts';

reportTerraformAvailability();
const maybe = terraformAvailable ? test : test.skip;

const password = 'Mirror-Password-7f3a9c';
const otherPassword = 'Rotated-Password-2b8d41';

async function registry(t: { teardown(fn: () => unknown): void }): Promise<RunningRegistry> {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  return reg;
}

function workspace(t: { teardown(fn: () => unknown): void }, reg: RunningRegistry, prefix: string): TerraformWorkspace {
  const tf = terraformWorkspace(reg.url, prefix);
  t.teardown(() => tf.cleanup());
  return tf;
}

/** The configuration's JSON and its raw text (to look for the password anywhere in it). */
async function getConfiguration(reg: RunningRegistry): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const res = await fetch(`${reg.url}/api/v1/registry/replication-configuration`);
  const text = await res.text();
  return { status: res.status, text, body: res.ok ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function configurationTf(wildcard: string): string {
  return `
resource "berth_replication_configuration" "x" {
  rules = [
    {
      name = "mirror"
      destinations = [
        {
          endpoint = "http://127.0.0.1:5999"
          username = "mirror-user"
          password = "${password}"
          region   = "eu-west-1"
        },
        { endpoint = "https://backup.example.com" },
      ]
    },
    {
      destinations = [{ endpoint = "https://dr.example.com", registry_id = "dr" }]
      repository_filters = [
        { filter = "${wildcard}", filter_type = "WILDCARD" },
        { filter = "team/", filter_type = "PREFIX_MATCH" },
      ]
    },
  ]
}

output "registry_id" {
  value = berth_replication_configuration.x.registry_id
}
`;
}

maybe('berth_replication_configuration: write-only password kept in state (empty plan), filter updated in place, import shows only the password, destroy', async (t) => {
  const reg = await registry(t);
  const tf = workspace(t, reg, 'berth-tf-replication-');
  const noPassword = (out: string, what: string) => t.false(out.includes(password), `the password is not in ${what}`);

  tf.write(configurationTf('apps/*-prod'));
  let r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
  noPassword(r.out, 'the apply output');

  const got = await getConfiguration(reg);
  t.is(got.status, 200, got.text);
  t.false(got.text.includes(password), 'the password is nowhere in the answer');
  t.false(got.text.includes('"password"'), 'no password field either');
  t.like(got.body, {
    rules: [
      {
        name: 'mirror',
        destinations: [{ endpoint: 'http://127.0.0.1:5999', username: 'mirror-user', region: 'eu-west-1' }, { endpoint: 'https://backup.example.com' }],
        repositoryFilters: [],
      },
      {
        name: 'rule-2',
        destinations: [{ endpoint: 'https://dr.example.com', registryId: 'dr' }],
        repositoryFilters: [
          { filter: 'apps/*-prod', filterType: 'WILDCARD' },
          { filter: 'team/', filterType: 'PREFIX_MATCH' },
        ],
      },
    ],
  });
  const registryId = got.body.registryId as string;
  t.truthy(registryId);

  // The server named the second rule and gave the first no filters: both are in the state.
  r = await tf.run(['state', 'show', 'berth_replication_configuration.x']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /name\s+= "rule-2"/);
  t.regex(r.out, /repository_filters = \[\]/);
  t.regex(r.out, /password\s+= \(sensitive value\)/);
  t.regex(r.out, new RegExp(`id\\s+= "${registryId}"`));
  noPassword(r.out, 'terraform state show');

  // The registry never returns the password; the refreshed state keeps it, so nothing changes.
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply:\n${r.out}`);

  // A filter changes in place; the password stays as stored (the server keeps it for the same
  // endpoint and user, and the provider sends it again anyway).
  tf.write(configurationTf('apps/*-staging'));
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /update in-place/);
  t.notRegex(r.out, /must be replaced/);
  t.regex(r.out, /"apps\/\*-prod" -> "apps\/\*-staging"/);
  t.regex(r.out, /Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  noPassword(r.out, 'the update output');
  const updated = await getConfiguration(reg);
  t.deepEqual((updated.body.rules as { repositoryFilters: unknown[] }[])[1]?.repositoryFilters, [
    { filter: 'apps/*-staging', filterType: 'WILDCARD' },
    { filter: 'team/', filterType: 'PREFIX_MATCH' },
  ]);
  t.false(updated.text.includes(password));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after the update:\n${r.out}`);

  // Import into a fresh state (by the registry id): everything but the password is read back.
  // The password cannot be, so the plan updates that one attribute in place, and after one apply
  // the plan is empty again.
  r = await tf.run(['state', 'rm', 'berth_replication_configuration.x']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['import', 'berth_replication_configuration.x', registryId]);
  t.is(r.code, 0, r.out);
  r = await tf.run(['state', 'show', 'berth_replication_configuration.x']);
  t.is(r.code, 0, r.out);
  t.notRegex(r.out, /password/, 'an import has no password');
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /Plan: 0 to add, 1 to change, 0 to destroy/);
  t.regex(r.out, /\+ password\s+= \(sensitive value\)/);
  // Only the password differs (and so the version, an output, is known after apply): no other
  // attribute is added, removed or changed; the lists holding the password are only opened.
  const actions = r.out.slice(r.out.indexOf('Terraform will perform the following actions:'));
  const changes = actions
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => /^[-+~] \w+ = /.test(line) && !line.endsWith('['));
  t.deepEqual(changes, ['+ password = (sensitive value)', '~ version = 2 -> (known after apply)'], r.out);
  noPassword(r.out, 'the plan after import');
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes once the password is applied again:\n${r.out}`);

  // A new password is a change (the value in the state is compared with the config's).
  tf.write(configurationTf('apps/*-staging').replace(password, otherPassword));
  r = await tf.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /~ password\s+= \(sensitive value\)/);
  r = await tf.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.false((await getConfiguration(reg)).text.includes(otherPassword));

  r = await tf.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Destroy complete! Resources: 1 destroyed/);
  t.is((await getConfiguration(reg)).status, 404);
});

function ruleTf(name: string, endpoint: string, filter: string): string {
  return `
resource "berth_replication_rule" "r" {
  name = "${name}"
  destinations = [{
    endpoint = "${endpoint}"
    username = "${name}-user"
    password = "${password}"
  }]
  repository_filters = [{ filter = "${filter}", filter_type = "PREFIX_MATCH" }]
}
`;
}

async function ruleNames(reg: RunningRegistry): Promise<string[]> {
  const res = await fetch(`${reg.url}/api/v1/registry/replication-rules`);
  const text = await res.text();
  if (!res.ok) throw new Error(text);
  if (text.includes(password)) throw new Error('a password in the list of rules');
  return ((JSON.parse(text) as { items: { name: string }[] }).items ?? []).map((i) => i.name).sort();
}

maybe('berth_replication_rule: two modules (two states) each own a rule; destroying one leaves the other', async (t) => {
  const reg = await registry(t);
  const a = workspace(t, reg, 'berth-tf-rule-a-');
  const b = workspace(t, reg, 'berth-tf-rule-b-');
  a.write(ruleTf('team-a', 'http://127.0.0.1:5998', 'team-a/'));
  b.write(ruleTf('team-b', 'https://mirror-b.example.com', 'team-b/'));

  let r = await a.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
  r = await b.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
  t.deepEqual(await ruleNames(reg), ['team-a', 'team-b']);
  for (const tf of [a, b]) {
    r = await tf.run(['plan', '-detailed-exitcode']);
    t.is(r.code, 0, `no changes, and the other module's rule is not this state's concern:\n${r.out}`);
    t.false(r.out.includes(password));
  }
  // The whole configuration shows both rules, without passwords.
  const whole = await getConfiguration(reg);
  t.deepEqual((whole.body.rules as { name: string }[]).map((x) => x.name), ['team-a', 'team-b']);
  t.false(whole.text.includes(password));

  // Changing a's filter updates its rule only.
  a.write(ruleTf('team-a', 'http://127.0.0.1:5998', 'team-a/apps/'));
  r = await a.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Apply complete! Resources: 0 added, 1 changed, 0 destroyed/);
  r = await b.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  // Import of a rule by its name: only the password differs afterwards.
  r = await b.run(['state', 'rm', 'berth_replication_rule.r']);
  t.is(r.code, 0, r.out);
  r = await b.run(['import', 'berth_replication_rule.r', 'team-b']);
  t.is(r.code, 0, r.out);
  r = await b.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 2, r.out);
  t.regex(r.out, /Plan: 0 to add, 1 to change, 0 to destroy/);
  t.regex(r.out, /\+ password\s+= \(sensitive value\)/);
  r = await b.run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.out);
  r = await b.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);

  r = await a.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /Destroy complete! Resources: 1 destroyed/);
  t.deepEqual(await ruleNames(reg), ['team-b'], "b's rule is left");
  r = await b.run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, r.out);
  r = await b.run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.out);
  t.deepEqual(await ruleNames(reg), []);
});
