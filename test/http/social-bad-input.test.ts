// SPEC §7 rule 15 for the social sign-in surface: callbacks with any query and any attempt cookie, and the
// sign-in-method and create-password endpoints with any body, answer 4xx (never a 5xx, a crash or a hang).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { csrfToken } from '../../src/http/security.js';
import { openSession } from '../../src/flows/session.js';
import { insertAccount } from '../../src/store/accounts.repo.js';
import { DIALECTS, startTestApp, type TestApp } from '../support/app.js';

const ORIGIN = 'http://localhost:3000';
const RUNS = 60;

for (const dialect of DIALECTS) {
  describe(`social sign-in surface under bad input (${dialect})`, () => {
    let t: TestApp;
    let cookie: string;
    let csrf: string;

    before(async () => {
      // A provider that is never reached: every callback here must be refused before any exchange.
      t = await startTestApp({ dialect, env: { LATCHKEY_RATE_LIMITS: 'off', LATCHKEY_SOCIAL_TEST_ISSUER: 'http://127.0.0.1:9', LATCHKEY_SOCIAL_TEST_CLIENT_ID: 'x' } });
      const at = new Date().toISOString();
      await insertAccount(t.deps.store.db, {
        id: 'social-only', login: 'socialonly', login_key: 'socialonly', name: null, email: null, email_key: null, email_verified_at: null, phone: null,
        phone_verified_at: null, password_hash: null, password_changed_at: null, status: 'active', locale: 'en', created_at: at, updated_at: at,
      });
      const session = await openSession(t.deps, t.deps.store.db, 'social-only', { ip: '127.0.0.1' });
      cookie = `lk_session=${session.token}`;
      csrf = csrfToken(t.deps.secretKey, session.idHash);
    });
    after(async () => t.close());

    const noServerError = (status: number, what: string) => assert.ok(status >= 200 && status < 500, `${what} → ${status}`);
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constant('\u0000'), fc.constant('x'.repeat(5000)));

    it('callbacks with any query and any attempt cookie are refused with a page, never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('code', 'state', 'error', 'iss', 'device_id', 'x'), text, { maxKeys: 5 }), fc.option(text), async (query, attempt) => {
          const qs = new URLSearchParams(query).toString();
          const res = await t.app.inject({ method: 'GET', url: `/auth/test/callback?${qs}`, headers: attempt === null ? {} : { cookie: `lk_social=${encodeURIComponent(attempt)}` } });
          noServerError(res.statusCode, `callback ?${qs.slice(0, 80)}`);
          assert.ok(res.statusCode >= 400, 'no attempt of ours, no sign-in');
          assert.equal(res.headers['set-cookie']?.toString().includes('lk_session=') ?? false, false);
        }),
        { numRuns: RUNS },
      );
      const unknown = await t.app.inject({ method: 'GET', url: '/auth/nope/callback?code=a' });
      assert.equal(unknown.statusCode, 404);
    });

    it('create-password and sign-in-method endpoints take any body and any id without a 5xx, and write nothing half-way', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('login', 'newPassword', '_csrf', 'x'), text, { maxKeys: 4 }), text, async (json, form, id) => {
          const api = await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' }, payload: JSON.stringify(json) ?? 'null' });
          noServerError(api.statusCode, `me/password ${JSON.stringify(json)?.slice(0, 80)}`);
          const page = await t.app.inject({ method: 'POST', url: '/account/password/create', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...form, _csrf: form._csrf ?? csrf }).toString() });
          noServerError(page.statusCode, 'create form');
          const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/me/sign-in-methods/${encodeURIComponent(id)}`, headers: { cookie, origin: ORIGIN } });
          noServerError(del.statusCode, `delete ${id.slice(0, 40)}`);
          const row = await t.deps.store.db.selectFrom('accounts').select(['login', 'password_hash']).where('id', '=', 'social-only').executeTakeFirstOrThrow();
          // Either nothing changed, or a complete login + password was set (a valid random body may do that).
          if (row.password_hash === null) assert.equal(row.login, 'socialonly');
        }),
        { numRuns: RUNS },
      );
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  });
}
