import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildDeps } from '../../src/deps.js';
import { ensureBoxPortal } from '../../src/flows/box-portal.js';
import { addUser } from '../../src/flows/operator.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { outboxDepth } from '../../src/store/outbox.repo.js';
import { findPortalBySlug } from '../../src/store/portals.repo.js';
import { insertRecoveryToken } from '../../src/store/recovery-tokens.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmtpServer, type ReceivedMail } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

/**
 * The box edition's recovery by checkword (seed B1–B2, SPEC §5, §6, §7 rules 1–6, 8, 11, 14): the real
 * app on both databases, letters through a real SMTP server, time moved by a FakeClock.
 */

const NEW_PASSWORD = 'violet-harbour-lantern-88';
const PUBLIC = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const BOX = { LATCHKEY_EDITION: 'box' };

/** The checkword link in a letter's text part, and what it carries. */
function checkwordLinkIn(mail: ReceivedMail): { link: string; login: string; checkword: string } {
  const match = /https?:\/\/\S+\/recover\/checkword\?\S+/.exec(mail.text);
  if (!match) throw new Error(`no checkword link in letter: ${mail.text}`);
  const url = new URL(match[0]);
  return { link: match[0], login: url.searchParams.get('login') ?? '', checkword: url.searchParams.get('checkword') ?? '' };
}

function isCheckwordLetter(mail: ReceivedMail): boolean {
  return mail.text.includes('/recover/checkword?');
}

/** The same checkword with one character changed. */
function altered(checkword: string): string {
  const last = checkword.at(-1) === 'A' ? 'B' : 'A';
  return checkword.slice(0, -1) + last;
}

/** A box app with accounts in its portal: ivan (en) and olga (ru), both with verified e-mails. */
async function startBoxApp(dialect: (typeof DIALECTS)[number], smtpUrl: string, clock: FakeClock, env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startTestApp({ dialect, clock, env: { ...BOX, LATCHKEY_SMTP_URL: smtpUrl, ...env } });
  const slug = t.deps.config.boxPortal.slug;
  await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'en', portals: [{ slug, role: 'employee' }] });
  await addUser(t.deps, { login: 'olga', email: 'olga@example.ru', password: PASSWORD, locale: 'ru', portals: [{ slug, role: 'admin' }] });
  return t;
}

for (const dialect of DIALECTS) {
  describe(`box: recovery by checkword (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    const clock = new FakeClock();
    let t: TestApp;

    before(async () => {
      t = await startBoxApp(dialect, await smtp.start(), clock, { LATCHKEY_RATE_LIMITS: 'off' });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    const request = (login: string, headers: Record<string, string> = {}) =>
      t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword', headers: { ...json, ...headers }, payload: { login } });
    const complete = (payload: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword/complete', headers: json, payload });
    // A completion that succeeds must choose a password other than the current one (issue 14 item 7), so the
    // tests after the first one that set NEW_PASSWORD pass their own.
    const completeWith = (login: string, checkword: string, password = NEW_PASSWORD) => complete({ login, checkword, password, passwordConfirm: password });
    const signIn = (login: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
    /** Asks for a checkword and returns the letter that carries it (notices may arrive in between). */
    const nextLetter = async (login: string, to: string) => {
      const mine = (m: ReceivedMail) => m.to === to && isCheckwordLetter(m);
      const sent = smtp.mails.filter(mine).length;
      const answer = await request(login);
      assert.equal(answer.statusCode, 202, answer.body);
      const mail = (await smtp.waitFor(mine, sent + 1)).at(-1);
      assert.ok(mail);
      return mail;
    };
    const nextCheckword = async (login = 'ivan', to = 'ivan@example.com') => checkwordLinkIn(await nextLetter(login, to)).checkword;

    it('the box portal exists after start', async () => {
      const portal = await findPortalBySlug(t.deps.store.db, 'company');
      assert.equal(portal?.title, 'Company portal');
    });

    it('e-mails one link with the login and a checkword; opening it consumes nothing; completing signs in once', async () => {
      const before = await signIn('ivan', PASSWORD);
      assert.equal(before.statusCode, 200);
      const oldSession = cookieFrom(before.headers['set-cookie'], 'lk_session');
      assert.ok(oldSession);

      // A forged Host header must not move the link anywhere (SPEC §7 rule 11).
      const answer = await request('ivan', { host: 'evil.example' });
      assert.equal(answer.statusCode, 202);
      assert.deepEqual(answer.json(), {});
      const [mail] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && isCheckwordLetter(m));
      assert.ok(mail);
      const { link, login, checkword } = checkwordLinkIn(mail);
      assert.ok(link.startsWith(`${PUBLIC}/recover/checkword?`), link);
      assert.equal(login, 'ivan');
      assert.match(checkword, /^[A-Za-z0-9_-]{43}$/, 'at least 128 bits (here 256), base64url');
      assert.equal(Buffer.from(checkword, 'base64url').length, 32);
      assert.equal(mail.subject, 'Checkword to change your password on Company portal', 'names the portal');
      assert.ok(mail.text.includes('Company portal'));
      assert.match(mail.text, /valid for 60 minutes/);
      assert.match(mail.text, /If you did not ask for this/);
      assert.ok(!mail.text.includes('evil.example') && !mail.html.includes('evil.example'));
      assert.ok(mail.html.includes(link.replace(/&/g, '&amp;')), 'the HTML part holds the same link');
      assert.equal((mail.text.match(/https?:\/\//g) ?? []).length, 1, 'one link');

      // Only the sha256 is stored, bound to ivan and to the purpose `checkword`, for 60 minutes (rules 1, 4).
      const rows = await t.deps.store.db.selectFrom('recovery_tokens').selectAll().execute();
      assert.ok(rows.every((r) => r.token_hash !== checkword));
      const row = rows.find((r) => r.token_hash === sha256(checkword));
      assert.equal(row?.purpose, 'checkword');
      assert.equal(Date.parse(row?.expires_at ?? '') - Date.parse(row?.created_at ?? ''), 60 * 60_000);

      // Opening the link (GET and HEAD, twice each) consumes nothing (rule 3) and takes the checkword off the address bar.
      let held = '';
      for (const method of ['GET', 'HEAD', 'GET', 'HEAD'] as const) {
        const opened = await t.app.inject({ method, url: new URL(link).pathname + new URL(link).search });
        assert.equal(opened.statusCode, 303, `${method} redirects`);
        assert.equal(opened.headers.location, '/recover/checkword');
        assert.equal(opened.headers['referrer-policy'], 'no-referrer');
        assert.equal(opened.headers['cache-control'], 'no-store');
        const setCookie = [opened.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('lk_checkword='));
        assert.ok(setCookie, 'the checkword moves into a cookie');
        assert.match(setCookie, /Path=\/recover\/checkword/);
        assert.match(setCookie, /HttpOnly/);
        assert.match(setCookie, /SameSite=Lax/);
        held = cookieFrom(opened.headers['set-cookie'], 'lk_checkword') ?? '';
      }
      // The form: login prefilled, the checkword filled in and read-only; the default referrer policy.
      const form = await t.app.inject({ method: 'GET', url: '/recover/checkword', headers: { cookie: `lk_checkword=${held}` } });
      assert.equal(form.statusCode, 200);
      assert.notEqual(form.headers['referrer-policy'], 'no-referrer');
      assert.match(form.body, /<input name="login" autocomplete="username"[^>]*value="ivan"/);
      assert.match(form.body, new RegExp(`<input name="checkword"[^>]*readonly[^>]*value="${checkword}"`));
      assert.match(form.body, /name="passwordConfirm" type="password" autocomplete="new-password"/);

      const done = await completeWith('ivan', checkword);
      assert.equal(done.statusCode, 200, done.body);
      assert.equal(done.json().account.login, 'ivan');
      assert.deepEqual(done.json().portals.map((p: { slug: string }) => p.slug), ['company']);
      const newSession = cookieFrom(done.headers['set-cookie'], 'lk_session');
      assert.ok(newSession && newSession !== oldSession);

      assert.equal((await signIn('ivan', PASSWORD)).statusCode, 401, 'the old password fails');
      assert.equal((await signIn('ivan', NEW_PASSWORD)).statusCode, 200, 'the new password works');

      // Used: the same checkword again is refused (rule 2); the form page no longer opens.
      const again = await completeWith('ivan', checkword, 'another-fine-password-1');
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().code, 'invalid_token');
      const stale = await t.app.inject({ method: 'GET', url: '/recover/checkword', headers: { cookie: `lk_checkword=${held}` } });
      assert.equal(stale.statusCode, 400);

      // Sessions opened before are revoked; the one the recovery opened works (rule 10).
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: oldSession } })).statusCode, 401);
      assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: newSession } })).statusCode, 200);

      // The notice that the password changed.
      const [notice] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.includes('changed'));
      assert.ok(notice?.text.includes(`${PUBLIC}/recover`));
      // No checkword in any log line (rule 14).
      assert.ok(!t.logs.some((line) => line.includes(checkword)), 'a log line holds the checkword');
    });

    it('refuses a checkword with one character changed, without using the real one up', async () => {
      const checkword = await nextCheckword();
      const changed = await completeWith('ivan', altered(checkword));
      assert.equal(changed.statusCode, 400);
      assert.equal(changed.json().code, 'invalid_token');
      assert.deepEqual(Object.keys(changed.json()).sort(), ['code', 'status', 'title', 'type'], 'no detail');
      assert.equal((await completeWith('ivan', checkword, 'fresh-violet-harbour-171')).statusCode, 200);
    });

    it('a checkword opens only its own form: the generic completion step refuses it and leaves it unused', async () => {
      const checkword = await nextCheckword();
      const generic = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: checkword, password: NEW_PASSWORD } });
      assert.equal(generic.statusCode, 400);
      assert.equal(generic.json().code, 'invalid_token');
      assert.equal((await t.app.inject({ method: 'GET', url: `/recover/email/${checkword}` })).statusCode, 400, 'nor does the e-mail link page');
      assert.equal((await completeWith('ivan', checkword, 'fresh-violet-harbour-180')).statusCode, 200);
    });

    it('refuses an expired checkword (after 60 minutes)', async () => {
      const checkword = await nextCheckword();
      clock.advance(59 * 60_000);
      const link = `/recover/checkword?login=ivan&checkword=${checkword}`;
      const opened = await t.app.inject({ method: 'GET', url: link });
      const held = cookieFrom(opened.headers['set-cookie'], 'lk_checkword') ?? '';
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword', headers: { cookie: `lk_checkword=${held}` } })).statusCode, 200);
      clock.advance(2 * 60_000);
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword', headers: { cookie: `lk_checkword=${held}` } })).statusCode, 400);
      const late = await completeWith('ivan', checkword);
      assert.equal(late.statusCode, 400);
      assert.equal(late.json().code, 'invalid_token');
    });

    it("refuses another login's checkword, and the owner's still works", async () => {
      const olgas = await nextCheckword('olga', 'olga@example.ru');
      for (const login of ['ivan', 'ivan@example.com']) {
        const wrong = await completeWith(login, olgas);
        assert.equal(wrong.statusCode, 400);
        assert.equal(wrong.json().code, 'invalid_token');
      }
      const unknown = await completeWith('nobody-here', olgas);
      assert.equal(unknown.json().code, 'invalid_token');
      assert.equal((await completeWith('olga', olgas)).statusCode, 200);
    });

    it('refuses a live token of the same account that is not a checkword, and leaves it unused', async () => {
      const ivan = await t.deps.store.db.selectFrom('accounts').selectAll().where('login', '=', 'ivan').executeTakeFirstOrThrow();
      const token = 'not-a-checkword-but-an-admin-link-0123456789';
      const now = clock.now();
      await insertRecoveryToken(t.deps.store.db, {
        token_hash: sha256(token),
        account_id: ivan.id,
        purpose: 'admin_link',
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + 3600_000).toISOString(),
        consumed_at: null,
        revoked_at: null,
      });
      const answer = await completeWith('ivan', token);
      assert.equal(answer.statusCode, 400);
      assert.equal(answer.json().code, 'invalid_token');
      const row = await t.deps.store.db.selectFrom('recovery_tokens').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
      assert.equal(row?.consumed_at, null);
    });

    it('writes the letter in the account\'s language (olga: Russian)', async () => {
      const mail = await nextLetter('olga@example.ru', 'olga@example.ru');
      assert.equal(mail.subject, 'Контрольная строка для смены пароля на портале Company portal');
      assert.match(mail.text, /Здравствуйте, olga!/);
      assert.match(mail.text, /Ссылка действует 60 мин\./);
      assert.match(mail.text, /Если вы не запрашивали смену пароля/);
      assert.equal(checkwordLinkIn(mail).login, 'olga');
    });

    it('a new request kills the previous checkword (rule 5)', async () => {
      const first = await nextCheckword('ivan@example.com');
      const second = await nextCheckword('IVAN');
      assert.equal((await completeWith('ivan', first)).json().code, 'invalid_token');
      assert.equal((await completeWith('ivan', second)).statusCode, 200);
    });

    it('a password change kills the checkword', async () => {
      const checkword = await nextCheckword();
      const session = cookieFrom((await signIn('ivan', NEW_PASSWORD)).headers['set-cookie'], 'lk_session') ?? '';
      const changed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/me/password',
        headers: { ...json, origin: PUBLIC },
        cookies: { lk_session: session },
        payload: { currentPassword: NEW_PASSWORD, newPassword: 'second-violet-harbour-9' },
      });
      assert.equal(changed.statusCode, 204, changed.body);
      assert.equal((await completeWith('ivan', checkword)).json().code, 'invalid_token');
    });

    it('answers an unknown login exactly like a known one, and sends nothing', async () => {
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      const before = smtp.mails.length;
      const known = await request('ivan');
      for (const login of ['nobody-here', 'nobody@example.com']) {
        const unknown = await request(login);
        assert.equal(unknown.statusCode, known.statusCode);
        assert.equal(unknown.body, known.body);
        assert.equal(unknown.headers['content-type'], known.headers['content-type']);
      }
      await smtp.waitFor(() => true, before + 1);
      await waitUntil(async () => (await outboxDepth(t.deps.store.db)) === 0);
      assert.equal(smtp.mails.length, before + 1, 'only the known login got a letter');
      const last = smtp.mails.at(-1);
      assert.ok(last && last.to === 'ivan@example.com' && isCheckwordLetter(last));
    });

    it('a mismatched confirmation is invalid_request (passwordConfirm) and uses nothing up', async () => {
      const checkword = await nextCheckword();
      const mismatch = await complete({ login: 'ivan', checkword, password: NEW_PASSWORD, passwordConfirm: `${NEW_PASSWORD}x` });
      assert.equal(mismatch.statusCode, 400);
      assert.equal(mismatch.json().code, 'invalid_request');
      assert.equal(mismatch.json().field, 'passwordConfirm');
      const missing = await complete({ login: 'ivan', checkword, password: NEW_PASSWORD });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().field, 'passwordConfirm');
      assert.equal((await completeWith('ivan', checkword)).statusCode, 200);
    });

    it('refuses a weak password without using the checkword up', async () => {
      const checkword = await nextCheckword();
      const weak = await completeWith('ivan', checkword, 'password123');
      assert.equal(weak.statusCode, 422);
      assert.equal(weak.json().code, 'weak_password');
      assert.deepEqual(weak.json().reasons, ['common']);
      assert.equal((await completeWith('ivan', checkword, 'fresh-violet-harbour-294')).statusCode, 200);
    });

    it('20 parallel completions with one checkword give exactly one success (rule 2)', async () => {
      const checkword = await nextCheckword();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => completeWith('ivan', checkword, `parallel-password-${i}-x`)));
      const codes = answers.map((a) => a.statusCode);
      assert.equal(codes.filter((c) => c === 200).length, 1, codes.join(','));
      assert.ok(answers.filter((a) => a.statusCode !== 200).every((a) => a.json().code === 'invalid_token'));
    });

    it('the pages: "Send checkword", the same answer for every input, the form sets the password and signs in', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/recover?lang=ru' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Забыли свой пароль\?/);
      assert.match(page.body, /Выслать контрольную строку/);
      const en = await t.app.inject({ method: 'GET', url: '/recover?lang=en' });
      assert.match(en.body, /Send checkword/);

      const form = { 'content-type': 'application/x-www-form-urlencoded', origin: PUBLIC };
      const sent = smtp.mails.filter(isCheckwordLetter).length;
      const known = await t.app.inject({ method: 'POST', url: '/recover?lang=en', headers: form, payload: 'login=ivan' });
      const unknown = await t.app.inject({ method: 'POST', url: '/recover?lang=en', headers: form, payload: 'login=nobody-here' });
      assert.equal(known.statusCode, 200);
      assert.equal(unknown.statusCode, 200);
      assert.equal(known.body, unknown.body, 'the same page whatever the login');
      assert.match(known.body, /Check your mail/);
      const foreign = await t.app.inject({ method: 'POST', url: '/recover', headers: { ...form, origin: 'https://evil.example' }, payload: 'login=ivan' });
      assert.equal(foreign.statusCode, 403);

      const mail = (await smtp.waitFor(isCheckwordLetter, sent + 1)).at(-1);
      assert.ok(mail);
      assert.equal(mail.to, 'ivan@example.com');
      const { link, checkword } = checkwordLinkIn(mail);
      const opened = await t.app.inject({ method: 'GET', url: new URL(link).pathname + new URL(link).search });
      const cookie = `lk_checkword=${cookieFrom(opened.headers['set-cookie'], 'lk_checkword') ?? ''}`;
      const shown = await t.app.inject({ method: 'GET', url: '/recover/checkword?lang=ru', headers: { cookie } });
      assert.equal(shown.statusCode, 200);
      assert.match(shown.body, /Контрольная строка/);
      assert.match(shown.body, /Изменить пароль/);

      const body = (password: string, confirm: string) => new URLSearchParams({ login: 'ivan', checkword, password, passwordConfirm: confirm }).toString();
      const mismatch = await t.app.inject({ method: 'POST', url: '/recover/checkword?lang=en', headers: { ...form, cookie }, payload: body(NEW_PASSWORD, 'other-password-entirely') });
      assert.equal(mismatch.statusCode, 400);
      assert.match(mismatch.body, /do not match/);
      assert.match(mismatch.body, new RegExp(`value="${checkword}"`), 'the form keeps the checkword');
      const weak = await t.app.inject({ method: 'POST', url: '/recover/checkword?lang=en', headers: { ...form, cookie }, payload: body('password123', 'password123') });
      assert.equal(weak.statusCode, 422);
      const done = await t.app.inject({ method: 'POST', url: '/recover/checkword', headers: { ...form, cookie }, payload: body('form-violet-harbour-77', 'form-violet-harbour-77') });
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, '/portals?changed=1');
      const session = cookieFrom(done.headers['set-cookie'], 'lk_session');
      assert.ok(session);
      const portals = await t.app.inject({ method: 'GET', url: '/portals', cookies: { lk_session: session } });
      assert.equal(portals.statusCode, 200);
      assert.match(portals.body, /Company portal/);
      const reused = await t.app.inject({ method: 'POST', url: '/recover/checkword', headers: { ...form, cookie }, payload: body('form-violet-harbour-78', 'form-violet-harbour-78') });
      assert.equal(reused.statusCode, 400);
      assert.match(reused.body, /data-testid="invalid-link"/);
    });

    it('a link without its values, or a form without its cookie, shows the invalid page', async () => {
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword?login=ivan' })).statusCode, 400);
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword' })).statusCode, 400);
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword', headers: { cookie: 'lk_checkword=%7Bnot-json' } })).statusCode, 400);
    });
  });

  describe(`box: limits, edition and portal (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    const clock = new FakeClock();
    let t: TestApp;

    before(async () => {
      t = await startBoxApp(dialect, await smtp.start(), clock, { LATCHKEY_BOX_PORTAL_SLUG: 'acme', LATCHKEY_BOX_PORTAL_TITLE: 'Acme Intranet' });
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('creates the portal from the settings, once, however many processes start', async () => {
      const settings = t.deps.config.boxPortal;
      const first = await findPortalBySlug(t.deps.store.db, 'acme');
      assert.equal(first?.title, 'Acme Intranet');
      const again = await Promise.all([ensureBoxPortal(t.deps, settings), ensureBoxPortal(t.deps, settings), ensureBoxPortal(t.deps, settings)]);
      assert.ok(again.every((p) => p.id === first?.id));
      // A second process over the same database.
      const second = await buildDeps(t.deps.config, { logger: t.deps.logger, clock });
      await second.close();
      const rows = await t.deps.store.db.selectFrom('portals').selectAll().where('slug', '=', 'acme').execute();
      assert.equal(rows.length, 1);
      // A race on a portal nobody created yet: every caller gets the one row.
      const raced = await Promise.all(Array.from({ length: 5 }, () => ensureBoxPortal(t.deps, { slug: 'raced', title: 'Raced' })));
      assert.equal(new Set(raced.map((p) => p.id)).size, 1);
      assert.equal((await t.deps.store.db.selectFrom('portals').selectAll().where('slug', '=', 'raced').execute()).length, 1);
    });

    it('rate-limits wrong checkwords per account: 10 per 15 minutes, then 429 with Retry-After; the right one still passes', async () => {
      const sent = smtp.mails.length;
      assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword', headers: json, payload: { login: 'ivan' } })).statusCode, 202);
      const mail = (await smtp.waitFor((m) => m.to === 'ivan@example.com', sent + 1)).at(-1);
      assert.ok(mail);
      assert.match(mail.subject, /Acme Intranet/);
      const { checkword } = checkwordLinkIn(mail);
      const attempt = (login: string, word: string) =>
        t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword/complete', headers: json, payload: { login, checkword: word, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD } });
      // Login and e-mail count in one bucket.
      for (let i = 0; i < 10; i++) {
        const wrong = await attempt(i % 2 === 0 ? 'ivan' : 'IVAN@example.com', altered(checkword));
        assert.equal(wrong.statusCode, 400);
        assert.equal(wrong.json().code, 'invalid_token');
      }
      const limited = await attempt('ivan', altered(checkword));
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().code, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) > 0);
      // Another account is not affected; the window ends by itself.
      assert.equal((await attempt('olga', altered(checkword))).json().code, 'invalid_token');
      // A live checkword is never refused because of wrong ones (SPEC §7 rule 20).
      const right = await attempt('ivan@example.com', checkword);
      assert.equal(right.statusCode, 200, right.body);
      clock.advance(15 * 60_000 + 1000);
      assert.equal((await attempt('ivan', altered(checkword))).json().code, 'invalid_token', 'the window ended');
    });

    it('rate-limits checkword requests per login', async () => {
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await t.app.inject({ method: 'POST', url: '/api/v1/recovery/checkword', headers: json, payload: { login: 'olga' } }));
      assert.equal(answers.at(-1)?.statusCode, 429);
      assert.equal(answers.at(-1)?.json().code, 'rate_limited');
      assert.ok(answers.at(-1)?.headers['retry-after']);
    });

    it('the cloud e-mail link is not offered in the box edition', async () => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      assert.equal(answer.statusCode, 404);
      assert.equal(answer.json().code, 'edition_mismatch');
    });
  });

  describe(`box: the cloud edition has no checkwords (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect });
    });
    after(() => t.close());

    it('answers the checkword endpoints with 404 edition_mismatch, and creates no box portal', async () => {
      for (const [url, payload] of [
        ['/api/v1/recovery/checkword', { login: 'ivan' }],
        ['/api/v1/recovery/checkword/complete', { login: 'ivan', checkword: 'x'.repeat(43), password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }],
        ['/api/v1/recovery/checkword/complete', {}],
      ] as const) {
        const answer = await t.app.inject({ method: 'POST', url, headers: json, payload });
        assert.equal(answer.statusCode, 404, url);
        assert.equal(answer.json().code, 'edition_mismatch');
      }
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/checkword?login=ivan&checkword=abc' })).statusCode, 404);
      assert.match((await t.app.inject({ method: 'GET', url: '/recover?lang=en' })).body, /Password recovery/);
      assert.equal(await findPortalBySlug(t.deps.store.db, 'company'), undefined);
    });
  });
}
