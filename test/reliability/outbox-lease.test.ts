// The outbox's claims are leases (src/delivery/outbox.worker.ts): a live worker renews the claims it is
// working on, so a send slower than the lock is not taken over by another worker and sent twice; a worker
// whose claim was taken over (it stalled past its lease) settles nothing. Both dialects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { MailTransport } from '../../src/delivery/mail-transport.js';
import type { EmailPayload } from '../../src/delivery/outbox.js';
import { OutboxWorker, defaultWorkerOptions } from '../../src/delivery/outbox.worker.js';
import { iso } from '../../src/kernel/clock.js';
import { claimDueMessages, enqueueMessage, markRetry, markSent } from '../../src/store/outbox.repo.js';
import { DIALECTS, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { waitUntil } from '../support/wait.js';

const LETTERS = 6;
const LOCK_MS = 400;
const SEND_MS = 1500; // well past the lock: only renewal keeps the claim

for (const dialect of DIALECTS) {
  describe(`outbox leases (${dialect})`, () => {
    const sent: Array<{ to: string; messageId: string | undefined }> = [];
    const slowMail: MailTransport = {
      kind: 'smtp',
      async send(letter: EmailPayload, options = {}) {
        await new Promise((resolve) => setTimeout(resolve, SEND_MS));
        sent.push({ to: letter.to, messageId: options.messageId });
      },
      close: () => undefined,
    };
    const workerOptions = { pollMs: 50, backoffBaseMs: 100, backoffMaxMs: 1000, lockMs: LOCK_MS };
    let t: TestApp;
    let second: OutboxWorker;

    before(async () => {
      t = await startTestApp({ dialect, mail: slowMail, env: { LATCHKEY_RATE_LIMITS: 'off' }, workerOptions });
      // A second node's worker on the same database, polling all the time.
      second = new OutboxWorker({ ...t.deps, mail: slowMail, sms: undefined }, { ...defaultWorkerOptions, ...workerOptions });
      second.start();
      for (let i = 0; i < LETTERS; i += 1) await seedAccount(t.deps, { login: `slow${i}`, email: `slow${i}@example.com`, password: undefined });
    });

    after(async () => {
      await second?.stop();
      await t?.close();
    });

    test('a send slower than the lock keeps its claim: two workers, each letter sent once', async () => {
      for (let i = 0; i < LETTERS; i += 1) {
        const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { 'content-type': 'application/json' }, payload: { login: `slow${i}` } });
        assert.equal(answer.statusCode, 202);
      }
      await waitUntil(async () => {
        const row = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'email' and status = 'sent'`.execute(t.deps.store.db)).rows[0];
        return Number(row?.n) === LETTERS;
      }, 30_000, 50);
      await new Promise((resolve) => setTimeout(resolve, SEND_MS + 500)); // a second send would finish by now
      assert.equal(sent.length, LETTERS, `sent: ${sent.map((s) => s.to).join(', ')}`);
      assert.equal(new Set(sent.map((s) => s.to)).size, LETTERS);
      const attempts = (await sql<{ attempts: number }>`select attempts from outbox where channel = 'email'`.execute(t.deps.store.db)).rows;
      assert.ok(attempts.every((r) => Number(r.attempts) === 1), `claimed once each: ${JSON.stringify(attempts)}`);
    });

    test('a worker whose claim was taken over settles nothing', async () => {
      const db = t.deps.store.db;
      await second.stop();
      await t.deps.worker.stop();
      const now = new Date();
      await enqueueMessage(db, { channel: 'email', kind: 'test.lease', recipient: 'x@example.com', subject: 's', payload: 'sealed' }, iso(now));
      const [mine] = await claimDueMessages(db, t.deps.store.dialect, iso(now), iso(new Date(now.getTime() + 10)), 10);
      assert.ok(mine);
      // Our lease runs out; another worker claims the row (attempts is the fencing token).
      const later = new Date(now.getTime() + 1000);
      const [theirs] = await claimDueMessages(db, t.deps.store.dialect, iso(later), iso(new Date(later.getTime() + 60_000)), 10);
      assert.equal(theirs?.id, mine.id);
      assert.equal(Number(theirs?.attempts), Number(mine.attempts) + 1);
      // The stale worker can neither requeue it nor mark it sent; the current one can.
      await markRetry(db, mine.id, iso(later), 'stale failure', Number(mine.attempts));
      assert.equal(await markSent(db, mine.id, iso(later), false, Number(mine.attempts)), false);
      const row = (await sql<{ status: string }>`select status from outbox where id = ${mine.id}`.execute(db)).rows[0];
      assert.equal(row?.status, 'processing', 'the stale failure did not put it back in the queue');
      assert.equal(await markSent(db, mine.id, iso(later), false, Number(theirs?.attempts)), true);
    });
  });
}
