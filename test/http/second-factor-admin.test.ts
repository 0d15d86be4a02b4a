import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser, setPortal } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { enrolThroughFlows, totpCode } from '../support/second-factor.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';

/**
 * Issue 11, items 5–6: a portal admin pauses a member's second factor (lost phone) and the sign-in without it
 * enters only that portal; a portal that requires a second factor sends members without one to enrol.
 */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json', origin: ORIGIN };
const HOUR = 3600_000;

for (const dialect of DIALECTS) {
  describe(`second factor: admin pause and portal policy (${dialect})`, () => {
    const clock = new FakeClock();
    let smtp: TestSmtpServer;
    let t: TestApp;
    let anna: Account;
    let ivan: Account;
    let boris: Account;
    let vera: Account;
    let ivanSecret = '';

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      anna = await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }, { slug: 'globex', role: 'admin' }] });
      boris = await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'admin' }] });
      vera = await addUser(t.deps, { login: 'vera', email: 'vera@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      ivanSecret = (await enrolThroughFlows(t.deps, ivan.id, PASSWORD, clock)).secret;
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const signIn = (login: string) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password: PASSWORD } });
    const sessionOf = async (login: string) => {
      const res = await signIn(login);
      assert.equal(res.statusCode, 200, res.body);
      return cookieFrom(res.headers['set-cookie'], 'lk_session') ?? '';
    };
    const suspend = (session: string, slug: string, id: string, payload: object) =>
      t.app.inject({ method: 'POST', url: `/api/v1/portals/${slug}/users/${id}/2fa/suspend`, headers: json, cookies: { lk_session: session }, payload });
    const page = (session: string, url: string) => t.app.inject({ method: 'GET', url, cookies: { lk_session: session } });

    it('suspend: hours 1..168 only; another portal\'s admin 403; a non-member 404; no factor 400', async () => {
      const admin = await sessionOf('anna');
      for (const hours of [0, 169, 1.5, '2', -1, null]) {
        const res = await suspend(admin, 'acme', ivan.id, { hours });
        assert.equal(res.statusCode, 400, `hours=${String(hours)}`);
        assert.equal(res.json().code, 'invalid_request');
        assert.equal(res.json().field, 'hours');
      }
      assert.equal((await suspend(admin, 'acme', ivan.id, {})).statusCode, 400, 'hours missing');
      assert.equal((await suspend(await sessionOf('boris'), 'acme', ivan.id, { hours: 2 })).statusCode, 403, "another portal's admin");
      assert.equal((await suspend(admin, 'acme', boris.id, { hours: 2 })).statusCode, 404, 'not a member of acme');
      assert.equal((await suspend(admin, 'acme', 'no-such-id', { hours: 2 })).statusCode, 404);
      const noFactor = await suspend(admin, 'acme', vera.id, { hours: 2 });
      assert.equal(noFactor.statusCode, 400);
      assert.equal(noFactor.json().field, 'twoFactor');
      const noOrigin = await t.app.inject({ method: 'POST', url: `/api/v1/portals/acme/users/${ivan.id}/2fa/suspend`, headers: { 'content-type': 'application/json' }, cookies: { lk_session: admin }, payload: { hours: 2 } });
      assert.equal(noOrigin.statusCode, 403, 'CSRF: our Origin is required');
      const rows = await t.deps.store.db.selectFrom('second_factor_suspensions').selectAll().execute();
      assert.equal(rows.length, 0, 'nothing was paused');
    });

    it('a pause: audited, the person told in their language; the password alone signs in, held to that portal', async () => {
      assert.equal((await signIn('ivan')).statusCode, 202, 'the code is owed before the pause');
      const admin = await sessionOf('anna');
      const res = await suspend(admin, 'acme', ivan.id, { hours: 24 });
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), {});
      const audit = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'admin.member.2fa_suspended').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_account_id, anna.id);
      assert.equal(audit[0]?.target_account_id, ivan.id);
      assert.equal(audit[0]?.detail, 'hours=24');
      const [letter] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && /приостановлен/.test(m.subject));
      assert.ok(letter);
      assert.match(letter.text, /Acme Corp/);
      assert.match(letter.text, /2026-11-26/, 'until when (24 hours on)');
      assert.match(letter.html, /Acme Corp/);

      const session = await sessionOf('ivan');
      const chooser = await page(session, '/portals?lang=en');
      assert.equal(chooser.statusCode, 200);
      assert.match(chooser.body, /href="\/portals\/acme"/);
      assert.doesNotMatch(chooser.body, /globex/i, 'the chooser lists only the pausing portal');
      assert.equal((await page(session, '/portals/acme')).statusCode, 200);
      for (const lang of ['en', 'ru']) {
        const other = await page(session, `/portals/globex?lang=${lang}`);
        assert.equal(other.statusCode, 403);
        assert.match(other.body, /data-testid="portal-limited"/);
        assert.match(other.body, lang === 'en' ? /paused/ : /приостановлен/);
      }
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } });
      assert.deepEqual(me.json().twoFactor, { enabled: true, recoveryCodesLeft: 10, suspended: true });
      assert.deepEqual(me.json().portals.map((p: { slug: string }) => p.slug), ['acme'], 'the API lists only that portal too');
      const console = await t.app.inject({ method: 'GET', url: '/api/v1/portals/globex/users', cookies: { lk_session: session } });
      assert.equal(console.statusCode, 403, 'ivan administers globex, but not from a session held to acme');
      assert.equal((await page(session, '/admin/globex/users')).statusCode, 403);
      const signedIn = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'signin.second_factor_suspended').execute();
      assert.equal(signedIn.length, 1);

      const held = await t.deps.store.db.selectFrom('sessions').select('only_portal_id').where('account_id', '=', ivan.id).where('only_portal_id', 'is not', null).execute();
      assert.equal(held.length, 1, 'only the session opened without the code is held to one portal');
    });

    it('when the pause runs out the code is asked again', async () => {
      clock.advance(24 * HOUR + 1000);
      assert.equal((await signIn('ivan')).statusCode, 202);
    });

    it('setting up a new factor during a pause ends the pause and replaces the lost one', async () => {
      const admin = await sessionOf('anna');
      assert.equal((await suspend(admin, 'acme', ivan.id, { hours: 2 })).statusCode, 202);
      const session = await sessionOf('ivan');
      const asIvan = { ...json, cookie: `lk_session=${session}` };
      const page2fa = await page(session, '/account/2fa?lang=en');
      assert.match(page2fa.body, /data-testid="start-2fa"/, 'the page offers a new factor');
      const started = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp', headers: asIvan, payload: { password: PASSWORD } });
      assert.equal(started.statusCode, 200, started.body);
      const secret = started.json().secret as string;
      assert.equal((await signIn('ivan')).statusCode, 200, 'still paused until the new factor is confirmed');
      const confirmed = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp/confirm', headers: asIvan, payload: { code: totpCode(secret, clock) } });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      assert.notEqual(secret, ivanSecret);
      clock.advance(30_000);
      assert.equal((await signIn('ivan')).statusCode, 202, 'the pause ended: the new code is asked');
      const live = await t.deps.store.db.selectFrom('second_factor_suspensions').selectAll().where('ended_at', 'is', null).execute();
      assert.equal(live.length, 0);
    });

    it('--require-2fa on: a member without a factor is sent to /account/2fa; with one the portal opens', async () => {
      await setPortal(t.deps, 'acme', { require2fa: 'on' });
      const session = await sessionOf('vera');
      const entered = await page(session, '/portals/acme');
      assert.equal(entered.statusCode, 303);
      assert.equal(entered.headers.location, '/account/2fa?required=acme');
      for (const lang of ['en', 'ru']) {
        const told = await page(session, `/account/2fa?required=acme&lang=${lang}`);
        assert.match(told.body, lang === 'en' ? /Acme Corp requires two-factor sign-in/ : /«Acme Corp» требует двухфакторного входа/);
      }
      await enrolThroughFlows(t.deps, vera.id, PASSWORD, clock);
      assert.equal((await page(session, '/portals/acme')).statusCode, 200, 'with a factor the portal opens');
      const console = await page(await sessionOf('anna'), '/admin/acme/users?lang=en');
      assert.match(console.body, /data-testid="portal-policy"/, 'the admin console shows the policy');
      assert.match(console.body, /Two-factor sign-in required<\/dt><dd>yes/);
      await setPortal(t.deps, 'acme', { require2fa: 'off' });
    });

    it('--min-password-length: a new password of a member is held to the highest minimum of their portals', async () => {
      await setPortal(t.deps, 'acme', { minPasswordLength: '20' });
      try {
        const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'vera' } });
        assert.equal(asked.statusCode, 202);
        const [letter] = await smtp.waitFor((m) => m.to === 'vera@example.com' && m.subject.startsWith('Password recovery'));
        const token = new URL(linkIn(letter as Parameters<typeof linkIn>[0])).pathname.split('/').pop() ?? '';
        const short = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'violet-harbour-88' } });
        assert.equal(short.statusCode, 422, short.body);
        assert.equal(short.json().code, 'weak_password');
        assert.deepEqual(short.json().reasons, ['too_short']);
        const long = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'violet-harbour-lantern-88' } });
        assert.ok(long.statusCode === 200 || long.statusCode === 202, long.body);
      } finally {
        await setPortal(t.deps, 'acme', { minPasswordLength: '8' });
      }
    });

    it('--recovery-channels without email: no letter for members of only that portal, the same 202 for everyone', async () => {
      await setPortal(t.deps, 'acme', { recoveryChannels: 'phone,admin' });
      try {
        const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'vera' } });
        const nobody = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'nobody-here' } });
        const marker = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'boris' } });
        assert.equal(asked.statusCode, 202);
        assert.deepEqual(asked.json(), nobody.json(), 'the answer tells nothing');
        assert.equal(marker.statusCode, 202);
        await smtp.waitFor((m) => m.to === 'boris@example.com' && m.subject.startsWith('Password recovery'));
        // The worker decided about vera's request (its audit row is written in the same transaction as any letter).
        const db = t.deps.store.db;
        const decided = async () => (await db.selectFrom('audit_events').select('id').where('action', '=', 'recovery.requested').where('target_account_id', '=', vera.id).execute()).length;
        for (let i = 0; i < 100 && (await decided()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await decided(), 2);
        const letters = await db.selectFrom('outbox').select('id').where('kind', '=', 'recovery.email').where('recipient', '=', 'vera@example.com').execute();
        assert.equal(letters.length, 1, 'no new recovery letter to vera (one from the test before)');
        // ivan is also a member of globex, which keeps e-mail: his letter still goes.
        await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
        await smtp.waitFor((m) => m.to === 'ivan@example.com' && /восстановлени/i.test(m.subject));
      } finally {
        await setPortal(t.deps, 'acme', { recoveryChannels: 'email,phone,admin' });
      }
    });
  });
}
