import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  descriptor,
  errorCode,
  makeImage,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
  sha512,
} from '../../../test/support/oci.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';

let reg: RunningRegistry;
test.before(async () => {
  reg = await startRegistry();
});
test.after.always(async () => reg.close());

let n = 0;
const repo = (): string => `manifests/r${n++}`;

async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

test('push an image; GET by tag and by digest returns the exact bytes with its media type', async (t) => {
  const name = repo();
  const image = makeImage();
  const digest = await pushImage(reg.url, name, 'v1', image);
  for (const ref of ['v1', digest]) {
    const res = await fetch(`${reg.url}/v2/${name}/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), OCI_MANIFEST);
    t.is(res.headers.get('docker-content-digest'), digest);
    t.deepEqual(await bytes(res), Buffer.from(image.manifest));
    const head = await fetch(`${reg.url}/v2/${name}/manifests/${ref}`, { method: 'HEAD' });
    t.is(head.status, 200);
    t.is(head.headers.get('content-length'), String(image.manifest.byteLength));
    t.is(head.headers.get('docker-content-digest'), digest);
  }
});

test('PUT answers 201 with Location and Docker-Content-Digest', async (t) => {
  const name = repo();
  const image = makeImage();
  for (const b of [image.config, ...image.layers]) await pushBlob(reg.url, name, b);
  const res = await putManifest(reg.url, name, 'latest', image.manifest, OCI_MANIFEST);
  t.is(res.status, 201);
  t.is(res.headers.get('location'), `/v2/${name}/manifests/${image.digest}`);
  t.is(res.headers.get('docker-content-digest'), image.digest);
});

test('manifests are stored byte-exact, whitespace and key order included', async (t) => {
  const name = repo();
  const config = Buffer.from('{}');
  await pushBlob(reg.url, name, config);
  const text = `{\n  "schemaVersion" : 2,\t"config": {"size": 2, "digest": "${sha256(config)}", "mediaType": "${OCI_CONFIG}"},\n"layers": [] , "mediaType": "${OCI_MANIFEST}"  }\n\n`;
  t.is((await putManifest(reg.url, name, 'odd', text, OCI_MANIFEST)).status, 201);
  t.is((await bytes(await fetch(`${reg.url}/v2/${name}/manifests/odd`))).toString(), text);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/odd`)).headers.get('docker-content-digest'), sha256(text));
});

test('PUT by digest, with several ?tag= parameters answered in OCI-Tag', async (t) => {
  const name = repo();
  const image = makeImage();
  for (const b of [image.config, ...image.layers]) await pushBlob(reg.url, name, b);
  const res = await putManifest(reg.url, name, `${image.digest}?tag=1.2.3&tag=1.2&tag=latest`, image.manifest, OCI_MANIFEST);
  t.is(res.status, 201);
  t.is(res.headers.get('oci-tag'), '1.2.3, 1.2, latest');
  for (const tag of ['1.2.3', '1.2', 'latest']) {
    t.is((await fetch(`${reg.url}/v2/${name}/manifests/${tag}`)).headers.get('docker-content-digest'), image.digest);
  }
});

test('PUT by a digest that does not match the body is DIGEST_INVALID', async (t) => {
  const name = repo();
  const image = makeImage();
  for (const b of [image.config, ...image.layers]) await pushBlob(reg.url, name, b);
  const res = await putManifest(reg.url, name, sha256('other'), image.manifest, OCI_MANIFEST);
  t.is(res.status, 400);
  t.is(await errorCode(res), 'DIGEST_INVALID');
});

test('sha512 manifests: PUT and GET by their sha512 digest', async (t) => {
  const name = repo();
  const image = makeImage();
  for (const b of [image.config, ...image.layers]) await pushBlob(reg.url, name, b);
  const digest = sha512(image.manifest);
  const res = await putManifest(reg.url, name, digest, image.manifest, OCI_MANIFEST);
  t.is(res.status, 201);
  t.is(res.headers.get('docker-content-digest'), digest);
  t.deepEqual(await bytes(await fetch(`${reg.url}/v2/${name}/manifests/${digest}`)), Buffer.from(image.manifest));
});

test('a manifest referencing a missing blob is MANIFEST_BLOB_UNKNOWN, naming it', async (t) => {
  const name = repo();
  const image = makeImage({ layers: 2 });
  await pushBlob(reg.url, name, image.config);
  await pushBlob(reg.url, name, image.layers[0] ?? Buffer.alloc(0));
  const res = await putManifest(reg.url, name, 'v1', image.manifest, OCI_MANIFEST);
  t.is(res.status, 400);
  const body = (await res.json()) as { errors: { code: string; detail: { digests: string[] } }[] };
  t.is(body.errors[0]?.code, 'MANIFEST_BLOB_UNKNOWN');
  t.deepEqual(body.errors[0]?.detail.digests, [sha256(image.layers[1] ?? Buffer.alloc(0))]);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/v1`)).status, 404);
});

test('an index needs its children; with them it is accepted (OCI index and Docker manifest list)', async (t) => {
  const name = repo();
  const amd = makeImage({ platform: { architecture: 'amd64', os: 'linux' } });
  const arm = makeImage({ platform: { architecture: 'arm64', os: 'linux' } });
  await pushImage(reg.url, name, 'amd', amd);
  const index = (mediaType: string, childType: string): string =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: [
        { ...descriptor(childType, amd.manifest), platform: { architecture: 'amd64', os: 'linux' } },
        { ...descriptor(childType, arm.manifest), platform: { architecture: 'arm64', os: 'linux' } },
      ],
    });
  const refused = await putManifest(reg.url, name, 'multi', index(OCI_INDEX, OCI_MANIFEST), OCI_INDEX);
  t.is(refused.status, 400);
  t.is(await errorCode(refused), 'MANIFEST_BLOB_UNKNOWN');
  await pushImage(reg.url, name, 'arm', arm);
  const ok = await putManifest(reg.url, name, 'multi', index(OCI_INDEX, OCI_MANIFEST), OCI_INDEX);
  t.is(ok.status, 201);
  const got = await fetch(`${reg.url}/v2/${name}/manifests/multi`);
  t.is(got.headers.get('content-type'), OCI_INDEX);
  t.is(await (await fetch(`${reg.url}/v2/${name}/manifests/multi`)).text(), index(OCI_INDEX, OCI_MANIFEST));
  const list = await putManifest(reg.url, name, 'multi-docker', index(DOCKER_LIST, OCI_MANIFEST), DOCKER_LIST);
  t.is(list.status, 201);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/multi-docker`)).headers.get('content-type'), DOCKER_LIST);
});

test('Docker schema 2 manifests push and pull', async (t) => {
  const name = repo();
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
  const layer = randomBytes(100);
  await pushBlob(reg.url, name, config);
  await pushBlob(reg.url, name, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: descriptor('application/vnd.docker.container.image.v1+json', config),
    layers: [
      descriptor('application/vnd.docker.image.rootfs.diff.tar.gzip', layer),
      // A foreign layer lives elsewhere and need not be in the registry.
      { ...descriptor('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', randomBytes(10)), urls: ['https://example.invalid/layer'] },
    ],
  });
  t.is((await putManifest(reg.url, name, 'd', manifest, DOCKER_MANIFEST)).status, 201);
  const got = await fetch(`${reg.url}/v2/${name}/manifests/d`);
  t.is(got.headers.get('content-type'), DOCKER_MANIFEST);
  t.is(await got.text(), manifest);
});

test('a subject that does not exist yet is accepted and echoed in OCI-Subject', async (t) => {
  const name = repo();
  const empty = Buffer.from('{}');
  await pushBlob(reg.url, name, empty);
  const subject = sha256('not pushed yet');
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/vnd.example.signature',
    config: descriptor(OCI_EMPTY, empty),
    layers: [descriptor(OCI_EMPTY, empty)],
    subject: { mediaType: OCI_MANIFEST, digest: subject, size: 123 },
  });
  const res = await putManifest(reg.url, name, sha256(manifest), manifest, OCI_MANIFEST);
  t.is(res.status, 201);
  t.is(res.headers.get('oci-subject'), subject);
});

test('manifests over 4 MiB are 413, whether or not Content-Length is known', async (t) => {
  const name = repo();
  const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
  let res = await putManifest(reg.url, name, 'big', big, OCI_MANIFEST);
  t.is(res.status, 413);
  t.is(await errorCode(res), 'SIZE_INVALID');
  res = await fetch(`${reg.url}/v2/${name}/manifests/big`, {
    method: 'PUT',
    headers: { 'Content-Type': OCI_MANIFEST },
    body: new ReadableStream({
      start(c) {
        c.enqueue(big);
        c.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  t.is(res.status, 413);
});

test('invalid manifests are MANIFEST_INVALID with the field at fault', async (t) => {
  const name = repo();
  const config = Buffer.from('{}');
  await pushBlob(reg.url, name, config);
  const good = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [] };
  const cases: [string, string, string | undefined][] = [
    ['not json', OCI_MANIFEST, undefined],
    ['[]', OCI_MANIFEST, undefined],
    [JSON.stringify({ ...good, schemaVersion: 1 }), OCI_MANIFEST, 'schemaVersion'],
    [JSON.stringify(good), OCI_INDEX, 'mediaType'],
    [JSON.stringify({ ...good, mediaType: 'application/x-unknown' }), 'application/x-unknown', 'mediaType'],
    [JSON.stringify({ ...good, config: { ...good.config, digest: 'sha256:zz' } }), OCI_MANIFEST, 'config.digest'],
    [JSON.stringify({ ...good, config: { ...good.config, size: -1 } }), OCI_MANIFEST, 'config.size'],
    [JSON.stringify({ ...good, layers: [{ mediaType: OCI_LAYER }] }), OCI_MANIFEST, 'layers[0].digest'],
    [JSON.stringify({ ...good, layers: 'nope' }), OCI_MANIFEST, 'layers'],
    [JSON.stringify({ ...good, annotations: { a: 1 } }), OCI_MANIFEST, 'annotations'],
    [JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} }), OCI_INDEX, 'manifests'],
  ];
  for (const [body, type, field] of cases) {
    const res = await putManifest(reg.url, name, 'x', body, type);
    t.is(res.status, 400, body.slice(0, 60));
    const err = ((await res.json()) as { errors: { code: string; detail?: { field?: string } }[] }).errors[0];
    t.is(err?.code, 'MANIFEST_INVALID', body.slice(0, 60));
    if (field) t.is(err?.detail?.field, field, body.slice(0, 60));
  }
});

test('invalid tags are refused on every manifest route', async (t) => {
  const name = repo();
  await pushImage(reg.url, name, 'ok');
  for (const tag of ['.dot', '-dash', 'a'.repeat(129), 'bad%20tag']) {
    const get = await fetch(`${reg.url}/v2/${name}/manifests/${tag}`);
    t.is(get.status, 400, tag);
    t.is(await errorCode(get), 'MANIFEST_INVALID', tag);
  }
  const image = makeImage();
  const res = await putManifest(reg.url, name, `${image.digest}?tag=.bad`, image.manifest, OCI_MANIFEST);
  t.is(res.status, 400);
});

test('unknown repository is NAME_UNKNOWN; unknown tag or digest is MANIFEST_UNKNOWN', async (t) => {
  const name = repo();
  await pushImage(reg.url, name, 'v1');
  let res = await fetch(`${reg.url}/v2/nope/nope/manifests/v1`);
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
  for (const ref of ['v2', sha256('nothing')]) {
    res = await fetch(`${reg.url}/v2/${name}/manifests/${ref}`);
    t.is(res.status, 404);
    t.is(await errorCode(res), 'MANIFEST_UNKNOWN');
    t.is((await fetch(`${reg.url}/v2/${name}/manifests/${ref}`, { method: 'HEAD' })).status, 404);
  }
});

test('DELETE by tag removes only the tag; DELETE by digest removes the manifest and its tags', async (t) => {
  const name = repo();
  const digest = await pushImage(reg.url, name, 'a');
  await putManifest(reg.url, name, 'b', (await bytes(await fetch(`${reg.url}/v2/${name}/manifests/a`))), OCI_MANIFEST);
  let res = await fetch(`${reg.url}/v2/${name}/manifests/a`, { method: 'DELETE' });
  t.is(res.status, 202);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/a`)).status, 404);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/${digest}`)).status, 200);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/b`)).status, 200);
  res = await fetch(`${reg.url}/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
  t.is(res.status, 202);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/${digest}`)).status, 404);
  t.is((await fetch(`${reg.url}/v2/${name}/manifests/b`)).status, 404);
  for (const ref of ['a', digest]) {
    res = await fetch(`${reg.url}/v2/${name}/manifests/${ref}`, { method: 'DELETE' });
    t.is(res.status, 404);
    t.is(await errorCode(res), 'MANIFEST_UNKNOWN');
  }
  res = await fetch(`${reg.url}/v2/no/repo/manifests/${digest}`, { method: 'DELETE' });
  t.is(res.status, 404);
  t.is(await errorCode(res), 'NAME_UNKNOWN');
});
