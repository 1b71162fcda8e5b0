import { compileTagPattern } from '../lifecycle/tag-matcher.ts';
import type { RepositorySettings } from '../meta/metadata-store.ts';

/**
 * The tags of a push that may not move to another image under the repository's settings:
 * IMMUTABLE (all but none), IMMUTABLE_WITH_EXCLUSION (all but those matching a filter),
 * MUTABLE_WITH_EXCLUSION (only those matching a filter), MUTABLE (none).
 */
export function immutableTags(settings: RepositorySettings, tags: readonly string[]): string[] {
  const mode = settings.imageTagMutability;
  if (mode === 'MUTABLE') return [];
  if (mode === 'IMMUTABLE') return [...tags];
  const filters = settings.tagMutabilityExclusions.map(compileTagPattern);
  const excluded = (tag: string): boolean => filters.some((matches) => matches(tag));
  return tags.filter((tag) => (mode === 'IMMUTABLE_WITH_EXCLUSION' ? !excluded(tag) : excluded(tag)));
}
