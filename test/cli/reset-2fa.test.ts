import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { latchkey } from '../support/cli.js';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { enrolThroughFlows } from '../support/second-factor.js';
import { TestSmtpServer } from '../support/smtp.js';

const json = { 'content-type': 'application/json' };


/** `latchkey user reset-2fa <login>` (issue 11, item 5): the operator's answer to a lost phone. */
for (const dialect of DIALECTS) {
  describe(`latchkey user reset-2fa (${dialect})`, () => {
    // The CLI queues the letter by the real clock; the app's worker sends what is due by this one.
    const clock = new FakeClock(Date.now());
    let smtp: TestSmtpServer;
    let t: TestApp;
    let env: Record<string, string>;
    let ivanId = '';

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      ivanId = (await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com' })).id;
      const { config } = t.deps;
      env = { LATCHKEY_DATA_DIR: config.dataDir, LATCHKEY_DATABASE_URL: config.databaseUrl, LATCHKEY_SECRET: config.secret ?? '' };
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const signIn = () => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });

    it('removes the factor, the recovery codes and open challenges; audited as the operator; the person is told', async () => {
      await enrolThroughFlows(t.deps, ivanId, PASSWORD, clock);
      const asked = await signIn();
      assert.equal(asked.statusCode, 202, 'the factor is owed before the reset');

      const run = await latchkey(env, ['user', 'reset-2fa', 'ivan']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /two-factor sign-in of ivan removed/);

      const db = t.deps.store.db;
      assert.equal((await db.selectFrom('second_factors').selectAll().where('account_id', '=', ivanId).execute()).length, 0);
      assert.equal((await db.selectFrom('recovery_codes').selectAll().where('account_id', '=', ivanId).execute()).length, 0);
      const open = await db.selectFrom('pending_challenges').selectAll().where('account_id', '=', ivanId).where('closed_at', 'is', null).execute();
      assert.equal(open.length, 0, 'the open challenge is closed');
      const audit = await db.selectFrom('audit_events').selectAll().where('action', '=', 'operator.2fa.reset').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_kind, 'operator');
      assert.equal(audit[0]?.target_account_id, ivanId);

      const [letter] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.startsWith('Two-factor sign-in was reset'));
      assert.ok(letter);
      assert.match(letter.text, /ivan/);

      const after = await signIn();
      assert.equal(after.statusCode, 200, 'the password alone signs in now');
    });

    it('says so when there is nothing to reset, and refuses an unknown login', async () => {
      const again = await latchkey(env, ['user', 'reset-2fa', 'ivan']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /ivan had no two-factor sign-in/);
      const unknown = await latchkey(env, ['user', 'reset-2fa', 'nobody']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /not_found/);
    });
  });
}
