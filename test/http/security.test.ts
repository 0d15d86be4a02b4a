import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { sha256 } from '../../src/kernel/crypto.js';
import type { PasswordHasher } from '../../src/kernel/password-hasher.js';
import { createArgon2Hasher } from '../../src/kernel/password-hasher.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';

const json = { 'content-type': 'application/json' };
const ORIGIN = 'http://localhost:3000';

/** Counts real and dummy verifications, to prove unknown accounts cost a hash too. */
function countingHasher(inner: PasswordHasher) {
  const calls = { verify: 0, dummy: 0 };
  const hasher: PasswordHasher = {
    hash: (p) => inner.hash(p),
    verify: (h, p) => {
      calls.verify += 1;
      return inner.verify(h, p);
    },
    verifyDummy: (p) => {
      calls.dummy += 1;
      return inner.verifyDummy(p);
    },
  };
  return { hasher, calls };
}

/** Every text value in every table, to look for secrets stored in the clear. */
async function dumpDatabase(t: TestApp): Promise<string> {
  const tables = ['accounts', 'sessions', 'recovery_tokens', 'outbox', 'audit_events', 'portals', 'memberships'];
  const rows: unknown[] = [];
  for (const table of tables) rows.push(...(await sql`select * from ${sql.table(table)}`.execute(t.deps.store.db)).rows);
  return JSON.stringify(rows);
}

for (const dialect of DIALECTS) {
  describe(`security rules (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let calls: { verify: number; dummy: number };

    before(async () => {
      smtp = new TestSmtpServer();
      const counting = countingHasher(await createArgon2Hasher());
      calls = counting.calls;
      t = await startTestApp({ dialect, hasher: counting.hasher, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps);
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const signIn = (login: string, password: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...json, ...headers }, payload: { login, password } });

    it('rule 1 and 12: tokens and session ids are stored only as their SHA-256', async () => {
      const session = cookieFrom((await signIn('ivan', PASSWORD)).headers['set-cookie'], 'lk_session');
      assert.ok(session && session.length >= 43, 'a session id has at least 256 bits');
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      const [mail] = await smtp.waitFor((m) => m.subject.startsWith('Password recovery'));
      assert.ok(mail);
      const token = new URL(linkIn(mail)).pathname.split('/').pop() ?? '';
      const dump = await dumpDatabase(t);
      assert.ok(!dump.includes(token), 'the raw token is nowhere in the database (outbox payloads are sealed)');
      assert.ok(dump.includes(sha256(token)), 'its hash is');
      assert.ok(!dump.includes(session), 'the raw session id is nowhere in the database');
      assert.ok(dump.includes(sha256(session)));
      assert.ok(!dump.includes(PASSWORD));
      assert.match(dump, /\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id with the rule 9 parameters');
    });

    it('rule 6: an unknown login, a login without password and a wrong password answer alike, each after one hash', async () => {
      const before = { ...calls };
      const wrong = await signIn('ivan', 'not-the-password-1');
      const unknown = await signIn('nobody-at-all', 'not-the-password-1');
      const unknownMail = await signIn('nobody@example.com', 'not-the-password-1');
      for (const answer of [unknown, unknownMail]) {
        assert.equal(answer.statusCode, wrong.statusCode);
        assert.equal(answer.body, wrong.body);
      }
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().code, 'invalid_credentials');
      assert.equal(calls.verify - before.verify, 1, 'the existing account was verified');
      assert.equal(calls.dummy - before.dummy, 2, 'each unknown login cost a dummy verification');
    });

    it('rule 6: a recovery request does the same work for any login and sends nothing inside the request', async () => {
      await t.deps.worker.stop();
      const count = async () => Number((await sql<{ n: number }>`select count(*) as n from outbox`.execute(t.deps.store.db)).rows[0]?.n);
      const mails = smtp.mails.length;
      const start = await count();
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      const afterKnown = await count();
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ghost' } });
      const afterUnknown = await count();
      assert.equal(afterKnown - start, 1);
      assert.equal(afterUnknown - afterKnown, 1, 'one queued job each, known or not');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(smtp.mails.length, mails, 'no letter leaves until the worker runs');
      t.deps.worker.start();
      await smtp.waitFor(() => true, mails + 1);
    });

    it('rule 12: session cookie flags, a new id at every sign-in, headers on every response', async () => {
      const first = await signIn('ivan', PASSWORD);
      const cookieLine = [first.headers['set-cookie']].flat().find((l) => l?.startsWith('lk_session='));
      assert.ok(cookieLine);
      assert.match(cookieLine, /HttpOnly/);
      assert.match(cookieLine, /SameSite=Lax/);
      assert.doesNotMatch(cookieLine, /Secure/, 'plain-HTTP public URL: no Secure flag');
      const firstId = cookieFrom(first.headers['set-cookie'], 'lk_session') ?? '';
      const second = await signIn('ivan', PASSWORD, {});
      const secondId = cookieFrom(second.headers['set-cookie'], 'lk_session') ?? '';
      assert.notEqual(firstId, secondId);
      // Signing in again from a browser that had a session ends that one (no fixation, no leftovers).
      const third = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, cookies: { lk_session: secondId }, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(third.statusCode, 200);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: secondId } })).statusCode, 401);
      for (const url of ['/login', '/recover', '/api/v1/me', '/healthz', '/nope']) {
        const page = await t.app.inject({ method: 'GET', url });
        assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/, url);
        assert.equal(page.headers['x-frame-options'], 'DENY', url);
        assert.equal(page.headers['x-content-type-options'], 'nosniff', url);
      }
    });

    it('CSRF: cookie-authenticated API calls need our Origin; foreign origins are refused everywhere', async () => {
      const session = cookieFrom((await signIn('ivan', PASSWORD)).headers['set-cookie'], 'lk_session') ?? '';
      const noOrigin = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', cookies: { lk_session: session } });
      assert.equal(noOrigin.statusCode, 403);
      assert.equal(noOrigin.json().code, 'forbidden');
      const change = (origin: string | undefined) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/me/password',
          headers: { ...json, ...(origin ? { origin } : {}) },
          cookies: { lk_session: session },
          payload: { currentPassword: PASSWORD, newPassword: PASSWORD },
        });
      assert.equal((await change(undefined)).statusCode, 403);
      assert.equal((await change('https://evil.example')).statusCode, 403);
      const foreign = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { ...json, origin: 'https://evil.example' }, payload: { login: 'ivan' } });
      assert.equal(foreign.statusCode, 403);
      const foreignLogin = await t.app.inject({ method: 'POST', url: '/login', headers: { origin: 'https://evil.example' }, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(foreignLogin.statusCode, 403);
      // HTML forms of a signed-in person need the per-session token too.
      const form = { currentPassword: PASSWORD, newPassword: 'a-brand-new-password-9' };
      const withoutToken = await t.app.inject({ method: 'POST', url: '/account/password', headers: { origin: ORIGIN }, cookies: { lk_session: session }, payload: form });
      assert.equal(withoutToken.statusCode, 403);
      const accountPage = await t.app.inject({ method: 'GET', url: '/account', cookies: { lk_session: session } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(accountPage.body)?.[1];
      assert.ok(csrf);
      const wrongToken = await t.app.inject({ method: 'POST', url: '/account/password', headers: { origin: ORIGIN }, cookies: { lk_session: session }, payload: { ...form, _csrf: `${csrf}x` } });
      assert.equal(wrongToken.statusCode, 403);
      const ok = await t.app.inject({ method: 'POST', url: '/account/password', headers: { origin: ORIGIN }, cookies: { lk_session: session }, payload: { ...form, _csrf: csrf } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /data-testid="flash"/);
      assert.equal((await signIn('ivan', 'a-brand-new-password-9')).statusCode, 200);
      assert.equal((await signIn('ivan', PASSWORD)).statusCode, 401);
      // Put the seeded password back for the tests after this one.
      await t.app.inject({ method: 'POST', url: '/account/password', headers: { origin: ORIGIN }, cookies: { lk_session: session }, payload: { currentPassword: 'a-brand-new-password-9', newPassword: PASSWORD, _csrf: csrf } });
    });

    it('rule 14: tokens, passwords and cookies never reach the logs or the metrics', async () => {
      const metrics = (await t.management.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /latchkey_http_requests_total/);
      assert.match(metrics, /latchkey_outbox_depth/);
      assert.match(metrics, /latchkey_messages_sent_total\{channel="email"\} [1-9]/);
      const logs = t.logs.join('');
      assert.ok(logs.length > 0);
      const secrets = [PASSWORD, 'a-brand-new-password-9', 'not-the-password-1'];
      for (const mail of smtp.mails) {
        const match = /\/recover\/email\/([A-Za-z0-9_-]+)/.exec(mail.text);
        if (match?.[1]) secrets.push(match[1]);
      }
      const sessions = (await sql<{ id_hash: string }>`select id_hash from sessions`.execute(t.deps.store.db)).rows;
      assert.ok(sessions.length > 0);
      for (const secret of secrets) {
        assert.ok(!logs.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 4)}…`);
        assert.ok(!metrics.includes(secret));
      }
    });

    it('rule 14: a token in a logged URL is cut out', async () => {
      const token = 'A'.repeat(43);
      await t.app.inject({ method: 'GET', url: `/recover/email/${token}` });
      const logs = t.logs.join('');
      assert.ok(logs.includes('/recover/email/[redacted]'));
      assert.ok(!logs.includes(token));
    });
  });

  describe(`rate limits (${dialect})`, () => {
    const clock = new FakeClock();
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect, clock });
      await seedAccount(t.deps);
    });
    after(() => t.close());

    it('rule 8: recovery requests per login stop at 5 an hour, alike for unknown logins, and come back', async () => {
      for (const login of ['ivan', 'ghost-account']) {
        const codes: number[] = [];
        let retryAfter: string | undefined;
        for (let i = 0; i < 6; i += 1) {
          const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login } });
          codes.push(answer.statusCode);
          if (answer.statusCode === 429) {
            retryAfter = String(answer.headers['retry-after']);
            assert.equal(answer.json().code, 'rate_limited');
          }
        }
        assert.deepEqual(codes, [202, 202, 202, 202, 202, 429], login);
        assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 3600);
      }
      clock.advance(3600_000);
      const later = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      assert.equal(later.statusCode, 202, 'no lockout that lasts');
    });

    it('rule 8: sign-in attempts per account stop at 10 in 15 minutes, then work again', async () => {
      const attempt = (password: string) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password } });
      for (let i = 0; i < 10; i++) assert.equal((await attempt('wrong-password-guess')).statusCode, 401);
      const limited = await attempt(PASSWORD);
      assert.equal(limited.statusCode, 429);
      assert.ok(Number(limited.headers['retry-after']) > 0);
      clock.advance(15 * 60_000);
      assert.equal((await attempt(PASSWORD)).statusCode, 200);
    });
  });
}

describe('session cookie behind HTTPS', () => {
  it('is Secure when the public URL is https', async () => {
    const t = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_PUBLIC_URL: 'https://id.example.com' } });
    try {
      await seedAccount(t.deps);
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
      const line = [answer.headers['set-cookie']].flat().find((l) => l?.startsWith('lk_session='));
      assert.match(String(line), /Secure/);
      assert.match(String(answer.headers['strict-transport-security']), /max-age/);
    } finally {
      await t.close();
    }
  });
});
