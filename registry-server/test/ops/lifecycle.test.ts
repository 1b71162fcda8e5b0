import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import test from 'ava';
import { pushImage, resolveLocation, sha256 } from '../../../test/support/oci.ts';
import { spawnRegistry } from '../../../test/support/registry.ts';

/** Starts a chunked PATCH and returns a handle to send more and to finish it. */
function slowPatch(location: string) {
  const url = new URL(location);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked' } });
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
  await fetch(`${reg.url}/v2/`, { headers: { Authorization: `Basic ${basic}`, 'X-Request-Id': 'trace-me-1' } });
  await fetch(`${reg.url}/v2/x/manifests/latest`, { headers: { Authorization: `Bearer ${secret}`, Cookie: `session=${secret}` } });
  await pushImage(reg.url, 'logs/repo', 'v1');
  await reg.stop();
  const lines = reg.output().split('\n').filter((l) => l.trim() !== '');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(records.length > 5);
  const traced = records.find((r) => r.reqId === 'trace-me-1');
  t.like(traced, { method: 'GET', url: '/v2/', status: 200, msg: 'request' });
  t.true(records.filter((r) => r.msg === 'request').every((r) => typeof r.reqId === 'string' && typeof r.ms === 'number'));
  t.truthy(records.find((r) => r.msg === 'configuration'), 'the effective configuration is summarised at start');
  for (const needle of [secret, basic]) t.false(reg.output().includes(needle), 'no credential in any log line');
});
