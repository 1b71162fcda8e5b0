// IAM-style policy documents: ECR repository policies, the registry policy and identity policies.
//
//   const result = validatePolicyDocument(jsonTextOrValue, { context: 'resource' });
//   if (result.ok) store(result.canonical); else reply(result.errors);
//
// - validatePolicyDocument parses untrusted input (JSON text or a parsed value) and never throws
//   for bad input: errors carry JSON-path-like paths such as
//   `Statement[1].Condition.IpAddress["aws:SourceIp"][0]` ("" for the input as a whole).
// - context 'resource': every statement needs Principal or NotPrincipal; Resource is optional.
//   context 'identity': Principal/NotPrincipal are refused; Resource or NotResource is required.
// - canonicalPolicy gives one text per meaning (see canonical.ts); policiesEquivalent compares
//   two parsed documents by it.
// - Bounds default per context (limits.ts) and can be overridden per call.
// Evaluation (allow/deny) is not here; the parsed PolicyDocument is shaped for an evaluator.

export { validatePolicyDocument, type PolicyResult, type ValidateOptions } from './validate.ts';
export { canonicalPolicy, policiesEquivalent } from './canonical.ts';
export { identityPolicyLimits, resourcePolicyLimits, defaultLimits, type PolicyLimits } from './limits.ts';
export { parseOperator, valueKind, type ParsedOperator, type ValueKind } from './conditions.ts';
export { checkAction, checkConditionKey, checkPrincipal, checkResource, splitArn, wildcardMatch, type ArnParts } from './patterns.ts';
export {
  conditionTests,
  policyVersions,
  principalTypes,
  type ConditionClause,
  type ConditionTest,
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
  type SetQualifier,
} from './document.ts';
