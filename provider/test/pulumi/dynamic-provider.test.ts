import test from 'ava';
import { dynamicProvider } from '../../src/pulumi/provider.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { providerKey, serializeProvider, startDynamicProviderServer, unknownValue, type Engine } from './engine.ts';
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { adminAuthorization, adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const asAdmin = { authorization: adminAuthorization };

let reg: RunningRegistry;
let engine: Engine;
test.before(async () => {
  reg = await startRegistry();
  engine = await startDynamicProviderServer();
  await engine.configure({ 'berth:endpoint': reg.url, 'berth:accessKeyId': testAdmin.accessKeyId, 'berth:secretAccessKey': testAdmin.secretAccessKey });
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
  await reg.server.app.inject({ method: 'POST', url: '/api/v1/repositories', payload: { repositoryName: 'pulumi/pol' }, headers: asAdmin });
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
  await reg.server.app.inject({ method: 'POST', url: '/api/v1/repositories', payload: { repositoryName: 'pulumi/lc' }, headers: asAdmin });
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

test.serial('principal, access key and identity policy: the key id is the resource id, its secret survives reads and updates, and it works', async (t) => {
  const principal = await withProvider('principal', { principalName: 'pulumi-ci', type: 'SERVICE_ACCOUNT', description: 'CI' });
  t.deepEqual((await engine.check({}, principal)).failures, []);
  const p = await engine.create(principal);
  t.is(p.id, 'pulumi-ci');
  t.like(p.properties, { principalName: 'pulumi-ci', type: 'SERVICE_ACCOUNT' });
  const pOlds = { ...p.properties, [providerKey]: principal[providerKey] };
  t.deepEqual((await engine.diff(p.id, pOlds, { ...principal, type: 'USER' })).replaces, ['type'], 'type forces a new principal');

  await reg.server.app.inject({ method: 'POST', url: '/api/v1/repositories', payload: { repositoryName: 'pulumi/ci' }, headers: asAdmin });
  const arn = `arn:berth:ecr:*:*:repository/pulumi/ci`;
  const policyText = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: arn }] }, null, 2);
  const policy = await withProvider('identity_policy', { principalName: 'pulumi-ci', policyName: 'pull', policyText: policyText(['ecr:DescribeRepositories', 'ecr:BatchGetImage']) });
  t.deepEqual((await engine.check({}, policy)).failures, []);
  // Identity policies are checked as such: no Principal, and a Resource.
  const withPrincipal = await engine.check({}, { ...policy, policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ecr:*', Resource: '*' }] }) });
  t.is(withPrincipal.failures[0]?.property, 'policyText');
  const noResource = await engine.check({}, { ...policy, policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:*' }] }) });
  t.is(noResource.failures[0]?.property, 'policyText');
  const pol = await engine.create(policy);
  t.is(pol.id, 'pulumi-ci/pull');
  const polOlds = { ...pol.properties, [providerKey]: policy[providerKey] };
  const reordered = { ...policy, policyText: JSON.stringify({ Statement: [{ Resource: arn, Action: ['ecr:BatchGetImage', 'ecr:DescribeRepositories'], Effect: 'Allow' }], Version: '2012-10-17' }) };
  t.is((await engine.diff(pol.id, polOlds, reordered)).changes, DIFF_NONE, 'a reformatted identity policy is no change');
  t.is((await engine.read(pol.id, { [providerKey]: policy[providerKey] })).properties.policyName, 'pull', 'read (import) by the id alone');

  const key = await withProvider('access_key', { principalName: 'pulumi-ci', description: 'pipeline' });
  t.deepEqual((await engine.check({}, key)).failures, []);
  const k = await engine.create(key);
  t.regex(k.id, /^BKIA[A-Z2-7]{16}$/);
  t.is(k.properties.accessKeyId, k.id);
  const secret = k.properties.secretAccessKey;
  t.is(typeof secret, 'string');
  t.is(k.properties.status, 'Active');
  const kOlds = { ...k.properties, [providerKey]: key[providerKey] };

  // Reads never return the secret; the state keeps the one from create.
  const refreshed = await engine.read(k.id, kOlds);
  t.is(refreshed.id, k.id);
  t.is(refreshed.properties.secretAccessKey, secret);
  const imported = await engine.read(k.id, { [providerKey]: key[providerKey] });
  t.is(imported.properties.accessKeyId, k.id, 'import by the access key id');
  t.is(imported.properties.secretAccessKey, undefined, 'an imported key has no secret');

  const client = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: k.id, secretAccessKey: String(secret) } });
  t.is((await client.repositories.read({ repositoryName: 'pulumi/ci' })).repositoryName, 'pulumi/ci', 'the key signs in; the policy allows');
  const denied = await t.throwsAsync(client.repositories.create({ repositoryName: 'pulumi/other' }));
  t.is((denied as BerthApiError).status, 403);

  t.is((await engine.diff(k.id, kOlds, key)).changes, DIFF_NONE);
  const deactivate = { ...key, status: 'Inactive' };
  const diff = await engine.diff(k.id, kOlds, deactivate);
  t.is(diff.changes, DIFF_SOME);
  t.deepEqual(diff.replaces, [], 'status changes in place');
  const updated = await engine.update(k.id, kOlds, deactivate);
  t.like(updated.properties, { status: 'Inactive', accessKeyId: k.id, secretAccessKey: secret });
  const refused = await t.throwsAsync(client.repositories.read({ repositoryName: 'pulumi/ci' }));
  t.is((refused as BerthApiError).status, 401, 'an Inactive key is refused');

  await engine.delete(k.id, { ...updated.properties });
  t.is((await engine.read(k.id, kOlds)).id, '');
  await engine.delete(pol.id, polOlds);
  t.is((await engine.read(pol.id, polOlds)).id, '');
  await engine.delete(p.id, pOlds);
  t.is((await engine.read(p.id, pOlds)).id, '');
});

test.serial('KMS key and alias, and a repository encrypted under the key: ids, in-place disable, replacement on another key, delete schedules deletion', async (t) => {
  const keyNews = await withProvider('kms_key', { description: 'pulumi images', deletionWindowInDays: 7 });
  t.deepEqual((await engine.check({}, keyNews)).failures, []);
  t.is((await engine.check({}, { ...keyNews, deletionWindowInDays: 3 })).failures[0]?.property, 'deletionWindowInDays');
  const key = await engine.create(keyNews);
  t.regex(key.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  t.like(key.properties, { keyId: key.id, keyState: 'Enabled', enabled: true, keySpec: 'SYMMETRIC_DEFAULT', deletionWindowInDays: 7 });
  const keyOlds = { ...key.properties, [providerKey]: keyNews[providerKey] };
  const keyArn = key.properties.arn as string;
  t.is((await engine.diff(key.id, keyOlds, keyNews)).changes, DIFF_NONE, 'server defaults left out are no change');
  t.deepEqual((await engine.diff(key.id, keyOlds, { ...keyNews, keySpec: 'SYMMETRIC_DEFAULT' })).changes, DIFF_NONE);
  const disable = await engine.diff(key.id, keyOlds, { ...keyNews, enabled: false });
  t.is(disable.changes, DIFF_SOME);
  t.deepEqual(disable.replaces, [], 'enabled changes in place');

  const spareNews = await withProvider('kms_key', { description: 'spare' });
  const spare = await engine.create(spareNews);
  const spareOlds = { ...spare.properties, [providerKey]: spareNews[providerKey] };

  const aliasNews = await withProvider('kms_alias', { aliasName: 'alias/pulumi-images', targetKeyId: key.id });
  t.deepEqual((await engine.check({}, aliasNews)).failures, []);
  t.is((await engine.check({}, { ...aliasNews, aliasName: 'my-key' })).failures[0]?.property, 'aliasName');
  const alias = await engine.create(aliasNews);
  t.is(alias.id, 'alias/pulumi-images');
  t.like(alias.properties, { targetKeyArn: keyArn });
  const aliasOlds = { ...alias.properties, [providerKey]: aliasNews[providerKey] };
  t.is((await engine.read(alias.id, { [providerKey]: aliasNews[providerKey] })).properties.targetKeyId, key.id, 'read (import) by the alias name');
  t.is((await engine.read(key.id, { [providerKey]: keyNews[providerKey] })).properties.arn, keyArn, 'read (import) by the key id');
  const retarget = await engine.diff(alias.id, aliasOlds, { ...aliasNews, targetKeyId: spare.id });
  t.deepEqual(retarget.replaces, [], 'an alias is pointed at another key in place');
  t.deepEqual((await engine.diff(alias.id, aliasOlds, { ...aliasNews, aliasName: 'alias/other' })).replaces, ['aliasName']);

  const repoNews = await withProvider('repository', { repositoryName: 'pulumi/secure', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/pulumi-images' } });
  const repo = await engine.create(repoNews);
  t.deepEqual(repo.properties.encryptionConfiguration, { encryptionType: 'KMS', kmsKey: 'alias/pulumi-images' });
  const repoOlds = { ...repo.properties, [providerKey]: repoNews[providerKey] };
  t.is((await engine.diff(repo.id, repoOlds, repoNews)).changes, DIFF_NONE);
  const rekeyed = await engine.diff(repo.id, repoOlds, { ...repoNews, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: spare.properties.arn } });
  t.deepEqual(rekeyed.replaces, ['encryptionConfiguration'], 'another key replaces the repository');
  const unknownKey = await engine.diff(repo.id, repoOlds, { ...repoNews, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: unknownValue } });
  t.deepEqual(unknownKey.replaces, ['encryptionConfiguration'], 'a key not known yet may be another one: replace');
  // A key that cannot be used is refused at creation, naming the field.
  const missing = await withProvider('repository', { repositoryName: 'pulumi/nokey', encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/nothing' } });
  await t.throwsAsync(engine.create(missing), { message: /KMSKeyNotFound|does not exist/ });

  // Disabling in place keeps the key's id and ARN.
  const disabled = await engine.update(key.id, keyOlds, { ...keyNews, enabled: false });
  t.like(disabled.properties, { keyId: key.id, arn: keyArn, keyState: 'Disabled', enabled: false });

  // Delete in dependency order: the repository, the alias, then the keys, whose deletion is scheduled.
  await engine.delete(repo.id, repoOlds);
  await engine.delete(alias.id, aliasOlds);
  t.is((await fetch(`${reg.url}/api/v1/kms/aliases/alias%2Fpulumi-images`)).status, 404);
  const before = Date.now();
  await engine.delete(key.id, { ...disabled.properties, [providerKey]: keyNews[providerKey] });
  const scheduled = (await (await fetch(`${reg.url}/api/v1/kms/keys/${key.id}`)).json()) as { keyState: string; deletionDate: string };
  t.is(scheduled.keyState, 'PendingDeletion');
  const days = (Date.parse(scheduled.deletionDate) - before) / 86_400_000;
  t.true(days > 6.9 && days < 7.1, `deletion in 7 days, got ${days}`);
  // Pending deletion is gone for Pulumi: a refresh drops it; deleting again is a no-op.
  t.is((await engine.read(key.id, keyOlds)).id, '', 'a key pending deletion is gone on refresh');
  await engine.delete(key.id, keyOlds);
  await engine.delete(spare.id, spareOlds);
  t.is(((await (await fetch(`${reg.url}/api/v1/kms/keys/${spare.id}`)).json()) as { keyState: string }).keyState, 'PendingDeletion');
});

test.serial('replication rule: create, read, update, delete; the write-only password stays in the state (never in the registry\'s answers), an import has none', async (t) => {
  const password = 'pulumi-replica-secret-5e1d';
  const destinations = [{ endpoint: 'http://127.0.0.1:5997', username: 'mirror', password, region: 'eu-west-1' }, { endpoint: 'https://backup.example.com' }];
  const news = await withProvider('replication_rule', { name: 'pulumi-mirror', destinations, repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] });
  t.deepEqual((await engine.check({}, news)).failures, []);
  const bad = await engine.check({}, { ...news, repositoryFilters: [{ filter: 'x', filterType: 'REGEX' }] });
  t.deepEqual(bad.failures.map((f) => f.property), ['repositoryFilters']);

  const created = await engine.create(news);
  t.is(created.id, 'pulumi-mirror');
  t.like(created.properties, { name: 'pulumi-mirror', registryId: '000000000000', version: 1 });
  t.deepEqual(created.properties.destinations, destinations, 'the password given is kept in the state (a secret output)');
  const raw = await (await fetch(`${reg.url}/api/v1/registry/replication-rules/pulumi-mirror`)).text();
  t.false(raw.includes(password), 'the registry never returns it');
  t.false(raw.includes('"password"'));
  const olds = { ...created.properties, [providerKey]: news[providerKey] };

  t.is((await engine.diff(created.id, olds, news)).changes, DIFF_NONE, 'no diff after create although the registry never returns the password');
  const reordered = { ...news, destinations: [{ password, region: 'eu-west-1', username: 'mirror', endpoint: 'http://127.0.0.1:5997' }, destinations[1]] };
  t.is((await engine.diff(created.id, olds, reordered)).changes, DIFF_NONE, 'the order of keys is no change');
  const rotated = await engine.diff(created.id, olds, { ...news, destinations: [{ ...destinations[0], password: 'rotated-secret' }, destinations[1]] });
  t.is(rotated.changes, DIFF_SOME, 'a new password is a change');
  t.deepEqual(rotated.replaces, []);
  t.deepEqual((await engine.diff(created.id, olds, { ...news, name: 'pulumi-other' })).replaces, ['name']);

  // Refresh keeps the password (matched by endpoint); an import (read by the id alone) has none.
  const refreshed = await engine.read(created.id, olds);
  t.deepEqual(refreshed.properties.destinations, destinations);
  const imported = await engine.read(created.id, { [providerKey]: news[providerKey] });
  t.deepEqual(imported.properties.destinations, [{ endpoint: 'http://127.0.0.1:5997', username: 'mirror', region: 'eu-west-1' }, { endpoint: 'https://backup.example.com' }]);
  t.is((await engine.diff(created.id, { ...imported.properties, [providerKey]: news[providerKey] }, news)).changes, DIFF_SOME, 'after an import the password is set again');

  const next = { ...news, repositoryFilters: [{ filter: 'apps/*', filterType: 'WILDCARD' }] };
  const updated = await engine.update(created.id, olds, next);
  t.like(updated.properties, { version: 2, repositoryFilters: [{ filter: 'apps/*', filterType: 'WILDCARD' }] });
  t.deepEqual(updated.properties.destinations, destinations, 'still in the state after an update');
  t.is((await engine.diff(created.id, { ...updated.properties, [providerKey]: news[providerKey] }, next)).changes, DIFF_NONE);

  await engine.delete(created.id, { ...updated.properties, [providerKey]: news[providerKey] });
  t.is((await fetch(`${reg.url}/api/v1/registry/replication-rules/pulumi-mirror`)).status, 404);
  t.is((await engine.read(created.id, olds)).id, '', 'gone');
});

test.serial('replication configuration: a rule left unnamed takes the server\'s name, which is no change afterwards; delete', async (t) => {
  const password = 'pulumi-config-secret-77a0';
  const rules = [{ destinations: [{ endpoint: 'https://dr.example.com', username: 'dr', password }] }, { name: 'named', destinations: [{ endpoint: 'https://named.example.com' }], repositoryFilters: [{ filter: 'apps/*-prod', filterType: 'WILDCARD' }] }];
  const news = await withProvider('replication_configuration', { rules });
  t.deepEqual((await engine.check({}, news)).failures, []);
  const created = await engine.create(news);
  t.is(created.id, '000000000000', 'the registry id');
  t.deepEqual(created.properties.rules, [
    { name: 'rule-1', destinations: [{ endpoint: 'https://dr.example.com', username: 'dr', password }], repositoryFilters: [] },
    { name: 'named', destinations: [{ endpoint: 'https://named.example.com' }], repositoryFilters: [{ filter: 'apps/*-prod', filterType: 'WILDCARD' }] },
  ]);
  const olds = { ...created.properties, [providerKey]: news[providerKey] };
  t.is((await engine.diff(created.id, olds, news)).changes, DIFF_NONE, 'the name and filters the server filled in are no change');
  t.is((await engine.diff(created.id, olds, { ...news, rules: [{ ...rules[0], name: 'renamed' }, rules[1]] })).changes, DIFF_SOME);
  const refreshed = await engine.read(created.id, olds);
  t.deepEqual(refreshed.properties.rules, created.properties.rules);
  // An update keeps the name the server chose for the unnamed rule, though the program still leaves it out.
  const moved = { ...news, rules: [rules[0], { ...rules[1], repositoryFilters: [{ filter: 'apps/', filterType: 'PREFIX_MATCH' }] }] };
  const updated = await engine.update(created.id, olds, moved);
  t.is((updated.properties.rules as { name: string }[])[0]?.name, 'rule-1');
  t.deepEqual((updated.properties.rules as { destinations: unknown }[])[0]?.destinations, rules[0]?.destinations, 'the password is kept');
  t.is((await engine.diff(created.id, { ...updated.properties, [providerKey]: news[providerKey] }, moved)).changes, DIFF_NONE);
  t.false((await (await fetch(`${reg.url}/api/v1/registry/replication-configuration`)).text()).includes(password));
  await engine.delete(created.id, olds);
  t.is((await fetch(`${reg.url}/api/v1/registry/replication-configuration`)).status, 404);
  t.is((await engine.read(created.id, olds)).id, '');
});
