// Authentication and authorization over real HTTP: every route refuses a caller without
// credentials, tokens are checked, scopes are cut to what policies grant, keys can be disabled
// and rotated, failed sign-ins are throttled, and IAM decisions hold end to end.
import test from 'ava';
import { BerthApiError, BerthClient } from '../../src/client/client.ts';
import { ociActions } from '../../src/auth/actions.ts';
import { IdentityStore } from '../../src/auth/identity-store.ts';
import { TokenService } from '../../src/auth/token-service.ts';
import { signJwt, generateSigningKey } from '../../src/auth/jwt.ts';
import { ociRoutes } from '../../src/oci/router.ts';
import { startRegistry, type RunningRegistry } from '../../../test/support/registry.ts';
import { basicAuth, testAdmin } from '../../../test/support/auth.ts';
import { OCI_MANIFEST, makeImage, pushImage, sha256 } from '../../../test/support/oci.ts';

let reg: RunningRegistry;
let admin: BerthClient;
const account = '000000000000';
const repoArn = (name: string): string => `arn:berth:ecr:local:${account}:repository/${name}`;

test.before(async () => {
  reg = await startRegistry();
  admin = new BerthClient({ endpoint: reg.url, credentials: testAdmin });
});
test.after.always(async () => reg?.close());

const adminAuth = basicAuth(testAdmin.accessKeyId, testAdmin.secretAccessKey);

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${reg.url}${path}`, init);
}

/** A principal with one identity policy and an access key; returns a client signed in as it. */
async function principalWith(name: string, statements: unknown[] | null): Promise<{ client: BerthClient; id: string; secret: string; auth: string }> {
  await admin.principals.create({ principalName: name });
  if (statements) await admin.identityPolicies.update({ principalName: name, policyName: 'main' }, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });
  const key = await admin.accessKeys.create({ principalName: name });
  const secret = key.secretAccessKey ?? '';
  return { client: new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: secret } }), id: key.accessKeyId, secret, auth: basicAuth(key.accessKeyId, secret) };
}

/** Pushes a small image as the holder of `auth` (blobs by POST then PUT, then the manifest). */
async function pushAs(auth: string, name: string, tag: string): Promise<void> {
  const image = makeImage();
  for (const blob of [image.config, ...image.layers]) {
    const start = await call(`/v2/${name}/blobs/uploads/`, { method: 'POST', headers: { Authorization: auth } });
    if (start.status !== 202) throw new Error(`start upload: ${start.status} ${await start.text()}`);
    const put = await fetch(new URL(`${start.headers.get('location')}${start.headers.get('location')?.includes('?') ? '&' : '?'}digest=${sha256(blob)}`, reg.url), { method: 'PUT', body: blob, headers: { Authorization: auth } });
    if (put.status !== 201) throw new Error(`finish upload: ${put.status}`);
  }
  const res = await call(`/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { Authorization: auth, 'Content-Type': OCI_MANIFEST }, body: image.manifest });
  if (res.status !== 201) throw new Error(`put manifest: ${res.status} ${await res.text()}`);
}

async function token(auth: string | undefined, scope: string, service = `berth:${account}`): Promise<{ status: number; body: { token?: string; access_token?: string; expires_in?: number } }> {
  const res = await call(`/token?service=${encodeURIComponent(service)}&scope=${encodeURIComponent(scope)}`, auth ? { headers: { Authorization: auth } } : {});
  return { status: res.status, body: (await res.json()) as { token?: string } };
}

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

async function expectApiError(t: import('ava').ExecutionContext, p: Promise<unknown>, status: number, code: string): Promise<void> {
  const err = await t.throwsAsync(p, { instanceOf: BerthApiError });
  t.is(err?.status, status, err?.message);
  t.is(err?.code, code);
}

test('every management route has an action, and every distribution route is mapped to one', (t) => {
  const api = reg.server.routes.filter((r) => r.url.startsWith('/api/v1/') && r.method !== 'HEAD');
  t.true(api.length >= 30, `found ${api.length} management routes`);
  const unmapped = api.filter((r) => !r.auth).map((r) => `${r.method} ${r.url}`);
  t.deepEqual(unmapped, [], 'management routes without an action');
  t.deepEqual(
    ociRoutes.filter((r) => !ociActions[r.id]).map((r) => r.id),
    [],
    'distribution routes without an action',
  );
  // Everything else registered is one of the few public endpoints.
  const others = [...new Set(reg.server.routes.filter((r) => !r.url.startsWith('/api/v1/')).map((r) => r.url))].sort();
  t.deepEqual(others, ['/healthz', '/readyz', '/token', '/v2/', '/v2/*']);
});

test('without credentials every route answers 401 (or 403), except the challenge, health and the token endpoint', async (t) => {
  await pushImage(reg.url, 'closed/app', 'v1');
  const fill = (url: string): string =>
    url
      .replace(':repositoryName', 'closed%2Fapp')
      .replace(':principalName', 'admin')
      .replace(':policyName', 'AdministratorAccess')
      .replace(':accessKeyId', testAdmin.accessKeyId)
      .replace(':prefix', 'ROOT');
  const checked: string[] = [];
  for (const r of reg.server.routes.filter((x) => x.url.startsWith('/api/v1/') && x.method !== 'HEAD')) {
    const res = await call(fill(r.url), { method: r.method, headers: { 'Content-Type': 'application/json' }, ...(['POST', 'PUT', 'PATCH'].includes(r.method) ? { body: '{}' } : {}) });
    t.true(res.status === 401 || res.status === 403, `${r.method} ${r.url}: ${res.status}`);
    if (res.status === 401) t.regex(res.headers.get('www-authenticate') ?? '', /Bearer realm=/);
    checked.push(r.url);
  }
  const digest = 'sha256:' + 'a'.repeat(64);
  const oci: Record<string, string> = {
    'catalog.list': '/v2/_catalog',
    'upload.start': '/v2/closed/app/blobs/uploads/',
    'upload.status': '/v2/closed/app/blobs/uploads/abc',
    'upload.patch': '/v2/closed/app/blobs/uploads/abc',
    'upload.finish': '/v2/closed/app/blobs/uploads/abc',
    'upload.cancel': '/v2/closed/app/blobs/uploads/abc',
    'blob.get': `/v2/closed/app/blobs/${digest}`,
    'blob.head': `/v2/closed/app/blobs/${digest}`,
    'blob.delete': `/v2/closed/app/blobs/${digest}`,
    'manifest.get': '/v2/closed/app/manifests/v1',
    'manifest.head': '/v2/closed/app/manifests/v1',
    'manifest.put': '/v2/closed/app/manifests/v1',
    'manifest.delete': '/v2/closed/app/manifests/v1',
    'tags.list': '/v2/closed/app/tags/list',
    'referrers.list': `/v2/closed/app/referrers/${digest}`,
  };
  for (const route of ociRoutes) {
    const path = oci[route.id];
    if (!path) {
      t.fail(`no sample path for ${route.id}`);
      continue;
    }
    const res = await call(path, { method: route.method, ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { body: 'x' } : {}) });
    t.is(res.status, 401, `${route.method} ${path}`);
    t.is(res.headers.get('www-authenticate'), `Bearer realm="${reg.url}/token",service="berth:${account}",scope="${route.id === 'catalog.list' ? 'registry:catalog:*' : `repository:closed/app:${ociActions[route.id]?.scope === 'push' ? 'pull,push' : ociActions[route.id]?.scope}`}"`);
  }
  const base = await call('/v2/');
  t.is(base.status, 401);
  t.is(base.headers.get('www-authenticate'), `Bearer realm="${reg.url}/token",service="berth:${account}"`);
  t.is((await call('/healthz')).status, 200);
  t.is((await call('/v2/', { headers: { Authorization: adminAuth } })).status, 200);
});

test('a registry token carries only the scopes the policies grant, and works as a Bearer credential', async (t) => {
  await pushImage(reg.url, 'scoped/app', 'v1');
  const reader = await principalWith('scoped-reader', [
    { Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], Resource: repoArn('scoped/app') },
  ]);
  const got = await token(reader.auth, 'repository:scoped/app:pull,push,delete repository:other/app:pull registry:catalog:*');
  t.is(got.status, 200);
  const jwt = got.body.token ?? '';
  t.is(got.body.access_token, jwt);
  t.is(got.body.expires_in, 300);
  const c = claims(jwt);
  t.deepEqual(c.access, [{ type: 'repository', name: 'scoped/app', actions: ['pull'] }]);
  t.is(c.aud, `berth:${account}`);
  t.is(JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()).alg, 'ES256');
  const bearer = { Authorization: `Bearer ${jwt}` };
  t.is((await call('/v2/scoped/app/manifests/v1', { headers: { ...bearer, Accept: OCI_MANIFEST } })).status, 200);
  // Outside the token's scope: a challenge naming the scope needed.
  const push = await call('/v2/scoped/app/blobs/uploads/', { method: 'POST', headers: bearer });
  t.is(push.status, 401);
  t.regex(push.headers.get('www-authenticate') ?? '', /scope="repository:scoped\/app:pull,push",error="insufficient_scope"/);
  // Registry tokens are for the distribution API only.
  t.is((await call('/api/v1/repositories', { headers: bearer })).status, 401);

  // The admin gets everything asked for.
  const all = await token(adminAuth, 'repository:scoped/app:pull,push registry:catalog:*');
  t.deepEqual(claims(all.body.token ?? '').access, [
    { type: 'repository', name: 'scoped/app', actions: ['pull', 'push'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
  // Anonymous callers get a token with nothing in it (no public repository here).
  const anon = await token(undefined, 'repository:scoped/app:pull');
  t.is(anon.status, 200);
  t.deepEqual(claims(anon.body.token ?? '').access, []);
  // Wrong secret: 401, and a service that is not this registry: 400.
  t.is((await token(basicAuth(reader.id, 'wrong-secret-wrong-secret-wrong'), 'repository:scoped/app:pull')).status, 401);
  t.is((await token(reader.auth, 'repository:scoped/app:pull', 'elsewhere')).status, 400);
  t.is((await token(reader.auth, 'repository:Bad Name:pull')).status, 400);
});

test('the OAuth2 POST form: password grant with a refresh token, then the refresh grant', async (t) => {
  const form = (fields: Record<string, string>) =>
    call('/token', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  const first = await form({ grant_type: 'password', username: testAdmin.accessKeyId, password: testAdmin.secretAccessKey, service: `berth:${account}`, scope: 'repository:any/thing:pull', access_type: 'offline', client_id: 'test' });
  t.is(first.status, 200);
  const body = (await first.json()) as { access_token: string; refresh_token: string };
  t.deepEqual(claims(body.access_token).access, [{ type: 'repository', name: 'any/thing', actions: ['pull'] }]);
  t.truthy(body.refresh_token);
  // A refresh token is not an access token.
  t.is((await call('/v2/', { headers: { Authorization: `Bearer ${body.refresh_token}` } })).status, 401);
  const second = await form({ grant_type: 'refresh_token', refresh_token: body.refresh_token, service: `berth:${account}`, scope: 'repository:any/thing:push' });
  t.is(second.status, 200);
  t.deepEqual(claims(((await second.json()) as { access_token: string }).access_token).access, [{ type: 'repository', name: 'any/thing', actions: ['push'] }]);
  const bad = await form({ grant_type: 'password', username: testAdmin.accessKeyId, password: 'not-the-secret-at-all-no', service: `berth:${account}` });
  t.is(bad.status, 401);
  t.is(((await bad.json()) as { error: string }).error, 'invalid_grant');
  t.is((await form({ grant_type: 'client_credentials' })).status, 400);
});

test('tampered, expired, wrong-audience, unsigned and foreign-key tokens are refused', async (t) => {
  const good = (await token(adminAuth, 'repository:t/app:pull')).body.token ?? '';
  const ok = (auth: string) => call('/v2/t/app/tags/list', { headers: { Authorization: auth } });
  t.not((await ok(`Bearer ${good}`)).status, 401);
  const [h, p, s] = good.split('.') as [string, string, string];
  const payload = claims(good);
  const forged = Buffer.from(JSON.stringify({ ...payload, access: [{ type: 'repository', name: 'other/app', actions: ['pull', 'push'] }] })).toString('base64url');
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
  // Signed by Berth's own keys but for another audience, or already expired.
  const store = new IdentityStore(reg.server.meta);
  const other = new TokenService(store, { issuer: 'berth', service: 'berth:999999999999', ttlSeconds: 300, rotationSeconds: 86400, maxTtlSeconds: 86400 });
  await other.init();
  const wrongAudience = (await other.issue({ principalId: String(payload.sub) }, 'registry', [{ type: 'repository', name: 't/app', actions: ['pull'] }])).token;
  const same = new TokenService(store, { issuer: 'berth', service: `berth:${account}`, ttlSeconds: 300, rotationSeconds: 86400, maxTtlSeconds: 86400 });
  await same.init();
  const expired = (await same.issue({ principalId: String(payload.sub), principalName: 'admin' }, 'registry', [{ type: 'repository', name: 't/app', actions: ['pull'] }], -120)).token;
  // A well-formed token signed by a key Berth never made, under a kid Berth uses.
  const foreign = signJwt({ ...payload }, { kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid, privateKey: generateSigningKey().privateKey });
  for (const [what, bad] of Object.entries({ forged: `${h}.${forged}.${s}`, flipped: `${h}.${p}.${flipped}`, none, wrongAudience, expired, foreign, garbage: 'abc.def.ghi' })) {
    const res = await ok(`Bearer ${bad}`);
    t.is(res.status, 401, what);
    t.regex(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, what);
  }
  t.is((await call('/api/v1/repositories', { headers: { Authorization: `Bearer ${expired}` } })).status, 401);
});

test('access keys: the secret is shown once, disabling refuses it, rotation replaces it, last use is recorded', async (t) => {
  const p = await principalWith('keyholder', [{ Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: '*' }]);
  const read = await admin.accessKeys.read({ accessKeyId: p.id });
  t.is(read.secretAccessKey, undefined, 'reads never return the secret');
  t.is(read.status, 'Active');
  t.deepEqual((await p.client.repositories.list()).items.length >= 0, true);
  t.truthy((await admin.accessKeys.read({ accessKeyId: p.id })).lastUsedAt);
  t.true((await admin.accessKeys.list({ prefix: 'keyholder' })).items.every((k) => k.principalName === 'keyholder' && k.secretAccessKey === undefined));

  await admin.accessKeys.update({ accessKeyId: p.id }, { status: 'Inactive' });
  await expectApiError(t, p.client.repositories.list(), 401, 'Unauthenticated');
  await admin.accessKeys.update({ accessKeyId: p.id }, { status: 'Active' });
  t.truthy(await p.client.repositories.list());

  const rotated = await admin.rotateAccessKey(p.id);
  t.truthy(rotated.rotatedAt);
  t.not(rotated.secretAccessKey, p.secret);
  await expectApiError(t, p.client.repositories.list(), 401, 'Unauthenticated');
  const renewed = new BerthClient({ endpoint: reg.url, credentials: { accessKeyId: p.id, secretAccessKey: rotated.secretAccessKey ?? '' } });
  t.truthy(await renewed.repositories.list());

  // A principal with keys is not deleted by accident; with force it goes, and its keys with it.
  await expectApiError(t, admin.principals.delete({ principalName: 'keyholder' }), 409, 'PrincipalHasDependents');
  await admin.principals.delete({ principalName: 'keyholder' }, { force: true });
  await expectApiError(t, renewed.repositories.list(), 401, 'Unauthenticated');
  await expectApiError(t, admin.accessKeys.read({ accessKeyId: p.id }), 404, 'AccessKeyNotFound');
});

test('a login token (ECR-style authorization token) signs in as the caller, with Basic or Bearer', async (t) => {
  const p = await principalWith('logger-in', [{ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:DescribeRepositories'], Resource: '*' }]);
  const issued = await p.client.authorizationToken();
  t.is(issued.userName, 'BERTH');
  t.is(Buffer.from(issued.authorizationToken, 'base64').toString(), `BERTH:${issued.password}`);
  t.is(issued.proxyEndpoint, reg.url);
  t.true(Date.parse(issued.expiresAt) - Date.now() > 11 * 3600_000);
  t.is((await call('/v2/', { headers: { Authorization: `Basic ${issued.authorizationToken}` } })).status, 200);
  t.is((await call('/api/v1/repositories', { headers: { Authorization: `Bearer ${issued.password}` } })).status, 200);
  // Disabling the key the token came from revokes the token.
  await admin.accessKeys.update({ accessKeyId: p.id }, { status: 'Inactive' });
  t.is((await call('/v2/', { headers: { Authorization: `Basic ${issued.authorizationToken}` } })).status, 401);
});

test('repeated failed sign-ins are throttled with 429 and Retry-After, even for the right secret', async (t) => {
  const own = await startRegistry();
  t.teardown(() => own.close());
  const p = await new BerthClient({ endpoint: own.url, credentials: testAdmin }).principals.create({ principalName: 'victim' });
  const key = await new BerthClient({ endpoint: own.url, credentials: testAdmin }).accessKeys.create({ principalName: p.principalName });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await fetch(`${own.url}/v2/`, { headers: { Authorization: basicAuth(key.accessKeyId, `wrong-guess-number-${i}-xxxxxxxx`) } })).status);
  t.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
  const locked = await fetch(`${own.url}/v2/`, { headers: { Authorization: basicAuth(key.accessKeyId, key.secretAccessKey ?? '') } });
  t.is(locked.status, 429);
  t.true(Number(locked.headers.get('retry-after')) > 0);
  const viaToken = await fetch(`${own.url}/token?scope=repository:a/b:pull`, { headers: { Authorization: basicAuth(key.accessKeyId, key.secretAccessKey ?? '') } });
  t.is(viaToken.status, 429);
  t.truthy(viaToken.headers.get('retry-after'));
});

test('IAM over HTTP: explicit deny wins, cross-principal repository policies, public pulls, create-on-push needs CreateRepository', async (t) => {
  await pushImage(reg.url, 'iam/app', 'v1');
  await pushImage(reg.url, 'iam/secret', 'v1');
  const dev = await principalWith('dev', [
    { Effect: 'Allow', Action: 'ecr:*', Resource: repoArn('iam/*') },
    { Effect: 'Deny', Action: 'ecr:BatchGetImage', Resource: repoArn('iam/secret') },
  ]);
  const get = (auth: string | undefined, name: string) => call(`/v2/${name}/manifests/v1`, { headers: { Accept: OCI_MANIFEST, ...(auth ? { Authorization: auth } : {}) } });
  t.is((await get(dev.auth, 'iam/app')).status, 200);
  const denied = await get(dev.auth, 'iam/secret');
  t.is(denied.status, 403);
  t.is(((await denied.json()) as { errors: { code: string }[] }).errors[0]?.code, 'DENIED');
  // Pushing to a new name under iam/ would create it: that needs ecr:CreateRepository, which ecr:* has.
  await pushAs(dev.auth, 'iam/fresh', 'v1');
  t.truthy(await admin.repositories.read({ repositoryName: 'iam/fresh' }));
  const narrow = await principalWith('narrow', [{ Effect: 'Allow', Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'], Resource: repoArn('*') }]);
  const startFresh = await call('/v2/iam/other-new/blobs/uploads/', { method: 'POST', headers: { Authorization: narrow.auth } });
  t.is(startFresh.status, 403);
  t.regex(await startFresh.text(), /ecr:CreateRepository/);

  // bob has no identity policy; the repository policy names him.
  const bob = await principalWith('bob', null);
  t.is((await get(bob.auth, 'iam/app')).status, 403);
  const bobPrincipal = await admin.principals.read({ principalName: 'bob' });
  await admin.repositoryPolicies.update(
    { repositoryName: 'iam/app' },
    { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Bob', Effect: 'Allow', Principal: { AWS: bobPrincipal.arn }, Action: ['ecr:BatchGetImage'] }] }) },
  );
  t.is((await get(bob.auth, 'iam/app')).status, 200);
  t.is((await get(bob.auth, 'iam/secret')).status, 403);
  // Nobody else is let in by it.
  t.is((await get(undefined, 'iam/app')).status, 401);

  // A public repository: anonymous pulls allowed by Principal "*".
  await admin.repositoryPolicies.update(
    { repositoryName: 'iam/app' },
    { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Public', Effect: 'Allow', Principal: '*', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] }] }) },
  );
  t.is((await get(undefined, 'iam/app')).status, 200);
  t.is((await call('/v2/iam/app/tags/list')).status, 401, 'listing was not made public');
  t.is((await get(undefined, 'iam/secret')).status, 401);
  const anon = await token(undefined, 'repository:iam/app:pull,push');
  t.deepEqual(claims(anon.body.token ?? '').access, [{ type: 'repository', name: 'iam/app', actions: ['pull'] }]);
  t.is((await get(`Bearer ${anon.body.token}`, 'iam/app')).status, 200);
  // The registry policy can deny across repositories, whatever the identity policy says.
  const devId = (await admin.principals.read({ principalName: 'dev' })).principalId;
  await admin.registryPolicy.update({}, { policyText: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: { AWS: devId }, Action: 'ecr:*', Resource: repoArn('iam/app') }] }) });
  t.is((await get(dev.auth, 'iam/app')).status, 403);
  await admin.registryPolicy.delete({});
  t.is((await get(dev.auth, 'iam/app')).status, 200);
});

test('management routes: identity policies decide, and AccessDenied names the action and resource', async (t) => {
  const ops = await principalWith('ops', [
    { Effect: 'Allow', Action: ['ecr:CreateRepository', 'ecr:DescribeRepositories', 'ecr:PutImageTagMutability'], Resource: repoArn('ops/*') },
    { Effect: 'Allow', Action: 'ecr:DescribeRepositories', Resource: repoArn('*') },
  ]);
  await ops.client.repositories.create({ repositoryName: 'ops/one' });
  await expectApiError(t, ops.client.repositories.create({ repositoryName: 'dev/one' }), 403, 'AccessDenied');
  await ops.client.repositories.update({ repositoryName: 'ops/one' }, { imageTagMutability: 'IMMUTABLE' });
  // Tagging needs ecr:TagResource, which ops lacks.
  const err = await t.throwsAsync(ops.client.repositories.update({ repositoryName: 'ops/one' }, { tags: { team: 'ops' } }), { instanceOf: BerthApiError });
  t.is(err?.code, 'AccessDenied');
  t.regex(err?.message ?? '', /ecr:TagResource on arn:berth:ecr:local:000000000000:repository\/ops\/one/);
  t.truthy(await ops.client.repositories.list());
  await expectApiError(t, ops.client.principals.list(), 403, 'AccessDenied');
  await expectApiError(t, ops.client.accessKeys.create({ principalName: 'admin' }), 403, 'AccessDenied');
  await expectApiError(t, ops.client.identityPolicies.update({ principalName: 'ops', policyName: 'escalate' }, { policyText: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' }), 403, 'AccessDenied');
});

test('the policy simulator reports the decision and the statement that made it', async (t) => {
  await principalWith('sim', [
    { Sid: 'Pull', Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: repoArn('sim/*') },
    { Sid: 'NotFromOutside', Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } } },
  ]);
  const inside = await admin.simulatePolicy({ principalName: 'sim', action: 'ecr:BatchGetImage', resource: repoArn('sim/app'), context: { 'aws:SourceIp': '10.1.2.3' } });
  t.is(inside.decision, 'allowed');
  t.like(inside.statement, { source: 'identity:sim/main', index: 0, sid: 'Pull', effect: 'Allow' });
  const outside = await admin.simulatePolicy({ principalName: 'sim', action: 'ecr:BatchGetImage', resource: repoArn('sim/app'), context: { 'aws:sourceip': '192.0.2.1' } });
  t.is(outside.decision, 'explicitDeny');
  t.like(outside.statement, { sid: 'NotFromOutside', effect: 'Deny' });
  const other = await admin.simulatePolicy({ principalName: 'sim', action: 'ecr:PutImage', resource: repoArn('sim/app'), context: { 'aws:SourceIp': '10.1.2.3' } });
  t.is(other.decision, 'implicitDeny');
  t.is(other.statement, undefined);
  const anonymous = await admin.simulatePolicy({ action: 'ecr:BatchGetImage', resource: repoArn('sim/app') });
  t.is(anonymous.decision, 'implicitDeny');
  await expectApiError(t, admin.simulatePolicy({ principalName: 'nobody', action: 'ecr:BatchGetImage', resource: repoArn('x') }), 404, 'PrincipalNotFound');
});

test('bootstrap: the first start makes an admin; a registry never has a default password', async (t) => {
  const own = await startRegistry();
  t.teardown(() => own.close());
  t.like(own.server.bootstrap, { status: 'created', accessKeyId: testAdmin.accessKeyId });
  const principals = await new BerthClient({ endpoint: own.url, credentials: testAdmin }).principals.list();
  t.deepEqual(principals.items.map((p) => p.principalName), ['admin']);
  const again = await startRegistry({ dataDir: own.dataDir });
  t.is(again.server.bootstrap.status, 'exists');
  await again.server.close();
  for (const guess of ['admin:admin', 'admin:password', 'root:root', ':']) {
    t.is((await fetch(`${own.url}/v2/`, { headers: { Authorization: `Basic ${Buffer.from(guess).toString('base64')}` } })).status, 401, guess);
  }
});

test('behind a trusted proxy, X-Forwarded-Proto and -For decide the realm scheme and aws:SourceIp; otherwise they are ignored', async (t) => {
  const proxied = await startRegistry({ trustProxy: ['127.0.0.1'] });
  t.teardown(() => proxied.close());
  const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' };
  const challenge = (await fetch(`${proxied.url}/v2/`, { headers: forwarded })).headers.get('www-authenticate') ?? '';
  t.true(challenge.startsWith(`Bearer realm="https://${proxied.host}/token"`), challenge);
  const simulated = await new BerthClient({ endpoint: proxied.url, credentials: testAdmin, headers: forwarded }).simulatePolicy({ action: 'ecr:BatchGetImage', resource: repoArn('x') });
  t.is(simulated.context['aws:SourceIp'], '203.0.113.9');
  t.is(simulated.context['aws:SecureTransport'], 'true');
  // Not trusted: the same headers change nothing.
  const direct = (await call('/v2/', { headers: forwarded })).headers.get('www-authenticate') ?? '';
  t.true(direct.startsWith(`Bearer realm="http://${reg.host}/token"`), direct);
  const plain = await new BerthClient({ endpoint: reg.url, credentials: testAdmin, headers: forwarded }).simulatePolicy({ action: 'ecr:BatchGetImage', resource: repoArn('x') });
  t.is(plain.context['aws:SourceIp'], '127.0.0.1');
});
