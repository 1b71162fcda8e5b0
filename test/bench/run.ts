// `make bench`: Berth against the CNCF reference registry (docker-registry) on this machine, each a
// fresh child process on a loopback port with its own temporary storage. Prints Berth/reference
// ratios for blob push and pull throughput, small-blob pushes, and manifest GETs, plus Berth's peak
// RSS while pushing a 2 GiB blob, each next to its target. A measurement, not a test: exits 0 when
// targets are missed, non-zero when something fails (a request, a server, a tool).
//
//   npm run bench              the full run (about two minutes)
//   npm run bench -- --quick   smaller sizes and shorter runs, to check the benchmark itself
//
// Storage goes under the system temp directory (TMPDIR), so both registries write to the same
// disk; on machines whose disk throttles sustained writes, push figures depend on it as much as
// on the registries (TMPDIR=/dev/shm takes the disk out, and with it the cost of fsync).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTempDir, onCleanup, runCleanups, runCommand, which } from './children.ts';
import { curlPull, curlPush, ensureCurl } from './curl.ts';
import { RegistryClient } from './http-client.ts';
import { adminAuthorization } from '../support/auth.ts';
import { median, pool, readChildrenCpuSeconds, readMachineCpu, readOwnTreeCpuSeconds, readProcCpuSeconds, readProcMemory, RssSampler, runNodeLoad, runWrk, seconds, type LoadOptions, type LoadResult } from './measure.ts';
import { fillPseudoRandom, GiB, KiB, MiB, pseudoRandomBuffer, pseudoRandomChunks, randomBlobs, sha256, slices } from './payload.ts';
import { aptInstall, ensureReferenceRegistry, startReference, type ReferenceBinary } from './reference-registry.ts';
import { checkBerthBuild, startBerth, type RunningRegistry } from './servers.ts';
import { replicationLag, type ReplicationPlan } from './replication.ts';
import { ChunkOpener, defaultFormat, encryptingStream } from '../../registry-server/src/crypto/chunked-aead.ts';

interface Plan {
  readonly pushBytes: number;
  readonly pushRuns: number;
  readonly pullWarmups: number;
  readonly pullRuns: number;
  readonly smallBlobs: number;
  readonly smallMinBytes: number;
  readonly smallMaxBytes: number;
  readonly smallConcurrency: number;
  readonly smallRuns: number;
  readonly manifestConnections: number;
  readonly manifestSeconds: number;
  readonly manifestWarmupSeconds: number;
  readonly manifestRuns: number;
  readonly bigBytes: number;
  readonly replication: ReplicationPlan;
}

const fullPlan: Plan = {
  pushBytes: 256 * MiB,
  pushRuns: 5,
  pullWarmups: 2,
  pullRuns: 7,
  smallBlobs: 1000,
  smallMinBytes: 1 * KiB,
  smallMaxBytes: 4 * KiB,
  smallConcurrency: 16,
  smallRuns: 3,
  manifestConnections: 32,
  manifestSeconds: 5,
  manifestWarmupSeconds: 1,
  manifestRuns: 3,
  bigBytes: 2 * GiB,
  replication: { largeBytes: 100 * MiB, smallImages: 1000 },
};

const quickPlan: Plan = {
  ...fullPlan,
  pushBytes: 32 * MiB,
  pushRuns: 2,
  pullWarmups: 1,
  pullRuns: 3,
  smallBlobs: 200,
  smallRuns: 2,
  manifestSeconds: 2,
  manifestRuns: 1,
  bigBytes: 256 * MiB,
  replication: { largeBytes: 16 * MiB, smallImages: 100 },
};

// Repetitions of a throughput figure are summarized by their median, for both registries alike.
const summarize = median;
const watchdogMs = 10 * 60 * 1000;

type Label = 'Berth' | 'reference';
type Samples = Record<Label, number[]>;

/** One figure per run and registry, with the server CPU time each run took per unit of work. */
interface Metric {
  readonly values: Samples;
  readonly cpu: Samples;
}

interface Target {
  readonly label: Label;
  readonly registry: RunningRegistry;
  readonly client: RegistryClient;
}

interface Environment {
  readonly plan: Plan;
  readonly workDir: string;
  readonly reference: ReferenceBinary;
  readonly load: (options: LoadOptions) => Promise<LoadResult>;
  readonly loadTool: string;
  /** Environment for Berth's process: empty for the default backends, S3 + PostgreSQL settings otherwise. */
  readonly berthEnv: NodeJS.ProcessEnv;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

// Running servers, so that a failure can show what they logged.
const live = new Set<RunningRegistry>();
// Anything a server logged (at warn and above for Berth, error for the reference), shown at the end.
const serverLogs: string[] = [];

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function emptySamples(): Samples {
  return { Berth: [], reference: [] };
}

function emptyMetric(): Metric {
  return { values: emptySamples(), cpu: emptySamples() };
}

/** Times `fn` (wall clock) and the server CPU it caused (all the server's threads). */
async function measured(t: Target, fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const before = await readProcCpuSeconds(t.registry.pid);
  const wall = await seconds(fn);
  const cpu = (await readProcCpuSeconds(t.registry.pid)) - before;
  return { wall, cpu };
}

async function startTarget(label: Label, env: Environment): Promise<Target> {
  const registry = label === 'Berth' ? await startBerth(env.workDir, env.berthEnv) : await startReference(env.reference, env.workDir);
  live.add(registry);
  // Berth is measured signed in (Basic with an access key, as skopeo --creds and CI jobs do), so
  // every request it serves pays for authentication and a policy decision; the reference has none.
  const authorization = label === 'Berth' ? adminAuthorization : undefined;
  return { label, registry, client: new RegistryClient(registry.url, { maxSockets: 64, ...(authorization ? { authorization } : {}) }) };
}

async function stopTarget(target: Target, phase: string): Promise<void> {
  target.client.close();
  live.delete(target.registry);
  const text = target.registry.output();
  await target.registry.stop();
  if (text) serverLogs.push(`${target.label} (${phase}):\n${indent(text.split('\n').slice(0, 30).join('\n'))}`);
}

/** Fresh registries for one phase, stopped (and their storage removed) afterwards. */
async function withRegistries<T>(env: Environment, phase: string, labels: readonly Label[], fn: (targets: readonly Target[]) => Promise<T>): Promise<T> {
  const targets: Target[] = [];
  let result: T;
  try {
    for (const label of labels) targets.push(await startTarget(label, env));
    result = await fn(targets);
  } catch (err) {
    // The phase's own failure is the one worth reporting; stop what runs, quietly.
    for (const t of targets) await stopTarget(t, phase).catch(() => undefined);
    throw err;
  }
  for (const t of targets) await stopTarget(t, phase);
  return result;
}

function withBoth<T>(env: Environment, phase: string, fn: (targets: readonly Target[]) => Promise<T>): Promise<T> {
  return withRegistries(env, phase, ['Berth', 'reference'], fn);
}

/** Alternates which registry goes first from one repetition to the next, so drift hits both alike. */
function inTurn<T>(items: readonly T[], run: number): T[] {
  const k = run % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function mibPerSecond(bytes: number, s: number): number {
  return bytes / MiB / s;
}

// 1. and 2. A 256 MiB blob pushed monolithically (POST, then PUT with the whole body), then pulled,
// both timed through curl (see curl.ts); the content is verified through the Node client.
async function blobThroughput(env: Environment): Promise<{ push: Metric; pull: Metric; notes: string[] }> {
  const { plan } = env;
  const name = 'bench/blobs';
  return withBoth(env, 'push/pull', async (targets) => {
    // Warm-up (untimed): connections, JIT, the repository itself.
    const warm = pseudoRandomBuffer(4 * MiB, 'warm-up');
    const warmDigest = sha256(warm);
    for (const t of targets) {
      await t.client.pushBlob(name, warmDigest, slices(warm), warm.length);
      await t.client.pullBlob(name, warmDigest, { size: warm.length, verify: true });
    }

    const push = emptyMetric();
    let last = { digest: warmDigest, size: warm.length };
    // One payload buffer, refilled with distinct content for every run, so that no registry can
    // skip work for content it already holds.
    const data = Buffer.allocUnsafe(plan.pushBytes);
    // The same bytes written and fdatasynced straight to the registries' storage: the ceiling for
    // any registry that makes a push durable before answering it.
    const diskMiBs: number[] = [];
    const curl = await ensureCurl();
    // curl streams the payload from a file on tmpfs when there is one (cheap to read).
    const payloadFile = join(existsSync('/dev/shm') ? await mkdtemp('/dev/shm/berth-bench-') : env.workDir, 'payload');
    onCleanup(() => rm(dirname(payloadFile) === env.workDir ? payloadFile : dirname(payloadFile), { recursive: true, force: true }));
    for (let run = 0; run < plan.pushRuns; run++) {
      fillPseudoRandom(data, `push-${run}`);
      const digest = sha256(data);
      await writeFile(payloadFile, data);
      diskMiBs.push(await durableWriteMiBs(env.workDir, data));
      for (const t of inTurn(targets, run)) {
        const m = await measured(t, () => curlPush(curl, t.client, name, digest, payloadFile, data.length));
        push.values[t.label].push(mibPerSecond(data.length, m.wall));
        push.cpu[t.label].push(m.cpu / (data.length / MiB));
      }
      last = { digest, size: data.length };
      progress(`push run ${run + 1}/${plan.pushRuns}: Berth ${fmt(push.values.Berth.at(-1))} MiB/s, reference ${fmt(push.values.reference.at(-1))} MiB/s`);
    }

    // Untimed warm-up pulls, the first of which verifies the content.
    const notes: string[] = [];
    for (let i = 0; i < Math.max(1, plan.pullWarmups); i++) {
      for (const t of targets) {
        const pulled = await t.client.pullBlob(name, last.digest, { size: last.size, verify: i === 0 });
        if (pulled.digest !== undefined) notes.push(`${t.label}: pulled ${pulled.bytes} bytes hashing to ${pulled.digest} (as pushed)`);
      }
    }
    const pull = emptyMetric();
    for (let run = 0; run < plan.pullRuns; run++) {
      for (const t of inTurn(targets, run)) {
        const m = await measured(t, () => curlPull(curl, t.client, name, last.digest, last.size));
        pull.values[t.label].push(mibPerSecond(last.size, m.wall));
        pull.cpu[t.label].push(m.cpu / (last.size / MiB));
      }
    }
    progress(`pull: Berth ${fmtList(pull.values.Berth)} MiB/s, reference ${fmtList(pull.values.reference)} MiB/s`);
    notes.push(`disk: ${fmtList(diskMiBs)} MiB/s writing ${plan.pushBytes / MiB} MiB with fdatasync to the registries' storage (median ${fmt(median(diskMiBs))}); Berth fsyncs each blob before its 201, the reference does not`);
    return { push, pull, notes };
  });
}

// 6. Encryption at rest: one Berth holding a plaintext repository (AES256 with
// registryKeyEncryption off) and one encrypted under a customer KMS key; the same blobs are
// pushed to and pulled from both in alternating order, so the ratio is the cost of encryption.
async function encryptionThroughput(env: Environment): Promise<{ push: Metric; pull: Metric; clientPullCpu: Samples; cipherCpu: number }> {
  const { plan } = env;
  const berthEnv = { ...env.berthEnv, BERTH_REGISTRY_KEY_ENCRYPTION: 'false' };
  const registry = await startBerth(env.workDir, berthEnv);
  live.add(registry);
  const client = new RegistryClient(registry.url, { maxSockets: 64, authorization: adminAuthorization });
  const target: Target = { label: 'Berth', registry, client };
  try {
    const api = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
      const payload = Buffer.from(JSON.stringify(body));
      const res = await client.request(`/api/v1${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) }, body: payload, expect: 201 });
      return JSON.parse(Buffer.from(res.body).toString('utf8')) as Record<string, unknown>;
    };
    const key = await api('/kms/keys', { description: 'bench' });
    const repos = { encrypted: 'bench/encrypted', plaintext: 'bench/plaintext' } as const;
    await api('/repositories', { repositoryName: repos.encrypted, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: key.arn } });
    await api('/repositories', { repositoryName: repos.plaintext });
    // Berth = encrypted, reference = plaintext in the samples (same table code as above).
    const sides = [
      ['Berth', repos.encrypted],
      ['reference', repos.plaintext],
    ] as const;
    const curl = await ensureCurl();
    const payloadFile = join(env.workDir, 'encryption-payload');
    onCleanup(() => rm(payloadFile, { force: true }));
    const data = Buffer.allocUnsafe(plan.pushBytes);
    const push = emptyMetric();
    // Distinct content per repository: the same bytes pushed to both would be stored once
    // (encrypted, since one repository is), and both sides would measure the same thing.
    const last: Record<Label, string> = { Berth: '', reference: '' };
    for (let run = 0; run < plan.pushRuns; run++) {
      for (const [label, repo] of inTurn(sides, run)) {
        fillPseudoRandom(data, `encryption-${run}-${label}`);
        const digest = sha256(data);
        await writeFile(payloadFile, data);
        const m = await measured(target, () => curlPush(curl, client, repo, digest, payloadFile, data.length));
        push.values[label].push(mibPerSecond(data.length, m.wall));
        push.cpu[label].push(m.cpu / (data.length / MiB));
        last[label] = digest;
      }
    }
    for (const [label, repo] of sides) await client.pullBlob(repo, last[label], { size: data.length, verify: true });
    const pull = emptyMetric();
    // curl's own CPU per MiB pulled: the client shares this machine's cores with the server.
    const clientPullCpu = emptySamples();
    for (let run = 0; run < plan.pullRuns; run++) {
      for (const [label, repo] of inTurn(sides, run)) {
        const curlBefore = await readChildrenCpuSeconds();
        const m = await measured(target, () => curlPull(curl, client, repo, last[label], data.length));
        clientPullCpu[label].push(((await readChildrenCpuSeconds()) - curlBefore) / (data.length / MiB));
        pull.values[label].push(mibPerSecond(data.length, m.wall));
        pull.cpu[label].push(m.cpu / (data.length / MiB));
      }
    }
    progress(`encryption: push ${fmtList(push.values.Berth)} vs ${fmtList(push.values.reference)} MiB/s, pull ${fmtList(pull.values.Berth)} vs ${fmtList(pull.values.reference)} MiB/s`);
    return { push, pull, clientPullCpu, cipherCpu: await cipherSecondsPerMiB() };
  } finally {
    client.close();
    live.delete(registry);
    await registry.stop();
  }
}

/**
 * CPU seconds per MiB that opening stored chunks takes on one core of this machine: the server's
 * own ChunkOpener (AES-256-GCM through node:crypto, its output collected young as on the server),
 * best of three passes over 64 MiB. The least any encrypted pull adds to a plaintext one.
 */
async function cipherSecondsPerMiB(): Promise<number> {
  const { chunkSize } = defaultFormat;
  const key = randomBytes(32);
  const salt = randomBytes(4);
  const context = Buffer.from('berth-bench');
  // Two chunks, so the first is an ordinary (not final) one; it is opened again and again.
  const sealer = encryptingStream(key, salt, context);
  const parts: Buffer[] = [];
  sealer.on('data', (b: Buffer) => parts.push(b));
  const sealed = new Promise<void>((resolve, reject) => sealer.on('end', resolve).on('error', reject));
  sealer.end(randomBytes(2 * chunkSize));
  await sealed;
  const opener = new ChunkOpener(key, salt, context, defaultFormat, 2 * chunkSize);
  const first = Buffer.concat(parts).subarray(0, opener.storedLength(0));
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const before = process.cpuUsage();
    for (let i = 0; i < (64 * MiB) / chunkSize; i++) opener.open(0, first);
    const { user, system } = process.cpuUsage(before);
    best = Math.min(best, (user + system) / 1e6 / 64);
  }
  return best;
}

async function durableWriteMiBs(dir: string, data: Buffer): Promise<number> {
  const path = join(dir, 'disk-ceiling');
  const began = process.hrtime.bigint();
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  const s = Number(process.hrtime.bigint() - began) / 1e9;
  await rm(path, { force: true });
  return mibPerSecond(data.length, s);
}

// 3. Many small blobs (POST+PUT each), a fixed number in flight.
async function smallBlobs(env: Environment): Promise<Metric> {
  const { plan } = env;
  const name = 'bench/small';
  const warm = randomBlobs(100, plan.smallMinBytes, plan.smallMaxBytes);
  const sets = Array.from({ length: plan.smallRuns }, () => randomBlobs(plan.smallBlobs, plan.smallMinBytes, plan.smallMaxBytes));
  return withBoth(env, 'small blobs', async (targets) => {
    const pushAll = (t: Target, blobs: ReturnType<typeof randomBlobs>) =>
      pool(blobs.length, plan.smallConcurrency, async (i) => {
        const blob = blobs[i];
        if (!blob) throw new Error(`no blob ${i}`);
        await t.client.pushBlob(name, blob.digest, blob.data, blob.data.length);
      });
    for (const t of targets) await pushAll(t, warm);
    const rate = emptyMetric();
    for (const [run, blobs] of sets.entries()) {
      for (const t of inTurn(targets, run)) {
        const m = await measured(t, () => pushAll(t, blobs));
        rate.values[t.label].push(blobs.length / m.wall);
        rate.cpu[t.label].push(m.cpu / blobs.length);
      }
      progress(`small-blob run ${run + 1}/${plan.smallRuns}: Berth ${fmt(rate.values.Berth.at(-1), 0)}/s, reference ${fmt(rate.values.reference.at(-1), 0)}/s`);
    }
    return rate;
  });
}

// 4. GET /v2/<name>/manifests/<tag> from many keep-alive connections.
async function manifestGets(env: Environment): Promise<{ rate: Metric; notes: string[] }> {
  const { plan } = env;
  const name = 'bench/manifests';
  const layers = [pseudoRandomBuffer(32 * KiB, 'layer-0'), pseudoRandomBuffer(64 * KiB, 'layer-1')];
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) } }));
  const describe = (mediaType: string, data: Uint8Array) => ({ mediaType, digest: sha256(data), size: data.byteLength });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: describe(OCI_CONFIG, config), layers: layers.map((l) => describe(OCI_LAYER, l)) }),
  );
  const manifestDigest = sha256(manifest);
  return withBoth(env, 'manifest GETs', async (targets) => {
    for (const t of targets) {
      for (const blob of [config, ...layers]) await t.client.pushBlob(name, sha256(blob), blob, blob.length);
      const stored = await t.client.putManifest(name, 'latest', manifest, OCI_MANIFEST);
      if (stored !== undefined && stored !== manifestDigest) throw new Error(`${t.label} stored the manifest as ${stored}, expected ${manifestDigest}`);
      const got = await t.client.getManifest(name, 'latest', OCI_MANIFEST);
      const type = String(got.headers['content-type'] ?? '');
      if (!got.body.equals(manifest) || !type.startsWith(OCI_MANIFEST)) throw new Error(`${t.label}: GET manifest returned different content (${type}, ${got.body.length} bytes)`);
    }
    const options = (t: Target, s: number): LoadOptions => ({
      url: `${t.registry.url}/v2/${name}/manifests/latest`,
      connections: plan.manifestConnections,
      seconds: s,
      headers: { Accept: OCI_MANIFEST, ...(t.client.authorization ? { Authorization: t.client.authorization } : {}) },
    });
    for (const t of targets) await env.load(options(t, plan.manifestWarmupSeconds));
    const rate = emptyMetric();
    const notes: string[] = [];
    for (let run = 0; run < plan.manifestRuns; run++) {
      for (const t of inTurn(targets, run)) {
        let r: LoadResult | undefined;
        const m = await measured(t, async () => {
          r = await env.load(options(t, plan.manifestSeconds));
        });
        if (!r) throw new Error('load generator returned nothing');
        rate.values[t.label].push(r.requestsPerSecond);
        rate.cpu[t.label].push(m.cpu / r.requests);
        if (r.latencyP50 !== undefined) notes.push(`${t.label} run ${run + 1}: ${r.requests} requests, latency p50 ${r.latencyP50}, p99 ${r.latencyP99 ?? '?'}`);
      }
      progress(`manifest GET run ${run + 1}/${plan.manifestRuns}: Berth ${fmt(rate.values.Berth.at(-1), 0)}/s, reference ${fmt(rate.values.reference.at(-1), 0)}/s`);
    }
    return { rate, notes };
  });
}

// 5. Berth's peak RSS while a 2 GiB blob streams in; a fresh process, so VmHWM covers just this.
async function peakRss(env: Environment): Promise<{ peakMiB: number; notes: string[] }> {
  const { plan } = env;
  const name = 'bench/big';
  const seed = 'big';
  let digest = '';
  const hashSeconds = await seconds(async () => {
    digest = sha256(pseudoRandomChunks(plan.bigBytes, seed));
  });
  progress(`generated and hashed the ${plan.bigBytes / MiB} MiB blob in ${hashSeconds.toFixed(1)} s (streamed, never held in memory)`);
  return withRegistries(env, 'peak RSS', ['Berth'], async ([target]) => {
    if (!target) throw new Error('Berth did not start');
    const { pid } = target.registry;
    const before = await readProcMemory(pid);
    const sampler = new RssSampler(pid);
    sampler.start(50);
    let s = 0;
    let sampled = { peakKiB: 0, samples: 0 };
    try {
      s = await seconds(() => target.client.pushBlob(name, digest, pseudoRandomChunks(plan.bigBytes, seed), plan.bigBytes));
    } finally {
      sampled = await sampler.stop();
    }
    const after = await readProcMemory(pid);
    const size = await target.client.headBlob(name, digest);
    if (size !== plan.bigBytes) throw new Error(`Berth reports the ${plan.bigBytes}-byte blob as ${size} bytes`);
    const toMiB = (kib: number) => kib / 1024;
    return {
      peakMiB: toMiB(after.hwmKiB),
      notes: [
        `after startup: VmRSS ${fmt(toMiB(before.rssKiB))} MiB, VmHWM ${fmt(toMiB(before.hwmKiB))} MiB`,
        `after the push: VmHWM ${fmt(toMiB(after.hwmKiB))} MiB, VmRSS ${fmt(toMiB(after.rssKiB))} MiB; polled VmRSS peak ${fmt(toMiB(sampled.peakKiB))} MiB (${sampled.samples} samples)`,
        `push of ${plan.bigBytes / MiB} MiB took ${s.toFixed(1)} s (${fmt(mibPerSecond(plan.bigBytes, s))} MiB/s)`,
        `the bench client's own RSS after the push: ${fmt(process.memoryUsage.rss() / MiB)} MiB (the blob was generated as it was sent)`,
      ],
    };
  });
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '?' : n.toFixed(digits);
}

function fmtList(values: readonly number[], digits = 1): string {
  return values.map((v) => fmt(v, digits)).join(', ');
}

function indent(text: string, by = '    '): string {
  return text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

interface Row {
  readonly metric: string;
  readonly berth: string;
  readonly reference: string;
  readonly ratio: string;
  readonly target: string;
  readonly result: 'PASS' | 'MISS' | '-';
}

function ratioRow(metric: string, unit: string, samples: Samples, minRatio: number, digits: number): Row {
  const b = summarize(samples.Berth);
  const r = summarize(samples.reference);
  const ratio = b / r;
  return {
    metric,
    berth: `${fmt(b, digits)} ${unit}`,
    reference: `${fmt(r, digits)} ${unit}`,
    ratio: `${ratio.toFixed(2)}x`,
    target: `>= ${minRatio}x`,
    result: ratio >= minRatio ? 'PASS' : 'MISS',
  };
}

function table(rows: readonly Row[], columns: readonly [string, string, string] = ['metric', 'Berth', 'reference']): string {
  const head = [...columns, 'ratio', 'target', 'result'];
  const cells = [head, ...rows.map((r) => [r.metric, r.berth, r.reference, r.ratio, r.target, r.result])];
  const widths = head.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => {
        const w = widths[c] ?? 0;
        // Numbers read best right-aligned.
        return c >= 1 && c <= 3 ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function loadGenerator(): Promise<{ tool: string; load: (options: LoadOptions) => Promise<LoadResult> }> {
  let wrk = await which('wrk');
  if (!wrk) {
    try {
      await aptInstall('wrk');
      wrk = await which('wrk');
    } catch (err) {
      progress(`wrk is unavailable (${(err as Error).message.split('\n')[0] ?? ''}); falling back to a node:http load generator`);
    }
  }
  if (!wrk) return { tool: 'node:http keep-alive loops in the bench process (wrk unavailable)', load: runNodeLoad };
  const path = wrk;
  const v = await runCommand(path, ['-v'], { timeoutMs: 10_000 });
  const version = ((v.stdout || v.stderr).split('\n')[0] ?? '').replace(/\s*Copyright.*$/, '').trim();
  return { tool: `${version || path} (1 thread, keep-alive connections)`, load: (options) => runWrk(path, options) };
}

/**
 * Berth's scale-out backends for the bench: s3rver (the S3 protocol on this machine's disk) and
 * a fresh PostgreSQL database, both removed at the end.
 */
async function scaleOutBackend(): Promise<{ env: NodeJS.ProcessEnv; description: string }> {
  const { startS3, s3Credentials } = await import('../support/s3.ts');
  const { createTestDatabase, postgresAvailable } = await import('../support/postgres.ts');
  const unavailable = await postgresAvailable;
  if (unavailable) throw new Error(unavailable);
  const s3 = await startS3();
  onCleanup(() => s3.close());
  const db = await createTestDatabase('bench');
  onCleanup(() => db.drop());
  return {
    env: {
      BERTH_STORAGE: 's3',
      BERTH_S3_BUCKET: s3.bucket,
      BERTH_S3_ENDPOINT: s3.endpoint,
      BERTH_S3_REGION: 'us-east-1',
      BERTH_S3_FORCE_PATH_STYLE: 'true',
      BERTH_METADATA: 'postgres',
      BERTH_POSTGRES_URL: db.url,
      AWS_ACCESS_KEY_ID: s3Credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3Credentials.secretAccessKey,
      // Scale-out deployments are given their KMS root key (every replica the same).
      BERTH_ROOT_KEY: randomBytes(32).toString('base64'),
    },
    description: `s3rver at ${s3.endpoint} (bucket ${s3.bucket}), PostgreSQL database ${new URL(db.url).pathname.slice(1)}`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, backend: { type: 'string', default: 'default' } }, allowPositionals: false });
  if (values.backend !== 'default' && values.backend !== 's3-postgres') throw new Error('--backend is default or s3-postgres');
  const scaleOut = values.backend === 's3-postgres' ? await scaleOutBackend() : undefined;
  const plan = values.quick ? quickPlan : fullPlan;
  const started = Date.now();
  const machineBefore = await readMachineCpu();
  const ownBefore = await readOwnTreeCpuSeconds();

  const stale = await checkBerthBuild();
  if (stale) progress(stale);
  const reference = await ensureReferenceRegistry();
  const { tool, load } = await loadGenerator();
  const workDir = await makeTempDir('berth-bench-');
  const env: Environment = { plan, workDir, reference, load, loadTool: tool, berthEnv: scaleOut?.env ?? {} };

  const cpu = cpus();
  const header = [
    `Berth${scaleOut ? ' on S3 + PostgreSQL' : ''} vs the CNCF reference registry${values.quick ? ' (--quick: reduced sizes, not the real targets)' : ''}`,
    ...(scaleOut ? [`  backends   ${scaleOut.description}`] : []),
    `  node       ${process.version} (${process.execPath})`,
    `  cpu        ${cpu[0]?.model.trim() ?? 'unknown'} x ${cpu.length}, ${fmt(totalmem() / GiB)} GiB RAM, Linux ${release()}`,
    `  reference  ${reference.version}`,
    `  load       ${tool}`,
    `  storage    ${workDir}`,
  ];
  progress(`${header.join('\n')}\n`);

  const blobs = await blobThroughput(env);
  const small = await smallBlobs(env);
  const manifests = await manifestGets(env);
  const rss = await peakRss(env);
  const encryption = await encryptionThroughput(env);
  const replication = await replicationLag(
    plan.replication,
    async () => {
      const r = await startBerth(env.workDir, env.berthEnv);
      live.add(r);
      return { ...r, stop: async () => { live.delete(r); await r.stop(); } };
    },
    progress,
  );

  // Everything the bench started has exited by now, so its CPU time is in our children's counters.
  const machineAfter = await readMachineCpu();
  const wall = machineAfter.total - machineBefore.total;
  const others = machineAfter.busy - machineBefore.busy - ((await readOwnTreeCpuSeconds()) - ownBefore);
  const cpuCount = cpus().length;
  header.push(
    `  others     ${fmt((others / wall) * cpuCount, 2)} of ${cpuCount} CPUs used by other processes on average during the run, ` +
      `${fmt(((machineAfter.steal - machineBefore.steal) / wall) * 100)}% stolen by the hypervisor (figures are noisy when either is high)`,
  );

  const rssLimitMiB = 150;
  const rows: Row[] = [
    ratioRow(`${plan.pushBytes / MiB} MiB monolithic push`, 'MiB/s', blobs.push.values, 3, 1),
    ratioRow(`${plan.pushBytes / MiB} MiB pull`, 'MiB/s', blobs.pull.values, 1, 1),
    ratioRow(`${plan.smallBlobs} small-blob pushes (${plan.smallMinBytes / KiB}-${plan.smallMaxBytes / KiB} KiB, ${plan.smallConcurrency} in flight)`, 'blobs/s', small.values, 1.5, 0),
    ratioRow(`manifest GETs (${plan.manifestConnections} connections)`, 'req/s', manifests.rate.values, 3, 0),
    {
      metric: `peak RSS pushing ${plan.bigBytes / GiB >= 1 ? `${plan.bigBytes / GiB} GiB` : `${plan.bigBytes / MiB} MiB`} (VmHWM)`,
      berth: `${fmt(rss.peakMiB)} MiB`,
      reference: '-',
      ratio: '-',
      target: `<= ${rssLimitMiB} MiB`,
      result: rss.peakMiB <= rssLimitMiB ? 'PASS' : 'MISS',
    },
  ];

  // The targets are the embedded default's; on S3 + PostgreSQL the figures are for comparison.
  const shown: Row[] = scaleOut ? rows.map((r): Row => ({ ...r, target: '-', result: '-' })) : rows;
  const out: string[] = [];
  const encryptionRows: Row[] = [
    ratioRow(`${plan.pushBytes / MiB} MiB push, KMS-encrypted vs plaintext repository`, 'MiB/s', encryption.push.values, 0.7, 1),
    ratioRow(`${plan.pushBytes / MiB} MiB pull, KMS-encrypted vs plaintext repository`, 'MiB/s', encryption.pull.values, 0.7, 1),
  ];
  out.push('', header.join('\n'), '', table(shown), '');
  out.push('Encryption at rest (one Berth; the same blobs pushed to and pulled from both repositories in alternating order):', '');
  out.push(table(encryptionRows, ['metric', 'encrypted', 'plaintext']), '');
  {
    // Where both pulls are bound by this machine's CPU, the encrypted one cannot beat the ratio
    // of the work they need, even with nothing besides the cipher added.
    const server = median(encryption.pull.cpu.reference) * 1000;
    const client = median(encryption.clientPullCpu.reference) * 1000;
    const cipher = encryption.cipherCpu * 1000;
    out.push(
      `  ceiling of the pull ratio where both pulls are CPU-bound (${cpus().length} CPUs here): (plaintext server ${fmt(server, 2)} + client ${fmt(client, 2)}) / (the same + AES-256-GCM ${fmt(cipher, 2)}) ms/MiB = ${fmt((server + client) / (server + client + cipher), 2)}x`,
      '',
    );
  }
  out.push('Replication (Berth to Berth, both on this machine) beside skopeo copying as much distinct content between the same two registries:', '');
  out.push(
    table(
      [
        {
          metric: `${plan.replication.largeBytes / MiB} MiB image: push response to COMPLETE`,
          berth: `${fmt(replication.largeLag, 2)} s`,
          reference: `${fmt(replication.largeSkopeo, 2)} s`,
          ratio: `${fmt(replication.largeSkopeo / replication.largeLag, 2)}x`,
          target: '-',
          result: '-',
        },
        {
          metric: `${plan.replication.smallImages} small images: last push response to all COMPLETE`,
          berth: `${fmt(replication.smallLag, 2)} s`,
          reference: `${fmt(replication.smallSkopeo, 2)} s`,
          ratio: `${fmt(replication.smallSkopeo / Math.max(replication.smallLag, 0.001), 2)}x`,
          target: '-',
          result: '-',
        },
      ],
      ['metric', 'replication lag', 'skopeo'],
    ),
    '',
    ...replication.notes.map((n) => `  ${n}`),
    '',
  );
  if (scaleOut) out.push('Targets apply to the default backends; here S3 is s3rver, a JavaScript S3 server sharing this machine (and the bench process) with everything else.', '');
  out.push(`Throughput figures are the median of the runs below (each registry measured with the same client, in alternating order).`);
  out.push(`  push MiB/s      Berth ${fmtList(blobs.push.values.Berth)} | reference ${fmtList(blobs.push.values.reference)}`);
  out.push(`  pull MiB/s      Berth ${fmtList(blobs.pull.values.Berth)} | reference ${fmtList(blobs.pull.values.reference)}`);
  out.push(`  small blobs/s   Berth ${fmtList(small.values.Berth, 0)} | reference ${fmtList(small.values.reference, 0)}`);
  out.push(`  manifest req/s  Berth ${fmtList(manifests.rate.values.Berth, 0)} | reference ${fmtList(manifests.rate.values.reference, 0)} (${plan.manifestSeconds} s each)`);
  const cpuLine = (what: string, m: Metric, scale: number, unit: string) =>
    `  ${what.padEnd(24)} Berth ${fmt(median(m.cpu.Berth) * scale, 2)} ${unit} | reference ${fmt(median(m.cpu.reference) * scale, 2)} ${unit}`;
  out.push('Server CPU time (user+system, all threads; median per unit of work):');
  out.push(cpuLine('push', blobs.push, 1000, 'ms/MiB'));
  out.push(cpuLine('pull', blobs.pull, 1000, 'ms/MiB'));
  out.push(cpuLine('small-blob push', small, 1000, 'ms/blob'));
  out.push(cpuLine('manifest GET', manifests.rate, 1e6, 'us/request'));
  out.push(`  ${'encrypted push'.padEnd(24)} ${fmt(median(encryption.push.cpu.Berth) * 1000, 2)} ms/MiB | plaintext ${fmt(median(encryption.push.cpu.reference) * 1000, 2)} ms/MiB`);
  out.push(`  ${'encrypted pull'.padEnd(24)} ${fmt(median(encryption.pull.cpu.Berth) * 1000, 2)} ms/MiB | plaintext ${fmt(median(encryption.pull.cpu.reference) * 1000, 2)} ms/MiB`);
  out.push(`  encryption MiB/s  push ${fmtList(encryption.push.values.Berth)} | plaintext ${fmtList(encryption.push.values.reference)}; pull ${fmtList(encryption.pull.values.Berth)} | plaintext ${fmtList(encryption.pull.values.reference)}`);
  out.push('Blob transfers:', ...blobs.notes.map((n) => `  ${n}`));
  if (manifests.notes.length > 0) out.push('Manifest GET latency:', ...manifests.notes.map((n) => `  ${n}`));
  out.push('Berth memory:', ...rss.notes.map((n) => `  ${n}`));
  if (serverLogs.length > 0) out.push('Server output (warnings and errors):', ...serverLogs.map((l) => `  ${l}`));
  out.push(`Finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`, '');
  process.stdout.write(out.join('\n'));
}

// The first way out wins; whatever fails afterwards (requests to servers being stopped) is moot.
let exiting: Promise<never> | undefined;
function exit(code: number): Promise<never> {
  exiting ??= (async () => {
    await runCleanups();
    process.exit(code);
  })();
  return exiting;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    progress(`${signal}: stopping the registries and removing temporary files`);
    void exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const watchdog = setTimeout(() => {
  progress(`still running after ${watchdogMs / 60_000} minutes; giving up`);
  void exit(1);
}, watchdogMs);
watchdog.unref();

main().then(
  () => exit(0),
  (err: unknown) => {
    if (exiting) return exiting;
    process.stderr.write(`\nbench: FAILED: ${(err as Error).stack ?? String(err)}\n`);
    for (const registry of live) {
      const text = registry.output();
      if (text) process.stderr.write(`\n${registry.label} output:\n${indent(text.split('\n').slice(-40).join('\n'))}\n`);
    }
    return exit(1);
  },
);
