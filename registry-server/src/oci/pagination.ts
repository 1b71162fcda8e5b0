import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import type { Page } from '../meta/metadata-store.ts';
import { queryString } from './context.ts';

/** Reads `n` and `last`; `n` is clamped to the server's page size (a Link header carries on). */
export function readPage(req: FastifyRequest, maxPageSize: number): Page & { requested: number | undefined } {
  const n = queryString(req, 'n');
  const last = queryString(req, 'last');
  let requested: number | undefined;
  if (n !== undefined) {
    if (!/^\d{1,9}$/.test(n)) throw new RegistryError('UNSUPPORTED', 'n must be a non-negative integer', { status: 400, detail: { parameter: 'n' } });
    requested = Number(n);
  }
  if (last !== undefined && last.length > 512) throw new RegistryError('UNSUPPORTED', 'last is too long', { status: 400, detail: { parameter: 'last' } });
  return { after: last || undefined, limit: Math.min(requested ?? maxPageSize, maxPageSize), requested };
}

/** RFC 5988 Link header pointing at the next page. */
export function nextLink(path: string, params: Record<string, string>): string {
  const qs = new URLSearchParams(params).toString();
  return `<${path}?${qs}>; rel="next"`;
}
