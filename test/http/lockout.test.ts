import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../../src/flows/operator.js';
import { limits } from '../../src/domain/limits.js';
import { csrfToken } from '../../src/http/security.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmtpServer, linkIn, type ReceivedMail } from '../support/smtp.js';

/**
 * No lockout an attacker can trigger (SPEC §7 rules 8 and 20, issue 10 item 4), "must change password"
 * in every signed-in context (SPEC §5, item 10), and the sign-in and recovery audit events: the real app
 * on both databases with rate limits on, clients told apart by `remoteAddress`.
 */

const json = { 'content-type': 'application/json' };
const ORIGIN = 'http://localhost:3000';
const WRONG = 'not-her-password-at-all';
const NEW_PASSWORD = 'violet-harbour-lantern-88';

/** The same secret with its last character changed. */
function altered(secret: string): string {
  return secret.slice(0, -1) + (secret.at(-1) === 'A' ? 'B' : 'A');
}

for (const dialect of DIALECTS) {
  describe(`sign-in: failures only, per client and per account; the owner's browser keeps its own budget (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    let anna: { id: string };

    before(async () => {
      t = await startTestApp({ dialect, clock });
      anna = await seedAccount(t.deps, { login: 'anna', email: 'anna@example.com' });
    });
    after(() => t.close());

    const signIn = (login: string, password: string, ip: string, device?: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, remoteAddress: ip, payload: { login, password }, ...(device ? { cookies: { lk_device: device } } : {}) });
    /** A fresh window for every test: the previous test's failures end by themselves. */
    const nextWindow = () => clock.advance(limits.signInPerAccount.windowMs + 1000);

    it('ten wrong passwords from one address do not refuse the right one from another address', async () => {
      nextWindow();
      for (let i = 0; i < limits.signInPerAccountClient.max; i++) assert.equal((await signIn('anna', WRONG, '203.0.113.66')).statusCode, 401);
      const attacker = await signIn('anna', PASSWORD, '203.0.113.66');
      assert.equal(attacker.statusCode, 429, 'that client has spent its budget for anna');
      assert.equal(attacker.json().code, 'rate_limited');
      assert.ok(Number(attacker.headers['retry-after']) > 0);
      const owner = await signIn('anna', PASSWORD, '198.51.100.7');
      assert.equal(owner.statusCode, 200, owner.body);
    });

    it('once wrong passwords from many addresses spend the account, only the browser that signed in before still gets in', async () => {
      nextWindow();
      // The owner signed in from her browser last week: it holds the device cookie.
      const earlier = await signIn('anna', PASSWORD, '198.51.100.7');
      assert.equal(earlier.statusCode, 200);
      const device = cookieFrom(earlier.headers['set-cookie'], 'lk_device');
      assert.ok(device, 'a sign-in sets the device cookie');
      assert.match(String(earlier.headers['set-cookie']), /lk_device=[^;]+;.*Max-Age=\d{7,}/i, 'it lasts months');

      const { max: perClient } = limits.signInPerAccountClient;
      const clients = Math.ceil(limits.signInPerAccount.max / perClient);
      for (let c = 0; c < clients; c++) {
        for (let i = 0; i < perClient; i++) assert.equal((await signIn('anna', WRONG, `203.0.113.${c + 1}`)).statusCode, 401);
      }
      const stranger = await signIn('anna', PASSWORD, '192.0.2.200');
      assert.equal(stranger.statusCode, 429, 'a browser without the device cookie: the shared budget is spent');
      assert.equal(stranger.json().code, 'rate_limited');

      const owner = await signIn('anna', PASSWORD, '198.51.100.7', device);
      assert.equal(owner.statusCode, 200, owner.body);
      // Also from an address the attacker spent, and through the sign-in page.
      assert.equal((await signIn('anna', PASSWORD, '203.0.113.1', device)).statusCode, 200);
      const page = await t.app.inject({ method: 'POST', url: '/login', remoteAddress: '198.51.100.7', cookies: { lk_device: device }, payload: { login: 'anna', password: PASSWORD } });
      assert.equal(page.statusCode, 303, page.body);
      assert.equal(page.headers.location, '/portals');
      // A forged or another account's device cookie vouches for nothing.
      assert.equal((await signIn('anna', PASSWORD, '192.0.2.201', altered(device))).statusCode, 429);
    });

    it("the owner's browser has a budget of its own: her own typos are counted there", async () => {
      nextWindow();
      const device = cookieFrom((await signIn('anna', PASSWORD, '198.51.100.8')).headers['set-cookie'], 'lk_device');
      assert.ok(device);
      for (let i = 0; i < limits.signInPerDevice.max; i++) assert.equal((await signIn('anna', WRONG, '198.51.100.8', device)).statusCode, 401);
      assert.equal((await signIn('anna', PASSWORD, '198.51.100.8', device)).statusCode, 429);
      clock.advance(limits.signInPerDevice.windowMs + 1000);
      assert.equal((await signIn('anna', PASSWORD, '198.51.100.8', device)).statusCode, 200, 'the window ends by itself');
    });

    it('a burst of parallel wrong passwords stays inside the budget (counted before the check, refunded when right)', async () => {
      nextWindow();
      const burst = await Promise.all(Array.from({ length: 30 }, () => signIn('anna', WRONG, '203.0.113.77')));
      const checked = burst.filter((answer) => answer.statusCode === 401).length;
      assert.equal(checked, limits.signInPerAccountClient.max, `${checked} guesses were checked in parallel`);
      assert.ok(burst.every((answer) => answer.statusCode === 401 || answer.statusCode === 429));
      // Right passwords are refunded once checked: a few in parallel, then many in a row, never spend the budget.
      const right = await Promise.all(Array.from({ length: 5 }, () => signIn('anna', PASSWORD, '198.51.100.21')));
      assert.deepEqual(right.map((answer) => answer.statusCode), [200, 200, 200, 200, 200]);
      for (let i = 0; i < 2 * limits.signInPerAccountClient.max; i++) assert.equal((await signIn('anna', PASSWORD, '198.51.100.21')).statusCode, 200);
    });

    it('a right password never counts as a failure', async () => {
      nextWindow();
      for (let i = 0; i < 2 * limits.signInPerIp.max; i++) {
        const answer = await signIn('anna', PASSWORD, '198.51.100.9');
        assert.equal(answer.statusCode, 200, `sign-in ${i + 1}: ${answer.body}`);
      }
    });

    it('an unknown login answers exactly like a wrong password, 429 included', async () => {
      nextWindow();
      const answers = async (login: string, ip: string) => {
        const seen = [];
        for (let i = 0; i <= limits.signInPerAccountClient.max; i++) {
          const answer = await signIn(login, WRONG, ip);
          seen.push({ status: answer.statusCode, body: answer.body, type: answer.headers['content-type'], retry: answer.headers['retry-after'] !== undefined });
        }
        return seen;
      };
      const known = await answers('anna', '203.0.113.90');
      const unknown = await answers('nobody-here', '203.0.113.91');
      assert.deepEqual(unknown, known);
      assert.equal(known.at(-1)?.status, 429);
      assert.equal(known.at(-2)?.status, 401);
    });

    it('the device cookie outlives sign-out', async () => {
      nextWindow();
      const signedIn = await signIn('anna', PASSWORD, '198.51.100.10');
      const session = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
      const device = cookieFrom(signedIn.headers['set-cookie'], 'lk_device') ?? '';
      assert.ok(session && device, signedIn.body);
      const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { origin: ORIGIN }, cookies: { lk_session: session, lk_device: device } });
      assert.equal(out.statusCode, 204);
      assert.equal(cookieFrom(out.headers['set-cookie'], 'lk_device'), undefined, 'sign-out leaves the device cookie alone');
      const other = cookieFrom((await signIn('anna', PASSWORD, '198.51.100.10', device)).headers['set-cookie'], 'lk_session') ?? '';
      assert.ok(other);
      const page = await t.app.inject({
        method: 'POST',
        url: '/logout',
        cookies: { lk_session: other, lk_device: device },
        payload: { _csrf: csrfToken(t.deps.secretKey, sha256(other)) },
      });
      assert.equal(page.statusCode, 303, page.body);
      assert.equal(page.headers.location, '/login');
      assert.equal(cookieFrom(page.headers['set-cookie'], 'lk_device'), undefined);
    });

    it('audits sign-in successes and failures with metadata only', async () => {
      const rows = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', 'in', ['signin.succeeded', 'signin.failed']).execute();
      const of = (action: string, detail: string | null, target: string | null) => rows.filter((r) => r.action === action && r.detail === detail && r.target_account_id === target);
      assert.ok(of('signin.succeeded', 'password', anna.id).length > 0);
      assert.ok(of('signin.succeeded', 'password', anna.id).every((r) => r.actor_account_id === anna.id && r.ip !== null));
      assert.ok(of('signin.failed', 'wrong_password', anna.id).length > 0);
      assert.ok(of('signin.failed', 'rate_limited', anna.id).length > 0);
      assert.ok(of('signin.failed', 'wrong_password', null).length > 0, 'an unknown login: no target');
      assert.ok(of('signin.failed', 'rate_limited', null).length > 0);
      const all = JSON.stringify(rows);
      assert.ok(!all.includes(PASSWORD) && !all.includes(WRONG) && !all.includes('nobody-here'), 'no password, no typed login');
    });
  });

  describe(`recovery links: wrong tokens count per client, a live one always works; requests audited (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    let t: TestApp;
    let ivan: { id: string };

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await smtp.start() } });
      ivan = await seedAccount(t.deps);
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const isLink = (m: ReceivedMail) => m.subject.startsWith('Password recovery');

    it('a live link sets the password from a client that spent its budget on wrong tokens; the browser is remembered', async () => {
      const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, remoteAddress: '198.51.100.20', payload: { login: 'ivan' } });
      assert.equal(asked.statusCode, 202);
      const mail = (await smtp.waitFor(isLink)).at(-1);
      assert.ok(mail);
      const token = new URL(linkIn(mail)).pathname.split('/').pop() ?? '';
      const complete = (value: string) =>
        t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, remoteAddress: '203.0.113.30', payload: { token: value, password: NEW_PASSWORD } });
      for (let i = 0; i < limits.completePerIp.max; i++) assert.equal((await complete(altered(token))).json().code, 'invalid_token');
      const limited = await complete(altered(token));
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers['retry-after']) > 0);
      const done = await complete(token);
      assert.equal(done.statusCode, 200, done.body);
      assert.ok(cookieFrom(done.headers['set-cookie'], 'lk_device'), 'a recovery sign-in remembers the browser too');

      const rows = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'recovery.requested').execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.target_account_id, ivan.id);
      assert.equal(rows[0]?.detail, 'email');
      assert.equal(rows[0]?.ip, '198.51.100.20');
      const all = JSON.stringify(await t.deps.store.db.selectFrom('audit_events').selectAll().execute());
      assert.ok(!all.includes(token) && !all.includes(NEW_PASSWORD), 'no token, no password in the audit log');
    });

    it('a request for an unknown login leaves no audit event', async () => {
      const before = (await t.deps.store.db.selectFrom('audit_events').selectAll().execute()).length;
      const sent = smtp.mails.length;
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ghost' } })).statusCode, 202);
      // A request for a real account after it: once its letter is out, the worker has passed the ghost's job too.
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } })).statusCode, 202);
      await smtp.waitFor(isLink, sent + 1);
      const rows = await t.deps.store.db.selectFrom('audit_events').selectAll().execute();
      assert.equal(rows.length, before + 1);
      assert.equal(rows.filter((r) => r.action === 'recovery.requested' && r.target_account_id === null).length, 0);
    });
  });

  describe(`box: wrong checkwords never refuse the owner's; must change password everywhere (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    let t: TestApp;
    let worker: { id: string };
    let slug: string;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_EDITION: 'box', LATCHKEY_SMTP_URL: await smtp.start() } });
      slug = t.deps.config.boxPortal.slug;
      await addUser(t.deps, { login: 'boss', email: 'boss@example.com', password: PASSWORD, locale: 'en', portals: [{ slug, role: 'admin' }] });
      worker = await addUser(t.deps, { login: 'worker', email: 'worker@example.com', password: PASSWORD, locale: 'en', portals: [{ slug, role: 'employee' }] });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const sessionOf = async (login: string, password: string) => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
      assert.equal(answer.statusCode, 200, answer.body);
      return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
    };

    it('ten wrong checkwords from ten addresses, then the owner opens her letter: it works', async () => {
      const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword', headers: json, remoteAddress: '198.51.100.40', payload: { login: 'worker' } });
      assert.equal(asked.statusCode, 202);
      const [mail] = await smtp.waitFor((m) => m.to === 'worker@example.com' && m.text.includes('/recover/checkword?'));
      assert.ok(mail);
      const checkword = new URL(/https?:\/\/\S+\/recover\/checkword\?\S+/.exec(mail.text)?.[0] ?? '').searchParams.get('checkword') ?? '';
      const attempt = (word: string, ip: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/recovery/checkword/complete',
          headers: json,
          remoteAddress: ip,
          payload: { login: 'worker', checkword: word, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
        });
      for (let i = 0; i < limits.checkwordAttemptsPerLogin.max; i++) {
        const wrong = await attempt(altered(checkword), `203.0.113.${100 + i}`);
        assert.equal(wrong.json().code, 'invalid_token');
      }
      const limited = await attempt(altered(checkword), '203.0.113.200');
      assert.equal(limited.statusCode, 429, 'wrong ones past the account budget are refused');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      const right = await attempt(checkword, '198.51.100.40');
      assert.equal(right.statusCode, 200, right.body);
      assert.ok(cookieFrom(right.headers['set-cookie'], 'lk_device'), 'a checkword sign-in remembers the browser');
      const audit = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'recovery.requested').execute();
      assert.deepEqual(
        audit.map((r) => [r.target_account_id, r.detail, r.ip]),
        [[worker.id, 'checkword', '198.51.100.40']],
      );
      assert.ok(!JSON.stringify(audit).includes(checkword));
    });

    it('B3 must change: only the password change and sign-out work until then, in the API and on pages', async () => {
      const admin = await sessionOf('boss', PASSWORD);
      const set = await t.app.inject({
        method: 'PUT',
        url: `/api/v1/portals/${slug}/users/${worker.id}/password`,
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: admin },
        payload: { password: 'set-by-the-boss-1', passwordConfirm: 'set-by-the-boss-1', mustChange: true },
      });
      assert.equal(set.statusCode, 204, set.body);
      const session = await sessionOf('worker', 'set-by-the-boss-1');
      const get = (url: string) => t.app.inject({ method: 'GET', url, cookies: { lk_session: session } });

      for (const url of ['/api/v1/me', '/api/v1/me/sign-in-methods', `/api/v1/portals/${slug}/users`]) {
        const refused = await get(url);
        assert.equal(refused.statusCode, 403, url);
        assert.equal(refused.json().code, 'password_change_required', url);
        assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
      }
      for (const url of ['/portals', `/portals/${slug}`, '/admin', `/admin/${slug}/users`]) {
        const page = await get(url);
        assert.equal(page.statusCode, 303, url);
        assert.equal(page.headers.location, '/account?mustChange=1#password', url);
      }
      assert.equal((await get('/account')).statusCode, 200, 'the password form itself opens');

      const change = await t.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: session },
        payload: { currentPassword: 'set-by-the-boss-1', newPassword: 'my-own-choice-again-7' },
      });
      assert.equal(change.statusCode, 204, change.body);
      assert.equal((await get('/api/v1/me')).statusCode, 200, 'lifted');
      assert.equal((await get(`/portals/${slug}`)).statusCode, 200);

      // Sign-out works while it stands, too.
      await t.app.inject({
        method: 'PUT',
        url: `/api/v1/portals/${slug}/users/${worker.id}/password`,
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: admin },
        payload: { password: 'set-by-the-boss-2', passwordConfirm: 'set-by-the-boss-2', mustChange: true },
      });
      const again = await sessionOf('worker', 'set-by-the-boss-2');
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: again } })).statusCode, 403);
      const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { origin: ORIGIN }, cookies: { lk_session: again } });
      assert.equal(out.statusCode, 204);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: again } })).statusCode, 401, 'signed out');
    });
  });
}
