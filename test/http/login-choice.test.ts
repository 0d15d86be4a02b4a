import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser } from '../../src/flows/operator.js';
import { openSession } from '../../src/flows/session.js';
import { DIALECTS, startTestApp, type TestApp } from '../support/app.js';

const ORIGIN = 'http://localhost:3000';
const NEW_PASSWORD = 'a-login-of-my-own-2026';

/**
 * Issue 10, item 11: a social-only account choosing its login learned whether other logins exist. Taken and
 * confusable logins now get one answer, and the tries are capped hard.
 */
for (const dialect of DIALECTS) {
  describe(`choosing a login (${dialect})`, () => {
    let t: TestApp;
    let cookie: string;
    before(async () => {
      t = await startTestApp({ dialect });
      await addUser(t.deps, { login: 'petr', password: 'correct-horse-battery-staple', locale: 'en' });
      await addUser(t.deps, { login: 'pop', password: 'correct-horse-battery-staple', locale: 'en' });
      // A passport made by a social sign-in: no password yet.
      const social = await addUser(t.deps, { login: 'vk-1a2b3c', locale: 'en' });
      cookie = (await openSession(t.deps, t.deps.store.db, social.id, { ip: '127.0.0.1' })).token;
    });
    after(() => t.close());

    const choose = (login: string, remoteAddress = '127.0.0.1') =>
      t.app.inject({ method: 'POST', url: '/api/v1/me/password', remoteAddress, headers: { origin: ORIGIN }, cookies: { lk_session: cookie }, payload: { newPassword: NEW_PASSWORD, login } });

    it('a taken login and one that passes for a taken one get the same answer', async () => {
      const taken = await choose('PETR');
      const mixed = await choose('pеtr'); // Cyrillic е among Latin letters
      const lookalike = await choose('рор'); // all Cyrillic, reads as the taken "pop"
      for (const answer of [taken, mixed, lookalike]) {
        assert.equal(answer.statusCode, 409);
        assert.equal(answer.json().code, 'login_unavailable');
        assert.equal(answer.body, taken.body, 'one refusal for taken and confusable logins');
      }
    });

    it('the tries are capped per account, so the form is no directory of logins', async () => {
      // Three tries above, two more are allowed in the hour; then even a free login waits.
      assert.equal((await choose('petr')).statusCode, 409);
      assert.equal((await choose('pop')).statusCode, 409);
      const capped = await choose('nobody-has-this-one');
      assert.equal(capped.statusCode, 429);
      assert.ok(Number(capped.headers['retry-after']) > 0);
      const account = await t.deps.store.db.selectFrom('accounts').select(['login', 'password_hash']).where('login', '=', 'vk-1a2b3c').executeTakeFirstOrThrow();
      assert.equal(account.password_hash, null, 'nothing was half-written');
    });
  });
}
