import assert from 'node:assert/strict';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { publicSessionId } from '../../src/flows/account-sessions.js';
import { addPortal, addUser, disableAccount } from '../../src/flows/operator.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { addClient } from '../../src/oidc/clients.js';
import { DIALECTS, PASSWORD, startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort } from '../support/browser.js';
import { Browserless, type Hop } from '../support/browserless.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';

/**
 * SPEC §10 Logout, §11 (issue 12 item 5): whenever a Latchkey session ends, each application signed in under
 * it gets a back-channel logout token from the outbox, verifiable against the provider's JWKS, and its
 * refresh token, access token and grant die. A relying party built on openid-client signs in over real
 * HTTP; a real receiver on 127.0.0.1 (a loopback address the library's own sender would refuse) records
 * the tokens.
 */

const CALLBACK = 'http://127.0.0.1:9/callback';
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Received {
  path: string;
  token: string;
  contentType: string;
  status: number;
}

/** The applications' back-channel logout endpoints: records every POST; a path may answer 500 a few times first. */
class LogoutReceiver {
  readonly received: Received[] = [];
  readonly failFirst = new Map<string, number>();
  private server: http.Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        const failures = this.failFirst.get(path) ?? 0;
        const status = failures > 0 ? 500 : 200;
        if (failures > 0) this.failFirst.set(path, failures - 1);
        this.received.push({ path, token: new URLSearchParams(body).get('logout_token') ?? '', contentType: req.headers['content-type'] ?? '', status });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The deliveries (every attempt) of tokens for `sid`. */
  forSid(sid: string): Received[] {
    return this.received.filter((r) => claimsOf(r.token).sid === sid);
  }

  async waitForSid(sid: string, count = 1, timeoutMs = 8000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.forSid(sid);
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.fail(`no logout token for sid ${sid} (${this.forSid(sid).length} of ${count}); received: ${this.received.map((r) => r.path).join(', ')}`);
  }
}

interface LogoutClaims {
  iss?: string;
  aud?: string | string[];
  sub?: string;
  sid?: string;
  iat?: number;
  exp?: number;
  jti?: string;
  nonce?: string;
  events?: Record<string, unknown>;
}

function claimsOf(jwt: string): LogoutClaims {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as LogoutClaims;
  } catch {
    return {};
  }
}

/** A JWT's signature against a JWKS (RS256 and ES256), and its header. */
function verifyJwt(jwt: string, keys: JsonWebKey[]): { valid: boolean; header: { alg?: string; typ?: string; kid?: string } } {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const parsed = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string; typ?: string; kid?: string };
  const jwk = keys.find((k) => (k as { kid?: string }).kid === parsed.kid);
  if (!jwk) return { valid: false, header: parsed };
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  const valid = parsed.alg === 'ES256' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig) : verify('sha256', data, key, sig);
  return { valid, header: parsed };
}

for (const dialect of DIALECTS) {
  describe(`back-channel logout whenever a session ends (${dialect})`, () => {
    let t: TestApp;
    let base: string;
    let smtp: TestSmtpServer;
    const receiver = new LogoutReceiver();
    let acmeRp: client.Configuration;
    let otherRp: client.Configuration;
    let jwks: JsonWebKey[];
    let users = 0;

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      smtp = new TestSmtpServer();
      const smtpUrl = await smtp.start();
      await receiver.start();
      t = await startTestApp({ dialect, env: { LATCHKEY_PUBLIC_URL: base, LATCHKEY_RATE_LIMITS: 'off', LATCHKEY_SMTP_URL: smtpUrl } });
      await t.app.listen({ host: '127.0.0.1', port });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'other', title: 'Other Ltd' });
      await addUser(t.deps, { login: 'boss', email: 'boss@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      const rpOf = async (clientId: string, portalSlug: string) => {
        const added = await addClient(t.deps, { clientId, portalSlug, redirectUris: [CALLBACK], postLogoutRedirectUris: [AFTER_LOGOUT], backchannelLogoutUri: `${receiver.base}/${clientId}` }, false);
        const secret = added.secret ?? '';
        return client.discovery(new URL(base), clientId, secret, client.ClientSecretBasic(secret), { execute: [client.allowInsecureRequests] });
      };
      acmeRp = await rpOf('acme-app', 'acme');
      otherRp = await rpOf('other-app', 'other');
      jwks = (JSON.parse((await new Browserless().request(`${base}/oidc/jwks`)).body) as { keys: JsonWebKey[] }).keys;
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await receiver.stop();
    });

    /** A new member of acme (and of other, when asked). */
    const newUser = async (portals: Array<'acme' | 'other'> = ['acme']) => {
      users += 1;
      const login = `person${users}`;
      const user = await addUser(t.deps, { login, email: `${login}@example.com`, password: PASSWORD, locale: 'en', portals: portals.map((slug) => ({ slug, role: 'employee' as const })) });
      return { id: user.id, login, email: `${login}@example.com` };
    };

    const follow = async (browser: Browserless, url: URL | string) => {
      const hops = await browser.follow(await browser.request(url), (next) => next.href.startsWith('http://127.0.0.1:9/'));
      const last = hops.at(-1) as Hop;
      return { hops, last, callback: last.location?.startsWith('http://127.0.0.1:9/') ? new URL(last.location) : undefined };
    };

    /** The code flow with PKCE and offline_access (so a refresh token), signing in at /login when asked. */
    const signIn = async (rp: client.Configuration, login: string, browser = new Browserless()) => {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: CALLBACK,
        scope: 'openid offline_access',
        prompt: 'consent',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      let flow = await follow(browser, url);
      if (!flow.callback) {
        assert.equal(flow.last.url.pathname, '/login', `expected /login, got ${flow.last.url} ${flow.last.status}`);
        const hop = await browser.request(new URL('/login', base), { form: { login, password: PASSWORD, next: flow.last.url.searchParams.get('next') ?? '' } });
        flow = await follow(browser, hop.location ?? '');
      }
      assert.ok(flow.callback, `no redirect to the client (ended at ${flow.last.url} ${flow.last.status})`);
      const tokens = await client.authorizationCodeGrant(rp, flow.callback, { pkceCodeVerifier: verifier, expectedState: state });
      const sid = String(tokens.claims()?.sid ?? '');
      assert.ok(sid, 'the ID token carries a sid');
      assert.ok(tokens.refresh_token, 'a refresh token');
      return { browser, tokens, sid };
    };

    /** The token arrived at the client's endpoint, verifies against the JWKS and says what Back-Channel Logout 1.0 asks. */
    const assertLogoutToken = async (clientId: string, sub: string, sid: string) => {
      const [delivery] = await receiver.waitForSid(sid);
      assert.ok(delivery);
      assert.equal(delivery.path, `/${clientId}`);
      assert.equal(delivery.contentType, 'application/x-www-form-urlencoded');
      const { valid, header } = verifyJwt(delivery.token, jwks);
      assert.ok(valid, 'signed with a key of the provider’s JWKS');
      assert.equal(header.typ, 'logout+jwt');
      assert.equal(header.alg, 'RS256');
      const claims = claimsOf(delivery.token);
      assert.equal(claims.iss, base);
      assert.equal(claims.aud, clientId);
      assert.equal(claims.sub, sub);
      assert.equal(claims.sid, sid);
      assert.deepEqual(claims.events, { [EVENT]: {} });
      assert.equal(claims.nonce, undefined);
      assert.ok(claims.jti && claims.iat && claims.exp && claims.exp > claims.iat && claims.exp - claims.iat <= 300, 'jti and a short life');
    };

    /** The refresh token is refused (invalid_grant) and introspection calls the access token inactive. */
    const assertDead = async (rp: client.Configuration, tokens: client.TokenEndpointResponse) => {
      await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token ?? ''), (error: unknown) => error instanceof client.ResponseBodyError && error.error === 'invalid_grant');
      assert.equal((await client.tokenIntrospection(rp, tokens.access_token)).active, false);
      assert.equal((await client.tokenIntrospection(rp, tokens.refresh_token ?? '')).active, false);
    };

    const assertAlive = async (rp: client.Configuration, tokens: client.TokenEndpointResponse) => {
      assert.equal((await client.tokenIntrospection(rp, tokens.access_token)).active, true);
      const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token ?? '');
      assert.ok(refreshed.access_token);
    };

    const api = (browser: Browserless, path: string, method: string, json?: unknown) =>
      browser.request(`${base}${path}`, { method, headers: { accept: 'application/json', origin: base }, ...(json === undefined ? {} : { json }) });

    it('sign-out (DELETE /api/v1/session): the application gets a logout token, its refresh token dies', async () => {
      const user = await newUser();
      const { browser, tokens, sid } = await signIn(acmeRp, user.login);
      await assertAlive(acmeRp, tokens);
      assert.equal((await api(browser, '/api/v1/session', 'DELETE')).status, 204);
      await assertLogoutToken('acme-app', user.id, sid);
      await assertDead(acmeRp, tokens);
    });

    it('RP-initiated logout: the Latchkey session ends and the logout token goes through the outbox (once)', async () => {
      const user = await newUser();
      const { browser, tokens, sid } = await signIn(acmeRp, user.login);
      const page = await browser.request(client.buildEndSessionUrl(acmeRp, { id_token_hint: tokens.id_token ?? '', post_logout_redirect_uri: AFTER_LOGOUT }));
      const form = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/.exec(page.body);
      assert.ok(form, 'the confirmation form');
      const confirmed = await browser.request(new URL(form[1] ?? '', base), { form: { xsrf: form[2] ?? '', logout: 'yes' } });
      assert.equal(confirmed.location, AFTER_LOGOUT);
      assert.equal((await api(browser, '/api/v1/me', 'GET')).status, 401, 'the Latchkey session ended');
      await assertLogoutToken('acme-app', user.id, sid);
      await assertDead(acmeRp, tokens);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.forSid(sid).length, 1, 'sent once');
    });

    it('recovery completed by the e-mailed link: every session ends, every application hears it', async () => {
      const user = await newUser(['acme', 'other']);
      const first = await signIn(acmeRp, user.login);
      const second = await signIn(otherRp, user.login, first.browser);
      const elsewhere = await signIn(acmeRp, user.login);
      const stranger = new Browserless();
      assert.equal((await stranger.request(`${base}/recover`, { form: { login: user.login } })).status, 200);
      const [mail] = await smtp.waitFor((m) => m.to === user.email && /recover/i.test(m.text ?? m.html ?? ''));
      const link = await follow(stranger, linkIn(mail as Parameters<typeof linkIn>[0]));
      assert.equal(link.last.url.pathname, '/recover/password');
      const changed = await stranger.request(`${base}/recover/password`, { form: { password: 'a-brand-new-passphrase-42' } });
      assert.equal(changed.status, 303);
      await assertLogoutToken('acme-app', user.id, first.sid);
      await assertLogoutToken('other-app', user.id, second.sid);
      await assertLogoutToken('acme-app', user.id, elsewhere.sid);
      await assertDead(acmeRp, first.tokens);
      await assertDead(otherRp, second.tokens);
      await assertDead(acmeRp, elsewhere.tokens);
    });

    it('password change: the other sessions’ applications are logged out, this session’s keep going', async () => {
      const user = await newUser();
      const other = await signIn(acmeRp, user.login);
      const mine = await signIn(acmeRp, user.login);
      const changed = await api(mine.browser, '/api/v1/me/password', 'POST', { currentPassword: PASSWORD, newPassword: 'another-fine-passphrase-7' });
      assert.equal(changed.status, 204, changed.body);
      await assertLogoutToken('acme-app', user.id, other.sid);
      await assertDead(acmeRp, other.tokens);
      await assertAlive(acmeRp, mine.tokens);
      assert.equal(receiver.forSid(mine.sid).length, 0, 'no logout for the session that made the change');
    });

    it('/account/sessions: signing out one session, then everywhere else', async () => {
      const user = await newUser();
      const a = await signIn(acmeRp, user.login);
      const b = await signIn(acmeRp, user.login);
      const c = await signIn(acmeRp, user.login);
      const idOf = (browser: Browserless) => publicSessionId(t.deps.secretKey, sha256(browser.cookie('lk_session') ?? ''));
      assert.equal((await api(c.browser, `/api/v1/me/sessions/${idOf(a.browser)}`, 'DELETE')).status, 204);
      await assertLogoutToken('acme-app', user.id, a.sid);
      await assertDead(acmeRp, a.tokens);
      await assertAlive(acmeRp, b.tokens);
      assert.equal((await api(c.browser, '/api/v1/me/sessions', 'DELETE')).status, 204);
      await assertLogoutToken('acme-app', user.id, b.sid);
      await assertDead(acmeRp, b.tokens);
      await assertAlive(acmeRp, c.tokens);
      assert.equal(receiver.forSid(c.sid).length, 0);
    });

    it('an admin ends a member’s sessions', async () => {
      const user = await newUser();
      const { tokens, sid } = await signIn(acmeRp, user.login);
      const boss = new Browserless();
      assert.equal((await api(boss, '/api/v1/session', 'POST', { login: 'boss', password: PASSWORD })).status, 200);
      assert.equal((await api(boss, `/api/v1/portals/acme/users/${user.id}/sessions`, 'DELETE')).status, 204);
      await assertLogoutToken('acme-app', user.id, sid);
      await assertDead(acmeRp, tokens);
    });

    it('the operator disables the account (latchkey user disable)', async () => {
      const user = await newUser(['acme', 'other']);
      const first = await signIn(acmeRp, user.login);
      const second = await signIn(otherRp, user.login, first.browser);
      assert.equal(await disableAccount(t.deps, user.login), true);
      await assertLogoutToken('acme-app', user.id, first.sid);
      await assertLogoutToken('other-app', user.id, second.sid);
      await assertDead(acmeRp, first.tokens);
    });

    it('membership fired: only that portal’s applications are logged out; another portal’s client gets nothing', async () => {
      const user = await newUser(['acme', 'other']);
      const acme = await signIn(acmeRp, user.login);
      const other = await signIn(otherRp, user.login, acme.browser);
      const boss = new Browserless();
      assert.equal((await api(boss, '/api/v1/session', 'POST', { login: 'boss', password: PASSWORD })).status, 200);
      const fired = await api(boss, `/api/v1/portals/acme/users/${user.id}`, 'PATCH', { status: 'fired' });
      assert.equal(fired.status, 200, fired.body);
      await assertLogoutToken('acme-app', user.id, acme.sid);
      await assertDead(acmeRp, acme.tokens);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.forSid(other.sid).length, 0, 'the other portal’s client hears nothing');
      await assertAlive(otherRp, other.tokens);
      assert.equal((await api(acme.browser, '/api/v1/me', 'GET')).status, 200, 'the Latchkey session stays');
    });

    it('a receiver answering 500 gets the same logout again on retry', async () => {
      const user = await newUser();
      const { browser, sid } = await signIn(acmeRp, user.login);
      receiver.failFirst.set('/acme-app', 1);
      assert.equal((await api(browser, '/api/v1/session', 'DELETE')).status, 204);
      const [failed, retried] = await receiver.waitForSid(sid, 2);
      assert.equal(failed?.status, 500);
      assert.equal(retried?.status, 200);
      assert.equal(claimsOf(retried?.token ?? '').jti, claimsOf(failed?.token ?? '').jti, 'the same logout (jti) at every attempt');
      assert.ok(verifyJwt(retried?.token ?? '', jwks).valid);
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(receiver.forSid(sid).length, 2, 'nothing after the 200');
    });
  });
}
