// One place (src/http/errors.ts toAppError) decides that a database outage is 503 `unavailable`, not 500:
// the driver errors PostgreSQL and SQLite really raise, and a real SQLite database locked by another process.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { toAppError } from '../../src/http/errors.js';
import { seedAccount, startTestApp, type TestApp } from '../support/app.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('database errors map to 503 unavailable', () => {
  test('driver errors: connection refused/reset/terminated, server shutting down, class 08, busy/locked', () => {
    const unavailable = [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET'),
      withCode('ETIMEDOUT'),
      withCode('EHOSTUNREACH'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P02'),
      withCode('57P03', 'the database system is shutting down'),
      withCode('08000'),
      withCode('08001'),
      withCode('08003'),
      withCode('08006'),
      withCode('08P01'),
      withCode('53300', 'sorry, too many clients already'),
      withCode('SQLITE_BUSY', 'database is locked'),
      withCode('SQLITE_LOCKED'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      Object.assign(new AggregateError([withCode('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }),
    ];
    for (const error of unavailable) {
      const mapped = toAppError(error);
      assert.equal(mapped.code, 'unavailable', `${(error as { code?: string }).code ?? error.message}`);
      assert.equal(mapped.status, 503);
    }
    assert.equal(toAppError(withCode('22021')).code, 'invalid_request', 'a character PostgreSQL cannot store is the input at fault');
    assert.equal(toAppError(withCode('23505', 'duplicate key')).code, 'internal', 'a constraint violation is a bug, not an outage');
    assert.equal(toAppError(new TypeError('x is undefined')).code, 'internal');
  });

  describe('SQLite locked by another process', () => {
    let t: TestApp;
    let other: SQLite.Database;

    before(async () => {
      t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps);
      other = new SQLite(path.join(t.deps.config.dataDir, 'latchkey.db'));
    });

    after(async () => {
      if (other?.inTransaction) other.exec('ROLLBACK');
      other?.close();
      await t?.close();
    });

    test('a request that cannot get the write lock within the busy timeout is 503 unavailable, then works again', async () => {
      other.exec('BEGIN IMMEDIATE'); // holds the write lock
      const started = Date.now();
      const blocked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { 'content-type': 'application/json' }, payload: { login: 'ivan' } });
      assert.equal(blocked.statusCode, 503, blocked.body);
      assert.equal((blocked.json() as { code: string }).code, 'unavailable');
      assert.ok(Date.now() - started < 20_000, 'bounded by the busy timeout');
      other.exec('ROLLBACK');
      const after = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { 'content-type': 'application/json' }, payload: { login: 'ivan' } });
      assert.equal(after.statusCode, 202, after.body);
      assert.ok(!t.logs.some((line) => line.includes('"code":"internal"')), 'nothing was a 500');
    });
  });
});
