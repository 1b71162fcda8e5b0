// The IAM action each distribution route needs, and how Docker's token scopes ("pull", "push",
// "delete") translate to those actions.
import type { FastifyRequest } from 'fastify';
import type { ArnKind } from '../model/resource.ts';

export type DockerAction = 'pull' | 'push' | 'delete';

export interface OciRouteAction {
  readonly action: string;
  /** The token scope action that covers the route; 'catalog' is registry:catalog:*. */
  readonly scope: DockerAction | 'catalog';
}

/** By the id of each route in oci/router.ts; a route missing here is refused (and fails a test). */
export const ociActions: Readonly<Record<string, OciRouteAction>> = {
  'catalog.list': { action: 'ecr:DescribeRepositories', scope: 'catalog' },
  'upload.start': { action: 'ecr:InitiateLayerUpload', scope: 'push' },
  'upload.status': { action: 'ecr:UploadLayerPart', scope: 'push' },
  'upload.patch': { action: 'ecr:UploadLayerPart', scope: 'push' },
  'upload.finish': { action: 'ecr:CompleteLayerUpload', scope: 'push' },
  'upload.cancel': { action: 'ecr:UploadLayerPart', scope: 'push' },
  'blob.get': { action: 'ecr:GetDownloadUrlForLayer', scope: 'pull' },
  'blob.head': { action: 'ecr:BatchCheckLayerAvailability', scope: 'pull' },
  'blob.delete': { action: 'ecr:BatchDeleteImage', scope: 'delete' },
  'manifest.get': { action: 'ecr:BatchGetImage', scope: 'pull' },
  'manifest.head': { action: 'ecr:BatchGetImage', scope: 'pull' },
  'manifest.put': { action: 'ecr:PutImage', scope: 'push' },
  'manifest.delete': { action: 'ecr:BatchDeleteImage', scope: 'delete' },
  'tags.list': { action: 'ecr:ListImages', scope: 'pull' },
  'referrers.list': { action: 'ecr:ListImages', scope: 'pull' },
};

/** What a token scope action needs granted before the token endpoint puts it in a token. */
export const scopeActions: Readonly<Record<DockerAction, readonly string[]>> = {
  pull: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
  push: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'],
  delete: ['ecr:BatchDeleteImage'],
};

/** What a management route's caller must be allowed (all of it), and on what. */
export interface RouteAuth {
  /** The route's action, as documented. */
  readonly action: string;
  /** Every action the request needs; defaults to [action]. Updates may need one per field. */
  readonly actions?: (req: FastifyRequest) => readonly string[];
  /** What the ARN is built from (the same kinds a resource model declares). */
  readonly resource: ArnKind;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Authorization facts; a management route without them is refused. */
    auth?: RouteAuth;
  }
}

/** The actions an update needs: one per field present (by `fieldActions`), else the route's own. */
export function updateActions(action: string, fieldActions: Readonly<Record<string, string>> | undefined): (req: FastifyRequest) => readonly string[] {
  return (req) => {
    if (!fieldActions) return [action];
    const body = (req.body ?? {}) as Record<string, unknown>;
    const needed = new Set<string>();
    for (const key of Object.keys(body)) {
      const a = fieldActions[key];
      if (a) needed.add(a);
    }
    return needed.size > 0 ? [...needed] : [action];
  };
}
