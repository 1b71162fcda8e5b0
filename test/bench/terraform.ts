// Plan and apply of 200 resources (100 repositories, 100 lifecycle policies) with the real
// Terraform CLI and the Berth provider against a fresh registry, printing wall time and the
// management API calls per resource for each step. Needs `terraform` on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, spawnRegistry } from '../support/registry.ts';

const resources = 200;
if (spawnSync('terraform', ['version'], { encoding: 'utf8' }).status !== 0) {
  console.log('terraform bench: skipped, no terraform on PATH');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'berth-tf-bench-'));
const reg = await spawnRegistry({ args: ['--log-level', 'info'] });
try {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(dir, 'work'));
  writeFileSync(join(bin, 'terraform-provider-berth'), `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, 'provider', 'bin', 'terraform-provider-berth')}" "$@"\n`);
  chmodSync(join(bin, 'terraform-provider-berth'), 0o755);
  writeFileSync(join(dir, 'cli.tfrc'), `provider_installation {\n  dev_overrides {\n    "registry.terraform.io/berth/berth" = "${bin}"\n  }\n  direct {}\n}\n`);
  writeFileSync(
    join(dir, 'work', 'main.tf'),
    `terraform {
  required_providers {
    berth = { source = "berth/berth" }
  }
}
provider "berth" {
  endpoint = "${reg.url}"
}
resource "berth_repository" "r" {
  count           = ${resources / 2}
  repository_name = "bench/r\${count.index}"
  tags            = { n = tostring(count.index) }
}
resource "berth_lifecycle_policy" "r" {
  count                 = ${resources / 2}
  repository_name       = berth_repository.r[count.index].repository_name
  lifecycle_policy_text = jsonencode({ rules = [{ rulePriority = 1, selection = { tagStatus = "untagged", countType = "imageCountMoreThan", countNumber = 3 }, action = { type = "expire" } }] })
}
`,
  );
  const apiCalls = (): number => reg.output().split('\n').filter((l) => l.includes('"msg":"request"') && l.includes('"url":"/api/v1/')).length;
  const run = (args: string[]): Promise<{ code: number | null; seconds: number; output: string }> =>
    new Promise((resolve) => {
      const began = performance.now();
      const env = { ...process.env, TF_CLI_CONFIG_FILE: join(dir, 'cli.tfrc'), TF_DATA_DIR: join(dir, '.terraform'), CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      const child = spawn('terraform', [args[0] ?? '', '-no-color', '-input=false', ...args.slice(1)], { cwd: join(dir, 'work'), env });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('close', (code) => resolve({ code, seconds: (performance.now() - began) / 1000, output }));
    });
  console.log(`terraform bench: ${resources} resources (${resources / 2} repositories, ${resources / 2} lifecycle policies), Terraform ${spawnSync('terraform', ['version'], { encoding: 'utf8' }).stdout.split('\n')[0]}`);
  console.log('step                      seconds   API calls   per resource');
  for (const [label, args] of [
    ['plan (nothing exists)', ['plan']],
    ['apply (create all)', ['apply', '-auto-approve']],
    ['plan (no changes)', ['plan', '-detailed-exitcode']],
    ['destroy', ['destroy', '-auto-approve']],
  ] as [string, string[]][]) {
    const before = apiCalls();
    await new Promise((r) => setTimeout(r, 200));
    const r = await run(args);
    await new Promise((r) => setTimeout(r, 500)); // let the registry's log lines land
    if (r.code !== 0) throw new Error(`${label} failed (${r.code}):\n${r.output.slice(-3000)}`);
    const calls = apiCalls() - before;
    console.log(`${label.padEnd(24)} ${r.seconds.toFixed(1).padStart(8)}   ${String(calls).padStart(9)}   ${(calls / resources).toFixed(2).padStart(12)}`);
  }
} finally {
  await reg.stop();
  rmSync(dir, { recursive: true, force: true });
}
