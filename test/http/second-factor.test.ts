import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { issueToken } from '../../src/flows/tokens.js';
import { DEVICE_COOKIE } from '../../src/http/device-cookie.js';
import type { RecoveryTokenRow } from '../../src/store/recovery-tokens.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { enrolThroughFlows, totpCode } from '../support/second-factor.js';

/**
 * The second factor over the API and the pages (SPEC §5, §7 rules 10, 16, 17, §9): enrolment, sign-in with a
 * code, a replayed code, five wrong codes, recovery codes, renewal, turning it off, rate limits, and every
 * recovery path stopping at the factor with no session cookie.
 */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json', origin: ORIGIN };
const NEW_PASSWORD = 'violet-harbour-lantern-88';
const STEP = 30_000;

for (const dialect of DIALECTS) {
  describe(`second factor (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    let ivanId: string;

    before(async () => {
      t = await startTestApp({ dialect, clock, worker: false });
      ivanId = (await seedAccount(t.deps)).id;
    });
    after(async () => {
      await t.close();
    });

    const signIn = (password = PASSWORD, login = 'ivan') => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
    const sessionOf = (res: LightMyRequestResponse) => cookieFrom(res.headers['set-cookie'], 'lk_session');
    const pendingOf = (res: LightMyRequestResponse) => cookieFrom(res.headers['set-cookie'], 'lk_pending');
    const asSession = (session: string) => ({ ...json, cookie: `lk_session=${session}` });
    const answer = (pending: string | undefined, payload: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/api/v1/session/second-factor', headers: { ...json, ...(pending ? { cookie: `lk_pending=${pending}` } : {}) }, payload });
    const me = (session: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: asSession(session) });
    const kinds = async () => (await sql<{ kind: string }>`select kind from outbox order by id`.execute(t.deps.store.db)).rows.map((r) => r.kind);
    /** Signs in with the password and expects to be stopped at the second factor. */
    const challenge = async (password = PASSWORD, login = 'ivan') => {
      const res = await signIn(password, login);
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual(res.json(), { next: 'second_factor', methods: ['totp', 'recovery_code'] });
      assert.equal(sessionOf(res), undefined, 'no session cookie before the second factor');
      const pending = pendingOf(res);
      assert.ok(pending);
      const line = [res.headers['set-cookie']].flat().find((l) => l?.startsWith('lk_pending=')) ?? '';
      assert.match(line, /HttpOnly/i);
      assert.match(line, /SameSite=Lax/i);
      assert.match(line, /Max-Age=600/);
      return pending;
    };

    let secret = '';
    let recoveryCodes: string[] = [];
    let session = '';

    it('enrols TOTP over the API: the password first, one code confirms, 10 recovery codes, the secret sealed at rest', async () => {
      const signedIn = await signIn();
      assert.equal(signedIn.statusCode, 200);
      session = sessionOf(signedIn) ?? '';
      assert.deepEqual((await me(session)).json().twoFactor, { enabled: false, recoveryCodesLeft: 0 });

      const wrongPassword = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp', headers: asSession(session), payload: { password: 'not-the-password' } });
      assert.equal(wrongPassword.statusCode, 401);
      assert.equal(wrongPassword.json().code, 'invalid_credentials');

      const started = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp', headers: asSession(session), payload: { password: PASSWORD } });
      assert.equal(started.statusCode, 200, started.body);
      secret = started.json().secret as string;
      assert.match(secret, /^[A-Z2-7]{32}$/, '160 bits, base32');
      assert.match(started.json().uri as string, /^otpauth:\/\/totp\/.*secret=/);
      // LATCHKEY_TOTP_ISSUER unset: the public host name names the service in the app (SPEC §4).
      const uri = new URL(started.json().uri as string);
      assert.equal(uri.searchParams.get('issuer'), 'localhost');
      assert.equal(decodeURIComponent(uri.pathname), '/localhost:ivan');
      const stored = await t.deps.store.db.selectFrom('second_factors').selectAll().where('account_id', '=', ivanId).executeTakeFirstOrThrow();
      assert.ok(!stored.totp_secret_sealed.includes(secret), 'sealed, not in clear');
      // Not active until confirmed: a sign-in still opens a session.
      assert.equal((await signIn()).statusCode, 200);

      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp/confirm', headers: asSession(session), payload: { code: '000000' } });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().code, 'invalid_code');
      const confirmed = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp/confirm', headers: asSession(session), payload: { code: totpCode(secret, clock) } });
      assert.equal(confirmed.statusCode, 200, confirmed.body);
      recoveryCodes = confirmed.json().recoveryCodes as string[];
      assert.equal(recoveryCodes.length, 10);
      assert.equal(new Set(recoveryCodes).size, 10);
      for (const code of recoveryCodes) assert.match(code, /^[a-z2-9]{5}-[a-z2-9]{5}$/, '10 characters of 5 bits: 50 bits');
      const hashes = await t.deps.store.db.selectFrom('recovery_codes').select('code_hash').where('account_id', '=', ivanId).execute();
      assert.equal(hashes.length, 10);
      assert.ok(hashes.every((h) => !recoveryCodes.some((c) => h.code_hash.includes(c.replace('-', '')))), 'stored as HMACs');
      assert.deepEqual((await me(session)).json().twoFactor, { enabled: true, recoveryCodesLeft: 10 });
      assert.ok((await kinds()).includes('2fa.enabled'), 'the person is told');
      const again = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/totp', headers: asSession(session), payload: { password: PASSWORD } });
      assert.equal(again.statusCode, 400, 'a second enrolment cannot replace the active factor');
      clock.advance(STEP);
    });

    it('stops a password sign-in at the factor; the right code opens the session; the same code again is refused', async () => {
      const pending = await challenge();
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie: `lk_pending=${pending}` } })).statusCode, 401, 'the pending cookie is no session');
      const code = totpCode(secret, clock);
      const passed = await answer(pending, { code });
      assert.equal(passed.statusCode, 200, passed.body);
      assert.equal(passed.json().account.login, 'ivan');
      const opened = sessionOf(passed);
      assert.ok(opened);
      assert.equal((await me(opened)).statusCode, 200);
      assert.equal(await answer(pending, { code }).then((r) => r.json().code), 'second_factor_required', 'a passed challenge is over');

      // Replay: the same code (same step) in a new challenge, and a code of the previous step, are refused.
      const next = await challenge();
      const replay = await answer(next, { code });
      assert.equal(replay.statusCode, 400);
      assert.equal(replay.json().code, 'invalid_code');
      assert.equal(sessionOf(replay), undefined);
      clock.advance(STEP);
      const fresh = await answer(next, { code: totpCode(secret, clock) });
      assert.equal(fresh.statusCode, 200, 'the next step works in the same challenge');
      clock.advance(STEP);
    });

    it('accepts each step once even when two answers race', async () => {
      const first = await challenge();
      const second = await challenge();
      const code = totpCode(secret, clock);
      const results = await Promise.all([answer(first, { code }), answer(second, { code })]);
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
      clock.advance(STEP);
    });

    it('ends a challenge after 5 wrong codes, even for the right code after them', async () => {
      const pending = await challenge();
      for (let i = 1; i <= 4; i++) {
        const wrong = await answer(pending, { code: String(100000 + i) });
        assert.equal(wrong.statusCode, 400);
        assert.equal(wrong.json().code, 'invalid_code');
      }
      const fifth = await answer(pending, { code: '999999' });
      assert.equal(fifth.statusCode, 429);
      assert.equal(fifth.json().code, 'too_many_attempts');
      const right = await answer(pending, { code: totpCode(secret, clock) });
      assert.equal(right.statusCode, 401);
      assert.equal(right.json().code, 'second_factor_required');
      assert.equal(sessionOf(right), undefined);
    });

    it('refuses answers without a live challenge: missing, forged, expired after 10 minutes', async () => {
      for (const pending of [undefined, 'forged-challenge-handle-0123456789abcdefghij']) {
        const res = await answer(pending, { code: totpCode(secret, clock) });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().code, 'second_factor_required');
      }
      // The problem's title is in the asker's language (it says what to do next).
      const ru = await t.app.inject({ method: 'POST', url: '/api/v1/session/second-factor', headers: { ...json, 'accept-language': 'ru-RU' }, payload: { code: '123456' } });
      assert.equal(ru.json().title, 'Войдите заново: шаг второго фактора не начат или истёк');
      const en = await t.app.inject({ method: 'POST', url: '/api/v1/session/second-factor', headers: json, payload: { code: '123456' } });
      assert.equal(en.json().title, 'Sign in again: the second-factor step is missing or expired');
      const pending = await challenge();
      clock.advance(10 * 60_000 + 1000);
      const late = await answer(pending, { code: totpCode(secret, clock) });
      assert.equal(late.json().code, 'second_factor_required');
      assert.equal((await answer(await challenge(), {})).statusCode, 400, 'an answer needs a code');
      clock.advance(STEP);
    });

    it('lets each recovery code in once, tells the person, and counts what is left', async () => {
      const [code = ''] = recoveryCodes;
      const passed = await answer(await challenge(), { recoveryCode: code.toUpperCase().replace('-', ' ') });
      assert.equal(passed.statusCode, 200, passed.body);
      assert.ok(sessionOf(passed));
      assert.ok((await kinds()).includes('2fa.code_used'));
      assert.equal((await me(sessionOf(passed) ?? '')).json().twoFactor.recoveryCodesLeft, 9);
      const again = await answer(await challenge(), { recoveryCode: code });
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().code, 'invalid_code');
      // A TOTP code is no recovery code.
      assert.equal((await answer(await challenge(), { recoveryCode: totpCode(secret, clock) })).json().code, 'invalid_code');
      // Two uses of one code at once: one success.
      const racing = recoveryCodes[1] ?? '';
      const results = await Promise.all([answer(await challenge(), { recoveryCode: racing }), answer(await challenge(), { recoveryCode: racing })]);
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 400]);
      session = sessionOf(results.find((r) => r.statusCode === 200) as LightMyRequestResponse) ?? '';
    });

    it('renews recovery codes with the password; every old code dies', async () => {
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/recovery-codes', headers: asSession(session), payload: { password: 'not-the-password' } });
      assert.equal(wrong.json().code, 'invalid_credentials');
      const renewed = await t.app.inject({ method: 'POST', url: '/api/v1/me/2fa/recovery-codes', headers: asSession(session), payload: { password: PASSWORD } });
      assert.equal(renewed.statusCode, 200, renewed.body);
      const fresh = renewed.json().recoveryCodes as string[];
      assert.equal(fresh.length, 10);
      assert.ok((await kinds()).includes('2fa.codes_renewed'));
      assert.equal((await me(session)).json().twoFactor.recoveryCodesLeft, 10);
      assert.equal((await answer(await challenge(), { recoveryCode: recoveryCodes[5] ?? '' })).json().code, 'invalid_code', 'an old code');
      assert.equal((await answer(await challenge(), { recoveryCode: fresh[0] ?? '' })).statusCode, 200, 'a new code');
      recoveryCodes = fresh.slice(1);
    });

    for (const purpose of ['email_link', 'phone_reset', 'admin_link'] as const) {
      it(`stops recovery by ${purpose} at the factor with no session, the password already changed`, async () => {
        const token = await issueToken(t.deps, t.deps.store.db, { accountId: ivanId, purpose: purpose satisfies RecoveryTokenRow['purpose'], lifetimeMs: 3600_000, ...(purpose === 'phone_reset' ? { channel: 'phone' as const } : {}) });
        const completed = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
        assert.equal(completed.statusCode, 202, completed.body);
        assert.deepEqual(completed.json(), { next: 'second_factor', methods: ['totp', 'recovery_code'] });
        assert.equal(sessionOf(completed), undefined);
        assert.ok(pendingOf(completed));
        assert.equal((await signIn(PASSWORD)).statusCode, 401, 'the old password is gone');
        await challenge(NEW_PASSWORD);
        // Back to the usual password for the next test.
        await t.deps.store.db.updateTable('accounts').set({ password_hash: await t.deps.hasher.hash(PASSWORD) }).where('id', '=', ivanId).execute();
      });
    }

    it('stops the pages at /login/2fa: password form, then the recovery link form; the code finishes the sign-in', async () => {
      const form = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, accept: 'text/html' };
      const login = await t.app.inject({ method: 'POST', url: '/login', headers: form, payload: 'login=ivan&password=' + encodeURIComponent(PASSWORD) + '&next=%2Faccount' });
      assert.equal(login.statusCode, 303);
      assert.equal(login.headers.location, '/login/2fa');
      assert.equal(sessionOf(login), undefined);
      const pending = pendingOf(login) ?? '';
      const page = await t.app.inject({ method: 'GET', url: '/login/2fa?lang=ru', headers: { cookie: `lk_pending=${pending}` } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /autocomplete="one-time-code"/);
      assert.match(page.body, /inputmode="numeric"/);
      assert.match(page.body, /href="\/login\/2fa\?method=recovery"/);
      assert.match(page.body, /администратору портала/);
      const recoveryForm = await t.app.inject({ method: 'GET', url: '/login/2fa?method=recovery&lang=en', headers: { cookie: `lk_pending=${pending}` } });
      assert.match(recoveryForm.body, /name="recoveryCode"/);
      assert.match(recoveryForm.body, /Ask your portal administrator/);
      const wrong = await t.app.inject({ method: 'POST', url: '/login/2fa', headers: { ...form, cookie: `lk_pending=${pending}` }, payload: 'code=123456' });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /data-testid="form-error"/);
      const passed = await t.app.inject({ method: 'POST', url: '/login/2fa', headers: { ...form, cookie: `lk_pending=${pending}` }, payload: `code=${totpCode(secret, clock)}` });
      assert.equal(passed.statusCode, 303);
      assert.equal(passed.headers.location, '/account', 'back where the sign-in was going');
      assert.ok(sessionOf(passed));
      clock.advance(STEP);

      const token = await issueToken(t.deps, t.deps.store.db, { accountId: ivanId, purpose: 'email_link', lifetimeMs: 3600_000 });
      const reset = await t.app.inject({ method: 'POST', url: '/recover/password', headers: { ...form, cookie: `lk_reset=${token}` }, payload: `password=${NEW_PASSWORD}` });
      assert.equal(reset.statusCode, 303);
      assert.equal(reset.headers.location, '/login/2fa');
      assert.equal(sessionOf(reset), undefined);
      assert.ok(pendingOf(reset));
      const ended = await t.app.inject({ method: 'GET', url: '/login/2fa', headers: { accept: 'text/html' } });
      assert.equal(ended.statusCode, 401);
      assert.match(ended.body, /href="\/login"/, 'without a challenge the page says to sign in again');
      await t.deps.store.db.updateTable('accounts').set({ password_hash: await t.deps.hasher.hash(PASSWORD) }).where('id', '=', ivanId).execute();
    });

    it('turns the factor off only with the password and a code', async () => {
      session = sessionOf(await answer(await challenge(), { code: totpCode(secret, clock) })) ?? '';
      clock.advance(STEP);
      const off = (payload: Record<string, string>) => t.app.inject({ method: 'DELETE', url: '/api/v1/me/2fa', headers: asSession(session), payload });
      assert.equal((await off({ password: PASSWORD, code: '000000' })).json().code, 'invalid_code');
      assert.equal((await off({ password: 'not-the-password', code: totpCode(secret, clock) })).json().code, 'invalid_credentials');
      assert.equal((await off({ password: PASSWORD })).statusCode, 400, 'the code is required');
      const done = await off({ password: PASSWORD, code: totpCode(secret, clock) });
      assert.equal(done.statusCode, 204, done.body);
      assert.ok((await kinds()).includes('2fa.disabled'));
      assert.deepEqual((await me(session)).json().twoFactor, { enabled: false, recoveryCodesLeft: 0 });
      const plain = await signIn();
      assert.equal(plain.statusCode, 200);
      assert.ok(sessionOf(plain));
    });

    it('counts wrong codes per account across challenges (rate limit with Retry-After); the owner\'s browser keeps its own budget', async () => {
      const olga = await seedAccount(t.deps, { login: 'olga', email: 'olga@example.com' });
      const { secret: olgaSecret } = await enrolThroughFlows(t.deps, olga.id, PASSWORD, clock);
      // Olga signs in once from her own browser: its device cookie will vouch for her.
      const own = await answer(await challenge(PASSWORD, 'olga'), { code: totpCode(olgaSecret, clock) });
      assert.equal(own.statusCode, 200);
      const device = cookieFrom(own.headers['set-cookie'], DEVICE_COOKIE) ?? '';
      assert.ok(device);
      clock.advance(STEP);
      for (let round = 0; round < 4; round++) {
        const pending = await challenge(PASSWORD, 'olga');
        for (let i = 0; i < 5; i++) await answer(pending, { code: String(200000 + i) });
      }
      const limited = await answer(await challenge(PASSWORD, 'olga'), { code: totpCode(olgaSecret, clock) });
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().code, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal(sessionOf(limited), undefined);

      // Her own browser keeps its own budget (SPEC §7 rule 20): the wrong codes from elsewhere refuse it nothing.
      const fromOwn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...json, cookie: `${DEVICE_COOKIE}=${device}` }, payload: { login: 'olga', password: PASSWORD } });
      assert.equal(fromOwn.statusCode, 202);
      const passed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/session/second-factor',
        headers: { ...json, cookie: `lk_pending=${pendingOf(fromOwn)}; ${DEVICE_COOKIE}=${device}` },
        payload: { code: totpCode(olgaSecret, clock) },
      });
      assert.equal(passed.statusCode, 200, passed.body);
    });

    it('never logs codes, secrets or recovery codes', () => {
      const logs = t.logs.join('\n');
      assert.ok(!logs.includes(secret));
      for (const code of recoveryCodes) assert.ok(!logs.includes(code));
    });
  });
}
