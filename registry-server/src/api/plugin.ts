import swagger from '@fastify/swagger';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import type { MetadataStore } from '../meta/metadata-store.ts';
import { metaKeyword } from '../model/meta.ts';
import { repositoryCreationTemplateModel } from '../model/resources/repository-creation-template.ts';
import { repositoryModel } from '../model/resources/repository.ts';
import { TemplateHandler } from './templates.ts';
import { ImageService } from '../registry/images.ts';
import { registerImageRoutes } from './images.ts';
import { registerLifecycleRoutes } from './lifecycle.ts';
import type { LifecycleRunner } from '../registry/lifecycle-runner.ts';
import { lifecyclePolicyModel, registryPolicyModel, repositoryPolicyModel } from '../model/resources/policies.ts';
import { DocumentResource } from './document-resource.ts';
import { documentKinds } from './document-kinds.ts';
import { canonicalLifecycleText, canonicalPolicyText } from './policy-text.ts';
import { registerResource } from './plumbing.ts';
import type { ResourceModel } from '../model/resource.ts';
import { RepositoryHandler, type RegistryIdentity } from './repositories.ts';
import type { Guard } from '../auth/guard.ts';
import type { ResourceRef } from '../auth/authorizer.ts';
import type { RouteAuth } from '../auth/actions.ts';
import type { IdentityStore } from '../auth/identity-store.ts';
import type { TokenService } from '../auth/token-service.ts';
import { registerIdentityRoutes } from './identity-routes.ts';
import type { KeyService } from '../kms/key-service.ts';
import { kmsResourceOf } from '../kms/handlers.ts';
import { registerKmsRoutes } from './kms-routes.ts';
import { replicationConfigurationModel, replicationRuleModel } from '../model/resources/replication.ts';
import type { ReplicationConfigurations } from '../replication/configuration.ts';
import { ReplicationConfigurationHandler, ReplicationRuleHandler, registerReplicationStatusRoute } from './replication.ts';

export const apiPrefix = '/api/v1';

export interface ApiContext {
  readonly meta: MetadataStore;
  readonly registry: RegistryIdentity;
  readonly version: string;
  readonly lifecycle: LifecycleRunner;
  readonly guard: Guard;
  readonly identities: IdentityStore;
  readonly tokens: TokenService;
  readonly keys: KeyService;
  readonly replication: ReplicationConfigurations;
}

/** Ajv must accept the model's extension keyword (it carries IaC facts, not constraints). */
export const ajvKeywords = [metaKeyword];

/** "/tags/env" from ajv's "/tags/env" or "" → the field path people read: "tags.env". */
function fieldOf(instancePath: string, missing?: unknown): string | undefined {
  const parts = instancePath.split('/').filter(Boolean);
  if (typeof missing === 'string') parts.push(missing);
  return parts.length > 0 ? parts.join('.') : undefined;
}

function toRegistryError(err: FastifyError): RegistryError {
  if (err instanceof RegistryError) return err;
  const first = err.validation?.[0];
  if (first) {
    const params = first.params as Record<string, unknown>;
    const field = fieldOf(first.instancePath, params.missingProperty ?? params.additionalProperty);
    const where = err.validationContext === 'body' ? '' : `${err.validationContext ?? 'request'} `;
    return new RegistryError('InvalidParameter', `${where}${field ?? 'value'} ${first.message ?? 'is invalid'}`.trim(), field === undefined ? {} : { field });
  }
  if (err.statusCode === 415) return new RegistryError('UnsupportedMediaType', err.message);
  if (err.statusCode === 413) return new RegistryError('LimitExceeded', err.message, { status: 413 });
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new RegistryError('InvalidParameter', err.message, { status: err.statusCode });
  return new RegistryError('InternalError');
}

/** The management API under /api/v1: every resource model, its OpenAPI document, shared errors. */
export async function apiPlugin(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Berth management API', version: ctx.version, description: 'Repositories, images, policies and the rest of Berth, as resources.' },
    },
    // Only the management routes carry tags; the OCI and health routes stay out of the document.
    hideUntagged: true,
  });

  // JSON only: the plain-text parser Fastify starts with would let a text body reach validation.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((error: FastifyError, req, reply) => {
    const err = toRegistryError(error);
    if (err.code === 'InternalError') req.log.error({ err: error }, 'request failed');
    if (err.headers) reply.headers(err.headers);
    return reply.code(err.status).send(err.toApiBody(req.id));
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send(new RegistryError('NotFound', `no such endpoint: ${req.method} ${req.url.split('?', 1)[0]}`).toApiBody(req.id)),
  );

  // Who is calling is settled before the body is read: no credentials, no parsing.
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.url === undefined) return;
    const caller = await ctx.guard.caller(req, true);
    if (caller.principal === null) throw ctx.guard.unauthenticated(req);
  });
  // What they may do is decided on the validated request (an update's actions follow its fields).
  app.addHook('preHandler', async (req) => {
    if (req.routeOptions.url === undefined) return;
    const auth = req.routeOptions.config.auth;
    // Deny unless allowed: a route without authorization facts is refused (a test lists them).
    if (!auth) throw new RegistryError('AccessDenied', `no action is defined for ${req.method} ${req.routeOptions.url}`);
    await ctx.guard.api(req, auth.actions ? auth.actions(req) : [auth.action], await resourceOf(ctx, req, auth));
  });

  app.get('/openapi.json', { config: { auth: { action: 'berth:GetApiDescription', resource: 'registry' } } }, async () => app.swagger());

  registerResource(app, repositoryModel, new RepositoryHandler(ctx.meta, ctx.registry, ctx.keys));
  registerResource(app, repositoryCreationTemplateModel, new TemplateHandler(ctx.meta));
  registerImageRoutes(app, new ImageService(ctx.meta, ctx.registry.registryId));
  const registryId = { registryId: ctx.registry.registryId };
  const iamPolicy = <M extends ResourceModel>(kind: string, notFound: 'RepositoryPolicyNotFound' | 'RegistryPolicyNotFound', repositoryScoped: boolean) =>
    new DocumentResource<M>(ctx.meta, {
      kind,
      field: 'policyText',
      canonicalize: (text) => canonicalPolicyText(text, 'policyText'),
      notFound,
      repositoryScoped,
      outputs: () => registryId,
    });
  registerResource(app, repositoryPolicyModel, iamPolicy<typeof repositoryPolicyModel>(documentKinds.repositoryPolicy, 'RepositoryPolicyNotFound', true));
  registerResource(app, registryPolicyModel, iamPolicy<typeof registryPolicyModel>(documentKinds.registryPolicy, 'RegistryPolicyNotFound', false));
  registerResource(
    app,
    lifecyclePolicyModel,
    new DocumentResource(ctx.meta, {
      kind: documentKinds.lifecyclePolicy,
      field: 'lifecyclePolicyText',
      canonicalize: (text) => canonicalLifecycleText(text, 'lifecyclePolicyText'),
      notFound: 'LifecyclePolicyNotFound',
      repositoryScoped: true,
      outputs: async (doc) => {
        const run = await ctx.meta.getDocument(documentKinds.lifecycleRun, doc.key);
        return { ...registryId, ...(run ? { lastEvaluatedAt: (JSON.parse(run.body) as { at: string }).at } : {}) };
      },
    }),
  );
  registerLifecycleRoutes(app, ctx.meta, ctx.lifecycle);
  registerIdentityRoutes(app, { identities: ctx.identities, tokens: ctx.tokens, guard: ctx.guard, registryId: ctx.registry.registryId });
  registerKmsRoutes(app, { keys: ctx.keys, principalOf: async (req) => (await ctx.guard.caller(req, true)).principal?.arn });
  registerResource(app, replicationConfigurationModel, new ReplicationConfigurationHandler(ctx.replication, ctx.registry.registryId));
  registerResource(app, replicationRuleModel, new ReplicationRuleHandler(ctx.replication, ctx.registry.registryId));
  registerReplicationStatusRoute(app, ctx.meta, ctx.replication);
}

/** The ARN a management request acts on: named by the path, or on create by the body. */
async function resourceOf(ctx: ApiContext, req: FastifyRequest, auth: RouteAuth): Promise<ResourceRef> {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const body = (req.body ?? {}) as Record<string, unknown>;
  const named = (key: string): string | undefined => params[key] ?? (typeof body[key] === 'string' ? body[key] : undefined);
  const authz = ctx.guard.authz;
  switch (auth.resource) {
    case 'repository':
      return authz.repository(named('repositoryName') ?? '*');
    case 'principal':
      return authz.principal(named('principalName') ?? '*');
    case 'template':
      return authz.template(named('prefix') ?? '*');
    case 'accessKey': {
      // A key is acted on through its principal, as IAM's access key actions are.
      const id = params.accessKeyId;
      const key = id === undefined ? undefined : await ctx.identities.getAccessKey(id);
      return authz.principal(key?.principalName ?? named('principalName') ?? '*');
    }
    case 'kmsKey':
      return kmsResourceOf(ctx.keys, req);
    case 'registry':
      return authz.registryResource();
  }
}
