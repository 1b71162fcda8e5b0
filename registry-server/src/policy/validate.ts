// Parsing and validating a policy document from untrusted input. Never throws for bad input:
// every problem is reported with its path, and as many problems as possible in one pass.

import { canonicalPolicy } from './canonical.ts';
import { unknownActionWarning, unknownConditionKeyWarning } from './catalogue.ts';
import { compareText, parseConditions, sortedUnique } from './conditions.ts';
import {
  policyVersions,
  principalTypes,
  type ConditionClause,
  type Effect,
  type PatternClause,
  type PolicyCatalogue,
  type PolicyContext,
  type PolicyDocument,
  type PolicyError,
  type PolicyStatement,
  type PolicyVersion,
  type PrincipalClause,
  type PrincipalSet,
  type PrincipalType,
} from './document.ts';
import { isObject, parseInput, typeName, type JsonObject } from './json.ts';
import { defaultLimits, utf8Length, type PolicyLimits } from './limits.ts';
import { childPath, Findings, indexPath } from './paths.ts';
import { checkAction, checkPrincipal, checkResource, clip, sidPattern } from './patterns.ts';

export interface ValidateOptions extends Partial<PolicyLimits> {
  readonly context: PolicyContext;
  /** Known actions and condition keys: unknown ones produce warnings, never errors. */
  readonly catalogue?: PolicyCatalogue;
}

export type PolicyResult =
  | {
      readonly ok: true;
      readonly policy: PolicyDocument;
      /** canonicalPolicy(policy): what to store and compare. */
      readonly canonical: string;
      readonly warnings: readonly PolicyError[];
    }
  | { readonly ok: false; readonly errors: readonly PolicyError[]; readonly warnings: readonly PolicyError[] };

const documentFields = ['Version', 'Id', 'Statement'];
const statementFields = ['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'];

/**
 * Validates a policy given as JSON text or as an already-parsed JSON value. On success the
 * result carries the parsed document (normalized for evaluation) and its canonical text.
 */
export function validatePolicyDocument(input: unknown, options: ValidateOptions): PolicyResult {
  const { context, catalogue, ...overrides } = options;
  const limits: PolicyLimits = { ...defaultLimits(context), ...definedOnly(overrides) };
  const findings = new Findings(limits.maxErrors);
  const parsed = parseInput(input, limits.maxInputBytes);
  if (!parsed.ok) return { ok: false, errors: [parsed.error], warnings: [] };
  for (const d of parsed.duplicates) findings.error(d.path, d.message);
  const policy = parseDocument(parsed.value, { context, limits, catalogue, findings });
  let canonical = '';
  if (policy !== null && !findings.failed) {
    canonical = canonicalPolicy(policy);
    const size = utf8Length(canonical);
    if (size > limits.maxBytes) {
      findings.error('', `the policy is ${size} bytes without whitespace; at most ${limits.maxBytes} are allowed`);
    }
  }
  findings.finish();
  if (policy === null || findings.failed) return { ok: false, errors: findings.errors, warnings: findings.warnings };
  return { ok: true, policy, canonical, warnings: findings.warnings };
}

function definedOnly(overrides: Partial<PolicyLimits>): Partial<PolicyLimits> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(overrides)) if (typeof value === 'number' && value >= 0) out[key] = value;
  return out;
}

interface Run {
  readonly context: PolicyContext;
  readonly limits: PolicyLimits;
  readonly catalogue: PolicyCatalogue | undefined;
  readonly findings: Findings;
}

function unknownFields(obj: JsonObject, allowed: readonly string[], path: string, run: Run): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
    const hint = near === undefined ? `expected ${allowed.join(', ')}` : `field names are case-sensitive: ${near}`;
    run.findings.error(childPath(path, key), `unknown field (${hint})`);
  }
}

/** A string, not too long and free of control characters. Null (after reporting) otherwise. */
function text(raw: unknown, path: string, what: string, run: Run): string | null {
  if (typeof raw !== 'string') {
    run.findings.error(path, `${what} must be a string, not ${typeName(raw)}`);
    return null;
  }
  if (raw.length > run.limits.maxStringLength) {
    run.findings.error(path, `${what} is longer than ${run.limits.maxStringLength} characters`);
    return null;
  }
  return raw;
}

function parseDocument(raw: unknown, run: Run): PolicyDocument | null {
  if (!isObject(raw)) {
    run.findings.error('', `a policy document must be a JSON object, not ${typeName(raw)}`);
    return null;
  }
  unknownFields(raw, documentFields, '', run);

  let version: PolicyVersion | null = null;
  if (!Object.hasOwn(raw, 'Version')) run.findings.error('Version', 'is required ("2012-10-17")');
  else if (!(policyVersions as readonly unknown[]).includes(raw.Version)) {
    run.findings.error('Version', `must be "2012-10-17" or "2008-10-17", not ${describeValue(raw.Version)}`);
  } else version = raw.Version as PolicyVersion;

  let id: string | undefined;
  if (Object.hasOwn(raw, 'Id')) {
    const value = text(raw.Id, 'Id', 'Id', run);
    if (value !== null && /[\u0000-\u001f\u007f]/.test(value)) run.findings.error('Id', 'Id must not contain control characters');
    else if (value !== null && value !== '') id = value;
  }

  const statements = parseStatements(raw, run);
  if (version === null || statements === null) return null;
  return id === undefined ? { version, statements } : { version, id, statements };
}

function parseStatements(doc: JsonObject, run: Run): PolicyStatement[] | null {
  if (!Object.hasOwn(doc, 'Statement')) {
    run.findings.error('Statement', 'is required');
    return null;
  }
  const raw = doc.Statement;
  const single = isObject(raw);
  if (!single && !Array.isArray(raw)) {
    run.findings.error('Statement', `must be a statement object or an array of them, not ${typeName(raw)}`);
    return null;
  }
  const list: unknown[] = single ? [raw] : (raw as unknown[]);
  if (list.length === 0) {
    run.findings.error('Statement', 'needs at least one statement');
    return null;
  }
  if (list.length > run.limits.maxStatements) {
    run.findings.error('Statement', `has ${list.length} statements; at most ${run.limits.maxStatements} are allowed`);
    return null;
  }
  const statements: PolicyStatement[] = [];
  const sids = new Map<string, number>();
  let ok = true;
  list.forEach((item, i) => {
    const path = single ? 'Statement' : indexPath('Statement', i);
    const statement = parseStatement(item, path, run);
    if (statement === null) {
      ok = false;
      return;
    }
    if (statement.sid !== undefined) {
      const first = sids.get(statement.sid);
      if (first !== undefined) {
        run.findings.error(childPath(path, 'Sid'), `Sid "${clip(statement.sid)}" is already used by Statement[${first}]`);
        ok = false;
      } else sids.set(statement.sid, i);
    }
    statements.push(statement);
  });
  return ok ? statements : null;
}

function parseStatement(raw: unknown, path: string, run: Run): PolicyStatement | null {
  if (!isObject(raw)) {
    run.findings.error(path, `a statement must be an object, not ${typeName(raw)}`);
    return null;
  }
  const before = run.findings.errors.length;
  unknownFields(raw, statementFields, path, run);

  let sid: string | undefined;
  if (Object.hasOwn(raw, 'Sid')) {
    const value = text(raw.Sid, childPath(path, 'Sid'), 'Sid', run);
    if (value !== null && value !== '') {
      if (sidPattern.test(value)) sid = value;
      else run.findings.error(childPath(path, 'Sid'), 'Sid must be letters and digits only');
    }
  }

  let effect: Effect | null = null;
  if (!Object.hasOwn(raw, 'Effect')) run.findings.error(childPath(path, 'Effect'), 'is required ("Allow" or "Deny")');
  else if (raw.Effect === 'Allow' || raw.Effect === 'Deny') effect = raw.Effect;
  else run.findings.error(childPath(path, 'Effect'), `must be "Allow" or "Deny", not ${describeValue(raw.Effect)}`);

  const principal = parsePrincipalClause(raw, path, run);
  const action = parsePair(raw, path, 'Action', checkAction, true, run);
  const resource = parsePair(raw, path, 'Resource', checkResource, run.context === 'identity', run);

  let conditions: ConditionClause[] = [];
  if (Object.hasOwn(raw, 'Condition')) {
    conditions = parseConditions(raw.Condition, childPath(path, 'Condition'), run.limits, run.findings);
    if (run.catalogue !== undefined) {
      for (const c of conditions) {
        const warning = unknownConditionKeyWarning(c.key, run.catalogue);
        if (warning !== null) run.findings.warn(childPath(childPath(childPath(path, 'Condition'), c.operator), c.key), warning);
      }
    }
  }

  if (run.findings.errors.length > before || effect === null || action == null || resource === null || principal === null) return null;
  if (principal !== undefined) principalWarnings(effect, principal, conditions, path, run);
  return {
    ...(sid === undefined ? {} : { sid }),
    effect,
    ...(principal === undefined ? {} : { principal }),
    action,
    ...(resource === undefined ? {} : { resource }),
    conditions,
  };
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, 40));
  return typeName(value);
}

/**
 * X or NotX, exactly one (or neither when not required). Returns undefined when absent and
 * allowed to be, null after reporting an error.
 */
function parsePair(
  raw: JsonObject,
  path: string,
  name: 'Action' | 'Resource',
  check: (value: string) => string | null,
  required: boolean,
  run: Run,
): PatternClause | undefined | null {
  const notName = `Not${name}`;
  const has = Object.hasOwn(raw, name);
  const hasNot = Object.hasOwn(raw, notName);
  if (has && hasNot) {
    run.findings.error(childPath(path, notName), `a statement cannot have both ${name} and ${notName}`);
    return null;
  }
  if (!has && !hasNot) {
    if (!required) return undefined;
    run.findings.error(path, `a statement needs ${name} or ${notName}`);
    return null;
  }
  const field = has ? name : notName;
  const fieldPath = childPath(path, field);
  const patterns = stringList(raw[field], fieldPath, check, run);
  if (patterns === null) return null;
  if (name === 'Action' && run.catalogue !== undefined) {
    const catalogue = run.catalogue;
    const raws = raw[field];
    patterns.forEach((p) => {
      const warning = unknownActionWarning(p, catalogue);
      if (warning === null) return;
      const at = Array.isArray(raws) ? indexPath(fieldPath, raws.indexOf(p)) : fieldPath;
      run.findings.warn(at, warning);
    });
  }
  return { negated: hasNot, patterns };
}

/** A string or a non-empty array of strings, each passing `check`; sorted and deduplicated. */
function stringList(raw: unknown, path: string, check: (value: string) => string | null, run: Run): string[] | null {
  const list = Array.isArray(raw) ? raw : [raw];
  if (Array.isArray(raw) && raw.length === 0) {
    run.findings.error(path, 'needs at least one entry');
    return null;
  }
  if (list.length > run.limits.maxListEntries) {
    run.findings.error(path, `has ${list.length} entries; at most ${run.limits.maxListEntries} are allowed`);
    return null;
  }
  const values: string[] = [];
  let ok = true;
  list.forEach((item: unknown, i) => {
    const itemPath = Array.isArray(raw) ? indexPath(path, i) : path;
    if (typeof item !== 'string') {
      run.findings.error(itemPath, `must be a string, not ${typeName(item)}`);
      ok = false;
      return;
    }
    const error = item.length > run.limits.maxStringLength ? `is longer than ${run.limits.maxStringLength} characters` : check(item);
    if (error !== null) {
      run.findings.error(itemPath, error);
      ok = false;
    } else values.push(item);
  });
  return ok ? sortedUnique(values) : null;
}

function parsePrincipalClause(raw: JsonObject, path: string, run: Run): PrincipalClause | undefined | null {
  const has = Object.hasOwn(raw, 'Principal');
  const hasNot = Object.hasOwn(raw, 'NotPrincipal');
  if (run.context === 'identity') {
    if (!has && !hasNot) return undefined;
    const field = has ? 'Principal' : 'NotPrincipal';
    run.findings.error(childPath(path, field), `identity policies cannot have ${field}: they apply to the identity they are attached to`);
    return null;
  }
  if (has && hasNot) {
    run.findings.error(childPath(path, 'NotPrincipal'), 'a statement cannot have both Principal and NotPrincipal');
    return null;
  }
  if (!has && !hasNot) {
    run.findings.error(path, 'a statement in a resource policy needs Principal or NotPrincipal');
    return null;
  }
  const field = has ? 'Principal' : 'NotPrincipal';
  const principals = parsePrincipalSet(raw[field], childPath(path, field), run);
  return principals === null ? null : { negated: hasNot, principals };
}

function parsePrincipalSet(raw: unknown, path: string, run: Run): PrincipalSet | null {
  if (raw === '*') return { kind: 'anyone' };
  if (typeof raw === 'string') {
    run.findings.error(path, 'must be "*" or an object such as {"AWS": "arn:..."}');
    return null;
  }
  if (!isObject(raw)) {
    run.findings.error(path, `must be "*" or an object of principal types, not ${typeName(raw)}`);
    return null;
  }
  const keys = Object.keys(raw);
  if (keys.length === 0) {
    run.findings.error(path, 'needs at least one principal type (AWS, Federated or Service)');
    return null;
  }
  const lists: Record<PrincipalType, string[]> = { AWS: [], Federated: [], Service: [] };
  let ok = true;
  for (const key of keys.sort(compareText)) {
    const type = principalTypes.find((t) => t === key);
    if (type === undefined) {
      const near = principalTypes.find((t) => t.toLowerCase() === key.toLowerCase());
      run.findings.error(childPath(path, key), near === undefined ? 'unknown principal type (expected AWS, Federated or Service)' : `principal types are case-sensitive: ${near}`);
      ok = false;
      continue;
    }
    const values = stringList(raw[key], childPath(path, key), (v) => checkPrincipal(type, v), run);
    if (values === null) ok = false;
    else lists[type] = values;
  }
  return ok ? { kind: 'listed', ...lists } : null;
}

function principalWarnings(effect: Effect, clause: PrincipalClause, conditions: readonly ConditionClause[], path: string, run: Run): void {
  if (effect !== 'Allow') return;
  if (clause.negated) {
    run.findings.warn(childPath(path, 'NotPrincipal'), 'Allow with NotPrincipal grants access to everyone not listed, anonymous callers included');
    return;
  }
  if (conditions.length > 0) return;
  const set = clause.principals;
  if (set.kind === 'anyone') {
    run.findings.warn(childPath(path, 'Principal'), 'allows anyone, anonymous callers included, with no Condition');
  } else if (set.AWS.includes('*')) {
    run.findings.warn(childPath(childPath(path, 'Principal'), 'AWS'), 'allows every authenticated principal, with no Condition');
  }
}
