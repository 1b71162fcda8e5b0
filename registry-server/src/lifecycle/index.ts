// Amazon ECR lifecycle policies: validation, canonical text and evaluation. Pure functions, no I/O:
// the caller supplies the policy and the repository's images, and decides what to do with the result.
//
//   const result = validateLifecyclePolicy(text);            // text or parsed JSON
//   if (!result.ok) return result.errors;                    // [{ path: 'rules[0].selection.countUnit', message }]
//   const stored = canonicalLifecyclePolicy(result.policy);  // one text per policy
//   const { expired, kept } = evaluateLifecyclePolicy(result.policy, images, Date.now());
export { canonicalLifecyclePolicy } from './canonical.ts';
export { evaluateLifecyclePolicy, type ExpiredImage, type ImageVerdict, type LifecycleEvaluation, type LifecycleImage } from './evaluate.ts';
export {
  limits as lifecyclePolicyLimits,
  type CountType,
  type LifecyclePolicy,
  type LifecycleRule,
  type LifecycleSelection,
  type PolicyError,
  type TagStatus,
  type ValidationResult,
} from './policy.ts';
export { validateLifecyclePolicy } from './validate.ts';
