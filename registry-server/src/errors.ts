// One registry of error codes. OCI routes answer 4xx with the distribution-spec body
// ({"errors":[{code,message,detail}]}), whose `code` must come from the spec's table; the
// management API (later) adds its own codes to the same registry.

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

export type OciErrorCode = keyof typeof ociErrors;

export interface ErrorOptions {
  /** Overrides the code's default status (e.g. 416 for an out-of-order chunk, 413 for size). */
  readonly status?: number;
  readonly detail?: unknown;
  readonly headers?: Record<string, string>;
}

/** An error a route may throw; rendered as a distribution-spec error body. */
export class RegistryError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string> | undefined;

  constructor(code: OciErrorCode, message?: string, options: ErrorOptions = {}) {
    const spec = ociErrors[code];
    super(message ?? spec.message);
    this.code = code;
    this.status = options.status ?? spec.status;
    this.detail = options.detail;
    this.headers = options.headers;
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const entry: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}
