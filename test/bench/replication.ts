// Replication lag: how long after a push returns the image is complete at another Berth, for one
// large image and for many small ones, beside a plain `skopeo copy` / `skopeo sync` of the same
// amount of content between the same two registries in the same run.
import { createHash } from 'node:crypto';
import { adminAuthorization, testAdmin } from '../support/auth.ts';
import { runCommand, which } from './children.ts';
import { RegistryClient } from './http-client.ts';
import { pool } from './measure.ts';
import { pseudoRandomBuffer, randomBlobs } from './payload.ts';
import type { RunningRegistry } from './servers.ts';

const MiB = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface ReplicationPlan {
  readonly largeBytes: number;
  readonly smallImages: number;
}

export interface ReplicationResult {
  /** Seconds from the push's last response to COMPLETE at the destination. */
  readonly largeLag: number;
  readonly largeSkopeo: number;
  /** Seconds from the last push's response to every image COMPLETE. */
  readonly smallLag: number;
  /** Seconds the pushes themselves took (the images replicate while later ones are pushed). */
  readonly smallPush: number;
  readonly smallSkopeo: number;
  readonly notes: string[];
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

interface Image {
  readonly blobs: { digest: string; data: Buffer }[];
  readonly manifest: Buffer;
  readonly digest: string;
}

function image(layer: Buffer, seed: string): Image {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
  const desc = (mediaType: string, data: Buffer) => ({ mediaType, digest: sha256(data), size: data.length });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc('application/vnd.oci.image.config.v1+json', config), layers: [desc('application/vnd.oci.image.layer.v1.tar', layer)] }),
  );
  return { blobs: [config, layer].map((data) => ({ digest: sha256(data), data })), manifest, digest: sha256(manifest) };
}

async function push(client: RegistryClient, repo: string, tag: string, img: Image): Promise<void> {
  for (const b of img.blobs) await client.pushBlob(repo, b.digest, b.data, b.data.length);
  await client.putManifest(repo, tag, img.manifest, OCI_MANIFEST);
}

async function api(client: RegistryClient, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const res = await client.request(`/api/v1${path}`, {
    method,
    headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {},
    ...(payload ? { body: payload } : {}),
    expect: [200, 201, 204],
  });
  const text = Buffer.from(res.body).toString('utf8');
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** Polls until the image is COMPLETE at every destination; returns when that was seen. */
async function complete(client: RegistryClient, repo: string, digest: string): Promise<number> {
  for (;;) {
    const r = await api(client, 'GET', `/repositories/${encodeURIComponent(repo)}/images/replication-status?imageDigest=${encodeURIComponent(digest)}`);
    const statuses = (r.json?.replicationStatuses ?? []) as { status: string; failureCode?: string }[];
    if (statuses.length > 0 && statuses.every((s) => s.status === 'COMPLETE')) return performance.now();
    const failed = statuses.find((s) => s.status === 'FAILED');
    if (failed) throw new Error(`replication of ${repo}@${digest} failed: ${failed.failureCode}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function skopeo(args: readonly string[]): Promise<number> {
  const bin = await which('skopeo');
  if (!bin) throw new Error('skopeo is not installed (apt-get install -y skopeo)');
  const creds = `${testAdmin.accessKeyId}:${testAdmin.secretAccessKey}`;
  const began = performance.now();
  const r = await runCommand(bin, [...args.slice(0, 1), '--src-tls-verify=false', '--dest-tls-verify=false', `--src-creds=${creds}`, `--dest-creds=${creds}`, ...args.slice(1)], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return (performance.now() - began) / 1000;
}

/**
 * `start` starts a Berth and returns it (the bench's own starter, so the servers are built and
 * cleaned up like the others). Source replicates repositories under bench/replicated/ to dest.
 */
export async function replicationLag(plan: ReplicationPlan, start: () => Promise<RunningRegistry>, progress: (m: string) => void): Promise<ReplicationResult> {
  const dest = await start();
  const source = await start();
  const src = new RegistryClient(source.url, { maxSockets: 32, authorization: adminAuthorization });
  const notes: string[] = [];
  try {
    const host = (r: RunningRegistry) => new URL(r.url).host;
    const set = await api(src, 'PUT', '/registry/replication-configuration', {
      rules: [{ destinations: [{ endpoint: dest.url, username: testAdmin.accessKeyId, password: testAdmin.secretAccessKey }], repositoryFilters: [{ filter: 'bench/replicated/', filterType: 'PREFIX_MATCH' }] }],
    });
    if (set.status !== 200) throw new Error(`replication configuration: ${set.status} ${JSON.stringify(set.json)}`);

    // One large image: lag after the push, then skopeo copying an image of the same size
    // (distinct content, so the destination cannot deduplicate it) between the same registries.
    const large = image(pseudoRandomBuffer(plan.largeBytes, 'replication-large'), 'large');
    await push(src, 'bench/replicated/large', 'v1', large);
    const pushed = performance.now();
    const largeLag = ((await complete(src, 'bench/replicated/large', large.digest)) - pushed) / 1000;
    const twin = image(pseudoRandomBuffer(plan.largeBytes, 'replication-large-skopeo'), 'large-skopeo');
    await push(src, 'bench/plain/large', 'v1', twin);
    const largeSkopeo = await skopeo(['copy', `docker://${host(source)}/bench/plain/large:v1`, `docker://${host(dest)}/bench/skopeo/large:v1`]);
    progress(`replication: ${plan.largeBytes / MiB} MiB image complete ${largeLag.toFixed(2)} s after its push; skopeo copy ${largeSkopeo.toFixed(2)} s`);

    // Many small images, pushed 16 at a time; they replicate while later ones are being pushed.
    const smalls = randomBlobs(plan.smallImages, 1024, 4096).map((b, i) => image(b.data as Buffer, `small-${i}`));
    const began = performance.now();
    await pool(smalls.length, 16, async (i) => push(src, 'bench/replicated/small', `t${i}`, smalls[i] as Image));
    const lastPush = performance.now();
    let done = lastPush;
    // Watched 16 at a time, so checking a thousand statuses does not itself add to the lag.
    await pool(smalls.length, 16, async (i) => {
      done = Math.max(done, await complete(src, 'bench/replicated/small', (smalls[i] as Image).digest));
    });
    const smallLag = (done - lastPush) / 1000;
    const smallPush = (lastPush - began) / 1000;
    const twins = randomBlobs(plan.smallImages, 1024, 4096).map((b, i) => image(b.data as Buffer, `small-skopeo-${i}`));
    await pool(twins.length, 16, async (i) => push(src, 'bench/plain/small', `t${i}`, twins[i] as Image));
    const smallSkopeo = await skopeo(['sync', '--src', 'docker', '--dest', 'docker', `${host(source)}/bench/plain/small`, `${host(dest)}/bench/skopeo`]);
    progress(`replication: ${plan.smallImages} small images pushed in ${smallPush.toFixed(2)} s, all complete ${smallLag.toFixed(2)} s after the last push; skopeo sync ${smallSkopeo.toFixed(2)} s`);
    notes.push(
      `large image: ${plan.largeBytes / MiB} MiB layer; lag = last push response to COMPLETE in the source's replication status (polled every 10 ms)`,
      `small images: ${plan.smallImages} images of one 1-4 KiB layer, pushed with 16 in flight in ${smallPush.toFixed(2)} s (${(plan.smallImages / smallPush).toFixed(0)} images/s); Berth replicates 8 at a time`,
      'skopeo copies the same amount of distinct content between the same two Berths (copy for the large image, sync of one repository for the small ones)',
    );
    return { largeLag, largeSkopeo, smallLag, smallPush, smallSkopeo, notes };
  } finally {
    src.close();
    await source.stop();
    await dest.stop();
  }
}
