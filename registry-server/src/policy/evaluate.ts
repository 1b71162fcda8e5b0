// Deciding a request against parsed policies, as IAM does within one account: an applicable
// Deny anywhere wins, otherwise an applicable Allow in any identity or resource policy allows,
// otherwise the request is implicitly denied.
//
// This runs on every request, so it avoids per-call allocation: patterns are matched by index
// ranges (no slicing, no regular expressions), context keys are found without building lowered
// copies, and typed policy values (dates, IP blocks) are parsed once per clause and cached.

import { BlockList, isIP } from 'node:net';
import type { ConditionClause, PatternClause, PolicyDocument, PolicyStatement, PrincipalClause } from './document.ts';
import { sameChar, wildcardRange } from './patterns.ts';

export interface Caller {
  /** null for an anonymous caller. */
  readonly principal: { readonly id: string; readonly arn: string; readonly name: string } | null;
}

export interface AttachedPolicy {
  /** 'identity': attached to the caller; 'resource': a repository policy or the registry policy. */
  readonly kind: 'identity' | 'resource';
  /** A label for reports, e.g. "identity:admin/AdministratorAccess", "repository:team/app", "registry". */
  readonly source: string;
  readonly document: PolicyDocument;
  /**
   * For resource policies: the ARN pattern a statement without Resource applies to (e.g. the
   * repository's ARN, or "arn:berth:ecr:local:000000000000:repository/*" for the registry policy).
   */
  readonly attachedTo?: string;
}

export interface EvaluationRequest {
  readonly caller: Caller;
  /** e.g. "ecr:BatchGetImage" */
  readonly action: string;
  /** An ARN, e.g. arn:berth:ecr:local:000000000000:repository/team/app */
  readonly resource: string;
  /**
   * Condition keys → values, looked up case-insensitively as IAM does, e.g.
   * {"aws:SourceIp": "10.0.0.1", "aws:CurrentTime": "2026-11-23T10:00:00Z"}. Multi-valued keys are arrays.
   */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

export interface DecidingStatement {
  readonly source: string;
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
}

export interface Decision {
  readonly decision: 'allowed' | 'explicitDeny' | 'implicitDeny';
  /** The first matching Deny for explicitDeny, the first matching Allow for allowed; absent for implicitDeny. */
  readonly statement?: DecidingStatement;
}

const implicitDeny: Decision = Object.freeze({ decision: 'implicitDeny' });

export function evaluate(request: EvaluationRequest, policies: readonly AttachedPolicy[], registryAccount: string): Decision {
  let allowPolicy: AttachedPolicy | null = null;
  let allowIndex = -1;
  for (const policy of policies) {
    const statements = policy.document.statements;
    for (let i = 0; i < statements.length; i++) {
      const statement = statements[i] as PolicyStatement;
      // Once allowed, only a Deny can change the outcome: skip evaluating further Allows.
      if (statement.effect === 'Allow' && allowPolicy !== null) continue;
      if (!statementApplies(statement, request, policy, registryAccount)) continue;
      if (statement.effect === 'Deny') return { decision: 'explicitDeny', statement: deciding(policy, i, statement) };
      allowPolicy = policy;
      allowIndex = i;
    }
  }
  if (allowPolicy === null) return implicitDeny;
  return { decision: 'allowed', statement: deciding(allowPolicy, allowIndex, allowPolicy.document.statements[allowIndex] as PolicyStatement) };
}

function deciding(policy: AttachedPolicy, index: number, statement: PolicyStatement): DecidingStatement {
  return statement.sid === undefined
    ? { source: policy.source, index, effect: statement.effect }
    : { source: policy.source, index, sid: statement.sid, effect: statement.effect };
}

/** Whether one statement applies to the request (exported for the simulator and tests). */
export function statementApplies(statement: PolicyStatement, request: EvaluationRequest, policy: AttachedPolicy, registryAccount: string): boolean {
  // Cheapest and most selective checks first.
  if (!patternClauseMatches(statement.action, request.action, true)) return false;
  if (policy.kind === 'identity') {
    // Identity policies belong to a principal; an anonymous caller has none.
    if (request.caller.principal === null) return false;
  } else if (statement.principal === undefined || !principalClauseMatches(statement.principal, request.caller, registryAccount)) {
    // A resource-policy statement must name whom it applies to; without one it applies to no one.
    return false;
  }
  if (statement.resource !== undefined) {
    if (!patternClauseMatches(statement.resource, request.resource, false)) return false;
  } else if (policy.kind !== 'resource' || policy.attachedTo === undefined || !wildcardRange(policy.attachedTo, 0, policy.attachedTo.length, request.resource, 0, request.resource.length, false)) {
    // No Resource: only a resource policy's own attachment point is implied.
    return false;
  }
  const conditions = statement.conditions;
  for (let i = 0; i < conditions.length; i++) {
    if (!conditionHolds(conditions[i] as ConditionClause, request.context)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Actions and resources

function patternClauseMatches(clause: PatternClause, text: string, ignoreCase: boolean): boolean {
  const patterns = clause.patterns;
  let any = false;
  for (let i = 0; i < patterns.length && !any; i++) {
    const p = patterns[i] as string;
    any = wildcardRange(p, 0, p.length, text, 0, text.length, ignoreCase);
  }
  return clause.negated ? !any : any;
}

function equalsIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameChar(a.charCodeAt(i), b.charCodeAt(i), true)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Principals

function principalClauseMatches(clause: PrincipalClause, caller: Caller, registryAccount: string): boolean {
  const matches = principalSetMatches(clause, caller, registryAccount);
  return clause.negated ? !matches : matches;
}

function principalSetMatches(clause: PrincipalClause, caller: Caller, registryAccount: string): boolean {
  const set = clause.principals;
  if (set.kind === 'anyone') return true;
  const principal = caller.principal;
  // Listed principals (even {"AWS": "*"}) are authenticated ones; Service and Federated
  // entries never name a Berth principal.
  if (principal === null) return false;
  for (const entry of set.AWS) {
    if (entry === '*' || entry === principal.id || entry === principal.arn || entry === principal.name) return true;
    if (entry === registryAccount || isAccountRoot(entry, registryAccount)) return true;
  }
  return false;
}

/** arn:aws:iam::<account>:root or arn:berth:iam::<account>:root, checked without building either. */
function isAccountRoot(entry: string, account: string): boolean {
  const prefix = entry.startsWith('arn:aws:iam::') ? 13 : entry.startsWith('arn:berth:iam::') ? 15 : 0;
  return prefix > 0 && entry.length === prefix + account.length + 5 && entry.startsWith(account, prefix) && entry.endsWith(':root');
}

// ---------------------------------------------------------------------------------------------
// Conditions

type ContextValue = string | readonly string[];

/** Exact key first (the common case), then a case-insensitive scan. */
function lookup(context: Readonly<Record<string, ContextValue>>, key: string): ContextValue | undefined {
  if (Object.hasOwn(context, key)) return context[key];
  for (const k in context) {
    if (Object.hasOwn(context, k) && equalsIgnoreCase(k, key)) return context[k];
  }
  return undefined;
}

function isNegated(clause: ConditionClause): boolean {
  switch (clause.test) {
    case 'StringNotEquals':
    case 'StringNotEqualsIgnoreCase':
    case 'StringNotLike':
    case 'NumericNotEquals':
    case 'DateNotEquals':
    case 'NotIpAddress':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      return true;
    default:
      return false;
  }
}

function conditionHolds(clause: ConditionClause, context: Readonly<Record<string, ContextValue>>): boolean {
  const raw = lookup(context, clause.key);
  const absent = raw === undefined || (typeof raw !== 'string' && raw.length === 0);
  if (clause.test === 'Null') {
    // Null true: the key must be absent; Null false: present. Values are ORed.
    for (const v of clause.values) if ((v === 'true') === absent) return true;
    return false;
  }
  const negated = isNegated(clause);
  if (absent) {
    if (clause.qualifier === 'ForAllValues' || clause.ifExists) return true;
    if (clause.qualifier === 'ForAnyValue') return false;
    // As in IAM: a missing key matches nothing, so only negated operators hold.
    return negated;
  }
  if (typeof raw === 'string') return valueHolds(clause, raw, negated);
  const values = raw as readonly string[];
  // ForAllValues, and a plain negated operator (which must match none of the policy's
  // values for every context value), need every value; otherwise one is enough.
  const every = clause.qualifier === 'ForAllValues' || (clause.qualifier === null && negated);
  for (let i = 0; i < values.length; i++) {
    const holds = valueHolds(clause, values[i] as string, negated);
    if (every && !holds) return false;
    if (!every && holds) return true;
  }
  return every;
}

/** One context value against the clause; a malformed value fails the test either way. */
function valueHolds(clause: ConditionClause, value: string, negated: boolean): boolean {
  const matched = matchesAnyValue(clause, value);
  if (matched === null) return false;
  return negated ? !matched : matched;
}

/**
 * Whether a context value matches any of the clause's values under the operator's positive
 * form (StringNotEquals tests as StringEquals, and so on); null when the value is malformed.
 */
function matchesAnyValue(clause: ConditionClause, value: string): boolean | null {
  const values = clause.values;
  switch (clause.test) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'BinaryEquals':
      return values.includes(value);
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      for (const v of values) if (equalsIgnoreCase(v, value)) return true;
      return false;
    case 'StringLike':
    case 'StringNotLike':
      for (const v of values) if (wildcardRange(v, 0, v.length, value, 0, value.length, false)) return true;
      return false;
    case 'NumericEquals':
    case 'NumericNotEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals': {
      if (decimalSign(value) === null) return null;
      for (const v of values) {
        const order = compareDecimal(value, v);
        if (order === order && ordered(clause.test, order)) return true;
      }
      return false;
    }
    case 'DateEquals':
    case 'DateNotEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals': {
      const instant = parseInstant(value);
      if (instant !== instant) return null;
      for (const t of policyInstants(clause)) {
        if (t === t && ordered(clause.test, instant < t ? -1 : instant > t ? 1 : 0)) return true;
      }
      return false;
    }
    case 'Bool': {
      const normal = equalsIgnoreCase(value, 'true') ? 'true' : equalsIgnoreCase(value, 'false') ? 'false' : null;
      return normal === null ? null : values.includes(normal);
    }
    case 'IpAddress':
    case 'NotIpAddress': {
      const family = isIP(value);
      if (family === 0) return null;
      try {
        return policyBlocks(clause).check(value, family === 4 ? 'ipv4' : 'ipv6');
      } catch {
        return null;
      }
    }
    case 'ArnEquals':
    case 'ArnLike':
    case 'ArnNotEquals':
    case 'ArnNotLike':
      if (!isArn(value)) return null;
      for (const v of values) if (arnMatches(v, value)) return true;
      return false;
    case 'Null':
      return null; // handled in conditionHolds
  }
}

/** For Numeric* and Date* tests: whether `order` (context vs policy value) satisfies the test. */
function ordered(test: ConditionClause['test'], order: number): boolean {
  if (test.endsWith('GreaterThanEquals')) return order >= 0;
  if (test.endsWith('GreaterThan')) return order > 0;
  if (test.endsWith('LessThanEquals')) return order <= 0;
  if (test.endsWith('LessThan')) return order < 0;
  return order === 0; // Equals, and NotEquals tested positively
}

// ---------------------------------------------------------------------------------------------
// ARN values: each of the first five colon-separated parts is matched on its own, so a
// wildcard cannot spill into the next part (as IAM's Arn* operators do); the resource part
// is everything after the fifth colon.

function isArn(text: string): boolean {
  if (!text.startsWith('arn:')) return false;
  let colons = 0;
  for (let i = 0; i < text.length && colons < 5; i++) if (text.charCodeAt(i) === 58) colons++;
  return colons >= 5;
}

function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === '*') return true;
  let pi = 0;
  let ai = 0;
  for (let part = 0; part < 5; part++) {
    const pc = pattern.indexOf(':', pi);
    const ac = arn.indexOf(':', ai);
    if (pc < 0 || ac < 0 || !wildcardRange(pattern, pi, pc, arn, ai, ac, false)) return false;
    pi = pc + 1;
    ai = ac + 1;
  }
  return wildcardRange(pattern, pi, pattern.length, arn, ai, arn.length, false);
}

// ---------------------------------------------------------------------------------------------
// Decimals, compared exactly (no floating point) so large integers and long fractions keep
// every digit. Accepts [-]digits[.digits].

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** -1, 0 or 1 for a well-formed decimal, null otherwise. */
function decimalSign(text: string): number | null {
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  let nonZero = false;
  for (; i < text.length && isDigit(text.charCodeAt(i)); i++) if (text.charCodeAt(i) !== 48) nonZero = true;
  if (i === start) return null;
  if (i < text.length) {
    if (text.charCodeAt(i++) !== 46) return null;
    const fraction = i;
    for (; i < text.length && isDigit(text.charCodeAt(i)); i++) if (text.charCodeAt(i) !== 48) nonZero = true;
    if (i === fraction || i < text.length) return null;
  }
  return nonZero ? (start === 1 ? -1 : 1) : 0;
}

/** Sign of a − b; NaN when either is malformed. */
function compareDecimal(a: string, b: string): number {
  const sa = decimalSign(a);
  const sb = decimalSign(b);
  if (sa === null || sb === null) return NaN;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const magnitude = compareMagnitude(a, sa < 0 ? 1 : 0, b, sb < 0 ? 1 : 0);
  return sa < 0 ? -magnitude : magnitude;
}

function compareMagnitude(a: string, as: number, b: string, bs: number): number {
  while (as < a.length - 1 && a.charCodeAt(as) === 48 && isDigit(a.charCodeAt(as + 1))) as++;
  while (bs < b.length - 1 && b.charCodeAt(bs) === 48 && isDigit(b.charCodeAt(bs + 1))) bs++;
  let ae = a.indexOf('.', as);
  let be = b.indexOf('.', bs);
  if (ae < 0) ae = a.length;
  if (be < 0) be = b.length;
  if (ae - as !== be - bs) return ae - as < be - bs ? -1 : 1;
  for (let i = 0; i < ae - as; i++) {
    const d = a.charCodeAt(as + i) - b.charCodeAt(bs + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  // Fractions: a missing digit counts as 0.
  const af = Math.max(a.length - ae - 1, 0);
  const bf = Math.max(b.length - be - 1, 0);
  for (let i = 0; i < Math.max(af, bf); i++) {
    const da = i < af ? a.charCodeAt(ae + 1 + i) : 48;
    const db = i < bf ? b.charCodeAt(be + 1 + i) : 48;
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Dates: ISO 8601 extended form (a date, or a date-time with optional seconds, fraction and
// zone; no zone means UTC, as in IAM) or epoch seconds. Milliseconds since the epoch, with the
// fraction kept below a millisecond; NaN when malformed.

function digitsAt(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

const msPer400Years = 146097 * 86400000;

function parseInstant(text: string): number {
  if (text.length > 0 && text.length <= 15 && digitsAt(text, 0, text.length) >= 0) return digitsAt(text, 0, text.length) * 1000;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
  // Date.UTC maps years 0–99 to 1900–1999; shift by 400 (whole Gregorian cycles) and back.
  const shift = year < 100 ? 400 : 0;
  if (day > new Date(Date.UTC(year + shift, month, 0)).getUTCDate()) return NaN;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let fraction = 0;
  let offset = 0;
  let i = 10;
  if (i < text.length) {
    if (text.charCodeAt(i) !== 84 /* T */) return NaN;
    hour = digitsAt(text, i + 1, 2);
    minute = digitsAt(text, i + 4, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || text.charCodeAt(i + 3) !== 58) return NaN;
    i += 6;
    if (text.charCodeAt(i) === 58) {
      second = digitsAt(text, i + 1, 2);
      if (second < 0 || second > 60) return NaN;
      i += 3;
      if (text.charCodeAt(i) === 46) {
        let scale = 100;
        const start = ++i;
        while (i < text.length && isDigit(text.charCodeAt(i))) {
          fraction += (text.charCodeAt(i++) - 48) * scale;
          scale /= 10;
        }
        if (i === start || i - start > 9) return NaN;
      }
    }
    const zone = text.charCodeAt(i);
    if (zone === 90 /* Z */) i++;
    else if (zone === 43 || zone === 45) {
      const oh = digitsAt(text, i + 1, 2);
      const colon = text.charCodeAt(i + 3) === 58 ? 1 : 0;
      const om = digitsAt(text, i + 3 + colon, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
      offset = (zone === 43 ? 1 : -1) * (oh * 60 + om) * 60000;
      i += 5 + colon;
    }
    if (i !== text.length) return NaN;
  }
  return Date.UTC(year + shift, month - 1, day, hour, minute, second) - (shift === 0 ? 0 : msPer400Years) + fraction - offset;
}

// Parsed policy values, once per clause: documents are immutable once parsed.
const instantCache = new WeakMap<ConditionClause, readonly number[]>();
const blockCache = new WeakMap<ConditionClause, BlockList>();

function policyInstants(clause: ConditionClause): readonly number[] {
  let instants = instantCache.get(clause);
  if (instants === undefined) {
    instants = clause.values.map(parseInstant);
    instantCache.set(clause, instants);
  }
  return instants;
}

function policyBlocks(clause: ConditionClause): BlockList {
  let blocks = blockCache.get(clause);
  if (blocks === undefined) {
    blocks = new BlockList();
    for (const value of clause.values) {
      const slash = value.indexOf('/');
      const address = slash < 0 ? value : value.slice(0, slash);
      const family = isIP(address);
      if (family === 0) continue; // unreachable for validated documents; such a value matches nothing
      const type = family === 4 ? 'ipv4' : 'ipv6';
      try {
        if (slash < 0) blocks.addAddress(address, type);
        else blocks.addSubnet(address, Number(value.slice(slash + 1)), type);
      } catch {
        // A bad prefix length: the value matches nothing.
      }
    }
    blockCache.set(clause, blocks);
  }
  return blocks;
}
