// One registry of error codes. OCI routes answer 4xx with the distribution-spec body
// ({"errors":[{code,message,detail}]}), whose `code` must come from the spec's table; the
// management API answers {code,message,field?,detail?} with ECR's names. Terraform diagnostics
// and Pulumi failures report the same codes.

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
}

export const ociErrors = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // 5xx bodies are free-form in the spec; these keep them well-formed.
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  INTERNAL_ERROR: { status: 500, message: 'internal error' },
} as const satisfies Record<string, ErrorSpec>;

/** Management API codes, named as ECR names its exceptions (without the suffix). */
export const apiErrors = {
  InvalidParameter: { status: 400, message: 'a parameter is invalid' },
  LimitExceeded: { status: 400, message: 'a limit was exceeded' },
  NotFound: { status: 404, message: 'no such endpoint' },
  RepositoryAlreadyExists: { status: 409, message: 'the repository already exists' },
  RepositoryNotFound: { status: 404, message: 'the repository does not exist' },
  RepositoryNotEmpty: { status: 409, message: 'the repository contains images; delete them or use force' },
  RepositoryPolicyNotFound: { status: 404, message: 'the repository has no policy' },
  RegistryPolicyNotFound: { status: 404, message: 'the registry has no policy' },
  LifecyclePolicyNotFound: { status: 404, message: 'the repository has no lifecycle policy' },
  ImageNotFound: { status: 404, message: 'the image does not exist' },
  ImageTagAlreadyExists: { status: 409, message: 'the tag is immutable and already points to another image' },
  TemplateAlreadyExists: { status: 409, message: 'a repository creation template already exists for this prefix' },
  TemplateNotFound: { status: 404, message: 'no repository creation template exists for this prefix' },
  PrincipalAlreadyExists: { status: 409, message: 'a principal with this name already exists' },
  PrincipalNotFound: { status: 404, message: 'the principal does not exist' },
  PrincipalHasDependents: { status: 409, message: 'the principal still has access keys or policies; delete them or use force' },
  AccessKeyNotFound: { status: 404, message: 'the access key does not exist' },
  IdentityPolicyNotFound: { status: 404, message: 'the principal has no policy with this name' },
  Unauthenticated: { status: 401, message: 'authentication required: send an access key (Basic) or a token (Bearer)' },
  AccessDenied: { status: 403, message: 'not authorized to perform this action' },
  TooManyRequests: { status: 429, message: 'too many failed sign-in attempts; retry later' },
  PreconditionFailed: { status: 412, message: 'the resource changed since the version given in If-Match' },
  UnsupportedMediaType: { status: 415, message: 'the request body must be JSON' },
  InternalError: { status: 500, message: 'internal error' },
  ServiceUnavailable: { status: 503, message: 'service unavailable' },

  // --- KMS (keys, aliases, envelope encryption): added with src/kms ---
  KMSKeyNotFound: { status: 404, message: 'the KMS key does not exist' },
  KMSDisabled: { status: 409, message: 'the KMS key is disabled' },
  KMSInvalidState: { status: 409, message: 'the KMS key is not in a state that allows this operation' },
  KMSInvalidCiphertext: { status: 400, message: 'the ciphertext is not valid for this key and encryption context' },
  AliasAlreadyExists: { status: 409, message: 'an alias with this name already exists' },
  AliasNotFound: { status: 404, message: 'the alias does not exist' },
  // --- end KMS ---
  ReplicationConfigurationNotFound: { status: 404, message: 'the registry has no replication configuration' },
  ReplicationRuleNotFound: { status: 404, message: 'the replication configuration has no rule with this name' },
  ReplicationRuleAlreadyExists: { status: 409, message: 'a replication rule with this name already exists' },
} as const satisfies Record<string, ErrorSpec>;

export type OciErrorCode = keyof typeof ociErrors;
export type ApiErrorCode = keyof typeof apiErrors;
export type ErrorCode = OciErrorCode | ApiErrorCode;

export const errorCatalog: Readonly<Record<ErrorCode, ErrorSpec>> = { ...ociErrors, ...apiErrors };

export interface ErrorOptions {
  /** Overrides the code's default status (e.g. 416 for an out-of-order chunk, 413 for size). */
  readonly status?: number;
  /** The input field at fault, as a path (`selection.countNumber`). */
  readonly field?: string;
  readonly detail?: unknown;
  readonly headers?: Record<string, string>;
}

/** An error a route may throw; rendered as a distribution-spec error body. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly detail: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message?: string, options: ErrorOptions = {}) {
    const spec = errorCatalog[code];
    super(message ?? spec.message);
    this.code = code;
    this.status = options.status ?? spec.status;
    this.field = options.field;
    this.detail = options.detail;
    this.headers = options.headers;
  }

  /** The management API's body. */
  toApiBody(requestId: string): { code: string; message: string; field?: string; detail?: unknown; requestId: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      requestId,
    };
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const entry: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}
