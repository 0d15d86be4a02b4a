import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';

const PHONE = '+79161234567';

/** The phone recovery pages without JavaScript: plain forms and server-rendered countdowns. */
for (const dialect of DIALECTS) {
  describe(`phone recovery pages (${dialect})`, () => {
    let gateway: TestSmsGateway;
    let t: TestApp;
    before(async () => {
      gateway = new TestSmsGateway();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_SUPPORT_CONTACT: '+7 800 555-35-35', LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps, { phone: PHONE, locale: 'en' });
    });
    after(async () => {
      await t.close();
      await gateway.stop();
    });

    const start = async (lang: string) => {
      const before = gateway.received.length;
      const answer = await t.app.inject({ method: 'POST', url: `/recover/phone?lang=${lang}`, payload: { phone: '8 916 123-45-67' } });
      assert.equal(answer.statusCode, 303);
      assert.equal(answer.headers.location, '/recover/phone/code');
      const flow = cookieFrom(answer.headers['set-cookie'], 'lk_phone_flow');
      assert.ok(flow);
      await waitUntil(() => gateway.received.length > before);
      return flow;
    };

    it('/recover offers both channels; /recover/phone asks for the number', async () => {
      const recover = await t.app.inject({ method: 'GET', url: '/recover?lang=ru' });
      assert.match(recover.body, /href="\/recover\/phone"[^>]*>По номеру телефона</);
      const phone = await t.app.inject({ method: 'GET', url: '/recover/phone?lang=ru' });
      assert.match(phone.body, /Восстановление пароля/);
      assert.match(phone.body, /type="tel"/);
      assert.match(phone.body, /autocomplete="tel"/);
    });

    it('the code page: one-time-code input, countdowns as text, a resend form', async () => {
      const flow = await start('ru');
      const page = await t.app.inject({ method: 'GET', url: '/recover/phone/code?lang=ru', cookies: { lk_phone_flow: flow } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /inputmode="numeric"/);
      assert.match(page.body, /autocomplete="one-time-code"/);
      assert.match(page.body, /Код действует ещё (59|60) с\./);
      assert.match(page.body, /Новый код можно запросить через (59|60) с\./);
      assert.match(page.body, /Отправить новый код/);
      assert.match(page.body, /\+7 916 123 45 67/, 'the number as people read it');
      assert.ok(!page.body.includes(flow), 'the flow handle is not in the page');
    });

    it('a wrong code re-shows the form; an early resend says how long to wait', async () => {
      const flow = await start('en');
      const code = gateway.lastCode(PHONE);
      const wrong = await t.app.inject({ method: 'POST', url: '/recover/phone/code?lang=en', cookies: { lk_phone_flow: flow }, payload: { code: code === '000000' ? '111111' : '000000' } });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /Wrong code/);
      const early = await t.app.inject({ method: 'POST', url: '/recover/phone/resend?lang=en', cookies: { lk_phone_flow: flow }, payload: {} });
      assert.equal(early.statusCode, 429);
      assert.match(early.body, /You can request a new code in \d+ s\./);
    });

    it('the right code leads to the shared new-password form, then to /portals', async () => {
      const flow = await start('en');
      const code = gateway.lastCode(PHONE) ?? '';
      const verified = await t.app.inject({ method: 'POST', url: '/recover/phone/code', cookies: { lk_phone_flow: flow }, payload: { code } });
      assert.equal(verified.statusCode, 303);
      assert.equal(verified.headers.location, '/recover/password');
      const reset = cookieFrom(verified.headers['set-cookie'], 'lk_reset');
      assert.ok(reset);
      const form = await t.app.inject({ method: 'GET', url: '/recover/password', cookies: { lk_reset: reset } });
      assert.match(form.body, /autocomplete="new-password"/);
      const done = await t.app.inject({ method: 'POST', url: '/recover/password', cookies: { lk_reset: reset }, payload: { password: 'amber-lighthouse-tide-5' } });
      assert.equal(done.statusCode, 303);
      assert.equal(done.headers.location, '/portals?changed=1');
    });

    it('"I did not get a code" shows the support contact and suggests e-mail', async () => {
      const help = await t.app.inject({ method: 'GET', url: '/recover/phone/help?lang=ru' });
      assert.match(help.body, /обратитесь в поддержку: \+7 800 555-35-35/);
      assert.match(help.body, /href="\/recover"[^>]*>Восстановить по e-mail</);
    });

    it('without a live flow the code page sends the visitor back to the start', async () => {
      const answer = await t.app.inject({ method: 'GET', url: '/recover/phone/code', cookies: { lk_phone_flow: 'not-a-flow' } });
      assert.equal(answer.statusCode, 303);
      assert.equal(answer.headers.location, '/recover/phone');
    });

    it('serves the countdown script from our origin (the CSP allows no inline script)', async () => {
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/countdown.js' })).statusCode, 200);
    });
  });
}

describe('phone recovery without an SMS gateway in production', () => {
  it('is switched off: /recover offers e-mail only and the API answers not_found', async () => {
    const t = await startTestApp({
      dialect: 'sqlite',
      worker: false,
      env: { NODE_ENV: 'production', LATCHKEY_PUBLIC_URL: 'https://id.example.com', LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:9' },
    });
    try {
      const recover = await t.app.inject({ method: 'GET', url: '/recover' });
      assert.doesNotMatch(recover.body, /href="\/recover\/phone"/);
      const api = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: { 'content-type': 'application/json' }, payload: { phone: PHONE } });
      assert.equal(api.statusCode, 404);
      assert.equal(api.json().code, 'not_found');
      assert.equal((await t.app.inject({ method: 'GET', url: '/recover/phone' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
