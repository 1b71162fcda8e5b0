// Validation of a lifecycle policy against every rule ECR documents, reporting all failures at once
// with the path of the field at fault. Nothing here throws for bad input.
import { canonicalLifecyclePolicy } from './canonical.ts';
import {
  countTypes,
  limits,
  tagStatuses,
  type CountType,
  type LifecyclePolicy,
  type LifecycleRule,
  type LifecycleSelection,
  type PolicyError,
  type TagStatus,
  type ValidationResult,
} from './policy.ts';
import { collapseWildcards } from './tag-matcher.ts';

// A hostile policy object could hold millions of unknown keys; past this, one more error says so.
const maxErrors = 100;

const policyKeys = new Set(['rules']);
const ruleKeys = new Set(['rulePriority', 'description', 'selection', 'action']);
const selectionKeys = new Set(['tagStatus', 'tagPrefixList', 'tagPatternList', 'countType', 'countUnit', 'countNumber']);
const actionKeys = new Set(['type']);

// The distribution-spec tag grammar (names.ts): an entry outside it can never match a tag.
const prefixGrammar = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const patternGrammar = /^[A-Za-z0-9_*][A-Za-z0-9_.*-]*$/;
const tagAlphabet = 'tags use only letters, digits, "_", "." and "-", and do not start with "." or "-"';

class Errors {
  readonly list: PolicyError[] = [];

  add(path: string, message: string): void {
    if (this.list.length < maxErrors) this.list.push({ path, message });
    else if (this.list.length === maxErrors) this.list.push({ path: '', message: `more than ${maxErrors} errors; the rest are not reported` });
  }

  get count(): number {
    return this.list.length;
  }
}

/**
 * Validates a lifecycle policy, given as its JSON text (as PutLifecyclePolicy takes it) or as an
 * already parsed value. On success the policy holds only the known fields, in the input's rule
 * order; `canonicalLifecyclePolicy` gives its canonical text.
 */
export function validateLifecyclePolicy(input: unknown): ValidationResult {
  const errors = new Errors();
  let value = input;
  if (typeof input === 'string') {
    if (input.length > limits.maxPolicyLength) {
      return fail([{ path: '', message: `policy text is ${input.length} characters; at most ${limits.maxPolicyLength} are allowed` }]);
    }
    try {
      value = JSON.parse(input);
    } catch (err) {
      return fail([{ path: '', message: `not valid JSON: ${(err as Error).message}` }]);
    }
  }
  const policy = checkPolicy(value, errors);
  if (policy === undefined || errors.count > 0) return fail(errors.list);
  // ECR bounds the text. A parsed value has none, and the canonical text is what gets stored, so it
  // must fit too; it outgrows its source text only through spellings such as 1e9 for 1000000000
  // and unescaped unpaired surrogates.
  const length = canonicalLifecyclePolicy(policy).length;
  if (length > limits.maxPolicyLength) {
    return fail([{ path: '', message: `policy is ${length} characters as canonical JSON; at most ${limits.maxPolicyLength} are allowed` }]);
  }
  return { ok: true, policy };
}

function fail(errors: readonly PolicyError[]): ValidationResult {
  return { ok: false, errors };
}

function checkPolicy(value: unknown, errors: Errors): LifecyclePolicy | undefined {
  if (!isPlainObject(value)) {
    errors.add('', 'must be a JSON object');
    return undefined;
  }
  checkKeys(value, policyKeys, '', errors);
  const rules = value.rules;
  if (rules === undefined) {
    errors.add('rules', 'required');
    return undefined;
  }
  if (!Array.isArray(rules)) {
    errors.add('rules', 'must be an array');
    return undefined;
  }
  if (rules.length === 0) {
    errors.add('rules', 'must contain at least one rule');
    return undefined;
  }
  if (rules.length > limits.maxRules) {
    errors.add('rules', `has ${rules.length} rules; at most ${limits.maxRules} are allowed`);
    return undefined;
  }
  const checked: { rule: LifecycleRule; index: number }[] = [];
  rules.forEach((raw: unknown, index) => {
    const rule = checkRule(raw, `rules[${index}]`, errors);
    if (rule !== undefined) checked.push({ rule, index });
  });
  checkAcrossRules(checked, errors);
  return { rules: checked.map((c) => c.rule) };
}

function checkRule(value: unknown, path: string, errors: Errors): LifecycleRule | undefined {
  if (!isPlainObject(value)) {
    errors.add(path, 'must be an object');
    return undefined;
  }
  const before = errors.count;
  checkKeys(value, ruleKeys, path, errors);
  const rulePriority = checkInteger(value, 'rulePriority', path, limits.maxRulePriority, errors);
  let description: string | undefined;
  if (value.description !== undefined) {
    if (typeof value.description === 'string') description = value.description;
    else errors.add(field(path, 'description'), 'must be a string');
  }
  const selection = checkSelection(value.selection, field(path, 'selection'), errors);
  checkAction(value.action, field(path, 'action'), errors);
  if (errors.count > before || rulePriority === undefined || selection === undefined) return undefined;
  return {
    rulePriority,
    ...(description === undefined ? {} : { description }),
    selection,
    action: { type: 'expire' },
  };
}

function checkSelection(value: unknown, path: string, errors: Errors): LifecycleSelection | undefined {
  if (value === undefined) {
    errors.add(path, 'required');
    return undefined;
  }
  if (!isPlainObject(value)) {
    errors.add(path, 'must be an object');
    return undefined;
  }
  const before = errors.count;
  checkKeys(value, selectionKeys, path, errors);

  const tagStatus = checkEnum<TagStatus>(value, 'tagStatus', tagStatuses, path, errors);
  const prefixes = checkTagList(value, 'tagPrefixList', path, errors);
  const patterns = checkTagList(value, 'tagPatternList', path, errors);
  if (tagStatus !== undefined && tagStatus !== 'tagged') {
    for (const name of ['tagPrefixList', 'tagPatternList']) {
      if (value[name] !== undefined) errors.add(field(path, name), 'only allowed when tagStatus is "tagged"');
    }
  }
  if (tagStatus === 'tagged' && value.tagPrefixList === undefined && value.tagPatternList === undefined) {
    errors.add(path, 'tagStatus "tagged" needs a tagPrefixList or a tagPatternList');
  }
  if (value.tagPrefixList !== undefined && value.tagPatternList !== undefined) {
    errors.add(field(path, 'tagPatternList'), 'not allowed together with tagPrefixList; use one or the other');
  }

  const countType = checkEnum<CountType>(value, 'countType', countTypes, path, errors);
  const countsDays = countType === 'sinceImagePushed' || countType === 'sinceImagePulled';
  const unitPath = field(path, 'countUnit');
  if (value.countUnit === undefined) {
    if (countsDays) errors.add(unitPath, `required when countType is "${countType}"`);
  } else if (countType === 'imageCountMoreThan') {
    errors.add(unitPath, 'only allowed when countType is "sinceImagePushed" or "sinceImagePulled"');
  } else if (value.countUnit !== 'days') {
    errors.add(unitPath, 'must be "days"');
  }
  const countNumber = checkInteger(value, 'countNumber', path, limits.maxCountNumber, errors);

  if (errors.count > before || tagStatus === undefined || countType === undefined || countNumber === undefined) return undefined;
  return {
    tagStatus,
    ...(prefixes === undefined ? {} : { tagPrefixList: prefixes }),
    ...(patterns === undefined ? {} : { tagPatternList: patterns }),
    countType,
    ...(countsDays ? { countUnit: 'days' as const } : {}),
    countNumber,
  };
}

function checkTagList(selection: Record<string, unknown>, name: 'tagPrefixList' | 'tagPatternList', path: string, errors: Errors): string[] | undefined {
  const value = selection[name];
  if (value === undefined) return undefined;
  const listPath = field(path, name);
  if (!Array.isArray(value)) {
    errors.add(listPath, 'must be an array of strings');
    return undefined;
  }
  if (value.length === 0) {
    errors.add(listPath, 'must list at least one entry');
    return undefined;
  }
  if (value.length > limits.maxTagListEntries) {
    errors.add(listPath, `has ${value.length} entries; at most ${limits.maxTagListEntries} are allowed`);
    return undefined;
  }
  const entries: string[] = [];
  value.forEach((entry: unknown, index) => {
    const entryPath = `${listPath}[${index}]`;
    if (typeof entry !== 'string') errors.add(entryPath, 'must be a string');
    else {
      const problem = name === 'tagPrefixList' ? prefixProblem(entry) : patternProblem(entry);
      if (problem === undefined) entries.push(entry);
      else errors.add(entryPath, problem);
    }
  });
  return entries.length === value.length ? entries : undefined;
}

function prefixProblem(prefix: string): string | undefined {
  if (prefix === '') return 'must not be empty (tagPatternList ["*"] selects every tagged image)';
  if (prefix.length > limits.maxTagLength) return `is longer than a tag can be (${limits.maxTagLength} characters), so it can never match`;
  if (!prefixGrammar.test(prefix)) return `can never match: ${tagAlphabet}`;
  return undefined;
}

function patternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'must not be empty';
  let wildcards = 0;
  for (const ch of pattern) if (ch === '*') wildcards++;
  if (wildcards > limits.maxWildcards) return `has ${wildcards} wildcards (*); at most ${limits.maxWildcards} are allowed`;
  if (pattern.length - wildcards > limits.maxTagLength) {
    return `has more literal characters than a tag can have (${limits.maxTagLength}), so it can never match`;
  }
  if (!patternGrammar.test(pattern)) return `can never match: "*" is the only wildcard and ${tagAlphabet}`;
  return undefined;
}

function checkAction(value: unknown, path: string, errors: Errors): void {
  if (value === undefined) {
    errors.add(path, 'required');
    return;
  }
  if (!isPlainObject(value)) {
    errors.add(path, 'must be an object');
    return;
  }
  checkKeys(value, actionKeys, path, errors);
  if (value.type === undefined) errors.add(field(path, 'type'), 'required');
  else if (value.type !== 'expire') errors.add(field(path, 'type'), 'must be "expire"');
}

/** The rules ECR states about a policy's rules taken together. */
function checkAcrossRules(rules: readonly { rule: LifecycleRule; index: number }[], errors: Errors): void {
  const byPriority = new Map<number, number>();
  const byCriteria = new Map<string, number>();
  let untagged: number | undefined;
  let highest: { priority: number; index: number } | undefined;
  for (const { rule, index } of rules) {
    if (highest === undefined || rule.rulePriority > highest.priority) highest = { priority: rule.rulePriority, index };
  }
  for (const { rule, index } of rules) {
    const path = `rules[${index}]`;
    const seen = byPriority.get(rule.rulePriority);
    if (seen === undefined) byPriority.set(rule.rulePriority, index);
    else errors.add(`${path}.rulePriority`, `${rule.rulePriority} is already the priority of rules[${seen}]; priorities must be unique`);

    const { selection } = rule;
    if (selection.tagStatus === 'any' && highest !== undefined && highest.priority > rule.rulePriority) {
      errors.add(`${path}.rulePriority`, `a rule with tagStatus "any" must have the highest rulePriority, but rules[${highest.index}] has ${highest.priority}`);
    }
    if (selection.tagStatus === 'untagged') {
      if (untagged === undefined) untagged = index;
      else errors.add(`${path}.selection.tagStatus`, `only one rule may select untagged images, and rules[${untagged}] already does`);
    }
    if (selection.tagStatus === 'tagged') {
      // "The set of rules must contain a unique set of tag prefixes": a second rule with the same
      // criteria could never expire anything, the first claiming all its images. Prefix "p" and
      // pattern "p*" are the same criterion.
      const criteria = [
        ...(selection.tagPrefixList ?? []).map((prefix) => `${prefix}*`),
        ...(selection.tagPatternList ?? []).map(collapseWildcards),
      ];
      const key = JSON.stringify([...new Set(criteria)].sort());
      const listName = selection.tagPrefixList === undefined ? 'tagPatternList' : 'tagPrefixList';
      const first = byCriteria.get(key);
      if (first === undefined) byCriteria.set(key, index);
      else errors.add(`${path}.selection.${listName}`, `selects the same tags as rules[${first}]; each rule's tag criteria must be unique`);
    }
  }
}

function checkInteger(obj: Record<string, unknown>, name: string, path: string, max: number, errors: Errors): number | undefined {
  const value = obj[name];
  const at = field(path, name);
  if (value === undefined) errors.add(at, 'required');
  else if (typeof value !== 'number' || !Number.isInteger(value)) errors.add(at, 'must be an integer');
  else if (value < 1) errors.add(at, 'must be a positive integer');
  else if (value > max) errors.add(at, `must be at most ${max}`);
  else return value;
  return undefined;
}

function checkEnum<T extends string>(obj: Record<string, unknown>, name: string, allowed: readonly T[], path: string, errors: Errors): T | undefined {
  const value = obj[name];
  const at = field(path, name);
  if (value === undefined) errors.add(at, 'required');
  else if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  else errors.add(at, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return undefined;
}

function checkKeys(obj: Record<string, unknown>, allowed: ReadonlySet<string>, path: string, errors: Errors): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) errors.add(field(path, key), 'unknown property');
  }
}

/** JSON objects only: arrays, class instances and the like are not policies. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function field(path: string, name: string): string {
  if (!identifier.test(name)) return `${path}[${JSON.stringify(name.slice(0, 100))}]`;
  return path === '' ? name : `${path}.${name}`;
}
