import { randomBytes } from 'node:crypto';
import test from 'ava';
import { errorCode, pushBlob, resolveLocation, sha256, sha512 } from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';

let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry();
});
test.after.always(async () => reg.close());

let n = 0;
const repo = (): string => `blobs/r${n++}`;

test('single-POST monolithic upload, then GET and HEAD', async (t) => {
  const name = repo();
  const data = randomBytes(5000);
  const digest = sha256(data);
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  t.is(res.status, 201);
  t.is(res.headers.get('location'), `/v2/${name}/blobs/${digest}`);
  t.is(res.headers.get('docker-content-digest'), digest);

  const get = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`);
  t.is(get.status, 200);
  t.is(get.headers.get('docker-content-digest'), digest);
  t.is(get.headers.get('content-length'), '5000');
  t.deepEqual(Buffer.from(await get.arrayBuffer()), data);

  const head = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
  t.is(head.status, 200);
  t.is(head.headers.get('content-length'), '5000');
  t.is(head.headers.get('docker-content-digest'), digest);
  t.is((await head.arrayBuffer()).byteLength, 0);
});

test('POST then PUT with the whole body', async (t) => {
  const name = repo();
  const data = randomBytes(1234);
  const digest = await pushBlob(reg.url, name, data);
  t.deepEqual(Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${digest}`)).arrayBuffer()), data);
});

test('a monolithic upload whose digest does not match is refused and leaves nothing visible', async (t) => {
  const name = repo();
  const data = randomBytes(100);
  const wrong = sha256(randomBytes(100));
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: data });
  t.is(res.status, 400);
  t.is(await errorCode(res), 'DIGEST_INVALID');
  t.is((await fetch(`${reg.url}/v2/${name}/blobs/${wrong}`, { method: 'HEAD' })).status, 404);
  t.is((await fetch(`${reg.url}/v2/${name}/blobs/${sha256(data)}`, { method: 'HEAD' })).status, 404);
});

test('sha512 blobs upload and download by their sha512 digest', async (t) => {
  const name = repo();
  const data = randomBytes(3000);
  const digest = sha512(data);
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
  t.is(res.status, 201);
  const get = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`);
  t.is(get.headers.get('docker-content-digest'), digest);
  t.deepEqual(Buffer.from(await get.arrayBuffer()), data);
});

test('Range requests: 206 with Content-Range, suffix and open ranges, clamped ends', async (t) => {
  const name = repo();
  const data = randomBytes(1000);
  const digest = await pushBlob(reg.url, name, data);
  const url = `${reg.url}/v2/${name}/blobs/${digest}`;
  const cases: [string, number, number][] = [
    ['bytes=0-9', 0, 9],
    ['bytes=990-', 990, 999],
    ['bytes=-10', 990, 999],
    ['bytes=500-5000', 500, 999],
    ['bytes=-5000', 0, 999],
  ];
  for (const [range, start, end] of cases) {
    const res = await fetch(url, { headers: { Range: range } });
    t.is(res.status, 206, range);
    t.is(res.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
    t.is(res.headers.get('content-length'), String(end - start + 1), range);
    t.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(start, end + 1), range);
  }
});

test('unsatisfiable and malformed ranges are 416 with the blob size', async (t) => {
  const name = repo();
  const digest = await pushBlob(reg.url, name, randomBytes(100));
  for (const range of ['bytes=100-', 'bytes=200-300', 'bytes=50-10', 'bytes=abc', 'bytes=-0', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-']) {
    const res = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { headers: { Range: range } });
    t.is(res.status, 416, range);
    t.is(res.headers.get('content-range'), 'bytes */100', range);
    t.is(await errorCode(res), 'SIZE_INVALID', range);
  }
});

test('blobs are scoped to the repository that holds them', async (t) => {
  const a = repo();
  const b = repo();
  const digest = await pushBlob(reg.url, a, randomBytes(10));
  await pushBlob(reg.url, b, randomBytes(10));
  const res = await fetch(`${reg.url}/v2/${b}/blobs/${digest}`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'BLOB_UNKNOWN');
});

test('unknown blob, unknown repository, invalid digest and invalid name', async (t) => {
  const name = repo();
  await pushBlob(reg.url, name, randomBytes(10));
  const unknown = sha256(randomBytes(10));
  let res = await fetch(`${reg.url}/v2/${name}/blobs/${unknown}`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'BLOB_UNKNOWN');
  res = await fetch(`${reg.url}/v2/no/such/repo/blobs/${unknown}`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
  for (const bad of ['sha256:abc', 'sha256:' + 'G'.repeat(64), 'md5:' + 'a'.repeat(32), 'sha256' + 'a'.repeat(64), 'sha512:' + 'a'.repeat(64)]) {
    res = await fetch(`${reg.url}/v2/${name}/blobs/${bad}`);
    t.is(res.status, 400, bad);
    t.is(await errorCode(res), 'DIGEST_INVALID', bad);
  }
  res = await fetch(`${reg.url}/v2/Bad_Name/blobs/${unknown}`);
  t.is(res.status, 400);
  t.is(await errorCode(res), 'NAME_INVALID');
});

test('DELETE unlinks a blob from the repository', async (t) => {
  const name = repo();
  const digest = await pushBlob(reg.url, name, randomBytes(10));
  const del = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { method: 'DELETE' });
  t.is(del.status, 202);
  t.is((await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  const again = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { method: 'DELETE' });
  t.is(again.status, 404);
  t.is(await errorCode(again), 'BLOB_UNKNOWN');
});

test('pushing content that is already stored deduplicates and stays readable', async (t) => {
  const data = randomBytes(4096);
  const a = repo();
  const b = repo();
  const digest = await pushBlob(reg.url, a, data);
  await pushBlob(reg.url, b, data);
  for (const name of [a, b]) t.deepEqual(Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${digest}`)).arrayBuffer()), data);
});

test('Location of a finished upload is a pullable URL', async (t) => {
  const name = repo();
  const data = randomBytes(64);
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, { method: 'POST', body: data });
  const get = await fetch(resolveLocation(reg.url, res.headers.get('location')));
  t.deepEqual(Buffer.from(await get.arrayBuffer()), data);
});

test('a storage failure is a 500 with an error body, never a success', async (t) => {
  // The failure is made on the filesystem store, whatever backend the suite runs on.
  const own = await startRegistry({ storage: 'fs', metadata: 'sqlite' });
  t.teardown(() => own.close());
  const { rm, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  // Replace the blob directory with a file: publishing can no longer create its subdirectory.
  await rm(join(own.dataDir, 'blobs'), { recursive: true });
  await writeFile(join(own.dataDir, 'blobs'), 'not a directory');
  const data = randomBytes(100);
  const start = await fetch(`${own.url}/v2/broken/blobs/uploads/`, { method: 'POST' });
  const put = await fetch(`${resolveLocation(own.url, start.headers.get('location'))}?digest=${sha256(data)}`, { method: 'PUT', body: data });
  t.is(put.status, 500);
  t.is(await errorCode(put), 'INTERNAL_ERROR');
  t.is((await fetch(`${own.url}/v2/broken/blobs/${sha256(data)}`, { method: 'HEAD' })).status, 404);
});

test('large blobs stream whole and by ranges that cross the server read buffers', async (t) => {
  const name = repo();
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const digest = await pushBlob(reg.url, name, data);
  const whole = Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${digest}`)).arrayBuffer());
  t.is(sha256(whole), digest);
  const start = 1024 * 1024 - 10;
  const end = 3 * 1024 * 1024 + 10;
  const part = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { headers: { Range: `bytes=${start}-${end}` } });
  t.is(part.status, 206);
  t.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(start, end + 1));
});

test('a client that disconnects mid-download does not disturb the next one', async (t) => {
  const name = repo();
  const data = randomBytes(8 * 1024 * 1024);
  const digest = await pushBlob(reg.url, name, data);
  const controller = new AbortController();
  const res = await fetch(`${reg.url}/v2/${name}/blobs/${digest}`, { signal: controller.signal });
  const reader = res.body?.getReader();
  await reader?.read();
  controller.abort();
  const again = Buffer.from(await (await fetch(`${reg.url}/v2/${name}/blobs/${digest}`)).arrayBuffer());
  t.is(sha256(again), digest);
});
