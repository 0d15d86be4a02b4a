import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { safeReturnPath } from '../../src/http/return-path.js';
import { csrfToken } from '../../src/http/security.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { MemoryRateLimiter, type Limit, type LimitResult, type RateLimiter } from '../../src/kernel/rate-limiter.js';
import type { Account, OutboxMessage } from '../../src/store/schema.js';
import { auditDetail } from '../../src/ui/admin-pages.js';
import { translator } from '../../src/ui/i18n.js';
import { devOutboxPage } from '../../src/ui/pages.js';
import { waitWords } from '../../src/ui/wait.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

/**
 * Issue 14 items 4–8, the dead ends and wrong words a newcomer met: the way back after sign-in (and the
 * open-redirect attempts it refuses), the page for a non-admin in /admin, the box checkword typo, the
 * expired code screen, "already changed, sign in" after a completed recovery, waits in minutes, an empty
 * sign-in form that counts nothing, the current password refused as the new one, the admin link that
 * replaced an earlier one and its SMS with the login. The real app on both databases.
 */

const json = { 'content-type': 'application/json' };
const ORIGIN = 'http://localhost:3000';
const html = { accept: 'text/html' };
const NEW_PASSWORD = 'violet-harbour-lantern-88';

/** The text inside `<main>`, tags dropped: what the page says, without the header's links. */
function mainText(body: string): string {
  const main = /<main[^>]*>([\s\S]*)<\/main>/.exec(body)?.[1] ?? '';
  return main.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

/** Every hit the app makes on the rate limiter, counted by bucket (the real limiter does the counting). */
class CountingLimiter implements RateLimiter {
  readonly hits: string[] = [];
  constructor(private readonly inner: RateLimiter) {}
  hit(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    this.hits.push(bucket);
    return this.inner.hit(bucket, key, limit);
  }
  peek(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    return this.inner.peek(bucket, key, limit);
  }
  refund(bucket: string, key: string, limit: Limit): Promise<void> {
    return this.inner.refund(bucket, key, limit);
  }
}

describe('the words themselves', () => {
  it('a return path is a path on this site only: open-redirect attempts are refused', () => {
    for (const good of ['/portals', '/admin/acme/users', '/admin/acme/users?query=ivan&page=2', '/account/sessions', '/oidc/interaction/abc_DEF-123', '/account?lang=ru']) {
      assert.equal(safeReturnPath(good), good, good);
    }
    const attempts = [
      '//evil.example',
      '//evil.example/portals',
      '/\\evil.example',
      '\\\\evil.example',
      '/\\/evil.example',
      'https://evil.example',
      'http:evil.example',
      'javascript:alert(1)',
      'evil.example/portals',
      '/admin//evil.example',
      '/%2F%2Fevil.example',
      '/%5Cevil.example',
      '/\tevil.example',
      ' /portals',
      '/portals#x',
      '/portals?x=<script>',
      '/portals?x="',
      `/${'a'.repeat(400)}`,
      '',
    ];
    for (const evil of attempts) assert.equal(safeReturnPath(evil), undefined, JSON.stringify(evil));
    assert.equal(safeReturnPath(undefined), undefined);
    assert.equal(safeReturnPath(['/portals']), undefined);
  });

  it('a wait is said in seconds, minutes or hours, with the plural forms of each language', () => {
    assert.equal(waitWords('ru', 392), 'через 7 минут');
    assert.equal(waitWords('en', 392), 'in 7 minutes');
    assert.equal(waitWords('ru', 60), 'через 1 минуту');
    assert.equal(waitWords('en', 60), 'in 1 minute');
    assert.equal(waitWords('ru', 61), 'через 2 минуты');
    assert.equal(waitWords('ru', 21 * 60), 'через 21 минуту');
    assert.equal(waitWords('ru', 22 * 60), 'через 22 минуты');
    assert.equal(waitWords('ru', 11 * 60), 'через 11 минут');
    assert.equal(waitWords('ru', 1), 'через 1 секунду');
    assert.equal(waitWords('ru', 3), 'через 3 секунды');
    assert.equal(waitWords('ru', 45), 'через 45 секунд');
    assert.equal(waitWords('en', 1), 'in 1 second');
    assert.equal(waitWords('ru', 3600), 'через 1 час');
    assert.equal(waitWords('ru', 2 * 3600), 'через 2 часа');
    assert.equal(waitWords('en', 5 * 3600), 'in 5 hours');
    assert.equal(translator('ru')('error.rate_limited', { wait: waitWords('ru', 392) }), 'Слишком много попыток. Повторите через 7 минут.');
  });

  it('/dev/outbox names each message in words and its status in the page language', () => {
    const message = (kind: string, channel: OutboxMessage['channel'], status: OutboxMessage['status']): OutboxMessage =>
      ({ id: 1, channel, kind, recipient: '+79161234567', subject: null, payload: '', status, attempts: 0, next_attempt_at: '', locked_until: null, last_error: null, created_at: '2026-11-29T10:00:00.000Z', sent_at: null }) as OutboxMessage;
    const ru = mainText(devOutboxPage('ru', [{ message: message('admin.admin.sms', 'sms', 'sent'), text: 'text' }, { message: message('password.changed', 'email', 'queued'), text: 'text' }]));
    assert.ok(ru.includes('СМС: ссылка для восстановления от администратора'), ru);
    assert.ok(ru.includes('Письмо: пароль изменён'), ru);
    assert.ok(ru.includes('отправлено') && ru.includes('в очереди'), ru);
    assert.ok(!ru.includes('admin.admin.sms') && !/\bsent\b|\bqueued\b/.test(ru), ru);
    const en = mainText(devOutboxPage('en', [{ message: message('invitation.new.email', 'email', 'abandoned'), text: 'text' }]));
    assert.ok(en.includes('Letter: invitation to a portal, with a new account') && en.includes('not delivered'), en);
  });

  it('the audit log words its details; row ids and unknown codes are left out', () => {
    assert.equal(auditDetail('ru', 'admin.recovery_link.sent', 'phone'), 'по СМС');
    assert.equal(auditDetail('ru', 'admin.recovery_link.sent', 'email'), 'на e-mail');
    assert.equal(auditDetail('ru', 'admin.password.set', 'must_change'), 'сменить при следующем входе');
    assert.equal(auditDetail('en', 'admin.member.invited', 'admin 0a1b2c'), 'as an administrator');
    assert.equal(auditDetail('ru', 'admin.member.sessions_ended', '3'), 'завершено сеансов: 3');
    assert.equal(auditDetail('ru', 'member.joined', '0a1b2c3d4e'), undefined);
    assert.equal(auditDetail('ru', 'admin.invitation.revoked', '0a1b2c3d4e'), undefined);
    assert.equal(auditDetail('ru', 'admin.password.set', null), undefined);
  });
});

for (const dialect of DIALECTS) {
  describe(`newcomer's dead ends and words, cloud (${dialect})`, () => {
    const clock = new FakeClock();
    const limiter = new CountingLimiter(new MemoryRateLimiter(clock));
    const smtp = new TestSmtpServer();
    const gateway = new TestSmsGateway();
    let t: TestApp;
    let anna: Account;
    let ivan: Account;

    before(async () => {
      t = await startTestApp({ dialect, clock, limiter, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_SMS_WEBHOOK_URL: await gateway.start() } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      anna = await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', phone: '+79161234567', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await gateway.stop();
    });

    /** A fresh window for every limit the previous test touched. */
    const nextWindow = () => clock.advance(2 * 3600_000);
    const apiSession = async (login: string, password = PASSWORD) => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
      assert.equal(answer.statusCode, 200, answer.body);
      return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
    };
    const postForm = (url: string, payload: Record<string, string>, cookies: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url, headers: { ...html, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, cookies, payload: new URLSearchParams(payload).toString() });

    it('a signed-out visitor is sent to /login with the way back, and lands there after signing in', async () => {
      nextWindow();
      for (const [url, next] of [
        ['/admin/acme/users', '/admin/acme/users'],
        ['/account/sessions', '/account/sessions'],
        ['/account?lang=ru', '/account?lang=ru'],
      ] as const) {
        const asked = await t.app.inject({ method: 'GET', url, headers: html });
        assert.equal(asked.statusCode, 303, url);
        assert.equal(asked.headers.location, `/login?next=${encodeURIComponent(next)}`, url);
      }
      // The chooser is where a sign-in lands anyway.
      assert.equal((await t.app.inject({ method: 'GET', url: '/portals', headers: html })).headers.location, '/login');
      const page = await t.app.inject({ method: 'GET', url: '/login?next=%2Fadmin%2Facme%2Fusers' });
      assert.match(page.body, /name="next" value="\/admin\/acme\/users"/);
      const remembered = cookieFrom(page.headers['set-cookie'], 'lk_continue') ?? '';
      assert.ok(remembered !== '');
      const signedIn = await postForm('/login', { login: 'anna', password: PASSWORD, next: '/admin/acme/users' }, { lk_continue: remembered });
      assert.equal(signedIn.statusCode, 303, signedIn.body);
      assert.equal(signedIn.headers.location, '/admin/acme/users');
      // Used up: a later recovery in this browser does not land on the admin's page.
      assert.equal(cookieFrom(signedIn.headers['set-cookie'], 'lk_continue'), '');
    });

    it('open-redirect attempts in `next` land on /portals, and /login never echoes them', async () => {
      nextWindow();
      for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example/', '/%2F%2Fevil.example', '\\\\evil.example', 'javascript:alert(1)', '/admin//evil.example']) {
        const page = await t.app.inject({ method: 'GET', url: `/login?next=${encodeURIComponent(evil)}` });
        assert.equal(page.statusCode, 200);
        assert.ok(!page.body.includes('name="next"'), evil);
        assert.equal(cookieFrom(page.headers['set-cookie'], 'lk_continue'), undefined, evil);
        const signedIn = await postForm('/login', { login: 'anna', password: PASSWORD, next: evil });
        assert.equal(signedIn.statusCode, 303, evil);
        assert.equal(signedIn.headers.location, '/portals', evil);
      }
    });

    it('a signed-in non-admin opening /admin/… gets a page saying so, with the way back to /portals', async () => {
      nextWindow();
      const session = await apiSession('ivan');
      for (const lang of ['ru', 'en'] as const) {
        const tr = translator(lang);
        for (const slug of ['acme', 'no-such-portal']) {
          const answer = await t.app.inject({ method: 'GET', url: `/admin/${slug}/users?lang=${lang}`, headers: html, cookies: { lk_session: session } });
          assert.equal(answer.statusCode, 403, slug);
          const said = mainText(answer.body);
          assert.ok(said.includes(tr('admin.notAdmin.body', { portal: slug })), said);
          assert.ok(!said.includes(tr('error.title')) && !said.includes(tr('error.forbidden')), said);
          assert.match(answer.body, /<a class="button" href="\/portals" data-testid="back-to-portals">/);
        }
        const none = await t.app.inject({ method: 'GET', url: `/admin?lang=${lang}`, headers: html, cookies: { lk_session: session } });
        assert.equal(none.statusCode, 403);
        assert.ok(mainText(none.body).includes(tr('admin.notAdmin.any')));
      }
      // The API keeps its problem: 403 forbidden.
      const api = await t.app.inject({ method: 'GET', url: '/api/v1/portals/acme/users', cookies: { lk_session: session } });
      assert.equal(api.statusCode, 403);
      assert.equal(api.json().code, 'forbidden');
    });

    it('an empty sign-in form says what is missing and counts nothing against any limit', async () => {
      nextWindow();
      const before = limiter.hits.length;
      const failures = async () => (await t.deps.store.db.selectFrom('audit_events').select('id').where('action', '=', 'signin.failed').execute()).length;
      const failedBefore = await failures();
      const tr = translator('ru');
      const both = await postForm('/login?lang=ru', { login: '', password: '' });
      assert.equal(both.statusCode, 400);
      assert.ok(mainText(both.body).includes(tr('login.missingLogin')) && mainText(both.body).includes(tr('login.missingPassword')), mainText(both.body));
      assert.ok(!mainText(both.body).includes(tr('login.failed')));
      const noPassword = await postForm('/login?lang=ru', { login: 'ivan', password: '' });
      assert.equal(noPassword.statusCode, 400);
      assert.ok(mainText(noPassword.body).includes(tr('login.missingPassword')) && !mainText(noPassword.body).includes(tr('login.missingLogin')));
      assert.match(noPassword.body, /name="login"[^>]*value="ivan"/, 'the login typed stays');
      const blankLogin = await postForm('/login?lang=en', { login: '   ', password: 'something' });
      assert.ok(mainText(blankLogin.body).includes(translator('en')('login.missingLogin')));
      // The API: the field at fault, 400, nothing counted either.
      for (const [payload, field] of [
        [{ login: '   ', password: 'something' }, 'login'],
        [{ login: 'ivan', password: '' }, 'password'],
        [{ login: '', password: '' }, 'login'],
      ] as const) {
        const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload });
        assert.equal(answer.statusCode, 400, JSON.stringify(payload));
        assert.equal(answer.json().code, 'invalid_request');
        assert.equal(answer.json().field, field);
      }
      assert.deepEqual(limiter.hits.slice(before), [], 'no limit counted an empty form');
      assert.equal(await failures(), failedBefore, 'no failed sign-in recorded');
      // The counter does move for a real try, so the check above could fail.
      assert.equal((await postForm('/login', { login: 'ivan', password: 'not-his-password' })).statusCode, 401);
      assert.ok(limiter.hits.length > before);
      assert.equal(await failures(), failedBefore + 1);
    });

    it('the current password is refused as the new one: change password (API and page) and recovery completion', async () => {
      nextWindow();
      const session = await apiSession('anna');
      const same = await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, payload: { currentPassword: PASSWORD, newPassword: PASSWORD } });
      assert.equal(same.statusCode, 422, same.body);
      assert.equal(same.json().code, 'weak_password');
      assert.deepEqual(same.json().reasons, ['same_as_current']);
      const page = await postForm('/account/password?lang=ru', { _csrf: csrfToken(t.deps.secretKey, sha256(session)), currentPassword: PASSWORD, newPassword: PASSWORD }, { lk_session: session });
      assert.equal(page.statusCode, 422);
      assert.ok(mainText(page.body).includes(translator('ru')('weak.same_as_current')), mainText(page.body));

      // Recovery: the link's form refuses the current password and stays usable.
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'anna' } })).statusCode, 202);
      const [letter] = await smtp.waitFor((mail) => mail.to === 'anna@example.com' && mail.text.includes('/recover/email/'));
      assert.ok(letter);
      const token = linkIn(letter).split('/').at(-1) ?? '';
      const again = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: PASSWORD } });
      assert.equal(again.statusCode, 422, again.body);
      assert.deepEqual(again.json().reasons, ['same_as_current']);
      const formAgain = await postForm('/recover/password?lang=en', { password: PASSWORD }, { lk_reset: token });
      assert.equal(formAgain.statusCode, 422);
      assert.ok(mainText(formAgain.body).includes(translator('en')('weak.same_as_current')));
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: NEW_PASSWORD } });
      assert.equal(done.statusCode, 200, done.body);

      // Back, or the link again, after the recovery: "already changed, sign in", not "the link is dead".
      for (const lang of ['ru', 'en'] as const) {
        const tr = translator(lang);
        const reopened = await t.app.inject({ method: 'GET', url: `/recover/email/${token}?lang=${lang}` });
        const said = mainText(reopened.body);
        assert.ok(said.includes(tr('reset.done.title')) && said.includes(tr('reset.done.bodyLink')), said);
        assert.match(reopened.body, /href="\/login" data-testid="sign-in"/);
        const back = await t.app.inject({ method: 'GET', url: `/recover/password?lang=${lang}`, cookies: { lk_reset: token } });
        assert.ok(mainText(back.body).includes(tr('reset.done.title')));
      }
      // Another password, so the next tests sign anna in as before.
      const session2 = await apiSession('anna', NEW_PASSWORD);
      const reset = await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session2 }, payload: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD } });
      assert.equal(reset.statusCode, 204, reset.body);
    });

    it('a wait is shown in minutes: "через 7 минут", with Retry-After in seconds', async () => {
      nextWindow();
      const ask = () => postForm('/recover?lang=ru', { login: 'nobody-here' });
      let answer = await ask();
      for (let i = 0; i < 10 && answer.statusCode !== 429; i++) answer = await ask();
      assert.equal(answer.statusCode, 429);
      const wait = Number(answer.headers['retry-after']);
      // Move the clock so 392 seconds are left of the window.
      clock.advance((wait - 392) * 1000);
      const later = await ask();
      assert.equal(later.statusCode, 429);
      assert.equal(later.headers['retry-after'], '392');
      const said = mainText(later.body);
      assert.ok(said.includes('Слишком много попыток. Повторите через 7 минут.'), said);
      assert.ok(!/392|секунд/.test(said), said);
    });

    /** A phone recovery up to the code page; returns the flow cookie. */
    const phoneFlow = async (lang: 'ru' | 'en') => {
      const texts = () => gateway.received.filter((m) => m.to === '+79161234567').length;
      const before = texts();
      const started = await postForm(`/recover/phone?lang=${lang}`, { phone: '+79161234567' });
      assert.equal(started.statusCode, 303, started.body);
      const flow = cookieFrom(started.headers['set-cookie'], 'lk_phone_flow') ?? '';
      await waitUntil(() => texts() > before && gateway.lastCode('+79161234567') !== undefined);
      return flow;
    };

    it('the expired-code screen says so once and leads with a new code, not "Continue"', async () => {
      for (const lang of ['ru', 'en'] as const) {
        nextWindow();
        const tr = translator(lang);
        const flow = await phoneFlow(lang);
        clock.advance(61_000);
        const shown = await t.app.inject({ method: 'GET', url: `/recover/phone/code?lang=${lang}`, cookies: { lk_phone_flow: flow } });
        const late = await postForm(`/recover/phone/code?lang=${lang}`, { code: gateway.lastCode('+79161234567') ?? '' }, { lk_phone_flow: flow });
        assert.equal(late.statusCode, 410);
        for (const page of [shown, late]) {
          const said = mainText(page.body);
          assert.equal(said.split(tr('code.expired')).length - 1, 1, `the message once: ${said}`);
          assert.ok(!page.body.includes('action="/recover/phone/code"'), 'no code form to continue with');
          assert.match(page.body, /<form method="post" action="\/recover\/phone\/resend"[^>]*>[\s\S]*?<button type="submit" data-testid="resend"/);
          assert.ok(said.includes(tr('code.resend')) && said.includes(tr('code.otherNumber')), said);
        }
      }
    });

    it('a phone recovery speaks of a code, not a link: its late form, and Back after it was completed', async () => {
      nextWindow();
      const flow = await phoneFlow('ru');
      const verified = await postForm('/recover/phone/code', { code: gateway.lastCode('+79161234567') ?? '' }, { lk_phone_flow: flow });
      assert.equal(verified.statusCode, 303, verified.body);
      const reset = cookieFrom(verified.headers['set-cookie'], 'lk_reset') ?? '';
      clock.advance(11 * 60_000);
      for (const lang of ['ru', 'en'] as const) {
        const tr = translator(lang);
        const stale = await t.app.inject({ method: 'GET', url: `/recover/password?lang=${lang}`, cookies: { lk_reset: reset } });
        assert.equal(stale.statusCode, 400);
        const said = mainText(stale.body);
        assert.ok(said.includes(tr('reset.deadCode.title')), said);
        assert.ok(!/ссылк|link/i.test(said), said);
        assert.match(stale.body, /href="\/recover\/phone"/);
      }

      nextWindow();
      const flow2 = await phoneFlow('ru');
      const verified2 = await postForm('/recover/phone/code', { code: gateway.lastCode('+79161234567') ?? '' }, { lk_phone_flow: flow2 });
      const reset2 = cookieFrom(verified2.headers['set-cookie'], 'lk_reset') ?? '';
      const done = await postForm('/recover/password', { password: NEW_PASSWORD }, { lk_reset: reset2 });
      assert.equal(done.statusCode, 303, done.body);
      const session = cookieFrom(done.headers['set-cookie'], 'lk_session') ?? '';
      for (const lang of ['ru', 'en'] as const) {
        const tr = translator(lang);
        const back = await t.app.inject({ method: 'GET', url: `/recover/password?lang=${lang}`, cookies: { lk_reset: reset2 } });
        const said = mainText(back.body);
        assert.ok(said.includes(tr('reset.done.title')) && said.includes(tr('reset.done.bodyCode')), said);
        assert.ok(!/ссылк|link/i.test(said), said);
        assert.match(back.body, /href="\/login" data-testid="sign-in"/);
        // Signed in (the recovery signed them in): the way on is the portals, not "sign in".
        const signedIn = await t.app.inject({ method: 'GET', url: `/recover/password?lang=${lang}`, cookies: { lk_reset: reset2, lk_session: session } });
        assert.ok(mainText(signedIn.body).includes(tr('reset.done.signedIn')));
        assert.ok(!/ссылк|link/i.test(mainText(signedIn.body)));
        assert.match(signedIn.body, /href="\/portals" data-testid="to-portals"/);
      }
      const restore = await t.app.inject({ method: 'POST', url: '/api/v1/me/password', headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, payload: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD } });
      assert.equal(restore.statusCode, 204, restore.body);
    });

    it('an admin link says when it replaced an earlier one; its SMS holds the login and the link', async () => {
      nextWindow();
      const session = await apiSession('anna');
      const profile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${ivan.id}`, cookies: { lk_session: session } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(profile.body)?.[1] ?? '';
      const send = (channel: string) => postForm(`/admin/acme/users/${ivan.id}/recovery`, { channel, _csrf: csrf }, { lk_session: session });
      const before = gateway.received.length;
      const first = await send('phone');
      assert.equal(first.statusCode, 303, first.body);
      assert.ok(!String(first.headers.location).includes('replaced'), String(first.headers.location));
      const firstPage = await t.app.inject({ method: 'GET', url: `${String(first.headers.location)}&lang=ru`, cookies: { lk_session: session } });
      assert.ok(!firstPage.body.includes('data-testid="link-replaced"'));
      await waitUntil(() => gateway.received.length > before);
      const sms = gateway.received.at(-1)?.text ?? '';
      assert.ok(sms.includes('ivan'), `the login: ${sms}`);
      assert.match(sms, /\/recover\/email\/[A-Za-z0-9_-]{20,}/, `the link: ${sms}`);
      assert.equal(sms.split('\n')[0], translator('ru')('sms.admin', { portal: 'Acme Corp', login: 'ivan', link: /https?:\/\/\S+/.exec(sms)?.[0] ?? '' }));

      const second = await send('email');
      assert.equal(second.statusCode, 303);
      assert.ok(String(second.headers.location).includes('&replaced=1'), String(second.headers.location));
      for (const lang of ['ru', 'en'] as const) {
        const page = await t.app.inject({ method: 'GET', url: `${String(second.headers.location)}&lang=${lang}`, cookies: { lk_session: session } });
        assert.ok(mainText(page.body).includes(translator(lang)('admin.sent.replaced')), mainText(page.body));
      }
      // The earlier link is dead indeed.
      const earlier = /\/recover\/email\/([A-Za-z0-9_-]+)/.exec(sms)?.[1] ?? '';
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: earlier, password: NEW_PASSWORD } })).json().code, 'invalid_token');
      // An admin letter does not say "if you did not ask for recovery": the admin sent it.
      const [letter] = await smtp.waitFor((mail) => mail.to === 'ivan@example.com' && mail.subject.includes('Acme Corp'));
      assert.ok(letter && !letter.text.includes(translator('ru')('mail.recovery.ignore')) && letter.text.includes(translator('ru')('mail.admin.ignore')), letter?.text);
      void anna;
    });

    it('an invitation to a new person speaks of joining, never of recovery or a changed password', async () => {
      nextWindow();
      const session = await apiSession('anna');
      const invited = await t.app.inject({ method: 'POST', url: '/api/v1/portals/acme/users', headers: { ...json, origin: ORIGIN }, cookies: { lk_session: session }, payload: { email: 'olga.new@example.com' } });
      assert.equal(invited.statusCode, 202, invited.body);
      const [letter] = await smtp.waitFor((mail) => mail.to === 'olga.new@example.com');
      assert.ok(letter);
      for (const lang of ['ru', 'en'] as const) {
        const tr = translator(lang);
        for (const wrong of [tr('mail.recovery.ignore'), tr('mail.changed.subject', { product: 'Latchkey' }), tr('passwordChanged.flash')]) assert.ok(!letter.text.includes(wrong), wrong);
      }
      const token = linkIn(letter).split('/').at(-1) ?? '';
      const form = await t.app.inject({ method: 'GET', url: '/recover/password?lang=ru', cookies: { lk_reset: token } });
      assert.ok(mainText(form.body).includes(translator('ru')('reset.invitation.title')), mainText(form.body));
      const done = await postForm('/recover/password', { password: NEW_PASSWORD }, { lk_reset: token });
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, '/portals?joined=1');
      const chooser = await t.app.inject({ method: 'GET', url: '/portals?joined=1&lang=ru', cookies: { lk_session: cookieFrom(done.headers['set-cookie'], 'lk_session') ?? '' } });
      assert.ok(mainText(chooser.body).includes(translator('ru')('invitation.joined.flash')));
      assert.ok(!mainText(chooser.body).includes(translator('ru')('passwordChanged.flash')));
      const back = await t.app.inject({ method: 'GET', url: '/recover/password?lang=ru', cookies: { lk_reset: token } });
      assert.ok(mainText(back.body).includes(translator('ru')('reset.done.titleInvitation')));
    });
  });

  describe(`newcomer's dead ends, box checkword (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    let t: TestApp;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_EDITION: 'box', LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: t.deps.config.boxPortal.slug, role: 'employee' }] });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('a login typo keeps the form with the message; the current password is refused; then it works', async () => {
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword', headers: json, payload: { login: 'ivan' } })).statusCode, 202);
      const [letter] = await smtp.waitFor((mail) => mail.to === 'ivan@example.com');
      assert.ok(letter);
      const link = new URL(/https?:\/\/\S+\/recover\/checkword\?\S+/.exec(letter.text)?.[0] ?? '');
      const opened = await t.app.inject({ method: 'GET', url: link.pathname + link.search });
      assert.equal(opened.statusCode, 303);
      const cookie = cookieFrom(opened.headers['set-cookie'], 'lk_checkword') ?? '';
      const checkword = link.searchParams.get('checkword') ?? '';
      const post = (login: string, password: string, lang: string) =>
        t.app.inject({
          method: 'POST',
          url: `/recover/checkword?lang=${lang}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: `lk_checkword=${cookie}` },
          payload: new URLSearchParams({ login, checkword, password, passwordConfirm: password }).toString(),
        });
      for (const lang of ['ru', 'en'] as const) {
        const typo = await post('ivna', NEW_PASSWORD, lang);
        assert.equal(typo.statusCode, 400);
        assert.ok(!typo.body.includes('data-testid="invalid-link"'), 'not the dead page');
        assert.ok(mainText(typo.body).includes(translator(lang)('box.form.wrongLogin')), mainText(typo.body));
        assert.match(typo.body, /name="login"[^>]*value="ivna"/);
        assert.match(typo.body, new RegExp(`value="${checkword}"`));
      }
      const same = await post('ivan', PASSWORD, 'ru');
      assert.equal(same.statusCode, 422);
      assert.ok(mainText(same.body).includes(translator('ru')('weak.same_as_current')));
      const api = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword/complete', headers: json, payload: { login: 'ivan', checkword, password: PASSWORD, passwordConfirm: PASSWORD } });
      assert.equal(api.statusCode, 422);
      assert.deepEqual(api.json().reasons, ['same_as_current']);
      const done = await post('ivan', NEW_PASSWORD, 'ru');
      assert.equal(done.statusCode, 303, done.body);
      // A checkword someone else holds for another login is still the dead page: nothing to keep.
      const stranger = await t.app.inject({
        method: 'POST',
        url: '/recover/checkword',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
        payload: new URLSearchParams({ login: 'ivan', checkword: 'A'.repeat(43), password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }).toString(),
      });
      assert.match(stranger.body, /data-testid="invalid-link"/);
    });
  });
}
