// Shapes of the strings a policy names: actions, resource ARNs, principals, Sids, condition keys.
// Each check returns null when the string is well formed, or a message saying what is wrong.

import type { PrincipalType } from './document.ts';

/** Sid: letters and digits only, as IAM requires. */
export const sidPattern = /^[A-Za-z0-9]+$/;

const servicePrefix = /^[a-z0-9-]+$/;
const actionName = /^[A-Za-z0-9*?]+$/;

/**
 * An action pattern: "*", or `service:Action` where the service prefix is lowercase letters,
 * digits and hyphens and the action part letters, digits and the wildcards `*` and `?`
 * ("ecr:*", "ecr:BatchGet*", "kms:Decrypt"). Any action name is accepted; a catalogue
 * (PolicyCatalogue) only adds warnings.
 */
export function checkAction(action: string): string | null {
  if (action === '*') return null;
  const colon = action.indexOf(':');
  if (colon < 0) return 'must be "*" or service:Action, e.g. "ecr:BatchGetImage"';
  const service = action.slice(0, colon);
  const name = action.slice(colon + 1);
  if (!servicePrefix.test(service)) return `service prefix "${clip(service)}" must be lowercase letters, digits and hyphens`;
  if (!actionName.test(name)) return `action "${clip(name)}" must be letters, digits and the wildcards * and ?`;
  return null;
}

export interface ArnParts {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** Everything after the fifth colon; may itself contain colons. */
  readonly resource: string;
}

/** Splits `arn:partition:service:region:account:resource`; null when it has fewer parts. */
export function splitArn(arn: string): ArnParts | null {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  return {
    partition: parts[1] ?? '',
    service: parts[2] ?? '',
    region: parts[3] ?? '',
    account: parts[4] ?? '',
    resource: parts.slice(5).join(':'),
  };
}

const hasControl = /[\u0000-\u001f\u007f]/;

/**
 * A resource pattern: "*", or an ARN with at least six colon-separated parts whose partition,
 * service and resource are non-empty, e.g. `arn:berth:ecr:us-east-1:123456789012:repository/team/*`.
 * Wildcards are allowed anywhere; region and account may be empty (as in IAM ARNs).
 */
export function checkResource(resource: string): string | null {
  if (resource === '*') return null;
  return checkArn(resource, true);
}

function checkArn(arn: string, wildcards: boolean): string | null {
  if (!arn.startsWith('arn:')) return 'must be "*" or an ARN starting with "arn:"';
  const parts = splitArn(arn);
  if (parts === null) return 'an ARN has six colon-separated parts: arn:partition:service:region:account:resource';
  if (hasControl.test(arn)) return 'must not contain control characters';
  if (/\s/.test(arn)) return 'must not contain whitespace';
  if (parts.partition === '') return 'the ARN partition (second part) is empty';
  if (parts.service === '') return 'the ARN service (third part) is empty';
  if (parts.resource === '') return 'the ARN resource (sixth part) is empty';
  if (!wildcards && /[*?]/.test(arn)) return 'wildcards are not allowed here';
  return null;
}

/** ARN-valued condition values (ArnEquals, ArnLike, ...): "*" or an ARN, wildcards allowed. */
export function checkArnPattern(value: string): string | null {
  if (value === '*') return null;
  return checkArn(value, true);
}

const accountId = /^\d{12}$/;
/**
 * A Berth principal id: a letter, then up to 127 letters, digits and `_ . @ + = -`. This covers
 * IAM-style unique ids ("AIDAEXAMPLE123") and Berth's own user and role ids, and excludes
 * anything that could be mistaken for an ARN, an account id or a pattern.
 */
export const principalIdPattern = /^[A-Za-z][A-Za-z0-9_.@+=-]{0,127}$/;
const dnsName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * One principal of a Principal / NotPrincipal block.
 * - AWS: "*" (every authenticated principal), a 12-digit account id, an ARN (no wildcards: use
 *   an aws:PrincipalArn condition with ArnLike for patterns), or a Berth principal id.
 * - Service: a lowercase DNS-style name, e.g. "ecr.amazonaws.com" or "replication.berth".
 * - Federated: a DNS-style provider name (e.g. "accounts.google.com") or a provider ARN.
 */
export function checkPrincipal(type: PrincipalType, value: string): string | null {
  switch (type) {
    case 'AWS':
      if (value === '*') return null;
      if (value.startsWith('arn:')) return checkArn(value, false);
      if (/^\d+$/.test(value)) return accountId.test(value) ? null : 'an account id has exactly 12 digits';
      if (/[*?]/.test(value)) return 'wildcards are not allowed in principals except "*" alone; use an aws:PrincipalArn condition';
      if (principalIdPattern.test(value)) return null;
      return 'must be "*", a 12-digit account id, an ARN or a principal id (a letter, then letters, digits and _.@+=-)';
    case 'Service':
      if (dnsName.test(value)) return null;
      return 'must be a lowercase service name such as "ecr.amazonaws.com"';
    case 'Federated':
      if (value.startsWith('arn:')) return checkArn(value, false);
      if (dnsName.test(value.toLowerCase())) return null;
      return 'must be an identity provider name such as "accounts.google.com" or a provider ARN';
  }
}

const keyPrefix = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const keyName = /^[A-Za-z0-9_.-]+$/;

/**
 * A condition key: `prefix:Name` or `prefix:Name/qualifier`, e.g. "aws:SourceIp",
 * "ecr:ResourceTag/team", "token.actions.githubusercontent.com:sub". The prefix is a service
 * prefix or a provider's domain; the qualifier (a tag key, usually) is any text without control
 * characters. Keys are not checked against a list.
 */
export function checkConditionKey(key: string): string | null {
  const colon = key.indexOf(':');
  if (colon <= 0) return 'a condition key is prefix:Name, e.g. "aws:SourceIp"';
  const prefix = key.slice(0, colon);
  const rest = key.slice(colon + 1);
  if (!keyPrefix.test(prefix)) return `condition key prefix "${clip(prefix)}" must be letters, digits, dots and hyphens`;
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  if (!keyName.test(name)) return `condition key name "${clip(name)}" must be letters, digits and _.-`;
  if (slash >= 0) {
    const qualifier = rest.slice(slash + 1);
    if (qualifier === '') return `nothing follows "/" in the condition key`;
    if (hasControl.test(qualifier)) return 'condition keys must not contain control characters';
  }
  return null;
}

/**
 * Whether `text` matches a wildcard pattern (`*` any run of characters, `?` exactly one), in time
 * proportional to pattern × text at worst (no regular expressions, no exponential backtracking).
 */
export function wildcardMatch(pattern: string, text: string, ignoreCase = false): boolean {
  return wildcardRange(pattern, 0, pattern.length, text, 0, text.length, ignoreCase);
}

const STAR = 42; // '*'
const QUESTION = 63; // '?'

/**
 * `*` matches any run, `?` one UTF-16 unit, over p[ps, pe) and s[ss, se). Single backtrack point,
 * so time is at worst pattern × text. Case folding is ASCII-fast, other characters via toLowerCase.
 */
export function wildcardRange(p: string, ps: number, pe: number, s: string, ss: number, se: number, ignoreCase: boolean): boolean {
  let pi = ps;
  let si = ss;
  let star = -1;
  let resume = ss;
  while (si < se) {
    const pc = pi < pe ? p.charCodeAt(pi) : -1;
    if (pc === STAR) {
      star = pi++;
      resume = si;
    } else if (pc !== -1 && (pc === QUESTION || sameChar(pc, s.charCodeAt(si), ignoreCase))) {
      pi++;
      si++;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++resume;
    } else return false;
  }
  while (pi < pe && p.charCodeAt(pi) === STAR) pi++;
  return pi === pe;
}

export function sameChar(a: number, b: number, ignoreCase: boolean): boolean {
  if (a === b) return true;
  if (!ignoreCase) return false;
  if (a < 128 && b < 128) return (a | 32) === (b | 32) && (a | 32) >= 97 && (a | 32) <= 122;
  return String.fromCharCode(a).toLowerCase() === String.fromCharCode(b).toLowerCase();
}

export function clip(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
