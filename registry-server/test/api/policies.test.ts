import test from 'ava';
import { BerthApiError, BerthClient } from '../../src/client/client.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';

const shared = sharedRegistry();

async function code(t: import('ava').ExecutionContext, p: Promise<unknown>): Promise<string> {
  const err = await t.throwsAsync(p, { instanceOf: BerthApiError });
  return (err as BerthApiError).code;
}

const pullPolicy = (principal: unknown) => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'AllowPull', Effect: 'Allow', Principal: principal, Action: ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'] }],
});

test('repository policy: put, read back canonical, semantic equals give identical text, delete', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'pol/repo' });
  const id = { repositoryName: 'pol/repo' };
  t.is(await code(t, shared.api.repositoryPolicies.read(id)), 'RepositoryPolicyNotFound');
  const put = await shared.api.repositoryPolicies.update(id, { policyText: JSON.stringify(pullPolicy('*'), null, 4) });
  t.is(put.version, 1);
  t.is(put.policyText, '{"Version":"2012-10-17","Statement":[{"Sid":"AllowPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}');
  t.is(put.registryId, '000000000000');
  // The same meaning written differently: same canonical text.
  const reordered = { Statement: { Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Principal: '*', Effect: 'Allow', Sid: 'AllowPull' }, Version: '2012-10-17' };
  const again = await shared.api.repositoryPolicies.update(id, { policyText: JSON.stringify(reordered) }, { ifMatch: 1 });
  t.is(again.policyText, put.policyText);
  t.is(again.version, 2);
  t.deepEqual(await shared.api.repositoryPolicies.read(id), again);
  t.is(await code(t, shared.api.repositoryPolicies.update(id, { policyText: JSON.stringify(reordered) }, { ifMatch: 1 })), 'PreconditionFailed');
  await shared.api.repositoryPolicies.delete(id);
  t.is(await code(t, shared.api.repositoryPolicies.delete(id)), 'RepositoryPolicyNotFound');
});

test('repository policy: validation names the path; a missing repository is RepositoryNotFound', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'pol/invalid' });
  const err = await t.throwsAsync(
    shared.api.repositoryPolicies.update({ repositoryName: 'pol/invalid' }, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*' }] }) }),
    { instanceOf: BerthApiError },
  );
  t.is((err as BerthApiError).code, 'InvalidParameter');
  t.is((err as BerthApiError).field, 'policyText');
  t.regex((err as BerthApiError).message, /Statement\[0\]/);
  t.is(await code(t, shared.api.repositoryPolicies.update({ repositoryName: 'pol/invalid' }, { policyText: '{' })), 'InvalidParameter');
  t.is(await code(t, shared.api.repositoryPolicies.update({ repositoryName: 'pol/none' }, { policyText: JSON.stringify(pullPolicy('*')) })), 'RepositoryNotFound');
});

test('a repository policy goes with its repository', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'pol/gone' });
  await shared.api.repositoryPolicies.update({ repositoryName: 'pol/gone' }, { policyText: JSON.stringify(pullPolicy('*')) });
  await shared.api.repositories.delete({ repositoryName: 'pol/gone' });
  await shared.api.repositories.create({ repositoryName: 'pol/gone' });
  t.is(await code(t, shared.api.repositoryPolicies.read({ repositoryName: 'pol/gone' })), 'RepositoryPolicyNotFound');
});

test('registry policy: a singleton with versions', async (t) => {
  t.is(await code(t, shared.api.registryPolicy.read({})), 'RegistryPolicyNotFound');
  const doc = { Version: '2012-10-17', Statement: [{ Sid: 'Replicate', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'ecr:CreateRepository', Resource: 'arn:berth:ecr:local:000000000000:repository/*' }] };
  const put = await shared.api.registryPolicy.update({}, { policyText: JSON.stringify(doc) });
  t.is(put.version, 1);
  t.regex(put.policyText, /"Principal":\{"AWS":\["arn:aws:iam::111122223333:root"\]\}/);
  t.is((await shared.api.registryPolicy.read({})).policyText, put.policyText);
  await shared.api.registryPolicy.delete({}, {}, { ifMatch: 1 });
  t.is(await code(t, shared.api.registryPolicy.read({})), 'RegistryPolicyNotFound');
});

test('lifecycle policy: put canonical, validation with the field at fault', async (t) => {
  await shared.api.repositories.create({ repositoryName: 'pol/lifecycle' });
  const id = { repositoryName: 'pol/lifecycle' };
  const policy = {
    rules: [
      { rulePriority: 2, selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 100 }, action: { type: 'expire' } },
      { action: { type: 'expire' }, rulePriority: 1, description: 'old untagged', selection: { countNumber: 14, countUnit: 'days', countType: 'sinceImagePushed', tagStatus: 'untagged' } },
    ],
  };
  const put = await shared.api.lifecyclePolicies.update(id, { lifecyclePolicyText: JSON.stringify(policy, null, 2) });
  const rules = (JSON.parse(put.lifecyclePolicyText) as { rules: { rulePriority: number }[] }).rules;
  t.deepEqual(rules.map((r) => r.rulePriority), [1, 2], 'rules in priority order');
  const err = await t.throwsAsync(
    shared.api.lifecyclePolicies.update(id, { lifecyclePolicyText: JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'any', countType: 'sinceImagePushed', countNumber: 3 }, action: { type: 'expire' } }] }) }),
    { instanceOf: BerthApiError },
  );
  t.is((err as BerthApiError).field, 'lifecyclePolicyText');
  t.regex((err as BerthApiError).message, /countUnit/);
});
