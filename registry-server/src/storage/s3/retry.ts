import { setTimeout as sleep } from 'node:timers/promises';

interface SdkErrorLike {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const throttlingCodes = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException', 'RequestLimitExceeded']);
const transientCodes = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError', 'ServiceUnavailable', 'TimeoutError']);
const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Throttling (SlowDown), 5xx, timeouts and dropped connections: worth another try. */
export function isRetryable(err: unknown): boolean {
  const e = err as SdkErrorLike | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return throttlingCodes.has(e.name ?? '') || transientCodes.has(e.name ?? '') || networkCodes.has(e.code ?? '');
}

/**
 * Runs `attempt` up to `maxAttempts` times with full-jitter exponential backoff. For requests
 * whose body is a stream, which the SDK refuses to resend: each attempt re-opens its source.
 */
export async function withRetries<T>(maxAttempts: number, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= maxAttempts || !isRetryable(err)) throw err;
      const base = throttlingCodes.has((err as SdkErrorLike).name ?? '') ? 500 : 100;
      await sleep(Math.random() * Math.min(20_000, base * 2 ** (n - 1)));
    }
  }
}
