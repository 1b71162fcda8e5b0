// The token endpoint of Docker's token authentication: GET with Basic credentials (or none, for
// an anonymous token), and the OAuth2 POST form (password and refresh_token grants). A token
// carries the requested scopes the caller is allowed, and nothing more.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { scopeActions, type DockerAction } from './actions.ts';
import type { AuthenticatedCaller, AuthOutcome } from './authenticator.ts';
import type { Guard } from './guard.ts';
import { tokenPath } from './guard.ts';
import { intersectAccess, parseScopes, type Access } from './scope.ts';
import type { TokenService } from './token-service.ts';
import { accessKeyIdPattern } from './secret-hash.ts';

/** Refresh tokens (POST with access_type=offline) last a day; the key they came from is re-checked. */
const refreshTtlSeconds = 24 * 3600;

interface TokenRequest {
  readonly service?: string | undefined;
  readonly scope?: string | string[] | undefined;
}

function one(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

export async function tokenRoutes(app: FastifyInstance, deps: { guard: Guard; tokens: TokenService }): Promise<void> {
  const { guard, tokens } = deps;

  // The OAuth2 form body; small, and nothing else is accepted here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.setErrorHandler((error, req, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return oauthError(reply, status, 'invalid_request', (error as Error).message);
    req.log.error({ err: error }, 'token request failed');
    return oauthError(reply, 500, 'server_error', 'internal error');
  });

  const grant = async (req: FastifyRequest, reply: FastifyReply, caller: AuthenticatedCaller, request: TokenRequest, refreshFor?: string) => {
    if (request.service !== undefined && request.service !== guard.service) {
      return oauthError(reply, 400, 'invalid_request', `unknown service "${request.service.slice(0, 100)}"; this registry is "${guard.service}"`);
    }
    const parsed = parseScopes(request.scope);
    if (!parsed.ok) return oauthError(reply, 400, 'invalid_scope', parsed.error);
    const access = await grantedAccess(guard, req, caller, parsed.scopes);
    const subject = {
      principalId: caller.principal?.id ?? null,
      ...(caller.principal ? { principalName: caller.principal.name } : {}),
      ...(caller.accessKeyId !== undefined ? { accessKeyId: caller.accessKeyId } : {}),
    };
    const issued = await tokens.issue(subject, 'registry', access);
    const body: Record<string, unknown> = { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt.toISOString() };
    if (refreshFor !== undefined && caller.principal) body.refresh_token = (await tokens.issue(subject, 'refresh', undefined, refreshTtlSeconds)).token;
    reply.header('Cache-Control', 'no-store');
    return reply.send(body);
  };

  app.get(tokenPath, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const outcome = await guard.authn.authenticate(req.headers.authorization, req.ip);
    if (!outcome.ok) return refuse(guard, req, reply, outcome);
    const offline = one(q.offline_token) === 'true';
    return grant(req, reply, outcome.caller, { service: one(q.service), scope: q.scope as string | string[] | undefined }, offline ? 'offline' : undefined);
  });

  app.post(tokenPath, async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, string | undefined>;
    const request = { service: form.service, scope: form.scope };
    const offline = form.access_type === 'offline' ? 'offline' : undefined;
    switch (form.grant_type) {
      case 'password': {
        const user = form.username ?? '';
        const password = form.password ?? '';
        const outcome = accessKeyIdPattern.test(user) ? await guard.authn.accessKey(user, password, req.ip) : await guard.authn.bearer(password, ['login']);
        if (!outcome.ok) return refuse(guard, req, reply, outcome, true);
        return grant(req, reply, outcome.caller, request, offline);
      }
      case 'refresh_token': {
        const outcome = await guard.authn.bearer(form.refresh_token ?? '', ['refresh']);
        if (!outcome.ok) return refuse(guard, req, reply, outcome, true);
        return grant(req, reply, outcome.caller, request, offline);
      }
      default:
        return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    }
  });
}

/** The requested scopes cut down to what the caller's policies allow. */
async function grantedAccess(guard: Guard, req: FastifyRequest, caller: AuthenticatedCaller, requested: Access[]): Promise<Access[]> {
  const facts = { sourceIp: req.ip, secureTransport: req.protocol === 'https' };
  const decisions = await Promise.all(
    requested.map(async (scope): Promise<string[]> => {
      if (scope.type === 'registry' && scope.name === 'catalog') {
        const d = await guard.authz.decide(caller, ['ecr:DescribeRepositories'], guard.authz.registryResource(), facts);
        return d.decision === 'allowed' ? ['*'] : [];
      }
      if (scope.type !== 'repository') return [];
      const ref = guard.authz.repository(scope.name);
      const granted: string[] = [];
      for (const action of ['pull', 'push', 'delete'] as const satisfies readonly DockerAction[]) {
        const d = await guard.authz.decide(caller, scopeActions[action], ref, facts);
        if (d.decision === 'allowed') granted.push(action);
      }
      return granted;
    }),
  );
  const byScope = new Map(requested.map((s, i) => [s, decisions[i] ?? []]));
  return intersectAccess(requested, (s) => byScope.get(s) ?? []);
}

function refuse(guard: Guard, req: FastifyRequest, reply: FastifyReply, outcome: Exclude<AuthOutcome, { ok: true }>, oauth = false): FastifyReply {
  if (outcome.status === 429) {
    reply.header('Retry-After', String(outcome.retryAfterSeconds));
    return oauthError(reply, 429, 'too_many_requests', outcome.reason);
  }
  if (!oauth) reply.header('WWW-Authenticate', `Basic realm="${guard.realm(req)}"`);
  return oauthError(reply, 401, oauth ? 'invalid_grant' : 'invalid_client', outcome.reason);
}

/** RFC 6749 error body, with the distribution spec's errors array beside it for Docker clients. */
function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  const code = status === 401 ? 'UNAUTHORIZED' : status === 429 ? 'TOOMANYREQUESTS' : status >= 500 ? 'INTERNAL_ERROR' : 'UNSUPPORTED';
  return reply.code(status).header('Cache-Control', 'no-store').send({ error, error_description: description, errors: [{ code, message: description }] });
}

