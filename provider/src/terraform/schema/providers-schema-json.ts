// The document `terraform providers schema -json` prints, built from tfplugin6 schemas, in the
// format of Terraform's internal/command/jsonprovider (format_version "1.0"):
//
// {"format_version":"1.0","provider_schemas":{"registry.terraform.io/berth/berth":{
//   "provider":{"version":0,"block":{...}},
//   "resource_schemas":{"berth_repository":{"version":0,"block":{...}}},
//   "data_source_schemas":{...}}}}
//
// block:     attributes{name: attribute}, block_types{name: block type}, description,
//            description_kind ("plain" | "markdown", always present), deprecated
// attribute: type (cty type JSON), nested_type {attributes, nesting_mode}, description,
//            description_kind (always present), deprecated, required, optional, computed,
//            sensitive, write_only
// block type: nesting_mode, block, min_items, max_items
//
// As in Go's encoding/json with omitempty, false booleans, empty strings, zero counts and empty
// maps are left out. stringifyProvidersSchema writes the text exactly as Terraform does
// (compact, keys of maps sorted, struct fields in declaration order, Go's string escaping).
import { compareGoStrings, goJsonStringify } from '../values/go-json.ts';
import { typeFromJson, typeToJson, type CtyTypeJson } from '../values/cty-type.ts';
import type { BlockNesting, ObjectNesting, StringKind, TfAttribute, TfBlock, TfNestedBlock, TfSchema } from './tfplugin-schema.ts';

export const providersSchemaFormatVersion = '1.0';

/** Berth's provider address in the registry. */
export const berthProviderSource = 'registry.terraform.io/berth/berth';

export type NestingModeJson = 'single' | 'group' | 'list' | 'set' | 'map';

export interface AttributeJson {
  readonly type?: CtyTypeJson;
  readonly nested_type?: NestedTypeJson;
  readonly description?: string;
  readonly description_kind: 'plain' | 'markdown';
  readonly deprecated?: true;
  readonly required?: true;
  readonly optional?: true;
  readonly computed?: true;
  readonly sensitive?: true;
}

export interface NestedTypeJson {
  readonly attributes?: Readonly<Record<string, AttributeJson>>;
  readonly nesting_mode?: NestingModeJson;
}

export interface BlockTypeJson {
  readonly nesting_mode?: NestingModeJson;
  readonly block?: BlockJson;
  readonly min_items?: number;
  readonly max_items?: number;
}

export interface BlockJson {
  readonly attributes?: Readonly<Record<string, AttributeJson>>;
  readonly block_types?: Readonly<Record<string, BlockTypeJson>>;
  readonly description?: string;
  readonly description_kind: 'plain' | 'markdown';
  readonly deprecated?: true;
}

export interface SchemaJson {
  readonly version: number;
  readonly block?: BlockJson;
}

export interface ProviderJson {
  readonly provider?: SchemaJson;
  readonly resource_schemas?: Readonly<Record<string, SchemaJson>>;
  readonly data_source_schemas?: Readonly<Record<string, SchemaJson>>;
}

export interface ProvidersSchemaJson {
  readonly format_version: string;
  readonly provider_schemas?: Readonly<Record<string, ProviderJson>>;
}

const stringKind = (k: StringKind): 'plain' | 'markdown' => (k === 'MARKDOWN' ? 'markdown' : 'plain');

const nestingMode = (n: ObjectNesting | BlockNesting): NestingModeJson => n.toLowerCase() as NestingModeJson;

/** A map with keys in Go's order, or undefined when empty (omitempty). */
function goMap<T, U>(entries: readonly T[], key: (e: T) => string, value: (e: T) => U): Record<string, U> | undefined {
  if (entries.length === 0) return undefined;
  const sorted = [...entries].sort((a, b) => compareGoStrings(key(a), key(b)));
  return Object.fromEntries(sorted.map((e) => [key(e), value(e)]));
}

/** Leaves out undefined properties (so the object's own keys are exactly what Go writes). */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function attributeToJson(a: TfAttribute): AttributeJson {
  return compact({
    type: a.type !== undefined && a.type.length > 0 ? typeToJson(typeFromJson(JSON.parse(a.type.toString('utf8')))) : undefined,
    nested_type: a.nested_type
      ? compact({ attributes: goMap(a.nested_type.attributes, (x) => x.name, attributeToJson), nesting_mode: nestingMode(a.nested_type.nesting) })
      : undefined,
    description: a.description || undefined,
    description_kind: stringKind(a.description_kind),
    deprecated: a.deprecated ? true : undefined,
    required: a.required ? true : undefined,
    optional: a.optional ? true : undefined,
    computed: a.computed ? true : undefined,
    sensitive: a.sensitive ? true : undefined,
  } as AttributeJson);
}

function blockTypeToJson(b: TfNestedBlock): BlockTypeJson {
  return compact({
    nesting_mode: nestingMode(b.nesting),
    block: blockToJson(b.block),
    min_items: b.min_items || undefined,
    max_items: b.max_items || undefined,
  } as BlockTypeJson);
}

export function blockToJson(b: TfBlock): BlockJson {
  return compact({
    attributes: goMap(b.attributes, (a) => a.name, attributeToJson),
    block_types: goMap(b.block_types, (t) => t.type_name, blockTypeToJson),
    description: b.description || undefined,
    description_kind: stringKind(b.description_kind),
    deprecated: b.deprecated ? true : undefined,
  } as BlockJson);
}

export function schemaToJson(s: TfSchema): SchemaJson {
  return { version: s.version, block: blockToJson(s.block) };
}

export interface ProviderSchemas {
  /** The provider configuration schema. */
  readonly provider: TfSchema;
  /** Resource type name -> schema. */
  readonly resources?: Readonly<Record<string, TfSchema>>;
  /** Data source type name -> schema. */
  readonly dataSources?: Readonly<Record<string, TfSchema>>;
  /** Provider address; default registry.terraform.io/berth/berth. */
  readonly source?: string;
}

function schemaMap(m: Readonly<Record<string, TfSchema>> | undefined): Record<string, SchemaJson> | undefined {
  const names = Object.keys(m ?? {}).sort(compareGoStrings);
  return names.length === 0 ? undefined : Object.fromEntries(names.map((n) => [n, schemaToJson((m as Record<string, TfSchema>)[n] as TfSchema)]));
}

/** The `terraform providers schema -json` document for one provider. */
export function providersSchemaDocument(p: ProviderSchemas): ProvidersSchemaJson {
  return {
    format_version: providersSchemaFormatVersion,
    provider_schemas: {
      [p.source ?? berthProviderSource]: compact({
        provider: schemaToJson(p.provider),
        resource_schemas: schemaMap(p.resources),
        data_source_schemas: schemaMap(p.dataSources),
      } as ProviderJson),
    },
  };
}

/** The document as `terraform providers schema -json` prints it (without the trailing newline). */
export function stringifyProvidersSchema(doc: ProvidersSchemaJson): string {
  return goJsonStringify(doc);
}
