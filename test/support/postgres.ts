// PostgreSQL for tests: a throwaway database per test file, made through an admin connection.
// BERTH_TEST_POSTGRES_URL names the admin connection (a role that may CREATE DATABASE).
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export const adminUrl = process.env.BERTH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function withAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Undefined when PostgreSQL answers at BERTH_TEST_POSTGRES_URL; otherwise why not. */
export const postgresAvailable: Promise<string | undefined> = withAdmin(async (c) => {
  await c.query('SELECT 1');
  return undefined;
}).catch(
  (err: unknown) =>
    `PostgreSQL unreachable at ${redact(adminUrl)}: ${err instanceof Error ? err.message || err.name : String(err)} ` +
    '(start one, or set BERTH_TEST_POSTGRES_URL to an admin connection)',
);

/** Creates a fresh, empty database; drop() removes it, closing any connection still open on it. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30);
  const name = `berth_t_${safe}_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
