import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort } from '../support/browser.js';
import { Browserless, csrfOf, type Hop } from '../support/browserless.js';
import { FakeClock } from '../support/clock.js';
import { TestOidcProvider, startSilentServer } from '../support/oidc-provider.js';

const CLIENT_ID = 'latchkey-test';
const CLIENT_SECRET = 'test-client-secret-0123456789abcdef';

for (const dialect of DIALECTS) {
  describe(`social sign-in through a real OpenID Connect provider (${dialect})`, () => {
    let provider: TestOidcProvider;
    let silent: Awaited<ReturnType<typeof startSilentServer>>;
    let t: TestApp;
    let base: string;
    const clock = new FakeClock(Date.now());

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${base}/auth/test/callback`] });
      silent = await startSilentServer();
      t = await startTestApp({
        dialect,
        clock,
        env: {
          LATCHKEY_PUBLIC_URL: base,
          LATCHKEY_RATE_LIMITS: 'off',
          LATCHKEY_SOCIAL_TEST_ISSUER: provider.issuer,
          LATCHKEY_SOCIAL_TEST_CLIENT_ID: CLIENT_ID,
          LATCHKEY_SOCIAL_TEST_CLIENT_SECRET: CLIENT_SECRET,
          LATCHKEY_SOCIAL_TEST_TITLE: 'Test ID',
          LATCHKEY_SOCIAL_SLOW_ISSUER: silent.url,
          LATCHKEY_SOCIAL_SLOW_CLIENT_ID: 'slow',
          LATCHKEY_SOCIAL_TIMEOUT_MS: '700',
        },
      });
      await t.app.listen({ host: '127.0.0.1', port });
      await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com' });
    });
    after(async () => {
      await t.close();
      await provider.stop();
      await silent.close();
    });

    /** Starts at /auth/test and follows every redirect through the provider and back, like a browser. */
    const signInThroughProvider = async (browser = new Browserless()) => {
      const hops = await browser.follow(await browser.request(`${base}/auth/test`));
      return { browser, hops, last: hops.at(-1) as Hop };
    };
    const me = (browser: Browserless) => browser.request(`${base}/api/v1/me`, { headers: { accept: 'application/json' } });
    const countAccounts = async () => Number((await t.deps.store.db.selectFrom('accounts').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const reasonOf = (hop: Hop) => /data-reason="([a-z_]+)"/.exec(hop.body)?.[1];

    it('shows the provider on /login and creates a passport at the first sign-in, then signs the same person in again', async () => {
      const login = await new Browserless().request(`${base}/login?lang=en`);
      assert.match(login.body, /href="\/auth\/test"[^>]*>Sign in with Test ID</);
      const ru = await new Browserless().request(`${base}/login?lang=ru`);
      assert.match(ru.body, />Войти через Test ID</);

      provider.nextUser = { sub: 'alice-sub', email: 'alice@example.org', emailVerified: true, name: 'Alice' };
      const accountsBefore = await countAccounts();
      const first = await signInThroughProvider();
      const start = first.hops[0] as Hop;
      const authorize = new URL(start.location ?? '');
      assert.equal(authorize.origin, provider.issuer);
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok((authorize.searchParams.get('state') ?? '').length >= 43, 'state has 256 bits');
      assert.ok((authorize.searchParams.get('nonce') ?? '').length >= 43, 'nonce has 256 bits');
      assert.equal(authorize.searchParams.get('redirect_uri'), `${base}/auth/test/callback`);
      assert.equal(first.last.url.pathname, '/portals', `ended at ${first.last.url} (${first.last.status})`);
      assert.equal(await countAccounts(), accountsBefore + 1);

      const profile = await me(first.browser);
      assert.equal(profile.status, 200);
      const account = (JSON.parse(profile.body) as { account: { id: string; email: string; login: string } }).account;
      assert.equal(account.email, 'alice@example.org');
      const row = await t.deps.store.db.selectFrom('accounts').selectAll().where('id', '=', account.id).executeTakeFirstOrThrow();
      assert.equal(row.password_hash, null, 'a social-only passport has no password');
      assert.ok(row.email_verified_at, 'the provider asserted the e-mail');
      const identity = await t.deps.store.db.selectFrom('social_identities').selectAll().where('account_id', '=', account.id).executeTakeFirstOrThrow();
      assert.deepEqual([identity.issuer, identity.subject, identity.provider], [provider.issuer, 'alice-sub', 'test']);

      const again = await signInThroughProvider();
      assert.equal(again.last.url.pathname, '/portals');
      assert.equal(await countAccounts(), accountsBefore + 1, 'a returning identity makes no new passport');
      assert.equal((JSON.parse((await me(again.browser)).body) as { account: { id: string } }).account.id, account.id);
    });

    it('never links by e-mail: a verified provider e-mail that is another passport’s is refused, an unverified one is not copied', async () => {
      provider.nextUser = { sub: 'squatter', email: 'ivan@example.com', emailVerified: true };
      const refused = await signInThroughProvider();
      assert.equal(refused.last.status, 409);
      assert.equal(reasonOf(refused.last), 'email_taken');
      assert.equal((await me(refused.browser)).status, 401);

      provider.nextUser = { sub: 'squatter-2', email: 'IVAN@example.com', emailVerified: false };
      const created = await signInThroughProvider();
      assert.equal(created.last.url.pathname, '/portals');
      const view = JSON.parse((await me(created.browser)).body) as { account: { email: string | null; login: string } };
      assert.equal(view.account.email, null, 'an unproven e-mail that is taken is simply not copied');
      assert.notEqual(view.account.login, 'ivan');
    });

    it('links a provider to a signed-in account, signs in through it, unlinks it; the last way in cannot be unlinked', async () => {
      const browser = new Browserless();
      const signedIn = await browser.request(`${base}/login`, { form: { login: 'ivan', password: PASSWORD } });
      assert.equal(signedIn.status, 303);
      const accountPage = await browser.request(`${base}/account?lang=en`);
      assert.match(accountPage.body, /Link Test ID/);
      provider.nextUser = { sub: 'ivan-at-provider', email: 'ivan.other@example.org', emailVerified: true };
      const linking = await browser.follow(await browser.request(`${base}/auth/test/link`, { form: { _csrf: csrfOf(accountPage.body) } }));
      const done = linking.at(-1) as Hop;
      assert.equal(done.url.pathname, '/account', `ended at ${done.url} (${done.status})`);
      assert.match(done.body, /Linked\./);
      const methods = JSON.parse((await browser.request(`${base}/api/v1/me/sign-in-methods`, { headers: { accept: 'application/json' } })).body) as {
        password: boolean;
        identities: Array<{ id: string; provider: string }>;
      };
      assert.equal(methods.password, true);
      assert.deepEqual(methods.identities.map((i) => i.provider), ['test']);

      // The provider now signs ivan in, in a browser that never saw his password.
      const viaProvider = await signInThroughProvider();
      const ivan = JSON.parse((await me(viaProvider.browser)).body) as { account: { login: string } };
      assert.equal(ivan.account.login, 'ivan');

      // Linking needs the form's CSRF token.
      const forged = await browser.request(`${base}/auth/test/link`, { form: { _csrf: 'forged' } });
      assert.equal(forged.status, 403);

      const identityId = methods.identities[0]?.id ?? '';
      const unlinked = await browser.request(`${base}/api/v1/me/sign-in-methods/${identityId}`, { method: 'DELETE', headers: { accept: 'application/json', origin: base } });
      assert.equal(unlinked.status, 204);
      assert.equal(await t.deps.store.db.selectFrom('social_identities').select('id').where('id', '=', identityId).executeTakeFirst(), undefined);
      const actions = (await t.deps.store.db.selectFrom('audit_events').select('action').where('detail', '=', 'test').execute()).map((r) => r.action);
      assert.ok(actions.includes('social.linked') && actions.includes('social.unlinked'), actions.join());

      // A social-only passport: its one identity is its only way in.
      provider.nextUser = { sub: 'only-social', email: 'only@example.org', emailVerified: true };
      const social = await signInThroughProvider();
      const own = JSON.parse((await social.browser.request(`${base}/api/v1/me/sign-in-methods`, { headers: { accept: 'application/json' } })).body) as {
        password: boolean;
        identities: Array<{ id: string }>;
      };
      assert.equal(own.password, false);
      const last = own.identities[0]?.id ?? '';
      const refused = await social.browser.request(`${base}/api/v1/me/sign-in-methods/${last}`, { method: 'DELETE', headers: { accept: 'application/json', origin: base } });
      assert.equal(refused.status, 409);
      assert.equal((JSON.parse(refused.body) as { code: string }).code, 'last_sign_in_method');
      const page = await social.browser.request(`${base}/account?lang=ru`);
      const refusedForm = await social.browser.request(`${base}/account/sign-in-methods/${last}/unlink`, { form: { _csrf: csrfOf(page.body) } });
      assert.equal(refusedForm.status, 409);
      assert.match(refusedForm.body, /единственный способ входа/);
      assert.ok(await t.deps.store.db.selectFrom('social_identities').select('id').where('id', '=', last).executeTakeFirst(), 'still linked');
      // Someone else's identity id is not found, whatever it is.
      const foreign = await browser.request(`${base}/api/v1/me/sign-in-methods/${last}`, { method: 'DELETE', headers: { accept: 'application/json', origin: base } });
      assert.equal(foreign.status, 404);
    });

    it('refuses to link an identity that belongs to another passport', async () => {
      provider.nextUser = { sub: 'shared-sub', email: 'shared@example.org', emailVerified: true };
      await signInThroughProvider(); // shared-sub now has its own passport
      const browser = new Browserless();
      await browser.request(`${base}/login`, { form: { login: 'ivan', password: PASSWORD } });
      const page = await browser.request(`${base}/account?lang=en`);
      const hops = await browser.follow(await browser.request(`${base}/auth/test/link`, { form: { _csrf: csrfOf(page.body) } }));
      const last = hops.at(-1) as Hop;
      assert.equal(last.status, 409);
      assert.equal(reasonOf(last), 'identity_taken');
      assert.match(last.body, /already linked to another passport/);
    });

    it('stops a tampered state, a replayed code, a wrong nonce and a cancelled consent; none signs anyone in', async () => {
      provider.nextUser = { sub: 'mallory', email: 'mallory@example.org', emailVerified: true };
      const isCallback = (url: URL) => url.pathname === '/auth/test/callback';

      // Tampered state: the callback's state is not the one this browser's attempt holds.
      const tampered = new Browserless();
      const toCallback = (await tampered.follow(await tampered.request(`${base}/auth/test`), isCallback)).at(-1) as Hop;
      const callback = new URL(toCallback.location ?? '');
      callback.searchParams.set('state', 'x'.repeat(43));
      const stateHop = await tampered.request(callback);
      assert.equal(stateHop.status, 400);
      assert.equal(reasonOf(stateHop), 'state_mismatch');
      assert.equal((await me(tampered)).status, 401);

      // Replayed code: the first use signs in; the same callback again finds no attempt, and with the old
      // attempt put back the provider refuses the spent code.
      const victim = new Browserless();
      const beforeCallback = (await victim.follow(await victim.request(`${base}/auth/test`), isCallback)).at(-1) as Hop;
      const attempt = victim.cookie('lk_social') ?? '';
      const callbackUrl = beforeCallback.location ?? '';
      const used = await victim.request(callbackUrl);
      assert.equal(used.status, 303);
      assert.equal(new URL(used.location ?? '').pathname, '/portals');
      const replay = new Browserless();
      const replayed = await replay.request(callbackUrl);
      assert.equal(reasonOf(replayed), 'expired');
      replay.setCookie('lk_social', attempt, new URL(base), '/auth');
      const replayedWithAttempt = await replay.request(callbackUrl);
      assert.equal(replayedWithAttempt.status, 502);
      assert.equal(reasonOf(replayedWithAttempt), 'provider_error');
      assert.equal((await me(replay)).status, 401);

      // Wrong nonce: the provider is asked with another nonce than the sealed attempt holds (an injected code).
      const nonceBrowser = new Browserless();
      const start = await nonceBrowser.request(`${base}/auth/test`);
      const authorize = new URL(start.location ?? '');
      authorize.searchParams.set('nonce', 'n'.repeat(43));
      const nonceHops = await nonceBrowser.follow(await nonceBrowser.request(authorize));
      const nonceLast = nonceHops.at(-1) as Hop;
      assert.equal(nonceLast.status, 400);
      assert.equal(reasonOf(nonceLast), 'nonce_mismatch');
      assert.equal((await me(nonceBrowser)).status, 401);

      // Cancelled consent.
      provider.cancel = true;
      try {
        const cancelled = await signInThroughProvider(new Browserless());
        assert.equal(cancelled.last.status, 400);
        assert.equal(reasonOf(cancelled.last), 'cancelled');
        assert.match(cancelled.last.body, /cancelled the sign-in|отменили вход/);
      } finally {
        provider.cancel = false;
      }

      // Nothing secret reached the log: no code, no state, no nonce, no sealed attempt.
      const logs = t.logs.join('');
      for (const secret of [new URL(callbackUrl).searchParams.get('code') ?? '', authorize.searchParams.get('state') ?? '', attempt]) {
        assert.ok(secret.length > 10);
        assert.ok(!logs.includes(secret), 'a secret reached the log');
      }
      assert.match(logs, /"reason":"state_mismatch"/);
      assert.match(logs, /"reason":"nonce_mismatch"/);
    });

    it('an attempt older than 10 minutes is refused as expired', async () => {
      const browser = new Browserless();
      const toCallback = (await browser.follow(await browser.request(`${base}/auth/test`), (url) => url.pathname === '/auth/test/callback')).at(-1) as Hop;
      clock.advance(11 * 60_000);
      const late = await browser.request(toCallback.location ?? '');
      assert.equal(late.status, 400);
      assert.equal(reasonOf(late), 'expired');
    });

    it('a provider that hangs or is down gets a bounded wait and a clear page, and the app stays healthy', async () => {
      const began = Date.now();
      const hanging = await new Browserless().request(`${base}/auth/slow?lang=en`);
      assert.equal(hanging.status, 503);
      assert.equal(reasonOf(hanging), 'provider_unreachable');
      assert.ok(Date.now() - began < 5000, `waited ${Date.now() - began} ms`);

      // Down between the start and the callback: the code cannot be exchanged.
      const browser = new Browserless();
      const toCallback = (await browser.follow(await browser.request(`${base}/auth/test`), (url) => url.pathname === '/auth/test/callback')).at(-1) as Hop;
      await provider.stop();
      const down = await browser.request(toCallback.location ?? '');
      assert.equal(down.status, 503);
      assert.equal(reasonOf(down), 'provider_unreachable');
      assert.match(down.body, /did not answer in time/);
      assert.equal((await new Browserless().request(`${base}/healthz`)).status, 200);
    });
  });
}

describe('social sign-in callbacks are rate limited per IP', () => {
  it('answers 429 with Retry-After once the cap is reached', async () => {
    const t = await startTestApp({
      dialect: 'sqlite',
      env: { LATCHKEY_SOCIAL_TEST_ISSUER: 'http://127.0.0.1:9', LATCHKEY_SOCIAL_TEST_CLIENT_ID: 'x' },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i += 1) statuses.push((await t.app.inject({ method: 'GET', url: '/auth/test/callback?code=a&state=b' })).statusCode);
      assert.deepEqual(new Set(statuses.slice(0, 30)), new Set([400]));
      const limited = await t.app.inject({ method: 'GET', url: '/auth/test/callback?code=a&state=b' });
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers['retry-after']) > 0);
    } finally {
      await t.close();
    }
  });
});
