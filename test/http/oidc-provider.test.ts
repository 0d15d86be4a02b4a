import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { buildApp } from '../../src/app.js';
import { addPortal, addUser, setPortal } from '../../src/flows/operator.js';
import { confirmTotp, startTotpEnrolment } from '../../src/flows/second-factor.js';
import { findAccountById } from '../../src/store/accounts.repo.js';
import { Secret, TOTP } from 'otpauth';
import { insertSuspension } from '../../src/store/second-factor-suspensions.repo.js';
import { createAdapterClass, deleteExpiredModels } from '../../src/oidc/adapter.js';
import { addClient } from '../../src/oidc/clients.js';
import { rotateSigningKeys } from '../../src/oidc/keys.js';
import { DIALECTS, PASSWORD, startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort } from '../support/browser.js';
import { Browserless, type Hop } from '../support/browserless.js';
import { FakeClock } from '../support/clock.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { insertSocialIdentity } from '../../src/store/social-identities.repo.js';

/**
 * SPEC §10 and rule 18: a relying party built on openid-client signs portal members in through Latchkey's
 * OpenID Connect provider, over real HTTP on a loopback port.
 */

const CALLBACK = 'http://127.0.0.1:9/callback';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';

interface Rp {
  config: client.Configuration;
}

/** The relying party's side of one sign-in: PKCE verifier, state, and the authorization URL. */
async function startSignIn(rp: Rp, extra: Record<string, string> = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email phone',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  return { verifier, state, url };
}

/** Follows redirects until the browser would go to the client's callback (never requested). */
async function follow(browser: Browserless, url: URL | string): Promise<{ hops: Hop[]; last: Hop; callback: URL | undefined }> {
  const hops = await browser.follow(await browser.request(url), (next) => next.href.startsWith('http://127.0.0.1:9/'));
  const last = hops.at(-1) as Hop;
  return { hops, last, callback: last.location?.startsWith('http://127.0.0.1:9/') ? new URL(last.location) : undefined };
}

/** Posts the /login form the flow stopped at, then follows on. */
async function signInAtLatchkey(browser: Browserless, page: Hop, login: string) {
  assert.equal(page.url.pathname, '/login', `expected the login page, got ${page.url}`);
  const next = page.url.searchParams.get('next') ?? '';
  const hop = await browser.request(new URL('/login', page.url), { form: { login, password: PASSWORD, next } });
  return follow(browser, hop.location ?? '');
}

function verifyJwt(jwt: string, keys: JsonWebKey[]): boolean {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
  const jwk = keys.find((k) => (k as { kid?: string }).kid === kid);
  if (!jwk) return false;
  return verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
}

for (const dialect of DIALECTS) {
  describe(`OpenID Connect provider (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    let rp: Rp;
    let secret: string;
    let ivanId: string;
    let smtp: TestSmtpServer;
    let social: TestOidcProvider;

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      smtp = new TestSmtpServer();
      const smtpUrl = await smtp.start();
      social = await TestOidcProvider.start({ clientId: 'latchkey', clientSecret: 'social-secret-0123456789abcdef', redirectUris: [`${base}/auth/test/callback`] });
      t = await startTestApp({
        dialect,
        env: {
          LATCHKEY_PUBLIC_URL: base,
          LATCHKEY_RATE_LIMITS: 'off',
          LATCHKEY_SMTP_URL: smtpUrl,
          LATCHKEY_SOCIAL_TEST_ISSUER: social.issuer,
          LATCHKEY_SOCIAL_TEST_CLIENT_ID: 'latchkey',
          LATCHKEY_SOCIAL_TEST_CLIENT_SECRET: 'social-secret-0123456789abcdef',
        },
      });
      await t.app.listen({ host: '127.0.0.1', port });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'other', title: 'Other Ltd' });
      const ivan = await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', name: 'Ivan Petrov', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivanId = ivan.id;
      await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(t.deps, { login: 'olga', email: 'olga@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'other', role: 'employee' }] });
      const added = await addClient(t.deps, { clientId: 'acme-app', portalSlug: 'acme', redirectUris: [CALLBACK], postLogoutRedirectUris: [AFTER_LOGOUT] }, false);
      secret = added.secret ?? '';
      rp = { config: await client.discovery(new URL(base), 'acme-app', secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] }) };
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await social.stop();
    });

    const me = (browser: Browserless) => browser.request(`${base}/api/v1/me`, { headers: { accept: 'application/json' } });

    /** A full sign-in of `login` in a new browser: returns the browser, the tokens and the hops. */
    const signInThroughRp = async (login = 'ivan', browser = new Browserless()) => {
      const attempt = await startSignIn(rp);
      const first = await follow(browser, attempt.url);
      const done = first.callback ? first : await signInAtLatchkey(browser, first.last, login);
      assert.ok(done.callback, `no redirect to the client (ended at ${done.last.url} ${done.last.status})`);
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      return { browser, tokens, hops: [...first.hops, ...done.hops], callback: done.callback };
    };

    it('rule 17: a member with a second factor gets no code before the factor passes; wrong codes never yield one', async () => {
      const zoe = await addUser(t.deps, { login: 'zoe', email: 'zoe@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      const account = await findAccountById(t.deps.store.db, zoe.id);
      assert.ok(account);
      const { secret } = await startTotpEnrolment(t.deps, { account, password: PASSWORD }, { ip: '127.0.0.9' });
      const codeAt = (offsetMs: number) => new TOTP({ secret: Secret.fromBase32(secret.replace(/\s/g, '')), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offsetMs });
      await confirmTotp(t.deps, { account, code: codeAt(0) }, { ip: '127.0.0.9' });

      const browser = new Browserless();
      const attempt = await startSignIn(rp);
      const first = await follow(browser, attempt.url);
      const afterPassword = await signInAtLatchkey(browser, first.last, 'zoe');
      assert.equal(afterPassword.callback, undefined, 'no authorization code after the password alone');
      assert.equal(afterPassword.last.url.pathname, '/login/2fa');
      assert.equal((await me(browser)).status, 401, 'and no Latchkey session');
      // A wrong code: still no code for the application.
      const wrong = await browser.request(`${base}/login/2fa`, { form: { code: codeAt(0) === '000000' ? '111111' : '000000' } });
      assert.equal(wrong.status, 400);
      assert.equal((await me(browser)).status, 401);
      // The next step's code (the confirmation used this one; ±1 step is accepted) passes the factor, and the
      // browser goes on to the application's pending sign-in, which now issues a code.
      const right = await browser.request(`${base}/login/2fa`, { form: { code: codeAt(30_000) } });
      assert.equal(right.status, 200, right.body);
      assert.match(right.body, /data-testid="oidc-continue"/, 'a page that continues to the application (no redirect from the form)');
      const done = await follow(browser, new URL(right.location ?? '', base));
      assert.ok(done.callback, `no redirect to the client after the factor (ended at ${done.last.url} ${done.last.status})`);
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      assert.equal(tokens.claims()?.sub, zoe.id);
    });

    it('publishes discovery with the public URL as issuer, S256 only, and the endpoints under /oidc', async () => {
      const metadata = rp.config.serverMetadata();
      assert.equal(metadata.issuer, base);
      assert.equal(metadata.authorization_endpoint, `${base}/oidc/auth`);
      assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
      assert.ok(metadata.end_session_endpoint && metadata.revocation_endpoint && metadata.introspection_endpoint);
      assert.equal(metadata.backchannel_logout_supported, true);
      for (const scope of ['openid', 'profile', 'email', 'phone', 'offline_access']) assert.ok(metadata.scopes_supported?.includes(scope), scope);
      const jwks = JSON.parse((await new Browserless().request(`${base}/oidc/jwks`)).body) as { keys: Array<{ alg: string; d?: string }> };
      assert.deepEqual(jwks.keys.map((k) => k.alg), ['RS256', 'ES256']);
      assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private parts published');
    });

    it('signs a member in with the code flow and PKCE through /login; claims carry the portal; userinfo agrees', async () => {
      const { tokens, hops } = await signInThroughRp('ivan');
      assert.ok(hops.some((h) => h.url.pathname === '/login'), 'went through /login');
      const claims = tokens.claims();
      assert.equal(claims?.sub, ivanId);
      assert.equal(claims?.iss, base);
      const info = await client.fetchUserInfo(rp.config, tokens.access_token, ivanId);
      assert.equal(info.preferred_username, 'ivan');
      assert.equal(info.name, 'Ivan Petrov');
      assert.equal(info.email, 'ivan@example.com');
      assert.equal(info.locale, 'en');
      assert.deepEqual(info.portal, { slug: 'acme', role: 'admin' });
      const introspection = await client.tokenIntrospection(rp.config, tokens.access_token);
      assert.equal(introspection.active, true);
    });

    it('sends a browser with a Latchkey session straight back the second time (no /login)', async () => {
      const { browser } = await signInThroughRp('ivan');
      const again = await startSignIn(rp);
      const second = await follow(browser, again.url);
      assert.ok(second.callback, `ended at ${second.last.url}`);
      assert.ok(!second.hops.some((h) => h.url.pathname === '/login'));
      const tokens = await client.authorizationCodeGrant(rp.config, second.callback, { pkceCodeVerifier: again.verifier, expectedState: again.state });
      assert.equal(tokens.claims()?.sub, ivanId);
    });

    it('sends someone signed in at Latchkey (not yet through the provider) straight back', async () => {
      const browser = new Browserless();
      const signedIn = await browser.request(`${base}/login`, { form: { login: 'ivan', password: PASSWORD } });
      assert.equal(signedIn.status, 303);
      const attempt = await startSignIn(rp);
      const flow = await follow(browser, attempt.url);
      assert.ok(flow.callback?.searchParams.get('code'), `ended at ${flow.last.url}`);
    });

    it('refuses a person who is not an active member of the client’s portal: a page naming the portal, then access_denied', async () => {
      const browser = new Browserless();
      const attempt = await startSignIn(rp);
      const first = await follow(browser, attempt.url);
      const refused = await signInAtLatchkey(browser, first.last, 'olga');
      assert.equal(refused.callback, undefined);
      assert.equal(refused.last.status, 403, `${refused.last.url} ${refused.last.body.slice(0, 500)} ${t.logs.filter((l) => l.includes("\"level\":50")).join("\n")}`);
      assert.match(refused.last.body, /data-testid="oidc-not-member"/);
      assert.match(refused.last.body, /Acme Corp/);
      assert.match(refused.last.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const back = /href="([^"]+)" data-testid="oidc-back"/.exec(refused.last.body)?.[1] ?? '';
      const answered = await follow(browser, new URL(back.replace(/&amp;/g, '&'), base));
      assert.equal(answered.callback?.searchParams.get('error'), 'access_denied');
      assert.equal(answered.callback?.searchParams.get('code'), null);

      browser.setCookie('lk_lang', 'ru', new URL(base));
      const ru = await follow(browser, (await startSignIn(rp)).url);
      assert.equal(ru.last.status, 403);
      assert.match(ru.last.body, /Это приложение портала «Acme Corp»/);
    });

    it('issue 11: a session held to another portal (admin pause) and a portal requiring a second factor both end in access_denied', async () => {
      const vera = await addUser(t.deps, { login: 'vera', email: 'vera@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }, { slug: 'other', role: 'employee' }] });
      const other = await t.deps.store.db.selectFrom('portals').select('id').where('slug', '=', 'other').executeTakeFirstOrThrow();
      const now = t.deps.clock.now();
      await insertSuspension(t.deps.store.db, { id: 'pause-vera', account_id: vera.id, portal_id: other.id, suspended_by: null, created_at: now.toISOString(), expires_at: new Date(now.getTime() + 3600_000).toISOString() });
      const refusedBrowser = new Browserless();
      const first = await follow(refusedBrowser, (await startSignIn(rp)).url);
      const refused = await signInAtLatchkey(refusedBrowser, first.last, 'vera');
      assert.equal(refused.callback, undefined);
      assert.equal(refused.last.status, 403);
      assert.match(refused.last.body, /data-testid="oidc-portal-refused"/);
      const back = /href="([^"]+)" data-testid="oidc-back"/.exec(refused.last.body)?.[1] ?? '';
      const answered = await follow(refusedBrowser, new URL(back.replace(/&amp;/g, '&'), base));
      assert.equal(answered.callback?.searchParams.get('error'), 'access_denied');
      await t.deps.store.db.deleteFrom('second_factor_suspensions').execute();

      await addUser(t.deps, { login: 'gleb', email: 'gleb@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'employee' }] });
      await setPortal(t.deps, 'acme', { require2fa: 'on' });
      try {
        const browser = new Browserless();
        const start = await follow(browser, (await startSignIn(rp)).url);
        const noFactor = await signInAtLatchkey(browser, start.last, 'gleb');
        assert.equal(noFactor.callback, undefined);
        assert.equal(noFactor.last.status, 403);
        assert.match(noFactor.last.body, /Acme Corp requires two-factor sign-in/);
      } finally {
        await setPortal(t.deps, 'acme', { require2fa: 'off' });
      }
    });

    it('after "forgot password" the person continues to the application that sent them', async () => {
      const browser = new Browserless();
      const attempt = await startSignIn(rp);
      const first = await follow(browser, attempt.url);
      assert.equal(first.last.url.pathname, '/login');
      const asked = await browser.request(`${base}/recover`, { form: { login: 'anna' } });
      assert.equal(asked.status, 200);
      const [mail] = await smtp.waitFor((m) => m.to === 'anna@example.com');
      const link = await follow(browser, linkIn(mail as Parameters<typeof linkIn>[0]));
      assert.equal(link.last.url.pathname, '/recover/password');
      const changed = await browser.request(`${base}/recover/password`, { form: { password: 'a-brand-new-passphrase-42' } });
      const done = await follow(browser, changed.location ?? '');
      assert.ok(done.callback?.searchParams.get('code'), `ended at ${done.last.url}`);
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback as URL, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      assert.equal((await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()?.sub ?? '')).preferred_username, 'anna');
    });

    it('stops serving someone whose membership ended: userinfo refused, the next sign-in access_denied', async () => {
      const { browser, tokens } = await signInThroughRp('boris');
      const boris = await t.deps.store.db.selectFrom('accounts').select('id').where('login', '=', 'boris').executeTakeFirstOrThrow();
      const acme = await t.deps.store.db.selectFrom('portals').select('id').where('slug', '=', 'acme').executeTakeFirstOrThrow();
      await t.deps.store.db.updateTable('memberships').set({ status: 'fired' }).where('account_id', '=', boris.id).where('portal_id', '=', acme.id).execute();
      await assert.rejects(client.fetchUserInfo(rp.config, tokens.access_token, boris.id));
      const again = await follow(browser, (await startSignIn(rp)).url);
      assert.equal(again.callback, undefined);
      assert.equal(again.last.status, 403);
      assert.match(again.last.body, /data-testid="oidc-not-member"/);
    });

    it('writes no secret, code or token to the logs', async () => {
      const attempt = await startSignIn(rp);
      const browser = new Browserless();
      const done = await signInAtLatchkey(browser, (await follow(browser, attempt.url)).last, 'ivan');
      const code = done.callback?.searchParams.get('code') ?? '';
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback as URL, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      const logs = t.logs.join('\n');
      for (const value of [secret, code, attempt.verifier, tokens.access_token, tokens.id_token ?? '']) {
        assert.ok(value.length > 10 && !logs.includes(value), 'a secret value in the logs');
      }
    });

    it('after a social sign-in from /login the person continues to the application', async () => {
      const at = new Date().toISOString();
      await insertSocialIdentity(t.deps.store.db, { id: `si-${dialect}`, account_id: ivanId, provider: 'test', issuer: social.issuer, subject: 'ivan-at-test', email: null, created_at: at, last_used_at: null });
      social.nextUser = { sub: 'ivan-at-test' };
      const browser = new Browserless();
      const attempt = await startSignIn(rp);
      const first = await follow(browser, attempt.url);
      assert.match(first.last.body, /href="\/auth\/test"/);
      const done = await follow(browser, `${base}/auth/test`);
      assert.ok(done.callback?.searchParams.get('code'), `ended at ${done.last.url}`);
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback as URL, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      assert.equal(tokens.claims()?.sub, ivanId);
    });

    it('answers malformed requests with a 4xx, never a 5xx', async () => {
      const browser = new Browserless();
      const cases: Array<[string, Parameters<Browserless['request']>[1]]> = [
        ['/oidc/interaction/not-an-interaction', {}],
        ['/oidc/auth', {}],
        ['/oidc/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example', {}],
        ['/oidc/token', { method: 'POST', headers: { 'content-type': 'application/json' }, json: { grant_type: 'authorization_code' } }],
        ['/oidc/token', { form: { grant_type: 'authorization_code', code: 'x'.repeat(5000) } }],
        ['/oidc/token/introspection', { form: { token: 'x' } }],
        ['/oidc/me', {}],
        ['/oidc/session/end?id_token_hint=garbage', {}],
        ['/oidc/session/end/confirm', { form: { xsrf: 'nope', logout: 'yes' } }],
      ];
      for (const [path, init] of cases) {
        const hop = await browser.request(`${base}${path}`, init);
        assert.ok(hop.status >= 400 && hop.status < 500, `${path}: ${hop.status}`);
      }
    });

    it('redeems a code once: a second exchange is invalid_grant', async () => {
      const browser = new Browserless();
      const attempt = await startSignIn(rp);
      const done = await signInAtLatchkey(browser, (await follow(browser, attempt.url)).last, 'ivan');
      const callback = done.callback as URL;
      await client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
      await assert.rejects(
        client.authorizationCodeGrant(rp.config, callback, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state }),
        (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant',
      );
    });

    it('refuses an authorization request without PKCE', async () => {
      const url = client.buildAuthorizationUrl(rp.config, { redirect_uri: CALLBACK, scope: 'openid', state: 'x' });
      const flow = await follow(new Browserless(), url);
      assert.equal(flow.callback?.searchParams.get('error'), 'invalid_request');
      assert.match(flow.callback?.searchParams.get('error_description') ?? '', /PKCE/);
    });

    it('never redirects to a redirect URI that is not registered exactly', async () => {
      for (const uri of ['http://127.0.0.1:9/callback/', 'http://127.0.0.1:9/callback?x=1', 'https://evil.example/callback']) {
        const attempt = await startSignIn(rp, { redirect_uri: uri });
        const hop = await new Browserless().request(attempt.url);
        assert.equal(hop.status, 400, uri);
        assert.equal(hop.location, undefined, uri);
        assert.match(hop.body, /data-error="invalid_redirect_uri"/);
      }
    });

    it('answers prompt=none without a session with login_required', async () => {
      const attempt = await startSignIn(rp, { prompt: 'none' });
      const flow = await follow(new Browserless(), attempt.url);
      assert.equal(flow.callback?.searchParams.get('error'), 'login_required');
    });

    it('treats a signed-out Latchkey as signed out: prompt=none is login_required even though the provider remembers the person', async () => {
      const { browser } = await signInThroughRp('ivan');
      const out = await browser.request(`${base}/api/v1/session`, { method: 'DELETE', headers: { origin: base } });
      assert.equal(out.status, 204);
      const attempt = await startSignIn(rp, { prompt: 'none' });
      const flow = await follow(browser, attempt.url);
      assert.equal(flow.callback?.searchParams.get('error'), 'login_required');
    });

    it('prompt=login asks again even with a live session, then goes back to the client', async () => {
      const { browser } = await signInThroughRp('ivan');
      const attempt = await startSignIn(rp, { prompt: 'login' });
      const first = await follow(browser, attempt.url);
      assert.equal(first.callback, undefined);
      const done = await signInAtLatchkey(browser, first.last, 'ivan');
      assert.ok(done.callback?.searchParams.get('code'));
    });

    it('max_age: a session older than asked is ended and the person signs in again; a young one goes straight back', async () => {
      const { browser } = await signInThroughRp('ivan');
      const young = await follow(browser, (await startSignIn(rp, { max_age: '3600' })).url);
      assert.ok(young.callback?.searchParams.get('code'), 'a young session goes straight back');
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
      await t.deps.store.db.updateTable('sessions').set({ created_at: twoHoursAgo }).where('revoked_at', 'is', null).execute();
      const attempt = await startSignIn(rp, { max_age: '3600' });
      const old = await follow(browser, attempt.url);
      assert.equal(old.callback, undefined);
      assert.equal((await me(browser)).status, 401, 'the old session was ended');
      const done = await signInAtLatchkey(browser, old.last, 'ivan');
      const tokens = await client.authorizationCodeGrant(rp.config, done.callback as URL, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state, maxAge: 3600 });
      assert.ok(Number(tokens.claims()?.auth_time) >= Math.floor(Date.now() / 1000) - 60);
    });

    it('revokes tokens, and a client of another portal can neither introspect nor revoke them', async () => {
      const other = await addClient(t.deps, { clientId: 'other-app', portalSlug: 'other', redirectUris: [CALLBACK] }, false);
      const otherSecret = other.secret ?? '';
      const otherRp = await client.discovery(new URL(base), 'other-app', otherSecret, client.ClientSecretBasic(otherSecret), { execute: [client.allowInsecureRequests] });
      const { tokens } = await signInThroughRp('ivan');
      assert.equal((await client.tokenIntrospection(otherRp, tokens.access_token)).active, false);
      await client.tokenRevocation(otherRp, tokens.access_token).catch(() => undefined);
      assert.equal((await client.tokenIntrospection(rp.config, tokens.access_token)).active, true);
      await client.tokenRevocation(rp.config, tokens.access_token);
      assert.equal((await client.tokenIntrospection(rp.config, tokens.access_token)).active, false);
    });

    it('RP-initiated logout ends the Latchkey session', async () => {
      const { browser, tokens } = await signInThroughRp('ivan');
      assert.equal((await me(browser)).status, 200);
      const url = client.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: AFTER_LOGOUT });
      const page = await browser.request(url);
      assert.equal(page.status, 200);
      const form = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(page.body);
      assert.ok(form, 'the confirmation form');
      const confirmed = await browser.request(new URL(form[1] ?? '', base), { form: { xsrf: form[2] ?? '', logout: 'yes' } });
      assert.equal(confirmed.location, AFTER_LOGOUT);
      assert.equal((await me(browser)).status, 401);
      const attempt = await startSignIn(rp, { prompt: 'none' });
      assert.equal((await follow(browser, attempt.url)).callback?.searchParams.get('error'), 'login_required');
    });

    it('keeps verifying tokens signed before a key rotation; the new key signs after a restart', async () => {
      const { tokens } = await signInThroughRp('ivan');
      const idToken = tokens.id_token ?? '';
      await rotateSigningKeys(t.deps);
      const restarted = await buildApp(t.deps);
      try {
        const jwks = JSON.parse((await restarted.inject({ url: '/oidc/jwks' })).body) as { keys: Array<JsonWebKey & { kid: string; alg: string }> };
        assert.deepEqual(jwks.keys.map((k) => k.kid), ['rs256-2', 'es256-2', 'rs256-1', 'es256-1']);
        assert.ok(verifyJwt(idToken, jwks.keys), 'the old ID token verifies against the new JWKS');
      } finally {
        await restarted.close();
      }
    });

    it('keeps every model in the database, hides expired ones and deletes them', async () => {
      const clock = new FakeClock(Date.now());
      const Adapter = createAdapterClass(t.deps.store, clock, async () => undefined);
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('code-1', { grantId: 'g1', clientId: 'acme-app' }, 60);
      assert.equal((await codes.find('code-1'))?.grantId, 'g1');
      await codes.consume('code-1');
      assert.ok((await codes.find('code-1'))?.consumed);
      clock.advance(61_000);
      assert.equal(await codes.find('code-1'), undefined);
      assert.ok((await deleteExpiredModels(t.deps.store.db, clock.now())) >= 1);
      const left = await t.deps.store.db.selectFrom('oidc_models').select('id').where('id', '=', 'code-1').execute();
      assert.equal(left.length, 0);
    });

    if (dialect === 'postgres') {
      it('two nodes on one database: a code issued by one is redeemed on the other', async () => {
        const port = await freeLoopbackPort();
        const other = await startTestApp({ dialect, env: { LATCHKEY_PUBLIC_URL: base, LATCHKEY_RATE_LIMITS: 'off', LATCHKEY_DATABASE_URL: t.deps.config.databaseUrl } });
        try {
          await other.app.listen({ host: '127.0.0.1', port });
          const nodeB = `http://127.0.0.1:${port}`;
          const metadata = rp.config.serverMetadata();
          const onB = new client.Configuration(
            { ...(JSON.parse(JSON.stringify(metadata)) as client.ServerMetadata), token_endpoint: `${nodeB}/oidc/token`, jwks_uri: `${nodeB}/oidc/jwks`, userinfo_endpoint: `${nodeB}/oidc/me` },
            'acme-app',
            secret,
            client.ClientSecretBasic(secret),
          );
          client.allowInsecureRequests(onB);
          const browser = new Browserless();
          const attempt = await startSignIn(rp);
          const done = await signInAtLatchkey(browser, (await follow(browser, attempt.url)).last, 'ivan');
          const tokens = await client.authorizationCodeGrant(onB, done.callback as URL, { pkceCodeVerifier: attempt.verifier, expectedState: attempt.state });
          assert.equal(tokens.claims()?.sub, ivanId);
          const info = await client.fetchUserInfo(onB, tokens.access_token, ivanId);
          assert.deepEqual(info.portal, { slug: 'acme', role: 'admin' });
        } finally {
          await other.close();
        }
      });
    }
  });
}
