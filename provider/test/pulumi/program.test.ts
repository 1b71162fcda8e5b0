// Runs the example program under Pulumi's mocks; every resource it registers is created by
// executing its own serialized provider against a real registry, in dependency order.
import { createRequire } from 'node:module';
import test from 'ava';
import * as pulumi from '@pulumi/pulumi';
import { BerthApiError, BerthClient } from '@berth/registry-server/client';
import { kmsAliasModel, kmsKeyModel } from '@berth/registry-server/models';
import { startRegistry } from '../../../test/support/registry.ts';
import { providerKey } from './engine.ts';
import { adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';

const require = createRequire(import.meta.url);
const requireFromString = require('require-from-string') as (code: string) => { handler: () => pulumi.dynamic.ResourceProvider };

test('the example program creates its repositories, policies and KMS key through their serialized providers; destroying schedules the key\'s deletion', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  process.env.BERTH_ENDPOINT = reg.url;
  process.env.BERTH_ACCESS_KEY_ID = testAdmin.accessKeyId;
  process.env.BERTH_SECRET_ACCESS_KEY = testAdmin.secretAccessKey;
  const created: { type: string; name: string; id: string; provider: pulumi.dynamic.ResourceProvider; outs: Record<string, unknown> }[] = [];
  const pending: Promise<unknown>[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const work = (async () => {
          const serialized = args.inputs[providerKey] as string;
          if (typeof serialized !== 'string') throw new Error(`${args.name}: no serialized provider`);
          const provider = requireFromString(serialized).handler();
          const { [providerKey]: _, ...inputs } = args.inputs as Record<string, unknown>;
          const checked = await provider.check?.({}, inputs);
          if (checked?.failures?.length) throw new Error(`${args.name}: ${JSON.stringify(checked.failures)}`);
          const result = await provider.create(checked?.inputs ?? inputs);
          created.push({ type: args.type, name: args.name, id: result.id, provider, outs: result.outs as Record<string, unknown> });
          return { id: result.id, state: result.outs };
        })();
        pending.push(work);
        return work;
      },
      call: () => ({}),
    },
    'berth-example',
    'test',
    true,
  );
  const program = (await import('../../../examples/pulumi/index.ts')) as {
    repositoryUris: Record<string, pulumi.Output<string>>;
    ciAccessKeyId: pulumi.Output<string>;
    ciSecretAccessKey: pulumi.Output<string>;
    secureRepositoryUri: pulumi.Output<string>;
    imagesKeyArn: pulumi.Output<string>;
  };
  const uris = await new Promise<Record<string, string>>((resolve) => pulumi.all(program.repositoryUris).apply(resolve));
  // Resources that depend on others register later; wait until registrations stop arriving.
  for (let seen = -1, quiet = 0; quiet < 3; ) {
    await Promise.all(pending);
    await new Promise((r) => setTimeout(r, 50));
    if (pending.length === seen) quiet++;
    else [seen, quiet] = [pending.length, 0];
  }
  t.deepEqual(uris, { web: `${reg.host}/platform/web`, api: `${reg.host}/platform/api` });
  t.deepEqual(created.map((c) => c.type).sort(), [
    'pulumi-nodejs:dynamic/berth:AccessKey',
    'pulumi-nodejs:dynamic/berth:IdentityPolicy',
    'pulumi-nodejs:dynamic/berth:KmsAlias',
    'pulumi-nodejs:dynamic/berth:KmsKey',
    'pulumi-nodejs:dynamic/berth:LifecyclePolicy',
    'pulumi-nodejs:dynamic/berth:LifecyclePolicy',
    'pulumi-nodejs:dynamic/berth:Principal',
    'pulumi-nodejs:dynamic/berth:Repository',
    'pulumi-nodejs:dynamic/berth:Repository',
    'pulumi-nodejs:dynamic/berth:Repository',
    'pulumi-nodejs:dynamic/berth:RepositoryPolicy',
    'pulumi-nodejs:dynamic/berth:RepositoryPolicy',
  ]);
  for (const team of ['web', 'api']) {
    const repo = (await (await fetch(`${reg.url}/api/v1/repositories/platform%2F${team}`)).json()) as { imageTagMutability: string; tags: Record<string, string> };
    t.is(repo.imageTagMutability, 'IMMUTABLE_WITH_EXCLUSION');
    t.deepEqual(repo.tags, { team });
    t.is((await fetch(`${reg.url}/api/v1/repositories/platform%2F${team}/lifecycle-policy`)).status, 200);
    t.is((await fetch(`${reg.url}/api/v1/repositories/platform%2F${team}/policy`)).status, 200);
  }
  // The CI key signs in and may push to platform/web only.
  const [accessKeyId, secretAccessKey, secret] = await new Promise<[string, string, boolean]>((resolve) =>
    pulumi.all([program.ciAccessKeyId, program.ciSecretAccessKey]).apply(async ([id, s]) => resolve([id, s, await pulumi.isSecret(program.ciSecretAccessKey)])),
  );
  t.true(secret, 'the secret is exported as a secret');
  const ci = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId, secretAccessKey } });
  t.is((await ci.authorizationToken()).userName, 'BERTH');
  const admin = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  for (const [team, decision] of [['web', 'allowed'], ['api', 'implicitDeny']] as const) {
    const resource = (await admin.repositories.read({ repositoryName: `platform/${team}` })).repositoryArn;
    t.is((await admin.simulatePolicy({ principalName: 'ci-web', action: 'ecr:PutImage', resource })).decision, decision, team);
  }

  // The repository encrypted under the KMS key, named through its alias.
  const [secureUri, keyArn] = await new Promise<[string, string]>((resolve) => pulumi.all([program.secureRepositoryUri, program.imagesKeyArn]).apply(resolve));
  t.is(secureUri, `${reg.host}/platform/secure`);
  t.deepEqual((await admin.repositories.read({ repositoryName: 'platform/secure' })).encryptionConfiguration, { encryptionType: 'KMS', kmsKey: 'alias/platform-images' });
  const keys = admin.resource(kmsKeyModel);
  const keyId = created.find((c) => c.type === 'pulumi-nodejs:dynamic/berth:KmsKey')?.id ?? '';
  t.like(await keys.read({ keyId }), { arn: keyArn, keyState: 'Enabled', description: 'encrypts platform/secure', deletionWindowInDays: 7 });
  t.like(await admin.resource(kmsAliasModel).read({ aliasName: 'alias/platform-images' }), { targetKeyId: keyId, targetKeyArn: keyArn });

  // Destroy, as the engine does: dependents first (the reverse of the order of creation).
  for (const c of [...created].reverse()) await c.provider.delete?.(c.id, c.outs);
  t.deepEqual((await admin.repositories.list({ prefix: 'platform/' })).items, []);
  await t.throwsAsync(admin.resource(kmsAliasModel).read({ aliasName: 'alias/platform-images' }), { instanceOf: BerthApiError, message: /does not exist/ });
  const scheduled = await keys.read({ keyId });
  t.is(scheduled.keyState, 'PendingDeletion', 'destroying the key schedules its deletion');
  t.is(typeof scheduled.deletionDate, 'string');
});
