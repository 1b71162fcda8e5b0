// End to end with a real client and real credentials: skopeo against the built server running
// as its own process. Anonymous pushes are refused; the admin's access key pushes and pulls
// byte-identical; a "reader" principal whose identity policy allows only the pull actions on one
// repository pulls but cannot push; anonymous pulls work only once a repository policy makes the
// repository public (Principal "*").
//
// Needs the built server (npm run build) and skopeo (SKOPEO=/path overrides the one on PATH).
// BERTH_E2E_LOG=info prints the server's request log after the run.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { BerthClient } from '../../registry-server/src/client/client.ts';
import { OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, descriptor, sha256, type Descriptor } from '../support/oci.ts';
import { repoRoot, spawnRegistry, tempDir, type ChildRegistry } from '../support/registry.ts';
import { adminFetch, testAdmin } from '../support/auth.ts';
import { skopeoBin, skopeoRequirement } from '../support/requirements.ts';

const skopeoNeeded = skopeoRequirement();
const e2e = skopeoNeeded.serial;
const requireSkopeo = (): void => skopeoNeeded.check();

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let work: string | undefined;

/**
 * Runs skopeo and reports the exit code instead of throwing (refusals are what half of these
 * tests expect). HOME, DOCKER_CONFIG and REGISTRY_AUTH_FILE point into the test's own directory,
 * so no credentials stored on this machine (docker login, podman login) can leak into a run.
 */
async function skopeoRun(t: ExecutionContext, args: string[], timeoutMs = 60_000): Promise<Result> {
  requireSkopeo();
  if (!work) throw new Error('fixture not set up');
  const full = ['--insecure-policy', ...args];
  const env = { ...process.env, LC_ALL: 'C', HOME: join(work, 'home'), DOCKER_CONFIG: join(work, 'home', '.docker'), REGISTRY_AUTH_FILE: join(work, 'home', 'auth.json'), XDG_RUNTIME_DIR: join(work, 'home', 'run') };
  return new Promise((resolve) => {
    execFile(skopeoBin, full, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      // Secrets stay out of the test log.
      t.log(`$ skopeo ${args.map((a, i) => (/^--(src-|dest-)?creds$/.test(args[i - 1] ?? '') ? `${a.split(':')[0]}:***` : a)).join(' ')} → exit ${code}`);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like skopeoRun, but a non-zero exit fails with everything skopeo said. */
async function skopeoOk(t: ExecutionContext, args: string[], timeoutMs?: number): Promise<Result> {
  const r = await skopeoRun(t, args, timeoutMs);
  if (r.code !== 0) throw new Error(`skopeo ${args[0]} failed (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// A small single-platform image written as an OCI layout (one gzip'd ustar layer, a config, a
// manifest), built here with no network.
// ---------------------------------------------------------------------------------------------

function ustar(files: { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    const octal = (v: number, off: number, len: number) => h.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'ascii');
    octal(0o644, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(f.data.byteLength, 124, 12);
    octal(1_700_000_000, 136, 12);
    h.fill(0x20, 148, 156);
    h.write('0', 156, 1, 'ascii');
    h.write('ustar\0', 257, 6, 'ascii');
    h.write('00', 263, 2, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    parts.push(h, f.data, Buffer.alloc((512 - (f.data.byteLength % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

interface Layout {
  readonly dir: string;
  readonly tag: string;
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  readonly blobs: Map<string, Buffer>;
}

async function writeLayout(dir: string, tag: string): Promise<Layout> {
  const tarball = ustar([
    { name: 'etc/berth-auth.conf', data: Buffer.from('auth=e2e\n') },
    // Random bytes: each run's image is new to the registry.
    { name: 'usr/share/berth-auth.bin', data: randomBytes(48 * 1024) },
  ]);
  const layer = gzipSync(tarball);
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tarball)] },
    }),
  );
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(OCI_CONFIG, config), layers: [descriptor(OCI_LAYER, layer)] }));
  const manifestDigest = sha256(manifest);
  const blobs = new Map<string, Buffer>([
    [sha256(layer), layer],
    [sha256(config), config],
    [manifestDigest, manifest],
  ]);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, bytes] of blobs) await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const entry: Descriptor = { ...descriptor(OCI_MANIFEST, manifest), annotations: { 'org.opencontainers.image.ref.name': tag } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }));
  return { dir, tag, manifest, manifestDigest, blobs };
}

/** The manifest a pulled layout's index.json points at, and its bytes. */
async function pulledManifest(dir: string): Promise<{ digest: string; bytes: Buffer }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const digest = index.manifests[0]?.digest;
  if (!digest) throw new Error(`no manifest in ${dir}/index.json`);
  return { digest, bytes: await readFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length))) };
}

// ---------------------------------------------------------------------------------------------
// Shared fixture
// ---------------------------------------------------------------------------------------------

const repo = 'e2e/auth/app';
const repoArn = `arn:berth:ecr:local:000000000000:repository/${repo}`;
const pullActions = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'];
const admin = `${testAdmin.accessKeyId}:${testAdmin.secretAccessKey}`;
// What skopeo (containers/image) prints when the registry turns it away: 401 and 403 wordings.
const refused = /unauthorized|authentication required|denied|forbidden|\b401\b|\b403\b/i;

let reg: ChildRegistry | undefined;
let api: BerthClient | undefined;
let image: Layout | undefined;
let reader: string | undefined;

function fixture(): { reg: ChildRegistry; api: BerthClient; image: Layout; work: string } {
  requireSkopeo();
  if (!reg || !api || !image || !work) throw new Error('fixture not set up (see the before hook)');
  return { reg, api, image, work };
}

function dest(r: ChildRegistry, tag: string): string {
  return `docker://${r.host}/${repo}:${tag}`;
}

async function manifestStatus(r: ChildRegistry, tag: string): Promise<number> {
  return (await adminFetch(`${r.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: OCI_MANIFEST } })).status;
}

test.before(async () => {
  if (skopeoNeeded.skipped) return;
  const main = join(repoRoot, 'registry-server', 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build the server first (npm run build, or make build)`);
  work = await tempDir('berth-skopeo-auth-');
  await mkdir(join(work, 'home', 'run'), { recursive: true, mode: 0o700 });
  image = await writeLayout(join(work, 'src'), 'v1');
  reg = await spawnRegistry({ dataDir: join(work, 'data'), args: ['--log-level', process.env.BERTH_E2E_LOG ?? 'warn'] });
  api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
});

test.after.always(async () => {
  if (reg && process.env.BERTH_E2E_LOG) console.log(reg.output());
  if (reg && reg.child.exitCode === null && reg.child.signalCode === null) await reg.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

e2e('without credentials, skopeo copy to the registry is refused and nothing is stored', async (t) => {
  const { reg: r, image: img } = fixture();
  const base = await fetch(`${r.url}/v2/`);
  t.is(base.status, 401);
  t.is(base.headers.get('www-authenticate'), `Bearer realm="http://${r.host}/token",service="berth:000000000000"`);

  const push = await skopeoRun(t, ['copy', '--dest-tls-verify=false', `oci:${img.dir}:${img.tag}`, dest(r, 'anon')], 120_000);
  t.not(push.code, 0, `an anonymous push succeeded:\n${push.stdout}\n${push.stderr}`);
  t.regex(push.stderr, refused, `skopeo should say it was refused; it said:\n${push.stderr}`);
  t.is(await manifestStatus(r, 'anon'), 404, 'the refused push left a manifest behind');
});

e2e("with the admin's access key (--dest-creds) skopeo pushes; --creds / --src-creds pull back byte-identical", async (t) => {
  const { reg: r, image: img, work: dir } = fixture();
  await skopeoOk(t, ['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', admin, `oci:${img.dir}:${img.tag}`, dest(r, 'v1')], 120_000);
  const res = await adminFetch(`${r.url}/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
  t.is(res.status, 200);
  t.is(res.headers.get('docker-content-digest'), img.manifestDigest);
  t.true(Buffer.from(await res.arrayBuffer()).equals(img.manifest), 'the stored manifest differs from the pushed one');

  const inspected = JSON.parse((await skopeoOk(t, ['inspect', '--tls-verify=false', '--creds', admin, dest(r, 'v1')])).stdout) as { Digest: string; Layers: string[] };
  t.is(inspected.Digest, img.manifestDigest);
  const raw = await skopeoOk(t, ['inspect', '--raw', '--tls-verify=false', '--creds', admin, dest(r, 'v1')]);
  t.true(Buffer.from(raw.stdout).equals(img.manifest), 'skopeo inspect --raw differs from the pushed manifest');

  const out = join(dir, 'pulled-admin');
  await skopeoOk(t, ['copy', '--preserve-digests', '--src-tls-verify=false', '--src-creds', admin, dest(r, 'v1'), `oci:${out}:v1`], 120_000);
  const pulled = await pulledManifest(out);
  t.is(pulled.digest, img.manifestDigest);
  t.true(pulled.bytes.equals(img.manifest));
  for (const [digest, bytes] of img.blobs) {
    const got = await readFile(join(out, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    t.true(got.equals(bytes), `${digest} differs after the round trip`);
  }
});

e2e('a "reader" principal allowed only the pull actions on the repository pulls with skopeo but cannot push', async (t) => {
  const { reg: r, api: client, image: img, work: dir } = fixture();
  await client.principals.create({ principalName: 'reader', type: 'SERVICE_ACCOUNT', description: 'skopeo e2e: pull only' });
  await client.identityPolicies.update(
    { principalName: 'reader', policyName: 'pull-only' },
    { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'PullOnly', Effect: 'Allow', Action: pullActions, Resource: repoArn }] }) },
  );
  const key = await client.accessKeys.create({ principalName: 'reader' });
  if (!key.secretAccessKey) throw new Error('accessKeys.create returned no secretAccessKey');
  reader = `${key.accessKeyId}:${key.secretAccessKey}`;

  const inspected = JSON.parse((await skopeoOk(t, ['inspect', '--tls-verify=false', '--creds', reader, dest(r, 'v1')])).stdout) as { Digest: string };
  t.is(inspected.Digest, img.manifestDigest);
  const out = join(dir, 'pulled-reader');
  await skopeoOk(t, ['copy', '--preserve-digests', '--src-tls-verify=false', '--src-creds', reader, dest(r, 'v1'), `oci:${out}:v1`], 120_000);
  t.is((await pulledManifest(out)).digest, img.manifestDigest);

  // Every blob exists already: only the manifest PUT (ecr:PutImage) is new, and it is refused.
  const push = await skopeoRun(t, ['copy', '--dest-tls-verify=false', '--dest-creds', reader, `oci:${img.dir}:${img.tag}`, dest(r, 'by-reader')], 120_000);
  t.not(push.code, 0, `the reader pushed:\n${push.stdout}\n${push.stderr}`);
  t.regex(push.stderr, refused, `skopeo should say it was refused; it said:\n${push.stderr}`);
  t.is(await manifestStatus(r, 'by-reader'), 404, "the reader's refused push left a tag behind");

  // Nor into another repository, where its policy grants nothing at all.
  const other = await skopeoRun(t, ['copy', '--dest-tls-verify=false', '--dest-creds', reader, `oci:${img.dir}:${img.tag}`, `docker://${r.host}/e2e/auth/other:v1`], 120_000);
  t.not(other.code, 0, `the reader pushed to another repository:\n${other.stderr}`);
  t.regex(other.stderr, refused);
});

e2e('anonymous pulls fail until a repository policy allows Principal "*" the pull actions; then skopeo pulls without credentials', async (t) => {
  const { reg: r, api: client, image: img, work: dir } = fixture();
  const before = await skopeoRun(t, ['inspect', '--tls-verify=false', '--no-creds', dest(r, 'v1')]);
  t.not(before.code, 0, `an anonymous inspect of a private repository succeeded:\n${before.stdout}`);
  t.regex(before.stderr, refused, `skopeo should say it was refused; it said:\n${before.stderr}`);
  const beforeCopy = await skopeoRun(t, ['copy', '--src-tls-verify=false', '--src-no-creds', dest(r, 'v1'), `oci:${join(dir, 'anon-before')}:v1`], 120_000);
  t.not(beforeCopy.code, 0, 'an anonymous copy of a private repository succeeded');

  await client.repositoryPolicies.update(
    { repositoryName: repo },
    { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'PublicPull', Effect: 'Allow', Principal: '*', Action: pullActions }] }) },
  );

  // --raw: the manifest only (plain inspect also lists tags, covered by the next test).
  const raw = await skopeoOk(t, ['inspect', '--raw', '--tls-verify=false', '--no-creds', dest(r, 'v1')]);
  t.true(Buffer.from(raw.stdout).equals(img.manifest), 'anonymous inspect --raw differs from the pushed manifest');
  const out = join(dir, 'pulled-anon');
  await skopeoOk(t, ['copy', '--preserve-digests', '--src-tls-verify=false', '--src-no-creds', dest(r, 'v1'), `oci:${out}:v1`], 120_000);
  const pulled = await pulledManifest(out);
  t.is(pulled.digest, img.manifestDigest);
  t.true(pulled.bytes.equals(img.manifest));

  // Public means pull only: an anonymous push is still refused.
  const push = await skopeoRun(t, ['copy', '--dest-tls-verify=false', '--dest-no-creds', `oci:${img.dir}:${img.tag}`, dest(r, 'anon-public')], 120_000);
  t.not(push.code, 0, `an anonymous push to the public repository succeeded:\n${push.stderr}`);
  t.regex(push.stderr, refused);
  t.is(await manifestStatus(r, 'anon-public'), 404);
  // And other repositories stay private.
  const other = await skopeoRun(t, ['inspect', '--tls-verify=false', '--no-creds', `docker://${r.host}/e2e/auth/private:v1`]);
  t.not(other.code, 0);
});

e2e('skopeo inspect --no-creds (which also lists tags) works on the public repository', async (t) => {
  const { reg: r, image: img } = fixture();
  // Runs after the repository policy above made the repository public for pulls only. Listing
  // tags is ecr:ListImages, which the policy does not grant: skopeo tolerates a 403 DENIED there
  // (as it gets for the reader principal) but gives up on a 401.
  const res = await skopeoRun(t, ['inspect', '--tls-verify=false', '--no-creds', dest(r, 'v1')]);
  t.is(
    res.code,
    0,
    'SERVER BUG: on a public (pull-only) repository, GET /v2/<name>/tags/list with an anonymous pull token answers ' +
      '401 UNAUTHORIZED "authentication required" (challenging for the very scope the token holds) instead of 403 DENIED, ' +
      `so skopeo inspect --no-creds fails. skopeo said:\n${res.stderr}`,
  );
  if (res.code === 0) t.is((JSON.parse(res.stdout) as { Digest: string }).Digest, img.manifestDigest);
});
