import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { addClient } from '../../src/oidc/clients.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { launchBrowser, startServedApp, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { LAYOUT_LANGS, LayoutCheck, NARROW, outboxLink } from '../support/layout.js';
import { describePage, signIn, submit } from '../support/page.js';
import { enrolThroughFlows } from '../support/second-factor.js';

/**
 * Issue 14, item 9: every page a person can reach in the cloud edition, signed out and signed in, in Russian
 * and English, at a phone's 390 px and a desktop's 1280 px (test/support/layout.ts). A page wider than the
 * window (it scrolls sideways) or a header on two lines fails the test; every page is also saved as a
 * screenshot into /tmp/shots/layout-brand/ to be looked at. The box edition and a custom brand are in
 * test/e2e/layout-box-brand.test.ts. On SQLite: this is about what the browser draws.
 */

const PORTAL = { slug: 'acme', title: 'Acme Corporation Holdings' };
const OTHER = { slug: 'globex', title: 'Globex International' };
const CALLBACK = 'http://127.0.0.1:9/callback';

/** People with long names and long contacts on purpose: what a table has to fit at 390 px. */
const MEMBERS = [
  { login: 'konstantin.konstantinopolsky', name: 'Константин Константинопольский', email: 'konstantin.konstantinopolsky@very-long-company-domain.example.ru', phone: '+79161234567' },
  { login: 'walter', name: 'Walter Bishop', email: 'walter.bishop@example.com', phone: '+447911123456' },
  { login: 'petr', name: 'Пётр Сидоров', email: 'petr@example.ru', phone: '+79161234568' },
];

describe(`layout of the cloud edition: no page scrolls sideways at ${NARROW} px (ru, en)`, () => {
  let browser: Browser;
  let cloud: ServedApp;
  let check: LayoutCheck;

  before(async () => {
    const clock = new FakeClock(Date.now());
    cloud = await startServedApp({
      dialect: 'sqlite',
      clock,
      env: { LATCHKEY_SOCIAL_CORP_ISSUER: 'http://127.0.0.1:9', LATCHKEY_SOCIAL_CORP_CLIENT_ID: 'latchkey', LATCHKEY_SOCIAL_CORP_TITLE: 'Corporate SSO' },
    });
    const deps = cloud.testApp.deps;
    await addPortal(deps, PORTAL);
    await addPortal(deps, OTHER);
    await addClient(deps, { clientId: 'globex-app', portalSlug: OTHER.slug, redirectUris: [CALLBACK] }, false);
    for (const { lang } of LAYOUT_LANGS) {
      await addUser(deps, { login: `admin-${lang}`, name: lang === 'ru' ? 'Алла Петрова' : 'Anna Grant', email: `admin-${lang}@example.com`, phone: lang === 'ru' ? '+79160000001' : '+447900000001', password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'admin' }] });
      await addUser(deps, { login: `guest-${lang}`, email: `guest-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: OTHER.slug, role: 'employee' }] });
      const totp = await addUser(deps, { login: `totp-${lang}`, email: `totp-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'employee' }] });
      await enrolThroughFlows(deps, totp.id, PASSWORD, clock);
    }
    for (const member of MEMBERS) await addUser(deps, { ...member, password: PASSWORD, portals: [{ slug: PORTAL.slug, role: 'employee' }] });
    browser = await launchBrowser();
    check = new LayoutCheck(browser);
  });

  after(async () => {
    await browser?.close();
    await cloud?.close();
  });

  for (const { lang, browserLocale } of LAYOUT_LANGS) {
    const t = translator(lang);

    it(`${lang}: signed-out pages of the cloud edition`, async () => {
      const base = cloud.baseUrl;
      const { context, page } = await check.newPage(browserLocale);
      try {
        await check.open(base, '/login', page, { lang, name: 'login' });
        await page.getByLabel(t('login.identifier')).fill(`nobody-${lang}`);
        await page.getByLabel(t('login.password')).fill('wrong-password-here');
        await submit(page, () => page.locator('form[action="/login"] button[type="submit"]').click());
        await check.look(page, { lang, name: 'login-error' });
        await check.open(base, '/recover', page, { lang, name: 'recover' });
        await page.getByLabel(t('recover.identifier')).fill(`admin-${lang}`);
        await submit(page, () => page.locator('form[action="/recover"] button[type="submit"]').click());
        await check.look(page, { lang, name: 'recover-sent' });
        await page.goto(await outboxLink(page, base, '/recover/email/'));
        await check.look(page, { lang, name: 'recover-password' });
        await check.open(base, '/recover/email/not-a-real-token-at-all-0123456789abcdefgh', page, { lang, name: 'recover-invalid-link' });
        await check.open(base, '/recover/phone', page, { lang, name: 'recover-phone' });
        await page.getByLabel(t('phone.number')).fill(lang === 'ru' ? '+79160000001' : '+447900000001');
        await submit(page, () => page.locator('form[action="/recover/phone"] button[type="submit"]').click());
        await check.look(page, { lang, name: 'recover-phone-code' });
        await check.open(base, '/recover/phone/help', page, { lang, name: 'recover-phone-help' });
        await check.open(base, '/auth/corp/callback?state=x&code=y', page, { lang, name: 'social-error' });
        await check.open(base, '/oidc/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb', page, { lang, name: 'oidc-error' });
        await check.open(base, '/no/such/page', page, { lang, name: 'not-found' });
        await check.open(base, '/dev/outbox', page, { lang, name: 'dev-outbox' });
        // The second factor's step after a right password.
        await page.goto(`${base}/login`);
        await signIn(page, t, `totp-${lang}`, PASSWORD);
        assert.equal(new URL(page.url()).pathname, '/login/2fa', await describePage(page));
        await check.look(page, { lang, name: 'login-2fa' });
      } finally {
        await context.close();
      }
    });

    it(`${lang}: signed-in pages and the admin console of the cloud edition`, async () => {
      const base = cloud.baseUrl;
      const { context, page } = await check.newPage(browserLocale);
      try {
        await page.goto(`${base}/login`);
        assert.equal(await signIn(page, t, `admin-${lang}`, PASSWORD), 303, await describePage(page));
        await check.look(page, { lang, name: 'portals' });
        await check.open(base, `/portals/${PORTAL.slug}`, page, { lang, name: 'portal-landing' });
        await check.open(base, '/account', page, { lang, name: 'account' });
        await check.open(base, '/account/sessions', page, { lang, name: 'account-sessions' });
        await check.open(base, '/account/2fa', page, { lang, name: 'account-2fa' });
        await check.open(base, '/admin', page, { lang, name: 'admin-portals' });
        await check.open(base, `/admin/${PORTAL.slug}/users`, page, { lang, name: 'admin-users' });
        await check.open(base, `/admin/${PORTAL.slug}/users?query=${encodeURIComponent('konstantin')}`, page, { lang, name: 'admin-users-search' });
        await page.locator('table.list a, .members a').filter({ hasText: MEMBERS[0]!.login }).first().click();
        await page.waitForURL((u) => /\/admin\/acme\/users\/[^/]+$/.test(u.pathname));
        await check.look(page, { lang, name: 'admin-user' });
        await check.open(base, `/admin/${PORTAL.slug}/invite`, page, { lang, name: 'admin-invite' });
        await page.getByLabel(t('admin.invite.email')).fill(`guest-${lang}@example.com`);
        await submit(page, () => page.getByTestId('invite').click());
        await check.look(page, { lang, name: 'admin-invite-sent' });
        await check.open(base, `/admin/${PORTAL.slug}/audit`, page, { lang, name: 'admin-audit' });
        await check.open(base, `/admin/${OTHER.slug}/users`, page, { lang, name: 'admin-not-admin' });
        await check.open(base, `/oidc/auth?${new URLSearchParams({ client_id: 'globex-app', response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString()}`, page, { lang, name: 'oidc-not-member' });
        await check.open(base, '/oidc/session/end', page, { lang, name: 'oidc-logout' });
      } finally {
        await context.close();
      }
      // The invited passport opens its invitation while signed in.
      const guest = await check.newPage(browserLocale);
      try {
        const link = await outboxLink(guest.page, base, '/invitations/');
        await guest.page.goto(`${base}/login`);
        assert.equal(await signIn(guest.page, t, `guest-${lang}`, PASSWORD), 303, await describePage(guest.page));
        await guest.page.goto(link);
        await check.look(guest.page, { lang, name: 'invitation' });
      } finally {
        await guest.context.close();
      }
    });
  }

  it(`no page scrolls sideways at ${NARROW} px, no header wraps`, () => {
    assert.ok(check.visited.length >= 50, `visited only ${check.visited.length} pages`);
    assert.deepEqual(check.faults, [], `pages that do not fit ${NARROW} px:\n${check.faults.join('\n')}`);
  });
});
