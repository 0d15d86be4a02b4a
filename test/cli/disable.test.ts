import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { latchkey } from '../support/cli.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';

const json = { 'content-type': 'application/json' };


for (const dialect of DIALECTS) {
  describe(`latchkey user disable / enable (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let env: Record<string, string>;
    /** ivan's session from before he was disabled. */
    let oldSession = '';
    /** The recovery link ivan was sent before he was disabled. */
    let oldToken = '';

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com' });
      await seedAccount(t.deps, { login: 'olga', email: 'olga@example.com' });
      const { config } = t.deps;
      env = { LATCHKEY_DATA_DIR: config.dataDir, LATCHKEY_DATABASE_URL: config.databaseUrl, LATCHKEY_SECRET: config.secret ?? '' };
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const signIn = (login: string, password = PASSWORD) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
    const recover = (login: string) => t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login } });
    const me = async (session: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } })).statusCode;
    /** Asks for olga's letter after `login`'s request and waits for it: the worker has passed `login`'s job by then. */
    const lettersAfterRequest = async (login: string) => {
      const before = smtp.mails.length;
      const mine = await recover(login);
      const marker = await recover('olga');
      await smtp.waitFor((m) => m.to === 'olga@example.com' && smtp.mails.indexOf(m) >= before);
      return { response: mine, letters: smtp.mails.slice(before).filter((m) => m.to === 'ivan@example.com'), marker };
    };

    it('disable: sessions and outstanding links die; sign-in and recovery answer as for an unknown account; no letter; audited', async () => {
      const session = cookieFrom((await signIn('ivan')).headers['set-cookie'], 'lk_session') ?? '';
      oldSession = session;
      assert.equal(await me(session), 200);
      await recover('ivan');
      const [letter] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.startsWith('Password recovery'));
      assert.ok(letter);
      const token = new URL(linkIn(letter)).pathname.split('/').pop() ?? '';
      oldToken = token;

      const run = await latchkey(env, ['user', 'disable', 'ivan']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /ivan disabled/);

      assert.equal(await me(session), 401, 'the session died');
      const complete = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'a-brand-new-password-7' } });
      assert.equal(complete.statusCode, 400);
      assert.equal(complete.json().code, 'invalid_token', 'the link sent before dies');

      const disabled = await signIn('ivan');
      const unknown = await signIn('nobody-at-all');
      assert.equal(disabled.statusCode, 401);
      assert.equal(disabled.body, unknown.body, 'the right password of a disabled account answers like an unknown login');
      assert.equal(cookieFrom(disabled.headers['set-cookie'], 'lk_session'), undefined);

      const asked = await lettersAfterRequest('ivan');
      const unknownAsked = await recover('nobody-at-all');
      assert.equal(asked.response.statusCode, 202);
      assert.equal(asked.response.statusCode, unknownAsked.statusCode);
      assert.equal(asked.response.body, unknownAsked.body);
      assert.deepEqual(asked.letters, [], 'no recovery letter for a disabled account');

      const audit = await t.deps.store.db.selectFrom('audit_events').select(['action', 'actor_kind']).where('action', '=', 'operator.account.disabled').execute();
      assert.deepEqual(audit, [{ action: 'operator.account.disabled', actor_kind: 'operator' }]);
      const again = await latchkey(env, ['user', 'disable', 'ivan']);
      assert.equal(again.code, 0);
      assert.match(again.stdout, /already disabled/);
    });

    it('enable: the account signs in and recovers again; old sessions stay dead', async () => {
      const run = await latchkey(env, ['user', 'enable', 'ivan']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /ivan enabled/);
      assert.equal((await signIn('ivan')).statusCode, 200);
      assert.equal(await me(oldSession), 401, 'a session from before stays dead');
      const complete = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: oldToken, password: 'a-brand-new-password-7' } });
      assert.equal(complete.json().code, 'invalid_token', 'a link from before stays dead');
      const asked = await lettersAfterRequest('ivan');
      assert.equal(asked.response.statusCode, 202);
      await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.startsWith('Password recovery'), 2);
    });

    it('an unknown login or a missing one is a clear error with a non-zero exit code', async () => {
      const unknown = await latchkey(env, ['user', 'disable', 'nobody']);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /latchkey: not_found: no account with login nobody/);
      const missing = await latchkey(env, ['user', 'enable']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /user enable needs <login>/);
    });
  });
}
