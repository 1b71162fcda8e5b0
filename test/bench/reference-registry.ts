// The CNCF reference registry (distribution, Debian package docker-registry): installed when
// missing, run with filesystem storage in a temporary directory on its own loopback port.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, makeTempDir, runCommand, which } from './children.ts';
import { startServer, type RunningRegistry } from './servers.ts';

export interface ReferenceBinary {
  readonly path: string;
  readonly version: string;
}

/** Installs a Debian package with apt-get (as root, or through passwordless sudo). */
export async function aptInstall(pkg: string): Promise<void> {
  const root = process.getuid?.() === 0;
  const sudo = root ? undefined : await which('sudo');
  if (!root && !sudo) throw new Error(`${pkg} is not installed and installing it needs root: apt-get install -y ${pkg}`);
  const run = (args: string[]) =>
    root ? runCommand('apt-get', args, { timeoutMs: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }) : runCommand(sudo ?? 'sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], { timeoutMs: 300_000 });
  process.stderr.write(`bench: installing ${pkg} (apt-get install -y ${pkg})\n`);
  let result = await run(['install', '-y', pkg]);
  if (result.code !== 0) {
    // Usually stale package lists in a fresh container.
    await run(['update']);
    result = await run(['install', '-y', pkg]);
  }
  if (result.code !== 0) throw new Error(`apt-get install -y ${pkg} failed (exit ${result.code}):\n${result.stderr || result.stdout}`);
}

/** The docker-registry binary, installing the Debian package first when it is missing. */
export async function ensureReferenceRegistry(): Promise<ReferenceBinary> {
  let path = (await which('docker-registry')) ?? (await which('/usr/bin/docker-registry'));
  if (!path) {
    await aptInstall('docker-registry');
    path = (await which('docker-registry')) ?? (await which('/usr/bin/docker-registry'));
    if (!path) throw new Error('apt-get installed docker-registry but no docker-registry binary was found');
  }
  const result = await runCommand(path, ['--version'], { timeoutMs: 10_000 });
  return { path, version: (result.stdout || result.stderr).trim().split('\n')[0] ?? 'unknown' };
}

function configYaml(storageDir: string, port: number): string {
  // JSON strings are valid YAML scalars, so paths need no further quoting rules.
  return [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    '    enabled: true',
    // As in the configuration the Debian package ships.
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
}

/** Starts the reference registry with a fresh storage directory under `parentDir`. */
export async function startReference(binary: ReferenceBinary, parentDir: string): Promise<RunningRegistry> {
  const workDir = await makeTempDir('reference-', parentDir);
  const dataDir = join(workDir, 'storage');
  await mkdir(dataDir);
  const port = await freePort();
  const configPath = join(workDir, 'config.yml');
  await writeFile(configPath, configYaml(dataDir, port));
  return startServer({
    label: 'reference',
    command: binary.path,
    args: ['serve', configPath],
    url: `http://127.0.0.1:${port}`,
    readyPath: '/v2/',
    dataDir,
    workDir,
  });
}
