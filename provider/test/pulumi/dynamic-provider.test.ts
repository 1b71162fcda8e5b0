import test from 'ava';
import { dynamicProvider } from '../../src/pulumi/provider.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { providerKey, serializeProvider, startDynamicProviderServer, unknownValue, type Engine } from './engine.ts';

let reg: RunningRegistry;
let engine: Engine;
test.before(async () => {
  reg = await startRegistry();
  engine = await startDynamicProviderServer();
  await engine.configure({ 'berth:endpoint': reg.url });
});
test.after.always(async () => {
  await engine?.close();
  await reg?.close();
});

async function withProvider(model: string, props: Record<string, unknown>): Promise<Record<string, unknown>> {
  return { ...props, [providerKey]: (await serializeProvider(dynamicProvider(model))).text };
}

const DIFF_NONE = 1;
const DIFF_SOME = 2;

test.serial('repository: check, create, read, diff, update in place, replace on a forceNew field, drift, delete', async (t) => {
  const news = await withProvider('repository', { repositoryName: 'pulumi/app', imageTagMutability: 'IMMUTABLE', tags: { team: 'a' } });
  const checked = await engine.check({}, news);
  t.deepEqual(checked.failures, []);
  t.is(checked.inputs[providerKey], news[providerKey]);
  const bad = await engine.check({}, await withProvider('repository', { repositoryName: 'Not Valid', imageTagMutability: 'SOMETIMES' }));
  t.deepEqual(bad.failures.map((f) => f.property).sort(), ['imageTagMutability', 'repositoryName']);
  const preview = await engine.check({}, await withProvider('repository', { repositoryName: unknownValue }));
  t.deepEqual(preview.failures, [], 'unknown values during preview are not failures');

  const created = await engine.create(news);
  t.is(created.id, 'pulumi/app');
  t.like(created.properties, { repositoryName: 'pulumi/app', imageTagMutability: 'IMMUTABLE', repositoryUri: `${reg.host}/pulumi/app`, version: 1 });
  const olds = { ...created.properties, [providerKey]: news[providerKey] };

  t.is((await engine.diff(created.id, olds, news)).changes, DIFF_NONE, 'no change, no diff');
  const changed = await engine.diff(created.id, olds, { ...news, tags: { team: 'b' } });
  t.is(changed.changes, DIFF_SOME);
  t.deepEqual(changed.replaces, []);
  const renamed = await engine.diff(created.id, olds, { ...news, repositoryName: 'pulumi/other' });
  t.deepEqual(renamed.replaces, ['repositoryName']);
  t.false(renamed.deleteBeforeReplace);
  const reencrypted = await engine.diff(created.id, olds, { ...news, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/x' } });
  t.deepEqual(reencrypted.replaces, ['encryptionConfiguration']);

  const updated = await engine.update(created.id, olds, { ...news, tags: { team: 'b' } });
  t.like(updated.properties, { tags: { team: 'b' }, version: 2 });

  // Drift: changed out of band, then deleted out of band.
  await fetch(`${reg.url}/api/v1/repositories/pulumi%2Fapp`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ imageTagMutability: 'MUTABLE' }) });
  const refreshed = await engine.read(created.id, olds);
  t.is(refreshed.properties.imageTagMutability, 'MUTABLE');
  await engine.delete(created.id, olds);
  t.is((await fetch(`${reg.url}/api/v1/repositories/pulumi%2Fapp`)).status, 404);
  const gone = await engine.read(created.id, olds);
  t.is(gone.id, '', 'deleted out of band: refresh drops it');
});

test.serial('policies compare by meaning: reformatting is not a change', async (t) => {
  await reg.server.app.inject({ method: 'POST', url: '/api/v1/repositories', payload: { repositoryName: 'pulumi/pol' } });
  const policy = { Version: '2012-10-17', Statement: [{ Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] };
  const news = await withProvider('repository_policy', { repositoryName: 'pulumi/pol', policyText: JSON.stringify(policy, null, 2) });
  t.deepEqual((await engine.check({}, news)).failures, []);
  const created = await engine.create(news);
  t.is(created.id, 'pulumi/pol');
  const olds = { ...created.properties, [providerKey]: news[providerKey] };
  const reformatted = { ...news, policyText: JSON.stringify({ Statement: { Action: ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Principal: '*', Effect: 'Allow', Sid: 'Pull' }, Version: '2012-10-17' }) };
  t.is((await engine.diff(created.id, olds, reformatted)).changes, DIFF_NONE);
  const widened = await engine.diff(created.id, olds, { ...news, policyText: JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Action: 'ecr:*' }] }) });
  t.is(widened.changes, DIFF_SOME);
  t.true(widened.deleteBeforeReplace, 'a singleton is deleted before it is replaced');
  const invalid = await engine.check({}, { ...news, policyText: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}' });
  t.is(invalid.failures[0]?.property, 'policyText');
  await engine.update(created.id, olds, { ...news, policyText: JSON.stringify({ ...policy, Statement: [{ ...policy.Statement[0], Action: 'ecr:*' }] }) });
  t.regex((await engine.read(created.id, olds)).properties.policyText as string, /"ecr:\*"/);
  await engine.delete(created.id, olds);
  t.is((await engine.read(created.id, olds)).id, '');
});

test.serial('lifecycle policy, registry policy and creation template go through every operation', async (t) => {
  await reg.server.app.inject({ method: 'POST', url: '/api/v1/repositories', payload: { repositoryName: 'pulumi/lc' } });
  const rule = (n: number) => JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: n }, action: { type: 'expire' } }] });
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['lifecycle_policy', { repositoryName: 'pulumi/lc', lifecyclePolicyText: rule(5) }, { lifecyclePolicyText: rule(6) }],
    ['registry_policy', { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:DeleteRepository' }] }) }, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'ecr:PutImage' }] }) }],
    ['repository_creation_template', { prefix: 'pulumi-made', appliedFor: ['CREATE_ON_PUSH'] }, { description: 'changed' }],
  ];
  for (const [model, inputs, change] of cases) {
    const news = await withProvider(model, inputs);
    t.deepEqual((await engine.check({}, news)).failures, [], model);
    const created = await engine.create(news);
    const olds = { ...created.properties, [providerKey]: news[providerKey] };
    t.is((await engine.diff(created.id, olds, news)).changes, DIFF_NONE, `${model}: no diff after create`);
    const next = { ...news, ...change };
    t.is((await engine.diff(created.id, olds, next)).changes, DIFF_SOME, `${model}: a change`);
    const updated = await engine.update(created.id, olds, next);
    t.is(updated.properties.version, 2, model);
    t.is((await engine.read(created.id, olds)).properties.version, 2, model);
    await engine.delete(created.id, { ...updated.properties });
    t.is((await engine.read(created.id, olds)).id, '', `${model}: gone`);
  }
});
