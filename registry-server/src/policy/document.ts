// Types of a parsed IAM-style policy document.
//
// The parsed form is what an evaluator consumes: every list is an array (sorted, without
// duplicates), Statement is always an array, "exactly one of X / NotX" pairs become one clause
// with a `negated` flag, and the Condition block is flattened into one entry per
// (operator, key) pair. The JSON form users write is described in README terms in index.ts.

export const policyVersions = ['2012-10-17', '2008-10-17'] as const;
export type PolicyVersion = (typeof policyVersions)[number];

export type Effect = 'Allow' | 'Deny';

/**
 * Where a policy is attached. Resource policies (an ECR repository policy, the registry policy)
 * name who they apply to with Principal or NotPrincipal and may omit Resource. Identity policies
 * are attached to a principal: they cannot name one and must say Resource or NotResource.
 */
export type PolicyContext = 'resource' | 'identity';

export interface PolicyDocument {
  readonly version: PolicyVersion;
  /** Absent when the document has no Id (an empty Id is treated as absent). */
  readonly id?: string;
  /** In document order, never empty. */
  readonly statements: readonly PolicyStatement[];
}

export interface PolicyStatement {
  /** Absent when the statement has no Sid (an empty Sid is treated as absent). */
  readonly sid?: string;
  readonly effect: Effect;
  /** Principal (negated: false) or NotPrincipal (negated: true); absent in identity policies. */
  readonly principal?: PrincipalClause;
  /** Action (negated: false) or NotAction (negated: true). */
  readonly action: PatternClause;
  /**
   * Resource or NotResource. Absent only in a resource policy that omits it, where the statement
   * applies to the resource the policy is attached to.
   */
  readonly resource?: PatternClause;
  /** Every entry must hold for the statement to apply; [] when there is no Condition. */
  readonly conditions: readonly ConditionClause[];
}

/** A list of wildcard patterns (`*` any run of characters, `?` one character). */
export interface PatternClause {
  readonly negated: boolean;
  /** Sorted (UTF-16 code unit order), without duplicates, never empty. */
  readonly patterns: readonly string[];
}

export interface PrincipalClause {
  readonly negated: boolean;
  readonly principals: PrincipalSet;
}

export const principalTypes = ['AWS', 'Federated', 'Service'] as const;
export type PrincipalType = (typeof principalTypes)[number];

/**
 * `"Principal": "*"` is `{ kind: 'anyone' }`: every caller, anonymous ones included.
 * `{"AWS": "*"}` is a listed set whose AWS entry is ["*"]: every authenticated principal.
 * The two are deliberately kept distinct.
 */
export type PrincipalSet =
  | { readonly kind: 'anyone' }
  | {
      readonly kind: 'listed';
      /** Each list sorted and without duplicates; at least one list is non-empty. */
      readonly AWS: readonly string[];
      readonly Federated: readonly string[];
      readonly Service: readonly string[];
    };

export const conditionTests = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'Null',
] as const;
/** A condition operator without its set qualifier and IfExists suffix. */
export type ConditionTest = (typeof conditionTests)[number];

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

export interface ConditionClause {
  /** The operator exactly as written, e.g. "ForAnyValue:StringLikeIfExists". */
  readonly operator: string;
  readonly test: ConditionTest;
  readonly qualifier: SetQualifier | null;
  readonly ifExists: boolean;
  /** The condition key as written, e.g. "aws:SourceIp" or "ecr:ResourceTag/team". */
  readonly key: string;
  /**
   * Sorted, without duplicates, never empty, always strings: booleans become "true"/"false",
   * numbers their decimal text (see conditions.ts for each operator's normal form).
   */
  readonly values: readonly string[];
}

/** A problem found in a document, located by a JSON-path-like path ("" is the whole input). */
export interface PolicyError {
  readonly path: string;
  readonly message: string;
}

/**
 * Known actions and condition keys, supplied by the caller to get warnings (never errors) for
 * patterns that match nothing known. Validation itself accepts any well-formed action.
 */
export interface PolicyCatalogue {
  /** Action names by service prefix, e.g. { ecr: ['BatchGetImage', 'PutImage'] }. */
  readonly actions?: Readonly<Record<string, readonly string[]>>;
  /**
   * Known condition keys, e.g. ['aws:SourceIp', 'ecr:ResourceTag/']; an entry ending in "/"
   * accepts any suffix. Compared case-insensitively, as IAM does.
   */
  readonly conditionKeys?: readonly string[];
}
