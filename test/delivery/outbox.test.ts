import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { DIALECTS, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { TestSmtpServer } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

const json = { 'content-type': 'application/json' };

async function statuses(t: TestApp): Promise<Record<string, number>> {
  const rows = (await sql<{ status: string; n: number }>`select status, count(*) as n from outbox where channel = 'email' group by status`.execute(t.deps.store.db)).rows;
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

for (const dialect of DIALECTS) {
  describe(`outbox delivery through real SMTP (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      for (let i = 0; i < 10; i += 1) await seedAccount(t.deps, { login: `user${i}`, email: `user${i}@example.com`, password: undefined });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('keeps letters while the SMTP server refuses, then delivers each exactly once', async () => {
      smtp.refuse = true;
      for (let i = 0; i < 10; i += 1) {
        const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: `user${i}` } });
        assert.equal(answer.statusCode, 202, 'the request does not wait for, or fail with, the mail server');
      }
      // All ten letters exist and have been tried at least once, none delivered.
      await waitUntil(async () => {
        const rows = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'email' and attempts >= 2 and status != 'sent'`.execute(t.deps.store.db)).rows;
        return Number(rows[0]?.n) === 10;
      }, 10_000);
      const failedBefore = await t.management.inject({ method: 'GET', url: '/metrics' });
      assert.match(failedBefore.body, /latchkey_messages_failed_total\{channel="email"\} [1-9]/);
      assert.equal(smtp.mails.length, 0);
      smtp.refuse = false;
      await smtp.waitFor(() => true, 10, 15_000);
      await waitUntil(async () => (await statuses(t)).sent === 10, 10_000);
      const recipients = smtp.mails.map((m) => m.to).sort();
      assert.deepEqual(recipients, Array.from({ length: 10 }, (_, i) => `user${i}@example.com`).sort(), 'each letter once');
      const payloads = (await sql<{ payload: string }>`select payload from outbox where channel = 'email' and status = 'sent'`.execute(t.deps.store.db)).rows;
      assert.ok(payloads.every((p) => p.payload === ''), 'a delivered letter leaves the database');
    });
  });
}

describe('outbox: a permanent refusal is abandoned, not retried forever', () => {
  let server: SMTPServer;
  let t: TestApp;
  let attempts = 0;

  before(async () => {
    server = new SMTPServer({
      // A stopped server drops its connections at once, as one that went away would (senders keep pooled ones open).
      closeTimeout: 50,
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        attempts += 1;
        const error = new Error('mailbox unavailable') as Error & { responseCode: number };
        error.responseCode = 550;
        callback(error);
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_SMTP_URL: `smtp://127.0.0.1:${port}` } });
    await seedAccount(t.deps);
  });
  after(async () => {
    await t.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('records the error and stops', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
    await waitUntil(async () => (await statuses(t)).abandoned === 1);
    const row = (await sql<{ last_error: string; attempts: number }>`select last_error, attempts from outbox where channel = 'email'`.execute(t.deps.store.db)).rows[0];
    assert.match(String(row?.last_error), /550/);
    assert.equal(Number(row?.attempts), 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(attempts, 1);
  });
});

for (const dialect of DIALECTS) {
  describe(`outbox: requests that never leave a gap do not starve the letters (issue 15 item 5, ${dialect})`, () => {
    const POLL_MS = 1000;
    let t: TestApp;
    before(async () => {
      // A batch of 5, a gap waited for up to a second under load: deferring, 30 letters take 6 batches ≈ 6 s.
      t = await startTestApp({ dialect, worker: false, workerOptions: { pollMs: POLL_MS, batchSize: 5, maxDeferMs: 100, backoffBaseMs: 100, backoffMaxMs: 1000 } });
    });
    after(async () => t.close());

    it('once a letter has waited longer than maxDeferMs, the worker catches up without waiting for a gap', async () => {
      for (let i = 0; i < 30; i += 1) await t.deps.outbox.enqueueEmail(t.deps.store.db, 'test.letter', { to: `person${i}@example.com`, subject: 'hello', text: 'hello', html: '<p>hello</p>' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Requests are always being answered: the worker never sees a gap.
      t.deps.worker.yieldWhile(() => true);
      t.deps.worker.start();
      await waitUntil(async () => ((await statuses(t)).sent ?? 0) > 0, 10_000);
      const firstSent = Date.now();
      await waitUntil(async () => (await statuses(t)).sent === 30, 15_000);
      const caughtUpMs = Date.now() - firstSent;
      assert.ok(caughtUpMs < POLL_MS, `the other 25 letters followed in ${caughtUpMs} ms, not one batch per ${POLL_MS} ms`);
    });

    it('jobs that waited longer than maxDeferMs count even when the batch it claims holds only new letters', async () => {
      await t.deps.worker.stop();
      await sql`delete from outbox`.execute(t.deps.store.db);
      // Ten recovery requests, then a pause past maxDeferMs, then five new letters: a claim takes the letters first.
      for (let i = 0; i < 10; i += 1) await t.deps.outbox.enqueueJob(t.deps.store.db, 'recovery.email.request', { identifier: `nobody${i}`, ip: '127.0.0.1' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 5; i += 1) await t.deps.outbox.enqueueEmail(t.deps.store.db, 'test.letter', { to: `new${i}@example.com`, subject: 'hello', text: 'hello', html: '<p>hello</p>' });
      const jobsSent = async () => Number((await sql<{ n: number }>`select count(*) as n from outbox where channel = 'job' and status = 'sent'`.execute(t.deps.store.db)).rows[0]?.n);
      t.deps.worker.yieldWhile(() => true);
      assert.equal(await t.deps.worker.runOnce(true), 5);
      assert.equal(await jobsSent(), 0, 'the batch was the five new letters');
      // The worker knows the jobs behind them are late: it takes them at once instead of waiting for a gap.
      const started = Date.now();
      t.deps.worker.start();
      await waitUntil(async () => (await jobsSent()) === 10, 15_000);
      const tookMs = Date.now() - started;
      await t.deps.worker.stop();
      assert.ok(tookMs < POLL_MS / 2, `the late jobs were done ${tookMs} ms later, not after a wait for a gap (${POLL_MS} ms)`);
    });
  });
}
