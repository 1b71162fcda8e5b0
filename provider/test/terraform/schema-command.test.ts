// `terraform-provider-berth schema` prints exactly what `terraform providers schema -json` prints
// for the provider (byte for byte), built from the provider's own GetProviderSchema answer; it
// needs no plugin host (no magic cookie). The comparison with the real Terraform CLI is skipped
// (with the reason logged) where no `terraform` is on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BerthProvider } from '../../src/terraform/provider/berth-provider.ts';
import { documentFromResponse, providerSchemaText } from '../../src/terraform/schema-command.ts';
import { PROVIDER_BIN } from './harness.ts';
import { reportTerraformAvailability } from './terraform-cli.ts';

const source = 'registry.terraform.io/berth/berth';

function runSchemaCommand(): { status: number | null; stdout: string; stderr: string } {
  // No TF_PLUGIN_MAGIC_COOKIE: the subcommand is not a plugin launch.
  const env = { ...process.env };
  delete env.TF_PLUGIN_MAGIC_COOKIE;
  const r = spawnSync(process.execPath, [PROVIDER_BIN, 'schema'], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Doc {
  format_version: string;
  provider_schemas: Record<string, { provider: unknown; resource_schemas?: Record<string, unknown>; data_source_schemas?: Record<string, unknown> }>;
}

test('schema prints the providers schema document of GetProviderSchema, without a plugin host', async (t) => {
  const r = runSchemaCommand();
  t.is(r.status, 0, r.stderr);
  t.true(r.stdout.endsWith('}\n'));
  const doc = JSON.parse(r.stdout) as Doc;
  t.is(doc.format_version, '1.0');
  t.deepEqual(Object.keys(doc.provider_schemas), [source]);

  const provider = new BerthProvider();
  const res = await provider.getProviderSchema();
  const berth = doc.provider_schemas[source];
  t.truthy(berth);
  // Every resource and data source the provider serves, and nothing else.
  t.deepEqual(Object.keys(berth?.resource_schemas ?? {}).sort(), Object.keys(res.resource_schemas ?? {}).sort());
  t.deepEqual(Object.keys(berth?.data_source_schemas ?? {}).sort(), Object.keys(res.data_source_schemas ?? {}).sort());
  t.true(Object.keys(berth?.resource_schemas ?? {}).includes('berth_repository'));
  t.deepEqual(doc, JSON.parse(JSON.stringify(documentFromResponse(res))));
  t.is(r.stdout, await providerSchemaText(provider));
});

test('documentFromResponse fills the protobuf defaults the response leaves out', (t) => {
  const doc = documentFromResponse({
    provider: { block: {} },
    resource_schemas: {
      x_thing: {
        version: 2,
        block: {
          attributes: [
            { name: 'b', type: Buffer.from('"string"'), required: true },
            { name: 'a', nested_type: { nesting: 'LIST', attributes: [{ name: 'n', type: new TextEncoder().encode('"number"'), optional: true }] }, computed: true },
          ],
          block_types: [{ type_name: 'rule', nesting: 'SET', block: { description: 'A rule.', description_kind: 'MARKDOWN' }, max_items: 3 }],
        },
      },
    },
  });
  t.deepEqual(JSON.parse(JSON.stringify(doc)), {
    format_version: '1.0',
    provider_schemas: {
      [source]: {
        provider: { version: 0, block: { description_kind: 'plain' } },
        resource_schemas: {
          x_thing: {
            version: 2,
            block: {
              attributes: {
                a: { nested_type: { attributes: { n: { type: 'number', description_kind: 'plain', optional: true } }, nesting_mode: 'list' }, description_kind: 'plain', computed: true },
                b: { type: 'string', description_kind: 'plain', required: true },
              },
              block_types: { rule: { nesting_mode: 'set', block: { description: 'A rule.', description_kind: 'markdown' }, max_items: 3 } },
              description_kind: 'plain',
            },
          },
        },
      },
    },
  });
  t.throws(() => documentFromResponse({ diagnostics: [{ severity: 'ERROR', summary: 'broken' }] }), { message: /GetProviderSchema failed: broken/ });
});

const terraform = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;
reportTerraformAvailability();

(terraform ? test : test.skip)('schema prints byte for byte what `terraform providers schema -json` prints', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tf-schema-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  const work = join(dir, 'work');
  mkdirSync(bin);
  mkdirSync(work);
  const wrapper = join(bin, 'terraform-provider-berth');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${PROVIDER_BIN}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  dev_overrides {\n    "${source}" = "${bin}"\n  }\n  direct {}\n}\n`);
  writeFileSync(join(work, 'main.tf'), 'terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\n');
  const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'), TF_DATA_DIR: join(dir, '.terraform'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
  const tf = spawnSync('terraform', ['providers', 'schema', '-json'], { cwd: work, env, encoding: 'utf8', timeout: 120_000 });
  t.is(tf.status, 0, tf.stderr);

  const ours = runSchemaCommand();
  t.is(ours.status, 0, ours.stderr);
  t.deepEqual(JSON.parse(ours.stdout), JSON.parse(tf.stdout));
  t.is(ours.stdout, tf.stdout, 'the same bytes, not only the same JSON');
});
