import test from 'ava';
import type { LifecycleSelection } from '../../src/lifecycle/index.ts';
import { compileSelector, compileTagPattern } from '../../src/lifecycle/tag-matcher.ts';

// [pattern, tag, matches]
const patternCases: [string, string, boolean][] = [
  // no wildcard: the whole tag
  ['latest', 'latest', true],
  ['latest', 'latest2', false],
  ['latest', 'Latest', false],
  // prefix
  ['prod*', 'prod', true], // the wildcard matches the empty run
  ['prod*', 'prod-1.2', true],
  ['prod*', 'preprod', false],
  ['Prod*', 'prod-1', false], // case-sensitive
  // suffix
  ['*-arm64', 'v1-arm64', true],
  ['*-arm64', '-arm64', true],
  ['*-arm64', 'v1-arm64-debug', false],
  // middle
  ['v1*final', 'v1final', true],
  ['v1*final', 'v1.2.3-final', true],
  ['v1*final', 'v1.2-finale', false],
  ['ab*ba', 'aba', false], // head and tail cannot share characters
  ['ab*ba', 'abba', true],
  ['a*a', 'a', false],
  ['a*a', 'aa', true],
  // several wildcards
  ['*-rc*', '1.0-rc1', true],
  ['*-rc*', '-rc', true],
  ['*-rc*', '1.0rc1', false],
  ['*test*1*2*3', 'my-test-x1y2z3', true],
  ['*test*1*2*3', 'test123', true],
  ['*test*1*2*3', 'test132', false],
  ['test*1*2*3*', 'test-1-2-3-4', true],
  ['*ab*ab*', 'ab', false],
  ['*ab*ab*', 'abab', true],
  ['*ab*ab*', 'xabyabz', true],
  ['a*b*c', 'acb', false],
  ['a*b*c', 'abcbc', true],
  ['a*b*c', 'abc', true],
  // a middle piece may not reach into the tail
  ['*x*xy', 'xy', false],
  ['*x*xy', 'xxy', true],
  ['a*b*bc', 'abbc', true],
  ['a*b*bc', 'abc', false],
  // wildcards alone, and runs of them
  ['*', 'anything', true],
  ['*', 'a', true],
  ['**', 'a', true],
  ['a**b', 'ab', true],
  ['a**b', 'acb', true],
  // "." and "-" are literal, not regular-expression syntax
  ['v1.*', 'v1x2', false],
  ['v1.*', 'v1.2', true],
];

for (const [pattern, tag, expected] of patternCases) {
  test(`pattern ${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(tag)}`, (t) => {
    t.is(compileTagPattern(pattern)(tag), expected);
  });
}

test('pattern: a worst case for backtracking answers at once', (t) => {
  const tag = 'a'.repeat(128);
  const matches = compileTagPattern('*a*a*a*b');
  const start = performance.now();
  for (let i = 0; i < 1000; i++) t.false(matches(tag));
  // Not a timing assertion: a backtracking matcher would take minutes here, so finishing at all is the test.
  t.log(`${(performance.now() - start).toFixed(1)} ms for 1000 tries`);
});

const sel = (fields: Partial<LifecycleSelection>): LifecycleSelection => ({ countType: 'imageCountMoreThan', countNumber: 1, tagStatus: 'tagged', ...fields });

// [selection, tags, selected]
const selectorCases: [string, LifecycleSelection, string[], boolean][] = [
  ['any selects a tagged image', sel({ tagStatus: 'any' }), ['v1'], true],
  ['any selects an untagged image', sel({ tagStatus: 'any' }), [], true],
  ['untagged selects an untagged image', sel({ tagStatus: 'untagged' }), [], true],
  ['untagged does not select a tagged image', sel({ tagStatus: 'untagged' }), ['v1'], false],
  ['a prefix matched by one of several tags', sel({ tagPrefixList: ['prod'] }), ['sha-1', 'prod-2'], true],
  ['a prefix matched by no tag', sel({ tagPrefixList: ['prod'] }), ['sha-1', 'beta-2'], false],
  ['a tagged rule never selects an untagged image', sel({ tagPatternList: ['*'] }), [], false],
  ['every prefix matched, by different tags', sel({ tagPrefixList: ['alpha', 'beta'] }), ['alpha-1', 'beta-1'], true],
  ['every prefix matched, by one tag', sel({ tagPrefixList: ['alpha', 'alpha-1'] }), ['alpha-10'], true],
  ['one prefix of two unmatched', sel({ tagPrefixList: ['alpha', 'beta'] }), ['alpha-1', 'gamma-1'], false],
  ['every pattern matched', sel({ tagPatternList: ['*-amd64', 'v*'] }), ['v2-amd64'], true],
  ['one pattern of two unmatched', sel({ tagPatternList: ['*-amd64', 'v*'] }), ['latest-amd64'], false],
  ['a repeated entry is one requirement', sel({ tagPrefixList: ['prod', 'prod'] }), ['prod'], true],
];

for (const [title, selection, tags, expected] of selectorCases) {
  test(`selector: ${title}`, (t) => {
    t.is(compileSelector(selection)(tags), expected);
  });
}
