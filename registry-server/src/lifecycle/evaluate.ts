// Evaluation of a lifecycle policy over one repository's images, with ECR's semantics:
// - every rule looks at every image its tag criteria select, as if no other rule existed, so an
//   imageCountMoreThan rule counts images that higher-priority rules also select ("rules can
//   never mark images that are marked by higher priority rules, but can still identify them");
// - an image belongs to the highest-priority rule (lowest rulePriority) that selects it, which
//   alone decides its fate, even when that rule keeps it ("an image that matches the tagging
//   requirements of a rule cannot be expired by a rule with a lower priority").
// One sort and linear passes: tag matching and verdicts in input order (the order the image objects
// sit in memory), ranking newest first over typed arrays only.
import { dayMs, type CountType, type LifecyclePolicy, type LifecycleRule, type LifecycleSelection } from './policy.ts';
import { compileSelector, type ImageSelector } from './tag-matcher.ts';

export interface LifecycleImage {
  readonly digest: string;
  readonly tags: readonly string[];
  /** A Date or milliseconds since the epoch. */
  readonly pushedAt: Date | number;
  /** Absent or null when the image was never pulled. */
  readonly lastPulledAt?: Date | number | null;
}

/** What happens to one image: the rule that decided (null when none selects it) and why. */
export interface ImageVerdict {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly rulePriority: number | null;
  readonly reason: string;
}

export interface ExpiredImage extends ImageVerdict {
  readonly rulePriority: number;
}

export interface LifecycleEvaluation {
  /** Oldest push first, the order ECR expires in. */
  readonly expired: readonly ExpiredImage[];
  /** Oldest push first. */
  readonly kept: readonly ImageVerdict[];
}

interface CompiledRule {
  readonly priority: number;
  readonly select: ImageSelector;
  readonly countType: CountType;
  readonly countNumber: number;
  /** Position among the policy's imageCountMoreThan rules; -1 for the others. */
  readonly countSlot: number;
  /** Whether this rule or one after it counts: once an image has its owner, only those still look at it. */
  readonly countsFromHere: boolean;
  readonly explain: (rank: number, since: number, pulled: boolean, now: number) => string;
}

/**
 * Which images `policy` expires at time `now`, and why each image is expired or kept.
 * `policy` must come from `validateLifecyclePolicy`. Images pushed at the same instant are ordered
 * by digest (the smaller counts as newer), so the outcome never depends on the input order.
 * Throws a TypeError when a time it needs is not a valid time.
 */
export function evaluateLifecyclePolicy(policy: LifecyclePolicy, images: readonly LifecycleImage[], now: Date | number): LifecycleEvaluation {
  const nowMs = timestamp(now, 'now');
  const rules = compileRules(policy);
  const counters = rules.filter((rule) => rule.countSlot >= 0).length;
  const n = images.length;

  // Pass 1, in input order (usually the order the image objects were allocated in, so memory is
  // read front to back): the owning rule of each image, the first that selects it, and which count
  // rules select it.
  const pushed = new Float64Array(n);
  const owner = new Int32Array(n); // -1 when no rule selects the image
  const countedBy = new Uint8Array(n * counters);
  for (let i = 0; i < n; i++) {
    const image = images[i] as LifecycleImage;
    pushed[i] = timestamp(image.pushedAt, `pushedAt of ${image.digest}`);
    let own = -1;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r] as CompiledRule;
      if (own >= 0 && !rule.countsFromHere) break;
      if (own >= 0 && rule.countSlot < 0) continue;
      if (!rule.select(image.tags)) continue;
      if (own < 0) own = r;
      if (rule.countSlot >= 0) countedBy[i * counters + rule.countSlot] = 1;
    }
    owner[i] = own;
  }

  // Sorted once, newest first.
  const order = new Array<number>(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const byTime = (pushed[b] as number) - (pushed[a] as number);
    if (byTime !== 0) return byTime;
    const da = (images[a] as LifecycleImage).digest;
    const db = (images[b] as LifecycleImage).digest;
    return da < db ? -1 : da > db ? 1 : 0;
  });

  // Pass 2, newest first, over typed arrays only: each image's rank within its owner, when the
  // owner counts. Every count rule counts every image it selects, owned or not.
  const rank = new Uint32Array(n);
  const seen = new Uint32Array(counters);
  if (counters > 0) {
    for (let k = 0; k < n; k++) {
      const i = order[k] as number;
      const base = i * counters;
      for (let c = 0; c < counters; c++) if (countedBy[base + c] === 1) seen[c] = (seen[c] as number) + 1;
      const own = owner[i] as number;
      const slot = own < 0 ? -1 : (rules[own] as CompiledRule).countSlot;
      if (slot >= 0) rank[i] = seen[slot] as number;
    }
  }

  // Pass 3, in input order again: each image's verdict.
  const verdicts = new Array<ImageVerdict>(n);
  const expires = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const image = images[i] as LifecycleImage;
    const own = owner[i] as number;
    if (own < 0) {
      verdicts[i] = { digest: image.digest, tags: image.tags, rulePriority: null, reason: 'no rule selects this image' };
      continue;
    }
    const rule = rules[own] as CompiledRule;
    const pushedAt = pushed[i] as number;
    let since = pushedAt;
    let pulled = false;
    if (rule.countType === 'sinceImagePulled' && image.lastPulledAt != null) {
      // A pull record older than the push (the digest was deleted and pushed again) does not
      // make the image idle for longer than it has existed.
      since = Math.max(timestamp(image.lastPulledAt, `lastPulledAt of ${image.digest}`), pushedAt);
      pulled = true;
    }
    const imageRank = rank[i] as number;
    const expire = rule.countType === 'imageCountMoreThan' ? imageRank > rule.countNumber : nowMs - since > rule.countNumber * dayMs;
    if (expire) expires[i] = 1;
    verdicts[i] = { digest: image.digest, tags: image.tags, rulePriority: rule.priority, reason: rule.explain(imageRank, since, pulled, nowMs) };
  }

  // Oldest first. Only references move here, so the image objects are not visited out of order.
  const expired: ExpiredImage[] = [];
  const kept: ImageVerdict[] = [];
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k] as number;
    if (expires[i] === 1) expired.push(verdicts[i] as ExpiredImage);
    else kept.push(verdicts[i] as ImageVerdict);
  }
  return { expired, kept };
}

function compileRules(policy: LifecyclePolicy): CompiledRule[] {
  const sorted = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority);
  const countsFrom = new Array<boolean>(sorted.length).fill(false);
  for (let r = sorted.length - 1, later = false; r >= 0; r--) {
    later ||= sorted[r]?.selection.countType === 'imageCountMoreThan';
    countsFrom[r] = later;
  }
  let slots = 0;
  return sorted.map((rule, r) => ({
    priority: rule.rulePriority,
    select: compileSelector(rule.selection),
    countType: rule.selection.countType,
    countNumber: rule.selection.countNumber,
    countSlot: rule.selection.countType === 'imageCountMoreThan' ? slots++ : -1,
    countsFromHere: countsFrom[r] === true,
    explain: compileExplanation(rule),
  }));
}

/** A rule's explanation of its verdict, the fixed part written once. */
function compileExplanation(rule: LifecycleRule): CompiledRule['explain'] {
  const { selection, rulePriority } = rule;
  const what = describeSelection(selection);
  const n = selection.countNumber;
  switch (selection.countType) {
    case 'imageCountMoreThan': {
      const keeps = n === 1 ? `only the most recently pushed of the ${what}` : `the ${n} most recently pushed ${what}`;
      const head = `rule ${rulePriority} keeps ${keeps}; this is number `;
      return (rank) => `${head}${rank} (newest first)`;
    }
    case 'sinceImagePushed': {
      const head = `rule ${rulePriority} expires ${what} pushed more than ${days(n)} ago; this one was pushed `;
      return (_rank, since, _pulled, now) => head + ago(now - since);
    }
    case 'sinceImagePulled': {
      const head = `rule ${rulePriority} expires ${what} last pulled more than ${days(n)} ago; this one was `;
      return (_rank, since, pulled, now) => `${head}${pulled ? 'last pulled' : 'never pulled, pushed'} ${ago(now - since)}`;
    }
  }
}

function describeSelection(selection: LifecycleSelection): string {
  switch (selection.tagStatus) {
    case 'any':
      return 'images';
    case 'untagged':
      return 'untagged images';
    case 'tagged':
      return selection.tagPrefixList !== undefined
        ? `images with tags starting with ${quoteAll(selection.tagPrefixList)}`
        : `images with tags matching ${quoteAll(selection.tagPatternList ?? [])}`;
  }
}

/** "a", "a" and "b", "a", "b" and "c": every entry must be matched. */
function quoteAll(entries: readonly string[]): string {
  const quoted = [...new Set(entries)].map((e) => JSON.stringify(e));
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

function ago(ms: number): string {
  return `${(ms / dayMs).toFixed(1)} days ago`;
}

function timestamp(value: Date | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`${what} is not a valid time`);
  return ms;
}
