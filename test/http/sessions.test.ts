import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../../src/kernel/crypto.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmtpServer } from '../support/smtp.js';

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const SAFARI = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

interface SessionJson {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
}

for (const dialect of DIALECTS) {
  describe(`sessions (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    const clock = new FakeClock();

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off', LATCHKEY_SESSION_IDLE_HOURS: '2' } });
      await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com', locale: 'en' });
      await seedAccount(t.deps, { login: 'olga', email: 'olga@example.com', locale: 'ru' });
      await seedAccount(t.deps, { login: 'petr', email: 'petr@example.com', locale: 'en' });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    /** Signs in as a browser would: its user agent, and its device cookie when it has one. */
    const signIn = async (login: string, userAgent: string, device?: string) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        headers: { ...json, 'user-agent': userAgent },
        cookies: device ? { lk_device: device } : {},
        payload: { login, password: PASSWORD },
      });
      assert.equal(response.statusCode, 200, response.body);
      return { session: cookieFrom(response.headers['set-cookie'], 'lk_session') ?? '', device: cookieFrom(response.headers['set-cookie'], 'lk_device') ?? '' };
    };
    const list = async (session: string) => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/me/sessions', cookies: { lk_session: session } });
      return { status: response.statusCode, sessions: response.statusCode === 200 ? (response.json() as { sessions: SessionJson[] }).sessions : [] };
    };
    const me = async (session: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } })).statusCode;

    it('lists every session with device, IP, times and the current flag; the id is never the session hash', async () => {
      const first = await signIn('ivan', FIREFOX);
      const second = await signIn('ivan', SAFARI);
      const { status, sessions } = await list(first.session);
      assert.equal(status, 200);
      assert.equal(sessions.length, 2);
      const mine = sessions.find((s) => s.current);
      const other = sessions.find((s) => !s.current);
      assert.ok(mine && other);
      assert.equal(mine.userAgent, FIREFOX);
      assert.equal(other.userAgent, SAFARI);
      assert.equal(mine.ip, '127.0.0.1');
      assert.equal(mine.createdAt, clock.now().toISOString());
      assert.equal(mine.lastSeenAt, clock.now().toISOString());
      for (const s of sessions) {
        assert.notEqual(s.id, sha256(first.session));
        assert.notEqual(s.id, sha256(second.session));
        assert.ok(!JSON.stringify(s).includes(first.session) && !JSON.stringify(s).includes(second.session));
      }
      assert.equal((await list(second.session)).sessions.find((s) => s.current)?.id, other.id, 'the other browser sees itself as current');
    });

    it('signs out one session, then every other one; needs our Origin; another person\'s session id is not_found', async () => {
      const a = await signIn('petr', FIREFOX);
      const b = await signIn('petr', SAFARI);
      const c = await signIn('petr', SAFARI);
      const ivan = await signIn('ivan', FIREFOX);
      const { sessions } = await list(a.session);
      const bId = (await list(b.session)).sessions.find((s) => s.current)?.id ?? '';
      assert.equal(sessions.length, 3);

      const noOrigin = await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${bId}`, cookies: { lk_session: a.session } });
      assert.equal(noOrigin.statusCode, 403, 'CSRF: a cookie-authenticated DELETE needs our Origin');
      const stranger = await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${bId}`, headers: { origin: ORIGIN }, cookies: { lk_session: ivan.session } });
      assert.equal(stranger.statusCode, 404, "someone else's session is not_found");
      assert.equal(await me(b.session), 200);
      const unknown = await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${'x'.repeat(32)}`, headers: { origin: ORIGIN }, cookies: { lk_session: a.session } });
      assert.equal(unknown.statusCode, 404);

      const one = await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sessions/${bId}`, headers: { origin: ORIGIN }, cookies: { lk_session: a.session } });
      assert.equal(one.statusCode, 204);
      assert.equal(await me(b.session), 401, 'that session is signed out');
      assert.equal(await me(c.session), 200);
      assert.equal(await me(a.session), 200);

      const others = await t.app.inject({ method: 'DELETE', url: '/api/v1/me/sessions', headers: { origin: ORIGIN }, cookies: { lk_session: a.session } });
      assert.equal(others.statusCode, 204);
      assert.equal(await me(c.session), 401);
      assert.equal(await me(a.session), 200, 'the one asking stays signed in');
      assert.equal((await list(a.session)).sessions.length, 1);
      assert.equal(await me(ivan.session), 200, "another person's sessions are untouched");
    });

    it('the page lists sessions and signs one out with the form token (ru and en)', async () => {
      const a = await signIn('olga', FIREFOX);
      const b = await signIn('olga', SAFARI);
      for (const lang of ['ru', 'en'] as const) {
        const page = await t.app.inject({ method: 'GET', url: `/account/sessions?lang=${lang}`, cookies: { lk_session: a.session } });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, lang === 'ru' ? /Firefox на Linux/ : /Firefox on Linux/);
        assert.match(page.body, lang === 'ru' ? /Safari на iPhone/ : /Safari on iPhone/);
        assert.match(page.body, lang === 'ru' ? /Это устройство/ : /This device/);
        assert.match(page.body, lang === 'ru' ? /Выйти на всех других устройствах/ : /Sign out everywhere else/);
      }
      const page = await t.app.inject({ method: 'GET', url: '/account/sessions', cookies: { lk_session: a.session } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const action = /action="(\/account\/sessions\/[^"/]+\/sign-out)"/.exec(page.body)?.[1] ?? '';
      assert.ok(csrf && action);
      const forged = await t.app.inject({ method: 'POST', url: action, headers: { origin: ORIGIN }, cookies: { lk_session: a.session }, payload: { _csrf: 'nope' } });
      assert.equal(forged.statusCode, 403, 'no form token, no sign-out');
      assert.equal(await me(b.session), 200);
      const done = await t.app.inject({ method: 'POST', url: action, headers: { origin: ORIGIN }, cookies: { lk_session: a.session }, payload: { _csrf: csrf } });
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/account/sessions?done=one');
      assert.equal(await me(b.session), 401);
      const account = await t.app.inject({ method: 'GET', url: '/account', cookies: { lk_session: a.session } });
      assert.match(account.body, /href="\/account\/sessions"/, '/account links to the sessions page');
      const signedOut = await t.app.inject({ method: 'GET', url: '/account/sessions' });
      assert.equal(signedOut.statusCode, 303);
    });

    it('idle timeout: a session unused for LATCHKEY_SESSION_IDLE_HOURS is dead; use keeps it alive', async () => {
      const { session } = await signIn('ivan', FIREFOX);
      clock.advance(90 * 60_000);
      assert.equal(await me(session), 200, 'used after 1.5 h of 2');
      clock.advance(90 * 60_000);
      assert.equal(await me(session), 200, '3 h after sign-in, but only 1.5 h idle');
      const lastSeen = (await list(session)).sessions.find((s) => s.current)?.lastSeenAt;
      assert.equal(lastSeen, clock.now().toISOString(), 'last seen moves with use');
      clock.advance(2 * 3600_000 + 1000);
      assert.equal(await me(session), 401, 'idle for more than 2 h: signed out');
      assert.equal((await list(session)).status, 401);
    });

    it('a sign-in from a browser without the device cookie sends one "new sign-in" notice; the same browser again does not', async () => {
      const fresh = await seedAccount(t.deps, { login: 'anna', email: 'anna@example.com', locale: 'ru' });
      const first = await signIn('anna', FIREFOX);
      // The very first session of a new account tells nobody anything.
      await signIn('anna', FIREFOX, first.device);
      await signIn('anna', SAFARI);
      const [notice] = await smtp.waitFor((m) => m.to === 'anna@example.com');
      assert.ok(notice);
      assert.equal(notice.subject, 'Новый вход в аккаунт Latchkey');
      assert.match(notice.text, /Safari на iPhone/);
      assert.match(notice.text, /IP-адрес: 127\.0\.0\.1/);
      assert.match(notice.text, new RegExp(clock.now().toISOString().slice(0, 16).replace('T', ' ')));
      assert.match(notice.text, /http:\/\/localhost:3000\/account\/sessions/);
      assert.match(notice.html, /Safari на iPhone/);
      assert.ok(fresh.id);

      const en = await signIn('petr', SAFARI);
      await signIn('petr', SAFARI, en.device);
      const letters = await smtp.waitFor((m) => m.to === 'petr@example.com' && m.text.includes('Safari on iPhone'));
      assert.equal(letters[0]?.subject, 'New sign-in to your Latchkey account');
      // The outbox is the single source of what is sent: wait until it is empty, then count.
      const sent = async (to: string) => (await t.deps.store.db.selectFrom('outbox').select('id').where('kind', '=', 'notice.new_sign_in').where('recipient', '=', to).execute()).length;
      assert.equal(await sent('anna@example.com'), 1, 'one notice: the first sign-in and the same browser again sent none');
    });
  });
}
