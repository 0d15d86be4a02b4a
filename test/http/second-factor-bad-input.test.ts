// SPEC §7 rule 15 for the second factor: the challenge's answer (API and /login/2fa) and the enrolment
// endpoints, with any body and any pending cookie (forged, or a live one), answer 4xx: never a 5xx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { openSession } from '../../src/flows/session.js';
import { signIn } from '../../src/flows/sign-in.js';
import { csrfToken } from '../../src/http/security.js';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { enrolThroughFlows } from '../support/second-factor.js';

const ORIGIN = 'http://localhost:3000';
const RUNS = 60;

for (const dialect of DIALECTS) {
  describe(`second-factor endpoints under bad input (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    let cookie: string;
    let csrf: string;

    before(async () => {
      t = await startTestApp({ dialect, clock, worker: false, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      const ivan = await seedAccount(t.deps);
      await enrolThroughFlows(t.deps, ivan.id, PASSWORD, clock);
      const session = await openSession(t.deps, t.deps.store.db, ivan.id, { ip: '127.0.0.1' });
      cookie = `lk_session=${session.token}`;
      csrf = csrfToken(t.deps.secretKey, session.idHash);
    });
    after(async () => t.close());

    const noServerError = (status: number, what: string) => assert.ok(status >= 200 && status < 500, `${what} → ${status}`);
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.constant('\u0000'), fc.constant('123456'), fc.constant('abcde-fghij'), fc.constant('x'.repeat(5000)));
    /** A live challenge of ivan's, or any text as the pending cookie. */
    const pendingCookie = fc.oneof(
      fc.constant('live'),
      text.map((value) => encodeURIComponent(value)),
    );
    const livePending = async () => {
      const outcome = await signIn(t.deps, { login: 'ivan', password: PASSWORD }, { ip: '127.0.0.1' });
      assert.equal(outcome.kind, 'second_factor');
      return outcome.kind === 'second_factor' ? outcome.challenge.token : '';
    };

    it('the challenge answer takes any body and any pending cookie without a 5xx, and opens no session', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('code', 'recoveryCode', 'x'), text, { maxKeys: 3 }), pendingCookie, async (json, form, pending) => {
          const value = pending === 'live' ? await livePending() : pending;
          const api = await t.app.inject({ method: 'POST', url: '/api/v1/session/second-factor', headers: { cookie: `lk_pending=${value}`, origin: ORIGIN, 'content-type': 'application/json' }, payload: JSON.stringify(json) ?? 'null' });
          noServerError(api.statusCode, `second-factor ${JSON.stringify(json)?.slice(0, 80)}`);
          assert.ok(!String(api.headers['set-cookie'] ?? '').includes('lk_session='), 'no session from a random answer');
          const page = await t.app.inject({ method: 'POST', url: '/login/2fa', headers: { cookie: `lk_pending=${value}`, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: new URLSearchParams(form).toString() });
          noServerError(page.statusCode, '/login/2fa form');
          assert.ok(!String(page.headers['set-cookie'] ?? '').includes('lk_session='));
          const shown = await t.app.inject({ method: 'GET', url: `/login/2fa?method=${encodeURIComponent(form.x ?? 'recovery')}`, headers: { cookie: `lk_pending=${value}`, accept: 'text/html' } });
          noServerError(shown.statusCode, '/login/2fa page');
        }),
        { numRuns: RUNS },
      );
    });

    it('the enrolment endpoints take any body without a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.anything({ maxDepth: 3 }), fc.dictionary(fc.constantFrom('password', 'code', 'codes', 'x'), text, { maxKeys: 3 }), async (json, form) => {
          const payload = JSON.stringify(json) ?? 'null';
          for (const [method, url] of [['POST', '/api/v1/me/2fa/totp'], ['POST', '/api/v1/me/2fa/totp/confirm'], ['POST', '/api/v1/me/2fa/recovery-codes'], ['DELETE', '/api/v1/me/2fa']] as const) {
            const res = await t.app.inject({ method, url, headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' }, payload });
            noServerError(res.statusCode, `${method} ${url} ${payload.slice(0, 80)}`);
          }
          for (const url of ['/account/2fa/totp', '/account/2fa/totp/confirm', '/account/2fa/recovery-codes', '/account/2fa/off', '/account/2fa/codes.txt']) {
            const res = await t.app.inject({ method: 'POST', url, headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, payload: new URLSearchParams({ ...form, _csrf: csrf }).toString() });
            noServerError(res.statusCode, `${url} form`);
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
