// Routes for identities: the three resources, key rotation, a principal's policy list, the policy
// simulator and ECR-style authorization tokens.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Guard } from '../auth/guard.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import type { TokenService } from '../auth/token-service.ts';
import { RegistryError } from '../errors.ts';
import { AuthorizationToken, SimulationRequest, SimulationResult, type SimulationRequestT } from '../model/auth.ts';
import { accessKeyModel, AccessKeyId, identityPolicyModel, PrincipalName, principalModel } from '../model/resources/identity.ts';
import { evaluate } from '../policy/evaluate.ts';
import { AccessKeyHandler, IdentityPolicyHandler, PrincipalHandler } from './identity.ts';
import { expectedVersion, registerResource, representationSchema } from './plumbing.ts';

/** ECR's authorization tokens last 12 hours; so do these. */
export const loginTokenTtlSeconds = 12 * 3600;

export interface IdentityRouteContext {
  readonly identities: IdentityStore;
  readonly tokens: TokenService;
  readonly guard: Guard;
  readonly registryId: string;
}

const repositoryArn = /^arn:berth:ecr:[^:]*:(\d{12}):repository\/(.+)$/;

export function registerIdentityRoutes(app: FastifyInstance, ctx: IdentityRouteContext): void {
  const keys = new AccessKeyHandler(ctx.identities);
  registerResource(app, principalModel, new PrincipalHandler(ctx.identities, ctx.registryId));
  registerResource(app, accessKeyModel, keys);
  registerResource(app, identityPolicyModel, new IdentityPolicyHandler(ctx.identities, ctx.registryId));

  app.post(
    '/access-keys/:accessKeyId/rotate',
    {
      config: { auth: { action: 'iam:CreateAccessKey', resource: 'accessKey' } },
      schema: {
        tags: ['AccessKey'],
        summary: 'Replace the secret (the old one stops working at once); the new secret is in this answer only',
        params: Type.Object({ accessKeyId: AccessKeyId }),
        response: { 200: representationSchema(accessKeyModel) },
      },
    },
    async (req) => keys.rotate((req.params as { accessKeyId: string }).accessKeyId, expectedVersion(req)),
  );

  app.get(
    '/principals/:principalName/policies',
    {
      config: { auth: { action: 'iam:ListUserPolicies', resource: 'principal' } },
      schema: {
        tags: ['IdentityPolicy'],
        summary: "Names of a principal's policies",
        params: Type.Object({ principalName: PrincipalName }),
        response: { 200: Type.Object({ policyNames: Type.Array(Type.String()) }) },
      },
    },
    async (req) => {
      const { principalName } = req.params as { principalName: string };
      if (!(await ctx.identities.getPrincipal(principalName))) throw new RegistryError('PrincipalNotFound', `principal ${principalName} does not exist`, { field: 'principalName' });
      return { policyNames: (await ctx.identities.policiesOf(principalName)).map((p) => p.policyName) };
    },
  );

  app.post(
    '/simulate-policy',
    {
      config: { auth: { action: 'iam:SimulatePrincipalPolicy', resource: 'principal' } },
      schema: { tags: ['Authorization'], summary: 'Decide an action on a resource for a principal (or anonymous), and say which statement decided', body: SimulationRequest, response: { 200: SimulationResult } },
    },
    async (req) => simulate(ctx, req, req.body as SimulationRequestT),
  );

  app.get(
    '/authorization-token',
    {
      config: { auth: { action: 'ecr:GetAuthorizationToken', resource: 'registry' } },
      schema: { tags: ['Authorization'], summary: 'A 12-hour login token acting as the caller: docker login -u BERTH -p <password>', response: { 200: AuthorizationToken } },
    },
    async (req) => {
      const caller = await ctx.guard.caller(req, true);
      if (!caller.principal) throw ctx.guard.unauthenticated(req);
      const issued = await ctx.tokens.issue(
        { principalId: caller.principal.id, principalName: caller.principal.name, ...(caller.accessKeyId !== undefined ? { accessKeyId: caller.accessKeyId } : {}) },
        'login',
        undefined,
        Math.min(loginTokenTtlSeconds, caller.token ? Math.max(60, caller.token.expiresAt - Math.floor(Date.now() / 1000)) : loginTokenTtlSeconds),
      );
      const userName = 'BERTH';
      return {
        authorizationToken: Buffer.from(`${userName}:${issued.token}`).toString('base64'),
        userName,
        password: issued.token,
        proxyEndpoint: ctx.guard.realm(req).slice(0, -'/token'.length),
        expiresAt: new Date(issued.issuedAt.getTime() + issued.expiresIn * 1000).toISOString(),
      };
    },
  );
}

async function simulate(ctx: IdentityRouteContext, req: FastifyRequest, body: SimulationRequestT) {
  const authz = ctx.guard.authz;
  let principal = null;
  if (body.principalName !== undefined) {
    const p = await ctx.identities.getPrincipal(body.principalName);
    if (!p) throw new RegistryError('PrincipalNotFound', `principal ${body.principalName} does not exist`, { field: 'principalName' });
    principal = ctx.guard.authn.principalOf(p);
  }
  const m = repositoryArn.exec(body.resource);
  const ref = m && m[1] === ctx.registryId ? { arn: body.resource, repositoryName: m[2] ?? '' } : { arn: body.resource };
  const caller = { principal, via: principal ? ('access-key' as const) : ('anonymous' as const) };
  const policies = await authz.policiesFor(principal?.name ?? null, ref);
  const context: Record<string, string | string[]> = authz.context(caller, { sourceIp: req.ip, secureTransport: req.protocol === 'https' });
  // Keys are case-insensitive: a given "aws:sourceip" replaces the default "aws:SourceIp".
  for (const [key, value] of Object.entries(body.context ?? {})) {
    for (const k of Object.keys(context)) if (k.toLowerCase() === key.toLowerCase()) delete context[k];
    context[key] = value;
  }
  const decision = evaluate({ caller: { principal }, action: body.action, resource: body.resource, context }, policies, ctx.registryId);
  return { decision: decision.decision, ...(decision.statement ? { statement: decision.statement } : {}), policies: policies.map((p) => p.source), context };
}
