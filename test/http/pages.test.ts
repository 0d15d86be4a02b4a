import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal } from '../../src/flows/operator.js';
import { findPortalBySlug, upsertMembership } from '../../src/store/portals.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';

const ORIGIN = { origin: 'http://localhost:3000' };

for (const dialect of DIALECTS) {
  describe(`pages (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect });
      const account = await seedAccount(t.deps, { locale: 'ru', phone: '+7 916 123-45-67' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex', url: 'https://globex.example.com' });
      const globex = await findPortalBySlug(t.deps.store.db, 'globex');
      assert.ok(globex);
      await upsertMembership(t.deps.store.db, { account_id: account.id, portal_id: globex.id, role: 'admin', status: 'active', created_at: account.created_at });
      await addPortal(t.deps, { slug: 'fired', title: 'Former employer' });
      const fired = await findPortalBySlug(t.deps.store.db, 'fired');
      assert.ok(fired);
      await upsertMembership(t.deps.store.db, { account_id: account.id, portal_id: fired.id, role: 'employee', status: 'fired', created_at: account.created_at });
    });
    after(() => t.close());

    it('speaks Russian and English: ?lang=, then the remembered choice, then Accept-Language', async () => {
      const ru = await t.app.inject({ method: 'GET', url: '/login', headers: { 'accept-language': 'ru-RU,ru;q=0.9' } });
      assert.match(ru.body, /<html lang="ru">/);
      assert.match(ru.body, /Не помню пароль/);
      const en = await t.app.inject({ method: 'GET', url: '/login?lang=en', headers: { 'accept-language': 'ru' } });
      assert.match(en.body, /<html lang="en">/);
      assert.match(en.body, /Forgot password\?/);
      const remembered = cookieFrom(en.headers['set-cookie'], 'lk_lang');
      assert.equal(remembered, 'en');
      const next = await t.app.inject({ method: 'GET', url: '/recover', headers: { 'accept-language': 'ru' }, cookies: { lk_lang: 'en' } });
      assert.match(next.body, /Password recovery/);
      for (const url of ['/login', '/recover']) {
        const page = await t.app.inject({ method: 'GET', url });
        assert.match(page.body, /href="[^"]*\?lang=ru"/, `${url} has a language switch`);
        assert.match(page.body, /href="[^"]*\?lang=en"/);
      }
    });

    it('forms carry autocomplete hints for password managers', async () => {
      const login = (await t.app.inject({ method: 'GET', url: '/login' })).body;
      assert.match(login, /autocomplete="username"/);
      assert.match(login, /autocomplete="current-password"/);
    });

    it('signs in by login, e-mail or phone and lists every active membership with "Sign in"', async () => {
      for (const identifier of ['ivan', 'IVAN@example.com', '8 (916) 123-45-67']) {
        const answer = await t.app.inject({ method: 'POST', url: '/login', headers: ORIGIN, payload: { login: identifier, password: PASSWORD } });
        assert.equal(answer.statusCode, 303, identifier);
        assert.equal(answer.headers.location, '/portals');
      }
      const signedIn = await t.app.inject({ method: 'POST', url: '/login', payload: { login: 'ivan', password: PASSWORD } });
      const session = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
      const portals = await t.app.inject({ method: 'GET', url: '/portals?lang=ru', cookies: { lk_session: session } });
      assert.equal(portals.statusCode, 200);
      assert.match(portals.body, /Выберите портал/);
      assert.match(portals.body, /href="https:\/\/globex\.example\.com">Войти</);
      assert.match(portals.body, /href="\/portals\/p[a-z0-9]+">Войти</);
      assert.doesNotMatch(portals.body, /Former employer/, 'a fired membership is not offered');
      const landing = await t.app.inject({ method: 'GET', url: '/portals/fired', cookies: { lk_session: session } });
      assert.equal(landing.statusCode, 404);
    });

    it('a wrong password re-shows the form with a message, in the page language', async () => {
      const answer = await t.app.inject({ method: 'POST', url: '/login?lang=ru', payload: { login: 'ivan', password: 'wrong-password-x' } });
      assert.equal(answer.statusCode, 401);
      assert.match(answer.body, /Неверный логин или пароль/);
      assert.match(answer.body, /value="ivan"/);
    });

    it('the recovery page explains a forgotten login and always answers "check your mail"', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/recover?lang=ru' });
      assert.match(page.body, /Не помните логин\?/);
      assert.match(page.body, /администратору/);
      const known = await t.app.inject({ method: 'POST', url: '/recover?lang=en', payload: { login: 'ivan' } });
      const unknown = await t.app.inject({ method: 'POST', url: '/recover?lang=en', payload: { login: 'ghost' } });
      assert.equal(known.statusCode, 200);
      assert.equal(known.body, unknown.body);
      assert.match(known.body, /Check your mail/);
    });

    it('signed-out visitors are sent to /login; /.well-known/change-password points at the form', async () => {
      // With the way back, except to the chooser, where a sign-in goes anyway (issue 14 item 4).
      for (const [url, location] of [
        ['/portals', '/login'],
        ['/account', '/login?next=%2Faccount'],
      ]) {
        const answer = await t.app.inject({ method: 'GET', url });
        assert.equal(answer.statusCode, 303);
        assert.equal(answer.headers.location, location);
      }
      const wellKnown = await t.app.inject({ method: 'GET', url: '/.well-known/change-password' });
      assert.equal(wellKnown.statusCode, 302);
      assert.equal(wellKnown.headers.location, '/account#password');
    });

    it('signs out with the form token', async () => {
      const signedIn = await t.app.inject({ method: 'POST', url: '/login', payload: { login: 'ivan', password: PASSWORD } });
      const session = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
      const page = await t.app.inject({ method: 'GET', url: '/portals', cookies: { lk_session: session } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const out = await t.app.inject({ method: 'POST', url: '/logout', headers: ORIGIN, cookies: { lk_session: session }, payload: { _csrf: csrf } });
      assert.equal(out.statusCode, 303);
      assert.equal((await t.app.inject({ method: 'GET', url: '/portals', cookies: { lk_session: session } })).statusCode, 303);
    });

    it('the development outbox shows letters with clickable links, newest first', async () => {
      await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: { 'content-type': 'application/json' }, payload: { login: 'ivan' } });
      await t.deps.worker.drain();
      const page = await t.app.inject({ method: 'GET', url: '/dev/outbox' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /data-testid="outbox-link">http:\/\/localhost:3000\/recover\/email\//);
      // The letter is in the account's language (Russian), whatever the page language.
      assert.match(page.body, /Восстановление пароля/);
    });

    it('health, readiness and metrics', async () => {
      assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.deepEqual((await t.app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
      const metrics = await t.management.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /latchkey_http_requests_total\{method="GET",route="\/healthz",status="200"\}/);
    });
  });
}

describe('production has no development outbox', () => {
  it('answers 404 at /dev/outbox when an SMTP server and an SMS gateway are configured', async () => {
    const t = await startTestApp({ dialect: 'sqlite', worker: false, env: { LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:9', LATCHKEY_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' } });
    try {
      assert.equal((await t.app.inject({ method: 'GET', url: '/dev/outbox' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
