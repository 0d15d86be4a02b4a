import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Response } from 'light-my-request';
import { sql } from 'kysely';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { outboxDepth } from '../../src/store/outbox.repo.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp, type TestDialect } from '../support/app.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';

/** SPEC §7 rule 19: admin-sent links and invitations pass the same SMS guard as recovery codes. */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const US = '+12127365000';
const NIGERIA = '+2348031234567';
const RU = '+79161234567';

interface Console {
  t: TestApp;
  member: Account;
  adminSession: string;
  otherAdminSession: string;
  asAdmin(url: string, payload: object, session?: string): Promise<Response>;
  refusals(): Promise<string[]>;
  settle(): Promise<void>;
}

/** An app with rate limits on, a portal with two admins and a member whose (verified) phone is `memberPhone`. */
async function startConsole(dialect: TestDialect, gatewayUrl: string, env: Record<string, string>, memberPhone = RU): Promise<Console> {
  const t = await startTestApp({ dialect, env: { LATCHKEY_SMS_WEBHOOK_URL: gatewayUrl, ...env } });
  await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
  await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
  await addUser(t.deps, { login: 'oleg', email: 'oleg@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
  const member = await addUser(t.deps, { login: 'ivan', phone: memberPhone, password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
  const signIn = async (login: string) => {
    const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password: PASSWORD } });
    assert.equal(answer.statusCode, 200, answer.body);
    return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
  };
  const adminSession = await signIn('anna');
  const otherAdminSession = await signIn('oleg');
  return {
    t,
    member,
    adminSession,
    otherAdminSession,
    asAdmin: (url, payload, session = adminSession) =>
      t.app.inject({ method: 'POST', url: `/api/v1/portals/acme${url}`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, payload }),
    refusals: async () => (await sql<{ detail: string }>`select detail from audit_events where action = 'sms.refused' order by at`.execute(t.deps.store.db)).rows.map((r) => r.detail),
    settle: () => waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0),
  };
}

for (const dialect of DIALECTS) {
  describe(`one SMS guard for admin texts and invitations (${dialect})`, () => {
    const gateway = new TestSmsGateway();
    let gatewayUrl: string;
    before(async () => {
      gatewayUrl = await gateway.start();
    });
    after(() => gateway.stop());

    it('LATCHKEY_SMS_COUNTRIES: a recovery link or an invitation to a number elsewhere is refused, the admin is told, nothing is sent', async () => {
      const c = await startConsole(dialect, gatewayUrl, { LATCHKEY_SMS_COUNTRIES: 'RU' }, US);
      try {
        const sentBefore = gateway.requests;
        const link = await c.asAdmin(`/users/${c.member.id}/recovery`, { channel: 'phone' });
        assert.equal(link.statusCode, 400, link.body);
        assert.equal(link.json().code, 'invalid_request');
        assert.equal(link.json().field, 'phone');
        for (const phone of ['+1 212 736 5001', NIGERIA]) {
          const invite = await c.asAdmin('/users', { phone });
          assert.equal(invite.statusCode, 400, `${phone}: ${invite.body}`);
          assert.equal(invite.json().field, 'phone');
        }
        const allowed = await c.asAdmin('/users', { phone: '+79161112233' });
        assert.ok(allowed.statusCode < 300, allowed.body);
        await c.settle();
        assert.deepEqual(gateway.received.slice(-1).map((m) => m.to), ['+79161112233']);
        assert.equal(gateway.requests, sentBefore + 1, 'only the Russian number got a text');
        assert.ok((await c.refusals()).includes('country_not_allowed'), 'the refusal is in the audit log');
        const profile = await c.t.app.inject({ method: 'GET', url: `/admin/acme/users/${c.member.id}`, cookies: { lk_session: c.adminSession } });
        const csrf = /name="_csrf" value="([^"]+)"/.exec(profile.body)?.[1] ?? '';
        const page = await c.t.app.inject({ method: 'POST', url: `/admin/acme/users/${c.member.id}/recovery`, headers: { origin: ORIGIN }, cookies: { lk_session: c.adminSession }, payload: { channel: 'phone', _csrf: csrf } });
        assert.equal(page.statusCode, 400);
        assert.match(page.body, /Texts are not sent to numbers in this country/, 'the console page tells the admin');
        const metrics = (await c.t.management.inject({ method: 'GET', url: '/metrics' })).body;
        assert.match(metrics, /latchkey_sms_refused_total\{reason="country_not_allowed"\} [1-9]/);
      } finally {
        await c.t.close();
      }
    });

    it('LATCHKEY_SMS_DAILY_BUDGET: once spent, admin texts are refused with 429 and Retry-After', async () => {
      const c = await startConsole(dialect, gatewayUrl, { LATCHKEY_SMS_DAILY_BUDGET: '2' });
      try {
        const sentBefore = gateway.received.length;
        for (const phone of ['+79160000001', '+79160000002']) {
          const invite = await c.asAdmin('/users', { phone });
          assert.ok(invite.statusCode < 300, invite.body);
        }
        await waitUntil(() => gateway.received.length === sentBefore + 2);
        const third = await c.asAdmin('/users', { phone: '+79160000003' });
        assert.equal(third.statusCode, 429, third.body);
        assert.equal(third.json().code, 'rate_limited');
        assert.ok(Number(third.headers['retry-after']) > 0);
        const link = await c.asAdmin(`/users/${c.member.id}/recovery`, { channel: 'phone' });
        assert.equal(link.statusCode, 429, link.body);
        await c.settle();
        assert.equal(gateway.received.length, sentBefore + 2, 'no text beyond the budget');
        assert.ok((await c.refusals()).includes('budget_exhausted'));
        const invited = (await sql<{ n: number }>`select count(*) as n from accounts where phone = '+79160000003'`.execute(c.t.deps.store.db)).rows[0];
        assert.equal(Number(invited?.n), 0, 'a refused invitation leaves nothing behind');
      } finally {
        await c.t.close();
      }
    });

    it('a dozen invitations to one number: at most the per-number cap of texts, then 429 with Retry-After', async () => {
      const c = await startConsole(dialect, gatewayUrl, {});
      try {
        const target = '+79165550011';
        const statuses: number[] = [];
        let lastAnswer: Response | undefined;
        for (let i = 0; i < 12; i += 1) {
          lastAnswer = await c.asAdmin('/users', { phone: target });
          statuses.push(lastAnswer.statusCode);
        }
        assert.deepEqual(statuses.map((s) => (s < 300 ? 'sent' : s)), ['sent', 'sent', 'sent', 'sent', 'sent', 429, 429, 429, 429, 429, 429, 429], 'number=5/h by default');
        assert.ok(Number(lastAnswer?.headers['retry-after']) > 0);
        await c.settle();
        // A re-invitation replaces the pending one, so a text whose invitation was replaced before the worker
        // reached it is never sent: at most the cap, at least the newest.
        const texts = gateway.received.filter((m) => m.to === target).length;
        assert.ok(texts >= 1 && texts <= 5, `${texts} texts`);
        assert.deepEqual(await c.refusals(), ['number_cap'], 'audited once per cap and window, not once per refused request');
      } finally {
        await c.t.close();
      }
    });

    it('the per-sender cap counts each admin on their own', async () => {
      const c = await startConsole(dialect, gatewayUrl, { LATCHKEY_SMS_CAPS: 'sender=2/h' });
      try {
        const before = gateway.received.length;
        assert.ok((await c.asAdmin('/users', { phone: '+79167770001' })).statusCode < 300);
        assert.ok((await c.asAdmin(`/users/${c.member.id}/recovery`, { channel: 'phone' })).statusCode < 300, 'links and invitations share the cap');
        const third = await c.asAdmin('/users', { phone: '+79167770002' });
        assert.equal(third.statusCode, 429, third.body);
        assert.ok(Number(third.headers['retry-after']) > 0);
        const otherAdmin = await c.asAdmin('/users', { phone: '+79167770003' }, c.otherAdminSession);
        assert.ok(otherAdmin.statusCode < 300, otherAdmin.body);
        await waitUntil(() => gateway.received.length === before + 3);
        await c.settle();
        assert.ok(!gateway.received.some((m) => m.to === '+79167770002'));
        const audit = (await sql<{ detail: string; actor_account_id: string; ip: string | null }>`select detail, actor_account_id, ip from audit_events where action = 'sms.refused'`.execute(c.t.deps.store.db)).rows;
        assert.equal(audit.length, 1);
        assert.equal(audit[0]?.detail, 'sender_cap');
        assert.ok(audit[0]?.actor_account_id, 'the refused admin is named');
      } finally {
        await c.t.close();
      }
    });
  });
}
