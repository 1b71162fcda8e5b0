// Per-field facts the projections need beyond JSON Schema: Terraform's RequiresReplace and
// Sensitive, and Pulumi's replace rules. Stored in the schema under one extension keyword so that
// validators ignore it and OpenAPI carries it along.
import type { TSchema } from '@sinclair/typebox';

export const metaKeyword = 'x-berth';

export interface FieldMeta {
  /** Changing the value replaces the resource (it cannot be updated in place). */
  readonly forceNew?: boolean;
  /** Never logged, and marked sensitive in IaC state. */
  readonly sensitive?: boolean;
  /** An input the server fills in when it is omitted (Terraform: optional + computed). */
  readonly serverDefault?: boolean;
  /**
   * A JSON document the server stores in canonical form; IaC compares it by meaning, so the
   * way a user formats it never shows as a change.
   */
  readonly document?: 'iam-policy' | 'iam-identity-policy' | 'lifecycle-policy';
  /**
   * An output set when the resource is created that no update changes (its id, ARN, creation
   * time): a plan for an in-place update keeps its value, so what refers to it stays known.
   */
  readonly fixed?: boolean;
  /**
   * An input the server accepts but never returns (a password): reads leave it out, and IaC
   * keeps the value it last applied (an import cannot recover it).
   */
  readonly writeOnly?: boolean;
}

/** The meta of an output fixed at creation. */
export const fixed: FieldMeta = Object.freeze({ fixed: true });

export function fieldMeta(schema: TSchema): FieldMeta {
  return ((schema as Record<string, unknown>)[metaKeyword] as FieldMeta | undefined) ?? {};
}

/** Attaches field facts to a schema (returns the same schema, annotated). */
export function withMeta<T extends TSchema>(schema: T, meta: FieldMeta): T {
  return { ...schema, [metaKeyword]: meta };
}
