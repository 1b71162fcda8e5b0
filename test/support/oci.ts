// Small helpers that speak the distribution API over real HTTP (fetch), for tests and benchmarks.
import { createHash, randomBytes } from 'node:crypto';
import { adminFetch as fetch } from './auth.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [k: string]: unknown;
}

export function descriptor(mediaType: string, data: Uint8Array, extra: Record<string, unknown> = {}): Descriptor {
  return { mediaType, digest: sha256(data), size: data.byteLength, ...extra };
}

/** Resolves a Location header (relative or absolute) against the registry URL. */
export function resolveLocation(base: string, location: string | null): string {
  if (!location) throw new Error('response has no Location header');
  return new URL(location, base).toString();
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.toString();
}

export async function expectStatus(res: Response, status: number, what: string): Promise<Response> {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${await res.text()}`);
  return res;
}

/** Uploads a blob with POST then PUT (the flow every client supports). */
export async function pushBlob(base: string, name: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  const start = await expectStatus(await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' }), 202, 'start upload');
  const put = await fetch(withQuery(resolveLocation(base, start.headers.get('location')), { digest }), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: data,
  });
  await expectStatus(put, 201, 'finish upload');
  return digest;
}

export async function putManifest(base: string, name: string, reference: string, body: Uint8Array | string, mediaType: string): Promise<Response> {
  return fetch(`${base}/v2/${name}/manifests/${reference}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body });
}

export interface TestImage {
  readonly config: Uint8Array;
  readonly layers: Uint8Array[];
  readonly manifest: Uint8Array;
  readonly digest: string;
}

/** Builds an OCI image of random layers (not pushed). */
export function makeImage(options: { layers?: number; layerSize?: number; platform?: { architecture: string; os: string } } = {}): TestImage {
  const layers = Array.from({ length: options.layers ?? 2 }, () => randomBytes(options.layerSize ?? 1024));
  const platform = options.platform ?? { architecture: 'amd64', os: 'linux' };
  const config = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, config),
      layers: layers.map((l) => descriptor(OCI_LAYER, l)),
    }),
  );
  return { config, layers, manifest, digest: sha256(manifest) };
}

/** Pushes an image's blobs and manifest; returns the manifest digest. */
export async function pushImage(base: string, name: string, reference: string, image: TestImage = makeImage()): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(base, name, blob);
  await expectStatus(await putManifest(base, name, reference, image.manifest, OCI_MANIFEST), 201, 'put manifest');
  return image.digest;
}

export async function errorCode(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}
