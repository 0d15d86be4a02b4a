import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser, enableAccount } from '../../src/flows/operator.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { findAccountById } from '../../src/store/accounts.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { enrolThroughFlows } from '../support/second-factor.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { notMeLink } from '../../src/flows/not-me.js';
import { TestSmtpServer, type ReceivedMail } from '../support/smtp.js';

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const NEW_PASSWORD = 'a-brand-new-passphrase-42';
const NOT_ME_LINK = /http:\/\/localhost:3000\/account\/not-me\/([A-Za-z0-9_-]+)/;
const RECOVERY_LINK = /http:\/\/localhost:3000\/recover\/email\/([A-Za-z0-9_-]+)/;

/** The "this wasn't me" token of a letter: the same link in the text and in the HTML part. */
function notMeToken(mail: ReceivedMail): string {
  const inText = NOT_ME_LINK.exec(mail.text)?.[1];
  const inHtml = NOT_ME_LINK.exec(mail.html)?.[1];
  assert.ok(inText, `no not-me link in the text of "${mail.subject}"`);
  assert.equal(inHtml, inText, 'the HTML part holds the same link');
  return inText;
}

for (const dialect of DIALECTS) {
  describe(`"this wasn't me" (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let gateway: TestSmsGateway;
    let t: TestApp;
    const clock = new FakeClock();
    let ivanId = '';
    let olgaId = '';
    let bossId = '';

    before(async () => {
      smtp = new TestSmtpServer();
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      bossId = (await addUser(t.deps, { login: 'boss', email: 'boss@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'admin' }] })).id;
      await addUser(t.deps, { login: 'chief', email: 'chief@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'admin' }] });
      ivanId = (await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] })).id;
      olgaId = (await addUser(t.deps, { login: 'olga', email: 'olga@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] })).id;
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await gateway.stop();
    });

    const signIn = async (login: string, password = PASSWORD) =>
      t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
    const sessionOf = async (login: string, password = PASSWORD) => {
      const response = await signIn(login, password);
      assert.equal(response.statusCode, 200, response.body);
      return cookieFrom(response.headers['set-cookie'], 'lk_session') ?? '';
    };
    const me = async (session: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } })).statusCode;
    const status = async (id: string) => (await findAccountById(t.deps.store.db, id))?.status;
    /** Changes the password through the API: the "password changed" notice is a security notice with a link. */
    const changePassword = async (login: string, session: string, from: string, to: string): Promise<ReceivedMail> => {
      const isNotice = (m: ReceivedMail) => m.to === `${login}@example.com` && /changed|изменён/.test(m.subject);
      const before = smtp.mails.filter(isNotice).length;
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: session },
        payload: { currentPassword: from, newPassword: to },
      });
      assert.equal(response.statusCode, 204, response.body);
      return (await smtp.waitFor(isNotice, before + 1)).at(-1) as ReceivedMail;
    };
    const recoveryToken = async (login: string): Promise<string> => {
      const before = smtp.mails.filter((m) => m.to === `${login}@example.com` && RECOVERY_LINK.test(m.text)).length;
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login } });
      const mail = (await smtp.waitFor((m) => m.to === `${login}@example.com` && RECOVERY_LINK.test(m.text), before + 1)).at(-1);
      return RECOVERY_LINK.exec(mail?.text ?? '')?.[1] ?? '';
    };
    const oidcRows = async () => (await t.deps.store.db.selectFrom('oidc_models').select(['name', 'id']).orderBy('id').execute()).map((r) => `${r.name}:${r.id}`);

    it('the link locks, revokes every session, token and grant, tells the admins, and its recovery letter unlocks', async () => {
      const first = await sessionOf('ivan');
      const second = await sessionOf('ivan');
      // A notice: the password changed from the first browser (the second one is signed out by the change itself).
      const notice = await changePassword('ivan', first, PASSWORD, 'an-intruders-choice-77');
      assert.match(notice.subject, /password was changed/);
      const token = notMeToken(notice);
      assert.match(notice.text, /This wasn't me/);
      const stored = await t.deps.store.db.selectFrom('not_me_tokens').selectAll().where('account_id', '=', ivanId).execute();
      assert.ok(stored.some((row) => row.token_hash === sha256(token)), 'stored as its sha256');
      assert.ok(!JSON.stringify(stored).includes(token), 'never in clear');
      const expiresIn = Date.parse(stored.find((row) => row.token_hash === sha256(token))?.expires_at ?? '') - clock.now().getTime();
      assert.equal(expiresIn, 7 * 24 * 3600_000, 'valid 7 days');

      const third = await sessionOf('ivan', 'an-intruders-choice-77');
      const outstanding = await recoveryToken('ivan');
      // An application's grant, its refresh token and provider session; another person's grant beside them.
      const models = t.deps.store.db.insertInto('oidc_models');
      await models
        .values([
          { name: 'Grant', id: 'g-ivan', payload: JSON.stringify({ accountId: ivanId, clientId: 'crm' }), account_id: ivanId, grant_id: null, user_code: null, uid: null, expires_at: null, consumed_at: null },
          { name: 'RefreshToken', id: 'rt-ivan', payload: JSON.stringify({ accountId: ivanId, grantId: 'g-ivan' }), account_id: ivanId, grant_id: 'g-ivan', user_code: null, uid: null, expires_at: null, consumed_at: null },
          { name: 'AccessToken', id: 'at-ivan', payload: JSON.stringify({ accountId: ivanId, grantId: 'g-ivan' }), account_id: ivanId, grant_id: 'g-ivan', user_code: null, uid: null, expires_at: null, consumed_at: null },
          { name: 'Session', id: 's-ivan', payload: JSON.stringify({ accountId: ivanId, uid: 'u1', authorizations: { crm: { sid: 'sid-1', grantId: 'g-ivan' } } }), account_id: ivanId, grant_id: null, user_code: null, uid: 'u1', expires_at: null, consumed_at: null },
          { name: 'Grant', id: 'g-olga', payload: JSON.stringify({ accountId: olgaId, clientId: 'crm' }), account_id: olgaId, grant_id: null, user_code: null, uid: null, expires_at: null, consumed_at: null },
          { name: 'RefreshToken', id: 'rt-olga', payload: JSON.stringify({ accountId: olgaId, grantId: 'g-olga' }), account_id: olgaId, grant_id: 'g-olga', user_code: null, uid: null, expires_at: null, consumed_at: null },
        ])
        .execute();

      // A mail scanner opens the link (GET and HEAD): nothing changes.
      for (const method of ['GET', 'HEAD'] as const) {
        const opened = await t.app.inject({ method, url: `/account/not-me/${token}` });
        assert.equal(opened.statusCode, 303, `${method} moves the token off the address bar`);
        assert.equal(opened.headers.location, '/account/not-me');
        assert.equal(opened.headers['referrer-policy'], 'no-referrer');
        const page = await t.app.inject({ method, url: '/account/not-me', cookies: { lk_not_me: token } });
        assert.equal(page.statusCode, 200);
      }
      assert.equal(await status(ivanId), 'active');
      assert.equal(await me(third), 200);
      assert.equal((await t.app.inject({ method: 'GET', url: `/recover/email/${outstanding}` })).statusCode, 303, 'the outstanding link still works');

      const foreign = await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: 'https://evil.example' } });
      assert.equal(foreign.statusCode, 403, 'a foreign Origin is refused');
      assert.equal(await status(ivanId), 'active');

      const adminLettersBefore = smtp.mails.filter((m) => m.to === 'boss@example.com').length;
      const pressed = await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: ORIGIN } });
      assert.equal(pressed.statusCode, 202, pressed.body);
      assert.deepEqual(pressed.json(), {});

      assert.equal(await status(ivanId), 'locked');
      for (const session of [first, second, third]) assert.equal(await me(session), 401, 'every session is dead');
      assert.equal((await t.app.inject({ method: 'GET', url: `/recover/email/${outstanding}` })).statusCode, 400, 'the recovery link issued before is dead');
      assert.deepEqual(await oidcRows(), ['Grant:g-olga', 'RefreshToken:rt-olga', 'Session:s-ivan'], "ivan's grant and tokens are gone, olga's stay");
      // The provider session stays (an authorization in progress needs it) but no application is signed in through it.
      const providerSession = await t.deps.store.db.selectFrom('oidc_models').select('payload').where('name', '=', 'Session').where('id', '=', 's-ivan').executeTakeFirstOrThrow();
      assert.equal((JSON.parse(providerSession.payload) as { authorizations?: unknown }).authorizations, undefined);

      // The portal's admin is told, in the admin's language; the admin of a portal ivan is not in is not.
      const [adminLetter] = (await smtp.waitFor((m) => m.to === 'boss@example.com', adminLettersBefore + 1)).slice(-1);
      assert.match(adminLetter?.subject ?? '', /ivan/);
      assert.match(adminLetter?.text ?? '', /Это был не я/);
      assert.match(adminLetter?.text ?? '', /http:\/\/localhost:3000\/admin\/acme\/audit/);
      assert.ok(!smtp.mails.some((m) => m.to === 'chief@example.com'));

      // A fresh recovery letter to the address that got the notice.
      const unlockMail = (await smtp.waitFor((m) => m.to === 'ivan@example.com' && /unlock/.test(m.subject))).at(-1);
      const unlock = RECOVERY_LINK.exec(unlockMail?.text ?? '')?.[1] ?? '';
      assert.ok(unlock);
      assert.equal(RECOVERY_LINK.exec(unlockMail?.html ?? '')?.[1], unlock);

      // Locked: the right password is refused with a pointer to the link; a wrong one answers as always.
      const locked = await signIn('ivan', 'an-intruders-choice-77');
      assert.equal(locked.statusCode, 403);
      assert.equal(locked.json().code, 'account_locked');
      assert.equal(cookieFrom(locked.headers['set-cookie'], 'lk_session'), undefined);
      assert.equal((await signIn('ivan', 'not-the-password-1')).json().code, 'invalid_credentials');
      const loginPage = await t.app.inject({ method: 'POST', url: '/login?lang=en', headers: { origin: ORIGIN }, payload: { login: 'ivan', password: 'an-intruders-choice-77' } });
      assert.equal(loginPage.statusCode, 403);
      assert.match(loginPage.body, /locked after &quot;This wasn&#39;t me&quot;|locked after "This wasn't me"/);

      // The link is used once.
      const again = await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: ORIGIN } });
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().code, 'invalid_token');
      assert.equal((await t.app.inject({ method: 'GET', url: `/account/not-me/${token}` })).statusCode, 400);

      // Completing the recovery it sent unlocks the account and signs in.
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: unlock, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(await status(ivanId), 'active');
      assert.equal(await me(cookieFrom(done.headers['set-cookie'], 'lk_session') ?? ''), 200);
      assert.equal((await signIn('ivan', NEW_PASSWORD)).statusCode, 200);
      const actions = await t.deps.store.db.selectFrom('audit_events').select(['action', 'portal_id']).where('target_account_id', '=', ivanId).execute();
      assert.ok(actions.some((a) => a.action === 'account.not_me' && a.portal_id !== null), "in the portal's audit log");
      assert.ok(actions.some((a) => a.action === 'account.unlocked' && a.portal_id !== null));
      // The portal's admin reads both in the audit log, named in their language.
      const boss = await sessionOf('boss');
      const audit = await t.app.inject({ method: 'GET', url: '/admin/acme/audit?lang=ru', cookies: { lk_session: boss } });
      assert.equal(audit.statusCode, 200);
      assert.match(audit.body, /нажал «Это был не я»: учётная запись заблокирована/);
      assert.match(audit.body, /задал новый пароль: учётная запись разблокирована/);
    });

    it('while locked, no other recovery opens the account: e-mail recovery sends nothing, an older link is refused', async () => {
      const session = await sessionOf('olga');
      const notice = await changePassword('olga', session, PASSWORD, 'velvet-harbour-lantern-9');
      const token = notMeToken(notice);
      assert.match(notice.text, /Это был не я/, "in the account's language");
      assert.equal((await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: ORIGIN } })).statusCode, 202);
      const unlockMail = (await smtp.waitFor((m) => m.to === 'olga@example.com' && /разблокировать/.test(m.subject))).at(-1);
      assert.ok(unlockMail);
      const toOlga = () => smtp.mails.filter((m) => m.to === 'olga@example.com').length;
      const letters = toOlga();
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'olga' } });
      // The request is only a job: wait until the worker has run it, then no recovery letter may have come.
      for (let i = 0; i < 100; i++) {
        const queued = await t.deps.store.db.selectFrom('outbox').select('id').where('status', 'in', ['queued', 'processing']).execute();
        if (queued.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(toOlga(), letters, 'no recovery letter for a locked account');
      assert.equal(await status(olgaId), 'locked');
      // The unlock link still works after that request.
      const unlock = RECOVERY_LINK.exec(unlockMail.text)?.[1] ?? '';
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: unlock, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(await status(olgaId), 'active');
    });

    it('the page: a confirm form in ru and en; the POST needs the form token and our Origin; an unknown link gets a clear page', async () => {
      const session = await sessionOf('boss');
      const token = notMeToken(await changePassword('boss', session, PASSWORD, 'copper-meadow-violin-31'));
      for (const lang of ['ru', 'en'] as const) {
        const page = await t.app.inject({ method: 'GET', url: `/account/not-me?lang=${lang}`, cookies: { lk_not_me: token } });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, lang === 'ru' ? /Заблокировать учётную запись/ : /Lock my account/);
        assert.match(page.body, /bo•••@example\.com/, 'where the link goes, partly hidden');
        assert.ok(!page.body.includes(token), 'the token is not on the page');
        const invalid = await t.app.inject({ method: 'GET', url: `/account/not-me/${'x'.repeat(43)}?lang=${lang}` });
        assert.equal(invalid.statusCode, 400);
        assert.match(invalid.body, lang === 'ru' ? /Ссылка больше не действует/ : /This link no longer works/);
        assert.match(invalid.body, /href="\/recover"/);
      }
      const page = await t.app.inject({ method: 'GET', url: '/account/not-me', cookies: { lk_not_me: token } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      assert.ok(csrf);
      const forged = await t.app.inject({ method: 'POST', url: '/account/not-me', headers: { origin: ORIGIN }, cookies: { lk_not_me: token }, payload: { _csrf: 'nope' } });
      assert.equal(forged.statusCode, 403);
      const noOrigin = await t.app.inject({ method: 'POST', url: '/account/not-me', cookies: { lk_not_me: token }, payload: { _csrf: csrf } });
      assert.equal(noOrigin.statusCode, 403, 'a POST must name our origin');
      assert.equal(await me(session), 200, 'nothing happened');
      const done = await t.app.inject({ method: 'POST', url: '/account/not-me?lang=en', headers: { origin: ORIGIN }, cookies: { lk_not_me: token }, payload: { _csrf: csrf } });
      assert.equal(done.statusCode, 200, done.body);
      assert.match(done.body, /Your account is locked/);
      assert.equal(await me(session), 401);
      // Support's way out when the unlock link never arrives: the operator's `user enable` lifts the lock.
      assert.equal(await status(bossId), 'locked');
      assert.equal(await enableAccount(t.deps, 'boss'), true);
      assert.equal(await status(bossId), 'active');
      assert.equal((await signIn('boss', 'copper-meadow-violin-31')).statusCode, 200);
    });

    it('expires after 7 days; every security notice carries its own link (2FA on, a new sign-in)', async () => {
      const account = await addUser(t.deps, { login: 'petr', email: 'petr@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      await enrolThroughFlows(t.deps, account.id, PASSWORD, clock);
      const enabled = (await smtp.waitFor((m) => m.to === 'petr@example.com' && NOT_ME_LINK.test(m.text))).at(-1) as ReceivedMail;
      assert.match(enabled.subject, /Two-factor sign-in is on/);
      const token = notMeToken(enabled);

      clock.advance(7 * 24 * 3600_000 + 60_000);
      assert.equal((await t.app.inject({ method: 'GET', url: `/account/not-me/${token}` })).statusCode, 400, 'expired');
      const late = await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: ORIGIN } });
      assert.equal(late.statusCode, 400);
      assert.equal(late.json().code, 'invalid_token');
      assert.equal(await status(account.id), 'active');

      // A sign-in from a browser new to the account (no device cookie for it).
      const isNewSignIn = (m: ReceivedMail) => m.to === 'ivan@example.com' && /New sign-in/.test(m.subject);
      const letters = smtp.mails.filter(isNewSignIn).length;
      const ivanAgain = await signIn('ivan', NEW_PASSWORD);
      assert.equal(ivanAgain.statusCode, 200, ivanAgain.body);
      const newSignIn = (await smtp.waitFor(isNewSignIn, letters + 1)).at(-1) as ReceivedMail;
      assert.match(newSignIn.subject, /New sign-in/);
      assert.notEqual(notMeToken(newSignIn), token);
    });

    it('a notice that went to a phone gets its unlock link back by text message', async () => {
      const vera = await addUser(t.deps, { login: 'vera', phone: '+79161234567', password: PASSWORD, locale: 'ru', portals: [{ slug: 'globex', role: 'employee' }] });
      // What a notice to the phone (the old number of a contact change) carries.
      const link = await t.deps.store.db.transaction().execute((tx) => notMeLink(t.deps, tx, { accountId: vera.id, channel: 'phone', contact: '+79161234567', notice: 'phone.change' }));
      const token = NOT_ME_LINK.exec(link)?.[1] ?? '';
      const page = await t.app.inject({ method: 'GET', url: '/account/not-me?lang=ru', cookies: { lk_not_me: token } });
      assert.match(page.body, /в SMS на \+7•••••67/);
      const chiefLetters = smtp.mails.filter((m) => m.to === 'chief@example.com').length;
      assert.equal((await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${token}`, headers: { origin: ORIGIN } })).statusCode, 202);
      assert.equal(await status(vera.id), 'locked');
      let text = '';
      for (let i = 0; i < 100 && !text; i++) {
        text = gateway.received.find((m) => m.to === '+79161234567')?.text ?? '';
        if (!text) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(text, /заблокирована/);
      const unlock = RECOVERY_LINK.exec(text)?.[1] ?? '';
      assert.ok(unlock, text);
      const [toChief] = (await smtp.waitFor((m) => m.to === 'chief@example.com', chiefLetters + 1)).slice(-1);
      assert.match(toChief?.subject ?? '', /vera/, 'the admin of her portal is told, in English');
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: unlock, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(await status(vera.id), 'active');
    });
  });
}
