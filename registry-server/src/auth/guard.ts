// The HTTP face of authentication and authorization: who is calling (once per request), whether
// a route's action is allowed, and the 401 challenge that sends clients to the token endpoint.
import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import { ociActions, type OciRouteAction } from './actions.ts';
import { anonymous, type AuthenticatedCaller, type Authenticator, type AuthOutcome } from './authenticator.ts';
import type { Authorizer, ResourceRef } from './authorizer.ts';
import { coversAccess } from './scope.ts';

export const tokenPath = '/token';

export interface GuardOptions {
  /** host[:port] for the token realm when configured; else the request's Host. */
  readonly publicHost: () => string | undefined;
  readonly service: string;
}

const callers = new WeakMap<FastifyRequest, AuthenticatedCaller>();
const hostPattern = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:.]+\](?::\d{1,5})?$/;

export class Guard {
  readonly authn: Authenticator;
  readonly authz: Authorizer;
  private readonly options: GuardOptions;

  constructor(authn: Authenticator, authz: Authorizer, options: GuardOptions) {
    this.authn = authn;
    this.authz = authz;
    this.options = options;
  }

  get service(): string {
    return this.options.service;
  }

  /** The token endpoint's URL as this client reaches the registry. */
  realm(req: FastifyRequest): string {
    const configured = this.options.publicHost();
    const given = req.headers.host;
    const host = configured ?? (given !== undefined && hostPattern.test(given) ? given : req.hostname);
    return `${req.protocol}://${host}${tokenPath}`;
  }

  challenge(req: FastifyRequest, scope?: string, error?: string): string {
    let value = `Bearer realm="${this.realm(req)}",service="${this.options.service}"`;
    if (scope !== undefined) value += `,scope="${scope}"`;
    if (error !== undefined) value += `,error="${error}"`;
    return value;
  }

  /** The request's caller, authenticated once; bad or throttled credentials throw. */
  async caller(req: FastifyRequest, api: boolean): Promise<AuthenticatedCaller> {
    const known = callers.get(req);
    if (known) return known;
    const outcome = await this.authn.authenticate(req.headers.authorization, req.ip);
    if (!outcome.ok) throw this.refusal(req, outcome, api);
    callers.set(req, outcome.caller);
    return outcome.caller;
  }

  refusal(req: FastifyRequest, outcome: Exclude<AuthOutcome, { ok: true }>, api: boolean, scope?: string): RegistryError {
    if (outcome.status === 429) {
      return new RegistryError(api ? 'TooManyRequests' : 'TOOMANYREQUESTS', outcome.reason, { headers: { 'Retry-After': String(outcome.retryAfterSeconds) } });
    }
    return new RegistryError(api ? 'Unauthenticated' : 'UNAUTHORIZED', outcome.reason, {
      headers: { 'WWW-Authenticate': this.challenge(req, scope, 'invalid_token') },
    });
  }

  private facts(req: FastifyRequest): { sourceIp: string; secureTransport: boolean } {
    return { sourceIp: req.ip, secureTransport: req.protocol === 'https' };
  }

  /** GET /v2/: 200 for any authenticated caller, the challenge otherwise. */
  async base(req: FastifyRequest): Promise<void> {
    // Any valid credential will do, an anonymous token included; no credential at all will not.
    if ((await this.caller(req, false)) === anonymous) {
      throw new RegistryError('UNAUTHORIZED', 'authentication required', { headers: { 'WWW-Authenticate': this.challenge(req) } });
    }
  }

  /** Authorizes a distribution route for a repository (or the catalog when `name` is empty). */
  async oci(req: FastifyRequest, routeId: string, name: string): Promise<void> {
    const spec = ociActions[routeId];
    // Deny unless allowed: a route nobody mapped to an action is refused.
    if (!spec) throw new RegistryError('DENIED', `no action is defined for ${routeId}`);
    const caller = await this.caller(req, false);
    const scope = scopeOf(spec, name);
    if (caller.token?.access !== undefined) {
      const covered = spec.scope === 'catalog' ? coversAccess(caller.token.access, 'registry', 'catalog', '*') : coversAccess(caller.token.access, 'repository', name, spec.scope);
      if (!covered) {
        throw new RegistryError('UNAUTHORIZED', `the token does not grant ${scope}`, { headers: { 'WWW-Authenticate': this.challenge(req, scope, 'insufficient_scope') } });
      }
    }
    const ref = spec.scope === 'catalog' ? this.authz.registryResource() : this.authz.repository(name);
    const decision = await this.authz.decide(caller, [spec.action], ref, this.facts(req));
    if (decision.decision === 'allowed') return;
    // No credentials at all: signing in might help, so challenge. Anyone who did sign in (an
    // anonymous token included) is simply denied.
    if (caller === anonymous) {
      throw new RegistryError('UNAUTHORIZED', 'authentication required', { headers: { 'WWW-Authenticate': this.challenge(req, scope) } });
    }
    throw new RegistryError('DENIED', `${caller.principal?.name ?? 'an anonymous caller'} is not allowed ${spec.action} on ${ref.arn}`, { detail: { action: spec.action, resource: ref.arn } });
  }

  /** Whether the request's caller may do `action` on a repository (e.g. the source of a mount). */
  async allows(req: FastifyRequest, action: string, repositoryName: string, scope: 'pull' | 'push'): Promise<boolean> {
    const caller = await this.caller(req, false);
    if (caller.token?.access !== undefined && !coversAccess(caller.token.access, 'repository', repositoryName, scope)) return false;
    return (await this.authz.decide(caller, [action], this.authz.repository(repositoryName), this.facts(req))).decision === 'allowed';
  }

  /** Authorizes a management route: every action needed, on the resource given. */
  async api(req: FastifyRequest, actions: readonly string[], ref: ResourceRef): Promise<void> {
    const caller = await this.caller(req, true);
    if (caller.principal === null) throw this.unauthenticated(req);
    // Scoped registry tokens are for the distribution API only.
    if (caller.token !== undefined && caller.token.use !== 'login') throw this.unauthenticated(req);
    const decision = await this.authz.decide(caller, actions, ref, this.facts(req));
    if (decision.decision === 'allowed') return;
    throw new RegistryError('AccessDenied', `${caller.principal.name} is not allowed ${decision.action} on ${ref.arn}`, {
      detail: { action: decision.action, resource: ref.arn, decision: decision.decision, ...(decision.statement ? { statement: decision.statement } : {}) },
    });
  }

  unauthenticated(req: FastifyRequest): RegistryError {
    return new RegistryError('Unauthenticated', undefined, { headers: { 'WWW-Authenticate': `Basic realm="berth", ${this.challenge(req)}` } });
  }
}

function scopeOf(spec: OciRouteAction, name: string): string {
  if (spec.scope === 'catalog') return 'registry:catalog:*';
  return `repository:${name}:${spec.scope === 'push' ? 'pull,push' : spec.scope}`;
}
