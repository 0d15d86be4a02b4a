import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer, type ReceivedMail } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const linkOf = (text: string) => /https?:\/\/\S+\/recover\/email\/([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';

async function signIn(t: TestApp, login: string, password = PASSWORD): Promise<string> {
  const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
  assert.equal(answer.statusCode, 200, answer.body);
  return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
}

async function complete(t: TestApp, token: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password } });
}

for (const dialect of DIALECTS) {
  describe(`admin console API, cloud (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let gateway: TestSmsGateway;
    let t: TestApp;
    let anna: Account;
    let ivan: Account;
    let boris: Account;
    let adminSession: string;

    before(async () => {
      smtp = new TestSmtpServer();
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      anna = await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', name: 'Ivan Petrov', email: 'ivan@example.com', phone: '+79161234567', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(t.deps, { login: 'petr', name: 'Пётр Сидоров', locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
      boris = await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      adminSession = await signIn(t, 'anna');
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await gateway.stop();
    });

    const asAdmin = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, session = adminSession) =>
      t.app.inject({ method, url: `/api/v1/portals${url}`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, ...(payload ? { payload } : {}) });

    it('lists and searches the employees of the admin’s portal only', async () => {
      const all = await asAdmin('GET', '/acme/users');
      assert.equal(all.statusCode, 200);
      assert.deepEqual(all.json().users.map((u: { login: string }) => u.login).sort(), ['anna', 'ivan', 'petr']);
      for (const query of ['petrov', 'IVAN@', '916 123']) {
        const found = await asAdmin('GET', `/acme/users?query=${encodeURIComponent(query)}`);
        assert.deepEqual(found.json().users.map((u: { login: string }) => u.login), ['ivan'], query);
      }
      // Case folds in every script on both databases (SQLite's own lower() would fold ASCII only).
      for (const query of ['СИДОР', 'пётр']) {
        const found = await asAdmin('GET', `/acme/users?query=${encodeURIComponent(query)}`);
        assert.deepEqual(found.json().users.map((u: { login: string }) => u.login), ['petr'], query);
      }
      const noBoris = await asAdmin('GET', '/acme/users?query=boris');
      assert.deepEqual(noBoris.json().users, []);
      assert.ok(!JSON.stringify(all.json()).includes('argon2'), 'never a password hash');
    });

    it('sends an employee a 24-hour link by e-mail; the admin never sees it; the employee gets back in', async () => {
      const sent = await asAdmin('POST', `/acme/users/${ivan.id}/recovery`, { channel: 'email' });
      assert.equal(sent.statusCode, 202, sent.body);
      assert.deepEqual(Object.keys(sent.json()), ['sentAt']);
      const [mail] = await smtp.waitFor((m: ReceivedMail) => m.to === 'ivan@example.com' && m.subject.includes('Acme Corp'));
      assert.ok(mail);
      assert.match(mail.text, /логин ivan, портал «Acme Corp»/, 'registration data, in the employee’s language');
      assert.match(mail.text, /24 часа/);
      const token = linkOf(mail.text);
      assert.ok(token && !sent.body.includes(token));
      const done = await complete(t, token, 'fresh-start-password-1');
      assert.equal(done.statusCode, 200, done.body);
      assert.ok(done.json().portals.some((p: { slug: string }) => p.slug === 'acme'));
      assert.equal((await complete(t, token, 'another-fresh-password-2')).json().code, 'invalid_token', 'single use');
    });

    it('sends a link by SMS', async () => {
      const sent = await asAdmin('POST', `/acme/users/${ivan.id}/recovery`, { channel: 'phone' });
      assert.equal(sent.statusCode, 202, sent.body);
      await waitUntil(() => gateway.received.length > 0);
      const sms = gateway.received.at(-1);
      assert.equal(sms?.to, '+79161234567');
      const token = linkOf(sms?.text ?? '');
      assert.ok(token);
      assert.equal((await complete(t, token, 'sms-chosen-password-3')).statusCode, 200);
    });

    it('rule 13: members of other portals are not_found, employees are forbidden, CSRF and sign-in are required', async () => {
      const other = await asAdmin('POST', `/acme/users/${boris.id}/recovery`, { channel: 'email' });
      assert.equal(other.statusCode, 404);
      assert.equal(other.json().code, 'not_found');
      assert.equal((await asAdmin('GET', `/acme/users/${boris.id}`)).statusCode, 404);
      assert.equal((await asAdmin('GET', '/acme/users/no-such-id')).statusCode, 404);
      const foreignPortal = await asAdmin('GET', '/globex/users');
      assert.equal(foreignPortal.statusCode, 403);
      const employee = await signIn(t, 'boris');
      const asEmployee = await asAdmin('GET', '/globex/users', undefined, employee);
      assert.equal(asEmployee.statusCode, 403);
      assert.equal(asEmployee.json().code, 'forbidden');
      const noOrigin = await t.app.inject({ method: 'POST', url: `/api/v1/portals/acme/users/${ivan.id}/recovery`, headers: json, cookies: { lk_session: adminSession }, payload: { channel: 'email' } });
      assert.equal(noOrigin.statusCode, 403);
      const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/portals/acme/users' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('a cloud admin can neither set nor see passwords', async () => {
      const set = await asAdmin('PUT', `/acme/users/${ivan.id}/password`, { password: 'admin-chosen-password-4' });
      assert.equal(set.statusCode, 404);
      assert.equal(set.json().code, 'edition_mismatch');
    });

    it('invites a new employee by e-mail: not listed until the first password is set, then active', async () => {
      const invited = await asAdmin('POST', '/acme/users', { email: 'olga.new@example.com', name: 'Olga' });
      assert.equal(invited.statusCode, 202, invited.body);
      assert.deepEqual(Object.keys(invited.json().invitation), ['id', 'contact', 'role', 'status']);
      assert.equal(invited.json().invitation.status, 'invited');
      assert.equal(invited.json().invitation.contact, 'olga.new@example.com');
      const [mail] = await smtp.waitFor((m) => m.to === 'olga.new@example.com');
      assert.ok(mail);
      assert.deepEqual((await asAdmin('GET', '/acme/users?query=olga')).json().users, [], 'only invited: not a member yet');
      const done = await complete(t, linkOf(mail.text), 'spring-river-password-8');
      assert.equal(done.statusCode, 200, done.body);
      assert.deepEqual(done.json().portals.map((p: { slug: string }) => p.slug), ['acme']);
      const listed = await asAdmin('GET', '/acme/users?query=olga');
      assert.equal(listed.json().users[0].login, 'olga.new');
      assert.equal(listed.json().users[0].status, 'active');
      assert.equal(listed.json().users[0].emailVerified, true);
    });

    it('an existing passport gets an invitation to accept, never a membership at once (rule 22)', async () => {
      const invited = await asAdmin('POST', '/acme/users', { email: 'boris@example.com' });
      assert.equal(invited.statusCode, 202, invited.body);
      assert.deepEqual(invited.json().invitation, { id: invited.json().invitation.id, contact: 'boris@example.com', role: 'employee', status: 'invited' });
      const [letter] = await smtp.waitFor((m) => m.to === 'boris@example.com' && m.subject.includes('Acme Corp'));
      assert.match(letter?.text ?? '', /\/invitations\/[A-Za-z0-9_-]+/);
      assert.deepEqual((await asAdmin('GET', '/acme/users?query=boris')).json().users, []);
      assert.equal((await asAdmin('POST', `/acme/users/${boris.id}/recovery`, { channel: 'email' })).statusCode, 404);
      await signIn(t, 'boris');
    });

    it('every admin action is in the audit log, filterable by action and login', async () => {
      const all = await asAdmin('GET', '/acme/audit');
      const actions = all.json().events.map((e: { action: string }) => e.action);
      for (const action of ['admin.recovery_link.sent', 'admin.member.invited', 'member.joined']) assert.ok(actions.includes(action), action);
      const sent = await asAdmin('GET', '/acme/audit?action=admin.recovery_link.sent&login=ivan');
      const events = sent.json().events as Array<{ actor_login: string; target_login: string; detail: string; ip: string }>;
      assert.equal(events.length, 2);
      assert.ok(events.every((e) => e.actor_login === 'anna' && e.target_login === 'ivan' && e.ip === '127.0.0.1'));
      assert.deepEqual(events.map((e) => e.detail).sort(), ['email', 'phone']);
      const globex = await asAdmin('GET', '/globex/audit');
      assert.equal(globex.statusCode, 403);
    });

    it('the console pages: list, profile with only the existing contacts, send, audit', async () => {
      const list = await t.app.inject({ method: 'GET', url: '/admin/acme/users?lang=ru', cookies: { lk_session: adminSession } });
      assert.equal(list.statusCode, 200);
      assert.match(list.body, /Сотрудники/);
      const profile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${ivan.id}?lang=ru`, cookies: { lk_session: adminSession } });
      assert.match(profile.body, /Пароли → Авторизация/);
      assert.match(profile.body, /Восстановить пароль на e-mail/);
      assert.match(profile.body, /Восстановить пароль на телефон/);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(profile.body)?.[1] ?? '';
      const annaProfile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${anna.id}?lang=en`, cookies: { lk_session: adminSession } });
      assert.match(annaProfile.body, /Recover password to e-mail/);
      assert.doesNotMatch(annaProfile.body, /Recover password to phone/, 'no phone, no button');
      const send = await t.app.inject({ method: 'POST', url: `/admin/acme/users/${ivan.id}/recovery`, headers: { origin: ORIGIN }, cookies: { lk_session: adminSession }, payload: { channel: 'email', _csrf: csrf } });
      assert.equal(send.statusCode, 303);
      const after = await t.app.inject({ method: 'GET', url: String(send.headers.location), cookies: { lk_session: adminSession } });
      assert.match(after.body, /data-testid="flash"/);
      assert.doesNotMatch(after.body, /recover\/email\//, 'the admin never sees the link');
      const noToken = await t.app.inject({ method: 'POST', url: `/admin/acme/users/${ivan.id}/recovery`, headers: { origin: ORIGIN }, cookies: { lk_session: adminSession }, payload: { channel: 'email' } });
      assert.equal(noToken.statusCode, 403);
      const audit = await t.app.inject({ method: 'GET', url: '/admin/acme/audit?action=admin.recovery_link.sent', cookies: { lk_session: adminSession } });
      assert.match(audit.body, /data-testid="audit"/);
      const employee = await signIn(t, 'boris');
      assert.equal((await t.app.inject({ method: 'GET', url: '/admin/globex/users', cookies: { lk_session: employee } })).statusCode, 403);
    });
  });

  describe(`admin console API, box (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let emp: Account;
    let adminSession: string;

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, env: { LATCHKEY_EDITION: 'box', LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addUser(t.deps, { login: 'boss', email: 'boss@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'company', role: 'admin' }] });
      emp = await addUser(t.deps, { login: 'worker', email: 'worker@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'company', role: 'employee' }] });
      adminSession = await signIn(t, 'boss');
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('B3: the admin sets a password; the employee’s sessions end; must-change is honoured', async () => {
      const employeeSession = await signIn(t, 'worker');
      const put = (payload: object) =>
        t.app.inject({ method: 'PUT', url: `/api/v1/portals/company/users/${emp.id}/password`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: adminSession }, payload });
      const mismatch = await put({ password: 'set-by-the-boss-1', passwordConfirm: 'set-by-the-boss-2' });
      assert.equal(mismatch.statusCode, 400);
      assert.equal(mismatch.json().field, 'passwordConfirm');
      assert.equal((await put({ password: 'password1' })).json().code, 'weak_password');
      const ok = await put({ password: 'set-by-the-boss-1', passwordConfirm: 'set-by-the-boss-1', mustChange: true });
      assert.equal(ok.statusCode, 204, ok.body);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: employeeSession } })).statusCode, 401, 'sessions revoked');
      const signedIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'worker', password: 'set-by-the-boss-1' } });
      assert.equal(signedIn.json().mustChangePassword, true);
      const page = await t.app.inject({ method: 'POST', url: '/login', payload: { login: 'worker', password: 'set-by-the-boss-1' } });
      assert.equal(page.headers.location, '/account?mustChange=1#password');
      const session = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
      const change = await t.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: session },
        payload: { currentPassword: 'set-by-the-boss-1', newPassword: 'my-own-choice-again-7' },
      });
      assert.equal(change.statusCode, 204);
      const again = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'worker', password: 'my-own-choice-again-7' } });
      assert.equal(again.json().mustChangePassword, false);
      await smtp.waitFor((m) => m.to === 'worker@example.com' && m.subject.includes('changed'));
      const audit = await t.app.inject({ method: 'GET', url: '/api/v1/portals/company/audit?action=admin.password.set', cookies: { lk_session: adminSession } });
      assert.equal(audit.json().events.length, 1);
    });

    it('admin-sent recovery links are cloud only', async () => {
      const sent = await t.app.inject({ method: 'POST', url: `/api/v1/portals/company/users/${emp.id}/recovery`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: adminSession }, payload: { channel: 'email' } });
      assert.equal(sent.statusCode, 404);
      assert.equal(sent.json().code, 'edition_mismatch');
    });
  });
}
