// Values a model marks sensitive (an access key's secret), and properties holding one (a
// replication rule's destinations hold write-only passwords), are registered as additional
// secret outputs, so the engine encrypts them in the state; sensitive inputs are sent as secrets
// too. The mock monitor records each registration request as the SDK sends it to the engine.
import { createRequire } from 'node:module';
import test from 'ava';
import * as pulumi from '@pulumi/pulumi';
import { fieldMeta, resourceModels, type ResourceModel } from '@berth/registry-server/models';
import type { TSchema } from '@sinclair/typebox';
import { AccessKey, IdentityPolicy, Principal, ReplicationConfiguration, ReplicationRule, Repository, secretKeysOf } from '../../src/pulumi/index.ts';
import { containsSensitive } from '../../src/model-facts.ts';

const require = createRequire(import.meta.url);
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getAdditionalsecretoutputsList(): string[];
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}
/** How the SDK marks a secret value on the wire. */
const secretSig = { '4dabf18193072939515e22adb298388d': '1b47061264138c4ac30d75fd1eb44270' };
const { MockMonitor } = require('@pulumi/pulumi/runtime/mocks') as { MockMonitor: { prototype: { registerResource(req: RegisterRequest, cb: unknown): unknown } } };

const named = (name: string) => (resourceModels as readonly ResourceModel[]).find((m) => m.name === name) as ResourceModel;

test('secretKeysOf lists exactly the fields a model marks sensitive, or that hold a sensitive field', (t) => {
  for (const model of resourceModels as readonly ResourceModel[]) {
    const sensitive = [...Object.entries(model.inputs.properties), ...Object.entries(model.outputs.properties)]
      .filter(([, s]) => fieldMeta(s as TSchema).sensitive === true || containsSensitive(s as TSchema))
      .map(([k]) => k);
    t.deepEqual(secretKeysOf(model), [...new Set(sensitive)], model.name);
  }
  t.deepEqual(secretKeysOf(named('access_key')), ['secretAccessKey']);
  t.deepEqual(secretKeysOf(named('replication_rule')), ['destinations'], 'destinations hold write-only passwords');
  t.deepEqual(secretKeysOf(named('replication_configuration')), ['rules']);
  t.deepEqual(secretKeysOf(named('repository')), []);
});

test.serial('replication resources send their destinations as secrets and get them back as secret outputs; the password is never plain', async (t) => {
  const registered = new Map<string, { secrets: string[]; object: Record<string, unknown> }>();
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = function (req, cb) {
    registered.set(`${req.getType()}::${req.getName()}`, { secrets: req.getAdditionalsecretoutputsList(), object: req.getObject()?.toJavaScript() ?? {} });
    return original.call(this, req, cb);
  };
  t.teardown(() => {
    MockMonitor.prototype.registerResource = original;
  });
  await pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, registryId: '000000000000', version: 1 } }), call: () => ({}) }, 'berth-secrets', 'test', false);
  const password = 'replica-password-91c2';
  const destinations = [{ endpoint: 'https://mirror.example.com', username: 'mirror', password }];
  const rule = new ReplicationRule('mirror', { name: 'mirror', destinations, repositoryFilters: [{ filter: 'team/', filterType: 'PREFIX_MATCH' }] });
  const whole = new ReplicationConfiguration('all', { rules: [{ destinations }] });
  const plainName = await new Promise<string>((resolve) => rule.name.apply(resolve));
  t.is(plainName, 'mirror');
  t.true(await pulumi.isSecret(rule.destinations), 'destinations is a secret output');
  t.false(await pulumi.isSecret(rule.name));
  t.true(await pulumi.isSecret(whole.rules));
  const sent = registered.get('pulumi-nodejs:dynamic/berth:ReplicationRule::mirror');
  t.deepEqual(sent?.secrets, ['destinations']);
  t.like(sent?.object.destinations, secretSig, 'sent to the engine as a secret');
  t.is(sent?.object.name, 'mirror');
  t.deepEqual(registered.get('pulumi-nodejs:dynamic/berth:ReplicationConfiguration::all')?.secrets, ['rules']);
  // Wherever the password appears in what the SDK sent, it is inside a secret.
  const plain = (v: unknown): boolean => {
    if (v === password) return true;
    if (typeof v !== 'object' || v === null) return false;
    if ((v as Record<string, unknown>)['4dabf18193072939515e22adb298388d'] === secretSig['4dabf18193072939515e22adb298388d']) return false;
    return Object.values(v).some(plain);
  };
  for (const [name, { object }] of registered) t.false(plain(object), name);
});

test('an access key registers secretAccessKey as a secret output; other resources register none', async (t) => {
  const registered = new Map<string, string[]>();
  const original = MockMonitor.prototype.registerResource;
  MockMonitor.prototype.registerResource = function (req, cb) {
    registered.set(`${req.getType()}::${req.getName()}`, req.getAdditionalsecretoutputsList());
    return original.call(this, req, cb);
  };
  t.teardown(() => {
    MockMonitor.prototype.registerResource = original;
  });
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: { ...args.inputs, secretAccessKey: args.type.endsWith(':AccessKey') ? 'the-secret' : undefined } }),
      call: () => ({}),
    },
    'berth-secrets',
    'test',
    false,
  );
  const principal = new Principal('ci', { principalName: 'ci', type: 'SERVICE_ACCOUNT' });
  const key = new AccessKey('ci-key', { principalName: principal.principalName }, { additionalSecretOutputs: ['description'] });
  new IdentityPolicy('ci-pull', { principalName: principal.principalName, policyName: 'pull', policyText: '{}' });
  new Repository('app', { repositoryName: 'team/app' });
  const secret = await new Promise<string>((resolve) => key.secretAccessKey.apply((v) => resolve(String(v))));
  t.is(secret, 'the-secret');
  t.deepEqual(registered.get('pulumi-nodejs:dynamic/berth:AccessKey::ci-key'), ['description', 'secretAccessKey'], "the caller's own secret outputs are kept");
  t.deepEqual(registered.get('pulumi-nodejs:dynamic/berth:Principal::ci'), []);
  t.deepEqual(registered.get('pulumi-nodejs:dynamic/berth:IdentityPolicy::ci-pull'), []);
  t.deepEqual(registered.get('pulumi-nodejs:dynamic/berth:Repository::app'), []);
});
