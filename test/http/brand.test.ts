import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser, setPortal } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { TestSmtpServer } from '../support/smtp.js';

/**
 * Issue 14, item 12: the product's name, logo and colour come from the settings (LATCHKEY_BRAND_*), on pages
 * and in letters (sent through a real SMTP server); a portal's own title and colour on what is about it.
 */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const BRAND = { name: 'Ромашка ID', logo: 'https://cdn.example.com/romashka.png', color: '#c0392b' };
const PORTAL_COLOR = '#1e8449';

for (const dialect of DIALECTS) {
  describe(`branding from settings (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let ivan: Account;
    let adminSession: string;

    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({
        dialect,
        env: {
          LATCHKEY_SMTP_URL: await smtp.start(),
          LATCHKEY_RATE_LIMITS: 'off',
          LATCHKEY_BRAND_NAME: BRAND.name,
          LATCHKEY_BRAND_LOGO_URL: BRAND.logo,
          LATCHKEY_BRAND_COLOR: BRAND.color.toUpperCase(),
        },
      });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      await setPortal(t.deps, 'acme', { color: '#1E8449' });
      await addUser(t.deps, { login: 'anna', name: 'Anna Grant', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', name: 'Иван Петров', email: 'ivan@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(t.deps, { login: 'oleg', email: 'oleg@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      const signedIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'anna', password: PASSWORD } });
      assert.equal(signedIn.statusCode, 200, signedIn.body);
      adminSession = cookieFrom(signedIn.headers['set-cookie'], 'lk_session') ?? '';
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('pages carry the configured name, logo and colour, never "Latchkey"; the logo\'s origin is allowed by the CSP', async () => {
      for (const lang of ['ru', 'en']) {
        const page = await t.app.inject({ method: 'GET', url: `/login?lang=${lang}` });
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<title>[^<]+ · Ромашка ID<\/title>/);
        assert.match(page.body, /<a class="brand" href="\/" aria-label="Ромашка ID"><img class="logo" src="https:\/\/cdn\.example\.com\/romashka\.png" alt="" height="28"><span>Ромашка ID<\/span><\/a>/);
        assert.ok(!page.body.includes('Latchkey'), 'no hard-coded product name on the page');
        assert.match(String(page.headers['content-security-policy']), /img-src 'self' data: https:\/\/cdn\.example\.com;/);
      }
      const css = await t.app.inject({ method: 'GET', url: '/static/app.css' });
      assert.ok(css.body.trimEnd().endsWith(`:root { --accent: ${BRAND.color}; }`), 'the brand colour overrides the default one');
    });

    it('letters carry the configured name and colour, greet by name, and name no other product', async () => {
      const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      assert.equal(asked.statusCode, 202, asked.body);
      const [mail] = await smtp.waitFor((m) => m.to === 'ivan@example.com');
      assert.ok(mail);
      assert.equal(mail.subject, 'Восстановление пароля Ромашка ID');
      assert.ok(mail.text.startsWith('Здравствуйте, Иван Петров!'), mail.text);
      assert.ok(mail.text.trimEnd().endsWith('Команда Ромашка ID'), mail.text);
      assert.ok(mail.html.includes(`background:${BRAND.color}`), 'the button in the brand colour');
      assert.ok(mail.html.includes(`<img src="${BRAND.logo}"`), 'the logo on top');
      assert.ok(!`${mail.subject}${mail.text}${mail.html}`.includes('Latchkey'));
    });

    it('a portal\'s pages and letters wear its own title and colour', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/admin/acme/users', cookies: { lk_session: adminSession } });
      assert.equal(page.statusCode, 200, page.body.slice(0, 300));
      assert.ok(page.body.includes('<link rel="stylesheet" href="/static/portals/acme.css">'));
      const css = await t.app.inject({ method: 'GET', url: '/static/portals/acme.css' });
      assert.equal(css.statusCode, 200);
      assert.equal(css.body.trim(), `:root { --accent: ${PORTAL_COLOR}; }`);
      // A portal without a colour of its own has no style sheet: the product's colour stays.
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/portals/globex.css' })).statusCode, 404);
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/portals/..%2Fapp.css' })).statusCode, 404);

      const sent = await t.app.inject({
        method: 'POST',
        url: `/api/v1/portals/acme/users/${ivan.id}/recovery`,
        headers: { ...json, origin: ORIGIN },
        cookies: { lk_session: adminSession },
        payload: { channel: 'email' },
      });
      assert.equal(sent.statusCode, 202, sent.body);
      const [letter] = await smtp.waitFor((m) => m.to === 'ivan@example.com' && m.subject.includes('Acme Corp'));
      assert.ok(letter);
      assert.ok(letter.text.startsWith('Здравствуйте, Иван Петров!'), letter.text);
      assert.ok(letter.html.includes(`background:${PORTAL_COLOR}`), 'the button in the portal colour');
      assert.ok(letter.html.includes('Acme Corp · Ромашка ID'), 'the portal and the product on top');
    });

    it('refuses a portal colour that is not #rgb or #rrggbb, and "" gives the product\'s colour back', async () => {
      await assert.rejects(setPortal(t.deps, 'globex', { color: 'red;}body{display:none' }), /--color/);
      await setPortal(t.deps, 'globex', { color: '#abc' });
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/portals/globex.css' })).body.trim(), ':root { --accent: #aabbcc; }');
      await setPortal(t.deps, 'globex', { color: '' });
      assert.equal((await t.app.inject({ method: 'GET', url: '/static/portals/globex.css' })).statusCode, 404);
    });
  });
}
