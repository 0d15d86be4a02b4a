import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { addUser } from '../../src/flows/operator.js';
import { createArgon2Hasher } from '../../src/kernel/password-hasher.js';
import { issueToken } from '../../src/flows/tokens.js';
import { insertSocialIdentity } from '../../src/store/social-identities.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort } from '../support/browser.js';
import { Browserless, type Hop } from '../support/browserless.js';
import { FakeClock } from '../support/clock.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';
import { enrolThroughFlows, totpCode } from '../support/second-factor.js';

/**
 * SPEC §7 rule 17: the second factor is asked after the first factors that live outside the cloud's own
 * password and recovery routes too: the box edition's checkword, and social sign-in through a real
 * OpenID Connect provider. No session cookie before it passes.
 */

const NEW_PASSWORD = 'violet-harbour-lantern-88';
const sessionOf = (res: LightMyRequestResponse) => cookieFrom(res.headers['set-cookie'], 'lk_session');
const pendingOf = (res: LightMyRequestResponse) => cookieFrom(res.headers['set-cookie'], 'lk_pending');

for (const dialect of DIALECTS) {
  describe(`second factor's cost (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    let verifications = 0;
    let secret: string;

    before(async () => {
      const real = await createArgon2Hasher();
      const hasher = { ...real, verify: (hash: string, password: string) => ((verifications += 1), real.verify(hash, password)) };
      t = await startTestApp({ dialect, clock, worker: false, hasher });
      const ivan = await seedAccount(t.deps);
      ({ secret } = await enrolThroughFlows(t.deps, ivan.id, PASSWORD, clock));
    });
    after(async () => t.close());

    it('a sign-in with a second factor costs one argon2id verification (the password), not two', async () => {
      verifications = 0;
      const json = { 'content-type': 'application/json' };
      const first = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(first.statusCode, 202);
      const second = await t.app.inject({ method: 'POST', url: '/api/v1/session/second-factor', headers: { ...json, cookie: `lk_pending=${pendingOf(first)}` }, payload: { code: totpCode(secret, clock) } });
      assert.equal(second.statusCode, 200);
      assert.equal(verifications, 1);
    });
  });

  describe(`second factor after recovery by SMS code (${dialect})`, () => {
    const clock = new FakeClock();
    const gateway = new TestSmsGateway();
    let t: TestApp;

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      const ivan = await seedAccount(t.deps, { phone: '+79161234567', locale: 'ru' });
      await enrolThroughFlows(t.deps, ivan.id, PASSWORD, clock);
    });
    after(async () => {
      await t.close();
      await gateway.stop();
    });

    it('the texted code gives a reset token; completing it sets the password and stops at the factor', async () => {
      const json = { 'content-type': 'application/json' };
      const started = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: '+79161234567' } });
      assert.equal(started.statusCode, 202, started.body);
      await waitUntil(() => gateway.received.length > 0);
      const verified = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone/verify', headers: json, payload: { flow: started.json().flow, code: gateway.lastCode('+79161234567') } });
      assert.equal(verified.statusCode, 200, verified.body);
      const completed = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: verified.json().token, password: NEW_PASSWORD } });
      assert.equal(completed.statusCode, 202, completed.body);
      assert.deepEqual(completed.json(), { next: 'second_factor', methods: ['totp', 'recovery_code'] });
      assert.equal(sessionOf(completed), undefined);
      assert.ok(pendingOf(completed));
      const old = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(old.statusCode, 401, 'the password is changed already');
    });
  });

  describe(`second factor after a box checkword (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    let ivanId: string;
    let secret: string;

    before(async () => {
      t = await startTestApp({ dialect, clock, worker: false, env: { LATCHKEY_EDITION: 'box' } });
      const slug = t.deps.config.boxPortal.slug;
      ivanId = (await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'en', portals: [{ slug, role: 'employee' }] })).id;
      ({ secret } = await enrolThroughFlows(t.deps, ivanId, PASSWORD, clock));
    });
    after(async () => {
      await t.close();
    });

    const checkword = () => issueToken(t.deps, t.deps.store.db, { accountId: ivanId, purpose: 'checkword', lifetimeMs: 3600_000 });

    it('API: the checkword sets the password, then 202 second_factor and no session cookie', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/recovery/checkword/complete',
        headers: { 'content-type': 'application/json' },
        payload: { login: 'ivan', checkword: await checkword(), password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
      });
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { next: 'second_factor', methods: ['totp', 'recovery_code'] });
      assert.equal(sessionOf(res), undefined);
      const pending = pendingOf(res);
      const old = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { 'content-type': 'application/json' }, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(old.statusCode, 401, 'the password is changed already');
      const passed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/session/second-factor',
        headers: { 'content-type': 'application/json', cookie: `lk_pending=${pending}` },
        payload: { code: totpCode(secret, clock) },
      });
      assert.equal(passed.statusCode, 200, passed.body);
      assert.ok(sessionOf(passed));
      clock.advance(30_000);
    });

    it('pages: the checkword form ends at /login/2fa', async () => {
      const live = await checkword();
      const res = await t.app.inject({
        method: 'POST',
        url: '/recover/checkword',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' },
        payload: new URLSearchParams({ login: 'ivan', checkword: live, password: PASSWORD, passwordConfirm: PASSWORD }).toString(),
      });
      assert.equal(res.statusCode, 303, res.body);
      assert.equal(res.headers.location, '/login/2fa');
      assert.equal(sessionOf(res), undefined);
      assert.ok(pendingOf(res));
    });
  });

  describe(`second factor after social sign-in (${dialect})`, () => {
    const clock = new FakeClock(Date.now());
    let provider: TestOidcProvider;
    let t: TestApp;
    let base: string;
    let secret: string;

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      provider = await TestOidcProvider.start({ clientId: 'latchkey-test', clientSecret: 'test-client-secret-0123456789abcdef', redirectUris: [`${base}/auth/test/callback`] });
      t = await startTestApp({
        dialect,
        clock,
        worker: false,
        env: {
          LATCHKEY_PUBLIC_URL: base,
          LATCHKEY_SOCIAL_TEST_ISSUER: provider.issuer,
          LATCHKEY_SOCIAL_TEST_CLIENT_ID: 'latchkey-test',
          LATCHKEY_SOCIAL_TEST_CLIENT_SECRET: 'test-client-secret-0123456789abcdef',
          LATCHKEY_SOCIAL_TEST_TITLE: 'Test ID',
        },
      });
      await t.app.listen({ host: '127.0.0.1', port });
      const ivan = await seedAccount(t.deps);
      const at = clock.now().toISOString();
      await insertSocialIdentity(t.deps.store.db, { id: 'ivan-identity', account_id: ivan.id, provider: 'test', issuer: provider.issuer, subject: 'ivan-sub', email: null, created_at: at, last_used_at: null });
      ({ secret } = await enrolThroughFlows(t.deps, ivan.id, PASSWORD, clock));
    });
    after(async () => {
      // A failed start leaves these unset; the provider must still stop, or the run hangs.
      await (t as TestApp | undefined)?.close();
      await (provider as TestOidcProvider | undefined)?.stop();
    });

    it('stops at /login/2fa with no session cookie; the code lets the person in', async () => {
      provider.nextUser = { sub: 'ivan-sub' };
      const browser = new Browserless();
      const hops = await browser.follow(await browser.request(`${base}/auth/test?lang=en`));
      const last = hops.at(-1) as Hop;
      assert.equal(last.url.pathname, '/login/2fa', `ended at ${last.url} (${last.status})`);
      assert.equal(last.status, 200);
      assert.match(last.body, /autocomplete="one-time-code"/);
      assert.equal(browser.cookie('lk_session'), undefined, 'no session before the second factor');
      assert.ok(browser.cookie('lk_pending'));
      const me = await browser.request(`${base}/api/v1/me`, { headers: { accept: 'application/json' } });
      assert.equal(me.status, 401);

      const passed = await browser.request(`${base}/login/2fa`, { form: { code: totpCode(secret, clock) } });
      assert.equal(passed.status, 303);
      assert.equal(passed.location, `${base}/portals`);
      assert.ok(browser.cookie('lk_session'));
      assert.equal(browser.cookie('lk_pending'), undefined, 'the pending cookie is gone');
      assert.equal((await browser.request(`${base}/api/v1/me`, { headers: { accept: 'application/json' } })).status, 200);
    });
  });
}
