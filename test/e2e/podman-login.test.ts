// `podman login` and `skopeo login` against a real Berth process: the token handshake clients
// run on login (GET /v2/ → 401 challenge → the token endpoint with Basic credentials → /v2/ with
// the token), with an access key, with an ECR-style login token, and refused with a wrong secret.
// Under CI=true a missing podman or skopeo fails; elsewhere the tests are skipped with the reason.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { BerthClient } from '../../registry-server/src/client/client.ts';
import { testAdmin } from '../support/auth.ts';
import { commandMissing, requirement } from '../support/requirements.ts';
import { pushImage } from '../support/oci.ts';
import { spawnRegistry, tempDir, type ChildRegistry } from '../support/registry.ts';

const tools = requirement(
  'podman and skopeo',
  ['podman', 'skopeo'].map((b) => commandMissing(b, `apt-get install -y ${b}`)).filter((m) => m !== undefined).join('; ') || undefined,
);
const e2e = tools.serial;

function run(t: ExecutionContext, bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      t.log(`$ ${bin} ${args.map((a) => (a.length > 30 ? `${a.slice(0, 8)}…` : a)).join(' ')} → ${err ? (err as { code?: number }).code : 0}`);
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

let reg: ChildRegistry;
let work: string;
test.before(async () => {
  if (tools.skipped) return;
  work = await tempDir('berth-login-');
  reg = await spawnRegistry({ dataDir: join(work, 'data'), args: ['--log-level', 'warn'] });
});
test.after.always(async () => reg?.stop());

e2e('podman login succeeds with an access key and stores it; a wrong secret is refused', async (t) => {
  const authfile = join(work, 'podman-auth.json');
  const ok = await run(t, 'podman', ['login', '--authfile', authfile, '--tls-verify=false', '-u', testAdmin.accessKeyId, '-p', testAdmin.secretAccessKey, reg.host]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /Login Succeeded/);
  const stored = JSON.parse(await readFile(authfile, 'utf8')) as { auths: Record<string, { auth: string }> };
  t.is(Buffer.from(stored.auths[reg.host]?.auth ?? '', 'base64').toString(), `${testAdmin.accessKeyId}:${testAdmin.secretAccessKey}`);
  const bad = await run(t, 'podman', ['login', '--authfile', join(work, 'bad.json'), '--tls-verify=false', '-u', testAdmin.accessKeyId, '-p', 'not-the-secret-at-all-000', reg.host]);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /invalid username\/password|unauthorized/i);
});

e2e('podman login with an ECR-style login token (user BERTH), as `aws ecr get-login-password` users do', async (t) => {
  const api = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
  const { userName, password } = await api.authorizationToken();
  const r = await run(t, 'podman', ['login', '--authfile', join(work, 'token-auth.json'), '--tls-verify=false', '-u', userName, '-p', password, reg.host]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Login Succeeded/);
});

e2e('skopeo login, then skopeo reads with the stored credentials; without them it is refused', async (t) => {
  await pushImage(reg.url, 'login/app', 'v1');
  const authfile = join(work, 'skopeo-auth.json');
  const login = await run(t, 'skopeo', ['login', '--authfile', authfile, '--tls-verify=false', '-u', testAdmin.accessKeyId, '-p', testAdmin.secretAccessKey, reg.host]);
  t.is(login.code, 0, login.stderr);
  const inspect = await run(t, 'skopeo', ['inspect', '--raw', '--authfile', authfile, '--tls-verify=false', `docker://${reg.host}/login/app:v1`]);
  t.is(inspect.code, 0, inspect.stderr);
  t.is((JSON.parse(inspect.stdout) as { schemaVersion: number }).schemaVersion, 2);
  const anonymous = await run(t, 'skopeo', ['inspect', '--raw', '--no-creds', '--tls-verify=false', `docker://${reg.host}/login/app:v1`]);
  t.not(anonymous.code, 0);
  t.regex(anonymous.stderr, /unauthorized|authentication required/i);
});
