import type { Static, TObject } from '@sinclair/typebox';
import type { ResourceModel } from '../model/resource.ts';

export type Identity = Readonly<Record<string, string>>;

export interface Page<T> {
  readonly items: T[];
  /** Where the next page starts; absent on the last page. */
  readonly after?: string;
}

/** A resource's full representation: inputs (with server defaults filled in) and outputs. */
export type Representation<M extends ResourceModel> = Static<M['inputs']> & Static<M['outputs']>;

/**
 * The behaviour behind one resource model; the plumbing (routes, validation, serialization,
 * versions, pagination, errors) is shared. `expectedVersion` comes from If-Match.
 */
export interface ResourceHandler<M extends ResourceModel> {
  create?(input: Static<M['inputs']>): Promise<Representation<M>>;
  read(id: Identity): Promise<Representation<M>>;
  /** Applies the fields present in `patch`; a singleton's put creates or replaces it. */
  update?(id: Identity, patch: Partial<Static<M['inputs']>>, expectedVersion: number | undefined): Promise<Representation<M>>;
  delete?(id: Identity, options: Static<NonNullable<M['deleteOptions']>> | Record<string, never>, expectedVersion: number | undefined): Promise<void>;
  list?(query: { prefix: string; limit: number; after: string | undefined }): Promise<Page<Representation<M>>>;
}

export type AnyObject = TObject;
