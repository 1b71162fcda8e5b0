// The lifecycle policy model: Amazon ECR's policy JSON, field for field, and the bounds Berth
// enforces on it. Sources for each bound are next to it; where ECR documents none, the bound is
// Berth's and chosen so that no policy ECR accepts in practice is refused.

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled';
export type CountUnit = 'days';
export type ActionType = 'expire';

export const tagStatuses: readonly TagStatus[] = ['tagged', 'untagged', 'any'];
export const countTypes: readonly CountType[] = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled'];

/**
 * A rule's selection, shaped exactly like ECR's JSON. A validated policy satisfies ECR's
 * combination rules: a tag list (one kind, non-empty) exactly when `tagStatus` is "tagged", and
 * `countUnit` exactly when `countType` counts days.
 */
export interface LifecycleSelection {
  readonly tagStatus: TagStatus;
  readonly tagPrefixList?: readonly string[];
  readonly tagPatternList?: readonly string[];
  readonly countType: CountType;
  readonly countUnit?: CountUnit;
  readonly countNumber: number;
}

export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly selection: LifecycleSelection;
  readonly action: { readonly type: ActionType };
}

export interface LifecyclePolicy {
  readonly rules: readonly LifecycleRule[];
}

/** One validation failure; `path` names the field as in `rules[1].selection.countUnit` ("" is the whole policy). */
export interface PolicyError {
  readonly path: string;
  readonly message: string;
}

export type ValidationResult = { readonly ok: true; readonly policy: LifecyclePolicy } | { readonly ok: false; readonly errors: readonly PolicyError[] };

export const limits = {
  /** ECR service quota "Lifecycle policy length": 30,720 characters (PutLifecyclePolicy's lifecyclePolicyText). */
  maxPolicyLength: 30_720,
  /** ECR service quota "Rules per lifecycle policy": 50. */
  maxRules: 50,
  /**
   * ECR asks for unique positive integers and documents no ceiling; Berth stops at the largest
   * 32-bit signed integer, which any priority written for ECR fits in.
   */
  maxRulePriority: 2_147_483_647,
  /** Same reasoning as maxRulePriority: positive (ECR: "0 is not an accepted value"), 32-bit. */
  maxCountNumber: 2_147_483_647,
  /** ECR documents no bound on list length; Berth's. One image would need 100 matching tags' worth of criteria. */
  maxTagListEntries: 100,
  /** ECR: "a maximum limit of four wildcards (*) per string". */
  maxWildcards: 4,
  /**
   * Berth's tags are at most 128 characters (distribution-spec grammar, names.ts), so a prefix or
   * pattern with more literal characters could never match; it is refused as a certain mistake.
   */
  maxTagLength: 128,
} as const;

export const dayMs = 86_400_000;
