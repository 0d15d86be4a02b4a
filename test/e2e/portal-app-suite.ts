import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createPortalApp, type PortalApp } from '../../examples/portal-app/app.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../../examples/portal-app/logout-token.js';
import { buildApp } from '../../src/app.js';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { issueToken } from '../../src/flows/tokens.js';
import { addClient } from '../../src/oidc/clients.js';
import { loadSigningKeys, rotateSigningKeys } from '../../src/oidc/keys.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD, type TestDialect } from '../support/app.js';
import { freeLoopbackPort, launchBrowser, startServedApp, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';
import { enrolThroughFlows, totpCode } from '../support/second-factor.js';
import { waitUntil } from '../support/wait.js';

/**
 * SPEC §10 through a real relying party: the example portal application (examples/portal-app, openid-client)
 * and Latchkey on loopback ports, driven by headless Chromium, on SQLite and PostgreSQL (describePortalApp); a
 * second application of the same portal asks for offline_access, whose refresh token must die with a
 * recovery (the example asks for none). Screenshots of the application's pages and of Latchkey's pages on
 * the way, at 390 and 1280 px, in English and Russian, go to /tmp/shots/portal-app/ (SQLite run).
 */

const SHOTS = '/tmp/shots/portal-app';
const CLIENT_ID = 'portal-app';
/** The second application (offline_access): openid-client in the test, a bare callback page on its own port. */
const OFFLINE_CLIENT_ID = 'portal-app-offline';

const shoot = (page: Page, name: string, enabled: boolean) => shootWidths(page, SHOTS, name, { save: enabled });

/** A JWT signed with a private JWK (RS256), as Latchkey's provider signs its logout tokens. */
function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, privateJwk: JsonWebKey): string {
  const encode = (part: Record<string, unknown>) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), createPrivateKey({ key: privateJwk, format: 'jwk' })).toString('base64url')}`;
}

/** The JWT's RS256 signature checks out against the key of its kid in `keys`. */
function verifiesAgainst(jwt: string, keys: Array<JsonWebKey & { kid: string }>): boolean {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
  const jwk = keys.find((k) => k.kid === kid);
  return jwk !== undefined && verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
}

/**
 * The suite on one dialect; test/e2e/portal-app.test.ts runs it on SQLite, portal-app-postgres.test.ts on
 * PostgreSQL (two files, so each fits the runner's time per file on a busy machine).
 */
export function describePortalApp(dialect: TestDialect): void {
  describe(`e2e: the example portal application signs in with Latchkey (${dialect})`, { timeout: 170_000 }, () => {
    const screenshots = dialect === 'sqlite';
    let served: ServedApp | undefined;
    let example: PortalApp | undefined;
    let restarted: Awaited<ReturnType<typeof buildApp>> | undefined;
    let browser: Browser | undefined;
    let base = '';
    let appBase = '';
    let secret = '';
    let zoeSecret = '';
    let nina: { id: string } | undefined;
    let rita: { id: string } | undefined;
    let offlineSecret = '';
    let offlineApp: http.Server | undefined;
    let offlineBase = '';

    before(async () => {
      fs.mkdirSync(SHOTS, { recursive: true });
      served = await startServedApp({ dialect });
      base = served.baseUrl;
      const { deps } = served.testApp;
      await addPortal(deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(deps, { slug: 'globex', title: 'Globex' });
      await addUser(deps, { login: 'ivan', name: 'Ivan Petrov', email: 'ivan@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      await addUser(deps, { login: 'olga', name: 'Ольга Смирнова', email: 'olga@example.ru', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
      nina = await addUser(deps, { login: 'nina', email: 'nina@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(deps, { login: 'pavel', email: 'pavel@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      const zoe = await addUser(deps, { login: 'zoe', email: 'zoe@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      zoeSecret = (await enrolThroughFlows(deps, zoe.id, PASSWORD, new FakeClock(Date.now()))).secret;
      rita = await addUser(deps, { login: 'rita', name: 'Рита Кузнецова', email: 'rita@example.ru', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });

      // The application on its own loopback port, registered as `npx latchkey demo` registers it.
      const appPort = await freeLoopbackPort();
      appBase = `http://127.0.0.1:${appPort}`;
      const added = await addClient(
        deps,
        { clientId: CLIENT_ID, portalSlug: 'acme', redirectUris: [`${appBase}/callback`], postLogoutRedirectUris: [`${appBase}/signed-out`], backchannelLogoutUri: `${appBase}/backchannel-logout` },
        false,
      );
      secret = added.secret ?? '';
      example = createPortalApp({ issuer: new URL(base), clientId: CLIENT_ID, clientSecret: secret, appUrl: new URL(appBase) });
      await new Promise<void>((resolve) => example?.server.listen(appPort, '127.0.0.1', resolve));
      assert.equal((example.server.address() as AddressInfo).port, appPort);
      // The offline_access application: its callback only shows that the browser arrived (in a <main>, which
      // describePage reads); the test, holding its PKCE verifier, redeems the code with openid-client.
      offlineApp = http.createServer((request, response) => {
        const found = new URL(request.url ?? '/', 'http://x').pathname === '/callback';
        response.writeHead(found ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        response.end('<!doctype html><html lang="en"><head><link rel="icon" href="data:,"><title>Offline app</title></head><body><main><p data-testid="offline-callback">callback</p></main></body></html>');
      });
      await new Promise<void>((resolve) => offlineApp?.listen(0, '127.0.0.1', resolve));
      offlineBase = `http://127.0.0.1:${(offlineApp.address() as AddressInfo).port}`;
      offlineSecret = (await addClient(deps, { clientId: OFFLINE_CLIENT_ID, portalSlug: 'acme', redirectUris: [`${offlineBase}/callback`] }, false)).secret ?? '';
      browser = await launchBrowser();
    });

    after(async () => {
      const results = await Promise.allSettled([
        browser?.close(),
        new Promise<void>((resolve) => (example ? example.server.close(() => resolve()) : resolve())),
        new Promise<void>((resolve) => {
          offlineApp?.closeAllConnections();
          return offlineApp ? offlineApp.close(() => resolve()) : resolve();
        }),
        restarted?.close(),
        served?.close(),
      ]);
      for (const result of results) if (result.status === 'rejected') throw result.reason;
    });

    /** A fresh browser in `lang` (its Accept-Language picks the pages' language on both sides). */
    async function open(lang: Locale): Promise<{ context: BrowserContext; page: Page; problems: string[]; visited: URL[] }> {
      assert.ok(browser);
      const context = await browser.newContext({ locale: lang === 'ru' ? 'ru-RU' : 'en-US', viewport: { width: 1000, height: 760 } });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const visited: URL[] = [];
      page.on('request', (request) => {
        if (request.isNavigationRequest()) visited.push(new URL(request.url()));
      });
      return { context, page, problems: watchProblems(page), visited };
    }

    /** The example's session this browser holds (by its cookie). */
    const appSessionOf = async (context: BrowserContext) => {
      const id = (await context.cookies(appBase)).find((c) => c.name === 'portal_app_session')?.value;
      return id === undefined ? undefined : example?.sessions.get(id);
    };
    const latchkeySession = async (context: BrowserContext) => (await context.cookies(base)).some((c) => c.name === 'lk_session');

    /**
     * The example's "Sign in with Latchkey", then Latchkey's /login form, whose answer is `status`: 200, the
     * page that moves on to the application (a redirect from the form to the application's origin would be
     * blocked by the form page's CSP), or 303 to /login/2fa.
     */
    async function signInThroughApp(page: Page, lang: Locale, login: string, shots?: string, status = 200): Promise<void> {
      const t = translator(lang);
      await page.goto(`${appBase}/`);
      if (shots) await shoot(page, `app-home-${shots}`, screenshots);
      await page.getByTestId('app-sign-in').click();
      await page.waitForURL((url) => url.pathname === '/login');
      assert.equal(new URL(page.url()).origin, base);
      if (shots) await shoot(page, `latchkey-login-${shots}`, screenshots);
      assert.equal(await signIn(page, t, login, PASSWORD), status, await describePage(page));
    }

    for (const journey of [
      { lang: 'en' as const, login: 'ivan', name: 'Ivan Petrov', role: 'administrator', welcome: 'Signed in: Ivan Petrov' },
      { lang: 'ru' as const, login: 'olga', name: 'Ольга Смирнова', role: 'сотрудник', welcome: 'Вы вошли: Ольга Смирнова' },
    ]) {
      it(`[${journey.lang}] code flow with PKCE, state and nonce; SSO on the second visit; RP-initiated logout ends Latchkey's session; prompt=none then login_required`, async () => {
        const { lang, login } = journey;
        const { context, page, problems, visited } = await open(lang);
        try {
          await signInThroughApp(page, lang, login, lang);
          await page.waitForURL(`${appBase}/`);
          assert.equal((await page.getByTestId('app-welcome').textContent())?.trim(), journey.welcome);
          assert.equal(await page.getByTestId('app-login').textContent(), login);
          assert.match((await page.getByTestId('app-portal').textContent()) ?? '', new RegExp(`^acme — ${journey.role}$`));
          assert.equal(await page.locator('html').getAttribute('lang'), lang, 'the application speaks the locale claim');
          await shoot(page, `app-signed-in-${lang}`, screenshots);
          // What the application sent: the code flow with S256 PKCE, a state and a nonce.
          const authorization = visited.find((url) => url.origin === base && url.pathname === '/oidc/auth');
          assert.ok(authorization, 'went through the authorization endpoint');
          assert.equal(authorization.searchParams.get('response_type'), 'code');
          assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
          assert.match(authorization.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
          assert.ok(authorization.searchParams.get('state') && authorization.searchParams.get('nonce'));
          const claims = JSON.parse((await page.getByTestId('app-claims').textContent()) ?? '{}') as Record<string, unknown>;
          assert.equal(claims.iss, base);
          assert.equal(claims.aud, CLIENT_ID);
          assert.equal(claims.nonce, authorization.searchParams.get('nonce'));
          assert.deepEqual(claims.portal, { slug: 'acme', role: lang === 'en' ? 'admin' : 'employee' });
          assert.equal(JSON.parse((await page.getByTestId('app-userinfo').textContent()) ?? '{}').name, journey.name);
          assert.ok(await latchkeySession(context));

          // SSO: the application forgot the person (its cookie gone); Latchkey did not, so no form is shown.
          await context.clearCookies({ name: 'portal_app_session' });
          await page.goto(`${appBase}/`);
          visited.length = 0;
          await page.getByTestId('app-sign-in').click();
          await page.waitForURL(`${appBase}/`);
          await page.getByTestId('app-welcome').waitFor();
          assert.ok(visited.some((url) => url.pathname === '/oidc/auth'), 'through Latchkey again');
          assert.ok(!visited.some((url) => url.origin === base && url.pathname === '/login'), 'no sign-in form the second time');

          // RP-initiated logout: Latchkey asks to confirm, ends its session, sends the browser back.
          await page.getByTestId('app-sign-out').click();
          await page.waitForURL((url) => url.origin === base && url.pathname === '/oidc/session/end');
          await page.getByTestId('oidc-logout-confirm').waitFor();
          // In the browser's language, like every other Latchkey page (the library's pages too).
          assert.equal(await page.locator('html').getAttribute('lang'), lang);
          assert.equal((await page.getByTestId('oidc-logout-confirm').textContent())?.trim(), translator(lang)('oidc.logout.confirm'));
          await shoot(page, `latchkey-logout-${lang}`, screenshots);
          assert.equal(await submit(page, () => page.getByTestId('oidc-logout-confirm').click()), 303, await describePage(page));
          await page.waitForURL(`${appBase}/signed-out`);
          await page.getByTestId('app-signed-out').waitFor();
          await shoot(page, `app-signed-out-${lang}`, screenshots);
          assert.equal(await latchkeySession(context), false, 'the Latchkey session cookie is gone');
          assert.equal((await page.request.get(`${base}/api/v1/me`, { headers: { accept: 'application/json' } })).status(), 401, 'and the session itself');

          // prompt=none without a Latchkey session: login_required, shown by the application.
          await page.goto(`${appBase}/login?prompt=none`);
          await page.waitForURL((url) => url.origin === appBase && url.pathname === '/callback');
          assert.equal(await page.getByTestId('app-error-code').textContent(), 'login_required');
          await shoot(page, `app-login-required-${lang}`, screenshots);
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      });
    }

    it('[en] a member with a second factor: no code reaches the application before /login/2fa passes', async () => {
      const t = translator('en');
      const { context, page, visited } = await open('en');
      try {
        await signInThroughApp(page, 'en', 'zoe', undefined, 303);
        assert.equal(pathOf(page), '/login/2fa');
        await shoot(page, 'latchkey-2fa-en', screenshots);
        assert.ok(!visited.some((url) => url.origin === appBase && url.pathname === '/callback'), 'no callback (so no code) before the factor');
        assert.equal(await latchkeySession(context), false);
        await page.getByLabel(t('login2fa.code')).fill(totpCode(zoeSecret, new FakeClock(Date.now() + 30_000)));
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('login2fa.submit') }).click()), 200, await describePage(page));
        await page.waitForURL(`${appBase}/`);
        assert.equal(await page.getByTestId('app-login').textContent(), 'zoe');
        assert.ok(visited.some((url) => url.origin === appBase && url.pathname === '/callback' && url.searchParams.has('code')));
      } finally {
        await context.close();
      }
    });

    for (const lang of ['en', 'ru'] as const) {
      it(`[${lang}] someone who is not a member of the portal is refused on a page naming it; the application hears access_denied`, async () => {
        const { context, page } = await open(lang);
        try {
          await signInThroughApp(page, lang, 'pavel');
          await page.getByTestId('oidc-not-member').waitFor();
          assert.match((await page.locator('main').textContent()) ?? '', /Acme Corp/);
          assert.equal(new URL(page.url()).origin, base);
          await shoot(page, `latchkey-not-member-${lang}`, screenshots);
          await page.getByTestId('oidc-back').click();
          await page.waitForURL((url) => url.origin === appBase && url.pathname === '/callback');
          assert.equal(await page.getByTestId('app-error-code').textContent(), 'access_denied');
          await shoot(page, `app-access-denied-${lang}`, screenshots);
          assert.equal(example?.sessions.size ? [...example.sessions.values()].some((s) => s.userinfo.preferred_username === 'pavel') : false, false);
        } finally {
          await context.close();
        }
      });
    }

    /** Starts a sign-in at the application without following it: its authorization URL and PKCE verifier. */
    async function startAtApp(page: Page, query = ''): Promise<{ authorization: URL; verifier: string }> {
      const started = await page.request.get(`${appBase}/login${query}`, { maxRedirects: 0 });
      assert.equal(started.status(), 303);
      const authorization = new URL(started.headers().location ?? '');
      const attempt = example?.attempts.get(authorization.searchParams.get('state') ?? '');
      assert.ok(attempt);
      return { authorization, verifier: attempt.verifier };
    }

    /**
     * Somebody (the person, on another device) completes a recovery of the account: from another browser
     * context (its own cookies; and no kept-alive fetch socket outlives the keys-rotate test's restart).
     */
    async function recoverElsewhere(accountId: string): Promise<void> {
      const { deps } = served!.testApp;
      const token = await deps.store.db.transaction().execute((tx) => issueToken(deps, tx, { accountId, purpose: 'email_link', lifetimeMs: 3_600_000 }));
      const elsewhere = await browser!.newContext();
      try {
        const done = await elsewhere.request.post(`${base}/api/v1/recovery/complete`, { headers: { origin: base }, data: { token, password: 'a-brand-new-passphrase-42' } });
        assert.equal(done.status(), 200, await done.text());
      } finally {
        await elsewhere.close();
      }
    }

    it('refuses a second redemption of a code the application already redeemed (invalid_grant)', async () => {
      const { context, page, visited } = await open('en');
      try {
        const { authorization, verifier } = await startAtApp(page);
        await page.goto(authorization.href);
        assert.equal(await signIn(page, translator('en'), 'ivan', PASSWORD), 200);
        await page.waitForURL(`${appBase}/`);
        const callback = visited.find((url) => url.origin === appBase && url.pathname === '/callback');
        assert.ok(callback?.searchParams.get('code'));
        const rp = await client.discovery(new URL(base), CLIENT_ID, secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
        await assert.rejects(
          client.authorizationCodeGrant(rp, callback as URL, { pkceCodeVerifier: verifier, expectedState: authorization.searchParams.get('state') ?? '' }),
          (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant',
        );
      } finally {
        await context.close();
      }
    });

    it('refuses an authorization request without PKCE, and one for a redirect URI never registered', async () => {
      const { context, page } = await open('en');
      try {
        const { authorization } = await startAtApp(page);
        const withoutPkce = new URL(authorization);
        withoutPkce.searchParams.delete('code_challenge');
        withoutPkce.searchParams.delete('code_challenge_method');
        await page.goto(withoutPkce.href);
        await page.waitForURL((url) => url.origin === appBase && url.pathname === '/callback');
        assert.equal(await page.getByTestId('app-error-code').textContent(), 'invalid_request');
        assert.match((await page.getByTestId('app-error').textContent()) ?? '', /PKCE/);

        for (const redirect of [`${appBase}/elsewhere`, `${appBase}/callback/`, 'https://evil.example/callback']) {
          const elsewhere = new URL((await startAtApp(page)).authorization);
          elsewhere.searchParams.set('redirect_uri', redirect);
          const answer = await page.goto(elsewhere.href);
          assert.equal(answer?.status(), 400, redirect);
          assert.equal(new URL(page.url()).origin, base, `${redirect}: the browser stays at Latchkey`);
          assert.equal(await page.getByTestId('oidc-error').getAttribute('data-error'), 'invalid_redirect_uri');
        }
        await shoot(page, 'latchkey-bad-redirect-en', screenshots);
      } finally {
        await context.close();
      }
    });

    it('receives back-channel logouts: a valid logout token ends the matching session; forged, foreign or replayed ones are refused', async () => {
      const { context, page } = await open('en');
      try {
        await signInThroughApp(page, 'en', 'ivan');
        await page.waitForURL(`${appBase}/`);
        const session = await appSessionOf(context);
        assert.ok(session?.sid, 'the ID token carries a sid (backchannel_logout_session_required)');
        const [rs256] = (await loadSigningKeys(served!.testApp.deps)) as Array<JsonWebKey & { kid: string }>;
        assert.ok(rs256);
        const now = Math.floor(Date.now() / 1000);
        const header = { alg: 'RS256', typ: 'logout+jwt', kid: rs256.kid };
        const claims = { iss: base, aud: CLIENT_ID, iat: now, exp: now + 120, jti: randomUUID(), sub: session.sub, sid: session.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
        const post = (token: string) =>
          fetch(`${appBase}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
        const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
        const refused: Array<[string, string]> = [
          ['wrong audience', signJwt(header, { ...claims, aud: 'another-app' }, rs256)],
          ['wrong issuer', signJwt(header, { ...claims, iss: 'http://127.0.0.1:9' }, rs256)],
          ['no logout event', signJwt(header, { ...claims, events: {} }, rs256)],
          ['an ID token (typ JWT)', signJwt({ ...header, typ: 'JWT' }, claims, rs256)],
          ['a nonce', signJwt(header, { ...claims, nonce: 'n' }, rs256)],
          ['a key Latchkey does not publish', signJwt(header, claims, foreign)],
          ['neither sub nor sid', signJwt(header, { ...claims, sub: undefined, sid: undefined }, rs256)],
        ];
        for (const [what, token] of refused) {
          const answer = await post(token);
          assert.equal(answer.status, 400, what);
          assert.equal(((await answer.json()) as { error: string }).error, 'invalid_request', what);
        }
        assert.ok(example?.sessions.has(session.id), 'no refused token ended the session');
        const valid = signJwt(header, claims, rs256);
        assert.equal((await post(valid)).status, 200);
        assert.equal(example?.sessions.has(session.id), false, 'the session with that sid ended');
        assert.equal((await post(valid)).status, 400, 'a replayed logout token is refused');
        await page.reload();
        await page.getByTestId('app-sign-in').waitFor();
      } finally {
        await context.close();
      }
    });

    it('a recovery completed elsewhere logs the application out: Latchkey\'s outbox sends the logout token, the app\'s session ends', async () => {
      const { context, page } = await open('en');
      try {
        await signInThroughApp(page, 'en', 'nina');
        await page.waitForURL(`${appBase}/`);
        const session = await appSessionOf(context);
        assert.ok(session?.sid && nina);
        await recoverElsewhere(nina.id);
        // The logout token travels through the outbox to the example's /backchannel-logout.
        await waitUntil(() => !example?.sessions.has(session.id), 20_000);
        await page.reload();
        await page.getByTestId('app-sign-in').waitFor();
        assert.equal(await latchkeySession(context), true, 'the browser still holds its (now revoked) Latchkey cookie');
        const me = await context.request.get(`${base}/api/v1/me`);
        assert.equal(me.status(), 401, 'and Latchkey no longer knows that session');
      } finally {
        await context.close();
      }
    });

    it('[ru] a refresh token (offline_access, PKCE, no consent screen for a member) works, then dies with a recovery completed elsewhere', async () => {
      const t = translator('ru');
      const { context, page, problems } = await open('ru');
      try {
        assert.ok(rita);
        const rp = await client.discovery(new URL(base), OFFLINE_CLIENT_ID, offlineSecret, client.ClientSecretBasic(offlineSecret), { execute: [client.allowInsecureRequests] });
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        // offline_access stays in the request only with prompt=consent (OpenID Connect Core 11), which Latchkey
        // answers for a member of the client's portal without a screen.
        const authorization = client.buildAuthorizationUrl(rp, {
          redirect_uri: `${offlineBase}/callback`,
          scope: 'openid offline_access',
          prompt: 'consent',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
        });
        await page.goto(authorization.href);
        await page.waitForURL((url) => url.origin === base && url.pathname === '/login');
        assert.equal(await signIn(page, t, 'rita', PASSWORD), 200, await describePage(page));
        await page.waitForURL((url) => url.origin === offlineBase && url.pathname === '/callback');
        await page.getByTestId('offline-callback').waitFor();
        const callback = new URL(page.url());
        assert.ok(callback.searchParams.get('code'), callback.href);

        const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state });
        assert.equal(tokens.claims()?.sub, rita.id);
        assert.ok(tokens.refresh_token, `a refresh token (scope granted: ${tokens.scope ?? ''})`);
        // The refresh token works: new tokens, and the new access token is live.
        const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token);
        assert.ok(refreshed.access_token && refreshed.access_token !== tokens.access_token, 'a new access token');
        assert.equal((await client.tokenIntrospection(rp, refreshed.access_token)).active, true);
        // Confidential clients may keep their refresh token (no rotation): the latest is whichever was given last.
        const latest = refreshed.refresh_token ?? tokens.refresh_token;

        await recoverElsewhere(rita.id);

        await assert.rejects(client.refreshTokenGrant(rp, latest), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant');
        for (const [what, token] of [
          ['the first access token', tokens.access_token],
          ['the refreshed access token', refreshed.access_token],
          ['the refresh token', latest],
        ] as const) {
          assert.equal((await client.tokenIntrospection(rp, token)).active, false, `${what} is inactive after the recovery`);
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    it('after `latchkey keys rotate` and a restart: ID tokens signed before still verify against the JWKS, new ones use the new key', async () => {
      const { context, page } = await open('en');
      try {
        await signInThroughApp(page, 'en', 'ivan');
        await page.waitForURL(`${appBase}/`);
        const before = await appSessionOf(context);
        assert.ok(before);
        const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
        assert.equal(kidOf(before.idToken), 'rs256-1');

        // The flow behind `latchkey keys rotate`, then the node restarts on the same port and database.
        const deps = served!.testApp.deps;
        await rotateSigningKeys(deps);
        await served!.testApp.app.close();
        // As when the process exits: every connection goes (clients' kept-alive sockets included).
        served!.testApp.app.server.closeAllConnections();
        // A real restart takes a moment, in which clients read that their kept-alive connections closed. On
        // SQLite buildApp is synchronous underneath and reaches listen() without the event loop polling once,
        // so this process's own fetch pool (the test's and the example app's) would hand the next request to
        // a socket whose end it has not read yet ("other side closed"). Let it read them first.
        await new Promise((resolve) => setTimeout(resolve, 200));
        restarted = await buildApp(deps);
        await restarted.listen({ host: '127.0.0.1', port: Number(new URL(base).port) });

        const jwks = (await (await fetch(`${base}/oidc/jwks`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
        assert.deepEqual(jwks.keys.map((k) => k.kid), ['rs256-2', 'es256-2', 'rs256-1', 'es256-1']);
        assert.ok(verifiesAgainst(before.idToken, jwks.keys), 'the ID token signed before the rotation verifies against the JWKS');

        // The application signs in again (SSO, the Latchkey session survived the restart): the new key signed.
        await context.clearCookies({ name: 'portal_app_session' });
        await page.goto(`${appBase}/login`);
        await page.waitForURL(`${appBase}/`);
        const after = await appSessionOf(context);
        assert.equal(kidOf(after?.idToken ?? ''), 'rs256-2');
        // And its back-channel endpoint takes a logout token signed with the new key (it refetches the JWKS
        // for the unknown kid) as well as one signed with the retired key (still published).
        const keys = (await loadSigningKeys(deps)) as Array<JsonWebKey & { kid: string }>;
        const now = Math.floor(Date.now() / 1000);
        for (const kid of ['rs256-2', 'rs256-1']) {
          const key = keys.find((k) => k.kid === kid);
          assert.ok(key, kid);
          const token = signJwt({ alg: 'RS256', typ: 'logout+jwt', kid }, { iss: base, aud: CLIENT_ID, iat: now, jti: randomUUID(), sub: after?.sub, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, key);
          const answer = await fetch(`${appBase}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });
          assert.equal(answer.status, 200, `${kid}: ${await answer.text()}`);
        }
      } finally {
        await context.close();
      }
    });
  });
}
