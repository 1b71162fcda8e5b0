// Every resource type through the same scenarios with the real Terraform CLI, which enforces
// its own plan and apply consistency rules on the provider: create, an empty plan, an in-place
// update, replacement (where a field forces it), a change made outside Terraform detected and
// corrected, deletion outside Terraform re-created, import into an empty state, destroy.
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { startRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { reportTerraformAvailability, terraformAvailable, terraformWorkspace } from './terraform-cli.ts';

const available = terraformAvailable;
reportTerraformAvailability();
// Serial: each scenario runs Terraform several times; in parallel they would starve each other.
const maybe = available ? test.serial : test.serial.skip;

interface Scenario {
  readonly type: string;
  /** Resources the scenario's resource needs (created once, left alone). */
  readonly setup?: (api: BerthClient) => Promise<void>;
  readonly create: string;
  readonly update: string;
  readonly replace?: string;
  readonly importId: string;
  /** Changes the resource outside Terraform (drift). */
  readonly drift: (api: BerthClient) => Promise<void>;
  readonly remove: (api: BerthClient) => Promise<void>;
}

const lifecycle = (n: number) => `jsonencode({ rules = [{ rulePriority = 1, selection = { tagStatus = "untagged", countType = "imageCountMoreThan", countNumber = ${n} }, action = { type = "expire" } }] })`;
const iam = (action: string) => `jsonencode({ Version = "2012-10-17", Statement = [{ Sid = "S", Effect = "Allow", Principal = "*", Action = ["${action}"] }] })`;

const scenarios: Scenario[] = [
  {
    type: 'berth_repository',
    create: `repository_name = "s/repo"\n  image_tag_mutability = "MUTABLE"`,
    update: `repository_name = "s/repo"\n  image_tag_mutability = "IMMUTABLE"\n  tags = { a = "b" }`,
    replace: `repository_name = "s/repo2"\n  image_tag_mutability = "IMMUTABLE"\n  tags = { a = "b" }`,
    importId: 's/repo2',
    drift: async (api) => void (await api.repositories.update({ repositoryName: 's/repo2' }, { imageTagMutability: 'MUTABLE' })),
    remove: (api) => api.repositories.delete({ repositoryName: 's/repo2' }),
  },
  {
    type: 'berth_repository_policy',
    setup: async (api) => void (await api.repositories.create({ repositoryName: 's/pol' })),
    create: `repository_name = "s/pol"\n  policy_text = ${iam('ecr:BatchGetImage')}`,
    update: `repository_name = "s/pol"\n  policy_text = ${iam('ecr:ListImages')}`,
    importId: 's/pol',
    drift: async (api) => void (await api.repositoryPolicies.update({ repositoryName: 's/pol' }, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:*' }] }) })),
    remove: (api) => api.repositoryPolicies.delete({ repositoryName: 's/pol' }),
  },
  {
    type: 'berth_lifecycle_policy',
    setup: async (api) => void (await api.repositories.create({ repositoryName: 's/lc' })),
    create: `repository_name = "s/lc"\n  lifecycle_policy_text = ${lifecycle(3)}`,
    update: `repository_name = "s/lc"\n  lifecycle_policy_text = ${lifecycle(4)}`,
    importId: 's/lc',
    drift: async (api) =>
      void (await api.lifecyclePolicies.update({ repositoryName: 's/lc' }, { lifecyclePolicyText: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] }) })),
    remove: (api) => api.lifecyclePolicies.delete({ repositoryName: 's/lc' }),
  },
  {
    type: 'berth_registry_policy',
    create: `policy_text = ${iam('ecr:DescribeImages')}`,
    update: `policy_text = ${iam('ecr:ListImages')}`,
    importId: '000000000000',
    drift: async (api) => void (await api.registryPolicy.update({}, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:BatchDeleteImage' }] }) })),
    remove: (api) => api.registryPolicy.delete({}),
  },
  {
    type: 'berth_repository_creation_template',
    create: `prefix = "s-tpl"\n  applied_for = ["CREATE_ON_PUSH"]`,
    update: `prefix = "s-tpl"\n  applied_for = ["CREATE_ON_PUSH", "REPLICATION"]\n  description = "updated"`,
    replace: `prefix = "s-tpl2"\n  applied_for = ["CREATE_ON_PUSH", "REPLICATION"]\n  description = "updated"`,
    importId: 's-tpl2',
    drift: async (api) => void (await api.repositoryCreationTemplates.update({ prefix: 's-tpl2' }, { description: 'changed by hand' })),
    remove: (api) => api.repositoryCreationTemplates.delete({ prefix: 's-tpl2' }),
  },
];

for (const s of scenarios) {
  maybe(`${s.type}: create, no-op plan, update, ${s.replace ? 'replace, ' : ''}drift, out-of-band deletion, import, destroy`, async (t) => {
    const reg = await startRegistry();
    t.teardown(() => reg.close());
    const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
    await s.setup?.(api);
    const ws = terraformWorkspace(reg.url, 'berth-tf-scn-');
    t.teardown(() => ws.cleanup());
    const write = (body: string) => ws.write(`resource "${s.type}" "x" {\n  ${body}\n}`);
    const tf = (args: string[]) => ws.run(args);
    const apply = async (what: string, expect: RegExp) => {
      const r = await tf(['apply', '-auto-approve']);
      t.is(r.code, 0, `${what}:\n${r.out}`);
      t.regex(r.out, expect, what);
      const plan = await tf(['plan', '-detailed-exitcode']);
      t.is(plan.code, 0, `an empty plan after ${what}:\n${plan.out}`);
    };

    write(s.create);
    await apply('create', /1 added, 0 changed, 0 destroyed/);
    write(s.update);
    await apply('update in place', /0 added, 1 changed, 0 destroyed/);
    if (s.replace) {
      write(s.replace);
      await apply('replace', /1 added, 0 changed, 1 destroyed/);
    }
    await s.drift(api);
    let r = await tf(['plan', '-detailed-exitcode']);
    t.is(r.code, 2, `drift is detected:\n${r.out}`);
    await apply('correct drift', /0 added, 1 changed, 0 destroyed/);
    await s.remove(api);
    r = await tf(['plan', '-detailed-exitcode']);
    t.is(r.code, 2, r.out);
    t.regex(r.out, /will be created/);
    await apply('re-create after deletion outside Terraform', /1 added, 0 changed, 0 destroyed/);
    r = await tf(['state', 'rm', `${s.type}.x`]);
    t.is(r.code, 0, r.out);
    r = await tf(['import', `${s.type}.x`, s.importId]);
    t.is(r.code, 0, `import:\n${r.out}`);
    r = await tf(['plan', '-detailed-exitcode']);
    t.is(r.code, 0, `an empty plan after import:\n${r.out}`);
    r = await tf(['destroy', '-auto-approve']);
    t.is(r.code, 0, r.out);
    t.regex(r.out, /1 destroyed/);
  });
}

maybe('a singleton set outside the configuration is not silently overwritten', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  await api.registryPolicy.update({}, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:BatchDeleteImage' }] }) });
  const ws = terraformWorkspace(reg.url, 'berth-tf-single-');
  t.teardown(() => ws.cleanup());
  ws.write(`resource "berth_registry_policy" "x" {\n  policy_text = ${iam('ecr:ListImages')}\n}`);
  const out = await ws.run(['apply', '-auto-approve']);
  t.is(out.code, 1, out.out);
  t.regex(out.out, /berth_registry_policy already exists/);
  t.regex(out.out, /terraform\s+import\s+berth_registry_policy\.<name>\s+000000000000/);
  t.regex((await api.registryPolicy.read({})).policyText, /"Deny"/, 'the existing policy is untouched');
});
