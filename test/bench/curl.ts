// Timed blob transfers through curl: a C client that streams a file from tmpfs (push) or into
// /dev/null (pull) costs far less CPU than a Node client, so the registries, not the client,
// set the pace. Both registries are measured with the same commands.
import { runCommand, which } from './children.ts';
import type { RegistryClient } from './http-client.ts';
import { aptInstall } from './reference-registry.ts';

export async function ensureCurl(): Promise<string> {
  const found = await which('curl');
  if (found) return found;
  await aptInstall('curl');
  const installed = await which('curl');
  if (!installed) throw new Error('curl is still missing after apt-get install curl');
  return installed;
}

async function curl(bin: string, args: string[]): Promise<{ status: number; bytes: number }> {
  const res = await runCommand(bin, ['--silent', '--show-error', '--output', '/dev/null', '--write-out', '%{http_code} %{size_download} %{size_upload}', ...args], { timeoutMs: 300_000 });
  if (res.code !== 0) throw new Error(`curl ${args.join(' ')} failed (${res.code}): ${res.stderr}`);
  const [status = '0', down = '0', up = '0'] = res.stdout.trim().split(' ');
  return { status: Number(status), bytes: Math.max(Number(down), Number(up)) };
}

function signIn(client: RegistryClient): string[] {
  return client.authorization === undefined ? [] : ['-H', `Authorization: ${client.authorization}`];
}

/** POST (through the client), then `curl -T file` PUT <location>?digest=. */
export async function curlPush(bin: string, client: RegistryClient, name: string, digest: string, file: string, size: number): Promise<void> {
  const location = await client.startUpload(name);
  const url = `${location.href}${location.search ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
  const res = await curl(bin, ['--upload-file', file, '-H', 'Expect:', '-H', 'Content-Type: application/octet-stream', ...signIn(client), url]);
  if (res.status !== 201 || res.bytes !== size) throw new Error(`curl push to ${url}: HTTP ${res.status}, ${res.bytes} of ${size} bytes sent`);
}

export async function curlPull(bin: string, client: RegistryClient, name: string, digest: string, size: number): Promise<void> {
  const url = new URL(`/v2/${name}/blobs/${digest}`, client.base).href;
  const res = await curl(bin, [...signIn(client), url]);
  if (res.status !== 200 || res.bytes !== size) throw new Error(`curl pull ${url}: HTTP ${res.status}, ${res.bytes} of ${size} bytes`);
}
