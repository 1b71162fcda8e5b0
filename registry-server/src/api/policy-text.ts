import { RegistryError } from '../errors.ts';
import { canonicalLifecyclePolicy, validateLifecyclePolicy } from '../lifecycle/index.ts';
import { validatePolicyDocument, type PolicyContext } from '../policy/index.ts';

interface PathError {
  readonly path: string;
  readonly message: string;
}

function invalid(field: string, errors: readonly PathError[]): RegistryError {
  const first = errors[0];
  return new RegistryError('InvalidParameter', `${field}: ${first?.path ? `${first.path}: ` : ''}${first?.message ?? 'invalid'}`, {
    field,
    detail: { errors: errors.slice(0, 20) },
  });
}

/** Validates IAM policy JSON and returns its canonical text; InvalidParameter names the spot. */
export function canonicalPolicyText(text: string, field: string, context: PolicyContext = 'resource'): string {
  const result = validatePolicyDocument(text, { context });
  if (!result.ok) throw invalid(field, result.errors);
  return result.canonical;
}

/** Validates ECR lifecycle JSON and returns its canonical text. */
export function canonicalLifecycleText(text: string, field: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RegistryError('InvalidParameter', `${field} is not valid JSON`, { field });
  }
  const result = validateLifecyclePolicy(parsed);
  if (!result.ok) throw invalid(field, result.errors);
  return canonicalLifecyclePolicy(result.policy);
}

/** The canonical text of a model document field of this kind (see FieldMeta.document). */
export function canonicalDocumentText(kind: 'iam-policy' | 'iam-identity-policy' | 'lifecycle-policy', text: string, field: string): string {
  switch (kind) {
    case 'iam-policy':
      return canonicalPolicyText(text, field, 'resource');
    case 'iam-identity-policy':
      return canonicalPolicyText(text, field, 'identity');
    case 'lifecycle-policy':
      return canonicalLifecycleText(text, field);
  }
}
