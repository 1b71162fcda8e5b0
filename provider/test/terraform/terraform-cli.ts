// Running the real Terraform CLI against this provider: a temporary working directory whose CLI
// configuration installs the provider from this checkout (dev_overrides, or a filesystem mirror
// laid out as the README documents), and a runner that keeps Terraform non-interactive.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { testAdmin } from '../../../test/support/auth.ts';
import { PROVIDER_BIN } from './harness.ts';

export const terraformAvailable = spawnSync('terraform', ['version'], { encoding: 'utf8' }).status === 0;

/**
 * Where terraform is missing, the CLI suites are skipped; this records why, and under CI (where
 * the machine image provides terraform) a missing binary fails instead of skipping silently.
 */
export function reportTerraformAvailability(): void {
  if (terraformAvailable) return;
  test('terraform availability', (t) => {
    if (process.env.CI === 'true') t.fail('CI=true but terraform is not on PATH');
    else {
      t.log('terraform is not on PATH: the Terraform CLI scenarios are skipped');
      t.pass();
    }
  });
}

export interface TerraformRun {
  readonly code: number | null;
  readonly out: string;
}

export interface TerraformWorkspace {
  readonly dir: string;
  /** Writes work/main.tf as given. */
  writeRaw(text: string): void;
  /** Writes work/main.tf: required_providers, a provider block for `endpoint`, then `body`. */
  write(body: string): void;
  /** Installs the provider from a filesystem mirror instead of dev_overrides (for terraform init). */
  useMirror(): void;
  /** Runs terraform; the provider signs in as the test admin (BERTH_ACCESS_KEY_ID/BERTH_SECRET_ACCESS_KEY) unless `env` says otherwise. */
  run(args: string[], env?: Readonly<Record<string, string | undefined>>): Promise<TerraformRun>;
  cleanup(): void;
}

/** The provider's credentials from the environment, as the examples expect them: the test admin. */
export const adminCredentialsEnv = { BERTH_ACCESS_KEY_ID: testAdmin.accessKeyId, BERTH_SECRET_ACCESS_KEY: testAdmin.secretAccessKey };

function launcher(path: string): void {
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${PROVIDER_BIN}" "$@"\n`);
  chmodSync(path, 0o755);
}

export function terraformWorkspace(endpoint: string, prefix = 'berth-tf-'): TerraformWorkspace {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'work'));
  launcher(join(dir, 'bin', 'terraform-provider-berth'));
  writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/berth/berth" = "${join(dir, 'bin')}"\n  }\n  direct {}\n}\n`);
  const writeRaw = (text: string) => writeFileSync(join(dir, 'work', 'main.tf'), text);
  return {
    dir,
    writeRaw,
    write: (body) =>
      writeRaw(`terraform {\n  required_providers {\n    berth = { source = "berth/berth" }\n  }\n}\nprovider "berth" {\n  endpoint = "${endpoint}"\n}\n${body}\n`),
    useMirror() {
      const platform = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;
      const mirrored = join(dir, 'mirror', 'registry.terraform.io', 'berth', 'berth', '0.1.0', platform);
      mkdirSync(mirrored, { recursive: true });
      launcher(join(mirrored, 'terraform-provider-berth_v0.1.0'));
      writeFileSync(
        join(dir, 'cli.tfrc'),
        `provider_installation {\n  filesystem_mirror {\n    path    = "${join(dir, 'mirror')}"\n    include = ["berth/berth"]\n  }\n  direct {\n    exclude = ["berth/berth"]\n  }\n}\n`,
      );
    },
    run: (args, extra = {}) =>
      new Promise((resolve) => {
        const env: Record<string, string | undefined> = {
          ...process.env,
          ...adminCredentialsEnv,
          TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'),
          TF_DATA_DIR: join(dir, '.terraform'),
          CHECKPOINT_DISABLE: '1',
          TF_IN_AUTOMATION: '1',
        };
        for (const [k, v] of Object.entries(extra)) {
          if (v === undefined) delete env[k];
          else env[k] = v;
        }
        // Flags go right after the subcommand; `state` and `output` take none of them.
        const [command = '', ...rest] = args;
        const plain = command === 'state' || command === 'output';
        const child = spawn('terraform', plain ? args : [command, '-no-color', '-input=false', ...rest], { cwd: join(dir, 'work'), env });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
        child.on('close', (code) => {
          clearTimeout(killer);
          resolve({ code, out });
        });
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
