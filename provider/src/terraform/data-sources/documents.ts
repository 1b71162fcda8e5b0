// berth_policy_document and berth_lifecycle_policy_document: policy JSON built from HCL, in
// Berth's canonical form (the same text the registry stores), without calling the registry.
// The validators are the registry's own (canonicalPolicyText, canonicalLifecycleText); their
// error paths ("Statement[1].Action[0]", "rules[0].selection.countUnit") become attribute paths.
import { Type } from '@sinclair/typebox';
import { canonicalLifecycleText, canonicalPolicyText } from '@berth/registry-server/documents';
import type * as P from '../plugin/types.ts';
import type { CtyObjectValue, CtyValue } from '../values/index.ts';
import { dataSourceFromTypeBox, documentErrors, documentPath, errorAt, hasUnknown, pendingState, snake, strings, type DataSource, type PathStep } from './common.ts';

const StringList = (description: string) => Type.Optional(Type.Array(Type.String(), { description }));

const Principal = Type.Object({
  type: Type.String({ description: 'AWS, Federated or Service; "*" (with identifiers ["*"]) for anyone, anonymous callers included.' }),
  identifiers: Type.Array(Type.String(), { description: 'The principals of that type.' }),
});
const Condition = Type.Object({
  test: Type.String({ description: 'The condition operator, e.g. StringEquals or ForAnyValue:StringLike.' }),
  variable: Type.String({ description: 'The condition key, e.g. aws:SourceIp.' }),
  values: Type.Array(Type.String(), { description: 'The values compared with the key.' }),
});
const Statement = Type.Object({
  sid: Type.Optional(Type.String({ description: 'Statement id (letters and digits).' })),
  effect: Type.Optional(Type.Union([Type.Literal('Allow'), Type.Literal('Deny')], { description: 'Allow (the default) or Deny.' })),
  actions: StringList('Action patterns, e.g. ecr:BatchGetImage or ecr:*.'),
  notActions: StringList('Every action but these.'),
  resources: StringList('Resource patterns (ARNs).'),
  notResources: StringList('Every resource but these.'),
  principals: Type.Optional(Type.Array(Principal, { description: 'Who the statement applies to.' })),
  notPrincipals: Type.Optional(Type.Array(Principal, { description: 'Everyone but these.' })),
  conditions: Type.Optional(Type.Array(Condition, { description: 'Every condition must hold for the statement to apply.' })),
});
const policyInputs = Type.Object({
  version: Type.Optional(Type.String({ description: 'Policy language version: 2012-10-17 (the default) or 2008-10-17.' })),
  policyId: Type.Optional(Type.String({ description: 'The policy Id.' })),
  statement: Type.Optional(Type.Array(Statement, { description: 'The statements, in order.' })),
});
const jsonOutput = (what: string) => Type.Object({ json: Type.String({ description: `The ${what} in Berth's canonical JSON (as the registry stores it).` }) });

const Selection = Type.Object({
  tagStatus: Type.String({ description: 'tagged, untagged or any.' }),
  tagPrefixList: StringList('Tag prefixes (with tagStatus tagged).'),
  tagPatternList: StringList('Tag patterns with * wildcards (with tagStatus tagged).'),
  countType: Type.String({ description: 'imageCountMoreThan, sinceImagePushed or sinceImagePulled.' }),
  countUnit: Type.Optional(Type.String({ description: 'days (with the since* count types).' })),
  countNumber: Type.Integer({ description: 'The count or the number of days.' }),
});
const Rule = Type.Object({
  rulePriority: Type.Integer({ description: 'Unique; lower runs first.' }),
  description: Type.Optional(Type.String({ description: 'What the rule is for.' })),
  selection: Selection,
  action: Type.Optional(Type.Object({ type: Type.String({ description: 'expire.' }) }, { description: 'What happens to the images selected (default: expire).' })),
});
const lifecycleInputs = Type.Object({ rules: Type.Array(Rule, { description: 'The rules.' }) });

export const policyDocumentProjection = dataSourceFromTypeBox('policy_document', policyInputs, jsonOutput('policy'), 'An IAM policy document (repository or registry policy) built from HCL.');
export const lifecyclePolicyDocumentProjection = dataSourceFromTypeBox('lifecycle_policy_document', lifecycleInputs, jsonOutput('lifecycle policy'), 'A lifecycle policy document built from HCL.');

type Built = { readonly text?: string; readonly diagnostics: P.Diagnostic[] };

const objects = (v: CtyValue | undefined): CtyObjectValue[] => (Array.isArray(v) ? v.filter((x): x is CtyObjectValue => x !== null && typeof x === 'object' && !Array.isArray(x)) : []);
const str = (v: CtyValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const nonEmpty = (v: CtyValue | undefined): string[] | undefined => (v === null || v === undefined ? undefined : strings(v));

// ---- IAM policy ---------------------------------------------------------------------------

const statementAttribute: Record<string, string> = {
  Sid: 'sid',
  Effect: 'effect',
  Principal: 'principals',
  NotPrincipal: 'not_principals',
  Action: 'actions',
  NotAction: 'not_actions',
  Resource: 'resources',
  NotResource: 'not_resources',
  Condition: 'conditions',
};

/** Attribute path of a policy validator path: Statement[i].X -> statement[i].<attribute of X>, then stop. */
function policyPath(path: string): PathStep[] {
  return documentPath(path, (name, at) => {
    if (at.length === 0) return name === 'Statement' ? 'statement' : name === 'Version' ? 'version' : name === 'Id' ? 'policy_id' : undefined;
    if (at.length === 2 && at[0] === 'statement') return statementAttribute[name];
    return undefined;
  }).filter((s, i, all) => !(typeof s === 'number' && i > 0 && all[i - 1] !== 'statement'));
}

function principalJson(entries: CtyObjectValue[], attribute: string, at: PathStep[], diagnostics: P.Diagnostic[]): unknown {
  const byType = new Map<string, string[]>();
  let anyone = false;
  entries.forEach((e, i) => {
    const type = str(e.type) ?? '';
    const ids = strings(e.identifiers);
    if (type === '*') {
      if (ids.length !== 1 || ids[0] !== '*') diagnostics.push(errorAt(`invalid ${attribute}`, 'type "*" takes identifiers ["*"] (anyone)', [...at, attribute, i, 'identifiers']));
      anyone = true;
      return;
    }
    byType.set(type, [...(byType.get(type) ?? []), ...ids]);
  });
  if (anyone) {
    if (byType.size > 0) diagnostics.push(errorAt(`invalid ${attribute}`, 'type "*" (anyone) cannot be combined with other principal types', [...at, attribute]));
    return '*';
  }
  return Object.fromEntries(byType);
}

export function buildPolicyDocument(config: CtyObjectValue): Built {
  const diagnostics: P.Diagnostic[] = [];
  const statements = objects(config.statement).map((s, i) => {
    const at: PathStep[] = ['statement', i];
    const out: Record<string, unknown> = {};
    if (str(s.sid) !== undefined) out.Sid = s.sid;
    out.Effect = str(s.effect) ?? 'Allow';
    const principals = s.principals === null || s.principals === undefined ? undefined : objects(s.principals);
    const notPrincipals = s.not_principals === null || s.not_principals === undefined ? undefined : objects(s.not_principals);
    if (principals) out.Principal = principalJson(principals, 'principals', at, diagnostics);
    if (notPrincipals) out.NotPrincipal = principalJson(notPrincipals, 'not_principals', at, diagnostics);
    for (const [attr, key] of [['actions', 'Action'], ['not_actions', 'NotAction'], ['resources', 'Resource'], ['not_resources', 'NotResource']] as const) {
      const list = nonEmpty(s[attr]);
      if (list !== undefined) out[key] = list;
    }
    const conditions = objects(s.conditions);
    if (conditions.length > 0) {
      const byTest: Record<string, Record<string, string[]>> = {};
      for (const c of conditions) {
        const test = str(c.test) ?? '';
        const variable = str(c.variable) ?? '';
        const keys = (byTest[test] ??= {});
        keys[variable] = [...(keys[variable] ?? []), ...strings(c.values)];
      }
      out.Condition = byTest;
    }
    return out;
  });
  if (diagnostics.length > 0) return { diagnostics };
  const doc: Record<string, unknown> = { Version: str(config.version) ?? '2012-10-17' };
  if (str(config.policy_id) !== undefined) doc.Id = config.policy_id;
  doc.Statement = statements;
  try {
    return { text: canonicalPolicyText(JSON.stringify(doc), 'json'), diagnostics };
  } catch (err) {
    return {
      diagnostics: documentErrors(err).map((e) => {
        const path = policyPath(e.path);
        return errorAt('invalid policy document', e.path ? `${e.path}: ${e.message}` : e.message, path);
      }),
    };
  }
}

// ---- Lifecycle policy ---------------------------------------------------------------------

export function buildLifecyclePolicyDocument(config: CtyObjectValue): Built {
  const rules = objects(config.rules).map((r) => {
    const sel = (r.selection ?? {}) as CtyObjectValue;
    const selection: Record<string, unknown> = { tagStatus: sel.tag_status };
    const prefixes = nonEmpty(sel.tag_prefix_list);
    const patterns = nonEmpty(sel.tag_pattern_list);
    if (prefixes !== undefined) selection.tagPrefixList = prefixes;
    if (patterns !== undefined) selection.tagPatternList = patterns;
    selection.countType = sel.count_type;
    if (str(sel.count_unit) !== undefined) selection.countUnit = sel.count_unit;
    selection.countNumber = typeof sel.count_number === 'bigint' ? Number(sel.count_number) : sel.count_number;
    const action = (r.action ?? null) as CtyObjectValue | null;
    return {
      rulePriority: typeof r.rule_priority === 'bigint' ? Number(r.rule_priority) : r.rule_priority,
      ...(str(r.description) !== undefined ? { description: r.description } : {}),
      selection,
      action: { type: str(action?.type) ?? 'expire' },
    };
  });
  try {
    return { text: canonicalLifecycleText(JSON.stringify({ rules }), 'json'), diagnostics: [] };
  } catch (err) {
    return {
      diagnostics: documentErrors(err).map((e) => errorAt('invalid lifecycle policy document', e.path ? `${e.path}: ${e.message}` : e.message, documentPath(e.path, (n) => snake(n)))),
    };
  }
}

function documentDataSource(projection: typeof policyDocumentProjection, build: (config: CtyObjectValue) => Built): DataSource {
  return {
    typeName: projection.typeName,
    projection,
    // Checked only once every value is known (a partial document would report false errors).
    validate: (config) => (hasUnknown(config) ? [] : build(config).diagnostics),
    async read(config) {
      if (hasUnknown(config)) return { state: pendingState(projection, config) };
      const built = build(config);
      if (built.text === undefined) return { diagnostics: built.diagnostics };
      return { state: { ...Object.fromEntries(projection.fields.map((f) => [f.name, config[f.name] ?? null])), json: built.text } };
    },
  };
}

export const policyDocumentDataSource = documentDataSource(policyDocumentProjection, buildPolicyDocument);
export const lifecyclePolicyDocumentDataSource = documentDataSource(lifecyclePolicyDocumentProjection, buildLifecyclePolicyDocument);
