// The `terraform providers schema -json` document (Terraform's internal/command/jsonprovider format).
import test from 'ava';
import { Type } from '@sinclair/typebox';
import { lifecyclePolicyModel, registryPolicyModel, repositoryCreationTemplateModel, repositoryModel, repositoryPolicyModel, type ResourceModel } from '@berth/registry-server/models';
import { dataSourceFromModel, resourceFromModel, schemaFromTypeBox } from '../../src/terraform/schema/from-model.ts';
import {
  attributeToJson,
  berthProviderSource,
  blockToJson,
  providersSchemaDocument,
  stringifyProvidersSchema,
  type AttributeJson,
  type BlockJson,
} from '../../src/terraform/schema/providers-schema-json.ts';
import type { TfAttribute, TfBlock, TfSchema } from '../../src/terraform/schema/tfplugin-schema.ts';
import { parseType, typeToJson } from '../../src/terraform/values/cty-type.ts';

const models: ResourceModel[] = [repositoryModel, repositoryCreationTemplateModel, repositoryPolicyModel, registryPolicyModel, lifecyclePolicyModel];

const plain = { description: '', required: false, optional: false, computed: false, sensitive: false, description_kind: 'PLAIN', deprecated: false } as const;

const emptyBlock: TfBlock = { version: 0, attributes: [], block_types: [], description: '', description_kind: 'PLAIN', deprecated: false };

test('an empty provider: only what Go does not omit', (t) => {
  const doc = providersSchemaDocument({ provider: { version: 0, block: emptyBlock } });
  t.is(stringifyProvidersSchema(doc), '{"format_version":"1.0","provider_schemas":{"registry.terraform.io/berth/berth":{"provider":{"version":0,"block":{"description_kind":"plain"}}}}}');
});

test('a hand-written schema renders exactly as jsonprovider writes it', (t) => {
  const block: TfBlock = {
    version: 3,
    description: 'A <thing> & more.',
    description_kind: 'MARKDOWN',
    deprecated: true,
    attributes: [
      { ...plain, name: 'z_last', type: Buffer.from('["map","string"]'), optional: true, computed: true, sensitive: true },
      { ...plain, name: 'a_first', type: Buffer.from('"string"'), required: true, description: 'First.' },
      {
        ...plain,
        name: 'nested',
        optional: true,
        nested_type: {
          nesting: 'LIST',
          attributes: [
            { ...plain, name: 'y', type: Buffer.from('"number"'), computed: true },
            { ...plain, name: 'x', type: Buffer.from('["object",{"b":"bool","a":"string"}]'), required: true, description_kind: 'MARKDOWN', deprecated: true },
          ],
        },
      },
    ],
    block_types: [
      { type_name: 'rule', nesting: 'SET', min_items: 1, max_items: 0, block: { ...emptyBlock, attributes: [{ ...plain, name: 'v', type: Buffer.from('"bool"'), optional: true }] } },
      { type_name: 'group', nesting: 'GROUP', min_items: 0, max_items: 0, block: emptyBlock },
    ],
  };
  const schema: TfSchema = { version: 3, block };
  const doc = providersSchemaDocument({ provider: { version: 0, block: emptyBlock }, resources: { berth_thing: schema }, dataSources: { berth_thing: schema }, source: 'example.com/x/y' });
  const blockJson =
    '{"attributes":{' +
    '"a_first":{"type":"string","description":"First.","description_kind":"plain","required":true},' +
    '"nested":{"nested_type":{"attributes":{' +
    '"x":{"type":["object",{"a":"string","b":"bool"}],"description_kind":"markdown","deprecated":true,"required":true},' +
    '"y":{"type":"number","description_kind":"plain","computed":true}' +
    '},"nesting_mode":"list"},"description_kind":"plain","optional":true},' +
    '"z_last":{"type":["map","string"],"description_kind":"plain","optional":true,"computed":true,"sensitive":true}' +
    '},"block_types":{' +
    '"group":{"nesting_mode":"group","block":{"description_kind":"plain"}},' +
    '"rule":{"nesting_mode":"set","block":{"attributes":{"v":{"type":"bool","description_kind":"plain","optional":true}},"description_kind":"plain"},"min_items":1}' +
    '},"description":"A \\u003cthing\\u003e \\u0026 more.","description_kind":"markdown","deprecated":true}';
  t.is(
    stringifyProvidersSchema(doc),
    '{"format_version":"1.0","provider_schemas":{"example.com/x/y":{' +
      '"provider":{"version":0,"block":{"description_kind":"plain"}},' +
      `"resource_schemas":{"berth_thing":{"version":3,"block":${blockJson}}},` +
      `"data_source_schemas":{"berth_thing":{"version":3,"block":${blockJson}}}}}}`,
  );
});

test('the document for Berth’s models', (t) => {
  const provider = schemaFromTypeBox(Type.Object({ endpoint: Type.String({ description: 'Registry URL.' }) }), { description: 'Berth.' });
  const resources = Object.fromEntries(models.map((m) => resourceFromModel(m)).map((p) => [p.typeName, p.schema]));
  const dataSources = Object.fromEntries(models.map((m) => dataSourceFromModel(m)).map((p) => [p.typeName, p.schema]));
  const doc = providersSchemaDocument({ provider: provider.schema, resources, dataSources });

  t.is(doc.format_version, '1.0');
  t.deepEqual(Object.keys(doc.provider_schemas ?? {}), [berthProviderSource]);
  const p = doc.provider_schemas?.[berthProviderSource];
  t.deepEqual(Object.keys(p ?? {}), ['provider', 'resource_schemas', 'data_source_schemas']);
  t.deepEqual(p?.provider, {
    version: 0,
    block: { attributes: { endpoint: { type: 'string', description: 'Registry URL.', description_kind: 'plain', required: true } }, description: 'Berth.', description_kind: 'plain' },
  });
  t.deepEqual(Object.keys(p?.resource_schemas ?? {}), [
    'berth_lifecycle_policy',
    'berth_registry_policy',
    'berth_repository',
    'berth_repository_creation_template',
    'berth_repository_policy',
  ]);
  t.deepEqual(Object.keys(p?.data_source_schemas ?? {}), Object.keys(p?.resource_schemas ?? {}));

  const repo = p?.resource_schemas?.berth_repository;
  t.is(repo?.version, 0);
  const attrs = repo?.block?.attributes ?? {};
  t.deepEqual(attrs.repository_name, {
    type: 'string',
    description: 'Repository name: lowercase components separated by "/", 2 to 256 characters (the OCI name grammar).',
    description_kind: 'plain',
    required: true,
  });
  t.deepEqual(attrs.tags?.type, ['map', 'string']);
  t.deepEqual(attrs.image_count, { type: 'number', description: 'Manifests stored in the repository.', description_kind: 'plain', computed: true });
  t.deepEqual(attrs.encryption_configuration, {
    nested_type: {
      attributes: {
        encryption_type: { type: 'string', description: 'AES256: a registry-managed key. KMS: the key named by kmsKey.', description_kind: 'plain', required: true },
        kms_key: { type: 'string', description: 'Key id, alias (alias/<name>) or ARN, with encryptionType KMS.', description_kind: 'plain', optional: true },
      },
      nesting_mode: 'single',
    },
    description: 'Encryption at rest; fixed when the repository is created.',
    description_kind: 'plain',
    optional: true,
    computed: true,
  });
  t.is(attrs.image_tag_mutability_exclusion_filters?.nested_type?.nesting_mode, 'list');
  t.deepEqual(attrs.id, { type: 'string', description: 'The import id: <repositoryName>.', description_kind: 'plain', computed: true });
  t.deepEqual(p?.resource_schemas?.berth_repository_creation_template?.block?.attributes?.applied_for?.type, ['set', 'string']);

  // Attribute keys are sorted (Go map order); the text is compact and parses back to the document.
  t.deepEqual(Object.keys(attrs), [...Object.keys(attrs)].sort());
  const text = stringifyProvidersSchema(doc);
  t.false(/\s"|":\s/.test(text));
  t.deepEqual(JSON.parse(text), doc);
  t.true(text.includes('alias/\\u003cname\\u003e'));
});

test('every attribute of every projection renders with its flags and type', (t) => {
  const check = (a: TfAttribute, j: AttributeJson | undefined, where: string): void => {
    if (!j) return void t.fail(where);
    t.is(j.required === true, a.required, where);
    t.is(j.optional === true, a.optional, where);
    t.is(j.computed === true, a.computed, where);
    t.is(j.sensitive === true, a.sensitive, where);
    t.is(j.description_kind, 'plain', where);
    if (a.type) t.deepEqual(j.type, typeToJson(parseType(a.type)), where);
    else t.is(j.type, undefined, where);
    for (const n of a.nested_type?.attributes ?? []) check(n, j.nested_type?.attributes?.[n.name], `${where}.${n.name}`);
  };
  for (const m of models) {
    for (const p of [resourceFromModel(m), dataSourceFromModel(m)]) {
      const b: BlockJson = blockToJson(p.schema.block);
      t.deepEqual(Object.keys(b.attributes ?? {}), p.schema.block.attributes.map((a) => a.name));
      for (const a of p.schema.block.attributes) check(a, b.attributes?.[a.name], `${p.typeName}.${a.name}`);
      t.is(attributeToJson(p.schema.block.attributes[0] as TfAttribute).description_kind, 'plain');
    }
  }
});
