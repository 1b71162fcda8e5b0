import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import test from 'ava';
import { pushImage, resolveLocation, sha256 } from '../../../test/support/oci.ts';
import { spawnRegistry } from '../../../test/support/registry.ts';
import { adminAuthorization, adminFetch as fetch, testAdmin } from '../../../test/support/auth.ts';
import { BerthClient } from '../../src/client/client.ts';

/** Starts a chunked PATCH and returns a handle to send more and to finish it. */
function slowPatch(location: string) {
  const url = new URL(location);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked', Authorization: adminAuthorization } });
  const response = new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, range: res.headers.range });
    });
    req.on('error', reject);
  });
  return { req, response };
}

async function startUpload(base: string, name: string): Promise<string> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  return resolveLocation(base, res.headers.get('location'));
}

test('SIGTERM lets an in-flight upload finish, then exits cleanly', async (t) => {
  const reg = await spawnRegistry();
  t.teardown(() => reg.kill().catch(() => undefined));
  const location = await startUpload(reg.url, 'shutdown/finish');
  const first = randomBytes(100_000);
  const second = randomBytes(100_000);
  const patch = slowPatch(location);
  patch.req.write(first);
  await new Promise((r) => setTimeout(r, 200));
  const exited = reg.stop();
  await new Promise((r) => setTimeout(r, 200));
  patch.req.end(second);
  const res = await patch.response;
  t.is(res.status, 202);
  t.is(res.range, '0-199999');
  t.is(await exited, 0);
  t.regex(reg.output(), /shutting down/);
  // The next start finds the upload exactly where it was left.
  const again = await spawnRegistry({ dataDir: reg.dataDir });
  t.teardown(() => again.kill().catch(() => undefined));
  const path = new URL(location).pathname;
  const status = await fetch(`${again.url}${path}`);
  t.is(status.headers.get('range'), '0-199999');
  const put = await fetch(`${again.url}${path}?digest=${sha256(Buffer.concat([first, second]))}`, { method: 'PUT' });
  t.is(put.status, 201);
});

test('an upload still stalled at the shutdown timeout is cut off and stays resumable', async (t) => {
  const reg = await spawnRegistry({ args: ['--shutdown-timeout-seconds', '1'] });
  t.teardown(() => reg.kill().catch(() => undefined));
  const location = await startUpload(reg.url, 'shutdown/stalled');
  const durable = randomBytes(5000);
  // A first chunk completes: that much is durable.
  const ok = await fetch(location, { method: 'PATCH', body: durable, headers: { 'Content-Range': '0-4999' } });
  t.is(ok.status, 202);
  const patch = slowPatch(location);
  patch.req.write(randomBytes(3000));
  patch.response.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 200));
  t.is(await reg.stop(), 0);
  const again = await spawnRegistry({ dataDir: reg.dataDir });
  t.teardown(() => again.kill().catch(() => undefined));
  const path = new URL(location).pathname;
  t.is((await fetch(`${again.url}${path}`)).headers.get('range'), '0-4999', 'the cut-off chunk is not counted');
  const rest = randomBytes(10);
  t.is((await fetch(`${again.url}${path}`, { method: 'PATCH', body: rest, headers: { 'Content-Range': '5000-5009' } })).status, 202);
  t.is((await fetch(`${again.url}${path}?digest=${sha256(Buffer.concat([durable, rest]))}`, { method: 'PUT' })).status, 201);
});

test('logs are JSON lines with request ids, and credentials never appear in them', async (t) => {
  const reg = await spawnRegistry({ args: ['--log-level', 'debug'] });
  t.teardown(() => reg.kill().catch(() => undefined));
  const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
  const basic = Buffer.from(`admin:${secret}`).toString('base64');
  t.is((await fetch(`${reg.url}/v2/`, { headers: { Authorization: `Basic ${basic}`, 'X-Request-Id': 'trace-me-1' } })).status, 401);
  t.is((await fetch(`${reg.url}/v2/`, { headers: { 'X-Request-Id': 'trace-me-2' } })).status, 200);
  await fetch(`${reg.url}/v2/x/manifests/latest`, { headers: { Authorization: `Bearer ${secret}`, Cookie: `session=${secret}` } });
  // Secrets made by the API (a new key, then its rotation) are used, and must not be logged either.
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  await api.principals.create({ principalName: 'logger' });
  await api.identityPolicies.update({ principalName: 'logger', policyName: 'login' }, { policyText: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}' });
  const key = await api.accessKeys.create({ principalName: 'logger' });
  const rotated = await api.rotateAccessKey(key.accessKeyId);
  const token = await new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: rotated.secretAccessKey ?? '' } }).authorizationToken();
  t.is((await fetch(`${reg.url}/v2/`, { headers: { Authorization: `Basic ${token.authorizationToken}` } })).status, 200);
  await pushImage(reg.url, 'logs/repo', 'v1');
  await reg.stop();
  const lines = reg.output().split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(records.length > 5);
  t.like(records.find((r) => r.reqId === 'trace-me-1'), { method: 'GET', url: '/v2/', status: 401, msg: 'request' });
  t.like(records.find((r) => r.reqId === 'trace-me-2'), { method: 'GET', url: '/v2/', status: 200, msg: 'request' });
  t.true(records.filter((r) => r.msg === 'request').every((r) => typeof r.reqId === 'string' && typeof r.ms === 'number'));
  t.truthy(records.find((r) => r.msg === 'configuration'), 'the effective configuration is summarised at start');
  const secrets = [secret, basic, testAdmin.secretAccessKey, adminAuthorization.slice('Basic '.length), key.secretAccessKey ?? '', rotated.secretAccessKey ?? '', token.password, token.authorizationToken];
  t.true(secrets.every((s) => s.length >= 20));
  for (const needle of secrets) t.false(reg.output().includes(needle), 'no credential in any log line');
});
