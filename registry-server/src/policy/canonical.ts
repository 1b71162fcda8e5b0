// The canonical text of a policy: one byte string per meaning, so a stored policy read back and
// the configuration it came from compare equal, whichever of the equivalent forms the author
// used (and `terraform plan` after `apply` is empty).
//
// Decisions (see also conditions.ts for condition value normal forms):
// - No whitespace. Keys in a fixed order: Version, Id, Statement; in a statement Sid, Effect,
//   Principal/NotPrincipal, Action/NotAction, Resource/NotResource, Condition.
// - Statement is always an array and keeps the author's order (order carries no meaning, but
//   reordering is a visible edit and keeping it makes the stored policy read like the source).
// - Every list is an array, even of one element, sorted in UTF-16 code unit order without
//   duplicates: Action, NotAction, Resource, NotResource, each Principal type, condition values.
// - Principal "*" stays the string "*" (anyone, anonymous callers included); {"AWS": "*"} stays
//   an object (any authenticated principal). Principal types appear in the order AWS, Federated,
//   Service.
// - Condition operators, and the keys under each, are sorted; an empty Condition is omitted.
// - An empty Sid or Id is omitted. Strings are written with JSON.stringify, so "\u00e9" and "é"
//   in the source give the same text. Case is kept as written everywhere (IAM compares action
//   names and condition keys case-insensitively, but the canonical text does not fold them).
// Canonicalizing canonical text gives the same text.

import type { ConditionClause, PatternClause, PolicyDocument, PolicyStatement, PrincipalClause } from './document.ts';
import { compareText, sortedUnique } from './conditions.ts';

export function canonicalPolicy(doc: PolicyDocument): string {
  let out = `{"Version":${JSON.stringify(doc.version)}`;
  if (doc.id !== undefined && doc.id !== '') out += `,"Id":${JSON.stringify(doc.id)}`;
  return `${out},"Statement":[${doc.statements.map(statementText).join(',')}]}`;
}

/** Whether two documents mean the same, judged by their canonical text. */
export function policiesEquivalent(a: PolicyDocument, b: PolicyDocument): boolean {
  return canonicalPolicy(a) === canonicalPolicy(b);
}

function statementText(s: PolicyStatement): string {
  const fields: string[] = [];
  if (s.sid !== undefined && s.sid !== '') fields.push(`"Sid":${JSON.stringify(s.sid)}`);
  fields.push(`"Effect":${JSON.stringify(s.effect)}`);
  if (s.principal !== undefined) fields.push(principalText(s.principal));
  fields.push(patternText(s.action, 'Action'));
  if (s.resource !== undefined) fields.push(patternText(s.resource, 'Resource'));
  if (s.conditions.length > 0) fields.push(`"Condition":${conditionText(s.conditions)}`);
  return `{${fields.join(',')}}`;
}

function list(values: readonly string[]): string {
  return `[${sortedUnique(values).map((v) => JSON.stringify(v)).join(',')}]`;
}

function patternText(clause: PatternClause, name: 'Action' | 'Resource'): string {
  return `"${clause.negated ? 'Not' : ''}${name}":${list(clause.patterns)}`;
}

function principalText(clause: PrincipalClause): string {
  const name = clause.negated ? 'NotPrincipal' : 'Principal';
  const set = clause.principals;
  if (set.kind === 'anyone') return `"${name}":"*"`;
  const types: string[] = [];
  for (const type of ['AWS', 'Federated', 'Service'] as const) {
    if (set[type].length > 0) types.push(`"${type}":${list(set[type])}`);
  }
  return `"${name}":{${types.join(',')}}`;
}

function conditionText(conditions: readonly ConditionClause[]): string {
  const byOperator = new Map<string, Map<string, readonly string[]>>();
  for (const c of conditions) {
    let keys = byOperator.get(c.operator);
    if (keys === undefined) byOperator.set(c.operator, (keys = new Map()));
    if (keys.has(c.key)) throw new TypeError(`condition ${c.operator} ${c.key} appears twice in one statement`);
    keys.set(c.key, c.values);
  }
  const operators = [...byOperator.keys()].sort(compareText).map((operator) => {
    const keys = byOperator.get(operator) ?? new Map<string, readonly string[]>();
    const entries = [...keys.keys()].sort(compareText).map((key) => `${JSON.stringify(key)}:${list(keys.get(key) ?? [])}`);
    return `${JSON.stringify(operator)}:{${entries.join(',')}}`;
  });
  return `{${operators.join(',')}}`;
}
