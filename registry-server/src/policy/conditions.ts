// The Condition block: `{ Operator: { ConditionKey: value | value[] } }`.
//
// An operator is an optional set qualifier ("ForAnyValue:" or "ForAllValues:"), a test
// (StringEquals, IpAddress, ...) and an optional "IfExists" suffix. Operators are case-sensitive
// as in IAM. Values are checked for the test's type and stored as strings in a normal form:
//   string tests   any string; JSON numbers and booleans become their text ("5", "true")
//   Numeric*       decimal numbers, normalized exactly ("007.50" -> "7.5", -0 -> "0")
//   Date*          ISO 8601 (extended form) or epoch seconds, kept as written
//   Bool, Null     true/false or "true"/"false", stored as "true"/"false"
//   BinaryEquals   base64 text
//   IpAddress...   IPv4/IPv6 addresses or CIDR blocks, kept as written
//   Arn*           "*" or ARNs (wildcards allowed), kept as written
// Each key's values are then sorted and deduplicated: a list of values is a set in IAM.

import { conditionTests, type ConditionClause, type ConditionTest, type SetQualifier } from './document.ts';
import { isObject, typeName } from './json.ts';
import type { PolicyLimits } from './limits.ts';
import { childPath, indexPath, type Findings } from './paths.ts';
import { checkArnPattern, checkConditionKey, clip } from './patterns.ts';
import { checkBase64, checkDateValue, checkIpValue, normalDecimal, numberText } from './values.ts';

export type ValueKind = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

export function valueKind(test: ConditionTest): ValueKind {
  if (test.startsWith('String')) return 'string';
  if (test.startsWith('Numeric')) return 'numeric';
  if (test.startsWith('Date')) return 'date';
  if (test.startsWith('Arn')) return 'arn';
  switch (test) {
    case 'Bool':
      return 'bool';
    case 'BinaryEquals':
      return 'binary';
    case 'Null':
      return 'null';
    default:
      return 'ip';
  }
}

export interface ParsedOperator {
  readonly test: ConditionTest;
  readonly qualifier: SetQualifier | null;
  readonly ifExists: boolean;
}

const tests: ReadonlySet<string> = new Set(conditionTests);
const testsByLowerCase = new Map(conditionTests.map((t) => [t.toLowerCase(), t]));

/** Splits an operator into its parts, or returns a message saying why it is not one. */
export function parseOperator(operator: string): ParsedOperator | string {
  let rest = operator;
  let qualifier: SetQualifier | null = null;
  for (const q of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${q}:`)) {
      qualifier = q;
      rest = rest.slice(q.length + 1);
      break;
    }
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  if (!tests.has(rest)) {
    const near = testsByLowerCase.get(rest.toLowerCase());
    if (near !== undefined) return `unknown condition operator "${clip(operator)}" (operators are case-sensitive: ${near})`;
    return `unknown condition operator "${clip(operator)}"`;
  }
  const test = rest as ConditionTest;
  if (test === 'Null' && (ifExists || qualifier !== null)) {
    return 'Null takes neither IfExists nor a ForAnyValue:/ForAllValues: qualifier';
  }
  return { test, qualifier, ifExists };
}

/** One value in its normal form, or a message saying what is wrong with it. */
export function conditionValue(kind: ValueKind, raw: unknown): { value: string } | { error: string } {
  switch (kind) {
    case 'string':
      if (typeof raw === 'string') return { value: raw };
      if (typeof raw === 'boolean') return { value: String(raw) };
      if (typeof raw === 'number') return { value: numberText(raw) ?? String(raw) };
      return { error: `must be a string, not ${typeName(raw)}` };
    case 'numeric': {
      if (typeof raw !== 'number' && typeof raw !== 'string') return { error: `must be a number, not ${typeName(raw)}` };
      const text = typeof raw === 'number' ? numberText(raw) : raw;
      const normal = text === null ? null : normalDecimal(text);
      return normal === null ? { error: 'must be a decimal number such as 42 or -1.5' } : { value: normal };
    }
    case 'date':
      if (typeof raw === 'number') {
        return Number.isSafeInteger(raw) && raw >= 0 ? { value: String(raw) } : { error: 'epoch seconds must be a whole non-negative number' };
      }
      if (typeof raw !== 'string') return { error: `must be a date string, not ${typeName(raw)}` };
      return wrap(raw, checkDateValue(raw));
    case 'bool':
    case 'null':
      if (raw === true || raw === 'true') return { value: 'true' };
      if (raw === false || raw === 'false') return { value: 'false' };
      return { error: 'must be true or false' };
    case 'binary':
      if (typeof raw !== 'string') return { error: `must be a base64 string, not ${typeName(raw)}` };
      return wrap(raw, checkBase64(raw));
    case 'ip':
      if (typeof raw !== 'string') return { error: `must be an IP address string, not ${typeName(raw)}` };
      return wrap(raw, checkIpValue(raw));
    case 'arn':
      if (typeof raw !== 'string') return { error: `must be an ARN string, not ${typeName(raw)}` };
      return wrap(raw, checkArnPattern(raw));
  }
}

function wrap(value: string, error: string | null): { value: string } | { error: string } {
  return error === null ? { value } : { error };
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}

/** Code unit order: deterministic and locale-independent. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses a Condition block into one clause per (operator, key), ordered by operator then key.
 * An empty block `{}` means no conditions.
 */
export function parseConditions(raw: unknown, path: string, limits: PolicyLimits, findings: Findings): ConditionClause[] {
  if (!isObject(raw)) {
    findings.error(path, `Condition must be an object of operators, not ${typeName(raw)}`);
    return [];
  }
  const clauses: ConditionClause[] = [];
  let count = 0;
  for (const operator of Object.keys(raw).sort(compareText)) {
    const opPath = childPath(path, operator);
    const parsed = parseOperator(operator);
    if (typeof parsed === 'string') {
      findings.error(opPath, parsed);
      continue;
    }
    const block = raw[operator];
    if (!isObject(block)) {
      findings.error(opPath, `must be an object of condition keys, not ${typeName(block)}`);
      continue;
    }
    const keys = Object.keys(block).sort(compareText);
    if (keys.length === 0) {
      findings.error(opPath, 'needs at least one condition key');
      continue;
    }
    count += keys.length;
    if (count > limits.maxConditions) {
      findings.error(path, `has more than ${limits.maxConditions} condition keys`);
      return clauses;
    }
    const seen = new Map<string, string>();
    const kind = valueKind(parsed.test);
    for (const key of keys) {
      const keyPath = childPath(opPath, key);
      const keyError = key.length > limits.maxStringLength ? `condition keys are at most ${limits.maxStringLength} characters` : checkConditionKey(key);
      if (keyError !== null) {
        findings.error(keyPath, keyError);
        continue;
      }
      const other = seen.get(key.toLowerCase());
      if (other !== undefined) {
        findings.error(keyPath, `condition keys are case-insensitive: "${clip(key)}" repeats "${clip(other)}"`);
        continue;
      }
      seen.set(key.toLowerCase(), key);
      const values = parseValues(block[key], kind, keyPath, limits, findings);
      if (values !== null) clauses.push({ operator, ...parsed, key, values });
    }
  }
  return clauses;
}

function parseValues(raw: unknown, kind: ValueKind, path: string, limits: PolicyLimits, findings: Findings): string[] | null {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) {
    findings.error(path, 'needs at least one value');
    return null;
  }
  if (list.length > limits.maxListEntries) {
    findings.error(path, `has ${list.length} values; at most ${limits.maxListEntries} are allowed`);
    return null;
  }
  const values: string[] = [];
  let ok = true;
  list.forEach((item: unknown, i) => {
    const itemPath = Array.isArray(raw) ? indexPath(path, i) : path;
    const result = conditionValue(kind, item);
    if ('error' in result) {
      findings.error(itemPath, result.error);
      ok = false;
    } else if (result.value.length > limits.maxStringLength) {
      findings.error(itemPath, `values are at most ${limits.maxStringLength} characters`);
      ok = false;
    } else values.push(result.value);
  });
  return ok ? sortedUnique(values) : null;
}
