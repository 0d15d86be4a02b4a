// Issue 6, fault a: the SMTP server goes away (its port is closed, connections are refused) while 200
// recovery letters are requested, then comes back on the same port. Every letter arrives, none twice, each
// with its own Message-ID and a working link. Both dialects.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { sha256 } from '../../src/kernel/crypto.js';
import { DIALECTS, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { waitUntil } from '../support/wait.js';
import { MailSink, tokenIn } from './helpers/mail-sink.js';

const LETTERS = 200;
const json = { 'content-type': 'application/json' };
const login = (i: number) => `reader${i}`;
const email = (i: number) => `reader${i}@example.com`;

async function count(t: TestApp, where: ReturnType<typeof sql>): Promise<number> {
  const row = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'email' and ${where}`.execute(t.deps.store.db)).rows[0];
  return Number(row?.n);
}

for (const dialect of DIALECTS) {
  describe(`SMTP server down while ${LETTERS} letters are requested (${dialect})`, () => {
    let sink: MailSink;
    let t: TestApp;

    before(async () => {
      sink = new MailSink();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await sink.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      for (let i = 0; i < LETTERS; i += 1) await seedAccount(t.deps, { login: login(i), email: email(i), password: undefined });
    });

    after(async () => {
      await t?.close();
      await sink?.stop();
    });

    test('all letters arrive once the server is back, none twice', async () => {
      // Requests start while the server is up; it goes away after the first few letters.
      const requests = (async () => {
        for (let i = 0; i < LETTERS; i += 20) {
          const answers = await Promise.all(
            Array.from({ length: 20 }, (_, k) => t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: login(i + k) } })),
          );
          for (const a of answers) assert.equal(a.statusCode, 202, 'a request neither waits for nor fails with the mail server');
        }
      })();
      await sink.waitForCount(5, 20_000);
      await sink.stop();
      await requests;
      const deliveredBeforeOutage = sink.mails.length;
      assert.ok(deliveredBeforeOutage < LETTERS, 'the outage came before the last letter');

      // Down: every letter not yet delivered is queued and was tried at least once (connection refused).
      await waitUntil(async () => (await count(t, sql`status != 'sent'`)) === LETTERS - deliveredBeforeOutage, 30_000, 100);
      await waitUntil(async () => (await count(t, sql`status != 'sent' and last_error is not null`)) === LETTERS - deliveredBeforeOutage, 30_000, 100);
      assert.equal(await count(t, sql`status = 'abandoned'`), 0);

      // Back on the same port.
      await sink.start();
      await sink.waitForCount(LETTERS, 60_000);
      await waitUntil(async () => (await count(t, sql`status = 'sent'`)) === LETTERS, 30_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a late duplicate would arrive by now

      const counts = sink.countsByRecipient();
      const wrong = Array.from({ length: LETTERS }, (_, i) => email(i)).filter((to) => counts.get(to) !== 1);
      assert.deepEqual(wrong.map((to) => `${to}: ${counts.get(to) ?? 0}`), [], 'each recipient got exactly one letter');
      assert.equal(sink.mails.length, LETTERS);
      const ids = new Set(sink.mails.map((m) => m.messageId));
      assert.equal(ids.size, LETTERS, 'every letter has its own Message-ID');
      assert.ok([...ids].every((id) => /^<lk\.\d+\.[0-9a-f]{24}@localhost>$/.test(id)), `Message-IDs are the outbox's: ${[...ids][0]}`);

      // Each letter's link is the account's one live token.
      const live = (await sql<{ token_hash: string }>`select token_hash from recovery_tokens where consumed_at is null and revoked_at is null`.execute(t.deps.store.db)).rows;
      assert.deepEqual(new Set(sink.mails.map((m) => sha256(tokenIn(m)))), new Set(live.map((r) => r.token_hash)));
    });
  });
}
