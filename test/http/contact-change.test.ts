import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findAccountByIdentifier } from '../../src/store/accounts.repo.js';
import { outboxDepth } from '../../src/store/outbox.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer, linkIn, type ReceivedMail } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

/** The confirm link in the letter to the new address. */
function changeLinkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/account\/email\/[A-Za-z0-9_-]+/.exec(mail.text);
  if (!match) throw new Error(`no change link in letter: ${mail.text}`);
  return match[0];
}

for (const dialect of DIALECTS) {
  describe(`e-mail and phone change (${dialect})`, () => {
    const clock = new FakeClock();
    let smtp: TestSmtpServer;
    let gateway: TestSmsGateway;
    let t: TestApp;

    before(async () => {
      smtp = new TestSmtpServer();
      gateway = new TestSmsGateway();
      t = await startTestApp({
        dialect,
        clock,
        env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' },
      });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await gateway.stop();
    });

    let n = 0;
    /** A fresh account (own login, e-mail and phone) and a signed-in session of it. */
    const person = async (locale: 'en' | 'ru' = 'en') => {
      n += 1;
      const login = `user${n}`;
      const email = `${login}@example.com`;
      const phone = `+7916555${String(1000 + n).slice(-4)}`;
      await seedAccount(t.deps, { login, email, phone, locale });
      const signedIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...json, 'user-agent': FIREFOX }, payload: { login, password: PASSWORD } });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      return { login, email, phone, session: cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '' };
    };
    const api = (session: string, method: 'POST' | 'GET', url: string, payload?: object, origin = true) =>
      t.app.inject({ method, url: `/api/v1${url}`, headers: { ...json, 'user-agent': FIREFOX, ...(origin ? { origin: ORIGIN } : {}) }, cookies: { lk_session: session }, ...(payload ? { payload } : {}) });
    const account = async (login: string) => {
      const found = await findAccountByIdentifier(t.deps.store.db, { kind: 'login', key: login });
      assert.ok(found);
      return found;
    };
    const settle = () => waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
    const audit = async (login: string) => {
      const { id } = await account(login);
      return (await t.deps.store.db.selectFrom('audit_events').select('action').where('target_account_id', '=', id).execute()).map((e) => e.action);
    };
    /** Opens the link as a browser: the token moves into a cookie, the confirm form comes with its CSRF token. */
    const openLink = async (link: string) => {
      const opened = await t.app.inject({ method: 'GET', url: new URL(link).pathname });
      assert.equal(opened.statusCode, 303, opened.body);
      assert.equal(opened.headers.location, '/account/email/confirm');
      assert.equal(opened.headers['referrer-policy'], 'no-referrer');
      assert.equal(opened.headers['cache-control'], 'no-store');
      const cookie = cookieFrom(opened.headers['set-cookie'], 'lk_email_change') ?? '';
      const page = await t.app.inject({ method: 'GET', url: '/account/email/confirm', cookies: { lk_email_change: cookie } });
      assert.equal(page.statusCode, 200, page.body);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      return { cookie, csrf, page };
    };
    const confirm = (cookie: string, csrf: string) =>
      t.app.inject({ method: 'POST', url: '/account/email/confirm', headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, cookies: { lk_email_change: cookie }, payload: `_csrf=${csrf}` });
    const requestEmail = async (who: { session: string }, email: string) => {
      const answer = await api(who.session, 'POST', '/me/email', { password: PASSWORD, email });
      assert.equal(answer.statusCode, 202, answer.body);
      return answer;
    };

    it('e-mail: a link to the new address, a notice to the old one; GET and HEAD change nothing; the form lands it once', async () => {
      const ivan = await person('en');
      const answer = await requestEmail(ivan, 'ivan.new@example.com');
      assert.deepEqual(answer.json(), {});
      const [letter] = await smtp.waitFor((m) => m.to === 'ivan.new@example.com');
      const [notice] = await smtp.waitFor((m) => m.to === ivan.email && m.subject.includes('e-mail'));
      assert.ok(letter && notice);
      const link = changeLinkIn(letter);
      assert.ok(link.startsWith(`${ORIGIN}/account/email/`), link);
      assert.match(letter.text, /60 minutes/);
      assert.ok(letter.html.includes(link), 'HTML part holds the link');
      // The notice names the device and the time, and shows the new address only masked.
      assert.match(notice.text, /Firefox/);
      assert.match(notice.text, /2026-11-25 \d\d:\d\d/);
      assert.ok(notice.text.includes('i***@example.com'), notice.text);
      assert.ok(!notice.text.includes('ivan.new@example.com'));
      assert.ok(notice.html.includes('Firefox'));

      // A mail scanner: GET and HEAD of the link, twice; nothing changes.
      const path = new URL(link).pathname;
      assert.equal((await t.app.inject({ method: 'HEAD', url: path })).statusCode, 303);
      const { cookie, csrf, page } = await openLink(link);
      assert.match(page.body, /ivan\.new@example\.com/);
      assert.equal((await account(ivan.login)).email, ivan.email, 'opening the link changes nothing');

      // The form needs its token and our origin.
      assert.equal((await confirm(cookie, 'forged')).statusCode, 403);
      assert.equal((await account(ivan.login)).email, ivan.email);

      const landed = await confirm(cookie, csrf);
      assert.equal(landed.statusCode, 200, landed.body);
      assert.match(landed.body, /data-testid="email-changed"/);
      const after = await account(ivan.login);
      assert.equal(after.email, 'ivan.new@example.com');
      assert.equal(after.email_key, 'ivan.new@example.com');
      assert.ok(after.email_verified_at, 'the proved address is verified');
      assert.deepEqual((await audit(ivan.login)).filter((a) => a.startsWith('email.')).sort(), ['email.change.requested', 'email.changed']);

      // Replayed: the link and the form are dead.
      assert.equal((await confirm(cookie, csrf)).statusCode, 400);
      assert.equal((await t.app.inject({ method: 'GET', url: path })).statusCode, 400);
      // The new address signs in; the old one no longer does.
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan.new@example.com', password: PASSWORD } })).statusCode, 200);
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: ivan.email, password: PASSWORD } })).statusCode, 401);
    });

    it('the old address signs in and recovers until the change lands; a recovery link issued before is dead after', async () => {
      const olga = await person('ru');
      await requestEmail(olga, 'olga.new@example.com');
      const [letter] = await smtp.waitFor((m) => m.to === 'olga.new@example.com');
      assert.ok(letter);
      assert.match(letter.subject, /Подтвердите новый e-mail/, "in the account's language");
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: olga.email, password: PASSWORD } })).statusCode, 200);
      const before = smtp.mails.length;
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: olga.email } })).statusCode, 202);
      const [recovery] = (await smtp.waitFor((m) => m.to === olga.email && /\/recover\/email\//.test(m.text), 1)).filter((_, i, all) => i === all.length - 1);
      assert.ok(recovery && smtp.mails.length > before);
      const recoveryToken = new URL(linkIn(recovery)).pathname.split('/').at(-1) ?? '';

      const { cookie, csrf } = await openLink(changeLinkIn(letter));
      assert.equal((await confirm(cookie, csrf)).statusCode, 200);
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: recoveryToken, password: 'silver-meadow-compass-42' } });
      assert.equal(done.statusCode, 400, done.body);
      assert.equal(done.json().code, 'invalid_token', 'landing killed the outstanding recovery link (rule 5)');
    });

    it('wrong password: invalid_credentials, nothing sent, nothing pending', async () => {
      const petr = await person();
      await settle();
      const sent = smtp.mails.length;
      const answer = await api(petr.session, 'POST', '/me/email', { password: 'not-the-password', email: 'petr.new@example.com' });
      assert.equal(answer.statusCode, 401);
      assert.equal(answer.json().code, 'invalid_credentials');
      const phone = await api(petr.session, 'POST', '/me/phone', { password: 'not-the-password', phone: '+79169990001' });
      assert.equal(phone.json().code, 'invalid_credentials');
      await settle();
      assert.equal(smtp.mails.length, sent);
      assert.equal(gateway.received.filter((m) => m.to === '+79169990001').length, 0);
      const { id } = await account(petr.login);
      assert.equal((await t.deps.store.db.selectFrom('contact_changes').select('id_hash').where('account_id', '=', id).execute()).length, 0);
    });

    it('needs a session and our Origin; bad input is a 4xx', async () => {
      const anna = await person();
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/me/email', headers: { ...json, origin: ORIGIN }, payload: { password: PASSWORD, email: 'a@example.com' } })).statusCode, 401);
      assert.equal((await api(anna.session, 'POST', '/me/email', { password: PASSWORD, email: 'a@example.com' }, false)).statusCode, 403);
      const bad = await api(anna.session, 'POST', '/me/email', { password: PASSWORD, email: 'not an address' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().field, 'email');
      assert.equal((await api(anna.session, 'POST', '/me/phone', { password: PASSWORD, phone: 'abc' })).json().field, 'phone');
      assert.equal((await api(anna.session, 'POST', '/me/email', { password: PASSWORD, email: ['x'] })).statusCode, 400);
    });

    it('a taken address gets the same answer as a free one; landing on it is refused and changes nothing', async () => {
      const owner = await person();
      const other = await person();
      const free = await api(owner.session, 'POST', '/me/email', { password: PASSWORD, email: 'nobody-has-this@example.com' });
      const taken = await api(owner.session, 'POST', '/me/email', { password: PASSWORD, email: other.email });
      assert.equal(taken.statusCode, free.statusCode);
      assert.equal(taken.body, free.body);
      assert.deepEqual(Object.keys(taken.headers).sort(), Object.keys(free.headers).sort());
      const letters = await smtp.waitFor((m) => m.to === other.email && /\/account\/email\//.test(m.text));
      const letter = letters.at(-1);
      assert.ok(letter);
      const { cookie, csrf } = await openLink(changeLinkIn(letter));
      const refused = await confirm(cookie, csrf);
      assert.equal(refused.statusCode, 409);
      assert.match(refused.body, /data-testid="contact-taken"/);
      assert.equal((await account(owner.login)).email, owner.email);
      assert.equal((await account(other.login)).email, other.email);
    });

    it('a new request replaces the pending one; an expired link is refused', async () => {
      const vera = await person();
      await requestEmail(vera, 'vera.one@example.com');
      await requestEmail(vera, 'vera.two@example.com');
      const [first] = await smtp.waitFor((m) => m.to === 'vera.one@example.com');
      const [second] = await smtp.waitFor((m) => m.to === 'vera.two@example.com');
      assert.ok(first && second);
      assert.equal((await t.app.inject({ method: 'GET', url: new URL(changeLinkIn(first)).pathname })).statusCode, 400, 'the older link died');
      const { cookie, csrf } = await openLink(changeLinkIn(second));
      clock.advance(61 * 60_000);
      assert.equal((await confirm(cookie, csrf)).statusCode, 400, 'expired after 60 minutes');
      assert.equal((await t.app.inject({ method: 'GET', url: new URL(changeLinkIn(second)).pathname })).statusCode, 400);
      assert.equal((await account(vera.login)).email, vera.email);
    });

    it('a password change cancels a pending change: the link that went out before is dead', async () => {
      const lev = await person();
      await requestEmail(lev, 'lev.new@example.com');
      const [letter] = await smtp.waitFor((m) => m.to === 'lev.new@example.com');
      assert.ok(letter);
      const changed = await api(lev.session, 'POST', '/me/password', { currentPassword: PASSWORD, newPassword: 'silver-meadow-compass-42' });
      assert.equal(changed.statusCode, 204, changed.body);
      assert.equal((await t.app.inject({ method: 'GET', url: new URL(changeLinkIn(letter)).pathname })).statusCode, 400);
      assert.equal((await account(lev.login)).email, lev.email);
    });

    it("the notice to the old address carries 'this wasn't me'; pressing it locks the account and the pending change dies", async () => {
      const olga = await person();
      await requestEmail(olga, 'olga.thief@example.com');
      const [letter] = await smtp.waitFor((m) => m.to === 'olga.thief@example.com');
      const [notice] = await smtp.waitFor((m) => m.to === olga.email && m.subject.includes('e-mail'));
      assert.ok(letter && notice);
      const notMe = /http:\/\/localhost:3000\/account\/not-me\/([A-Za-z0-9_-]+)/.exec(notice.text)?.[1];
      assert.ok(notMe, `no "this wasn't me" link in the notice: ${notice.text}`);
      assert.ok(notice.html.includes(`/account/not-me/${notMe}`), 'the HTML part holds the link too');
      const pressed = await t.app.inject({ method: 'POST', url: `/api/v1/not-me/${notMe}`, headers: { origin: ORIGIN } });
      assert.equal(pressed.statusCode, 202, pressed.body);
      assert.equal((await t.app.inject({ method: 'GET', url: new URL(changeLinkIn(letter)).pathname })).statusCode, 400, 'the change link is dead');
      assert.equal((await account(olga.login)).email, olga.email);
    });

    it('phone: a code to the new number, a notice to the old one; 204 lands it verified and closes open phone flows', async () => {
      const ivan = await person('ru');
      const NEW = '+79167770011';
      // A phone recovery flow for the old number, open before the change.
      const recovery = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: ivan.phone } });
      assert.equal(recovery.statusCode, 202);
      await waitUntil(() => gateway.lastCode(ivan.phone) !== undefined);
      const oldCode = gateway.lastCode(ivan.phone) ?? '';

      const answer = await api(ivan.session, 'POST', '/me/phone', { password: PASSWORD, phone: '8 916 777-00-11' });
      assert.equal(answer.statusCode, 202, answer.body);
      const { flow, expiresIn } = answer.json() as { flow: string; expiresIn: number };
      assert.ok(flow.length >= 43);
      assert.equal(expiresIn, 15 * 60);
      await waitUntil(() => gateway.lastCode(NEW) !== undefined);
      const sms = gateway.received.filter((m) => m.to === NEW).at(-1);
      assert.ok(sms);
      assert.match(sms.text, /^Код Latchkey для нового номера/);
      assert.ok([...sms.text].length <= 70, `one UCS-2 segment: ${[...sms.text].length}`);
      const code = gateway.lastCode(NEW) ?? '';
      await waitUntil(() => gateway.received.some((m) => m.to === ivan.phone && /смена номера/.test(m.text)));
      await smtp.waitFor((m) => m.to === ivan.email && /номера телефона/.test(m.subject));
      assert.equal((await account(ivan.login)).phone, ivan.phone, 'nothing changes before the code');

      const wrong = await api(ivan.session, 'POST', '/me/phone/verify', { flow, code: code === '000000' ? '111111' : '000000' });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().code, 'invalid_code');
      const ok = await api(ivan.session, 'POST', '/me/phone/verify', { flow, code });
      assert.equal(ok.statusCode, 204, ok.body);
      const after = await account(ivan.login);
      assert.equal(after.phone, NEW);
      assert.ok(after.phone_verified_at);
      assert.deepEqual((await audit(ivan.login)).filter((a) => a.startsWith('phone.')).sort(), ['phone.change.requested', 'phone.changed']);
      assert.equal((await api(ivan.session, 'POST', '/me/phone/verify', { flow, code })).json().code, 'invalid_token', 'replayed');
      const stale = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone/verify', headers: json, payload: { flow: recovery.json().flow, code: oldCode } });
      assert.equal(stale.json().code, 'invalid_token', 'the phone flow opened before the change is closed (rule 5)');
    });

    it('phone: five wrong codes end the change; a taken number gets the same answer and cannot land', async () => {
      const zoya = await person();
      const other = await person();
      const free = await api(zoya.session, 'POST', '/me/phone', { password: PASSWORD, phone: '+79168880022' });
      assert.equal(free.statusCode, 202);
      await waitUntil(() => gateway.lastCode('+79168880022') !== undefined);
      const code = gateway.lastCode('+79168880022') ?? '';
      const wrongCode = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i += 1) assert.equal((await api(zoya.session, 'POST', '/me/phone/verify', { code: wrongCode })).json().code, 'invalid_code');
      assert.equal((await api(zoya.session, 'POST', '/me/phone/verify', { code: wrongCode })).json().code, 'too_many_attempts');
      assert.notEqual((await api(zoya.session, 'POST', '/me/phone/verify', { code })).statusCode, 204, 'the right code after five wrong ones is too late');
      assert.equal((await account(zoya.login)).phone, zoya.phone);

      const taken = await api(zoya.session, 'POST', '/me/phone', { password: PASSWORD, phone: other.phone });
      assert.equal(taken.statusCode, free.statusCode);
      assert.deepEqual(Object.keys(taken.json()).sort(), Object.keys(free.json()).sort());
      await waitUntil(() => gateway.received.some((m) => m.to === other.phone && /нового номера|new number/.test(m.text)));
      const takenCode = gateway.lastCode(other.phone) ?? '';
      const refused = await api(zoya.session, 'POST', '/me/phone/verify', { flow: taken.json().flow, code: takenCode });
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().code, 'contact_taken');
      assert.equal((await account(zoya.login)).phone, zoya.phone);
      assert.equal((await account(other.login)).phone, other.phone);
      // Another person's flow handle is not this session's to verify.
      const mine = await api(other.session, 'POST', '/me/phone/verify', { flow: taken.json().flow, code: takenCode });
      assert.equal(mine.json().code, 'invalid_token');
    });
  });

  describe(`phone change through the SMS guard (${dialect})`, () => {
    let gateway: TestSmsGateway;
    let t: TestApp;

    before(async () => {
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_SMS_CAPS: 'number=1/h', LATCHKEY_SMS_COUNTRIES: 'RU' } });
      await seedAccount(t.deps, { login: 'gleb', email: 'gleb@example.com', locale: 'en' });
    });
    after(async () => {
      await t.close();
      await gateway.stop();
    });

    it('refuses a country off the list (400, field phone) and a number over its cap (429 with Retry-After)', async () => {
      const signedIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'gleb', password: PASSWORD } });
      const session = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
      const ask = (phone: string) => t.app.inject({ method: 'POST', url: '/api/v1/me/phone', headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, payload: { password: PASSWORD, phone } });
      const abroad = await ask('+442079460958');
      assert.equal(abroad.statusCode, 400);
      assert.equal(abroad.json().field, 'phone');
      assert.equal((await ask('+79160001122')).statusCode, 202);
      const capped = await ask('+79160001122');
      assert.equal(capped.statusCode, 429, capped.body);
      assert.equal(capped.json().code, 'rate_limited');
      assert.ok(Number(capped.headers['retry-after']) > 0);
      const refusals = await t.deps.store.db.selectFrom('audit_events').select(['action', 'detail']).where('action', '=', 'sms.refused').execute();
      assert.ok(refusals.some((r) => r.detail === 'number_cap'));
      await waitUntil(() => gateway.received.length === 1);
    });
  });
}
