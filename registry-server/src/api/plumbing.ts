import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import { ListQuery } from '../model/common.ts';
import type { ResourceModel } from '../model/resource.ts';
import type { Identity, ResourceHandler } from './resource-handler.ts';
import { updateActions, type RouteAuth } from '../auth/actions.ts';

/** The representation schema: inputs and outputs together. */
export function representationSchema(model: ResourceModel): TObject {
  return Type.Composite([model.inputs, model.outputs], { additionalProperties: false, title: model.title });
}

/** The body an update accepts: every input but the identity, each optional. */
export function patchSchema(model: ResourceModel): TObject {
  return Type.Partial(Type.Omit(model.inputs, [...model.identity]), { additionalProperties: false });
}

const errorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Unknown()),
  requestId: Type.String(),
});

/** Fastify's path syntax (":name") for a model path ("{name}"). */
function routePath(path: string): string {
  return path.replace(/\{([A-Za-z]+)\}/g, ':$1');
}

function paramsSchema(model: ResourceModel): TObject {
  const props: Record<string, TSchema> = {};
  if (model.assignedId !== undefined) {
    const field = model.outputs.properties[model.assignedId];
    if (!field) throw new Error(`${model.name}: assigned id ${model.assignedId} is not an output`);
    props[model.assignedId] = field;
  }
  for (const key of model.identity) {
    const field = model.inputs.properties[key];
    if (!field) throw new Error(`${model.name}: identity field ${key} is not an input`);
    props[key] = field;
  }
  return Type.Object(props);
}

/** Reads If-Match ("3", 3 or W/"3"); undefined when absent. */
export function expectedVersion(req: FastifyRequest): number | undefined {
  const header = req.headers['if-match'];
  if (header === undefined || header === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!m) throw new RegistryError('InvalidParameter', 'If-Match must be a version number, as given in ETag', { field: 'If-Match' });
  return Number(m[1]);
}

function tag(reply: FastifyReply, body: { version?: unknown }): void {
  if (typeof body.version === 'number') reply.header('ETag', `"${body.version}"`);
}

/**
 * The page size asked for. The schema bounds it, but query coercion lets "1e309" through as
 * Infinity; that must be a 400, not a LIMIT nobody can run.
 */
export function pageSize(maxResults: number | undefined, fallback = 100, max = 1000): number {
  if (maxResults === undefined) return fallback;
  if (!Number.isSafeInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw new RegistryError('InvalidParameter', `maxResults must be an integer from 1 to ${max}`, { field: 'maxResults' });
  }
  return maxResults;
}

/** Page tokens are the last key of a page, opaque to clients. */
export function encodeToken(after: string): string {
  return Buffer.from(after, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(text) !== token) throw new RegistryError('InvalidParameter', 'nextToken is not a token this API issued', { field: 'nextToken' });
  return text;
}

function routeAuth(model: ResourceModel, op: keyof ResourceModel['actions']): { auth: RouteAuth } {
  const action = model.actions[op];
  if (action === undefined) throw new Error(`${model.name}: no action for ${op}`);
  const resource = model.arnKind;
  return { auth: op === 'update' ? { action, resource, actions: updateActions(action, model.fieldActions) } : { action, resource } };
}

/** Registers the routes a model's operations call for, backed by its handler. */
export function registerResource<M extends ResourceModel>(app: FastifyInstance, model: M, handler: ResourceHandler<M>): void {
  const representation = representationSchema(model);
  const params = paramsSchema(model);
  const item = routePath(model.path);
  const tags = [model.title];
  const errors = { 400: errorBody, 404: errorBody, 409: errorBody, 412: errorBody };
  const ops = new Set(model.operations);

  if (ops.has('create') && model.collectionPath && handler.create) {
    const create = handler.create.bind(handler);
    app.post(
      model.collectionPath,
      { config: routeAuth(model, 'create'), schema: { tags, summary: `Create a ${model.title.toLowerCase()}`, body: model.inputs, response: { 201: representation, ...errors } } },
      async (req, reply) => {
        const created = await create(req.body as never);
        tag(reply, created);
        return reply.code(201).send(created);
      },
    );
  }
  if (ops.has('read')) {
    app.get(item, { config: routeAuth(model, 'read'), schema: { tags, summary: `Describe a ${model.title.toLowerCase()}`, params, response: { 200: representation, ...errors } } }, async (req, reply) => {
      const found = await handler.read(req.params as Identity);
      tag(reply, found);
      return found;
    });
  }
  if (ops.has('update') && handler.update) {
    const update = handler.update.bind(handler);
    // A singleton is put in place (create or replace); a collection item is patched.
    const singleton = model.collectionPath === undefined;
    const route = singleton ? app.put.bind(app) : app.patch.bind(app);
    route(
      item,
      {
        config: routeAuth(model, 'update'),
        schema: {
          tags,
          summary: singleton ? `Set the ${model.title.toLowerCase()}` : `Update a ${model.title.toLowerCase()}`,
          params,
          body: singleton ? Type.Omit(model.inputs, [...model.identity], { additionalProperties: false }) : patchSchema(model),
          response: { 200: representation, ...errors },
        },
      },
      async (req, reply) => {
        const updated = await update(req.params as Identity, req.body as never, expectedVersion(req));
        tag(reply, updated);
        return updated;
      },
    );
  }
  if (ops.has('delete') && handler.delete) {
    const del = handler.delete.bind(handler);
    app.delete(
      item,
      { config: routeAuth(model, 'delete'), schema: { tags, summary: `Delete a ${model.title.toLowerCase()}`, params, ...(model.deleteOptions ? { querystring: model.deleteOptions } : {}), response: { 204: Type.Null(), ...errors } } },
      async (req, reply) => {
        await del(req.params as Identity, (req.query ?? {}) as never, expectedVersion(req));
        return reply.code(204).send();
      },
    );
  }
  if (ops.has('list') && model.collectionPath && handler.list) {
    const list = handler.list.bind(handler);
    app.get(
      model.collectionPath,
      {
        config: routeAuth(model, 'list'),
        schema: {
          tags,
          summary: `List ${model.title.toLowerCase()}s`,
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(representation), nextToken: Type.Optional(Type.String()) }), ...errors },
        },
      },
      async (req) => {
        const q = req.query as { prefix?: string; maxResults?: number; nextToken?: string };
        const page = await list({ prefix: q.prefix ?? '', limit: pageSize(q.maxResults), after: q.nextToken === undefined ? undefined : decodeToken(q.nextToken) });
        return { items: page.items, ...(page.after !== undefined ? { nextToken: encodeToken(page.after) } : {}) };
      },
    );
  }
}
