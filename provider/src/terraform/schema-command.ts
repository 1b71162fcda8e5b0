// `terraform-provider-berth schema`: prints the document `terraform providers schema -json`
// prints for this provider, built from the provider's own GetProviderSchema answer (so every
// resource and data source the provider serves appears in it, and nothing else). It is what
// `npm run generate` feeds to @cdktf/provider-generator.
import { createLogger } from './plugin/log.ts';
import type { CallContext, GetProviderSchemaResponse, ProviderHandlers, Schema, SchemaAttribute, SchemaBlock, SchemaObject } from './plugin/types.ts';
import { berthProviderSource, providersSchemaDocument, stringifyProvidersSchema, type ProvidersSchemaJson } from './schema/providers-schema-json.ts';
import type { BlockNesting, ObjectNesting, TfAttribute, TfBlock, TfObject, TfSchema } from './schema/tfplugin-schema.ts';

const bytes = (b: Uint8Array | undefined): Buffer | undefined => (b === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function fromObject(o: SchemaObject): TfObject {
  if (o.nesting === 'INVALID') throw new Error('nested attribute with nesting INVALID');
  return { attributes: (o.attributes ?? []).map(fromAttribute), nesting: o.nesting as ObjectNesting };
}

function fromAttribute(a: SchemaAttribute): TfAttribute {
  const type = bytes(a.type);
  return {
    name: a.name,
    ...(type !== undefined && type.length > 0 ? { type } : {}),
    ...(a.nested_type ? { nested_type: fromObject(a.nested_type) } : {}),
    description: a.description ?? '',
    required: a.required ?? false,
    optional: a.optional ?? false,
    computed: a.computed ?? false,
    sensitive: a.sensitive ?? false,
    description_kind: a.description_kind ?? 'PLAIN',
    deprecated: a.deprecated ?? false,
  };
}

function fromBlock(b: SchemaBlock): TfBlock {
  return {
    version: b.version ?? 0,
    attributes: (b.attributes ?? []).map(fromAttribute),
    block_types: (b.block_types ?? []).map((t) => {
      if (t.nesting === 'INVALID') throw new Error(`block ${t.type_name} with nesting INVALID`);
      return { type_name: t.type_name, block: fromBlock(t.block), nesting: t.nesting as BlockNesting, min_items: t.min_items ?? 0, max_items: t.max_items ?? 0 };
    }),
    description: b.description ?? '',
    description_kind: b.description_kind ?? 'PLAIN',
    deprecated: b.deprecated ?? false,
  };
}

/** A GetProviderSchema schema (response form, defaults left out) as the full tfplugin6 message. */
export function tfSchemaFromResponse(s: Schema): TfSchema {
  return { version: s.version ?? 0, block: fromBlock(s.block) };
}

const schemaMap = (m: Readonly<Record<string, Schema>> | undefined): Record<string, TfSchema> =>
  Object.fromEntries(Object.entries(m ?? {}).map(([name, s]) => [name, tfSchemaFromResponse(s)]));

/** The `terraform providers schema -json` document for a GetProviderSchema answer. */
export function documentFromResponse(res: GetProviderSchemaResponse, source: string = berthProviderSource): ProvidersSchemaJson {
  const diagnostics = (res.diagnostics ?? []).filter((d) => d.severity === 'ERROR');
  if (diagnostics.length > 0) throw new Error(`GetProviderSchema failed: ${diagnostics.map((d) => d.summary + (d.detail ? `: ${d.detail}` : '')).join('; ')}`);
  if (!res.provider) throw new Error('GetProviderSchema returned no provider schema');
  return providersSchemaDocument({
    provider: tfSchemaFromResponse(res.provider),
    resources: schemaMap(res.resource_schemas),
    dataSources: schemaMap(res.data_source_schemas),
    source,
  });
}

/** The schema document of a provider, as text (what `terraform providers schema -json` prints, newline included). */
export async function providerSchemaText(provider: ProviderHandlers, source: string = berthProviderSource): Promise<string> {
  const res = await provider.getProviderSchema({}, schemaCommandContext());
  return `${stringifyProvidersSchema(documentFromResponse(res, source))}\n`;
}

function schemaCommandContext(): CallContext {
  return { rpc: 'GetProviderSchema', signal: new AbortController().signal, log: createLogger().with({ tf_rpc: 'GetProviderSchema' }) };
}
