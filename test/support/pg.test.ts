// Smoke test of the test harness: test/run.js started PostgreSQL and support/pg.ts works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, hasPostgres } from './pg.js';

test('test harness provides PostgreSQL', () => {
  assert.ok(hasPostgres, 'LATCHKEY_TEST_PG_URL is not set: run the tests through `node test/run.js` (npm test)');
});

test('createTestDatabase gives a usable database that drop() removes', { skip: !hasPostgres }, async () => {
  const db = await createTestDatabase();
  const name = new URL(db.url).pathname.slice(1);
  assert.match(name, /^lk_[0-9a-f]{12}$/);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  client.on('error', () => {}); // drop() terminates this connection on purpose
  try {
    const { rows } = await client.query<{ one: number; db: string }>('SELECT 1 AS one, current_database() AS db');
    assert.deepEqual(rows, [{ one: 1, db: name }]);

    // drop() must work even while a connection is still open.
    await db.drop();
  } finally {
    await client.end().catch(() => {});
  }

  const admin = new pg.Client({ connectionString: process.env.LATCHKEY_TEST_PG_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    assert.equal(rowCount, 0);
  } finally {
    await admin.end();
  }
});
