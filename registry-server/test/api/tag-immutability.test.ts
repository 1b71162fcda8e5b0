import test from 'ava';
import { BerthClient } from '../../src/client/client.ts';
import { OCI_MANIFEST, errorCode, makeImage, pushBlob, putManifest } from '../../../test/support/oci.ts';
import { startRegistry } from '../../../test/support/registry.ts';
import { sharedRegistry } from '../../../test/support/api.ts';
import { adminFetch as fetch } from '../../../test/support/auth.ts';

const shared = sharedRegistry();

/** Pushes a fresh image's blobs and returns a function that puts its manifest under a tag. */
async function image(name: string): Promise<{ digest: string; put: (tag: string) => Promise<Response> }> {
  const img = makeImage({ layers: 1 });
  for (const b of [img.config, ...img.layers]) await pushBlob(shared.reg.url, name, b);
  return { digest: img.digest, put: (tag) => putManifest(shared.reg.url, name, tag, img.manifest, OCI_MANIFEST) };
}

const cases: { mutability: 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION'; filters?: string[]; movable: string[]; fixed: string[] }[] = [
  { mutability: 'MUTABLE', movable: ['latest', 'v1'], fixed: [] },
  { mutability: 'IMMUTABLE', movable: [], fixed: ['latest', 'v1'] },
  { mutability: 'IMMUTABLE_WITH_EXCLUSION', filters: ['latest', 'dev-*'], movable: ['latest', 'dev-123'], fixed: ['v1', 'prod'] },
  { mutability: 'MUTABLE_WITH_EXCLUSION', filters: ['v*.*'], movable: ['latest', 'edge'], fixed: ['v1.2', 'v10.0'] },
];

for (const c of cases) {
  test(`${c.mutability}${c.filters ? ` (${c.filters.join(', ')})` : ''}: which tags can move`, async (t) => {
    const name = `immutable/${c.mutability.toLowerCase().replaceAll('_', '-')}`;
    await shared.api.repositories.create({
      repositoryName: name,
      imageTagMutability: c.mutability,
      ...(c.filters ? { imageTagMutabilityExclusionFilters: c.filters.map((filter) => ({ filterType: 'WILDCARD' as const, filter })) } : {}),
    });
    const first = await image(name);
    const second = await image(name);
    for (const tag of [...c.movable, ...c.fixed]) t.is((await first.put(tag)).status, 201, `first push of ${tag}`);
    for (const tag of [...c.movable, ...c.fixed]) t.is((await first.put(tag)).status, 201, `the same digest again under ${tag}`);
    for (const tag of c.movable) {
      t.is((await second.put(tag)).status, 201, `${tag} moves`);
      t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${tag}`)).headers.get('docker-content-digest'), second.digest);
    }
    for (const tag of c.fixed) {
      const res = await second.put(tag);
      t.is(res.status, 400, `${tag} stays`);
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      t.is(body.errors[0]?.code, 'MANIFEST_INVALID');
      t.regex(body.errors[0]?.message ?? '', new RegExp(`tag ${tag.replace('.', '\\.')} is immutable`));
      t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${tag}`)).headers.get('docker-content-digest'), first.digest);
    }
  });
}

test('an immutable tag is refused in a multi-tag push by digest, and nothing of that push is stored', async (t) => {
  const name = 'immutable/multi';
  await shared.api.repositories.create({ repositoryName: name, imageTagMutability: 'IMMUTABLE' });
  const first = await image(name);
  t.is((await first.put('v1')).status, 201);
  const img = makeImage({ layers: 1 });
  for (const b of [img.config, ...img.layers]) await pushBlob(shared.reg.url, name, b);
  const res = await putManifest(shared.reg.url, name, `${img.digest}?tag=new&tag=v1`, img.manifest, OCI_MANIFEST);
  t.is(res.status, 400);
  t.is(await errorCode(res), 'MANIFEST_INVALID');
  t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/new`)).status, 404);
  t.is((await fetch(`${shared.reg.url}/v2/${name}/manifests/${img.digest}`)).status, 404);
});
