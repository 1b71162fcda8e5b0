// The canonical text of a lifecycle policy: one byte sequence per policy, so stored policies,
// drift checks and digests compare as strings.
//
// Choices, each semantics-preserving:
// - rules sorted by rulePriority (the order ECR applies them in; input order means nothing);
// - keys in a fixed order: rulePriority, description, selection, action; and in a selection
//   tagStatus, the tag list, countType, countUnit, countNumber;
// - description kept verbatim when non-empty and dropped when empty, since "" and no description
//   say the same and ECR has no default text;
// - tag lists sorted (UTF-16 code unit order) and deduplicated: an image must satisfy every entry,
//   so neither order nor repetition changes what a rule selects; runs of "*" collapse to one;
// - countUnit present exactly when countType counts days (validation guarantees it), no defaults
//   to fill in since every other field is required;
// - compact JSON, no whitespace.
// Not normalized: logically equivalent but differently written criteria (prefix "p" versus
// pattern "p*", or an entry implied by another such as ["p", "p-1"] versus ["p-1"]) stay as written.
import type { LifecyclePolicy, LifecycleRule, LifecycleSelection } from './policy.ts';
import { collapseWildcards } from './tag-matcher.ts';

/** The canonical JSON text of a validated policy. Canonicalizing canonical text gives it back unchanged. */
export function canonicalLifecyclePolicy(policy: LifecyclePolicy): string {
  const rules = [...policy.rules].sort((a, b) => a.rulePriority - b.rulePriority).map(canonicalRule);
  return JSON.stringify({ rules });
}

function canonicalRule(rule: LifecycleRule): object {
  return {
    rulePriority: rule.rulePriority,
    ...(rule.description ? { description: rule.description } : {}),
    selection: canonicalSelection(rule.selection),
    action: { type: rule.action.type },
  };
}

function canonicalSelection(selection: LifecycleSelection): object {
  const tagged = selection.tagStatus === 'tagged';
  const countsDays = selection.countType !== 'imageCountMoreThan';
  return {
    tagStatus: selection.tagStatus,
    ...(tagged && selection.tagPrefixList ? { tagPrefixList: sortedSet(selection.tagPrefixList) } : {}),
    ...(tagged && selection.tagPatternList ? { tagPatternList: sortedSet(selection.tagPatternList.map(collapseWildcards)) } : {}),
    countType: selection.countType,
    ...(countsDays ? { countUnit: selection.countUnit ?? 'days' } : {}),
    countNumber: selection.countNumber,
  };
}

function sortedSet(values: readonly string[]): string[] {
  // Code unit order, not locale order: the text must not depend on the machine.
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
