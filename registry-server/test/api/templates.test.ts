import test from 'ava';
import { BerthApiError, BerthClient } from '../../src/client/client.ts';
import { errorCode, pushBlob, pushImage } from '../../../test/support/oci.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const shared = sharedRegistry();

test.serial('a fresh registry ships a ROOT template that creates repositories on push', async (t) => {
  const root = await shared.api.repositoryCreationTemplates.read({ prefix: 'ROOT' });
  t.like(root, { prefix: 'ROOT', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'MUTABLE', version: 1 });
  await pushImage(shared.reg.url, 'anything/goes', 'v1');
  t.like(await shared.api.repositories.read({ repositoryName: 'anything/goes' }), { imageTagMutability: 'MUTABLE', imageCount: 1 });
});

test.serial('templates are matched by the longest namespace, and their settings, tags and policies apply', async (t) => {
  const lifecycle = { rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } }] };
  const policy = { Version: '2012-10-17', Statement: { Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: 'ecr:BatchGetImage' } };
  await shared.api.repositoryCreationTemplates.create({
    prefix: 'prod',
    description: 'production images',
    appliedFor: ['CREATE_ON_PUSH', 'REPLICATION'],
    imageTagMutability: 'IMMUTABLE',
    resourceTags: { env: 'prod' },
    repositoryPolicy: JSON.stringify(policy, null, 2),
    lifecyclePolicy: JSON.stringify(lifecycle),
  });
  await shared.api.repositoryCreationTemplates.create({ prefix: 'prod/team', appliedFor: ['CREATE_ON_PUSH'], imageScanningConfiguration: { scanOnPush: true } });
  await shared.api.repositoryCreationTemplates.create({ prefix: 'replica', appliedFor: ['REPLICATION'], imageTagMutability: 'IMMUTABLE' });

  await pushBlob(shared.reg.url, 'prod/app', Buffer.from('x'));
  t.like(await shared.api.repositories.read({ repositoryName: 'prod/app' }), { imageTagMutability: 'IMMUTABLE', tags: { env: 'prod' } });
  await pushBlob(shared.reg.url, 'prod/team/svc', Buffer.from('x'));
  t.like(await shared.api.repositories.read({ repositoryName: 'prod/team/svc' }), { imageTagMutability: 'MUTABLE', imageScanningConfiguration: { scanOnPush: true } });
  await pushBlob(shared.reg.url, 'replica/x', Buffer.from('x'));
  t.like(await shared.api.repositories.read({ repositoryName: 'replica/x' }), { imageTagMutability: 'MUTABLE' }, 'a template not for CREATE_ON_PUSH is passed over for ROOT');
  await pushBlob(shared.reg.url, 'production', Buffer.from('x'));
  t.like(await shared.api.repositories.read({ repositoryName: 'production' }), { imageTagMutability: 'MUTABLE' }, '"prod" is a namespace, not a string prefix');

  const stored = await shared.api.repositoryCreationTemplates.read({ prefix: 'prod' });
  t.is(stored.repositoryPolicy, '{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}', 'stored in canonical form');
  t.deepEqual(stored.appliedFor, ['CREATE_ON_PUSH', 'REPLICATION']);
});

test.serial('without a matching CREATE_ON_PUSH template a push to a new repository is NAME_UNKNOWN', async (t) => {
  const own = await startRegistry();
  t.teardown(() => own.close());
  const client = new BerthClient({ endpoint: own.url, credentials: testAdmin });
  await client.repositoryCreationTemplates.delete({ prefix: 'ROOT' });
  let res = await fetch(`${own.url}/v2/new/repo/blobs/uploads/`, { method: 'POST' });
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
  await client.repositories.create({ repositoryName: 'made/by-api' });
  res = await fetch(`${own.url}/v2/made/by-api/blobs/uploads/`, { method: 'POST' });
  t.is(res.status, 202, 'an existing repository takes pushes');
  await client.repositoryCreationTemplates.create({ prefix: 'new', appliedFor: ['CREATE_ON_PUSH'] });
  res = await fetch(`${own.url}/v2/new/repo/blobs/uploads/`, { method: 'POST' });
  t.is(res.status, 202);
});

test('template CRUD: duplicates, updates with versions, clearing policies, validation, listing', async (t) => {
  const created = await shared.api.repositoryCreationTemplates.create({ prefix: 'crud/ns', appliedFor: ['PULL_THROUGH_CACHE', 'CREATE_ON_PUSH'] });
  t.deepEqual(created.appliedFor, ['CREATE_ON_PUSH', 'PULL_THROUGH_CACHE']);
  const dup = await t.throwsAsync(shared.api.repositoryCreationTemplates.create({ prefix: 'crud/ns', appliedFor: ['CREATE_ON_PUSH'] }), { instanceOf: BerthApiError });
  t.is((dup as BerthApiError).code, 'TemplateAlreadyExists');
  const updated = await shared.api.repositoryCreationTemplates.update({ prefix: 'crud/ns' }, { description: 'hello', lifecyclePolicy: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}' }, { ifMatch: 1 });
  t.is(updated.version, 2);
  t.is(updated.description, 'hello');
  t.truthy(updated.lifecyclePolicy);
  const cleared = await shared.api.repositoryCreationTemplates.update({ prefix: 'crud/ns' }, { lifecyclePolicy: '' });
  t.is(cleared.lifecyclePolicy, undefined);
  const stale = await t.throwsAsync(shared.api.repositoryCreationTemplates.update({ prefix: 'crud/ns' }, { description: 'x' }, { ifMatch: 1 }), { instanceOf: BerthApiError });
  t.is((stale as BerthApiError).code, 'PreconditionFailed');
  for (const [body, field] of [
    [{ prefix: 'crud/bad', appliedFor: [] }, 'appliedFor'],
    [{ prefix: 'crud/bad', appliedFor: ['SOMETIMES'] }, 'appliedFor'],
    [{ prefix: 'Bad Prefix', appliedFor: ['CREATE_ON_PUSH'] }, 'prefix'],
    [{ prefix: 'crud/bad', appliedFor: ['CREATE_ON_PUSH'], repositoryPolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}' }, 'repositoryPolicy'],
    [{ prefix: 'crud/bad', appliedFor: ['CREATE_ON_PUSH'], lifecyclePolicy: '{"rules":[]}' }, 'lifecyclePolicy'],
    [{ prefix: 'crud/bad', appliedFor: ['CREATE_ON_PUSH'], lifecyclePolicy: 'not json' }, 'lifecyclePolicy'],
  ] as const) {
    const err = await t.throwsAsync(shared.api.repositoryCreationTemplates.create(body as never), { instanceOf: BerthApiError });
    t.is((err as BerthApiError).code, 'InvalidParameter', JSON.stringify(body));
    t.true((err as BerthApiError).field?.startsWith(field), `${JSON.stringify(body)} -> ${(err as BerthApiError).field}`);
  }
  const listed: string[] = [];
  for await (const tpl of shared.api.repositoryCreationTemplates.listAll({ prefix: 'crud/' })) listed.push(tpl.prefix);
  t.deepEqual(listed, ['crud/ns']);
  await shared.api.repositoryCreationTemplates.delete({ prefix: 'crud/ns' });
  const gone = await t.throwsAsync(shared.api.repositoryCreationTemplates.read({ prefix: 'crud/ns' }), { instanceOf: BerthApiError });
  t.is((gone as BerthApiError).code, 'TemplateNotFound');
});
