// Shared helpers for the lifecycle tests: a fixed clock, policy builders and a seeded generator.
import { validateLifecyclePolicy, type LifecycleImage, type LifecyclePolicy } from '../../src/lifecycle/index.ts';

export const dayMs = 86_400_000;
export const hourMs = 3_600_000;
export const now = Date.UTC(2025, 5, 30, 12);

/** The instant `days` (and `hours`) before `now`. */
export function ago(days: number, hours = 0): number {
  return now - days * dayMs - hours * hourMs;
}

export function mustValidate(input: unknown): LifecyclePolicy {
  const result = validateLifecyclePolicy(input);
  if (!result.ok) throw new Error(`expected a valid policy: ${JSON.stringify(result.errors)}`);
  return result.policy;
}

type Json = Record<string, unknown>;

/** A rule as ECR's JSON, with the selection given in full. */
export function rule(rulePriority: number, selection: Json, extra: Json = {}): Json {
  return { rulePriority, description: `Rule ${rulePriority}`, selection, action: { type: 'expire' }, ...extra };
}

export const untaggedCount = (countNumber: number): Json => ({ tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber });
export const anyCount = (countNumber: number): Json => ({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber });
export const prefixCount = (tagPrefixList: string[], countNumber: number): Json => ({
  tagStatus: 'tagged',
  tagPrefixList,
  countType: 'imageCountMoreThan',
  countNumber,
});
export const patternCount = (tagPatternList: string[], countNumber: number): Json => ({
  tagStatus: 'tagged',
  tagPatternList,
  countType: 'imageCountMoreThan',
  countNumber,
});
export const pushedDays = (criteria: Json, countNumber: number): Json => ({ ...criteria, countType: 'sinceImagePushed', countUnit: 'days', countNumber });
export const pulledDays = (criteria: Json, countNumber: number): Json => ({ ...criteria, countType: 'sinceImagePulled', countUnit: 'days', countNumber });

export function policyOf(...rules: Json[]): Json {
  return { rules };
}

/** An image in a scenario, its times in days before `now`. */
export interface ImageSpec {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly pushedDaysAgo: number;
  readonly pulledDaysAgo?: number;
}

export function toImages(specs: readonly ImageSpec[]): LifecycleImage[] {
  return specs.map((s) => ({
    digest: s.digest,
    tags: s.tags,
    pushedAt: now - s.pushedDaysAgo * dayMs,
    ...(s.pulledDaysAgo === undefined ? {} : { lastPulledAt: new Date(now - s.pulledDaysAgo * dayMs) }),
  }));
}

/** A small deterministic generator (xorshift32), so randomized tests replay exactly. */
export function seeded(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T } {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
  };
}
