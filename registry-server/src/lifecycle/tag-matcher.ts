// Tag criteria compiled once per rule into plain functions, so evaluating a repository costs string
// comparisons per image and never a pattern compilation.
import type { LifecycleSelection } from './policy.ts';

export type TagMatcher = (tag: string) => boolean;
export type ImageSelector = (tags: readonly string[]) => boolean;

/** "a**b" and "a*b" match the same tags; runs of wildcards collapse to one. */
export function collapseWildcards(pattern: string): string {
  return pattern.replace(/\*{2,}/g, '*');
}

/**
 * A matcher for an ECR tag pattern, where `*` matches any run of characters, the empty one
 * included. Not a RegExp: with several wildcards a backtracking engine can take polynomial time
 * per tag, while the literal pieces between wildcards can be placed left to right, each at its
 * leftmost occurrence, which is correct for `*`-only globs and linear in practice.
 */
export function compileTagPattern(pattern: string): TagMatcher {
  const pieces = collapseWildcards(pattern).split('*');
  if (pieces.length === 1) return (tag) => tag === pattern;
  const head = pieces[0] as string;
  const tail = pieces[pieces.length - 1] as string;
  const middle = pieces.slice(1, -1).filter((piece) => piece.length > 0);
  if (middle.length === 0) {
    if (tail === '') return head === '' ? () => true : (tag) => tag.startsWith(head);
    if (head === '') return (tag) => tag.endsWith(tail);
  }
  let minLength = head.length + tail.length;
  for (const piece of middle) minLength += piece.length;
  return (tag) => {
    // The length check keeps head and tail from overlapping.
    if (tag.length < minLength || !tag.startsWith(head) || !tag.endsWith(tail)) return false;
    const end = tag.length - tail.length;
    let at = head.length;
    for (const piece of middle) {
      const found = tag.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

export function compileTagPrefix(prefix: string): TagMatcher {
  return (tag) => tag.startsWith(prefix);
}

/**
 * Whether an image's tags satisfy a selection's tag criteria. With a list, ECR selects an image
 * when *every* entry matches at least one of its tags ("an image is successfully matched if all
 * of the tags in the tagPrefixList value are matched against any of the image's tags"), which is
 * what its documented "multiple tags in a single rule" examples show.
 */
export function compileSelector(selection: LifecycleSelection): ImageSelector {
  switch (selection.tagStatus) {
    case 'any':
      return () => true;
    case 'untagged':
      return (tags) => tags.length === 0;
    case 'tagged': {
      const requirements = [
        ...[...new Set(selection.tagPrefixList ?? [])].map(compileTagPrefix),
        ...[...new Set(selection.tagPatternList ?? [])].map(compileTagPattern),
      ];
      return (tags) => {
        if (tags.length === 0) return false;
        for (const matches of requirements) {
          let found = false;
          for (const tag of tags) {
            if (matches(tag)) {
              found = true;
              break;
            }
          }
          if (!found) return false;
        }
        return true;
      };
    }
  }
}
