// Request fuzzing: thousands of malformed requests (generated from one seed, see fuzz-cases.ts)
// against one registry over every OCI route, the management API and the token endpoint. The
// registry must answer each with a 4xx (or a success where the junk happens to be valid), never
// a 5xx; it must still be up and serving the admin afterwards; forged credentials must never get
// in; and nothing may be written outside its data directory.
//
// BERTH_FUZZ_SEED and BERTH_FUZZ_COUNT replay or widen a run (defaults: a fixed seed, 5,000).
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import test from 'ava';
import { BerthClient } from '../../registry-server/src/client/client.ts';
import { adminAuthorization, adminFetch, testAdmin } from '../support/auth.ts';
import { makeImage, OCI_MANIFEST, pushImage, resolveLocation, sha256, type TestImage } from '../support/oci.ts';
import { repoRoot, startRegistry, type RunningRegistry } from '../support/registry.ts';
import { bodySummary, encodeRequest, generateCases, pool, sendRaw, type FuzzCase, type FuzzWorld, type Origin, type RawResponse } from './fuzz-cases.ts';

const seed = Number(process.env.BERTH_FUZZ_SEED ?? 0x0b3127);
const count = Number(process.env.BERTH_FUZZ_COUNT ?? 5000);
const concurrency = 16;
const marker = `berth-fuzz-escape-${seed.toString(16)}`;

// Failed sign-ins lock out their source address (50 failures, 5 per key; 30 s and doubling). The admin's
// requests come from 127.0.0.1, which never fails a sign-in; garbage credentials come from other
// loopback addresses, so their lockouts (429, an expected answer) never starve the admin.
const strangerAddresses = Array.from({ length: 48 }, (_, i) => `127.0.9.${i + 1}`);
function sourceAddress(origin: Origin, index: number): string {
  return origin === 'admin' ? '127.0.0.1' : (strangerAddresses[index % strangerAddresses.length] ?? '127.0.9.1');
}

interface Outcome {
  readonly index: number;
  readonly c: FuzzCase;
  readonly r: RawResponse;
}

interface Run {
  readonly reg: RunningRegistry;
  readonly parent: string;
  readonly dataDir: string;
  readonly world: FuzzWorld;
  readonly keepImage: TestImage;
  readonly outcomes: Outcome[];
  readonly ms: number;
  readonly before: Snapshots;
}

interface Snapshots {
  /** Everything under the temp parent except the data directory's contents. */
  readonly parentTree: string[];
  /** Top-level names of directories a traversal could reach. */
  readonly tops: Map<string, string[]>;
}

/** Every path below `root`, relative, not descending into `skip`. */
async function tree(root: string, skip?: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      out.push(relative(root, full));
      if (full === skip) continue;
      if ((await lstat(full)).isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out.sort();
}

async function snapshot(parent: string, dataDir: string): Promise<Snapshots> {
  const tops = new Map<string, string[]>();
  for (const dir of new Set([tmpdir(), '/tmp', '/', repoRoot, process.cwd(), join(repoRoot, 'registry-server')])) {
    tops.set(dir, (await readdir(dir).catch(() => [] as string[])).sort());
  }
  return { parentTree: await tree(parent, dataDir), tops };
}

let run: Run | undefined;
let setupError: unknown;
// Kept apart from `run` so that a failed setup still closes the server (and the worker exits).
let started: { reg: RunningRegistry; parent: string } | undefined;

function fuzzRun(): Run {
  if (!run) throw new Error(`the fuzz run did not happen: ${setupError instanceof Error ? (setupError.stack ?? setupError.message) : String(setupError)}`);
  return run;
}

test.before(async () => {
  try {
    // A fresh parent holding the data directory and a canary sibling: a write that escapes the
    // data directory by one ".." lands next to them and shows up in the parent's tree.
    const parent = await mkdtemp(join(tmpdir(), 'berth-fuzz-'));
    const dataDir = join(parent, 'data');
    await mkdir(join(parent, 'canary'));
    await writeFile(join(parent, 'canary', 'canary.txt'), 'must stay alone\n');
    // Error-level logging only: a 5xx leaves its stack in the test output.
    const reg = await startRegistry({ dataDir, logLevel: 'error' });
    started = { reg, parent };
    const before = await snapshot(parent, dataDir);
    const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });

    // State for the handlers to chew on: an image, open upload sessions, tokens, a principal.
    const repo = 'fuzz/app';
    const protectedRepo = 'fuzz/keep';
    const image = makeImage({ layers: 2, layerSize: 2048 });
    const manifestDigest = await pushImage(reg.url, repo, 'v1', image);
    const keepImage = makeImage({ layers: 1, layerSize: 4096 });
    await pushImage(reg.url, protectedRepo, 'stable', keepImage);
    const uploadPaths: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await adminFetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
      if (res.status !== 202) throw new Error(`start upload: ${res.status} ${await res.text()}`);
      const u = new URL(resolveLocation(reg.url, res.headers.get('location')));
      uploadPaths.push(`${u.pathname}${u.search}`);
    }
    const service = 'berth:000000000000';
    const tokenRes = await adminFetch(`${reg.url}/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(`repository:${repo}:pull,push,delete`)}`);
    if (tokenRes.status !== 200) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`);
    const bearer = ((await tokenRes.json()) as { token: string }).token;
    const loginToken = (await api.authorizationToken()).password;
    await api.principals.create({ principalName: 'fuzz-user' });
    const key = await api.accessKeys.create({ principalName: 'fuzz-user' });

    const world: FuzzWorld = {
      repo,
      tag: 'v1',
      manifestDigest,
      blobDigests: [image.config, ...image.layers].map((b) => sha256(b)),
      uploadPaths,
      adminAuthorization,
      adminAccessKeyId: testAdmin.accessKeyId,
      bearer,
      loginToken,
      principal: 'fuzz-user',
      accessKeyId: key.accessKeyId,
      marker,
      protectedRepo,
      service,
    };

    const cases = generateCases(world, seed, count);
    const port = Number(new URL(reg.url).port);
    const t0 = Date.now();
    const outcomes = await pool(cases, concurrency, async (c, index): Promise<Outcome> => {
      const r = await sendRaw(port, sourceAddress(c.origin, index), encodeRequest(c, reg.host), { ...(c.endAfterWrite ? { endAfterWrite: true } : {}), timeoutMs: 20_000 });
      return { index, c, r };
    });
    run = { reg, parent, dataDir, world, keepImage, outcomes, ms: Date.now() - t0, before };
  } catch (err) {
    setupError = err;
    throw err;
  }
});

test.after.always(async () => {
  if (started) {
    await started.reg.close();
    await rm(started.parent, { recursive: true, force: true });
  }
});

function describe(o: Outcome): string {
  const { c, r } = o;
  const headers = c.headers.map(([k, v]) => `${k}: ${k.toLowerCase() === 'authorization' ? `${v.slice(0, 40)}${v.length > 40 ? `…(${v.length})` : ''}` : v.slice(0, 80)}`).join(' | ');
  const request = c.raw ? `RAW ${JSON.stringify(c.raw.subarray(0, 200).toString('latin1'))}` : `${c.method} ${c.target.slice(0, 300)} [${headers}] body ${bodySummary(c.body)}`;
  return `#${o.index} (${c.kind}, from ${c.origin}) ${request}\n    → ${r.status ?? 'no response'}${r.error ? ` (${r.error})` : ''}${r.timedOut ? ' (timed out)' : ''}: ${r.bodyExcerpt.slice(0, 300)}`;
}

test.serial(`fuzz: ${count} malformed requests (seed ${seed}) get no 5xx`, (t) => {
  const { outcomes, ms } = fuzzRun();
  const byStatus = new Map<string, number>();
  const byKind = new Map<string, Map<string, number>>();
  for (const { c, r } of outcomes) {
    const s = r.status === undefined ? (r.timedOut ? 'timeout' : 'none') : String(r.status);
    byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    const k = byKind.get(c.kind) ?? new Map<string, number>();
    k.set(s, (k.get(s) ?? 0) + 1);
    byKind.set(c.kind, k);
  }
  const fmt = (m: Map<string, number>) =>
    [...m]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
  t.log(`${outcomes.length} requests in ${(ms / 1000).toFixed(1)} s at concurrency ${concurrency}; seed ${seed}`);
  t.log(`status histogram: ${fmt(byStatus)}`);
  for (const [kind, m] of [...byKind].sort(([a], [b]) => a.localeCompare(b))) t.log(`  ${kind.padEnd(26)} ${fmt(m)}`);

  t.is(outcomes.length, count);
  const offenders = outcomes.filter((o) => o.r.status !== undefined && o.r.status >= 500);
  t.is(offenders.length, 0, `server errors (5xx) for ${offenders.length} malformed requests; first ones:\n${offenders.slice(0, 10).map(describe).join('\n')}`);
  // Hangs are not 5xx but would be a denial of service: every request must be answered or closed.
  const timedOut = outcomes.filter((o) => o.r.timedOut);
  t.is(timedOut.length, 0, `requests neither answered nor closed within 20 s:\n${timedOut.slice(0, 10).map(describe).join('\n')}`);
  // Most of the run must reach the handlers, not bounce off authentication.
  const handled = outcomes.filter((o) => o.r.status !== undefined && o.r.status !== 401 && o.r.status !== 429).length;
  t.true(handled > count * 0.6, `only ${handled} of ${count} requests got past authentication`);
});

test.serial('fuzz: forged or garbage credentials never succeed on a protected route', (t) => {
  const { outcomes } = fuzzRun();
  const forged = outcomes.filter((o) => o.c.forged && (o.c.target.startsWith('/v2') || o.c.target.startsWith('/api/')));
  t.true(forged.length > 100, `only ${forged.length} forged-credential requests were generated`);
  const admitted = forged.filter((o) => o.r.status !== undefined && o.r.status < 400);
  t.is(admitted.length, 0, `forged credentials were accepted:\n${admitted.slice(0, 10).map(describe).join('\n')}`);
  const statuses = new Set(forged.map((o) => o.r.status));
  t.log(`forged-credential answers: ${[...statuses].sort().join(', ')}`);
});

test.serial('fuzz: the registry is still up and serves the admin byte-identical afterwards', async (t) => {
  const { reg, world, keepImage } = fuzzRun();
  const ready = await fetch(`${reg.url}/readyz`);
  t.is(ready.status, 200, 'GET /readyz after the fuzz');
  const base = await adminFetch(`${reg.url}/v2/`);
  t.is(base.status, 200, `GET /v2/ as admin after the fuzz: ${await base.clone().text()}`);
  const anon = await fetch(`${reg.url}/v2/`);
  t.is(anon.status, 401, 'GET /v2/ without credentials still asks for them');
  t.regex(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/[^"]+\/token",service="berth:000000000000"/);
  const m = await adminFetch(`${reg.url}/v2/${world.protectedRepo}/manifests/stable`, { headers: { Accept: OCI_MANIFEST } });
  t.is(m.status, 200);
  t.true(Buffer.from(await m.arrayBuffer()).equals(Buffer.from(keepImage.manifest)), 'the untouched image manifest is byte-identical');
  for (const layer of keepImage.layers) {
    const b = await adminFetch(`${reg.url}/v2/${world.protectedRepo}/blobs/${sha256(layer)}`);
    t.is(b.status, 200);
    t.true(Buffer.from(await b.arrayBuffer()).equals(Buffer.from(layer)), 'the untouched layer is byte-identical');
  }
  // A full push still works too.
  const digest = await pushImage(reg.url, 'fuzz/after', 'ok');
  t.is((await adminFetch(`${reg.url}/v2/fuzz/after/manifests/${digest}`, { method: 'HEAD' })).status, 200);
});

test.serial('fuzz: prototype-pollution keys left Object.prototype alone (the server runs in this process)', (t) => {
  fuzzRun();
  const probe = {} as Record<string, unknown>;
  for (const k of ['polluted', 'isAdmin', 'admin']) t.is(probe[k], undefined, `Object.prototype.${k} was set by a request body`);
  t.is(Object.getPrototypeOf(probe), Object.prototype);
});

test.serial('fuzz: nothing was written outside the data directory', async (t) => {
  const { parent, dataDir, before } = fuzzRun();
  const after = await snapshot(parent, dataDir);
  t.deepEqual(after.parentTree, before.parentTree, 'entries appeared or vanished next to the data directory');
  t.deepEqual(before.parentTree, ['canary', `canary${sep}canary.txt`, 'data']);
  for (const [dir, names] of after.tops) {
    const was = new Set(before.tops.get(dir) ?? []);
    const added = names.filter((n) => !was.has(n));
    // Other test files run at the same time and make their own temp dirs: only names a
    // traversal could have produced count (the marker is in every traversal attempt).
    const suspicious = added.filter((n) => n.includes(marker) || n.includes('berth-fuzz-escape') || /^(blobs|uploads|metadata\.db.*)$/.test(n) || n.includes('..'));
    t.deepEqual(suspicious, [], `new entries in ${dir} after the fuzz: ${added.join(', ')}`);
  }
});

test.serial('fuzz: every file name under the data directory is plain (no "..", separators, NUL, escapes)', async (t) => {
  const { dataDir } = fuzzRun();
  const paths = await tree(dataDir);
  t.true(paths.some((p) => p.startsWith(`blobs${sep}sha256${sep}`)), 'the data directory holds the blobs pushed');
  const bad = paths.filter((p) => p.split(sep).some((seg) => seg.includes('..') || !/^[A-Za-z0-9._-]+$/.test(seg) || seg.includes(marker)));
  t.deepEqual(bad, [], 'odd file names under the data directory');
  const tops = [...new Set(paths.map((p) => p.split(sep)[0]))].sort();
  t.log(`data directory top level: ${tops.join(', ')}`);
  t.true(tops.every((n) => n !== undefined && /^(blobs|uploads|metadata\.db(-wal|-shm|-journal)?|[A-Za-z0-9._-]+)$/.test(n)));
});
