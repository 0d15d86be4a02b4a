// Per-test PostgreSQL databases on the throwaway server that test/run.js starts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Whether a test PostgreSQL server is available (test/run.js sets LATCHKEY_TEST_PG_URL). */
export const hasPostgres: boolean = Boolean(process.env.LATCHKEY_TEST_PG_URL);

function serverUrl(): string {
  const url = process.env.LATCHKEY_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'LATCHKEY_TEST_PG_URL is not set: run the tests through `node test/run.js` (npm test), which starts PostgreSQL',
    );
  }
  return url;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database `lk_<12 hex>`; `drop()` disconnects everyone from it and removes it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = serverUrl();
  const name = `lk_${randomBytes(6).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}"`));

  const url = new URL(base);
  url.pathname = `/${name}`;
  let dropped = false;

  return {
    url: url.toString(),
    async drop(): Promise<void> {
      if (dropped) return;
      dropped = true;
      await withAdmin(async (c) => {
        await c.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
    },
  };
}
