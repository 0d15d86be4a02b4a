import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SocialProviderSettings } from '../../src/config.js';
import { SocialError, type AttemptSecrets, type SocialFailure, type SocialProvider } from '../../src/social/provider.js';
import { createVkIdProvider } from '../../src/social/vk-id.js';
import { createYandexIdProvider } from '../../src/social/yandex-id.js';
import { startVkIdStub, startYandexIdStub, type OAuthStub, type VkIdStub } from '../support/oauth-stubs.js';

// VK ID and Yandex ID adapters against local servers that implement the providers' documented endpoints
// (test/support/oauth-stubs.ts): the browser's trip to /authorize is a fetch with redirect:'manual', whose
// Location is the callback URL handed to finish(). Nothing leaves the machine.

const TIMEOUT_MS = 2000;

interface Kit {
  name: string;
  kind: 'vk' | 'yandex';
  start(): Promise<OAuthStub>;
  create(settings: SocialProviderSettings, timeoutMs: number): SocialProvider;
  subjectField: string;
  expected: { subject: string; email: string; phone: string; name: string };
  recoveryUrl: string;
}

const kits: Kit[] = [
  {
    name: 'VK ID',
    kind: 'vk',
    start: () => startVkIdStub({ clientId: '51234567', redirectUri: 'http://127.0.0.1:3000/auth/vk/callback' }),
    create: createVkIdProvider,
    subjectField: 'user_id',
    expected: { subject: '1234567890', email: 'ivan.petrov@example.ru', phone: '79991234567', name: 'Ivan Petrov' },
    recoveryUrl: 'https://id.vk.com/restore/',
  },
  {
    name: 'Yandex ID',
    kind: 'yandex',
    start: () =>
      startYandexIdStub({ clientId: 'c0ffee0123456789abcdef0123456789', clientSecret: 'yandex-app-secret', redirectUri: 'http://127.0.0.1:3000/auth/yandex/callback' }),
    create: createYandexIdProvider,
    subjectField: 'id',
    expected: { subject: '1000034426', email: 'ivan.petrov@yandex.ru', phone: '+79037659418', name: 'Ivan Petrov' },
    recoveryUrl: 'https://passport.yandex.ru/restoration',
  },
];

function settingsFor(kit: Kit, stub: OAuthStub): SocialProviderSettings {
  return { id: kit.kind, kind: kit.kind, clientId: stub.clientId, clientSecret: stub.clientSecret, issuer: `${stub.base}/`, title: kit.name };
}

function attemptFor(stub: OAuthStub): AttemptSecrets {
  const random = () => randomBytes(32).toString('base64url');
  return { state: random(), nonce: random(), codeVerifier: random(), redirectUri: stub.redirectUri };
}

/** The browser's round trip: open the authorization URL, come back to the callback the provider redirects to. */
async function authorize(provider: SocialProvider, attempt: AttemptSecrets): Promise<URL> {
  const response = await fetch(await provider.authorizationUrl(attempt), { redirect: 'manual' });
  await response.body?.cancel();
  assert.equal(response.status, 302, 'authorize answers with a redirect');
  const location = response.headers.get('location');
  assert.ok(location, 'the redirect has a Location');
  return new URL(location);
}

/** Awaits a SocialError of `reason` and checks that no code, token or secret appears anywhere in it. */
async function rejectsWith(promise: Promise<unknown>, reason: SocialFailure, stub: OAuthStub, secrets: string[] = []): Promise<SocialError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof SocialError, `expected a SocialError(${reason}), got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  const text = `${caught.message}\n${caught.detail ?? ''}\n${caught.stack ?? ''}`;
  const sensitive = [...stub.issued, ...secrets, ...(stub.clientSecret ? [stub.clientSecret] : [])];
  assert.ok(stub.issued.length > 0 || secrets.length > 0, 'the leak check has something to look for');
  for (const value of sensitive) assert.ok(!text.includes(value), `the error (${caught.message}) must not carry a code or token`);
  return caught;
}

const tokenRequests = (stub: OAuthStub, kit: Kit) => stub.requests.filter((r) => r.method === 'POST' && r.path === (kit.kind === 'vk' ? '/oauth2/auth' : '/token'));

for (const kit of kits) {
  describe(`${kit.name} adapter`, () => {
    let stub: OAuthStub;
    let provider: SocialProvider;
    beforeEach(async () => {
      stub = await kit.start();
      provider = kit.create(settingsFor(kit, stub), TIMEOUT_MS);
    });
    afterEach(async () => {
      await stub.stop();
    });

    it('builds the authorization URL with the documented parameters (PKCE S256, state)', async () => {
      const attempt = attemptFor(stub);
      const url = await provider.authorizationUrl(attempt);
      assert.equal(`${url.origin}${url.pathname}`, `${stub.base}/authorize`);
      const q = url.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), stub.clientId);
      assert.equal(q.get('redirect_uri'), attempt.redirectUri);
      assert.equal(q.get('state'), attempt.state);
      assert.equal(q.get('code_challenge'), createHash('sha256').update(attempt.codeVerifier).digest('base64url'));
      assert.equal(q.get('code_challenge_method'), 'S256');
      if (kit.kind === 'vk') assert.equal(q.get('scope'), 'email phone');
      assert.equal(q.get('code_verifier'), null, 'the verifier itself never goes to the browser');
      assert.equal(provider.id, kit.kind);
      assert.equal(provider.title, kit.name);
      assert.equal(provider.recoveryUrl, kit.recoveryUrl);
    });

    it('finishes a full exchange: subject and issuer from the provider, contacts unverified', async () => {
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      assert.equal(callback.searchParams.get('state'), attempt.state);
      const profile = await provider.finish(callback, attempt);
      assert.deepEqual(profile, {
        issuer: stub.base,
        subject: kit.expected.subject,
        email: kit.expected.email,
        emailVerified: false,
        phone: kit.expected.phone,
        phoneVerified: false,
        name: kit.expected.name,
      });

      const [token] = tokenRequests(stub, kit);
      assert.ok(token, 'one token request');
      assert.equal(token.form.grant_type, 'authorization_code');
      assert.equal(token.form.code, callback.searchParams.get('code'));
      assert.equal(token.form.code_verifier, attempt.codeVerifier);
      assert.equal(token.form.client_id, stub.clientId);
      assert.equal(token.form.redirect_uri, attempt.redirectUri);
      const accessToken = stub.issued[1]; // issued in order: the code, then the access token
      if (kit.kind === 'vk') {
        assert.equal(token.form.device_id, callback.searchParams.get('device_id'));
        assert.equal(token.form.state, attempt.state);
        const info = stub.requests.find((r) => r.path === '/oauth2/user_info');
        assert.equal(info?.method, 'POST');
        assert.deepEqual(info?.form, { client_id: stub.clientId, access_token: accessToken });
      } else {
        assert.equal(token.form.client_secret, stub.clientSecret);
        const info = stub.requests.find((r) => r.path === '/info');
        assert.equal(info?.method, 'GET');
        assert.equal(info?.authorization, `OAuth ${accessToken}`);
        assert.deepEqual(info?.query, { format: 'json' }, 'the token travels in the header, never in the URL');
      }
    });

    it('sends the PKCE verifier the provider checks: a wrong one is provider_error', async () => {
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      const wrong = { ...attempt, codeVerifier: randomBytes(32).toString('base64url') };
      const error = await rejectsWith(provider.finish(callback, wrong), 'provider_error', stub, [attempt.codeVerifier, wrong.codeVerifier]);
      assert.match(error.message, /invalid_grant/);
      assert.equal(tokenRequests(stub, kit).length, 1);
    });

    it('a replayed code is provider_error (codes are single-use)', async () => {
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      await provider.finish(callback, attempt);
      const error = await rejectsWith(provider.finish(callback, attempt), 'provider_error', stub, [attempt.codeVerifier]);
      assert.match(error.message, /token: HTTP 400 invalid_grant/);
    });

    it('access_denied at the provider is cancelled, and nothing is exchanged', async () => {
      stub.deny = true;
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      await rejectsWith(provider.finish(callback, attempt), 'cancelled', stub, [attempt.codeVerifier]);
      assert.equal(tokenRequests(stub, kit).length, 0);
    });

    it('a callback whose state is not ours is state_mismatch, and nothing is exchanged', async () => {
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      await rejectsWith(provider.finish(callback, { ...attempt, state: randomBytes(32).toString('base64url') }), 'state_mismatch', stub);
      assert.equal(tokenRequests(stub, kit).length, 0);
    });

    it('a provider that is down is provider_unreachable', async () => {
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      await stub.down();
      await rejectsWith(provider.finish(callback, attempt), 'provider_unreachable', stub, [attempt.codeVerifier]);
    });

    it('a provider that never answers is provider_unreachable after the time-out (300 ms), well within 2 s', async () => {
      const quick = kit.create(settingsFor(kit, stub), 300);
      const attempt = attemptFor(stub);
      const callback = await authorize(quick, attempt);
      stub.slow = true;
      const started = performance.now();
      await rejectsWith(quick.finish(callback, attempt), 'provider_unreachable', stub, [attempt.codeVerifier]);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 2000, `gave up after ${Math.round(elapsed)} ms`);
      assert.equal(tokenRequests(stub, kit).length, 1, 'the token request reached the provider');
    });

    it('a profile without the person’s id is no_subject', async () => {
      const user = { ...stub.nextUser };
      delete user[kit.subjectField];
      stub.nextUser = user;
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      await rejectsWith(provider.finish(callback, attempt), 'no_subject', stub, [attempt.codeVerifier]);
    });

    it('a profile endpoint that refuses the token is provider_error, and the token stays out of the error', async () => {
      stub.failProfile = true;
      const attempt = attemptFor(stub);
      const callback = await authorize(provider, attempt);
      const error = await rejectsWith(provider.finish(callback, attempt), 'provider_error', stub, [attempt.codeVerifier]);
      assert.match(error.message, /HTTP 401 invalid_token/);
      assert.ok(stub.issued.length >= 2, 'a code and a token were issued and checked for');
    });
  });
}

describe('VK ID specifics', () => {
  let stub: VkIdStub;
  let provider: SocialProvider;
  beforeEach(async () => {
    stub = await startVkIdStub({ redirectUri: 'http://127.0.0.1:3000/auth/vk/callback' });
    provider = createVkIdProvider({ id: 'vk', kind: 'vk', clientId: stub.clientId, clientSecret: undefined, issuer: stub.base, title: 'VK ID' }, TIMEOUT_MS);
  });
  afterEach(async () => {
    await stub.stop();
  });

  it('a callback without device_id (or code) is provider_error, and nothing is exchanged', async () => {
    const attempt = attemptFor(stub);
    const callback = await authorize(provider, attempt);
    const withoutDevice = new URL(callback);
    withoutDevice.searchParams.delete('device_id');
    await rejectsWith(provider.finish(withoutDevice, attempt), 'provider_error', stub);
    const withoutCode = new URL(callback);
    withoutCode.searchParams.delete('code');
    await rejectsWith(provider.finish(withoutCode, attempt), 'provider_error', stub);
    assert.equal(stub.requests.filter((r) => r.path === '/oauth2/auth').length, 0);
  });

  it('a token answer whose state is not ours is state_mismatch, and the profile is not asked for', async () => {
    stub.tokenState = randomBytes(32).toString('base64url');
    const attempt = attemptFor(stub);
    const callback = await authorize(provider, attempt);
    await rejectsWith(provider.finish(callback, attempt), 'state_mismatch', stub, [attempt.codeVerifier]);
    assert.equal(stub.requests.filter((r) => r.path === '/oauth2/user_info').length, 0);
  });
});

describe('production endpoints (fetch intercepted, nothing leaves the machine)', () => {
  /** Runs `body` with fetch answering canned JSON by path, and returns the URLs asked for. */
  async function withCannedFetch(answers: Record<string, unknown>, body: () => Promise<void>): Promise<string[]> {
    const original = globalThis.fetch;
    const asked: string[] = [];
    globalThis.fetch = async (input: string | URL | Request) => {
      const url = new URL(input instanceof Request ? input.url : input);
      asked.push(url.toString());
      const answer = answers[`${url.origin}${url.pathname}`];
      return new Response(JSON.stringify(answer ?? { error: 'not_found' }), { status: answer ? 200 : 404, headers: { 'content-type': 'application/json' } });
    };
    try {
      await body();
    } finally {
      globalThis.fetch = original;
    }
    return asked;
  }

  const attempt: AttemptSecrets = { state: 's'.repeat(43), nonce: 'n'.repeat(43), codeVerifier: 'v'.repeat(43), redirectUri: 'https://id.example.com/auth/x/callback' };

  it('Yandex ID reads the profile from login.yandex.ru, the rest from oauth.yandex.ru', async () => {
    const provider = createYandexIdProvider({ id: 'yandex', kind: 'yandex', clientId: 'c', clientSecret: undefined, issuer: 'https://oauth.yandex.ru', title: 'Yandex ID' }, TIMEOUT_MS);
    const start = await provider.authorizationUrl(attempt);
    assert.equal(`${start.origin}${start.pathname}`, 'https://oauth.yandex.ru/authorize');
    const asked = await withCannedFetch(
      { 'https://oauth.yandex.ru/token': { access_token: 'y0_x', token_type: 'bearer' }, 'https://login.yandex.ru/info': { id: '42' } },
      async () => {
        const profile = await provider.finish(new URL(`${attempt.redirectUri}?code=abc&state=${attempt.state}`), attempt);
        assert.equal(profile.issuer, 'https://oauth.yandex.ru');
        assert.equal(profile.subject, '42');
      },
    );
    assert.deepEqual(asked, ['https://oauth.yandex.ru/token', 'https://login.yandex.ru/info?format=json']);
  });

  it('VK ID uses id.vk.com for the token and the profile', async () => {
    const provider = createVkIdProvider({ id: 'vk', kind: 'vk', clientId: '5', clientSecret: undefined, issuer: 'https://id.vk.com', title: 'VK ID' }, TIMEOUT_MS);
    const asked = await withCannedFetch(
      { 'https://id.vk.com/oauth2/auth': { access_token: 'vk2.a.x', user_id: 7, state: attempt.state }, 'https://id.vk.com/oauth2/user_info': { user: { user_id: '7' } } },
      async () => {
        const profile = await provider.finish(new URL(`${attempt.redirectUri}?code=abc&device_id=d&type=code_v2&state=${attempt.state}`), attempt);
        assert.deepEqual([profile.issuer, profile.subject, profile.name], ['https://id.vk.com', '7', undefined]);
      },
    );
    assert.deepEqual(asked, ['https://id.vk.com/oauth2/auth', 'https://id.vk.com/oauth2/user_info']);
  });
});
