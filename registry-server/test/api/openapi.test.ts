import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { repositoryModel } from '../../src/model/resources/repository.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';

test('the OpenAPI document is served and valid, and covers every model operation', async (t) => {
  const reg = await startRegistry();
  t.teardown(() => reg.close());
  const res = await fetch(`${reg.url}/api/v1/openapi.json`);
  t.is(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  t.is(doc.openapi, '3.1.0');
  const validator = new Validator();
  const result = await validator.validate(doc);
  t.true(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
  t.deepEqual(Object.keys(doc.paths['/api/v1/repositories'] ?? {}).sort(), ['get', 'post']);
  t.deepEqual(Object.keys(doc.paths['/api/v1/repositories/{repositoryName}'] ?? {}).sort(), ['delete', 'get', 'patch']);
  t.false(Object.keys(doc.paths).some((p) => p.startsWith('/v2')), 'the OCI routes are not part of the management API');
  // Field facts travel with the schema.
  const post = doc.paths['/api/v1/repositories']?.post as { requestBody: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> } };
  const body = post.requestBody.content['application/json']?.schema;
  t.deepEqual(body?.properties.repositoryName?.['x-berth'], { forceNew: true });
  t.is(repositoryModel.operations.length, 5);
});
