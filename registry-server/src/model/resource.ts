// The shape of a resource description. Each managed resource is described once, as data; the
// management routes, OpenAPI, the typed client, the Terraform schema and the Pulumi types are
// all projections of these descriptions.
import type { TObject } from '@sinclair/typebox';
import type { ApiErrorCode } from '../errors.ts';

export type Operation = 'create' | 'read' | 'update' | 'delete' | 'list';

/**
 * What the ARN a request is authorized against names: the repository, principal, template or
 * KMS key in the path (or, on create, the body), an access key's principal, or the registry.
 */
export type ArnKind = 'repository' | 'principal' | 'template' | 'accessKey' | 'kmsKey' | 'registry';

export interface ResourceModel<I extends TObject = TObject, O extends TObject = TObject> {
  /** snake_case name, used by the IaC projections (berth_<name>). */
  readonly name: string;
  /** Human title. */
  readonly title: string;
  readonly description: string;
  /**
   * Item path under /api/v1 with {placeholders} for the identity fields, e.g.
   * /repositories/{repositoryName}. A singleton has no collection.
   */
  readonly path: string;
  /** Collection path for create and list; absent for singletons (which are put in place). */
  readonly collectionPath?: string;
  /** Input fields that identify one resource (their values fill the path placeholders). */
  readonly identity: readonly string[];
  /**
   * An output the server assigns on create that identifies the resource from then on (an
   * access key's id); it fills the item path's placeholder. Such a model has no input identity.
   */
  readonly assignedId?: string;
  /** How an import id is written, e.g. "<repositoryName>". */
  readonly importId: string;
  /** User inputs. Field facts (forceNew, sensitive, serverDefault) live in each field's meta. */
  readonly inputs: I;
  /** Values the server computes. */
  readonly outputs: O;
  readonly operations: readonly Operation[];
  /** What its operations are authorized against (see ArnKind). */
  readonly arnKind: ArnKind;
  /** The IAM action each operation needs (ECR's and IAM's names where they have one). */
  readonly actions: Readonly<Partial<Record<Operation, string>>>;
  /** Actions an update needs per field it changes (e.g. tags: ecr:TagResource); else actions.update. */
  readonly fieldActions?: Readonly<Record<string, string>>;
  /** Error codes the operations may answer besides InvalidParameter and PreconditionFailed. */
  readonly errors: readonly ApiErrorCode[];
  /** Query parameters accepted by delete (e.g. force). */
  readonly deleteOptions?: TObject;
}
