import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { outboxDepth } from '../../src/store/outbox.repo.js';
import { waitUntil } from '../support/wait.js';
import { TestSmtpServer, linkIn, type ReceivedMail } from '../support/smtp.js';

const NEW_PASSWORD = 'violet-harbour-lantern-88';
const json = { 'content-type': 'application/json' };

for (const dialect of DIALECTS) {
  describe(`recovery by e-mail (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;

    before(async () => {
      smtp = new TestSmtpServer();
      const smtpUrl = await smtp.start();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: smtpUrl, LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps);
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const request = (login: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { ...json, ...headers }, payload: { login } });
    const signIn = (password: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password } });
    const tokenOf = (mail: ReceivedMail) => new URL(linkIn(mail)).pathname.split('/').pop() ?? '';
    const isLink = (m: ReceivedMail) => m.subject.startsWith('Password recovery');
    /** Asks for a link and returns the letter that carries it. */
    const nextLink = async (login: string) => {
      const sent = smtp.mails.filter(isLink).length;
      assert.equal((await request(login)).statusCode, 202);
      const mail = (await smtp.waitFor(isLink, sent + 1)).at(-1);
      assert.ok(mail);
      return mail;
    };

    it('sends a link on PUBLIC_URL, which survives opening and completes exactly once', async () => {
      const before = await signIn(PASSWORD);
      assert.equal(before.statusCode, 200);
      const oldSession = cookieFrom(before.headers['set-cookie'], 'lk_session');
      assert.ok(oldSession);

      // A forged Host header must not move the link anywhere (SPEC §7 rule 11).
      const answer = await request('ivan', { host: 'evil.example' });
      assert.equal(answer.statusCode, 202);
      assert.deepEqual(answer.json(), {});
      const [mail] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.includes('recover'));
      assert.ok(mail);
      const link = linkIn(mail);
      assert.ok(link.startsWith('http://localhost:3000/recover/email/'), link);
      assert.ok(!mail.text.includes('evil.example') && !mail.html.includes('evil.example'));
      assert.ok(mail.html.includes(link), 'the HTML part holds the same link');
      const token = tokenOf(mail);
      assert.ok(token.length >= 43, 'at least 256 bits, base64url');

      // Opening the link (GET and HEAD, twice each) consumes nothing (rule 3).
      for (const method of ['GET', 'HEAD', 'GET', 'HEAD'] as const) {
        const opened = await t.app.inject({ method, url: `/recover/email/${token}` });
        assert.equal(opened.statusCode, 303, `${method} shows the form`);
        assert.equal(opened.headers['referrer-policy'], 'no-referrer');
        assert.equal(opened.headers['cache-control'], 'no-store');
        assert.equal(opened.headers.location, '/recover/password', 'the token leaves the address bar');
      }

      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().account.login, 'ivan');
      assert.equal(done.json().portals.length, 1);
      const newSession = cookieFrom(done.headers['set-cookie'], 'lk_session');
      assert.ok(newSession && newSession !== oldSession);

      assert.equal((await signIn(PASSWORD)).statusCode, 401, 'the old password fails');
      assert.equal((await signIn(NEW_PASSWORD)).statusCode, 200, 'the new password works');

      const again = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'another-fine-password-1' } });
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().code, 'invalid_token');

      // The session opened before the reset is revoked; the one recovery opened works (rule 10).
      const oldMe = await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: oldSession } });
      assert.equal(oldMe.statusCode, 401);
      const newMe = await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: newSession } });
      assert.equal(newMe.statusCode, 200);

      // The "your password was changed" notice, with what to do if it was not you.
      const [notice] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.includes('changed'));
      assert.ok(notice?.text.includes('http://localhost:3000/recover'));
    });

    it('answers an unknown login exactly like a known one, and sends nothing', async () => {
      const links = smtp.mails.filter(isLink).length;
      const known = await request('ivan');
      const unknown = await request('nobody-here');
      const unknownEmail = await request('nobody@example.com');
      for (const answer of [unknown, unknownEmail]) {
        assert.equal(answer.statusCode, known.statusCode);
        assert.equal(answer.body, known.body);
        assert.equal(answer.headers['content-type'], known.headers['content-type']);
      }
      // The known login's letter arrives; then the outbox is empty, so nothing else is on its way.
      await smtp.waitFor(isLink, links + 1);
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      assert.equal(smtp.mails.filter((m) => m.to !== 'ivan@example.com').length, 0);
    });

    it('a new request kills the previous link (rule 5)', async () => {
      const first = await nextLink('ivan@example.com');
      const second = await nextLink('IVAN');
      const stale = await t.app.inject({ method: 'GET', url: `/recover/email/${tokenOf(first)}` });
      assert.equal(stale.statusCode, 400);
      const fresh = await t.app.inject({ method: 'GET', url: `/recover/email/${tokenOf(second)}` });
      assert.equal(fresh.statusCode, 303);
    });

    it('50 parallel completions with one token give exactly one success (rule 2)', async () => {
      const token = tokenOf(await nextLink('ivan'));
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: `parallel-password-${i}-x` } }),
        ),
      );
      const codes = answers.map((a) => a.statusCode);
      assert.equal(codes.filter((c) => c === 200).length, 1, codes.join(','));
      assert.ok(answers.filter((a) => a.statusCode !== 200).every((a) => a.json().code === 'invalid_token'));
      const winner = answers.findIndex((a) => a.statusCode === 200);
      assert.equal((await signIn(`parallel-password-${winner}-x`)).statusCode, 200);
    });

    it('refuses a weak password without using the token up', async () => {
      const token = tokenOf(await nextLink('ivan'));
      const weak = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'password123' } });
      assert.equal(weak.statusCode, 422);
      assert.equal(weak.json().code, 'weak_password');
      assert.deepEqual(weak.json().reasons, ['common']);
      const good = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
      assert.equal(good.statusCode, 200);
    });
  });

  describe(`recovery link lifetime (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    const clock = new FakeClock();

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start() } });
      await seedAccount(t.deps);
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('expires after 60 minutes (rule 4)', async () => {
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      const [mail] = await smtp.waitFor(() => true);
      assert.ok(mail);
      assert.match(mail.text, /60 minutes/);
      const token = new URL(linkIn(mail)).pathname.split('/').pop() ?? '';
      clock.advance(59 * 60_000);
      assert.equal((await t.app.inject({ method: 'GET', url: `/recover/email/${token}` })).statusCode, 303);
      clock.advance(2 * 60_000);
      assert.equal((await t.app.inject({ method: 'GET', url: `/recover/email/${token}` })).statusCode, 400);
      const late = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
      assert.equal(late.json().code, 'invalid_token');
    });
  });
}
