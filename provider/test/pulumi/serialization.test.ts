import { createServer } from 'node:net';
import test from 'ava';
import * as pulumi from '@pulumi/pulumi';
import { resourceModels } from '@berth/registry-server/models';
import * as berth from '../../src/pulumi/index.ts';
import { dynamicProvider } from '../../src/pulumi/provider.ts';
import { serializeProvider } from './engine.ts';

const secret = `berth-secret-${Date.now()}`;

test('every resource model has a Pulumi resource class named by its title', (t) => {
  const exported = berth as unknown as Record<string, unknown>;
  for (const model of resourceModels) t.is(typeof exported[model.title], 'function', `${model.title} (${model.name})`);
});

test('every provider serializes, capturing neither clients nor secrets', async (t) => {
  process.env.BERTH_SECRET_ACCESS_KEY = secret;
  process.env.BERTH_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  for (const model of resourceModels) {
    const { text, containsSecrets } = await serializeProvider(dynamicProvider(model.name));
    t.false(containsSecrets, model.name);
    t.false(text.includes(secret), `${model.name}: the secret is not in the serialized text`);
    t.false(text.includes('AKIDEXAMPLE'), model.name);
    t.true(text.includes(JSON.stringify(model.name)), `${model.name}: the model name is all it captures`);
    t.true(text.length < 8000, `${model.name}: ${text.length} characters`);
  }
});

// The two checks above must be able to fail: these providers do what ours must not.
test('the checks catch a captured secret and an unserializable capture', async (t) => {
  const leaky: pulumi.dynamic.ResourceProvider = { async create() { return { id: secret }; } };
  t.true((await serializeProvider(leaky)).text.includes(secret));
  const wrapped = pulumi.secret(secret);
  const secretive: pulumi.dynamic.ResourceProvider = { async create() { return { id: String(wrapped) }; } };
  t.true((await serializeProvider(secretive)).containsSecrets || (await serializeProvider(secretive)).text.includes('secret'));
  const server = createServer();
  const holdsSocket: pulumi.dynamic.ResourceProvider = { async create() { server.listen(0); return { id: 'x' }; } };
  await t.throwsAsync(serializeProvider(holdsSocket));
});
