import type { FastifyReply, FastifyRequest } from 'fastify';
import { defaultRepositorySettings, type MetadataStore, type Repository } from '../meta/metadata-store.ts';
import { RegistryError } from '../errors.ts';
import { documentKinds } from '../api/document-kinds.ts';
import { findTemplate, type AppliedTemplate } from '../api/templates.ts';
import type { PullRecorder } from '../registry/pull-recorder.ts';
import type { UploadService } from '../registry/uploads.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { BlobVault } from '../registry/blob-vault.ts';
import type { Guard } from '../auth/guard.ts';

export interface OciLimits {
  readonly maxManifestBytes: number;
  /** Largest page of tags, repositories or referrers served at once; also the default page. */
  readonly maxPageSize: number;
  /** Above 0, blob GETs redirect to a presigned URL valid this long (stores that can presign). */
  readonly redirectSeconds: number;
}

/** What the distribution routes need; built once per server. */
export interface OciContext {
  readonly meta: MetadataStore;
  readonly store: BlobStore;
  /** The store seen through encryption at rest: encrypted blobs are read only through it. */
  readonly vault: BlobVault;
  readonly uploads: UploadService;
  readonly pulls: PullRecorder;
  readonly limits: OciLimits;
  readonly guard: Guard;
  readonly replication: PushReplication;
}

/** What a push needs of replication: where it goes, and a nudge for the replicator. */
export interface PushReplication {
  destinationsFor(repository: string): Promise<string[]>;
  pushed(): void;
}

/**
 * Requests a source registry's replicator sends carry this header (its registry id). Honoured
 * only for callers allowed ecr:ReplicateImage: their pushes are not replicated onward (no
 * chaining) and a repository they create takes a REPLICATION creation template.
 */
export const replicationHeader = 'x-berth-replication';

export async function isReplication(ctx: OciContext, req: FastifyRequest, name: string): Promise<boolean> {
  if (req.headers[replicationHeader] === undefined) return false;
  return ctx.guard.allows(req, 'ecr:ReplicateImage', name, 'push');
}

/** Path parts captured by the router. */
export interface RouteMatch {
  readonly name: string;
  readonly reference: string;
}

export type OciHandler = (req: FastifyRequest, reply: FastifyReply, match: RouteMatch, ctx: OciContext) => Promise<unknown>;

export async function requireRepository(ctx: OciContext, name: string): Promise<Repository> {
  const repo = await ctx.meta.getRepository(name);
  if (!repo) throw new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } });
  return repo;
}

/**
 * The repository a push writes to. A missing one is created when a repository creation template
 * with CREATE_ON_PUSH matches its name (the embedded default ships a ROOT one); otherwise the
 * push is NAME_UNKNOWN. A replication push (see isReplication) uses a REPLICATION template, and
 * without one creates the repository with default settings, as ECR does. The pusher must be
 * allowed ecr:CreateRepository on the new name.
 */
export async function repositoryForPush(ctx: OciContext, req: FastifyRequest, name: string): Promise<Repository> {
  const existing = await ctx.meta.getRepository(name);
  if (existing) return existing;
  const replication = await isReplication(ctx, req, name);
  const found = await findTemplate(ctx.meta, name, replication ? 'REPLICATION' : 'CREATE_ON_PUSH');
  const template: AppliedTemplate | undefined = found ?? (replication ? { prefix: name, settings: defaultRepositorySettings, repositoryPolicy: undefined, lifecyclePolicy: undefined } : undefined);
  if (!template) {
    throw new RegistryError('NAME_UNKNOWN', `repository ${name} does not exist, and no repository creation template creates it on push`, { detail: { name } });
  }
  // Creating on push is creating a repository: the pusher needs that permission too, as in ECR.
  if (!(await ctx.guard.allows(req, 'ecr:CreateRepository', name, 'push'))) {
    throw new RegistryError('DENIED', `repository ${name} does not exist and creating it on push needs ecr:CreateRepository`, { detail: { name, action: 'ecr:CreateRepository' } });
  }
  const created = await ctx.meta.createRepository(name, template.settings);
  // Another push may have created it a moment ago; theirs stands.
  if (!created) return (await ctx.meta.getRepository(name)) ?? (await ctx.meta.ensureRepository(name, template.settings));
  if (template.repositoryPolicy !== undefined) {
    await ctx.meta.putDocument(documentKinds.repositoryPolicy, name, template.repositoryPolicy, { mode: 'upsert', repositoryId: created.id });
  }
  if (template.lifecyclePolicy !== undefined) {
    await ctx.meta.putDocument(documentKinds.lifecyclePolicy, name, template.lifecyclePolicy, { mode: 'upsert', repositoryId: created.id });
  }
  return created;
}

export function queryString(req: FastifyRequest, key: string): string | undefined {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  if (Array.isArray(v)) {
    if (v.length > 1) throw new RegistryError('UNSUPPORTED', `query parameter ${key} given more than once`, { status: 400, detail: { parameter: key } });
    return v[0];
  }
  return v;
}

export function queryStrings(req: FastifyRequest, key: string): string[] {
  const v = (req.query as Record<string, string | string[] | undefined>)[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** True when the request carries a body (a length above zero, or chunked transfer encoding). */
export function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}
