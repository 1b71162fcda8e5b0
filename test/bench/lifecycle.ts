// Lifecycle policy evaluation over synthetic repositories of 10k, 50k and 100k images with a
// CI-like tag mix and a seven-rule policy using every criterion. Prints the time per size and the
// cost per image, which should stay flat as the repository grows (evaluation is one sort plus one
// linear pass). A measurement, not a test: it asserts nothing about time.
//
//   node test/bench/lifecycle.ts
import { canonicalLifecyclePolicy, evaluateLifecyclePolicy, validateLifecyclePolicy, type LifecycleImage } from '../../registry-server/src/lifecycle/index.ts';

const sizes = [10_000, 50_000, 100_000];
const warmups = 2;
const runs = 15;
const dayMs = 86_400_000;
const now = Date.UTC(2025, 5, 30);

const policyText = JSON.stringify({
  rules: [
    { rulePriority: 1, description: 'keep the last 50 production images', selection: { tagStatus: 'tagged', tagPatternList: ['prod-*'], countType: 'imageCountMoreThan', countNumber: 50 }, action: { type: 'expire' } },
    { rulePriority: 2, description: 'release candidates live 30 days', selection: { tagStatus: 'tagged', tagPatternList: ['v*.*-rc*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
    { rulePriority: 3, description: 'keep 200 releases', selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 200 }, action: { type: 'expire' } },
    { rulePriority: 4, description: 'pull request builds live 14 days', selection: { tagStatus: 'tagged', tagPatternList: ['pr-*'], countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } },
    { rulePriority: 5, description: 'idle feature builds go after 30 days', selection: { tagStatus: 'tagged', tagPatternList: ['feature-*', 'sha-*'], countType: 'sinceImagePulled', countUnit: 'days', countNumber: 30 }, action: { type: 'expire' } },
    { rulePriority: 6, description: 'untagged images live a week', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } },
    { rulePriority: 7, description: 'never more than 5000 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5000 }, action: { type: 'expire' } },
  ],
});

/** xorshift32: the same repositories on every run. */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return Math.floor((state / 4_294_967_296) * n);
  };
}

/**
 * A repository as CI fills it: a third untagged (superseded builds), commit builds tagged with
 * their sha and a branch, pull request builds, releases with candidates, production promotions,
 * and a few floating tags. Pushes spread over two years; most images were pulled at some point.
 */
function repository(size: number, seed: number): LifecycleImage[] {
  const rand = generator(seed);
  const hex = (): string => rand(0x10000000).toString(16).padStart(7, '0');
  const images: LifecycleImage[] = [];
  for (let i = 0; i < size; i++) {
    const pushedAt = now - rand(730 * dayMs);
    const kind = rand(100);
    let tags: string[];
    if (kind < 33) tags = [];
    else if (kind < 68) tags = [`sha-${hex()}`, rand(3) === 0 ? `main-${i}` : `feature-${['login', 'search', 'billing', 'api'][rand(4)]}-${i}`];
    else if (kind < 80) tags = [`pr-${rand(5000)}`, `sha-${hex()}`];
    else if (kind < 92) tags = [`v${rand(5)}.${rand(20)}.${rand(30)}${rand(4) === 0 ? `-rc${rand(5)}` : ''}`];
    else if (kind < 98) tags = [`prod-${new Date(pushedAt).toISOString().slice(0, 10)}-${i}`, `v${rand(5)}.${rand(20)}.${rand(30)}`];
    else tags = [['latest', 'stable', 'edge'][rand(3)] as string, `nightly-${i}`];
    const pulled = rand(10) < 6;
    images.push({ digest: `sha256:${i.toString(16).padStart(64, '0')}`, tags, pushedAt, ...(pulled ? { lastPulledAt: pushedAt + rand(now - pushedAt + 1) } : {}) });
  }
  return images;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const validated = validateLifecyclePolicy(policyText);
if (!validated.ok) throw new Error(`benchmark policy is invalid: ${JSON.stringify(validated.errors)}`);
const policy = validated.policy;
console.log(`lifecycle evaluation: ${policy.rules.length}-rule policy (${canonicalLifecyclePolicy(policy).length} characters canonical), Node ${process.version}`);
console.log(`median and best of ${runs} runs per size, sizes interleaved, after ${warmups} warm-up runs each`);
console.log('shuffled: images in random push order (the sort does real work); push order: as a store listing by push time returns them\n');

// Sizes and orders take turns run by run, so a burst of load elsewhere on the machine lands on all of them.
const orders = ['shuffled', 'push order'] as const;
const cases = sizes.flatMap((size) => {
  const shuffled = repository(size, 0x9e3779b9 ^ size);
  // Cloned, so the objects also sit in memory in push order, as a store building them row by row leaves them.
  const ordered = structuredClone([...shuffled].sort((a, b) => (a.pushedAt as number) - (b.pushedAt as number)));
  return [
    { size, order: orders[0], images: shuffled, times: [] as number[], expired: 0 },
    { size, order: orders[1], images: ordered, times: [] as number[], expired: 0 },
  ];
});
for (const c of cases) for (let i = 0; i < warmups; i++) evaluateLifecyclePolicy(policy, c.images, now);
for (let run = 0; run < runs; run++) {
  for (const c of cases) {
    const start = process.hrtime.bigint();
    const result = evaluateLifecyclePolicy(policy, c.images, now);
    c.times.push(Number(process.hrtime.bigint() - start) / 1e6);
    c.expired = result.expired.length;
  }
}

const columns = ['median ms', 'best ms', 'ns/image', 'vs 10k'];
console.log(`${''.padEnd(8)}${orders.map((o) => o.padStart(24).padEnd(40)).join('')}`);
console.log(`${'images'.padEnd(8)}${orders.map(() => columns.map((h) => h.padStart(10)).join('')).join('')}${'expired'.padStart(10)}`);
const baseline = new Map<string, number>();
for (const size of sizes) {
  let line = String(size).padEnd(8);
  let expired = 0;
  for (const order of orders) {
    const c = cases.find((x) => x.size === size && x.order === order);
    if (c === undefined) continue;
    const ms = median(c.times);
    const perImage = (ms * 1e6) / size;
    if (!baseline.has(order)) baseline.set(order, perImage);
    line += [ms.toFixed(1), Math.min(...c.times).toFixed(1), perImage.toFixed(0), `${(perImage / (baseline.get(order) as number)).toFixed(2)}x`].map((v) => v.padStart(10)).join('');
    expired = c.expired;
  }
  console.log(line + String(expired).padStart(10));
}
