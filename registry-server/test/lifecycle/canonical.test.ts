import test from 'ava';
import { canonicalLifecyclePolicy, validateLifecyclePolicy } from '../../src/lifecycle/index.ts';
import { anyCount, mustValidate, patternCount, policyOf, prefixCount, pulledDays, pushedDays, rule, seeded, untaggedCount } from './fixtures.ts';

const canonical = (input: unknown): string => canonicalLifecyclePolicy(mustValidate(input));

interface Case {
  readonly title: string;
  readonly input: unknown;
  readonly expected: string;
}

const cases: Case[] = [
  {
    title: 'whitespace and key order of the input do not matter',
    input: `{
      "rules": [ {
        "action": { "type": "expire" },
        "selection": { "countNumber": 14, "countUnit": "days", "countType": "sinceImagePushed", "tagStatus": "untagged" },
        "description": "Expire images older than 14 days",
        "rulePriority": 1
      } ]
    }`,
    expected:
      '{"rules":[{"rulePriority":1,"description":"Expire images older than 14 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}',
  },
  {
    title: 'rules sorted by priority',
    input: policyOf(rule(30, anyCount(9)), rule(2, untaggedCount(1)), rule(10, prefixCount(['v'], 3))),
    expected:
      '{"rules":[' +
      '{"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},' +
      '{"rulePriority":10,"description":"Rule 10","selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}},' +
      '{"rulePriority":30,"description":"Rule 30","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}}' +
      ']}',
  },
  {
    title: 'an empty description is dropped',
    input: policyOf(rule(1, untaggedCount(1), { description: '' })),
    expected: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}',
  },
  {
    title: 'a description is kept verbatim, escapes normalized by JSON',
    input: '{"rules":[{"rulePriority":1,"description":"caf\\u00e9 \\"prod\\"\\n","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}',
    expected: '{"rules":[{"rulePriority":1,"description":"café \\"prod\\"\\n","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}',
  },
  {
    title: 'prefixes sorted by code unit and deduplicated',
    input: policyOf(rule(1, prefixCount(['beta', 'Prod', 'alpha', 'beta', '_x'], 2), { description: undefined })),
    expected: '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["Prod","_x","alpha","beta"],"countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}',
  },
  {
    title: 'patterns sorted, deduplicated after wildcard runs collapse',
    input: policyOf(rule(1, pushedDays({ tagStatus: 'tagged', tagPatternList: ['rc**', '*-x', 'rc*', 'a***b'] }, 30), { description: undefined })),
    expected:
      '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPatternList":["*-x","a*b","rc*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"expire"}}]}',
  },
  {
    title: 'countUnit kept for sinceImagePulled',
    input: policyOf(rule(5, pulledDays({ tagStatus: 'any' }, 90), { description: 'idle' })),
    expected: '{"rules":[{"rulePriority":5,"description":"idle","selection":{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}',
  },
];

for (const c of cases) {
  test(`canonical: ${c.title}`, (t) => {
    t.is(canonical(c.input), c.expected);
  });
}

test('canonical: canonical text is its own canonical form, and valid', (t) => {
  for (const c of cases) {
    t.is(canonical(c.expected), c.expected);
    t.true(validateLifecyclePolicy(c.expected).ok);
  }
});

// Groups of inputs that say the same thing differently; each group must give one text.
const equalGroups: { readonly title: string; readonly inputs: readonly unknown[] }[] = [
  {
    title: 'rule order, key order, whitespace',
    inputs: [
      policyOf(rule(1, untaggedCount(1)), rule(2, prefixCount(['v'], 3))),
      policyOf(rule(2, prefixCount(['v'], 3)), rule(1, untaggedCount(1))),
      JSON.stringify(policyOf(rule(2, prefixCount(['v'], 3)), rule(1, untaggedCount(1))), null, 4),
      '{"rules":[{"selection":{"countNumber":3,"countType":"imageCountMoreThan","tagPrefixList":["v"],"tagStatus":"tagged"},"action":{"type":"expire"},"description":"Rule 2","rulePriority":2},' +
        '{"rulePriority":1,"description":"Rule 1","action":{"type":"expire"},"selection":{"tagStatus":"untagged","countNumber":1,"countType":"imageCountMoreThan"}}]}',
    ],
  },
  {
    title: 'list order, repeats and wildcard runs',
    inputs: [
      policyOf(rule(1, patternCount(['a*', 'b*c'], 1))),
      policyOf(rule(1, patternCount(['b*c', 'a*'], 1))),
      policyOf(rule(1, patternCount(['a**', 'b***c', 'a*'], 1))),
    ],
  },
  {
    title: 'no description and an empty one',
    inputs: [{ rules: [{ rulePriority: 1, selection: untaggedCount(1), action: { type: 'expire' } }] }, policyOf(rule(1, untaggedCount(1), { description: '' }))],
  },
  {
    title: 'numbers written differently',
    inputs: [
      '{"rules":[{"rulePriority":100,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":20},"action":{"type":"expire"}}]}',
      '{"rules":[{"rulePriority":1e2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":20.0},"action":{"type":"expire"}}]}',
    ],
  },
];

for (const group of equalGroups) {
  test(`canonical: equal inputs give equal text: ${group.title}`, (t) => {
    const texts = new Set(group.inputs.map(canonical));
    t.is(texts.size, 1, [...texts].join('\n'));
  });
}

test('canonical: different policies give different text', (t) => {
  const inputs = [
    policyOf(rule(1, prefixCount(['prod'], 1))),
    policyOf(rule(1, patternCount(['prod*'], 1))), // equivalent, but written differently: kept as written
    policyOf(rule(1, prefixCount(['prod'], 2))),
    policyOf(rule(2, prefixCount(['prod'], 1))),
    policyOf(rule(1, pushedDays({ tagStatus: 'tagged', tagPrefixList: ['prod'] }, 1))),
    policyOf(rule(1, pulledDays({ tagStatus: 'tagged', tagPrefixList: ['prod'] }, 1))),
  ];
  t.is(new Set(inputs.map(canonical)).size, inputs.length);
});

test('canonical: randomized policies keep one text under shuffling, repeats and reformatting', (t) => {
  const random = seeded(20250630);
  const words = ['prod', 'beta', 'v1', 'rc', 'main', 'feat', 'x'];
  for (let round = 0; round < 200; round++) {
    const ruleCount = 1 + random.int(6);
    const priorities = new Set<number>();
    while (priorities.size < ruleCount) priorities.add(1 + random.int(1000));
    const sorted = [...priorities].sort((a, b) => a - b);
    const rules = sorted.map((priority, i) => {
      const last = i === sorted.length - 1;
      const status = last && random.next() < 0.3 ? 'any' : i === 0 && random.next() < 0.3 ? 'untagged' : 'tagged';
      const criteria: Record<string, unknown> = { tagStatus: status };
      if (status === 'tagged') {
        // Unique per rule: the rule's own marker word keeps two rules from having equal criteria.
        const entries = [`r${i}`, ...Array.from({ length: random.int(3) }, () => random.pick(words))];
        if (random.next() < 0.5) criteria.tagPrefixList = entries;
        else criteria.tagPatternList = entries.map((e) => (random.next() < 0.5 ? `${e}*` : `*${e}**`));
      }
      const kind = random.int(3);
      const selection = kind === 0 ? { ...criteria, countType: 'imageCountMoreThan', countNumber: 1 + random.int(50) } : kind === 1 ? pushedDays(criteria, 1 + random.int(90)) : pulledDays(criteria, 1 + random.int(90));
      return rule(priority, selection, random.next() < 0.5 ? {} : { description: random.next() < 0.5 ? '' : `d${round}` });
    });
    const base = canonical(policyOf(...rules));
    t.is(canonical(base), base);

    const shuffled = [...rules].sort(() => random.next() - 0.5).map((r) => {
      const selection = { ...(r.selection as Record<string, unknown>) };
      for (const list of ['tagPrefixList', 'tagPatternList']) {
        const entries = selection[list] as string[] | undefined;
        if (entries) selection[list] = [...entries, ...entries].sort(() => random.next() - 0.5);
      }
      const reordered = Object.fromEntries(Object.entries(selection).reverse());
      return { action: r.action, selection: reordered, rulePriority: r.rulePriority, ...(r.description === undefined ? {} : { description: r.description }) };
    });
    t.is(canonical(JSON.stringify(policyOf(...shuffled), null, random.int(4))), base);
  }
});
