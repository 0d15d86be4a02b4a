// Issue 6, fault d: the SMS gateway answers 500 for a while, then recovers. Phone recovery codes requested
// during the outage are retried and delivered once it is back, each exactly once, and each one works.
// (test/delivery/sms-gateways.test.ts covers each gateway's protocol; this is the outage window end to end.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { DIALECTS, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';

const PHONES = 40;
const json = { 'content-type': 'application/json' };
const phone = (i: number) => `+7925${String(1_000_000 + i).slice(1).padStart(7, '0')}`;

for (const dialect of DIALECTS) {
  describe(`SMS gateway answering 500 while codes are requested (${dialect})`, () => {
    let gateway: TestSmsGateway;
    let t: TestApp;

    before(async () => {
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      for (let i = 0; i < PHONES; i += 1) await seedAccount(t.deps, { login: `caller${i}`, email: undefined, phone: phone(i), password: undefined });
    });

    after(async () => {
      await t?.close();
      await gateway?.stop();
    });

    test('codes queued during the outage arrive after it, once each, and verify', async () => {
      gateway.failWith = 500;
      const flows = new Map<string, string>();
      await Promise.all(
        Array.from({ length: PHONES }, async (_, i) => {
          const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: phone(i) } });
          assert.equal(answer.statusCode, 202, answer.body);
          flows.set(phone(i), (answer.json() as { flow: string }).flow);
        }),
      );
      // Every text was tried and refused at least twice; nothing got through.
      await waitUntil(async () => {
        const row = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'sms' and status = 'queued' and attempts >= 2`.execute(t.deps.store.db)).rows[0];
        return Number(row?.n) === PHONES;
      }, 30_000, 100);
      assert.equal(gateway.received.length, 0);
      const refusedRequests = gateway.requests;

      gateway.failWith = undefined;
      await waitUntil(() => gateway.received.length >= PHONES, 30_000, 50);
      await waitUntil(async () => {
        const row = (await sql<{ n: number }>`select count(*) as n from outbox where status in ('queued', 'processing')`.execute(t.deps.store.db)).rows[0];
        return Number(row?.n) === 0;
      }, 30_000, 100);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // a late duplicate would arrive by now

      const perNumber = new Map<string, number>();
      for (const sms of gateway.received) perNumber.set(sms.to, (perNumber.get(sms.to) ?? 0) + 1);
      const wrong = Array.from({ length: PHONES }, (_, i) => phone(i)).filter((p) => perNumber.get(p) !== 1);
      assert.deepEqual(wrong, [], 'each number got exactly one text');
      assert.equal(gateway.received.length, PHONES);
      assert.ok(refusedRequests >= 2 * PHONES, `the outage was real: ${refusedRequests} refused requests`);
      const abandoned = (await sql<{ n: number }>`select count(*) as n from outbox where status = 'abandoned'`.execute(t.deps.store.db)).rows[0];
      assert.equal(Number(abandoned?.n), 0);

      // The delivered codes are the live ones: a sample verifies.
      for (let i = 0; i < PHONES; i += 8) {
        const code = gateway.lastCode(phone(i));
        assert.ok(code, `a code for ${phone(i)}`);
        const verify = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone/verify', headers: json, payload: { flow: flows.get(phone(i)), code } });
        assert.equal(verify.statusCode, 200, verify.body);
      }
    });
  });
}
