import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { outboxDepth } from '../../src/store/outbox.repo.js';
import { DEVICE_COOKIE, deviceCookieValue } from '../../src/http/device-cookie.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

const json = { 'content-type': 'application/json' };
const PHONE = '+79161234567';
const NEW_PASSWORD = 'silver-meadow-compass-42';

for (const dialect of DIALECTS) {
  describe(`recovery by phone (${dialect})`, () => {
    const clock = new FakeClock();
    let gateway: TestSmsGateway;
    let t: TestApp;

    before(async () => {
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps, { phone: PHONE, locale: 'ru' });
    });
    after(async () => {
      await t.close();
      await gateway.stop();
    });

    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url: `/api/v1/recovery/phone${url}`, headers: json, payload });
    /** Starts a flow and waits for its text; returns the flow handle and the code. */
    const startFlow = async (phone = '8 (916) 123-45-67') => {
      const before = gateway.received.length;
      const answer = await post('', { phone });
      assert.equal(answer.statusCode, 202, answer.body);
      await waitUntil(() => gateway.received.length > before);
      const code = gateway.lastCode(PHONE);
      assert.ok(code);
      return { flow: answer.json().flow as string, code, answer };
    };
    const settle = async () => waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);

    it('texts a 6-digit code, verifies it, and completes with a one-time reset token', async () => {
      const { flow, code, answer } = await startFlow();
      assert.deepEqual(Object.keys(answer.json()).sort(), ['expiresIn', 'flow', 'resendIn', 'resendsLeft']);
      assert.equal(answer.json().expiresIn, 60);
      assert.equal(answer.json().resendIn, 60);
      assert.equal(answer.json().resendsLeft, 3);
      assert.match(code, /^\d{6}$/);
      const sms = gateway.received.at(-1);
      assert.ok(sms);
      assert.equal(sms.to, PHONE);
      assert.ok(sms.text.endsWith(`@localhost:3000 #${code}`), sms.text);
      assert.match(sms.text, /^Код Latchkey/, "in the account's language");
      assert.ok([...sms.text].length <= 70, `one UCS-2 segment: ${[...sms.text].length} characters`);

      const dump = JSON.stringify((await sql`select * from phone_flows`.execute(t.deps.store.db)).rows);
      assert.ok(!dump.includes(flow), 'the flow handle is stored only as a hash');
      assert.ok(!dump.includes(`"${code}"`), 'the code is stored only as an HMAC');

      const verified = await post('/verify', { flow, code });
      assert.equal(verified.statusCode, 200, verified.body);
      const token = verified.json().token as string;
      assert.ok(token.length >= 43);
      assert.equal((await post('/verify', { flow, code })).json().code, 'invalid_token', 'a verified flow cannot be verified again');
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);
      assert.ok(cookieFrom(done.headers['set-cookie'], 'lk_session'));
      const again = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'other-strong-pass-9' } });
      assert.equal(again.json().code, 'invalid_token');
      const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: '+7 916 123 45 67', password: NEW_PASSWORD } });
      assert.equal(signIn.statusCode, 200);
      const logs = t.logs.join('');
      // A bare six-digit code may occur inside a timestamp by chance; as a string value or in a text it may not.
      for (const secret of [flow, `"${code}"`, `#${code}`, token, NEW_PASSWORD]) assert.ok(!logs.includes(secret), 'rule 14: no flow handle, code, token or password in the logs');
    });

    it('a code is valid 60 seconds (code_expired after)', async () => {
      const { flow, code } = await startFlow();
      clock.advance(61_000);
      const late = await post('/verify', { flow, code });
      assert.equal(late.statusCode, 410);
      assert.equal(late.json().code, 'code_expired');
    });

    it('"Send a new code": 60 s apart, rotates the code, at most 3 times', async () => {
      const { flow, code: first } = await startFlow();
      const early = await post('/resend', { flow });
      assert.equal(early.statusCode, 429);
      assert.equal(early.json().code, 'rate_limited');
      assert.ok(Number(early.headers['retry-after']) > 0 && Number(early.headers['retry-after']) <= 60);
      let last = first;
      for (let i = 1; i <= 3; i += 1) {
        clock.advance(60_000);
        const before = gateway.received.length;
        const resent = await post('/resend', { flow });
        assert.equal(resent.statusCode, 202, resent.body);
        assert.equal(resent.json().resendsLeft, 3 - i);
        assert.equal(resent.json().flow, undefined);
        await waitUntil(() => gateway.received.length > before);
        const next = gateway.lastCode(PHONE);
        assert.ok(next);
        last = next;
      }
      // No fourth resend: the limit is checked before the cooldown.
      const fourth = await post('/resend', { flow });
      assert.equal(fourth.statusCode, 429);
      assert.equal(fourth.json().code, 'too_many_attempts');
      // Codes are random: the first and the last coincide once in a million runs, and then say nothing.
      if (first !== last) {
        const old = await post('/verify', { flow, code: first });
        assert.equal(old.json().code, 'invalid_code', 'the old code died with the resend');
      }
      assert.equal((await post('/verify', { flow, code: last })).statusCode, 200);
    });

    it('5 wrong codes kill the flow, even with the right code next', async () => {
      const { flow, code } = await startFlow();
      const wrong = code === '000000' ? '111111' : '000000';
      const codes: string[] = [];
      for (let i = 0; i < 5; i += 1) codes.push((await post('/verify', { flow, code: wrong })).json().code);
      assert.deepEqual(codes, ['invalid_code', 'invalid_code', 'invalid_code', 'invalid_code', 'too_many_attempts']);
      const right = await post('/verify', { flow, code });
      assert.equal(right.statusCode, 429);
      assert.equal(right.json().code, 'too_many_attempts');
    });

    it('20 parallel wrong guesses never count more than 5 attempts', async () => {
      const { flow, code } = await startFlow();
      const wrong = code === '000000' ? '111111' : '000000';
      const answers = await Promise.all(Array.from({ length: 20 }, () => post('/verify', { flow, code: wrong })));
      const counts = answers.map((a) => a.json().code as string);
      assert.ok(counts.every((c) => c === 'invalid_code' || c === 'too_many_attempts'), counts.join(','));
      const row = (await sql<{ attempts: number }>`select attempts from phone_flows order by created_at desc limit 1`.execute(t.deps.store.db)).rows[0];
      assert.equal(Number(row?.attempts), 5);
      assert.equal((await post('/verify', { flow, code })).json().code, 'too_many_attempts');
    });

    it('an unknown or unverified number gets the same answer, and no text is sent', async () => {
      await settle();
      const texts = gateway.requests;
      await seedAccount(t.deps, { login: 'pavel', email: 'pavel@example.com', phone: '+79169990000' });
      await sql`update accounts set phone_verified_at = null where login_key = 'pavel'`.execute(t.deps.store.db);
      const known = await post('', { phone: PHONE });
      const unknown = await post('', { phone: '+7 916 555-44-33' });
      const unverified = await post('', { phone: '+79169990000' });
      for (const answer of [unknown, unverified]) {
        assert.equal(answer.statusCode, known.statusCode);
        const { flow: _a, ...shapeKnown } = known.json();
        const { flow: _b, ...shape } = answer.json();
        assert.deepEqual(shape, shapeKnown);
        assert.equal(typeof answer.json().flow, 'string');
      }
      await settle();
      assert.equal(gateway.requests, texts + 1, 'only the known number got a text');
      const guess = await post('/verify', { flow: unknown.json().flow, code: '123456' });
      assert.equal(guess.json().code, 'invalid_code', 'an unknown number fails like a wrong code');
    });

    it('refuses what is not a phone number', async () => {
      const answer = await post('', { phone: 'call me maybe' });
      assert.equal(answer.statusCode, 400);
      assert.equal(answer.json().field, 'phone');
    });
  });
}

describe('phone recovery caps, budget, countries and a gateway that is down', () => {
  const gateway = new TestSmsGateway();
  let gatewayUrl: string;
  before(async () => {
    gatewayUrl = await gateway.start();
  });
  after(() => gateway.stop());

  it('per-number hourly cap answers rate_limited', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_SMS_WEBHOOK_URL: gatewayUrl } });
    try {
      await seedAccount(t.deps, { phone: PHONE });
      const codes: number[] = [];
      for (let i = 0; i < 6; i += 1) codes.push((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: PHONE } })).statusCode);
      assert.deepEqual(codes, [202, 202, 202, 202, 202, 429], 'LATCHKEY_SMS_CAPS number=5/h by default');
    } finally {
      await t.close();
    }
  });

  it('the daily budget stops sending, with a metric and an error log', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_SMS_PROVIDER: 'dev', LATCHKEY_SMS_DAILY_BUDGET: '1', LATCHKEY_RATE_LIMITS: 'off' } });
    try {
      await seedAccount(t.deps, { phone: PHONE });
      for (let i = 0; i < 3; i += 1) await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: PHONE } });
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      const sms = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'sms'`.execute(t.deps.store.db)).rows[0];
      assert.equal(Number(sms?.n), 1, 'one text, then the budget stops the rest');
      const metrics = (await t.management.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /latchkey_sms_budget_exhausted_total 2/);
      assert.ok(t.logs.some((line) => line.includes('"level":50') && line.includes('daily SMS budget')));
    } finally {
      await t.close();
    }
  });

  it('numbers outside the country allow-list get no text', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_SMS_PROVIDER: 'dev', LATCHKEY_SMS_COUNTRIES: 'KZ,BY', LATCHKEY_RATE_LIMITS: 'off' } });
    try {
      await seedAccount(t.deps, { phone: PHONE });
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: PHONE } });
      assert.equal(answer.statusCode, 202);
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      const sms = (await sql<{ n: number }>`select count(*) as n from outbox where channel = 'sms'`.execute(t.deps.store.db)).rows[0];
      assert.equal(Number(sms?.n), 0);
    } finally {
      await t.close();
    }
  });

  it('a gateway answering 500 is retried until it recovers, and the text arrives once', async () => {
    const down = new TestSmsGateway();
    const url = await down.start();
    const t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_SMS_WEBHOOK_URL: url, LATCHKEY_RATE_LIMITS: 'off' } });
    try {
      await seedAccount(t.deps, { phone: PHONE });
      down.failWith = 500;
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: PHONE } });
      await waitUntil(() => down.requests >= 2);
      down.failWith = undefined;
      await waitUntil(() => down.received.length === 1);
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      assert.equal(down.received.length, 1);
    } finally {
      await t.close();
      await down.stop();
    }
  });
});

for (const dialect of DIALECTS) {
  describe(`phone flows die with the account's other secrets and outlive strangers' requests (${dialect})`, () => {
    const gateway = new TestSmsGateway();
    const smtp = new TestSmtpServer();
    let t: TestApp;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_SMTP_URL: await smtp.start() } });
    });
    after(async () => {
      await t.close();
      await gateway.stop();
      await smtp.stop();
    });

    const post = (url: string, payload: object, options: { ip?: string; device?: string } = {}) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/recovery${url}`,
        headers: json,
        payload,
        ...(options.ip ? { remoteAddress: options.ip } : {}),
        ...(options.device ? { cookies: { [DEVICE_COOKIE]: options.device } } : {}),
      });
    /** Opens a flow for `phone` and waits for its own text; returns the handle and the code. */
    const openFlow = async (phone: string, options: { ip?: string; device?: string } = {}) => {
      const before = gateway.received.length;
      const answer = await post('/phone', { phone }, options);
      assert.equal(answer.statusCode, 202, answer.body);
      await waitUntil(() => gateway.received.length > before);
      const code = gateway.lastCode(phone);
      assert.ok(code);
      return { flow: answer.json().flow as string, code };
    };

    it('a flow opened before a password change yields no reset token after it (rule 5)', async () => {
      const phone = '+79161230001';
      await seedAccount(t.deps, { login: 'pchange', email: 'pchange@example.com', phone });
      const { flow, code } = await openFlow(phone, { ip: '10.5.0.1' });
      const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'pchange', password: PASSWORD } });
      const session = cookieFrom(signIn.headers['set-cookie'], 'lk_session') ?? '';
      const change = await t.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { ...json, origin: 'http://localhost:3000' },
        cookies: { lk_session: session },
        payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      });
      assert.equal(change.statusCode, 204, change.body);
      const verified = await post('/phone/verify', { flow, code });
      assert.equal(verified.statusCode, 400, verified.body);
      assert.equal(verified.json().code, 'invalid_token');
      assert.equal(verified.json().token, undefined);
    });

    it('verifying a phone flow kills an outstanding e-mail link (one issueToken)', async () => {
      const phone = '+79161230002';
      await seedAccount(t.deps, { login: 'both', email: 'both@example.com', phone });
      assert.equal((await post('/email', { login: 'both' })).statusCode, 202);
      const [mail] = await smtp.waitFor((m) => m.to === 'both@example.com');
      const emailToken = /\/recover\/email\/([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1];
      assert.ok(emailToken);
      const { flow, code } = await openFlow(phone, { ip: '10.5.0.2' });
      const verified = await post('/phone/verify', { flow, code });
      assert.equal(verified.statusCode, 200, verified.body);
      const viaEmail = await post('/complete', { token: emailToken, password: NEW_PASSWORD });
      assert.equal(viaEmail.statusCode, 400, viaEmail.body);
      assert.equal(viaEmail.json().code, 'invalid_token', 'the e-mail link died when the phone flow issued its token');
      const viaPhone = await post('/complete', { token: verified.json().token, password: NEW_PASSWORD });
      assert.equal(viaPhone.statusCode, 200, viaPhone.body);
    });

    it("strangers' requests neither close the owner's flow nor use up the owner's browser's budget (rule 20)", async () => {
      const phone = '+79161230003';
      const owner = await seedAccount(t.deps, { login: 'owner', email: 'owner@example.com', phone });
      const device = deviceCookieValue(t.deps.secretKey, [owner.id]);
      const first = await openFlow(phone, { ip: '10.6.0.1', device });
      const strangers: number[] = [];
      for (let i = 1; i <= 8; i += 1) strangers.push((await post('/phone', { phone }, { ip: `10.7.0.${i}` })).statusCode);
      assert.deepEqual(strangers, [202, 202, 202, 202, 202, 429, 429, 429], 'the shared per-number cap (number=5/h) stops strangers');
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      const verified = await post('/phone/verify', { flow: first.flow, code: first.code }, { ip: '10.6.0.1', device });
      assert.equal(verified.statusCode, 200, `the owner's flow is still open: ${verified.body}`);
      const again = await openFlow(phone, { ip: '10.6.0.1', device });
      const second = await post('/phone/verify', { flow: again.flow, code: again.code }, { ip: '10.6.0.1', device });
      assert.equal(second.statusCode, 200, second.body);
    });
  });
}
