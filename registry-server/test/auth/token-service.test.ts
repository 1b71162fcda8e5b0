// The signing key ring: a new ES256 key each rotation period, older keys verifying until every
// token they signed has expired, then dropped; replicas sharing a store share the ring.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { IdentityStore } from '../../src/auth/identity-store.ts';
import { TokenService } from '../../src/auth/token-service.ts';
import { SqliteMetadataStore } from '../../src/meta/sqlite/sqlite-store.ts';

const hour = 3600_000;
const options = { issuer: 'berth', service: 'berth:000000000000', ttlSeconds: 300, rotationSeconds: 3600, maxTtlSeconds: 600 };

function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
}

test('rotation adds a key that signs from then on; old tokens keep verifying; retired keys go after the longest lifetime', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-tokens-'));
  const meta = new SqliteMetadataStore({ path: join(dir, 'm.db'), synchronous: 'NORMAL' });
  await meta.migrate();
  t.teardown(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });
  const store = new IdentityStore(meta);
  const tokens = new TokenService(store, options);
  await tokens.init();
  t.is(tokens.jwks().keys.length, 1);
  const first = await tokens.issue({ principalId: 'BPIDTEST', principalName: 'p' }, 'registry', []);

  // An hour on: a second key; new tokens carry its kid; the first token still verifies.
  await tokens.rotateIfDue(Date.now() + hour + 1000);
  t.is(tokens.jwks().keys.length, 2);
  const second = await tokens.issue({ principalId: 'BPIDTEST', principalName: 'p' }, 'registry', []);
  t.not(kidOf(second.token), kidOf(first.token));
  t.true((await tokens.verify(first.token)).ok);
  t.true((await tokens.verify(second.token)).ok);

  // Another replica on the same store sees both keys and verifies both tokens.
  const replica = new TokenService(store, options);
  await replica.init();
  t.true((await replica.verify(first.token)).ok);
  t.true((await replica.verify(second.token)).ok);
  t.deepEqual(replica.jwks().keys.map((k) => k.kid).sort(), tokens.jwks().keys.map((k) => k.kid).sort());

  // Once the longest token lifetime has passed since the second key arrived, the first is dropped.
  await tokens.rotateIfDue(Date.now() + hour + 1000 + 11 * 60_000);
  t.deepEqual(tokens.jwks().keys.map((k) => k.kid), [kidOf(second.token)]);
  const fresh = new TokenService(store, options);
  await fresh.init();
  const refused = await fresh.verify(first.token);
  t.false(refused.ok);
  t.true((await fresh.verify(second.token)).ok);
});
