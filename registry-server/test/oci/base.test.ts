import { request } from 'node:http';
import test from 'ava';
import { errorCode } from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminAuthorization, adminFetch as fetch } from '../../../test/support/auth.ts';

let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry();
});
test.after.always(async () => reg.close());

test('GET /v2/ answers 200 with the API version header', async (t) => {
  const res = await fetch(`${reg.url}/v2/`);
  t.is(res.status, 200);
  t.is(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  t.deepEqual(await res.json(), {});
});

test('health and readiness endpoints', async (t) => {
  t.is((await fetch(`${reg.url}/healthz`)).status, 200);
  const ready = await fetch(`${reg.url}/readyz`);
  t.is(ready.status, 200);
  t.deepEqual(await ready.json(), { status: 'ready' });
});

test('every reply carries a request id, echoing a well-formed one from the client', async (t) => {
  const generated = await fetch(`${reg.url}/v2/`);
  t.regex(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  const echoed = await fetch(`${reg.url}/v2/`, { headers: { 'X-Request-Id': 'abc-123' } });
  t.is(echoed.headers.get('x-request-id'), 'abc-123');
  const refused = await fetch(`${reg.url}/v2/`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
  t.not(refused.headers.get('x-request-id'), 'bad id with spaces');
});

test('an unknown endpoint under /v2/ is 404 with an OCI error body', async (t) => {
  const res = await fetch(`${reg.url}/v2/some/repo/nonsense`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
});

test('a known endpoint with the wrong method is 405 UNSUPPORTED', async (t) => {
  const res = await fetch(`${reg.url}/v2/some/repo/tags/list`, { method: 'DELETE' });
  t.is(res.status, 405);
  t.is(await errorCode(res), 'UNSUPPORTED');
});

/** GET with the path sent exactly as written (fetch would normalise dot segments away). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${reg.url}${path}`, { method: 'GET', path, headers: { Authorization: adminAuthorization } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const name of ['Upper/case', 'a/../b', 'a/%2e%2e/b', '%2e%2e', '..', 'a/./b', 'a%2Fb', 'a//b', '-lead', 'trail-', 'a/b/', 'a'.repeat(257)]) {
  test(`repository name ${JSON.stringify(name.slice(0, 40))} is NAME_INVALID`, async (t) => {
    const res = await rawGet(`/v2/${name}/tags/list`);
    t.is(res.status, 400);
    t.is((JSON.parse(res.body) as { errors: { code: string }[] }).errors[0]?.code, 'NAME_INVALID');
  });
}

test('an unknown path outside /v2/ is 404 with an error body', async (t) => {
  const res = await rawGet('/../../etc/passwd');
  t.is(res.status, 404);
  t.is((JSON.parse(res.body) as { errors: { code: string }[] }).errors[0]?.code, 'NAME_UNKNOWN');
});
