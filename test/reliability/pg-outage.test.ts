// Issue 6, fault c: PostgreSQL stops (pg_ctl stop -m fast) and starts again while requests flow.
// The app runs on its own throwaway cluster (scripts/pg-cluster.js), so stopping it disturbs no one.
// While the database is gone: /readyz is 503, API calls and forms answer 503 `unavailable` (never a 500),
// the process does not crash (an idle or checked-out pg client losing its server emits 'error').
// Once it is back: the app recovers by itself, and letters queued before the outage are all delivered,
// none twice (the outbox worker survived the outage).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { PgCluster } from '../../scripts/pg-cluster.js';
import { waitUntil } from '../support/wait.js';
import { MailSink } from './helpers/mail-sink.js';

const ACCOUNTS = 30;
const json = { 'content-type': 'application/json' };
const login = (i: number) => `outage${i}`;
const email = (i: number) => `outage${i}@example.com`;

interface Outcome {
  what: string;
  status: number;
  code?: string;
  contentType: string;
}

describe('PostgreSQL stopped and started under load', () => {
  let cluster: PgCluster;
  let sink: MailSink;
  let t: TestApp;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  before(async () => {
    process.on('uncaughtException', onUncaught);
    cluster = await PgCluster.create();
    sink = new MailSink();
    t = await startTestApp({
      dialect: 'sqlite', // the env below points the app at the private cluster instead
      env: { LATCHKEY_DATABASE_URL: cluster.url(), LATCHKEY_SMTP_URL: await sink.start(), LATCHKEY_RATE_LIMITS: 'off' },
      workerOptions: { pollMs: 50, backoffBaseMs: 100, backoffMaxMs: 1000, lockMs: 5000 },
    });
    await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com' });
    for (let i = 0; i < ACCOUNTS; i += 1) await seedAccount(t.deps, { login: login(i), email: email(i), password: undefined });
  });

  after(async () => {
    process.off('uncaughtException', onUncaught);
    await t?.close();
    await sink?.stop();
    cluster?.destroy();
  });

  test('503 unavailable while it is down, recovery by itself, queued letters all delivered once', async () => {
    const accepted = new Map<string, number>(); // 202s per recipient
    const refused = new Map<string, number>(); // 503s per recipient (such a job may or may not exist)
    const outcomes: Outcome[] = [];
    const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

    const record = (what: string, res: LightMyRequestResponse): Outcome => {
      let code: string | undefined;
      try {
        code = (JSON.parse(res.body) as { code?: string }).code;
      } catch {
        // a page
      }
      const outcome = { what, status: res.statusCode, code, contentType: String(res.headers['content-type'] ?? '') };
      outcomes.push(outcome);
      return outcome;
    };
    const requestLetter = async (i: number) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: login(i) } });
      const o = record('recovery', res);
      if (o.status === 202) bump(accepted, email(i));
      else bump(refused, email(i));
    };

    // Letters queued before the outage, held back by a refusing mail server so they are still in the outbox.
    sink.refuse = true;
    for (let i = 0; i < ACCOUNTS; i += 1) await requestLetter(i);
    assert.equal([...accepted.values()].reduce((a, b) => a + b, 0), ACCOUNTS);
    await waitUntil(async () => {
      const row = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'email' and attempts >= 1`.execute(t.deps.store.db)).rows[0];
      return Number(row?.n) === ACCOUNTS;
    }, 20_000);

    // Load: recovery requests, sign-ins (JSON and form), session checks and readiness probes, 4 at a time.
    let stopLoad = false;
    let n = 0;
    const loop = async () => {
      while (!stopLoad) {
        const k = n++;
        const kind = k % 5;
        if (kind === 0 || kind === 1) await requestLetter(k % ACCOUNTS);
        else if (kind === 2) record('sign-in', await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: 'wrong-password-1' } }));
        else if (kind === 3) record('form', await t.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: 'login=ivan&password=wrong-password-1' }));
        else record('readyz', await t.app.inject({ method: 'GET', url: '/readyz' }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const load = Promise.all([loop(), loop(), loop(), loop()]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = outcomes.length;
      await cluster.stop('fast');

      // Down: readiness says so, and requests are refused with 503 unavailable.
      await waitUntil(() => outcomes.slice(before).filter((o) => o.status === 503 && o.what === 'recovery').length >= 10, 20_000);
      await waitUntil(() => outcomes.slice(before).some((o) => o.status === 503 && o.what === 'form'), 20_000);
      const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503, ready.body);
      assert.equal((JSON.parse(ready.body) as { code: string }).code, 'unavailable');
      const health = await t.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200, 'the process itself is alive');
      await new Promise((resolve) => setTimeout(resolve, 1000)); // let the worker fail a few claims too

      // Back: the mail server accepts again, the database starts, the app recovers by itself.
      sink.refuse = false;
      await cluster.start();
      await waitUntil(async () => (await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 20_000, 100);
      const mark = outcomes.length;
      await waitUntil(() => outcomes.slice(mark).filter((o) => o.what === 'recovery' && o.status === 202).length >= 10, 20_000);
    } finally {
      stopLoad = true;
      await load;
    }

    // No answer was a 500 (or any other 5xx than 503 unavailable), and each 503 was a well-formed refusal.
    const bad = outcomes.filter((o) => o.status >= 500 && !(o.status === 503 && (o.code === 'unavailable' || o.contentType.startsWith('text/html'))));
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} answers were server errors other than 503 unavailable`);
    const unexpected = outcomes.filter((o) => o.status < 500 && !({ recovery: [202], 'sign-in': [401], form: [401], readyz: [200] } as Record<string, number[]>)[o.what]?.includes(o.status));
    assert.deepEqual(unexpected.slice(0, 5), [], 'answers other than the normal ones or 503');
    assert.ok(outcomes.some((o) => o.what === 'sign-in' && o.status === 503), 'sign-in was refused with 503 while the database was down');
    assert.deepEqual(uncaught, [], 'no uncaught exception');

    // After: a normal sign-in works.
    const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
    assert.equal(signIn.statusCode, 200, signIn.body);

    // Every accepted request's letter arrives, each one once (distinct Message-IDs), none lost.
    const expected = [...accepted.values()].reduce((a, b) => a + b, 0);
    await sink.waitForCount(expected, 30_000);
    await waitUntil(async () => {
      const row = (await sql<{ n: number }>`select count(*) as n from outbox where status in ('queued', 'processing')`.execute(t.deps.store.db)).rows[0];
      return Number(row?.n) === 0;
    }, 30_000);
    const ids = sink.mails.map((m) => m.messageId);
    assert.equal(new Set(ids).size, ids.length, 'no letter was delivered twice');
    const counts = sink.countsByRecipient();
    for (let i = 0; i < ACCOUNTS; i += 1) {
      const got = counts.get(email(i)) ?? 0;
      const want = accepted.get(email(i)) ?? 0;
      // A request answered 503 may have committed its job just before the connection broke; never more.
      assert.ok(got >= want && got <= want + (refused.get(email(i)) ?? 0), `${email(i)}: ${got} letters for ${want} accepted requests`);
    }
    const abandoned = (await sql<{ n: number }>`select count(*) as n from outbox where status = 'abandoned'`.execute(t.deps.store.db)).rows[0];
    assert.equal(Number(abandoned?.n), 0, 'nothing was given up');
  });
});
