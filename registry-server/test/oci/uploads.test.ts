import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import test from 'ava';
import { errorCode, pushBlob, resolveLocation, sha256, sha512 } from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminAuthorization, adminFetch as fetch } from '../../../test/support/auth.ts';

let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry({ maxBlobBytes: 64 * 1024 });
});
test.after.always(async () => reg.close());

let n = 0;
const repo = (): string => `uploads/r${n++}`;

async function start(base: string, name: string, query = ''): Promise<string> {
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/${query}`, { method: 'POST', headers: { 'Content-Length': '0' } });
  if (res.status !== 202) throw new Error(`start: ${res.status} ${await res.text()}`);
  return resolveLocation(base, res.headers.get('location'));
}

function patch(location: string, body: Uint8Array, range?: string): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (range !== undefined) headers['Content-Range'] = range;
  return fetch(location, { method: 'PATCH', headers, body });
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

test('POST starts a session: 202, Location, Docker-Upload-UUID, Range 0-0', async (t) => {
  const name = repo();
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  t.is(res.status, 202);
  const location = res.headers.get('location') ?? '';
  t.regex(location, new RegExp(`^/v2/${name}/blobs/uploads/[0-9a-f-]{36}$`));
  t.is(res.headers.get('docker-upload-uuid'), location.split('/').at(-1) ?? null);
  t.is(res.headers.get('range'), '0-0');
});

test('chunked upload with Content-Range: every reply carries Location and Range; GET reports progress', async (t) => {
  const name = repo();
  const data = randomBytes(30_000);
  let location = await start(reg.url, name);
  for (const [s, e] of [[0, 9_999], [10_000, 19_999], [20_000, 29_999]] as const) {
    const res = await patch(location, data.subarray(s, e + 1), `${s}-${e}`);
    t.is(res.status, 202);
    t.is(res.headers.get('range'), `0-${e}`);
    location = resolveLocation(reg.url, res.headers.get('location'));
    const status = await fetch(location);
    t.is(status.status, 204);
    t.is(status.headers.get('range'), `0-${e}`);
    t.truthy(status.headers.get('location'));
  }
  const done = await fetch(withDigest(location, sha256(data)), { method: 'PUT' });
  t.is(done.status, 201);
  t.is(done.headers.get('docker-content-digest'), sha256(data));
  t.is(done.headers.get('location'), `/v2/${name}/blobs/${sha256(data)}`);
  t.deepEqual(Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${sha256(data)}`)).arrayBuffer()), data);
});

test('an out-of-order chunk is 416 with the current Range, and the upload continues correctly', async (t) => {
  const name = repo();
  const data = randomBytes(200);
  const location = await start(reg.url, name);
  t.is((await patch(location, data.subarray(0, 100), '0-99')).status, 202);
  const skipped = await patch(location, data.subarray(150, 200), '150-199');
  t.is(skipped.status, 416);
  t.is(skipped.headers.get('range'), '0-99');
  t.is(resolveLocation(reg.url, skipped.headers.get('location')), location, 'a 416 still tells where to resume');
  const repeated = await patch(location, data.subarray(0, 100), '0-99');
  t.is(repeated.status, 416, 'a chunk that starts over is out of order too');
  t.is((await patch(location, data.subarray(100, 200), '100-199')).status, 202);
  t.is((await fetch(withDigest(location, sha256(data)), { method: 'PUT' })).status, 201);
});

test('malformed Content-Range is 416; Content-Length disagreeing with it is 400 SIZE_INVALID', async (t) => {
  const name = repo();
  const location = await start(reg.url, name);
  for (const range of ['abc', '5-1', '-5', '0-']) {
    const res = await patch(location, Buffer.from('hello'), range);
    t.is(res.status, 416, range);
    t.is(await errorCode(res), 'BLOB_UPLOAD_INVALID', range);
  }
  const res = await patch(location, Buffer.from('hello'), '0-9');
  t.is(res.status, 400);
  t.is(await errorCode(res), 'SIZE_INVALID');
  t.is((await fetch(location)).headers.get('range'), '0-0', 'nothing was appended');
});

test('streamed PATCH without Content-Range (chunked transfer encoding, as docker sends)', async (t) => {
  const name = repo();
  const parts = [randomBytes(7000), randomBytes(9000), randomBytes(1)];
  const data = Buffer.concat(parts);
  const location = await start(reg.url, name);
  const res = await fetch(location, {
    method: 'PATCH',
    body: new ReadableStream({
      start(controller) {
        for (const p of parts) controller.enqueue(p);
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  t.is(res.status, 202);
  t.is(res.headers.get('range'), `0-${data.length - 1}`);
  t.is((await fetch(withDigest(resolveLocation(reg.url, res.headers.get('location')), sha256(data)), { method: 'PUT' })).status, 201);
});

test('PUT can carry the final chunk', async (t) => {
  const name = repo();
  const data = randomBytes(500);
  const location = await start(reg.url, name);
  t.is((await patch(location, data.subarray(0, 300), '0-299')).status, 202);
  const res = await fetch(withDigest(location, sha256(data)), { method: 'PUT', body: data.subarray(300), headers: { 'Content-Range': '300-499' } });
  t.is(res.status, 201);
  t.deepEqual(Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${sha256(data)}`)).arrayBuffer()), data);
});

test('PUT with a final chunk out of order is 416', async (t) => {
  const name = repo();
  const data = randomBytes(100);
  const location = await start(reg.url, name);
  const res = await fetch(withDigest(location, sha256(data)), { method: 'PUT', body: data.subarray(50), headers: { 'Content-Range': '50-99' } });
  t.is(res.status, 416);
  t.is(res.headers.get('range'), '0-0');
});

test('PUT without a digest, with a malformed one, or with the wrong one is DIGEST_INVALID; the session survives', async (t) => {
  const name = repo();
  const data = randomBytes(100);
  const location = await start(reg.url, name);
  await patch(location, data, '0-99');
  for (const url of [location, withDigest(location, 'sha256:nothex'), withDigest(location, sha256(randomBytes(5)))]) {
    const res = await fetch(url, { method: 'PUT' });
    t.is(res.status, 400);
    t.is(await errorCode(res), 'DIGEST_INVALID');
  }
  t.is((await fetch(withDigest(location, sha256(data)), { method: 'PUT' })).status, 201);
});

test('DELETE cancels a session; it is unknown afterwards', async (t) => {
  const name = repo();
  const location = await start(reg.url, name);
  await patch(location, randomBytes(10), '0-9');
  t.is((await fetch(location, { method: 'DELETE' })).status, 204);
  const res = await fetch(location);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN');
  t.is((await fetch(location, { method: 'DELETE' })).status, 404);
});

test('unknown sessions and sessions of another repository are BLOB_UPLOAD_UNKNOWN', async (t) => {
  const a = repo();
  const b = repo();
  const location = await start(reg.url, a);
  await start(reg.url, b);
  const id = location.split('/').at(-1) ?? '';
  for (const url of [`${reg.url}/v2/${b}/blobs/uploads/${id}`, `${reg.url}/v2/${a}/blobs/uploads/00000000-0000-0000-0000-000000000000`, `${reg.url}/v2/${a}/blobs/uploads/not-a-uuid`, `${reg.url}/v2/nosuchrepo/blobs/uploads/${id}`]) {
    const res = await fetch(url);
    t.is(res.status, 404, url);
    t.is(await errorCode(res), 'BLOB_UPLOAD_UNKNOWN', url);
  }
});

test('cross-repository mount: 201 when the source holds the blob, otherwise a 202 session', async (t) => {
  const from = repo();
  const to = repo();
  const data = randomBytes(300);
  const digest = await pushBlob(reg.url, from, data);
  const mounted = await fetch(`${reg.url}/v2/${to}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
  t.is(mounted.status, 201);
  t.is(mounted.headers.get('location'), `/v2/${to}/blobs/${digest}`);
  t.is(mounted.headers.get('docker-content-digest'), digest);
  t.deepEqual(Buffer.from(await (await fetch(`${reg.url}/v2/${to}/blobs/${digest}`)).arrayBuffer()), data);

  const missing = sha256(randomBytes(10));
  for (const query of [`?mount=${missing}&from=${from}`, `?mount=${digest}&from=no/such/repo`, `?mount=${digest}`]) {
    const res = await fetch(`${reg.url}/v2/${repo()}/blobs/uploads/${query}`, { method: 'POST' });
    t.is(res.status, 202, query);
    t.truthy(res.headers.get('location'), query);
  }
  const bad = await fetch(`${reg.url}/v2/${to}/blobs/uploads/?mount=nope&from=${from}`, { method: 'POST' });
  t.is(bad.status, 400);
  t.is(await errorCode(bad), 'DIGEST_INVALID');
});

test('digest-algorithm=sha512 sessions close with a sha512 digest, and a sha256 one works too', async (t) => {
  const name = repo();
  const data = randomBytes(4000);
  let location = await start(reg.url, name, '?digest-algorithm=sha512');
  await patch(location, data, `0-${data.length - 1}`);
  t.is((await fetch(withDigest(location, sha512(data)), { method: 'PUT' })).status, 201);
  location = await start(reg.url, name, '?digest-algorithm=sha512');
  await patch(location, data, `0-${data.length - 1}`);
  t.is((await fetch(withDigest(location, sha256(data)), { method: 'PUT' })).status, 201);
  const bad = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest-algorithm=md5`, { method: 'POST' });
  t.is(bad.status, 400);
  t.is(await errorCode(bad), 'DIGEST_INVALID');
});

test('a blob over the size limit is 413, by chunk or monolithic', async (t) => {
  const name = repo();
  const big = randomBytes(64 * 1024 + 1);
  const location = await start(reg.url, name);
  const res = await patch(location, big);
  t.is(res.status, 413);
  t.is(await errorCode(res), 'SIZE_INVALID');
  t.is((await fetch(location)).headers.get('range'), '0-0');
  const mono = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${sha256(big)}`, { method: 'POST', body: big });
  t.is(mono.status, 413);
});

test('a second writer on a busy session is refused with 416', async (t) => {
  const name = repo();
  const location = await start(reg.url, name);
  const url = new URL(location);
  // First writer: headers and a first piece, then it pauses mid-body.
  const first = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PATCH', headers: { 'Transfer-Encoding': 'chunked', Authorization: adminAuthorization } });
  const firstDone = new Promise<number>((resolve, reject) => {
    first.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    first.on('error', reject);
  });
  first.write(randomBytes(1000));
  await new Promise((r) => setTimeout(r, 300));
  const second = await patch(location, randomBytes(10));
  t.is(second.status, 416);
  t.is(second.headers.get('range'), '0-0');
  first.end(randomBytes(1000));
  t.is(await firstDone, 202);
  t.is((await fetch(location)).headers.get('range'), '0-1999');
});

test('upload sessions survive a server restart', async (t) => {
  const first = await startRegistry();
  const name = repo();
  const data = randomBytes(10_000);
  const location = await start(first.url, name);
  t.is((await patch(location, data.subarray(0, 6000), '0-5999')).status, 202);
  const path = new URL(location).pathname;
  await first.close({ keepData: true });

  const second = await startRegistry({ dataDir: first.dataDir });
  t.teardown(() => second.close());
  const resumed = `${second.url}${path}`;
  const status = await fetch(resumed);
  t.is(status.status, 204);
  t.is(status.headers.get('range'), '0-5999');
  t.is((await patch(resumed, data.subarray(6000), '6000-9999')).status, 202);
  t.is((await fetch(withDigest(resumed, sha256(data)), { method: 'PUT' })).status, 201);
  t.deepEqual(Buffer.from(await (await fetch(`${second.url}/v2/${name}/blobs/${sha256(data)}`)).arrayBuffer()), data);
});
