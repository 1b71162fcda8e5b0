// The provider's data sources through the plugin transport, as Terraform calls them:
// ValidateDataResourceConfig and ReadDataSource with msgpack configs, against a real registry.
import test from 'ava';
import { BerthClient } from '@berth/registry-server/client';
import { canonicalLifecycleText, canonicalPolicyText } from '@berth/registry-server/documents';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { testAdmin } from '../../../test/support/auth.ts';
import { makeImage, pushImage } from '../../../test/support/oci.ts';
import { dataSources } from '../../src/terraform/data-sources/index.ts';
import { providerConfig } from '../../src/terraform/provider/config.ts';
import { schemaFromTypeBox, validateBlock, type Projection } from '../../src/terraform/schema/index.ts';
import { decodeMsgpack, encodeMsgpack, isUnknown, Unknown, type CtyObjectValue, type CtyValue } from '../../src/terraform/values/index.ts';
import type { Diagnostic } from '../../src/terraform/plugin/types.ts';
import { startProvider, type RunningProvider } from './harness.ts';

let reg: RunningRegistry;
let provider: RunningProvider;
let api: BerthClient;
const pushed: { byTag: Map<string, string>; untagged: string; manifest: string } = { byTag: new Map(), untagged: '', manifest: '' };

function projection(typeName: string): Projection {
  const d = dataSources.get(typeName);
  if (!d) throw new Error(`no data source ${typeName}`);
  return d.projection;
}

/** A full config object (every attribute, null when not given). */
function configOf(p: Projection, values: Record<string, CtyValue>): Record<string, CtyValue> {
  return { ...Object.fromEntries(p.fields.map((f) => [f.name, null])), ...values };
}

async function read(typeName: string, values: Record<string, CtyValue>): Promise<{ state: CtyObjectValue | null; diagnostics: Diagnostic[] }> {
  const p = projection(typeName);
  const res = await provider.provider.readDataSource({ type_name: typeName, config: { msgpack: encodeMsgpack(configOf(p, values), p.type) } });
  const bytes = res.state?.msgpack;
  return { state: bytes && bytes.length > 0 ? (decodeMsgpack(bytes, p.type) as CtyObjectValue) : null, diagnostics: (res.diagnostics ?? []) as Diagnostic[] };
}

async function validate(typeName: string, values: Record<string, CtyValue>): Promise<Diagnostic[]> {
  const p = projection(typeName);
  const res = await provider.provider.validateDataResourceConfig({ type_name: typeName, config: { msgpack: encodeMsgpack(configOf(p, values), p.type) } });
  return (res.diagnostics ?? []) as Diagnostic[];
}

const pathOf = (d: Diagnostic | undefined) => (d?.attribute?.steps ?? []).map((s) => ('attribute_name' in s && s.attribute_name ? s.attribute_name : 'element_key_int' in s ? Number(s.element_key_int) : '?'));

test.before(async () => {
  reg = await startRegistry();
  api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  await api.repositories.create({ repositoryName: 'ds/app', tags: { team: 'platform' } });
  await api.repositories.create({ repositoryName: 'ds/many' });
  const image = makeImage({ layers: 1, layerSize: 64 });
  pushed.manifest = Buffer.from(image.manifest).toString('utf8');
  pushed.byTag.set('v1', await pushImage(reg.url, 'ds/app', 'v1', image));
  // 103 tagged images and one untagged: more than one page (100) of the list operation.
  for (let i = 0; i < 103; i++) pushed.byTag.set(`t${i}`, await pushImage(reg.url, 'ds/many', `t${i}`, makeImage({ layers: 1, layerSize: 16 })));
  const loose = makeImage({ layers: 1, layerSize: 16 });
  pushed.untagged = await pushImage(reg.url, 'ds/many', loose.digest, loose);
  provider = await startProvider();
  const cp = schemaFromTypeBox(providerConfig);
  const configured = await provider.provider.configureProvider({ config: { msgpack: encodeMsgpack(configOf(cp, { endpoint: reg.url, access_key_id: testAdmin.accessKeyId, secret_access_key: testAdmin.secretAccessKey }), cp.type) } });
  if ((configured.diagnostics ?? []).length > 0) throw new Error(JSON.stringify(configured.diagnostics));
});

test.after.always(async () => {
  await provider?.shutdown();
  await reg?.close();
});

test('GetMetadata and GetProviderSchema list the data sources with valid schemas', async (t) => {
  const names = ['berth_authorization_token', 'berth_image', 'berth_images', 'berth_lifecycle_policy_document', 'berth_policy_document', 'berth_repository'];
  const meta = await provider.provider.getMetadata();
  t.deepEqual(meta.data_sources?.map((d) => d.type_name).sort(), names);
  const schema = await provider.provider.getProviderSchema();
  t.deepEqual(Object.keys(schema.data_source_schemas ?? {}).sort(), names);
  for (const name of names) {
    const block = schema.data_source_schemas?.[name]?.block;
    t.truthy(block, name);
    t.deepEqual(validateBlock(projection(name).schema.block), [], name);
  }
  const attr = (ds: string, a: string) => schema.data_source_schemas?.[ds]?.block.attributes?.find((x) => x.name === a);
  t.like(attr('berth_repository', 'repository_name'), { required: true, computed: false });
  t.like(attr('berth_repository', 'image_tag_mutability'), { required: false, optional: false, computed: true });
  t.like(attr('berth_image', 'image_digest'), { optional: true, computed: true });
  t.like(attr('berth_image', 'image_tag'), { optional: true, computed: false });
  t.like(attr('berth_image', 'image_manifest'), { computed: true, optional: false });
  t.like(attr('berth_images', 'images'), { computed: true, nested_type: { nesting: 'LIST' } });
  t.like(attr('berth_policy_document', 'statement'), { optional: true, nested_type: { nesting: 'LIST' } });
  t.like(attr('berth_policy_document', 'json'), { computed: true, optional: false });
  t.like(attr('berth_lifecycle_policy_document', 'rules'), { required: true, nested_type: { nesting: 'LIST' } });
});

test('berth_authorization_token reads a login token acting as the provider\'s principal; the secrets are sensitive', async (t) => {
  const schema = await provider.provider.getProviderSchema();
  const attr = (a: string) => schema.data_source_schemas?.berth_authorization_token?.block.attributes?.find((x) => x.name === a);
  t.like(attr('password'), { computed: true, sensitive: true });
  t.like(attr('authorization_token'), { computed: true, sensitive: true });
  t.like(attr('user_name'), { computed: true, sensitive: false });
  t.like(attr('expires_at'), { computed: true });
  const { state, diagnostics } = await read('berth_authorization_token', {});
  t.deepEqual(diagnostics, []);
  t.is(state?.user_name, 'BERTH');
  t.is(typeof state?.password, 'string');
  t.is(state?.authorization_token, Buffer.from(`BERTH:${String(state?.password)}`).toString('base64'));
  t.true(Date.parse(String(state?.expires_at)) > Date.now());
  t.is(typeof state?.proxy_endpoint, 'string');
  // The password signs in to the distribution API as the provider's principal.
  const res = await fetch(`${reg.url}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`BERTH:${String(state?.password)}`).toString('base64')}` } });
  t.is(res.status, 200);
});

test('berth_repository reads every attribute of a repository by name', async (t) => {
  const { state, diagnostics } = await read('berth_repository', { repository_name: 'ds/app' });
  t.deepEqual(diagnostics, []);
  const repo = await api.repositories.read({ repositoryName: 'ds/app' });
  t.like(state, {
    repository_name: 'ds/app',
    id: 'ds/app',
    image_tag_mutability: repo.imageTagMutability,
    repository_arn: repo.repositoryArn,
    repository_uri: repo.repositoryUri,
    tags: { team: 'platform' },
    image_count: 1,
  });
  t.is((state?.image_scanning_configuration as CtyObjectValue | null)?.scan_on_push, repo.imageScanningConfiguration?.scanOnPush);
});

test('berth_repository: a missing repository and an invalid name are errors on repository_name', async (t) => {
  const missing = await read('berth_repository', { repository_name: 'ds/missing' });
  t.is(missing.state, null);
  t.is(missing.diagnostics.length, 1);
  t.is(missing.diagnostics[0]?.severity, 'ERROR');
  t.regex(missing.diagnostics[0]?.summary ?? '', /not found/);
  t.deepEqual(pathOf(missing.diagnostics[0]), ['repository_name']);
  const invalid = await validate('berth_repository', { repository_name: 'Not Valid' });
  t.is(invalid.length, 1);
  t.deepEqual(pathOf(invalid[0]), ['repository_name']);
  t.deepEqual(await validate('berth_repository', { repository_name: Unknown }), [], 'unknown at validation: nothing to say yet');
});

test('berth_image by tag and by digest: the detail fields and the manifest', async (t) => {
  const digest = pushed.byTag.get('v1') as string;
  const byTag = await read('berth_image', { repository_name: 'ds/app', image_tag: 'v1' });
  t.deepEqual(byTag.diagnostics, []);
  const s = byTag.state as CtyObjectValue;
  t.is(s.image_digest, digest);
  t.deepEqual(s.image_tags, ['v1']);
  t.is(s.image_tag, 'v1');
  t.is(s.image_manifest, pushed.manifest);
  t.is(s.image_manifest_media_type, 'application/vnd.oci.image.manifest.v1+json');
  t.true(typeof s.image_size_in_bytes === 'number' && s.image_size_in_bytes > 64);
  t.regex(String(s.image_pushed_at), /^\d{4}-\d\d-\d\dT/);
  t.is(s.artifact_media_type, 'application/vnd.oci.image.config.v1+json');
  t.true(s.last_recorded_pull_time === null || typeof s.last_recorded_pull_time === 'string');
  const byDigest = await read('berth_image', { repository_name: 'ds/app', image_digest: digest });
  t.deepEqual(byDigest.diagnostics, []);
  t.like(byDigest.state, { image_digest: digest, image_tag: null, image_manifest: pushed.manifest, image_size_in_bytes: s.image_size_in_bytes });
  const both = await read('berth_image', { repository_name: 'ds/app', image_digest: digest, image_tag: 'v1' });
  t.deepEqual(both.diagnostics, []);
});

test('berth_image: errors carry the attribute at fault', async (t) => {
  const noTag = await read('berth_image', { repository_name: 'ds/app', image_tag: 'nope' });
  t.is(noTag.state, null);
  t.regex(noTag.diagnostics[0]?.summary ?? '', /ImageNotFound/);
  t.deepEqual(pathOf(noTag.diagnostics[0]), ['image_tag']);
  const noDigest = await read('berth_image', { repository_name: 'ds/app', image_digest: `sha256:${'0'.repeat(64)}` });
  t.deepEqual(pathOf(noDigest.diagnostics[0]), ['image_digest']);
  const mismatch = await read('berth_image', { repository_name: 'ds/many', image_digest: pushed.byTag.get('t0') as string, image_tag: 't1' });
  t.is(mismatch.diagnostics.length, 1);
  t.deepEqual(pathOf(mismatch.diagnostics[0]), ['image_tag']);
  const noRepo = await read('berth_image', { repository_name: 'ds/none', image_tag: 'v1' });
  t.deepEqual(pathOf(noRepo.diagnostics[0]), ['repository_name']);
  const neither = await validate('berth_image', { repository_name: 'ds/app' });
  t.is(neither.length, 1);
  t.deepEqual(pathOf(neither[0]), ['image_digest']);
  const badDigest = await validate('berth_image', { repository_name: 'ds/app', image_digest: 'not-a-digest' });
  t.deepEqual(pathOf(badDigest[0]), ['image_digest']);
  t.deepEqual(await validate('berth_image', { repository_name: 'ds/app', image_tag: Unknown }), []);
});

test('berth_images follows every page and filters by tag_status', async (t) => {
  const all = await read('berth_images', { repository_name: 'ds/many' });
  t.deepEqual(all.diagnostics, []);
  const images = (all.state?.images ?? []) as CtyObjectValue[];
  t.is(images.length, 104);
  t.is(new Set(images.map((i) => i.image_digest)).size, 104);
  t.deepEqual(images.map((i) => String(i.image_digest)).sort(), [...[...pushed.byTag].filter(([k]) => k !== 'v1').map(([, d]) => d), pushed.untagged].sort());
  const first = images.find((i) => i.image_digest === pushed.byTag.get('t5'));
  t.deepEqual(first?.image_tags, ['t5']);
  t.true(typeof first?.image_size_in_bytes === 'number');
  t.regex(String(first?.image_pushed_at), /^\d{4}-/);
  t.is(all.state?.tag_status, null);
  const untagged = await read('berth_images', { repository_name: 'ds/many', tag_status: 'UNTAGGED' });
  t.deepEqual(((untagged.state?.images ?? []) as CtyObjectValue[]).map((i) => i.image_digest), [pushed.untagged]);
  const tagged = await read('berth_images', { repository_name: 'ds/many', tag_status: 'TAGGED' });
  t.is((tagged.state?.images as CtyValue[]).length, 103);
  const empty = await read('berth_images', { repository_name: 'ds/app', tag_status: 'UNTAGGED' });
  t.deepEqual(empty.state?.images, []);
});

test('berth_images: a missing repository and a bad tag_status are errors on their attribute', async (t) => {
  const missing = await read('berth_images', { repository_name: 'ds/none' });
  t.is(missing.state, null);
  t.deepEqual(pathOf(missing.diagnostics[0]), ['repository_name']);
  const bad = await validate('berth_images', { repository_name: 'ds/app', tag_status: 'SOME' });
  t.deepEqual(pathOf(bad[0]), ['tag_status']);
  const badRead = await read('berth_images', { repository_name: 'ds/app', tag_status: 'SOME' });
  t.deepEqual(pathOf(badRead.diagnostics[0]), ['tag_status']);
});

const statement = (values: Record<string, CtyValue>): Record<string, CtyValue> => ({
  sid: null,
  effect: null,
  actions: null,
  not_actions: null,
  resources: null,
  not_resources: null,
  principals: null,
  not_principals: null,
  conditions: null,
  ...values,
});

test('berth_policy_document builds canonical policy JSON (no API call)', async (t) => {
  const { state, diagnostics } = await read('berth_policy_document', {
    statement: [
      statement({
        sid: 'Pull',
        actions: ['ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchGetImage'],
        principals: [{ type: '*', identifiers: ['*'] }],
      }),
      statement({
        sid: 'Push',
        effect: 'Deny',
        not_actions: ['ecr:BatchGetImage'],
        principals: [
          { type: 'AWS', identifiers: ['arn:aws:iam::123456789012:root'] },
          { type: 'Service', identifiers: ['codebuild.amazonaws.com'] },
        ],
        conditions: [
          { test: 'StringEquals', variable: 'aws:PrincipalTag/team', values: ['ops', 'dev'] },
          { test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] },
        ],
      }),
    ],
  });
  t.deepEqual(diagnostics, []);
  const expected = canonicalPolicyText(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Pull', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] },
        {
          Sid: 'Push',
          Effect: 'Deny',
          Principal: { AWS: 'arn:aws:iam::123456789012:root', Service: ['codebuild.amazonaws.com'] },
          NotAction: 'ecr:BatchGetImage',
          Condition: { StringEquals: { 'aws:PrincipalTag/team': ['dev', 'ops'] }, Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    }),
    'x',
  );
  t.is(state?.json, expected);
  t.is(canonicalPolicyText(state?.json as string, 'x'), state?.json as string, 'canonical');
  t.like(JSON.parse(state?.json as string), { Version: '2012-10-17', Statement: [{ Sid: 'Pull', Principal: '*' }, { Sid: 'Push', Effect: 'Deny' }] });
  const withId = await read('berth_policy_document', { version: '2008-10-17', policy_id: 'P1', statement: [statement({ actions: ['ecr:*'], principals: [{ type: 'AWS', identifiers: ['*'] }] })] });
  t.is(withId.state?.json, '{"Version":"2008-10-17","Id":"P1","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["ecr:*"]}]}');
});

test('berth_policy_document: invalid documents are diagnostics on the statement attribute at fault', async (t) => {
  const badAction = await read('berth_policy_document', { statement: [statement({ actions: ['ecr:BatchGetImage'], principals: [{ type: '*', identifiers: ['*'] }] }), statement({ actions: ['not an action'], principals: [{ type: '*', identifiers: ['*'] }] })] });
  t.is(badAction.state, null);
  t.true(badAction.diagnostics.length >= 1);
  t.deepEqual(pathOf(badAction.diagnostics[0]), ['statement', 1, 'actions']);
  t.regex(badAction.diagnostics[0]?.detail ?? '', /Statement\[1\]\.Action/);
  const noPrincipal = await read('berth_policy_document', { statement: [statement({ actions: ['ecr:*'] })] });
  t.deepEqual(pathOf(noPrincipal.diagnostics[0]), ['statement', 0]);
  const both = await validate('berth_policy_document', { statement: [statement({ actions: ['ecr:*'], not_actions: ['ecr:PutImage'], principals: [{ type: '*', identifiers: ['*'] }] })] });
  t.true(both.length >= 1);
  t.is(pathOf(both[0])[0], 'statement');
  const badType = await read('berth_policy_document', { statement: [statement({ actions: ['ecr:*'], principals: [{ type: 'aws', identifiers: ['*'] }] })] });
  t.deepEqual(pathOf(badType.diagnostics[0]), ['statement', 0, 'principals']);
  const badStar = await read('berth_policy_document', { statement: [statement({ actions: ['ecr:*'], principals: [{ type: '*', identifiers: ['arn:x'] }] })] });
  t.deepEqual(pathOf(badStar.diagnostics[0]), ['statement', 0, 'principals', 0, 'identifiers']);
  const badEffect = await validate('berth_policy_document', { statement: [statement({ effect: 'Maybe', actions: ['ecr:*'], principals: [{ type: '*', identifiers: ['*'] }] })] });
  t.deepEqual(pathOf(badEffect[0]), ['statement', 0, 'effect']);
  const noStatements = await read('berth_policy_document', {});
  t.is(noStatements.state, null);
  t.deepEqual(pathOf(noStatements.diagnostics[0]), ['statement']);
});

test('berth_policy_document: unknown values are not judged, and read leaves json unknown', async (t) => {
  const config = { statement: [statement({ actions: Unknown, principals: [{ type: '*', identifiers: ['*'] }] })] };
  t.deepEqual(await validate('berth_policy_document', config), []);
  const { state, diagnostics } = await read('berth_policy_document', config);
  t.deepEqual(diagnostics, []);
  t.true(isUnknown(state?.json));
});

test('berth_lifecycle_policy_document builds canonical lifecycle JSON', async (t) => {
  const rules = [
    {
      rule_priority: 2,
      description: 'old untagged',
      selection: { tag_status: 'untagged', tag_prefix_list: null, tag_pattern_list: null, count_type: 'sinceImagePushed', count_unit: 'days', count_number: 14 },
      action: null,
    },
    {
      rule_priority: 1,
      description: null,
      selection: { tag_status: 'tagged', tag_prefix_list: ['v'], tag_pattern_list: null, count_type: 'imageCountMoreThan', count_unit: null, count_number: 10 },
      action: { type: 'expire' },
    },
  ];
  const { state, diagnostics } = await read('berth_lifecycle_policy_document', { rules });
  t.deepEqual(diagnostics, []);
  const expected = canonicalLifecycleText(
    JSON.stringify({
      rules: [
        { rulePriority: 2, description: 'old untagged', selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } },
        { rulePriority: 1, selection: { tagStatus: 'tagged', tagPrefixList: ['v'], countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } },
      ],
    }),
    'x',
  );
  t.is(state?.json, expected);
  t.is(canonicalLifecycleText(state?.json as string, 'x'), state?.json as string);
});

test('berth_lifecycle_policy_document: errors name the rule and selection attribute', async (t) => {
  const sel = { tag_status: 'untagged', tag_prefix_list: null, tag_pattern_list: null, count_type: 'sinceImagePushed', count_unit: null, count_number: 14 };
  const r = await read('berth_lifecycle_policy_document', {
    rules: [
      { rule_priority: 1, description: null, selection: { ...sel, count_type: 'imageCountMoreThan' }, action: null },
      { rule_priority: 2, description: null, selection: sel, action: null },
    ],
  });
  t.is(r.state, null);
  t.true(r.diagnostics.length >= 1);
  t.deepEqual(pathOf(r.diagnostics[0]), ['rules', 1, 'selection', 'count_unit']);
  const dup = await validate('berth_lifecycle_policy_document', {
    rules: [
      { rule_priority: 1, description: null, selection: { ...sel, count_unit: 'days' }, action: null },
      { rule_priority: 1, description: null, selection: { ...sel, count_unit: 'days' }, action: { type: 'delete' } },
    ],
  });
  t.true(dup.length >= 1, JSON.stringify(dup));
  t.true(dup.every((d) => pathOf(d)[0] === 'rules' && pathOf(d)[1] === 1), JSON.stringify(dup.map(pathOf)));
  t.true(dup.some((d) => pathOf(d).join('.') === 'rules.1.action.type'), JSON.stringify(dup.map(pathOf)));
});
