import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import { getBlob, deleteBlob } from './blob-routes.ts';
import type { OciContext, OciHandler, RouteMatch } from './context.ts';
import { listCatalog, listReferrers, listTags } from './listing-routes.ts';
import { deleteManifest, getManifest, putManifest } from './manifest-routes.ts';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './upload-routes.ts';

export interface OciRoute {
  /** A stable id for the route (authorization maps each id to an action). */
  readonly id: string;
  readonly method: string;
  /** Matched against the path after "/v2/", undecoded; group 1 is the name, group 2 the reference. */
  readonly pattern: RegExp;
  readonly handler: OciHandler;
}

// Names may contain slashes, so each pattern anchors on the fixed suffix that ends the path.
const blobs = /^(.+)\/blobs\/([^/]+)$/;
const uploads = /^(.+)\/blobs\/uploads\/$/;
const upload = /^(.+)\/blobs\/uploads\/([^/]+)$/;
const manifests = /^(.+)\/manifests\/([^/]+)$/;
const tags = /^(.+)\/tags\/list$/;
const referrers = /^(.+)\/referrers\/([^/]+)$/;
const catalog = /^_catalog$/;

export const ociRoutes: readonly OciRoute[] = [
  { id: 'catalog.list', method: 'GET', pattern: catalog, handler: listCatalog },
  { id: 'upload.start', method: 'POST', pattern: uploads, handler: startUpload },
  { id: 'upload.status', method: 'GET', pattern: upload, handler: uploadStatus },
  { id: 'upload.patch', method: 'PATCH', pattern: upload, handler: patchUpload },
  { id: 'upload.finish', method: 'PUT', pattern: upload, handler: finishUpload },
  { id: 'upload.cancel', method: 'DELETE', pattern: upload, handler: cancelUpload },
  { id: 'blob.get', method: 'GET', pattern: blobs, handler: getBlob },
  { id: 'blob.head', method: 'HEAD', pattern: blobs, handler: getBlob },
  { id: 'blob.delete', method: 'DELETE', pattern: blobs, handler: deleteBlob },
  { id: 'manifest.get', method: 'GET', pattern: manifests, handler: getManifest },
  { id: 'manifest.head', method: 'HEAD', pattern: manifests, handler: getManifest },
  { id: 'manifest.put', method: 'PUT', pattern: manifests, handler: putManifest },
  { id: 'manifest.delete', method: 'DELETE', pattern: manifests, handler: deleteManifest },
  { id: 'tags.list', method: 'GET', pattern: tags, handler: listTags },
  { id: 'referrers.list', method: 'GET', pattern: referrers, handler: listReferrers },
];

export interface ResolvedRoute {
  readonly route: OciRoute;
  readonly match: RouteMatch;
}

/** Finds the route for a method and a path below /v2/; a path known under another method is 405. */
export function resolveOciRoute(method: string, path: string): ResolvedRoute {
  let pathKnown = false;
  for (const route of ociRoutes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathKnown = true;
    if (route.method === method) return { route, match: { name: m[1] ?? '', reference: m[2] ?? '' } };
  }
  if (pathKnown) throw new RegistryError('UNSUPPORTED', `method ${method} is not allowed here`, { status: 405 });
  throw new RegistryError('NAME_UNKNOWN', 'no such endpoint', { status: 404, detail: { path: path.slice(0, 300) } });
}

function sendError(reply: FastifyReply, err: RegistryError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  reply.code(err.status).header('Content-Type', 'application/json; charset=utf-8');
  return reply.send(err.toBody());
}

/** Registers /v2/ and the distribution routes on an encapsulated Fastify scope. */
export async function ociPlugin(app: FastifyInstance, ctx: OciContext): Promise<void> {
  // Bodies are streamed by the handlers themselves, whatever their content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  // Set on request (not on send) so that replies streamed outside Fastify carry it too.
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0');
  });

  app.setErrorHandler((error, req, reply) => {
    if (error instanceof RegistryError) return sendError(reply, error);
    const err = error as Error & { statusCode?: number; code?: string };
    const e = err;
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // Fastify's own 4xx (malformed request): report it in the spec's error shape.
      return sendError(reply, new RegistryError('UNSUPPORTED', err.message, { status: e.statusCode, detail: { code: e.code } }));
    }
    if (req.raw.readableAborted || reply.raw.destroyed) {
      // The client hung up mid-request: there is no one to answer.
      req.log.info({ reason: err.message }, 'client went away');
      return reply.send();
    }
    req.log.error({ err }, 'request failed');
    return sendError(reply, new RegistryError('INTERNAL_ERROR'));
  });

  app.get('/v2/', async (req, reply) => {
    await ctx.guard.base(req);
    return reply.header('Content-Type', 'application/json').send('{}');
  });

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v2/*',
    exposeHeadRoute: false,
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      const url = req.raw.url ?? '';
      const q = url.indexOf('?');
      const path = (q === -1 ? url : url.slice(0, q)).slice('/v2/'.length);
      const { route, match } = resolveOciRoute(req.method, path);
      // Before the handler reads a byte of the body.
      await ctx.guard.oci(req, route.id, match.name);
      return route.handler(req, reply, match, ctx);
    },
  });
}
