// Values a model marks sensitive (an access key's secret) are registered as additional secret
// outputs, so the engine encrypts them in the state. The mock monitor records each registration
// request as the SDK sends it to the engine.
import { createRequire } from 'node:module';
import test from 'ava';
import * as pulumi from '@pulumi/pulumi';
import { fieldMeta, resourceModels, type ResourceModel } from '@berth/registry-server/models';
import type { TSchema } from '@sinclair/typebox';
import { AccessKey, IdentityPolicy, Principal, Repository, secretKeysOf } from '../../src/pulumi/index.ts';

const require = createRequire(import.meta.url);
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getAdditionalsecretoutputsList(): string[];
}
const { MockMonitor } = require('@pulumi/pulumi/runtime/mocks') as { MockMonitor: { prototype: { registerResource(req: RegisterRequest, cb: unknown): unknown } } };

test('secretKeysOf lists exactly the fields a model marks sensitive', (t) => {
  for (const model of resourceModels as readonly ResourceModel[]) {
    const sensitive = [...Object.entries(model.inputs.properties), ...Object.entries(model.outputs.properties)]
      .filter(([, s]) => fieldMeta(s as TSchema).sensitive === true)
      .map(([k]) => k);
    t.deepEqual(secretKeysOf(model), sensitive, model.name);
  }
  t.deepEqual(secretKeysOf((resourceModels as readonly ResourceModel[]).find((m) => m.name === 'access_key') as ResourceModel), ['secretAccessKey']);
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
