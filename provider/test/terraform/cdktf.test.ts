// The CDKTF example (examples/cdktf) on the generated bindings (provider/cdktf/berth): synthesized
// in-process (no Terraform, no cdktf CLI), its cdk.tf.json declares the six resources with
// the expected attributes and references, and every resource block passes the real provider's
// ValidateResourceConfig (the provider launched as Terraform launches it).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { resourceModels, type ResourceModel } from '@berth/registry-server/models';
import { buildApp, ciPrincipalName, imagesAliasName, lifecycleRules, pullPolicy, pushPullPolicy, repositoryName, secureRepositoryName } from '../../../examples/cdktf/main.ts';
import { resourceFromModel } from '../../src/terraform/schema/from-model.ts';
import { encodeMsgpack, Unknown, type CtyType, type CtyValue } from '../../src/terraform/values/index.ts';
import { startProvider } from './harness.ts';

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
type Block = Record<string, Json>;
interface TfJson {
  provider: Record<string, Block[]>;
  resource: Record<string, Record<string, Block>>;
  variable: Record<string, Block>;
  output: Record<string, Block>;
  terraform: { required_providers: Record<string, { source: string }> };
}

function synth(): TfJson {
  const outdir = mkdtempSync(join(tmpdir(), 'berth-cdktf-'));
  try {
    buildApp(outdir).synth();
    return JSON.parse(readFileSync(join(outdir, 'stacks', 'berth', 'cdk.tf.json'), 'utf8')) as TfJson;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const synthesized = synth();

/** Meta-arguments and CDKTF's metadata: not part of the resource type's schema. */
const metaKeys = new Set(['//', 'count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);

/**
 * A block of Terraform JSON configuration as the value Terraform sends in ValidateResourceConfig:
 * attributes left out are null, and a template referring to something else is unknown.
 */
function configValue(j: Json | undefined, t: CtyType, path = ''): CtyValue {
  if (j === undefined || j === null) return null;
  if (typeof j === 'string' && j.includes('${')) return Unknown;
  switch (t.kind) {
    case 'string':
      if (typeof j !== 'string') throw new Error(`${path}: expected a string`);
      return j;
    case 'number':
      if (typeof j !== 'number') throw new Error(`${path}: expected a number`);
      return j;
    case 'bool':
      if (typeof j !== 'boolean') throw new Error(`${path}: expected a bool`);
      return j;
    case 'list':
    case 'set':
      if (!Array.isArray(j)) throw new Error(`${path}: expected an array`);
      return j.map((e, i) => configValue(e, t.element, `${path}[${i}]`));
    case 'map':
      if (typeof j !== 'object' || Array.isArray(j)) throw new Error(`${path}: expected an object`);
      return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, configValue(v, t.element, `${path}.${k}`)]));
    case 'object': {
      if (typeof j !== 'object' || Array.isArray(j)) throw new Error(`${path}: expected an object`);
      for (const k of Object.keys(j)) {
        if (!metaKeys.has(k) && !Object.hasOwn(t.attributes, k)) throw new Error(`${path}: unsupported argument ${k}`);
      }
      return Object.fromEntries(Object.entries(t.attributes).map(([k, at]) => [k, configValue(j[k], at, path ? `${path}.${k}` : k)]));
    }
    default:
      throw new Error(`${path}: type ${t.kind} is not handled by this test`);
  }
}

test('the app declares a repository, its repository policy and its lifecycle policy', (t) => {
  const tf = synthesized;
  t.deepEqual(tf.terraform.required_providers, { berth: { source: 'registry.terraform.io/berth/berth' } });
  // Credentials come from the environment, never from the configuration.
  t.deepEqual(tf.provider.berth, [{ endpoint: '${var.endpoint}' }]);
  t.like(tf.variable.endpoint, { type: 'string', default: 'http://127.0.0.1:5000' });
  t.deepEqual(Object.keys(tf.resource).sort(), [
    'berth_access_key',
    'berth_identity_policy',
    'berth_kms_alias',
    'berth_kms_key',
    'berth_lifecycle_policy',
    'berth_principal',
    'berth_repository',
    'berth_repository_policy',
  ]);

  const repo = tf.resource.berth_repository?.web;
  t.like(repo, {
    repository_name: repositoryName,
    image_tag_mutability: 'IMMUTABLE_WITH_EXCLUSION',
    image_tag_mutability_exclusion_filters: [{ filter: 'latest', filter_type: 'WILDCARD' }],
    tags: { team: 'platform' },
  });

  // The policies refer to the repository (so Terraform orders them after it).
  const policy = tf.resource.berth_repository_policy?.web_pull;
  t.is(policy?.repository_name, '${berth_repository.web.repository_name}');
  t.deepEqual(JSON.parse(policy?.policy_text as string), pullPolicy);
  const lifecycle = tf.resource.berth_lifecycle_policy?.web_lifecycle;
  t.is(lifecycle?.repository_name, '${berth_repository.web.repository_name}');
  t.deepEqual(JSON.parse(lifecycle?.lifecycle_policy_text as string), lifecycleRules);
  t.deepEqual(tf.output.repository_id, { value: '${berth_repository.web.id}' });
});

test('the app declares a KMS key, an alias for it, and a repository encrypted under the key through the alias', (t) => {
  const tf = synthesized;
  t.like(tf.resource.berth_kms_key?.images_key, { description: `encrypts ${secureRepositoryName}`, deletion_window_in_days: 7 });
  t.like(tf.resource.berth_kms_alias?.images_alias, { alias_name: imagesAliasName, target_key_id: '${berth_kms_key.images_key.key_id}' });
  t.like(tf.resource.berth_repository?.secure, {
    repository_name: secureRepositoryName,
    encryption_configuration: { encryption_type: 'KMS', kms_key: '${berth_kms_alias.images_alias.alias_name}' },
  });
  t.deepEqual(tf.output.images_key_arn, { value: '${berth_kms_key.images_key.arn}' });
});

test('the app declares a CI service account with a push/pull identity policy on the repository and an access key', (t) => {
  const tf = synthesized;
  t.like(tf.resource.berth_principal?.ci, { principal_name: ciPrincipalName, type: 'SERVICE_ACCOUNT' });
  const policy = tf.resource.berth_identity_policy?.ci_push_pull;
  t.is(policy?.principal_name, '${berth_principal.ci.principal_name}');
  t.deepEqual(JSON.parse(policy?.policy_text as string), pushPullPolicy('${berth_repository.web.repository_arn}'));
  t.like(tf.resource.berth_access_key?.ci_key, { principal_name: '${berth_principal.ci.principal_name}' });
  t.deepEqual(tf.output.ci_access_key_id, { value: '${berth_access_key.ci_key.access_key_id}' });
  t.deepEqual(tf.output.ci_secret_access_key, { value: '${berth_access_key.ci_key.secret_access_key}', sensitive: true });
});

test('every resource block of the synthesized app is valid for the provider', async (t) => {
  const projections = new Map((resourceModels as readonly ResourceModel[]).map((m) => resourceFromModel(m)).map((p) => [p.typeName, p]));
  const p = await startProvider();
  t.teardown(() => p.shutdown());

  let checked = 0;
  for (const [typeName, blocks] of Object.entries(synthesized.resource)) {
    const projection = projections.get(typeName);
    if (!projection) {
      t.fail(`the provider has no resource type ${typeName}`);
      continue;
    }
    for (const [name, block] of Object.entries(blocks)) {
      const config = encodeMsgpack(configValue(block, projection.type), projection.type);
      const res = await p.provider.validateResourceConfig({ type_name: typeName, config: { msgpack: config } });
      t.deepEqual(res.diagnostics ?? [], [], `${typeName}.${name}`);
      checked++;
    }
  }
  t.is(checked, 9);
});

test('the validation catches what the provider rejects (a broken lifecycle policy)', async (t) => {
  const projection = resourceFromModel((resourceModels as readonly ResourceModel[]).find((m) => resourceFromModel(m).typeName === 'berth_lifecycle_policy') as ResourceModel);
  const p = await startProvider();
  t.teardown(() => p.shutdown());
  const block = { ...synthesized.resource.berth_lifecycle_policy?.web_lifecycle, lifecycle_policy_text: JSON.stringify({ rules: [{ rulePriority: 1 }] }) };
  const res = await p.provider.validateResourceConfig({ type_name: projection.typeName, config: { msgpack: encodeMsgpack(configValue(block, projection.type), projection.type) } });
  t.true((res.diagnostics ?? []).some((d) => d.severity === 'ERROR'), JSON.stringify(res.diagnostics));
});
