import test from 'ava';
import { evaluateLifecyclePolicy, validateLifecyclePolicy, type LifecycleEvaluation, type LifecycleImage, type LifecyclePolicy } from '../../src/lifecycle/index.ts';
import {
  ago,
  anyCount,
  dayMs,
  mustValidate,
  now,
  patternCount,
  policyOf,
  prefixCount,
  pulledDays,
  pushedDays,
  rule,
  seeded,
  toImages,
  untaggedCount,
  type ImageSpec,
} from './fixtures.ts';

interface Scenario {
  readonly title: string;
  readonly policy: unknown;
  readonly images: readonly ImageSpec[];
  /** digest → the rulePriority that expires it. */
  readonly expired: Readonly<Record<string, number>>;
  /** digest → the rulePriority that keeps it (null: no rule selects it). Every image is in one of the two. */
  readonly kept: Readonly<Record<string, number | null>>;
}

const img = (digest: string, tags: string[], pushedDaysAgo: number, pulledDaysAgo?: number): ImageSpec => ({
  digest,
  tags,
  pushedDaysAgo,
  ...(pulledDaysAgo === undefined ? {} : { pulledDaysAgo }),
});

function outcome(evaluation: LifecycleEvaluation): { expired: Record<string, number>; kept: Record<string, number | null> } {
  return {
    expired: Object.fromEntries(evaluation.expired.map((v) => [v.digest, v.rulePriority])),
    kept: Object.fromEntries(evaluation.kept.map((v) => [v.digest, v.rulePriority])),
  };
}

// The examples of AWS's "Examples of lifecycle policies in Amazon ECR", policy text as published,
// with the outcome the page states. "Pushed: N days ago" is N days before `now`; where two images
// share a day, the one listed later is the newer by an hour.
const ecrExamples: Scenario[] = [
  {
    title: 'Filtering on image age (tagged, tagPatternList prod*)',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Expire images older than 14 days",
      "selection": { "tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14 },
      "action": { "type": "expire" } } ] }`,
    images: [img('old-prod', ['prod-1'], 20), img('new-prod', ['prod-2'], 10), img('old-dev', ['dev-1'], 30), img('old-untagged', [], 30)],
    expired: { 'old-prod': 1 },
    kept: { 'new-prod': 1, 'old-dev': null, 'old-untagged': null },
  },
  {
    title: 'Filtering on image age (untagged, earlier edition)',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Expire images older than 14 days",
      "selection": { "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14 },
      "action": { "type": "expire" } } ] }`,
    images: [img('u-old', [], 15), img('u-new', [], 13), img('t-old', ['v1'], 100)],
    expired: { 'u-old': 1 },
    kept: { 'u-new': 1, 't-old': null },
  },
  {
    title: 'Filtering on image count',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Keep only one untagged image, expire all others",
      "selection": { "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1 },
      "action": { "type": "expire" } } ] }`,
    images: [img('u1', [], 3), img('u2', [], 2), img('u3', [], 1), img('t', ['v1'], 5)],
    expired: { u1: 1, u2: 1 },
    kept: { u3: 1, t: null },
  },
  {
    title: 'Filtering on multiple rules, example A',
    policy: `{ "rules": [
      { "rulePriority": 1, "description": "Rule 1", "selection": { "tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } },
      { "rulePriority": 2, "description": "Rule 2", "selection": { "tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }`,
    images: [img('A', ['beta-1', 'prod-1'], 10), img('B', ['beta-2', 'prod-2'], 9), img('C', ['beta-3'], 8)],
    expired: { A: 1 },
    kept: { B: 1, C: 2 },
  },
  {
    title: 'Filtering on multiple rules, example A (tagPatternList edition)',
    policy: `{ "rules": [
      { "rulePriority": 1, "description": "Rule 1", "selection": { "tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } },
      { "rulePriority": 2, "description": "Rule 2", "selection": { "tagStatus": "tagged", "tagPatternList": ["beta*"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }`,
    images: [img('A', ['beta-1', 'prod-1'], 10), img('B', ['beta-2', 'prod-2'], 9), img('C', ['beta-3'], 8)],
    expired: { A: 1 },
    kept: { B: 1, C: 2 },
  },
  {
    title: 'Filtering on multiple rules, example B',
    policy: `{ "rules": [
      { "rulePriority": 1, "description": "Rule 1", "selection": { "tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } },
      { "rulePriority": 2, "description": "Rule 2", "selection": { "tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }`,
    images: [img('A', ['beta-1', 'prod-1'], 10), img('B', ['beta-2', 'prod-2'], 9), img('C', ['beta-3'], 8)],
    expired: { A: 1, B: 1 },
    kept: { C: 1 },
  },
  {
    title: 'Filtering on multiple tags in a single rule, example A',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Rule 1",
      "selection": { "tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "sinceImagePushed", "countNumber": 5, "countUnit": "days" },
      "action": { "type": "expire" } } ] }`,
    images: [
      img('A', ['alpha-1'], 12),
      img('B', ['beta-1'], 11),
      img('C', ['alpha-2', 'beta-2'], 10),
      img('D', ['alpha-3'], 4),
      img('E', ['beta-3'], 3),
      img('F', ['alpha-4', 'beta-4'], 2),
    ],
    expired: { C: 1 },
    kept: { A: null, B: null, D: null, E: null, F: 1 },
  },
  {
    title: 'Filtering on multiple tags in a single rule, example B',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Rule 1",
      "selection": { "tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "imageCountMoreThan", "countNumber": 1 },
      "action": { "type": "expire" } } ] }`,
    images: [img('A', ['alpha-1', 'beta-1', 'gamma-1'], 10), img('B', ['alpha-2', 'beta-2'], 9), img('C', ['alpha-3', 'beta-3', 'gamma-2'], 8)],
    expired: { A: 1, B: 1 },
    kept: { C: 1 },
  },
  {
    title: 'Filtering on all images, example A',
    policy: `{ "rules": [ { "rulePriority": 1, "description": "Rule 1",
      "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1 },
      "action": { "type": "expire" } } ] }`,
    images: [img('A', ['alpha-1'], 4), img('B', ['beta-1'], 3), img('C', [], 2), img('D', ['alpha-2'], 1)],
    expired: { A: 1, B: 1, C: 1 },
    kept: { D: 1 },
  },
  {
    title: 'Filtering on all images, example B',
    policy: `{ "rules": [
      { "rulePriority": 1, "description": "Rule 1", "selection": { "tagStatus": "tagged", "tagPrefixList": ["alpha"], "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } },
      { "rulePriority": 2, "description": "Rule 2", "selection": { "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1 }, "action": { "type": "expire" } },
      { "rulePriority": 3, "description": "Rule 3", "selection": { "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1 }, "action": { "type": "expire" } } ] }`,
    // D and E were both "pushed 1 day ago"; E, listed last, is the newer and not yet older than a day.
    images: [img('A', ['alpha-1', 'beta-1'], 4), img('B', [], 3), img('C', ['alpha-2'], 2), img('D', ['git hash'], 1 + 1 / 24), img('E', [], 1 - 1 / 24)],
    expired: { A: 1, B: 2, D: 3 },
    kept: { C: 1, E: 2 },
  },
];

const k = 'tagged';
const edgeCases: Scenario[] = [
  {
    title: 'a kept image is claimed: rule 2 "any" older than 14 days cannot expire the 5 newest prod images',
    policy: policyOf(rule(1, patternCount(['prod*'], 5)), rule(2, pushedDays({ tagStatus: 'any' }, 14))),
    images: [
      img('p1', ['prod-1'], 40),
      img('p2', ['prod-2'], 35),
      img('p3', ['prod-3'], 30),
      img('p4', ['prod-4'], 25),
      img('p5', ['prod-5'], 20),
      img('p6', ['prod-6'], 15),
      img('p7', ['prod-7'], 2),
      img('d1', ['dev-1'], 30),
      img('d2', ['dev-2'], 3),
      img('u1', [], 20),
    ],
    expired: { p1: 1, p2: 1, d1: 2, u1: 2 },
    kept: { p3: 1, p4: 1, p5: 1, p6: 1, p7: 1, d2: 2 },
  },
  {
    title: 'an age rule keeps what it selects from a count rule below it',
    policy: policyOf(rule(1, pushedDays({ tagStatus: k, tagPrefixList: ['release'] }, 365)), rule(2, anyCount(1))),
    images: [img('r-old', ['release-1'], 300), img('r-new', ['release-2'], 100), img('x', ['x'], 50), img('y', [], 1)],
    expired: { x: 2 },
    kept: { 'r-old': 1, 'r-new': 1, y: 2 },
  },
  {
    title: 'a count rule counts the images higher-priority rules claim',
    policy: policyOf(rule(1, prefixCount(['prod'], 100)), rule(2, anyCount(2))),
    images: [img('prod-new', ['prod-2'], 1), img('prod-old', ['prod-1'], 2), img('dev-new', ['dev'], 3), img('dev-old', ['dev-0'], 4)],
    // Rule 2 ranks all four images; the two dev images are its 3rd and 4th, so both go.
    expired: { 'dev-new': 2, 'dev-old': 2 },
    kept: { 'prod-new': 1, 'prod-old': 1 },
  },
  {
    title: 'the rules array order does not matter, only rulePriority',
    policy: policyOf(rule(20, anyCount(1)), rule(10, prefixCount(['keep'], 10))),
    images: [img('keep', ['keep-me'], 9), img('a', ['a'], 2), img('b', ['b'], 1)],
    expired: { a: 20 },
    kept: { keep: 10, b: 20 },
  },
  {
    title: 'untagged rules see only untagged images, "any" sees both',
    policy: policyOf(rule(1, untaggedCount(1)), rule(2, anyCount(2))),
    images: [img('u1', [], 5), img('u2', [], 4), img('t1', ['a'], 3), img('t2', ['b'], 2), img('u3', [], 1)],
    expired: { u1: 1, u2: 1, t1: 2 },
    kept: { u3: 1, t2: 2 },
  },
  {
    title: 'sinceImagePulled: a recent pull keeps an old image, an old pull or none expires it',
    policy: policyOf(rule(1, pulledDays({ tagStatus: 'any' }, 30))),
    images: [
      img('pulled-recently', ['a'], 400, 2),
      img('pulled-long-ago', ['b'], 400, 200),
      img('never-pulled-old', ['c'], 45),
      img('never-pulled-new', ['d'], 10),
      img('pulled-exactly-30', ['e'], 90, 30),
    ],
    expired: { 'pulled-long-ago': 1, 'never-pulled-old': 1 },
    kept: { 'pulled-recently': 1, 'never-pulled-new': 1, 'pulled-exactly-30': 1 },
  },
  {
    title: 'sinceImagePulled: a pull record older than the push counts from the push',
    policy: policyOf(rule(1, pulledDays({ tagStatus: 'any' }, 30))),
    images: [img('repushed', ['a'], 5, 100)],
    expired: {},
    kept: { repushed: 1 },
  },
  {
    title: 'sinceImagePushed: exactly N days is not more than N days',
    policy: policyOf(rule(1, pushedDays({ tagStatus: 'any' }, 14))),
    images: [img('exactly', ['a'], 14), img('just-over', ['b'], 14 + 1 / dayMs), img('future', ['c'], -1)],
    expired: { 'just-over': 1 },
    kept: { exactly: 1, future: 1 },
  },
  {
    title: 'wildcards: prefix, suffix, middle, several, and the empty match',
    policy: policyOf(
      rule(1, pushedDays({ tagStatus: k, tagPatternList: ['*-rc*'] }, 1)),
      rule(2, pushedDays({ tagStatus: k, tagPatternList: ['*-arm64'] }, 1)),
      rule(3, pushedDays({ tagStatus: k, tagPatternList: ['v*.*.*'] }, 1)),
      rule(4, pushedDays({ tagStatus: k, tagPatternList: ['nightly*'] }, 1)),
    ),
    images: [
      img('rc', ['1.0-rc2'], 2),
      img('rc-empty', ['-rc'], 2),
      img('arm', ['v2-arm64'], 2),
      img('semver', ['v1.2.3'], 2),
      img('not-semver', ['v1.2'], 2),
      img('nightly-bare', ['nightly'], 2),
      img('nothing', ['stable'], 2),
    ],
    expired: { rc: 1, 'rc-empty': 1, arm: 2, semver: 3, 'nightly-bare': 4 },
    kept: { 'not-semver': null, nothing: null },
  },
  {
    title: 'several patterns in one rule must all match',
    policy: policyOf(rule(1, patternCount(['*-amd64', 'v*'], 1))),
    images: [img('both-old', ['v1-amd64'], 3), img('both-new', ['v2', 'x-amd64'], 2), img('one', ['latest-amd64'], 1)],
    expired: { 'both-old': 1 },
    kept: { 'both-new': 1, one: null },
  },
  {
    title: 'images pushed at the same instant: the smaller digest counts as newer',
    policy: policyOf(rule(1, anyCount(2))),
    images: [img('sha256:c', ['c'], 1), img('sha256:a', ['a'], 1), img('sha256:b', ['b'], 1)],
    expired: { 'sha256:c': 1 },
    kept: { 'sha256:a': 1, 'sha256:b': 1 },
  },
  {
    title: 'an empty repository',
    policy: policyOf(rule(1, anyCount(1))),
    images: [],
    expired: {},
    kept: {},
  },
];

for (const s of [...ecrExamples.map((s) => ({ ...s, title: `ECR example: ${s.title}` })), ...edgeCases]) {
  test(s.title, (t) => {
    const result = evaluateLifecyclePolicy(mustValidate(s.policy), toImages(s.images), now);
    t.deepEqual(outcome(result), { expired: s.expired, kept: s.kept });
  });
}

test('results are listed oldest push first', (t) => {
  const policy = mustValidate(policyOf(rule(1, anyCount(2))));
  const result = evaluateLifecyclePolicy(policy, toImages([img('b', [], 2), img('d', [], 4), img('a', [], 1), img('c', [], 3), img('e', [], 5)]), now);
  t.deepEqual(
    result.expired.map((v) => v.digest),
    ['e', 'd', 'c'],
  );
  t.deepEqual(
    result.kept.map((v) => v.digest),
    ['b', 'a'],
  );
});

test('the outcome does not depend on the order of the input', (t) => {
  const policy = mustValidate(policyOf(rule(1, prefixCount(['p'], 3)), rule(2, pushedDays({ tagStatus: 'untagged' }, 5)), rule(3, anyCount(4))));
  const specs = Array.from({ length: 30 }, (_, i) => img(`sha256:${String(i).padStart(2, '0')}`, i % 3 === 0 ? [] : [`${i % 2 ? 'p' : 'q'}-${i}`], i % 7));
  const forward = evaluateLifecyclePolicy(policy, toImages(specs), now);
  const backward = evaluateLifecyclePolicy(policy, toImages([...specs].reverse()), now);
  t.deepEqual(backward, forward);
});

test('Dates and epoch milliseconds are the same', (t) => {
  const policy = mustValidate(policyOf(rule(1, pulledDays({ tagStatus: 'any' }, 3))));
  const asNumbers = evaluateLifecyclePolicy(policy, [{ digest: 'x', tags: [], pushedAt: ago(10), lastPulledAt: ago(4) }], now);
  const asDates = evaluateLifecyclePolicy(policy, [{ digest: 'x', tags: [], pushedAt: new Date(ago(10)), lastPulledAt: new Date(ago(4)) }], new Date(now));
  t.deepEqual(asDates, asNumbers);
  t.is(asNumbers.expired.length, 1);
  // null is "never pulled", like an absent lastPulledAt
  const nullPull = evaluateLifecyclePolicy(policy, [{ digest: 'x', tags: [], pushedAt: ago(2), lastPulledAt: null }], now);
  t.is(nullPull.kept.length, 1);
});

test('reasons explain each verdict', (t) => {
  const policy = mustValidate(
    policyOf(
      rule(1, prefixCount(['alpha', 'beta'], 2)),
      rule(2, pushedDays({ tagStatus: 'untagged' }, 7)),
      rule(3, pulledDays({ tagStatus: 'tagged', tagPatternList: ['feat-*'] }, 14)),
      rule(4, anyCount(1)),
    ),
  );
  const result = evaluateLifecyclePolicy(
    policy,
    toImages([
      img('ab3', ['alpha-3', 'beta-3'], 3),
      img('ab2', ['alpha-2', 'beta-2'], 2),
      img('ab1', ['alpha-1', 'beta-1'], 1),
      img('u', [], 10),
      img('f-never', ['feat-1'], 20),
      img('f-pulled', ['feat-2'], 20, 15.5),
      img('other', ['x'], 0.5),
    ]),
    now,
  );
  const reasons = Object.fromEntries([...result.expired, ...result.kept].map((v) => [v.digest, v.reason]));
  t.deepEqual(reasons, {
    ab3: 'rule 1 keeps the 2 most recently pushed images with tags starting with "alpha" and "beta"; this is number 3 (newest first)',
    ab1: 'rule 1 keeps the 2 most recently pushed images with tags starting with "alpha" and "beta"; this is number 1 (newest first)',
    ab2: 'rule 1 keeps the 2 most recently pushed images with tags starting with "alpha" and "beta"; this is number 2 (newest first)',
    u: 'rule 2 expires untagged images pushed more than 7 days ago; this one was pushed 10.0 days ago',
    'f-never': 'rule 3 expires images with tags matching "feat-*" last pulled more than 14 days ago; this one was never pulled, pushed 20.0 days ago',
    'f-pulled': 'rule 3 expires images with tags matching "feat-*" last pulled more than 14 days ago; this one was last pulled 15.5 days ago',
    other: 'rule 4 keeps only the most recently pushed of the images; this is number 1 (newest first)',
  });
  const unselected = evaluateLifecyclePolicy(mustValidate(policyOf(rule(1, untaggedCount(1)))), toImages([img('t', ['v1'], 1)]), now);
  t.deepEqual(unselected.kept, [{ digest: 't', tags: ['v1'], rulePriority: null, reason: 'no rule selects this image' }]);
});

test('a timestamp that is not a time is a TypeError', (t) => {
  const policy = mustValidate(policyOf(rule(1, anyCount(1))));
  t.throws(() => evaluateLifecyclePolicy(policy, [{ digest: 'x', tags: [], pushedAt: Number.NaN }], now), { instanceOf: TypeError, message: /pushedAt of x/ });
  t.throws(() => evaluateLifecyclePolicy(policy, [{ digest: 'x', tags: [], pushedAt: new Date('nope') }], now), { instanceOf: TypeError });
  t.throws(() => evaluateLifecyclePolicy(policy, [], Number.POSITIVE_INFINITY), { instanceOf: TypeError, message: /now/ });
});

// A second, deliberately naive evaluator written straight from ECR's description: every rule first
// identifies and marks images on its own, then rules are applied by priority. Tag patterns become
// regular expressions here, so the two share no matching code.
function reference(policy: LifecyclePolicy, images: readonly LifecycleImage[], at: number): { expired: Record<string, number>; kept: Record<string, number | null> } {
  const time = (v: Date | number | null | undefined): number | undefined => (v == null ? undefined : typeof v === 'number' ? v : v.getTime());
  const newestFirst = [...images].sort((a, b) => (time(b.pushedAt) as number) - (time(a.pushedAt) as number) || (a.digest < b.digest ? -1 : 1));
  const toRegExp = (pattern: string): RegExp => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.\\^$+?()[\]{}|-]/g, '\\$&')).join('.*')}$`);
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const phase1 = rules.map((r) => {
    const s = r.selection;
    const identifies = (image: LifecycleImage): boolean => {
      if (s.tagStatus === 'any') return true;
      if (s.tagStatus === 'untagged') return image.tags.length === 0;
      const tests = [...(s.tagPrefixList ?? []).map((p) => (tag: string) => tag.startsWith(p)), ...(s.tagPatternList ?? []).map((p) => (tag: string) => toRegExp(p).test(tag))];
      return image.tags.length > 0 && tests.every((matches) => image.tags.some(matches));
    };
    const identified = newestFirst.filter(identifies);
    const limit = s.countNumber * dayMs;
    const marked =
      s.countType === 'imageCountMoreThan'
        ? identified.slice(s.countNumber)
        : identified.filter((image) => {
            const pushed = time(image.pushedAt) as number;
            const pulled = time(image.lastPulledAt);
            const since = s.countType === 'sinceImagePushed' || pulled === undefined ? pushed : Math.max(pushed, pulled);
            return at - since > limit;
          });
    return { priority: r.rulePriority, identified: new Set(identified.map((i) => i.digest)), marked: new Set(marked.map((i) => i.digest)) };
  });
  const expired: Record<string, number> = {};
  const kept: Record<string, number | null> = {};
  for (const image of images) {
    const owner = phase1.find((r) => r.identified.has(image.digest));
    if (owner === undefined) kept[image.digest] = null;
    else if (owner.marked.has(image.digest)) expired[image.digest] = owner.priority;
    else kept[image.digest] = owner.priority;
  }
  return { expired, kept };
}

test('randomized repositories and policies agree with the naive reference evaluator', (t) => {
  const random = seeded(4242);
  const words = ['prod', 'beta', 'v1', 'v2', 'rc', 'main', 'feat', 'a', 'b'];
  let compared = 0;
  for (let round = 0; round < 150; round++) {
    const images: LifecycleImage[] = Array.from({ length: 200 + random.int(200) }, (_, i) => {
      const tagCount = random.next() < 0.25 ? 0 : 1 + random.int(3);
      const tags = Array.from({ length: tagCount }, () => `${random.pick(words)}${random.pick(['', '-', '.', '-rc'])}${random.int(30)}`);
      const pushedAt = ago(random.int(120), random.int(24));
      const pulled = random.next() < 0.5 ? undefined : pushedAt + random.int(200) * 3_600_000 - 50 * 3_600_000;
      return { digest: `sha256:${round}-${i}`, tags, pushedAt: random.next() < 0.5 ? pushedAt : new Date(pushedAt), ...(pulled === undefined ? {} : { lastPulledAt: pulled }) };
    });
    const ruleCount = 1 + random.int(6);
    const rules = Array.from({ length: ruleCount }, (_, i) => {
      const status = i === ruleCount - 1 && random.next() < 0.4 ? 'any' : i === 0 && random.next() < 0.3 ? 'untagged' : 'tagged';
      const criteria: Record<string, unknown> = { tagStatus: status };
      if (status === 'tagged') {
        const entries = Array.from({ length: 1 + random.int(2) }, () => random.pick(words));
        if (random.next() < 0.5) criteria.tagPrefixList = entries;
        else criteria.tagPatternList = entries.map((e) => random.pick([`${e}*`, `*${e}*`, `${e}*1*`, `*-rc*`, `*${e}`]));
      }
      const kind = random.int(3);
      const selection = kind === 0 ? { ...criteria, countType: 'imageCountMoreThan', countNumber: 1 + random.int(40) } : kind === 1 ? pushedDays(criteria, 1 + random.int(60)) : pulledDays(criteria, 1 + random.int(60));
      return rule(i * 10 + 1 + random.int(9), selection);
    });
    const validated = validateLifecyclePolicy(policyOf(...rules));
    if (!validated.ok) continue; // e.g. two rules drew the same criteria
    compared++;
    t.deepEqual(outcome(evaluateLifecyclePolicy(validated.policy, images, now)), reference(validated.policy, images, now), `round ${round}`);
  }
  t.true(compared > 100, `only ${compared} policies compared`);
});
