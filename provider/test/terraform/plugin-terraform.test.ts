// End to end with the real Terraform CLI (go-plugin client, Go TLS stack): the fixture
// provider (harness-provider.ts) is installed through a dev_overrides CLI configuration, so no
// registry or network is involved. Skipped when no `terraform` is on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { FIXTURE_PROVIDER } from './harness.ts';
import { reportTerraformAvailability } from './terraform-cli.ts';

const terraform = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8' });
const available = terraform.status === 0;
const test = anyTest as TestFn<{ dir: string }>;
reportTerraformAvailability();
const maybe = available ? test.serial : test.serial.skip;

interface Run {
  code: number | null;
  output: string;
}

function setup(mainTf: string): { dir: string; run: (args: string[], opts?: { interruptWhen?: string; log?: boolean }) => Promise<Run> } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tf-'));
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin, join(dir, 'work')]);
  const wrapper = join(bin, 'terraform-provider-berth');
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${FIXTURE_PROVIDER}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(
    join(dir, 'cli.tfrc'),
    `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/berth/berth" = "${bin}"\n  }\n  direct {}\n}\n`,
  );
  writeFileSync(join(dir, 'work', 'main.tf'), `terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\n${mainTf}`);
  const run = (args: string[], opts: { interruptWhen?: string; log?: boolean } = {}): Promise<Run> =>
    new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
        TF_DATA_DIR: join(dir, '.terraform'),
        CHECKPOINT_DISABLE: '1',
        TF_IN_AUTOMATION: '1',
      };
      delete env.TF_LOG;
      delete env.TF_LOG_PATH;
      if (opts.log) Object.assign(env, { TF_LOG: 'trace', TF_LOG_PATH: join(dir, 'terraform.log') });
      if (opts.interruptWhen) env.BERTH_FIXTURE_MARKER = opts.interruptWhen;
      // A process group of its own, so that an "interrupt" reaches Terraform and its plugins
      // together, as Ctrl-C in a terminal does.
      const child = spawn('terraform', [...args, '-input=false', '-no-color'], { cwd: join(dir, 'work'), env, detached: true });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 90_000);
      // Interrupt once the file `interruptWhen` exists (the fixture writes it mid-call).
      const watcher = opts.interruptWhen
        ? setInterval(() => {
            if (existsSync(opts.interruptWhen!)) {
              clearInterval(watcher);
              process.kill(-child.pid!, 'SIGINT');
            }
          }, 50)
        : undefined;
      child.on('close', (code) => {
        clearTimeout(killer);
        clearInterval(watcher);
        resolve({ code, output });
      });
    });
  return { dir, run };
}

maybe('terraform plan: provider config, data source and provider function through the plugin', async (t) => {
  const { dir, run } = setup(`
provider "berth" {
  endpoint = "http://127.0.0.1:5000"
}
data "berth_echo" "x" {
  input = "hi"
}
output "echoed" {
  value = data.berth_echo.x.output
}
output "fn" {
  value = provider::berth::echo("round-trip")
}
`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await run(['plan'], { log: true });
  t.is(r.code, 0, r.output);
  t.regex(r.output, /echoed = "echo:hi"/);
  t.regex(r.output, /fn\s+= "round-trip"/);
  const log = readFileSync(join(dir, 'terraform.log'), 'utf8');
  t.regex(log, /provider: using plugin: version=6/);
  for (const rpc of ['GetProviderSchema', 'ValidateProviderConfig', 'ConfigureProvider', 'ValidateDataResourceConfig', 'ReadDataSource', 'CallFunction']) {
    t.regex(log, new RegExp(`received request: .*tf_rpc=${rpc}`), rpc);
  }
  t.regex(log, /tls=true/, 'AutoMTLS was in use');
  t.notRegex(log, /stdio service not available/);
  t.notRegex(log, /plugin process exited: .*error/);
});

maybe('terraform apply / plan / replace / destroy: a managed resource lifecycle', async (t) => {
  const { dir, run } = setup(`
resource "berth_thing" "a" {
  name = "alpha"
}
output "id" {
  value = berth_thing.a.id
}
`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let r = await run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Creation complete after \d+s \[id=thing-alpha\]/);
  r = await run(['plan', '-detailed-exitcode']);
  t.is(r.code, 0, `no changes after apply (refresh through UpgradeResourceState and ReadResource)\n${r.output}`);
  const tf = join(dir, 'work', 'main.tf');
  writeFileSync(tf, readFileSync(tf, 'utf8').replace('alpha', 'beta'));
  r = await run(['apply', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /# forces replacement/);
  t.regex(r.output, /id = "thing-beta"/);
  r = await run(['destroy', '-auto-approve']);
  t.is(r.code, 0, r.output);
  t.regex(r.output, /Destroy complete! Resources: 1 destroyed/);
});

maybe('Ctrl-C: the plugin ignores SIGINT, Terraform calls StopProvider, the in-flight call is cancelled', async (t) => {
  const { dir, run } = setup('resource "berth_slow" "s" {}\n');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = await run(['plan'], { interruptWhen: join(dir, 'planning'), log: true });
  t.is(r.code, 1, r.output);
  t.regex(r.output, /Interrupt received/);
  t.regex(r.output, /Error: Stopped/);
  t.regex(r.output, /Terraform asked the provider to stop/);
  const log = readFileSync(join(dir, 'terraform.log'), 'utf8');
  t.regex(log, /plugin received interrupt signal, ignoring/);
  t.regex(log, /tf_rpc=StopProvider/);
  t.regex(log, /reason=GRPCController.Shutdown/);
});

if (!available) {
  test('terraform CLI not found: the end-to-end tests were skipped', (t) => {
    t.log('install Terraform (or put it on PATH) to run plugin-terraform.test.ts end to end');
    t.pass();
  });
}
