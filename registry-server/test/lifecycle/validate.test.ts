import test from 'ava';
import { lifecyclePolicyLimits as limits, validateLifecyclePolicy } from '../../src/lifecycle/index.ts';
import { anyCount, patternCount, policyOf, prefixCount, pulledDays, pushedDays, rule, untaggedCount } from './fixtures.ts';

type Json = Record<string, unknown>;

const tagged = { tagStatus: 'tagged', tagPrefixList: ['prod'] };
const one = (selection: Json, extra: Json = {}): Json => policyOf(rule(1, selection, extra));
const withSelection = (fields: Json): Json => one({ ...prefixCount(['prod'], 5), ...fields });
const withoutKey = (obj: Json, key: string): Json => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));
const manyRules = (count: number, extra: (i: number) => Json = () => ({})): Json =>
  policyOf(...Array.from({ length: count }, (_, i) => rule(i + 1, prefixCount([`p${i}`], 1), extra(i))));

interface Invalid {
  readonly title: string;
  readonly input: unknown;
  /** Every error expected, in order: its path and a pattern its message must match. */
  readonly errors: readonly (readonly [string, RegExp])[];
}

const invalid: Invalid[] = [
  // The document as a whole
  { title: 'text that is not JSON', input: '{"rules": [', errors: [['', /not valid JSON/]] },
  { title: 'text over 30,720 characters', input: `${JSON.stringify(one(untaggedCount(1)))}${' '.repeat(limits.maxPolicyLength)}`, errors: [['', /at most 30720/]] },
  {
    title: 'a value whose canonical text exceeds 30,720 characters',
    input: manyRules(50, () => ({ description: 'd'.repeat(700) })),
    errors: [['', /canonical JSON; at most 30720/]],
  },
  { title: 'an array', input: [], errors: [['', /must be a JSON object/]] },
  { title: 'a number', input: 42, errors: [['', /must be a JSON object/]] },
  { title: 'null', input: null, errors: [['', /must be a JSON object/]] },
  { title: 'a class instance', input: new Date(0), errors: [['', /must be a JSON object/]] },
  { title: 'an unknown top-level key', input: { ...one(untaggedCount(1)), version: 1 }, errors: [['version', /unknown property/]] },
  { title: 'an unknown key that is not an identifier', input: { ...one(untaggedCount(1)), 'x y': 1 }, errors: [['["x y"]', /unknown property/]] },
  { title: 'rules missing', input: {}, errors: [['rules', /required/]] },
  { title: 'rules not an array', input: { rules: {} }, errors: [['rules', /must be an array/]] },
  { title: 'no rules', input: { rules: [] }, errors: [['rules', /at least one rule/]] },
  { title: '51 rules', input: manyRules(51), errors: [['rules', /51 rules; at most 50/]] },
  { title: 'a rule that is not an object', input: { rules: [1] }, errors: [['rules[0]', /must be an object/]] },

  // Rule fields
  { title: 'an unknown rule key', input: one(untaggedCount(1), { filter: 'x' }), errors: [['rules[0].filter', /unknown property/]] },
  { title: 'rulePriority missing', input: policyOf(withoutKey(rule(1, untaggedCount(1)), 'rulePriority')), errors: [['rules[0].rulePriority', /required/]] },
  { title: 'rulePriority 0', input: one(untaggedCount(1), { rulePriority: 0 }), errors: [['rules[0].rulePriority', /positive integer/]] },
  { title: 'rulePriority negative', input: one(untaggedCount(1), { rulePriority: -3 }), errors: [['rules[0].rulePriority', /positive integer/]] },
  { title: 'rulePriority fractional', input: one(untaggedCount(1), { rulePriority: 1.5 }), errors: [['rules[0].rulePriority', /must be an integer/]] },
  { title: 'rulePriority a string', input: one(untaggedCount(1), { rulePriority: '1' }), errors: [['rules[0].rulePriority', /must be an integer/]] },
  { title: 'rulePriority over 2^31-1', input: one(untaggedCount(1), { rulePriority: 2 ** 31 }), errors: [['rules[0].rulePriority', /at most 2147483647/]] },
  {
    title: 'duplicate rulePriority',
    input: policyOf(rule(3, prefixCount(['a'], 1)), rule(3, prefixCount(['b'], 1))),
    errors: [['rules[1].rulePriority', /already the priority of rules\[0\]/]],
  },
  { title: 'description not a string', input: one(untaggedCount(1), { description: 7 }), errors: [['rules[0].description', /must be a string/]] },
  { title: 'description null', input: one(untaggedCount(1), { description: null }), errors: [['rules[0].description', /must be a string/]] },
  { title: 'selection missing', input: policyOf(withoutKey(rule(1, untaggedCount(1)), 'selection')), errors: [['rules[0].selection', /required/]] },
  { title: 'selection not an object', input: one(untaggedCount(1), { selection: 'untagged' }), errors: [['rules[0].selection', /must be an object/]] },
  { title: 'an unknown selection key', input: withSelection({ storageClass: 'archive' }), errors: [['rules[0].selection.storageClass', /unknown property/]] },

  // tagStatus and the tag lists
  { title: 'tagStatus missing', input: one(withoutKey(untaggedCount(1), 'tagStatus')), errors: [['rules[0].selection.tagStatus', /required/]] },
  { title: 'tagStatus in the wrong case', input: withSelection({ tagStatus: 'TAGGED' }), errors: [['rules[0].selection.tagStatus', /one of "tagged", "untagged", "any"/]] },
  { title: 'tagged without a tag list', input: one({ tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }), errors: [['rules[0].selection', /needs a tagPrefixList or a tagPatternList/]] },
  { title: 'untagged with a tagPrefixList', input: one({ ...untaggedCount(1), tagPrefixList: ['a'] }), errors: [['rules[0].selection.tagPrefixList', /only allowed when tagStatus is "tagged"/]] },
  { title: 'any with a tagPatternList', input: one({ ...anyCount(1), tagPatternList: ['a*'] }), errors: [['rules[0].selection.tagPatternList', /only allowed when tagStatus is "tagged"/]] },
  { title: 'both tag lists', input: withSelection({ tagPatternList: ['prod*'] }), errors: [['rules[0].selection.tagPatternList', /not allowed together with tagPrefixList/]] },
  { title: 'a tag list that is a string', input: withSelection({ tagPrefixList: 'prod' }), errors: [['rules[0].selection.tagPrefixList', /array of strings/]] },
  { title: 'an empty tag list', input: withSelection({ tagPrefixList: [] }), errors: [['rules[0].selection.tagPrefixList', /at least one entry/]] },
  {
    title: 'a tag list of 101 entries',
    input: withSelection({ tagPrefixList: Array.from({ length: 101 }, (_, i) => `p${i}`) }),
    errors: [['rules[0].selection.tagPrefixList', /101 entries; at most 100/]],
  },
  { title: 'a tag list entry that is not a string', input: withSelection({ tagPrefixList: ['a', 3] }), errors: [['rules[0].selection.tagPrefixList[1]', /must be a string/]] },
  { title: 'an empty prefix', input: withSelection({ tagPrefixList: [''] }), errors: [['rules[0].selection.tagPrefixList[0]', /must not be empty/]] },
  { title: 'a prefix with a character tags cannot hold', input: withSelection({ tagPrefixList: ['ok', 'team/app'] }), errors: [['rules[0].selection.tagPrefixList[1]', /can never match/]] },
  { title: 'a prefix starting with "."', input: withSelection({ tagPrefixList: ['.hidden'] }), errors: [['rules[0].selection.tagPrefixList[0]', /can never match/]] },
  { title: 'a "*" in a prefix', input: withSelection({ tagPrefixList: ['prod*'] }), errors: [['rules[0].selection.tagPrefixList[0]', /can never match/]] },
  { title: 'a prefix longer than any tag', input: withSelection({ tagPrefixList: ['a'.repeat(129)] }), errors: [['rules[0].selection.tagPrefixList[0]', /longer than a tag can be/]] },
  { title: 'an empty pattern', input: one(patternCount([''], 1)), errors: [['rules[0].selection.tagPatternList[0]', /must not be empty/]] },
  {
    title: "ECR's own example of too many wildcards",
    input: one(patternCount(['test*1*2*3*4*5*6'], 1)),
    errors: [['rules[0].selection.tagPatternList[0]', /6 wildcards \(\*\); at most 4/]],
  },
  { title: 'five wildcards, adjacent ones counted', input: one(patternCount(['ok*', 'a**b***'], 1)), errors: [['rules[0].selection.tagPatternList[1]', /5 wildcards/]] },
  { title: 'a pattern with "?"', input: one(patternCount(['v1.?'], 1)), errors: [['rules[0].selection.tagPatternList[0]', /"\*" is the only wildcard/]] },
  { title: 'a pattern with more literals than a tag', input: one(patternCount([`*${'a'.repeat(129)}`], 1)), errors: [['rules[0].selection.tagPatternList[0]', /more literal characters/]] },

  // countType, countUnit, countNumber
  { title: 'countType missing', input: one(withoutKey(untaggedCount(1), 'countType')), errors: [['rules[0].selection.countType', /required/]] },
  { title: 'countType unsupported', input: withSelection({ countType: 'sinceImageTransitioned' }), errors: [['rules[0].selection.countType', /must be one of/]] },
  { title: 'countUnit missing for sinceImagePushed', input: one(withoutKey(pushedDays(tagged, 3), 'countUnit')), errors: [['rules[0].selection.countUnit', /required when countType is "sinceImagePushed"/]] },
  { title: 'countUnit missing for sinceImagePulled', input: one(withoutKey(pulledDays(tagged, 3), 'countUnit')), errors: [['rules[0].selection.countUnit', /required when countType is "sinceImagePulled"/]] },
  { title: 'countUnit with imageCountMoreThan', input: withSelection({ countUnit: 'days' }), errors: [['rules[0].selection.countUnit', /only allowed when countType is "sinceImagePushed" or "sinceImagePulled"/]] },
  { title: 'countUnit other than days', input: one({ ...pushedDays(tagged, 3), countUnit: 'hours' }), errors: [['rules[0].selection.countUnit', /must be "days"/]] },
  { title: 'countNumber missing', input: one(withoutKey(untaggedCount(1), 'countNumber')), errors: [['rules[0].selection.countNumber', /required/]] },
  { title: 'countNumber 0', input: one(untaggedCount(0)), errors: [['rules[0].selection.countNumber', /positive integer/]] },
  { title: 'countNumber fractional', input: one(pushedDays(tagged, 1.5)), errors: [['rules[0].selection.countNumber', /must be an integer/]] },
  { title: 'countNumber a string', input: withSelection({ countNumber: '5' }), errors: [['rules[0].selection.countNumber', /must be an integer/]] },
  { title: 'countNumber over 2^31-1', input: one(untaggedCount(2 ** 31)), errors: [['rules[0].selection.countNumber', /at most 2147483647/]] },

  // action
  { title: 'action missing', input: policyOf(withoutKey(rule(1, untaggedCount(1)), 'action')), errors: [['rules[0].action', /required/]] },
  { title: 'action a string', input: one(untaggedCount(1), { action: 'expire' }), errors: [['rules[0].action', /must be an object/]] },
  { title: 'action type missing', input: one(untaggedCount(1), { action: {} }), errors: [['rules[0].action.type', /required/]] },
  { title: 'action type transition', input: one(untaggedCount(1), { action: { type: 'transition', targetStorageClass: 'archive' } }), errors: [
    ['rules[0].action.targetStorageClass', /unknown property/],
    ['rules[0].action.type', /must be "expire"/],
  ] },

  // Rules taken together
  {
    title: 'an "any" rule without the highest priority',
    input: policyOf(rule(1, anyCount(5)), rule(2, prefixCount(['prod'], 1))),
    errors: [['rules[0].rulePriority', /tagStatus "any" must have the highest rulePriority, but rules\[1\] has 2/]],
  },
  {
    title: 'two "any" rules',
    input: policyOf(rule(9, anyCount(5)), rule(4, pushedDays({ tagStatus: 'any' }, 30))),
    errors: [['rules[1].rulePriority', /must have the highest rulePriority, but rules\[0\] has 9/]],
  },
  {
    title: 'two rules selecting untagged images',
    input: policyOf(rule(1, untaggedCount(1)), rule(2, pushedDays({ tagStatus: 'untagged' }, 7))),
    errors: [['rules[1].selection.tagStatus', /only one rule may select untagged images, and rules\[0\] already does/]],
  },
  {
    title: 'two rules with the same prefixes, in another order and repeated',
    input: policyOf(rule(1, prefixCount(['a', 'b'], 1)), rule(2, pushedDays({ tagStatus: 'tagged', tagPrefixList: ['b', 'a', 'b'] }, 5))),
    errors: [['rules[1].selection.tagPrefixList', /same tags as rules\[0\]/]],
  },
  {
    title: 'a prefix and the equivalent pattern',
    input: policyOf(rule(1, prefixCount(['prod'], 1)), rule(2, patternCount(['prod**'], 3))),
    errors: [['rules[1].selection.tagPatternList', /same tags as rules\[0\]/]],
  },

  // Everything wrong with a rule is reported, in field order.
  {
    title: 'several errors in one rule',
    input: one({ tagStatus: 'untagged', tagPrefixList: ['x'], countType: 'imageCountMoreThan', countUnit: 'days', countNumber: 0, extra: true }, { rulePriority: 0, action: { type: 'delete' } }),
    errors: [
      ['rules[0].rulePriority', /positive integer/],
      ['rules[0].selection.extra', /unknown property/],
      ['rules[0].selection.tagPrefixList', /only allowed/],
      ['rules[0].selection.countUnit', /only allowed/],
      ['rules[0].selection.countNumber', /positive integer/],
      ['rules[0].action.type', /must be "expire"/],
    ],
  },
  {
    title: 'errors in two rules',
    input: policyOf(rule(1, { ...untaggedCount(1), countNumber: -1 }), rule(2, { ...pushedDays(tagged, 2), countUnit: undefined })),
    errors: [
      ['rules[0].selection.countNumber', /positive integer/],
      ['rules[1].selection.countUnit', /required/],
    ],
  },
];

for (const c of invalid) {
  test(`invalid: ${c.title}`, (t) => {
    const result = validateLifecyclePolicy(c.input);
    if (result.ok) return t.fail('accepted');
    t.deepEqual(
      result.errors.map((e) => e.path),
      c.errors.map(([path]) => path),
      JSON.stringify(result.errors),
    );
    c.errors.forEach(([, message], i) => t.regex(result.errors[i]?.message ?? '', message));
  });
}

test('invalid: errors stop at 100 with one saying so', (t) => {
  const extra = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
  const result = validateLifecyclePolicy({ ...one(untaggedCount(1)), ...extra });
  if (result.ok) return t.fail('accepted');
  t.is(result.errors.length, 101);
  t.regex(result.errors[100]?.message ?? '', /more than 100 errors/);
});

test('invalid: a rule error does not hide the cross-rule checks of the other rules', (t) => {
  const result = validateLifecyclePolicy(policyOf(rule(1, untaggedCount(1)), rule(2, { ...untaggedCount(1), countNumber: 'x' }), rule(3, pushedDays({ tagStatus: 'untagged' }, 1))));
  if (result.ok) return t.fail('accepted');
  t.deepEqual(
    result.errors.map((e) => e.path),
    ['rules[1].selection.countNumber', 'rules[2].selection.tagStatus'],
  );
});

interface Valid {
  readonly title: string;
  readonly input: unknown;
}

const valid: Valid[] = [
  { title: 'one untagged count rule', input: one(untaggedCount(1)) },
  { title: 'the same as text', input: JSON.stringify(one(untaggedCount(1))) },
  { title: 'text of exactly 30,720 characters', input: JSON.stringify(one(untaggedCount(1))).padEnd(limits.maxPolicyLength, ' ') },
  { title: '50 rules', input: manyRules(50) },
  { title: 'the largest priority and count', input: one(untaggedCount(limits.maxCountNumber), { rulePriority: limits.maxRulePriority }) },
  { title: 'no description', input: policyOf(withoutKey(rule(1, untaggedCount(1)), 'description')) },
  { title: 'an empty description', input: one(untaggedCount(1), { description: '' }) },
  { title: "ECR's own example of valid wildcards", input: one(patternCount(['*test*1*2*3', 'test*1*2*3*'], 1)) },
  { title: 'a lone wildcard', input: one(patternCount(['*'], 1)) },
  { title: 'a pattern of 128 literals and wildcards around them', input: one(patternCount([`*${'a'.repeat(64)}*${'b'.repeat(64)}*`], 1)) },
  { title: 'a prefix of 128 characters', input: withSelection({ tagPrefixList: ['a'.repeat(128)] }) },
  { title: 'tag characters in prefixes', input: withSelection({ tagPrefixList: ['_x', 'V1.2-rc_3'] }) },
  { title: 'duplicate entries in one list', input: withSelection({ tagPrefixList: ['prod', 'prod'] }) },
  { title: 'sinceImagePulled with days', input: one(pulledDays({ tagStatus: 'any' }, 90)) },
  { title: '"any" last in priority though first in the array', input: policyOf(rule(10, anyCount(100)), rule(1, untaggedCount(1)), rule(2, prefixCount(['v'], 5))) },
  { title: 'one untagged rule beside an "any" rule', input: policyOf(rule(1, untaggedCount(1)), rule(2, anyCount(3))) },
  { title: 'overlapping but different tag criteria', input: policyOf(rule(1, prefixCount(['prod'], 1)), rule(2, prefixCount(['prod', 'beta'], 1)), rule(3, patternCount(['prod*1'], 1))) },
  { title: 'a null-prototype object', input: Object.assign(Object.create(null) as object, one(untaggedCount(1))) },
];

for (const c of valid) {
  test(`valid: ${c.title}`, (t) => {
    const result = validateLifecyclePolicy(c.input);
    t.true(result.ok, result.ok ? '' : JSON.stringify(result.errors));
  });
}

test('valid: the policy keeps only known fields and the input rule order', (t) => {
  const result = validateLifecyclePolicy(policyOf(rule(2, prefixCount(['b', 'a'], 3)), rule(1, pushedDays({ tagStatus: 'untagged' }, 7))));
  if (!result.ok) return t.fail(JSON.stringify(result.errors));
  t.deepEqual(result.policy, {
    rules: [
      { rulePriority: 2, description: 'Rule 2', selection: { tagStatus: 'tagged', tagPrefixList: ['b', 'a'], countType: 'imageCountMoreThan', countNumber: 3 }, action: { type: 'expire' } },
      { rulePriority: 1, description: 'Rule 1', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 7 }, action: { type: 'expire' } },
    ],
  });
});

test('valid: the result does not share arrays with the input', (t) => {
  const prefixes = ['prod'];
  const result = validateLifecyclePolicy(withSelection({ tagPrefixList: prefixes }));
  if (!result.ok) return t.fail(JSON.stringify(result.errors));
  prefixes.push('beta');
  t.deepEqual(result.policy.rules[0]?.selection.tagPrefixList, ['prod']);
});
