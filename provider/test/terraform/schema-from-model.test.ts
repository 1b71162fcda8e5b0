// Terraform schemas projected from the real resource models, and the projection rules on
// synthetic models.
import test from 'ava';
import { Type } from '@sinclair/typebox';
import {
  accessKeyModel,
  identityPolicyModel,
  kmsAliasModel,
  kmsKeyModel,
  lifecyclePolicyModel,
  principalModel,
  registryPolicyModel,
  repositoryCreationTemplateModel,
  repositoryModel,
  repositoryPolicyModel,
  replicationConfigurationModel,
  replicationRuleModel,
  resourceModels,
  type ResourceModel,
} from '@berth/registry-server/models';
import { withMeta } from '../../../registry-server/src/model/meta.ts';
import {
  addressOf,
  dataSourceFromModel,
  forceNewPaths,
  fromModelValue,
  idFieldsOf,
  importIdOf,
  parseImportId,
  resourceFromModel,
  schemaFromTypeBox,
  SchemaProjectionError,
  toModelValue,
  type Field,
  type Projection,
} from '../../src/terraform/schema/from-model.ts';
import { containsWriteOnly, isFixedOutput, isPendingDeletion, keepWriteOnly, pendingDeletionOutputs } from '../../src/model-facts.ts';
import { writeOnlyNote } from '../../src/terraform/schema/fields.ts';
import { fromTerraformName, toTerraformName } from '../../src/terraform/schema/names.ts';
import type { TfAttribute } from '../../src/terraform/schema/tfplugin-schema.ts';
import { validateBlock } from '../../src/terraform/schema/validate.ts';
import { cty, parseType, typeEquals, typeJsonString } from '../../src/terraform/values/cty-type.ts';
import { decodeMsgpack, encodeMsgpack } from '../../src/terraform/values/msgpack.ts';
import { Unknown, unknown } from '../../src/terraform/values/value.ts';

const models: ResourceModel[] = [
  repositoryModel,
  repositoryCreationTemplateModel,
  repositoryPolicyModel,
  registryPolicyModel,
  lifecyclePolicyModel,
  principalModel,
  accessKeyModel,
  identityPolicyModel,
  kmsKeyModel,
  kmsAliasModel,
  replicationConfigurationModel,
  replicationRuleModel,
];

test('every model in resourceModels is covered here', (t) => {
  t.deepEqual([...(resourceModels as readonly ResourceModel[])].map((m) => m.name).sort(), models.map((m) => m.name).sort());
});

/** Attribute flags in a compact form: R required, O optional, C computed, S sensitive, F forceNew. */
function flags(f: Field): string {
  return (f.required ? 'R' : '') + (f.optional ? 'O' : '') + (f.computed ? 'C' : '') + (f.sensitive ? 'S' : '') + (f.forceNew ? 'F' : '');
}

function attr(p: Projection, name: string): TfAttribute {
  const a = p.schema.block.attributes.find((x) => x.name === name);
  if (!a) throw new Error(`no attribute ${name}`);
  return a;
}

// [model, attribute, flags, type JSON (or nesting mode for nested attributes), enum]
const expectations: [ResourceModel, string, string, string, (readonly string[])?][] = [
  [repositoryModel, 'repository_name', 'RF', '"string"'],
  [repositoryModel, 'image_tag_mutability', 'OC', '"string"', ['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION']],
  [repositoryModel, 'image_tag_mutability_exclusion_filters', 'O', 'LIST'],
  [repositoryModel, 'image_scanning_configuration', 'OC', 'SINGLE'],
  [repositoryModel, 'encryption_configuration', 'OCF', 'SINGLE'],
  [repositoryModel, 'tags', 'O', '["map","string"]'],
  [repositoryModel, 'repository_id', 'C', '"string"'],
  [repositoryModel, 'registry_id', 'C', '"string"'],
  [repositoryModel, 'repository_arn', 'C', '"string"'],
  [repositoryModel, 'repository_uri', 'C', '"string"'],
  [repositoryModel, 'created_at', 'C', '"string"'],
  [repositoryModel, 'image_count', 'C', '"number"'],
  [repositoryModel, 'size_in_bytes', 'C', '"number"'],
  [repositoryModel, 'version', 'C', '"number"'],
  [repositoryModel, 'id', 'C', '"string"'],
  [repositoryCreationTemplateModel, 'prefix', 'RF', '"string"'],
  [repositoryCreationTemplateModel, 'description', 'O', '"string"'],
  [repositoryCreationTemplateModel, 'applied_for', 'R', '["set","string"]'],
  [repositoryCreationTemplateModel, 'image_tag_mutability', 'OC', '"string"'],
  [repositoryCreationTemplateModel, 'image_tag_mutability_exclusion_filters', 'O', 'LIST'],
  [repositoryCreationTemplateModel, 'image_scanning_configuration', 'OC', 'SINGLE'],
  [repositoryCreationTemplateModel, 'encryption_configuration', 'OC', 'SINGLE'],
  [repositoryCreationTemplateModel, 'resource_tags', 'OC', '["map","string"]'],
  [repositoryCreationTemplateModel, 'repository_policy', 'O', '"string"'],
  [repositoryCreationTemplateModel, 'lifecycle_policy', 'O', '"string"'],
  [repositoryCreationTemplateModel, 'created_at', 'C', '"string"'],
  [repositoryCreationTemplateModel, 'updated_at', 'C', '"string"'],
  [repositoryCreationTemplateModel, 'version', 'C', '"number"'],
  [repositoryCreationTemplateModel, 'id', 'C', '"string"'],
  [repositoryPolicyModel, 'repository_name', 'RF', '"string"'],
  [repositoryPolicyModel, 'policy_text', 'R', '"string"'],
  [repositoryPolicyModel, 'registry_id', 'C', '"string"'],
  [repositoryPolicyModel, 'version', 'C', '"number"'],
  [repositoryPolicyModel, 'id', 'C', '"string"'],
  [registryPolicyModel, 'policy_text', 'R', '"string"'],
  [registryPolicyModel, 'registry_id', 'C', '"string"'],
  [registryPolicyModel, 'version', 'C', '"number"'],
  [registryPolicyModel, 'id', 'C', '"string"'],
  [lifecyclePolicyModel, 'repository_name', 'RF', '"string"'],
  [lifecyclePolicyModel, 'lifecycle_policy_text', 'R', '"string"'],
  [lifecyclePolicyModel, 'registry_id', 'C', '"string"'],
  [lifecyclePolicyModel, 'last_evaluated_at', 'C', '"string"'],
  [lifecyclePolicyModel, 'version', 'C', '"number"'],
  [lifecyclePolicyModel, 'id', 'C', '"string"'],
  [principalModel, 'principal_name', 'RF', '"string"'],
  [principalModel, 'type', 'OCF', '"string"', ['USER', 'SERVICE_ACCOUNT']],
  [principalModel, 'description', 'O', '"string"'],
  [principalModel, 'tags', 'O', '["map","string"]'],
  [principalModel, 'principal_id', 'C', '"string"'],
  [principalModel, 'arn', 'C', '"string"'],
  [principalModel, 'id', 'C', '"string"'],
  [accessKeyModel, 'principal_name', 'RF', '"string"'],
  [accessKeyModel, 'status', 'OC', '"string"', ['Active', 'Inactive']],
  [accessKeyModel, 'description', 'O', '"string"'],
  [accessKeyModel, 'access_key_id', 'C', '"string"'],
  [accessKeyModel, 'secret_access_key', 'CS', '"string"'],
  [accessKeyModel, 'rotated_at', 'C', '"string"'],
  [accessKeyModel, 'last_used_at', 'C', '"string"'],
  [accessKeyModel, 'id', 'C', '"string"'],
  [identityPolicyModel, 'principal_name', 'RF', '"string"'],
  [identityPolicyModel, 'policy_name', 'RF', '"string"'],
  [identityPolicyModel, 'policy_text', 'R', '"string"'],
  [identityPolicyModel, 'id', 'C', '"string"'],
  [kmsKeyModel, 'description', 'O', '"string"'],
  [kmsKeyModel, 'key_usage', 'OCF', '"string"', ['ENCRYPT_DECRYPT']],
  [kmsKeyModel, 'key_spec', 'OCF', '"string"', ['SYMMETRIC_DEFAULT']],
  [kmsKeyModel, 'enabled', 'OC', '"bool"'],
  [kmsKeyModel, 'enable_key_rotation', 'OC', '"bool"'],
  [kmsKeyModel, 'rotation_period_in_days', 'OC', '"number"'],
  [kmsKeyModel, 'deletion_window_in_days', 'OC', '"number"'],
  [kmsKeyModel, 'tags', 'O', '["map","string"]'],
  [kmsKeyModel, 'key_id', 'C', '"string"'],
  [kmsKeyModel, 'arn', 'C', '"string"'],
  [kmsKeyModel, 'key_state', 'C', '"string"', ['Enabled', 'Disabled', 'PendingDeletion']],
  [kmsKeyModel, 'key_manager', 'C', '"string"', ['CUSTOMER', 'BERTH']],
  [kmsKeyModel, 'created_at', 'C', '"string"'],
  [kmsKeyModel, 'deletion_date', 'C', '"string"'],
  [kmsKeyModel, 'next_rotation_date', 'C', '"string"'],
  [kmsKeyModel, 'current_key_version', 'C', '"number"'],
  [kmsKeyModel, 'version', 'C', '"number"'],
  [kmsKeyModel, 'id', 'C', '"string"'],
  [kmsAliasModel, 'alias_name', 'RF', '"string"'],
  [kmsAliasModel, 'target_key_id', 'R', '"string"'],
  [kmsAliasModel, 'arn', 'C', '"string"'],
  [kmsAliasModel, 'target_key_arn', 'C', '"string"'],
  [kmsAliasModel, 'version', 'C', '"number"'],
  [kmsAliasModel, 'id', 'C', '"string"'],
];

for (const [model, name, expectedFlags, typeOrNesting, enumValues] of expectations) {
  test(`berth_${model.name}.${name}: ${expectedFlags} ${typeOrNesting}`, (t) => {
    const p = resourceFromModel(model);
    const f = p.byName.get(name);
    if (!f) return t.fail(`no field ${name}`);
    t.is(flags(f), expectedFlags);
    const a = attr(p, name);
    t.is(a.required, f.required);
    t.is(a.optional, f.optional);
    t.is(a.computed, f.computed);
    t.is(a.sensitive, f.sensitive);
    t.is(a.description_kind, 'PLAIN');
    t.false(a.deprecated);
    if (typeOrNesting.startsWith('"') || typeOrNesting.startsWith('[')) {
      t.is(a.type?.toString('utf8'), typeOrNesting);
      t.is(a.nested_type, undefined);
    } else {
      t.is(a.nested_type?.nesting as string | undefined, typeOrNesting);
      t.is(a.type, undefined);
    }
    if (enumValues) t.deepEqual(f.shape.kind === 'string' ? f.shape.enum : undefined, enumValues);
    // The description is the model's.
    if (f.role !== 'id') t.is(a.description, (f.schema as { description?: string }).description ?? '');
  });
}

test('every model field is projected, and nothing else but id', (t) => {
  for (const model of models) {
    const p = resourceFromModel(model);
    const modelFields = [...Object.keys(model.inputs.properties), ...Object.keys(model.outputs.properties)];
    t.deepEqual(
      p.schema.block.attributes.map((a) => a.name),
      [...new Set([...modelFields.map(toTerraformName), 'id'])].sort(),
      model.name,
    );
    t.is(p.typeName, `berth_${model.name}`);
    t.is(p.schema.version, 0);
    t.is(p.schema.block.description, model.description);
    t.deepEqual(p.schema.block.block_types, []);
  }
});

test('the projections are schemas Terraform accepts (InternalValidate rules)', (t) => {
  for (const model of models) {
    t.deepEqual(validateBlock(resourceFromModel(model).schema.block), [], `resource ${model.name}`);
    t.deepEqual(validateBlock(dataSourceFromModel(model).schema.block), [], `data source ${model.name}`);
  }
});

test('berth_repository: nested attributes', (t) => {
  const p = resourceFromModel(repositoryModel);
  const nested = (name: string): Record<string, string> =>
    Object.fromEntries(
      (attr(p, name).nested_type?.attributes ?? []).map((a) => [a.name, `${a.required ? 'R' : ''}${a.optional ? 'O' : ''}${a.computed ? 'C' : ''} ${a.type?.toString() ?? 'nested'}`]),
    );
  t.deepEqual(nested('image_tag_mutability_exclusion_filters'), { filter: 'R "string"', filter_type: 'R "string"' });
  t.deepEqual(nested('image_scanning_configuration'), { scan_on_push: 'R "bool"' });
  t.deepEqual(nested('encryption_configuration'), { encryption_type: 'R "string"', kms_key: 'O "string"' });
  const enc = p.byName.get('encryption_configuration');
  t.true(enc?.shape.kind === 'object' && enc.shape.fields[0]?.shape.kind === 'string' && enc.shape.fields[0].shape.enum?.join() === 'AES256,KMS');
  const filters = p.byName.get('image_tag_mutability_exclusion_filters');
  t.true(filters?.shape.kind === 'list' && filters.shape.element.kind === 'object' && filters.shape.element.fields.find((f) => f.name === 'filter_type')?.shape.kind === 'string');
});

test('berth_repository: the resource cty type', (t) => {
  const p = resourceFromModel(repositoryModel);
  t.is(
    typeJsonString(p.type),
    '["object",{"created_at":"string","encryption_configuration":["object",{"encryption_type":"string","kms_key":"string"}],"id":"string",' +
      '"image_count":"number","image_scanning_configuration":["object",{"scan_on_push":"bool"}],"image_tag_mutability":"string",' +
      '"image_tag_mutability_exclusion_filters":["list",["object",{"filter":"string","filter_type":"string"}]],"registry_id":"string",' +
      '"repository_arn":"string","repository_id":"string","repository_name":"string","repository_uri":"string","size_in_bytes":"number",' +
      '"tags":["map","string"],"version":"number"}]',
  );
});

test('the cty type agrees with the attributes of every projection', (t) => {
  const nestedType = (a: TfAttribute): ReturnType<typeof parseType> => {
    if (a.type) return parseType(a.type);
    const n = a.nested_type;
    if (!n) throw new Error('attribute without type');
    const obj = cty.object(Object.fromEntries(n.attributes.map((x) => [x.name, nestedType(x)])));
    return n.nesting === 'SINGLE' ? obj : n.nesting === 'LIST' ? cty.list(obj) : n.nesting === 'SET' ? cty.set(obj) : cty.map(obj);
  };
  for (const model of models) {
    for (const p of [resourceFromModel(model), dataSourceFromModel(model)]) {
      const fromAttributes = cty.object(Object.fromEntries(p.schema.block.attributes.map((a) => [a.name, nestedType(a)])));
      t.true(typeEquals(fromAttributes, p.type), model.name);
    }
  }
});

test('a planned berth_repository state survives msgpack with the projected type', (t) => {
  const p = resourceFromModel(repositoryModel);
  const planned = {
    created_at: Unknown,
    encryption_configuration: Unknown,
    id: Unknown,
    image_count: Unknown,
    image_scanning_configuration: { scan_on_push: true },
    image_tag_mutability: 'IMMUTABLE_WITH_EXCLUSION',
    image_tag_mutability_exclusion_filters: [{ filter: 'dev-*', filter_type: 'WILDCARD' }],
    registry_id: Unknown,
    repository_arn: unknown({ notNull: true, stringPrefix: 'arn:berth:ecr:' }),
    repository_id: Unknown,
    repository_name: 'team/app',
    repository_uri: Unknown,
    size_in_bytes: Unknown,
    tags: null,
    version: Unknown,
  };
  t.deepEqual(decodeMsgpack(encodeMsgpack(planned, p.type), p.type), planned);
});

test('data sources: the identity is required, everything else computed (nested too)', (t) => {
  const p = dataSourceFromModel(repositoryModel);
  t.is(p.typeName, 'berth_repository');
  for (const a of p.schema.block.attributes) {
    if (a.name === 'repository_name') t.true(a.required && !a.optional && !a.computed);
    else t.true(a.computed && !a.optional && !a.required, a.name);
    for (const n of a.nested_type?.attributes ?? []) t.true(n.computed && !n.optional && !n.required, `${a.name}.${n.name}`);
  }
  const singleton = dataSourceFromModel(registryPolicyModel);
  t.true(singleton.schema.block.attributes.every((a) => a.computed && !a.required));
});

test('names: camelCase <-> snake_case', (t) => {
  const pairs: [string, string][] = [
    ['repositoryName', 'repository_name'],
    ['imageTagMutabilityExclusionFilters', 'image_tag_mutability_exclusion_filters'],
    ['kmsKey', 'kms_key'],
    ['scanOnPush', 'scan_on_push'],
    ['tags', 'tags'],
    ['s3Bucket', 's3_bucket'],
    ['v2Config', 'v2_config'],
    ['repositoryURI', 'repository_u_r_i'],
  ];
  for (const [camel, snake] of pairs) {
    t.is(toTerraformName(camel), snake);
    t.is(fromTerraformName(snake), camel);
  }
  for (const bad of ['RepositoryName', 'repository_name', 'repo-name', '1abc', '']) t.throws(() => toTerraformName(bad), undefined, bad);
  for (const bad of ['Repository', 'a__b', '_a', 'a_', 'a_1']) t.throws(() => fromTerraformName(bad), undefined, bad);
});

test('names: every field of every model maps back to itself', (t) => {
  const walk = (fields: readonly Field[]): number => {
    let n = 0;
    for (const f of fields) {
      if (f.role !== 'id') {
        t.is(fromTerraformName(f.name), f.modelName);
        t.is(toTerraformName(f.modelName), f.name);
        n++;
      }
      const s = f.shape.kind === 'list' || f.shape.kind === 'set' || f.shape.kind === 'map' ? f.shape.element : f.shape;
      if (s.kind === 'object') n += walk(s.fields);
    }
    return n;
  };
  let count = 0;
  for (const model of models) count += walk(resourceFromModel(model).fields);
  t.true(count > 40);
});

test('import ids', (t) => {
  t.deepEqual(idFieldsOf(repositoryModel), ['repositoryName']);
  t.is(importIdOf(repositoryModel, { repositoryName: 'team/app', registryId: 'r' }), 'team/app');
  t.deepEqual(parseImportId(repositoryModel, 'team/app'), { repositoryName: 'team/app' });
  t.deepEqual(idFieldsOf(repositoryCreationTemplateModel), ['prefix']);
  t.is(importIdOf(repositoryCreationTemplateModel, { prefix: 'ROOT' }), 'ROOT');
  // A singleton has no identity: its import id is the field its importId template names.
  t.deepEqual(idFieldsOf(registryPolicyModel), ['registryId']);
  t.is(importIdOf(registryPolicyModel, { registryId: '123456789012', policyText: '{}' }), '123456789012');
  t.is(resourceFromModel(registryPolicyModel).byName.get('id')?.description, 'The import id: <registryId>.');
  t.throws(() => importIdOf(repositoryModel, {}), { instanceOf: SchemaProjectionError });
  t.throws(() => parseImportId(repositoryModel, ''), { instanceOf: SchemaProjectionError });
  const twoPart = { ...repositoryModel, identity: ['repositoryName', 'tagName'], importId: '<repositoryName>,<tagName>' } as unknown as ResourceModel;
  t.is(importIdOf(twoPart, { repositoryName: 'a/b', tagName: 'v1' }), 'a/b,v1');
  t.deepEqual(parseImportId(twoPart, 'a/b,v1'), { repositoryName: 'a/b', tagName: 'v1' });
  t.throws(() => parseImportId(twoPart, 'a/b'));
});

test('an assigned id (an access key): the import id and the address of the resource, computed', (t) => {
  const p = resourceFromModel(accessKeyModel);
  t.deepEqual(idFieldsOf(accessKeyModel), ['accessKeyId']);
  t.is(p.assigned?.name, 'access_key_id');
  t.like(p.byName.get('id'), { computed: true, required: false, optional: false });
  t.like(p.byName.get('access_key_id'), { role: 'output', computed: true, required: false });
  t.is(p.byName.get('id')?.description, 'The access_key_id the registry assigned on create; the import id.');
  const json = { principalName: 'ci', status: 'Active', accessKeyId: 'BKIAAAAAAAAAAAAAAAAA', createdAt: '2025-01-01T00:00:00Z', version: 1 };
  const state = fromModelValue(p, json);
  t.is(state.id, 'BKIAAAAAAAAAAAAAAAAA');
  t.is(state.secret_access_key, null);
  t.deepEqual(addressOf(p, state), { accessKeyId: 'BKIAAAAAAAAAAAAAAAAA' });
  t.deepEqual(addressOf(p, { ...state, access_key_id: null }), { accessKeyId: 'BKIAAAAAAAAAAAAAAAAA' }, 'from id when the attribute is absent');
  t.deepEqual(parseImportId(accessKeyModel, 'BKIAAAAAAAAAAAAAAAAA'), { accessKeyId: 'BKIAAAAAAAAAAAAAAAAA' });
  // Without an assigned id, the address is the identity.
  const policy = resourceFromModel(identityPolicyModel);
  t.is(policy.assigned, undefined);
  t.deepEqual(addressOf(policy, { principal_name: 'ci', policy_name: 'pull', policy_text: '{}', id: 'ci,pull', registry_id: null, version: null }), { principalName: 'ci', policyName: 'pull' });
  t.deepEqual(parseImportId(identityPolicyModel, 'ci,pull'), { principalName: 'ci', policyName: 'pull' });
  // An assigned id must be an output that fills the path, on a model without an input identity.
  const bad = (patch: Partial<ResourceModel>) => () => resourceFromModel({ ...accessKeyModel, ...patch } as unknown as ResourceModel);
  t.throws(bad({ assignedId: 'principalName' }), { instanceOf: SchemaProjectionError, message: /must not be an input/ });
  t.throws(bad({ assignedId: 'createdAt' }), { instanceOf: SchemaProjectionError, message: /does not appear in the path/ });
  t.throws(bad({ identity: ['principalName'] }), { instanceOf: SchemaProjectionError, message: /no input identity/ });
  t.throws(bad({ assignedId: 'nothing', path: '/access-keys/{nothing}' }), { instanceOf: SchemaProjectionError, message: /is not an output/ });
});

test('KMS: a key is addressed by the id the registry assigns, an alias by its name', (t) => {
  const key = resourceFromModel(kmsKeyModel);
  t.deepEqual(idFieldsOf(kmsKeyModel), ['keyId']);
  t.is(key.assigned?.name, 'key_id');
  t.is(key.byName.get('id')?.description, 'The key_id the registry assigned on create; the import id.');
  const keyId = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const state = fromModelValue(key, { keyId, arn: `arn:berth:kms:local:000000000000:key/${keyId}`, keyState: 'Enabled', keyManager: 'CUSTOMER', createdAt: '2025-01-01T00:00:00Z', currentKeyVersion: 1, version: 1 });
  t.is(state.id, keyId);
  t.deepEqual(addressOf(key, state), { keyId });
  t.deepEqual(parseImportId(kmsKeyModel, keyId), { keyId });
  const alias = resourceFromModel(kmsAliasModel);
  t.is(alias.assigned, undefined);
  t.deepEqual(parseImportId(kmsAliasModel, 'alias/team/images'), { aliasName: 'alias/team/images' }, 'an alias name with slashes is one id');
  t.is(importIdOf(kmsAliasModel, { aliasName: 'alias/team/images', targetKeyId: keyId }), 'alias/team/images');
  t.deepEqual(forceNewPaths(key.fields), [['key_spec'], ['key_usage']]);
  t.deepEqual(forceNewPaths(alias.fields), [['alias_name']]);
});

test('model facts: pending deletion, and the outputs the models mark fixed at creation (plans keep them)', (t) => {
  t.deepEqual(pendingDeletionOutputs(kmsKeyModel), ['keyState']);
  for (const m of models.filter((x) => x !== kmsKeyModel)) t.deepEqual(pendingDeletionOutputs(m), [], m.name);
  t.true(isPendingDeletion(kmsKeyModel, { keyState: 'PendingDeletion' }));
  t.false(isPendingDeletion(kmsKeyModel, { keyState: 'Disabled' }));
  const fixed = (m: ResourceModel) => Object.keys(m.outputs.properties).filter((k) => isFixedOutput(m, k));
  t.deepEqual(fixed(repositoryModel), ['repositoryId', 'registryId', 'repositoryArn', 'repositoryUri', 'createdAt']);
  t.deepEqual(fixed(kmsKeyModel), ['keyId', 'arn', 'createdAt']);
  t.deepEqual(fixed(kmsAliasModel), ['arn'], 'targetKeyArn follows targetKeyId');
  t.deepEqual(fixed(principalModel), ['principalId', 'arn', 'registryId', 'createdAt']);
  t.deepEqual(fixed(accessKeyModel), ['accessKeyId', 'createdAt']);
  t.deepEqual(fixed(repositoryCreationTemplateModel), ['createdAt']);
  for (const m of [repositoryPolicyModel, registryPolicyModel, lifecyclePolicyModel, identityPolicyModel]) t.deepEqual(fixed(m), ['registryId'], m.name);
});

/** A nested attribute's flags (R O C S) and its type or nesting. */
function nestedAttributes(a: TfAttribute | undefined): Record<string, string> {
  return Object.fromEntries(
    (a?.nested_type?.attributes ?? []).map((x) => [
      x.name,
      `${x.required ? 'R' : ''}${x.optional ? 'O' : ''}${x.computed ? 'C' : ''}${x.sensitive ? 'S' : ''} ${x.type?.toString() ?? x.nested_type?.nesting}`,
    ]),
  );
}

test('replication: rules hold destinations and filters as nested lists; the password is sensitive and documented as write-only', (t) => {
  const config = resourceFromModel(replicationConfigurationModel);
  t.is(config.typeName, 'berth_replication_configuration');
  t.deepEqual(idFieldsOf(replicationConfigurationModel), ['registryId']);
  const rules = attr(config, 'rules');
  t.deepEqual(nestedAttributes(rules), { destinations: 'R LIST', name: 'OC "string"', repository_filters: 'OC LIST' }, 'a rule name and its filters are filled in by the server');
  const destinations = rules.nested_type?.attributes.find((a) => a.name === 'destinations');
  const expected = { endpoint: 'R "string"', password: 'OS "string"', region: 'O "string"', registry_id: 'O "string"', username: 'O "string"' };
  t.deepEqual(nestedAttributes(destinations), expected);
  const filters = rules.nested_type?.attributes.find((a) => a.name === 'repository_filters');
  t.deepEqual(nestedAttributes(filters), { filter: 'R "string"', filter_type: 'R "string"' });

  const rule = resourceFromModel(replicationRuleModel);
  t.is(rule.typeName, 'berth_replication_rule');
  t.deepEqual(nestedAttributes(attr(rule, 'destinations')), expected);
  t.deepEqual(forceNewPaths(rule.fields), [['name']]);
  t.deepEqual(parseImportId(replicationRuleModel, 'team-a'), { name: 'team-a' });

  // The schema tells users that the password is never read back, and what that means for import.
  const password = attr(rule, 'destinations').nested_type?.attributes.find((a) => a.name === 'password');
  t.true(password?.description.endsWith(writeOnlyNote));
  t.true(password?.description.startsWith('Password or secret for username'));
  const field = rule.byName.get('destinations');
  const passwordField = field?.shape.kind === 'list' && field.shape.element.kind === 'object' ? field.shape.element.fields.find((f) => f.name === 'password') : undefined;
  t.like(passwordField, { writeOnly: true, sensitive: true, computed: false });
  // No other field of any model is write-only.
  const writeOnly = (models as readonly ResourceModel[]).filter((m) => containsWriteOnly(m.inputs) || containsWriteOnly(m.outputs)).map((m) => m.name);
  t.deepEqual(writeOnly, ['replication_configuration', 'replication_rule']);
});

test('keepWriteOnly: write-only values the answer lacks come from the reference, list elements matched by their identifying field, else by position', (t) => {
  const schema = replicationConfigurationModel.inputs;
  const reference = {
    rules: [
      { name: 'a', destinations: [{ endpoint: 'https://one', username: 'u1', password: 'p1' }, { endpoint: 'https://two', username: 'u2', password: 'p2' }] },
      { destinations: [{ endpoint: 'https://three', username: 'u3', password: 'p3' }] },
    ],
  };
  // The server answers every field but passwords; here it also lists a's destinations the other
  // way round and has a destination the reference lacks.
  const answer = {
    rules: [
      { name: 'a', destinations: [{ endpoint: 'https://two', username: 'u2' }, { endpoint: 'https://one', username: 'u1' }, { endpoint: 'https://new' }], repositoryFilters: [] },
      { name: 'rule-2', destinations: [{ endpoint: 'https://three', username: 'u3' }], repositoryFilters: [] },
    ],
    registryId: '000000000000',
    version: 3,
  };
  t.deepEqual(keepWriteOnly(schema, answer, reference), {
    rules: [
      { name: 'a', destinations: [{ endpoint: 'https://two', username: 'u2', password: 'p2' }, { endpoint: 'https://one', username: 'u1', password: 'p1' }, { endpoint: 'https://new' }], repositoryFilters: [] },
      { name: 'rule-2', destinations: [{ endpoint: 'https://three', username: 'u3', password: 'p3' }], repositoryFilters: [] },
    ],
    registryId: '000000000000',
    version: 3,
  });
  // A value the server does return wins; no reference (an import) leaves the answer as it is.
  const returned = { rules: [{ destinations: [{ endpoint: 'https://one', password: 'from-server' }] }] };
  t.deepEqual(keepWriteOnly(schema, returned, reference), returned);
  t.is(keepWriteOnly(schema, answer, undefined), answer);
  t.deepEqual(keepWriteOnly(schema, answer, {}), answer);
  // Models without write-only fields are untouched.
  const repo = { repositoryName: 'x', tags: { a: 'b' } };
  t.is(keepWriteOnly(repositoryModel.inputs, repo, { repositoryName: 'x', tags: { a: 'c' } }) as unknown, repo as unknown);
});

test('forceNew paths', (t) => {
  t.deepEqual(forceNewPaths(resourceFromModel(repositoryModel).fields), [['encryption_configuration'], ['repository_name']]);
  t.deepEqual(forceNewPaths(resourceFromModel(repositoryCreationTemplateModel).fields), [['prefix']]);
  t.deepEqual(forceNewPaths(resourceFromModel(registryPolicyModel).fields), []);
});

test('values: model JSON <-> Terraform object', (t) => {
  const p = resourceFromModel(repositoryModel);
  const representation = {
    repositoryName: 'team/app',
    imageTagMutability: 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: 'AES256' },
    imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }],
    tags: { env: 'prod' },
    repositoryId: 'b7d1',
    registryId: '123456789012',
    repositoryArn: 'arn:berth:ecr:local:123456789012:repository/team/app',
    repositoryUri: 'localhost:5000/team/app',
    createdAt: '2025-01-01T00:00:00.000Z',
    imageCount: 0,
    sizeInBytes: 0,
    version: 1,
  };
  const tf = fromModelValue(p, representation);
  t.deepEqual(tf, {
    created_at: '2025-01-01T00:00:00.000Z',
    encryption_configuration: { encryption_type: 'AES256', kms_key: null },
    id: 'team/app',
    image_count: 0,
    image_scanning_configuration: { scan_on_push: false },
    image_tag_mutability: 'MUTABLE',
    image_tag_mutability_exclusion_filters: [{ filter: 'dev-*', filter_type: 'WILDCARD' }],
    registry_id: '123456789012',
    repository_arn: 'arn:berth:ecr:local:123456789012:repository/team/app',
    repository_id: 'b7d1',
    repository_name: 'team/app',
    repository_uri: 'localhost:5000/team/app',
    size_in_bytes: 0,
    tags: { env: 'prod' },
    version: 1,
  });
  // The value has the projection's type.
  t.deepEqual(decodeMsgpack(encodeMsgpack(tf, p.type), p.type), tf);
  t.deepEqual(toModelValue(p.fields, tf), representation);
  // Inputs only (what a create request sends); nulls are left out; map keys are kept as they are.
  const config = { ...Object.fromEntries(Object.keys(tf).map((k) => [k, null])), repository_name: 'x', tags: { 'Team Name': 'a' } };
  t.deepEqual(toModelValue(p.fields, config, { roles: ['identity', 'input'] }), { repositoryName: 'x', tags: { 'Team Name': 'a' } });
  // Unknowns: an error unless kept or left out.
  const planned = { ...config, image_tag_mutability: Unknown };
  t.throws(() => toModelValue(p.fields, planned), { message: /image_tag_mutability: value is unknown/ });
  t.deepEqual(toModelValue(p.fields, planned, { unknown: 'omit' }), { repositoryName: 'x', tags: { 'Team Name': 'a' } });
  t.is(toModelValue(p.fields, planned, { unknown: 'keep' }).imageTagMutability, Unknown);
});

// A synthetic model exercising every mapping rule.
const syntheticInputs = Type.Object(
  {
    name: withMeta(Type.String({ description: 'Name.' }), { forceNew: true }),
    secret: Type.Optional(withMeta(Type.String(), { sensitive: true })),
    maxCount: Type.Optional(Type.Integer({ minimum: 0 })),
    ratio: Type.Number(),
    enabled: Type.Optional(withMeta(Type.Boolean(), { serverDefault: true })),
    level: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)])),
    mode: Type.Optional(Type.Union([Type.Literal('a'), Type.Null()])),
    matrix: Type.Optional(Type.Array(Type.Array(Type.String()))),
    members: Type.Optional(Type.Array(Type.Object({ user: Type.String(), admin: Type.Optional(Type.Boolean()) }), { uniqueItems: true })),
    rules: Type.Optional(Type.Record(Type.String(), Type.Object({ priority: Type.Integer(), token: withMeta(Type.String(), { sensitive: true }) }))),
    deep: Type.Optional(Type.Array(Type.Array(Type.Object({ key: withMeta(Type.String(), { sensitive: true }) })))),
    anything: Type.Optional(Type.Any()),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const syntheticOutputs = Type.Object({ note: Type.String(), stats: Type.Object({ hits: Type.Integer(), lastHit: Type.Optional(Type.String()) }) });
const syntheticModel = {
  name: 'widget',
  title: 'Widget',
  description: 'A test widget.',
  path: '/widgets/{name}',
  collectionPath: '/widgets',
  identity: ['name'],
  importId: '<name>',
  inputs: syntheticInputs,
  outputs: syntheticOutputs,
  operations: ['create', 'read', 'update', 'delete'],
  arnKind: 'registry',
  actions: { create: 'test:CreateWidget', read: 'test:GetWidget', update: 'test:UpdateWidget', delete: 'test:DeleteWidget' },
  errors: [],
} as const satisfies ResourceModel<typeof syntheticInputs, typeof syntheticOutputs>;

test('synthetic model: every mapping rule', (t) => {
  const p = resourceFromModel(syntheticModel);
  const type = (name: string): string | undefined => attr(p, name).type?.toString();
  const f = (name: string): Field => p.byName.get(name) as Field;
  t.is(flags(f('name')), 'RF');
  t.is(flags(f('secret')), 'OS');
  t.true(attr(p, 'secret').sensitive);
  t.is(type('max_count'), '"number"');
  t.deepEqual(f('max_count').shape, { kind: 'number', integer: true });
  t.is(flags(f('ratio')), 'R');
  t.is(flags(f('enabled')), 'OC');
  t.is(type('enabled'), '"bool"');
  t.deepEqual(f('level').shape, { kind: 'number', integer: true, enum: [1, 2, 3] });
  t.deepEqual(f('mode').shape, { kind: 'string', enum: ['a'] });
  t.is(type('matrix'), '["list",["list","string"]]');
  // A set of objects is a SET nested attribute.
  t.is(attr(p, 'members').nested_type?.nesting, 'SET');
  t.deepEqual(attr(p, 'members').nested_type?.attributes.map((a) => [a.name, a.required, a.optional]), [
    ['admin', false, true],
    ['user', true, false],
  ]);
  // A record of objects is a MAP nested attribute; sensitivity stays on the nested attribute.
  t.is(attr(p, 'rules').nested_type?.nesting, 'MAP');
  t.deepEqual(attr(p, 'rules').nested_type?.attributes.map((a) => [a.name, a.sensitive]), [
    ['priority', false],
    ['token', true],
  ]);
  t.false(attr(p, 'rules').sensitive);
  // Objects nested deeper than nested_type allows become a plain type, sensitive as a whole.
  t.is(type('deep'), '["list",["list",["object",{"key":"string"}]]]');
  t.true(attr(p, 'deep').sensitive);
  t.is(type('anything'), '"dynamic"');
  // An output that is also an input: optional + computed.
  t.is(flags(f('note')), 'OC');
  // A computed nested object: its attributes are computed.
  t.is(flags(f('stats')), 'C');
  t.deepEqual(attr(p, 'stats').nested_type?.attributes.map((a) => [a.name, a.computed, a.optional, a.required]), [
    ['hits', true, false, false],
    ['last_hit', true, false, false],
  ]);
  t.deepEqual(forceNewPaths(p.fields), [['name']]);
  t.deepEqual(validateBlock(p.schema.block), []);
  t.is(
    typeJsonString(p.type),
    '["object",{"anything":"dynamic","deep":["list",["list",["object",{"key":"string"}]]],"enabled":"bool","id":"string","level":"number",' +
      '"matrix":["list",["list","string"]],"max_count":"number","members":["set",["object",{"admin":"bool","user":"string"}]],"mode":"string",' +
      '"name":"string","note":"string","ratio":"number","rules":["map",["object",{"priority":"number","token":"string"}]],"secret":"string",' +
      '"stats":["object",{"hits":"number","last_hit":"string"}]}]',
  );
});

const broken: [string, Partial<ResourceModel>, RegExp][] = [
  ['a reserved name', { inputs: Type.Object({ name: Type.String(), count: Type.Integer() }) }, /count is a Terraform meta-argument/],
  ['a name that is not camelCase', { inputs: Type.Object({ name: Type.String(), Bad_Name: Type.String() }) }, /not camelCase/],
  ['a union of different types', { inputs: Type.Object({ name: Type.String(), x: Type.Union([Type.String(), Type.Number()]) }) }, /unions of different types/],
  ['a tuple', { inputs: Type.Object({ name: Type.String(), x: Type.Tuple([Type.String(), Type.Number()]) }) }, /tuples are not supported/],
  ['an identity that is not an input', { identity: ['nope'] }, /identity field nope is not an input/],
  ['a required input that is also an output', { outputs: Type.Object({ ratio: Type.Number(), stats: Type.Object({ hits: Type.Integer() }) }) }, /required input cannot also be an output/],
];

for (const [title, change, message] of broken) {
  test(`synthetic model refused: ${title}`, (t) => {
    const model = { ...syntheticModel, ...change } as ResourceModel;
    t.throws(() => resourceFromModel(model), { instanceOf: SchemaProjectionError, message });
  });
}

test('schemaFromTypeBox: the provider configuration', (t) => {
  const config = Type.Object({
    endpoint: Type.String({ description: 'Registry URL.' }),
    token: Type.Optional(withMeta(Type.String({ description: 'API token.' }), { sensitive: true })),
    insecureSkipVerify: Type.Optional(Type.Boolean()),
  });
  const p = schemaFromTypeBox(config, { description: 'Berth provider.' });
  t.deepEqual(
    p.schema.block.attributes.map((a) => [a.name, a.required, a.optional, a.computed, a.sensitive, a.type?.toString()]),
    [
      ['endpoint', true, false, false, false, '"string"'],
      ['insecure_skip_verify', false, true, false, false, '"bool"'],
      ['token', false, true, false, true, '"string"'],
    ],
  );
  t.is(p.schema.block.description, 'Berth provider.');
  t.is(typeJsonString(p.type), '["object",{"endpoint":"string","insecure_skip_verify":"bool","token":"string"}]');
});
