// The tfplugin6 Schema message as plain data, with the proto's field names (snake_case) and enum
// value names, ready for a protobuf encoder (protobufjs accepts enum names as strings).

export type StringKind = 'PLAIN' | 'MARKDOWN';

/** Schema.Object.NestingMode */
export type ObjectNesting = 'SINGLE' | 'LIST' | 'SET' | 'MAP';

/** Schema.NestedBlock.NestingMode */
export type BlockNesting = 'SINGLE' | 'LIST' | 'SET' | 'MAP' | 'GROUP';

/** Numeric values of the proto enums, for encoders configured for numbers. */
export const stringKindNumbers: Readonly<Record<StringKind, number>> = { PLAIN: 0, MARKDOWN: 1 };
export const objectNestingNumbers: Readonly<Record<ObjectNesting, number>> = { SINGLE: 1, LIST: 2, SET: 3, MAP: 4 };
export const blockNestingNumbers: Readonly<Record<BlockNesting, number>> = { SINGLE: 1, LIST: 2, SET: 3, MAP: 4, GROUP: 5 };

/** Schema.Attribute */
export interface TfAttribute {
  readonly name: string;
  /**
   * cty type JSON as UTF-8 bytes. Absent for an attribute with nested_type (Terraform
   * json-decodes any non-nil type bytes and panics on invalid ones).
   */
  readonly type?: Buffer;
  readonly nested_type?: TfObject;
  readonly description: string;
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
  readonly sensitive: boolean;
  readonly description_kind: StringKind;
  readonly deprecated: boolean;
}

/** Schema.Object: the attributes of a nested attribute. */
export interface TfObject {
  readonly attributes: readonly TfAttribute[];
  readonly nesting: ObjectNesting;
}

/** Schema.NestedBlock */
export interface TfNestedBlock {
  readonly type_name: string;
  readonly block: TfBlock;
  readonly nesting: BlockNesting;
  readonly min_items: number;
  readonly max_items: number;
}

/** Schema.Block */
export interface TfBlock {
  readonly version: number;
  readonly attributes: readonly TfAttribute[];
  readonly block_types: readonly TfNestedBlock[];
  readonly description: string;
  readonly description_kind: StringKind;
  readonly deprecated: boolean;
}

/** Schema */
export interface TfSchema {
  readonly version: number;
  readonly block: TfBlock;
}
