// End to end with a real client: skopeo pushes a multi-layer, multi-architecture image (an OCI
// image index over linux/amd64 and linux/arm64 manifests, built here on disk with no network)
// to the built server running as its own process, pulls it back byte for byte, lists tags,
// inspects and deletes it.
//
// Needs the built server (npm run build) and skopeo (SKOPEO=/path overrides the one on PATH).
// BERTH_E2E_LOG=info prints the server's request log after the run.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, descriptor, errorCode, sha256, type Descriptor } from '../support/oci.ts';
import { repoRoot, spawnRegistry, tempDir, type ChildRegistry } from '../support/registry.ts';
import { skopeoBin, skopeoRequirement } from '../support/requirements.ts';
import { adminFetch as fetch, testAdmin } from '../support/auth.ts';

const skopeoNeeded = skopeoRequirement();
const e2e = skopeoNeeded.serial;
const requireSkopeo = (): void => skopeoNeeded.check();

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs skopeo asynchronously (the registry is another process, but never block the event loop). */
async function skopeo(t: ExecutionContext, args: string[], timeoutMs = 60_000): Promise<Run> {
  requireSkopeo();
  // --insecure-policy: independent of /etc/containers/policy.json being present.
  // Every registry operation signs in as the test admin (the registry refuses anonymous pushes).
  const creds = `${testAdmin.accessKeyId}:${testAdmin.secretAccessKey}`;
  const signIn: Record<string, string> = { '--dest-tls-verify=false': '--dest-creds', '--src-tls-verify=false': '--src-creds', '--tls-verify=false': '--creds' };
  const full = ['--insecure-policy', ...args.flatMap((a) => (signIn[a] ? [a, signIn[a], creds] : [a]))];
  return new Promise((resolve, reject) => {
    execFile(skopeoBin, full, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`skopeo ${full.join(' ')} failed: ${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      t.log(`$ skopeo ${args.join(' ')}`);
      resolve({ stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Building the image: ustar archives written by hand, gzip, configs, manifests, an index and an
// OCI image layout directory (oci-layout, index.json, blobs/sha256/<hex>).
// ---------------------------------------------------------------------------------------------

interface TarEntry {
  readonly name: string;
  /** Absent for a directory. */
  readonly data?: Uint8Array;
  readonly mode?: number;
}

function octal(header: Buffer, value: number, offset: number, length: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

function tarHeader(entry: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  const dir = entry.data === undefined;
  const name = dir && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  h.write(name, 0, 100, 'utf8');
  octal(h, entry.mode ?? (dir ? 0o755 : 0o644), 100, 8);
  octal(h, 0, 108, 8); // uid
  octal(h, 0, 116, 8); // gid
  octal(h, entry.data?.byteLength ?? 0, 124, 12);
  octal(h, 1_700_000_000, 136, 12); // mtime
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write(dir ? '5' : '0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A POSIX ustar archive: header + data padded to 512 bytes per entry, then two zero blocks. */
function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.data !== undefined && e.data.byteLength > 0) {
      parts.push(Buffer.from(e.data));
      const pad = (512 - (e.data.byteLength % 512)) % 512;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

interface Blob {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
}

function blob(mediaType: string, bytes: Buffer, extra: Record<string, unknown> = {}): Blob {
  return { descriptor: descriptor(mediaType, bytes, extra), bytes };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

interface PlatformImage {
  readonly architecture: string;
  readonly layers: Blob[];
  /** The uncompressed tars, for diff_ids and to check the archives with tar(1). */
  readonly tars: Buffer[];
  readonly config: Blob;
  readonly manifest: Blob;
}

function platformImage(architecture: string, layerCount: number): PlatformImage {
  const tars: Buffer[] = [];
  for (let i = 0; i < layerCount; i++) {
    const entries: TarEntry[] = [
      { name: 'etc' },
      { name: `etc/berth-${architecture}-${i}.conf`, data: Buffer.from(`layer=${i}\narch=${architecture}\n`) },
      { name: 'usr' },
      { name: 'usr/share' },
      { name: `usr/share/berth-${i}` },
      // Random bytes do not compress: the layers stay large enough to take several TCP writes.
      { name: `usr/share/berth-${i}/data.bin`, data: randomBytes(64 * 1024 + i * 100_003) },
      { name: `usr/share/berth-${i}/run.sh`, data: Buffer.from('#!/bin/sh\necho berth\n'), mode: 0o755 },
    ];
    tars.push(tar(entries));
  }
  const layers = tars.map((t) => blob(OCI_LAYER, gzipSync(t)));
  const config = blob(
    OCI_CONFIG,
    json({
      created: '2024-01-01T00:00:00Z',
      architecture,
      os: 'linux',
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/usr/share/berth-0/run.sh'] },
      rootfs: { type: 'layers', diff_ids: tars.map((t) => sha256(t)) },
      history: tars.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `berth e2e layer ${i}` })),
    }),
  );
  const manifest = blob(
    OCI_MANIFEST,
    json({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: config.descriptor,
      layers: layers.map((l) => l.descriptor),
      annotations: { 'org.opencontainers.image.title': `berth-e2e-${architecture}` },
    }),
    { platform: { architecture, os: 'linux' } },
  );
  return { architecture, layers, tars, config, manifest };
}

interface LayoutImage {
  readonly dir: string;
  readonly tag: string;
  readonly index: Blob;
  readonly images: PlatformImage[];
  /** Every blob of the layout by digest: index, manifests, configs, layers. */
  readonly blobs: Map<string, Buffer>;
}

async function writeLayout(dir: string, tag: string): Promise<LayoutImage> {
  const images = [platformImage('amd64', 3), platformImage('arm64', 2)];
  const index = blob(
    OCI_INDEX,
    json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: images.map((i) => i.manifest.descriptor),
      annotations: { 'org.opencontainers.image.description': 'berth skopeo e2e' },
    }),
  );
  const blobs = new Map<string, Buffer>();
  for (const b of [index, ...images.flatMap((i) => [i.manifest, i.config, ...i.layers])]) blobs.set(b.descriptor.digest, b.bytes);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, bytes] of blobs) await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    json({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ ...index.descriptor, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return { dir, tag, index, images, blobs };
}

/** Every file under blobs/sha256 of a layout, by digest. */
async function readLayoutBlobs(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const root = join(dir, 'blobs', 'sha256');
  for (const name of await readdir(root)) out.set(`sha256:${name}`, await readFile(join(root, name)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared fixture: one registry process and one image for the serial tests below.
// ---------------------------------------------------------------------------------------------

const repo = 'e2e/skopeo/multiarch';
const tag = 'v1.0';
const tag2 = 'stable';
let reg: ChildRegistry | undefined;
let work: string | undefined;
let image: LayoutImage | undefined;

function fixture(): { reg: ChildRegistry; work: string; image: LayoutImage } {
  requireSkopeo();
  if (!reg || !work || !image) throw new Error('fixture not set up (see the before hook)');
  return { reg, work, image };
}

function ref(r: ChildRegistry, reference: string, name = repo): string {
  return reference.startsWith('sha256:') ? `docker://${r.host}/${name}@${reference}` : `docker://${r.host}/${name}:${reference}`;
}

async function httpManifest(r: ChildRegistry, reference: string, name = repo): Promise<Response> {
  return fetch(`${r.url}/v2/${name}/manifests/${reference}`, {
    headers: { Accept: [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(', ') },
  });
}

test.before(async () => {
  if (skopeoNeeded.skipped) return;
  const main = join(repoRoot, 'registry-server', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build the server first (npm run build, or make build)`);
  work = await tempDir('berth-skopeo-');
  image = await writeLayout(join(work, 'src'), tag);
  reg = await spawnRegistry({ dataDir: join(work, 'data'), args: ['--log-level', process.env.BERTH_E2E_LOG ?? 'warn'] });
});

test.after.always(async () => {
  if (reg && process.env.BERTH_E2E_LOG) console.log(reg.output());
  if (reg && reg.child.exitCode === null && reg.child.signalCode === null) await reg.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

e2e('the locally built image is well formed (tar(1) lists every layer; diff_ids match)', async (t) => {
  requireSkopeo();
  const { image: img, work: dir } = fixture();
  for (const p of img.images) {
    const config = JSON.parse(p.config.bytes.toString()) as { rootfs: { diff_ids: string[] } };
    t.deepEqual(config.rootfs.diff_ids, p.tars.map((x) => sha256(x)));
    for (const [i, layer] of p.layers.entries()) {
      const file = join(dir, `layer-${p.architecture}-${i}.tar.gz`);
      await writeFile(file, layer.bytes);
      const listed = spawnSync('tar', ['-tzvf', file], { encoding: 'utf8' });
      if (listed.error) {
        t.log(`tar(1) unavailable (${listed.error.message}); archive listing not checked`);
        continue;
      }
      t.is(listed.status, 0, listed.stderr);
      t.regex(listed.stdout, new RegExp(`etc/berth-${p.architecture}-${i}\\.conf`));
      t.regex(listed.stdout, /-rwxr-xr-x root\/root\s+21 .*run\.sh/);
    }
  }
  // skopeo reads the layout as an image index with both platforms.
  const raw = await skopeo(t, ['inspect', '--raw', `oci:${img.dir}:${img.tag}`]);
  t.true(Buffer.from(raw.stdout).equals(img.index.bytes), 'skopeo reads the index bytes from the layout');
});

e2e('skopeo copy --all pushes the multi-arch image; the index is served byte-identical over HTTP', async (t) => {
  const { reg: r, image: img } = fixture();
  await skopeo(t, ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.dir}:${img.tag}`, ref(r, tag)], 120_000);

  const res = await httpManifest(r, tag);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), OCI_INDEX);
  t.is(res.headers.get('docker-content-digest'), img.index.descriptor.digest);
  t.true(Buffer.from(await res.arrayBuffer()).equals(img.index.bytes), 'index bytes differ');

  // Every manifest by digest, and every blob, exactly as pushed.
  for (const p of img.images) {
    const m = await httpManifest(r, p.manifest.descriptor.digest);
    t.is(m.status, 200);
    t.is(m.headers.get('content-type'), OCI_MANIFEST);
    t.true(Buffer.from(await m.arrayBuffer()).equals(p.manifest.bytes), `${p.architecture} manifest bytes differ`);
    for (const b of [p.config, ...p.layers]) {
      const g = await fetch(`${r.url}/v2/${repo}/blobs/${b.descriptor.digest}`);
      t.is(g.status, 200);
      t.true(Buffer.from(await g.arrayBuffer()).equals(b.bytes), `blob ${b.descriptor.digest} differs`);
    }
  }
});

e2e('skopeo copy --all pulls it back into an OCI layout byte-identical: index, manifests, configs, layers', async (t) => {
  const { reg: r, image: img, work: dir } = fixture();
  const dest = join(dir, 'pulled');
  await skopeo(t, ['copy', '--all', '--preserve-digests', '--src-tls-verify=false', ref(r, tag), `oci:${dest}:${tag}`], 120_000);

  const pulled = await readLayoutBlobs(dest);
  t.deepEqual([...pulled.keys()].sort(), [...img.blobs.keys()].sort(), 'the pulled layout holds exactly the pushed blobs');
  for (const [digest, bytes] of img.blobs) {
    const got = pulled.get(digest);
    t.truthy(got, `missing ${digest}`);
    if (got) {
      t.true(got.equals(bytes), `${digest} differs`);
      t.is(sha256(got), digest);
    }
  }
  const index = JSON.parse(await readFile(join(dest, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  t.is(index.manifests.length, 1);
  t.is(index.manifests[0]?.digest, img.index.descriptor.digest);
  t.is(index.manifests[0]?.mediaType, OCI_INDEX);
  t.deepEqual(index.manifests[0]?.annotations, { 'org.opencontainers.image.ref.name': tag });
});

e2e('skopeo list-tags lists both tags after a second tag is pushed', async (t) => {
  const { reg: r, image: img } = fixture();
  // The blobs and manifests exist already: this push only adds a tag.
  await skopeo(t, ['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${img.dir}:${img.tag}`, ref(r, tag2)], 120_000);
  const tagged = await httpManifest(r, tag2);
  t.is(tagged.headers.get('docker-content-digest'), img.index.descriptor.digest);

  const listed = JSON.parse((await skopeo(t, ['list-tags', '--tls-verify=false', `docker://${r.host}/${repo}`])).stdout) as { Repository: string; Tags: string[] };
  t.is(listed.Repository, `${r.host}/${repo}`);
  t.deepEqual([...listed.Tags].sort(), [tag, tag2].sort());
});

e2e('skopeo inspect --raw prints the index bytes; --override-arch arm64 picks the arm64 image', async (t) => {
  const { reg: r, image: img } = fixture();
  const raw = await skopeo(t, ['inspect', '--tls-verify=false', '--raw', ref(r, tag)]);
  t.true(Buffer.from(raw.stdout).equals(img.index.bytes), 'inspect --raw differs from the pushed index');

  const arm = img.images.find((p) => p.architecture === 'arm64');
  const amd = img.images.find((p) => p.architecture === 'amd64');
  if (!arm || !amd) throw new Error('fixture lacks a platform');
  for (const p of [arm, amd]) {
    const out = JSON.parse((await skopeo(t, ['inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', p.architecture, ref(r, tag)])).stdout) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Layers: string[];
      LayersData?: { Digest: string; Size: number; MIMEType: string }[];
    };
    t.is(out.Architecture, p.architecture);
    t.is(out.Os, 'linux');
    t.deepEqual(out.Layers, p.layers.map((l) => l.descriptor.digest));
    // skopeo 1.9 reports the digest of the manifest it resolved the reference to, which for an
    // index is the index (the platform's image is identified by its layers above); later
    // versions may report the platform manifest. Both are the right digest for the image.
    t.true([img.index.descriptor.digest, p.manifest.descriptor.digest].includes(out.Digest), `unexpected digest ${out.Digest}`);
    t.log(`${p.architecture}: skopeo inspect reports Digest ${out.Digest === img.index.descriptor.digest ? 'of the index' : 'of the platform manifest'}`);
  }

  // The platform manifest by digest inspects to exactly that manifest.
  const byDigest = JSON.parse((await skopeo(t, ['inspect', '--tls-verify=false', ref(r, arm.manifest.descriptor.digest)])).stdout) as { Digest: string; Architecture: string };
  t.is(byDigest.Digest, arm.manifest.descriptor.digest);
  t.is(byDigest.Architecture, 'arm64');
  const config = JSON.parse((await skopeo(t, ['inspect', '--tls-verify=false', '--config', '--raw', ref(r, arm.manifest.descriptor.digest)])).stdout) as unknown;
  t.deepEqual(config, JSON.parse(arm.config.bytes.toString()));
});

e2e('skopeo copy --all --format v2s2 converts to a docker manifest list that the registry serves as pushed', async (t) => {
  const { reg: r, image: img } = fixture();
  const name = 'e2e/skopeo/docker';
  await skopeo(t, ['copy', '--all', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${img.dir}:${img.tag}`, ref(r, 'v2s2', name)], 120_000);

  const res = await httpManifest(r, 'v2s2', name);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), DOCKER_LIST);
  const listBytes = Buffer.from(await res.arrayBuffer());
  t.is(res.headers.get('docker-content-digest'), sha256(listBytes));
  const list = JSON.parse(listBytes.toString()) as { mediaType: string; manifests: (Descriptor & { platform: { architecture: string } })[] };
  t.is(list.mediaType, DOCKER_LIST);
  t.deepEqual(list.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64']);
  for (const child of list.manifests) {
    t.is(child.mediaType, DOCKER_MANIFEST);
    const m = await httpManifest(r, child.digest, name);
    t.is(m.status, 200);
    t.is(m.headers.get('content-type'), DOCKER_MANIFEST);
    const bytes = Buffer.from(await m.arrayBuffer());
    t.is(sha256(bytes), child.digest);
    t.is(bytes.byteLength, child.size);
    const manifest = JSON.parse(bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    const source = img.images.find((p) => p.architecture === child.platform.architecture);
    if (!source) throw new Error(`no source image for ${child.platform.architecture}`);
    // The conversion rewrites media types only: the layer blobs are the very same bytes.
    t.deepEqual(manifest.layers.map((l) => l.digest), source.layers.map((l) => l.descriptor.digest));
    t.true(manifest.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
    t.is(manifest.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    const cfg = await fetch(`${r.url}/v2/${name}/blobs/${manifest.config.digest}`);
    t.is(cfg.status, 200);
    const cfgBytes = Buffer.from(await cfg.arrayBuffer());
    t.is(sha256(cfgBytes), manifest.config.digest);
    t.is((JSON.parse(cfgBytes.toString()) as { architecture: string }).architecture, child.platform.architecture);
  }

  // And skopeo pulls the docker list back unchanged.
  const raw = await skopeo(t, ['inspect', '--tls-verify=false', '--raw', ref(r, 'v2s2', name)]);
  t.true(Buffer.from(raw.stdout).equals(listBytes));
});

e2e('skopeo delete by digest removes the manifest: HTTP then answers 404 MANIFEST_UNKNOWN', async (t) => {
  const { reg: r, image: img } = fixture();
  const digest = img.index.descriptor.digest;
  t.is((await httpManifest(r, digest)).status, 200);
  await skopeo(t, ['delete', '--tls-verify=false', ref(r, digest)]);

  const byDigest = await httpManifest(r, digest);
  t.is(byDigest.status, 404);
  t.is(await errorCode(byDigest), 'MANIFEST_UNKNOWN');
  const head = await fetch(`${r.url}/v2/${repo}/manifests/${digest}`, { method: 'HEAD' });
  t.is(head.status, 404);
  // Its tags went with it.
  for (const tg of [tag, tag2]) {
    const byTag = await httpManifest(r, tg);
    t.is(byTag.status, 404);
    t.is(await errorCode(byTag), 'MANIFEST_UNKNOWN');
  }
  const tags = (await (await fetch(`${r.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
  t.deepEqual(tags.tags, []);
  // The platform manifests were pushed on their own and stay until deleted themselves.
  for (const p of img.images) t.is((await httpManifest(r, p.manifest.descriptor.digest)).status, 200);
  // skopeo sees it gone as well.
  await t.throwsAsync(skopeo(t, ['inspect', '--tls-verify=false', '--raw', ref(r, tag)]), { message: /manifest unknown|MANIFEST_UNKNOWN|not found/i });
});
