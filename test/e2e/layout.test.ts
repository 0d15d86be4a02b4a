import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { addClient } from '../../src/oidc/clients.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { launchBrowser, startServedApp, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { describePage, pathOf, signIn, submit, watchProblems } from '../support/page.js';
import { enrolThroughFlows } from '../support/second-factor.js';

/**
 * Issue 14, item 9: every page a person can reach, signed out and signed in, in Russian and English, at a
 * phone's 390 px and a desktop's 1280 px. A page wider than the window (the page scrolls sideways) fails
 * the test; every page is also saved as a screenshot into /tmp/shots/layout-brand/ to be looked at.
 * One served app per edition (cloud, box), on SQLite: this is about what the browser draws.
 */

const SHOTS = '/tmp/shots/layout-brand';
const NARROW = 390;
const WIDE = 1280;
const HEIGHT = 844;
const LANGS: Array<{ lang: Locale; browserLocale: string }> = [
  { lang: 'ru', browserLocale: 'ru-RU' },
  { lang: 'en', browserLocale: 'en-US' },
];
const PORTAL = { slug: 'acme', title: 'Acme Corporation Holdings' };
const OTHER = { slug: 'globex', title: 'Globex International' };
const CALLBACK = 'http://127.0.0.1:9/callback';

/** People with long names and long contacts on purpose: what a table has to fit at 390 px. */
const MEMBERS = [
  { login: 'konstantin.konstantinopolsky', name: 'Константин Константинопольский', email: 'konstantin.konstantinopolsky@very-long-company-domain.example.ru', phone: '+79161234567' },
  { login: 'walter', name: 'Walter Bishop', email: 'walter.bishop@example.com', phone: '+447911123456' },
  { login: 'petr', name: 'Пётр Сидоров', email: 'petr@example.ru', phone: '+79161234568' },
];

/** The page's widths where it is wider than the window, measured as the browser lays it out. */
async function sidewaysScroll(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

/** The height of the page's header (one line of links at a desktop's width). */
async function headerHeight(page: Page): Promise<number> {
  return page.evaluate(() => Math.round(document.querySelector('header.top')?.getBoundingClientRect().height ?? 0));
}

interface Visit {
  lang: Locale;
  /** What a person sees: the file name of the screenshot and the name in the failure list. */
  name: string;
}

describe('layout: no page scrolls sideways at 390 px (ru, en)', () => {
  let browser: Browser;
  let cloud: ServedApp;
  let box: ServedApp;
  let clock: FakeClock;
  const overflows: string[] = [];
  const problems: string[] = [];
  const visited: string[] = [];

  before(async () => {
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
    clock = new FakeClock(Date.now());
    cloud = await startServedApp({
      dialect: 'sqlite',
      clock,
      env: { LATCHKEY_SOCIAL_CORP_ISSUER: 'http://127.0.0.1:9', LATCHKEY_SOCIAL_CORP_CLIENT_ID: 'latchkey', LATCHKEY_SOCIAL_CORP_TITLE: 'Corporate SSO' },
    });
    const deps = cloud.testApp.deps;
    await addPortal(deps, PORTAL);
    await addPortal(deps, OTHER);
    await addClient(deps, { clientId: 'globex-app', portalSlug: OTHER.slug, redirectUris: [CALLBACK] }, false);
    for (const { lang } of LANGS) {
      await addUser(deps, { login: `admin-${lang}`, name: lang === 'ru' ? 'Алла Петрова' : 'Anna Grant', email: `admin-${lang}@example.com`, phone: lang === 'ru' ? '+79160000001' : '+447900000001', password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'admin' }] });
      await addUser(deps, { login: `guest-${lang}`, email: `guest-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: OTHER.slug, role: 'employee' }] });
      const totp = await addUser(deps, { login: `totp-${lang}`, email: `totp-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'employee' }] });
      await enrolThroughFlows(deps, totp.id, PASSWORD, clock);
    }
    for (const member of MEMBERS) await addUser(deps, { ...member, password: PASSWORD, portals: [{ slug: PORTAL.slug, role: 'employee' }] });
    box = await startServedApp({ dialect: 'sqlite', env: { LATCHKEY_EDITION: 'box', LATCHKEY_BOX_PORTAL_TITLE: 'Портал компании «Ромашка»' } });
    for (const { lang } of LANGS) {
      await addUser(box.testApp.deps, { login: `boss-${lang}`, email: `boss-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: 'company', role: 'admin' }] });
    }
    await addUser(box.testApp.deps, { ...MEMBERS[0]!, password: PASSWORD, portals: [{ slug: 'company', role: 'employee' }] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cloud?.close();
    await box?.close();
  });

  /**
   * Measures the page at 390 px (a sideways scroll, or a header taller than on a desktop, i.e. wrapped onto
   * a second line, is recorded), then saves it at 390 and 1280 px.
   */
  async function look(page: Page, visit: Visit): Promise<void> {
    visited.push(`${visit.lang}/${visit.name}`);
    const where = `${visit.lang} ${visit.name} (${pathOf(page)})`;
    await page.setViewportSize({ width: NARROW, height: HEIGHT });
    const narrow = await sidewaysScroll(page);
    if (narrow.scrollWidth > narrow.innerWidth) overflows.push(`${where}: ${narrow.scrollWidth} px wide in a ${narrow.innerWidth} px window`);
    const narrowHeader = await headerHeight(page);
    await page.screenshot({ path: path.join(SHOTS, `${visit.lang}-${visit.name}-${NARROW}.png`), fullPage: true });
    await page.setViewportSize({ width: WIDE, height: HEIGHT });
    const wideHeader = await headerHeight(page);
    if (narrowHeader > wideHeader + 1) overflows.push(`${where}: the header wraps at ${NARROW} px (${narrowHeader} px tall, ${wideHeader} px at ${WIDE} px)`);
    await page.screenshot({ path: path.join(SHOTS, `${visit.lang}-${visit.name}-${WIDE}.png`), fullPage: true });
    await page.setViewportSize({ width: NARROW, height: HEIGHT });
  }

  async function open(base: string, address: string, page: Page, visit: Visit): Promise<void> {
    await page.goto(new URL(address, base).href);
    await look(page, visit);
  }

  async function newPage(browserLocale: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ locale: browserLocale, viewport: { width: NARROW, height: HEIGHT } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watchProblems(page, problems);
    return { context, page };
  }

  /** The newest link in /dev/outbox whose address starts with `prefix`, waiting for the worker to send it. */
  async function outboxLink(page: Page, base: string, prefix: string): Promise<string> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await page.goto(`${base}/dev/outbox`);
      const links = await page.getByTestId('outbox-link').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('href') ?? ''));
      const found = links.find((href) => href.startsWith(`${base}${prefix}`));
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${prefix} link in the outbox`);
  }

  for (const { lang, browserLocale } of LANGS) {
    const t = translator(lang);

    it(`${lang}: signed-out pages of the cloud edition`, async () => {
      const base = cloud.baseUrl;
      const { context, page } = await newPage(browserLocale);
      try {
        await open(base, '/login', page, { lang, name: 'login' });
        await page.getByLabel(t('login.identifier')).fill(`nobody-${lang}`);
        await page.getByLabel(t('login.password')).fill('wrong-password-here');
        await submit(page, () => page.locator('form[action="/login"] button[type="submit"]').click());
        await look(page, { lang, name: 'login-error' });
        await open(base, '/recover', page, { lang, name: 'recover' });
        await page.getByLabel(t('recover.identifier')).fill(`admin-${lang}`);
        await submit(page, () => page.locator('form[action="/recover"] button[type="submit"]').click());
        await look(page, { lang, name: 'recover-sent' });
        await page.goto(await outboxLink(page, base, '/recover/email/'));
        await look(page, { lang, name: 'recover-password' });
        await open(base, '/recover/email/not-a-real-token-at-all-0123456789abcdefgh', page, { lang, name: 'recover-invalid-link' });
        await open(base, '/recover/phone', page, { lang, name: 'recover-phone' });
        await page.getByLabel(t('phone.number')).fill(lang === 'ru' ? '+79160000001' : '+447900000001');
        await submit(page, () => page.locator('form[action="/recover/phone"] button[type="submit"]').click());
        await look(page, { lang, name: 'recover-phone-code' });
        await open(base, '/recover/phone/help', page, { lang, name: 'recover-phone-help' });
        await open(base, '/auth/corp/callback?state=x&code=y', page, { lang, name: 'social-error' });
        await open(base, '/oidc/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb', page, { lang, name: 'oidc-error' });
        await open(base, '/no/such/page', page, { lang, name: 'not-found' });
        await open(base, '/dev/outbox', page, { lang, name: 'dev-outbox' });
        // The second factor's step after a right password.
        await page.goto(`${base}/login`);
        await signIn(page, t, `totp-${lang}`, PASSWORD);
        assert.equal(new URL(page.url()).pathname, '/login/2fa', await describePage(page));
        await look(page, { lang, name: 'login-2fa' });
      } finally {
        await context.close();
      }
    });

    it(`${lang}: signed-in pages and the admin console of the cloud edition`, async () => {
      const base = cloud.baseUrl;
      const { context, page } = await newPage(browserLocale);
      try {
        await page.goto(`${base}/login`);
        assert.equal(await signIn(page, t, `admin-${lang}`, PASSWORD), 303, await describePage(page));
        await look(page, { lang, name: 'portals' });
        await open(base, `/portals/${PORTAL.slug}`, page, { lang, name: 'portal-landing' });
        await open(base, '/account', page, { lang, name: 'account' });
        await open(base, '/account/sessions', page, { lang, name: 'account-sessions' });
        await open(base, '/account/2fa', page, { lang, name: 'account-2fa' });
        await open(base, '/admin', page, { lang, name: 'admin-portals' });
        await open(base, `/admin/${PORTAL.slug}/users`, page, { lang, name: 'admin-users' });
        await open(base, `/admin/${PORTAL.slug}/users?query=${encodeURIComponent('konstantin')}`, page, { lang, name: 'admin-users-search' });
        await page.locator('table.list a, .members a').filter({ hasText: MEMBERS[0]!.login }).first().click();
        await page.waitForURL((u) => /\/admin\/acme\/users\/[^/]+$/.test(u.pathname));
        await look(page, { lang, name: 'admin-user' });
        await open(base, `/admin/${PORTAL.slug}/invite`, page, { lang, name: 'admin-invite' });
        await page.getByLabel(t('admin.invite.email')).fill(`guest-${lang}@example.com`);
        await submit(page, () => page.getByTestId('invite').click());
        await look(page, { lang, name: 'admin-invite-sent' });
        await open(base, `/admin/${PORTAL.slug}/audit`, page, { lang, name: 'admin-audit' });
        await open(base, `/admin/${OTHER.slug}/users`, page, { lang, name: 'admin-not-admin' });
        await open(base, `/oidc/auth?${new URLSearchParams({ client_id: 'globex-app', response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }).toString()}`, page, { lang, name: 'oidc-not-member' });
        await open(base, '/oidc/session/end', page, { lang, name: 'oidc-logout' });
      } finally {
        await context.close();
      }
      // The invited passport opens its invitation while signed in.
      const guest = await newPage(browserLocale);
      try {
        const link = await outboxLink(guest.page, base, '/invitations/');
        await guest.page.goto(`${base}/login`);
        assert.equal(await signIn(guest.page, t, `guest-${lang}`, PASSWORD), 303, await describePage(guest.page));
        await guest.page.goto(link);
        await look(guest.page, { lang, name: 'invitation' });
      } finally {
        await guest.context.close();
      }
    });

    it(`${lang}: the box edition's pages`, async () => {
      const base = box.baseUrl;
      const { context, page } = await newPage(browserLocale);
      try {
        await open(base, '/login', page, { lang, name: 'box-login' });
        await open(base, '/recover', page, { lang, name: 'box-recover' });
        await open(base, `/recover/checkword?login=${MEMBERS[0]!.login}&checkword=abcdefgh`, page, { lang, name: 'box-checkword' });
        await page.goto(`${base}/login`);
        assert.equal(await signIn(page, t, `boss-${lang}`, PASSWORD), 303, await describePage(page));
        await look(page, { lang, name: 'box-portals' });
        await open(base, '/admin/company/users', page, { lang, name: 'box-admin-users' });
        await page.locator('table.list a, .members a').filter({ hasText: MEMBERS[0]!.login }).first().click();
        await page.waitForURL((u) => /\/admin\/company\/users\/[^/]+$/.test(u.pathname));
        await look(page, { lang, name: 'box-admin-user' });
      } finally {
        await context.close();
      }
    });
  }

  // Last: the brand is the process's (src/ui/brand.ts), so this app's brand is every app's from here on.
  it('a custom brand (name, inline SVG logo, colour) and a portal colour, ru and en', async () => {
    const logo = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="11" fill="#f1c40f"/><circle cx="12" cy="12" r="5" fill="#fff"/></svg>';
    const branded = await startServedApp({
      dialect: 'sqlite',
      env: { LATCHKEY_BRAND_NAME: 'Ромашка ID', LATCHKEY_BRAND_LOGO_SVG: logo, LATCHKEY_BRAND_COLOR: '#c0392b' },
    });
    try {
      const deps = branded.testApp.deps;
      await addPortal(deps, { ...PORTAL, color: '#1e8449' });
      await addPortal(deps, OTHER);
      for (const { lang, browserLocale } of LANGS) {
        const t = translator(lang);
        await addUser(deps, { login: `brand-${lang}`, email: `brand-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'admin' }, { slug: OTHER.slug, role: 'employee' }] });
        const { context, page } = await newPage(browserLocale);
        try {
          await open(branded.baseUrl, '/login', page, { lang, name: 'brand-login' });
          assert.equal(await page.title(), `${t('login.title')} · Ромашка ID`);
          assert.equal((await page.locator('.brand').textContent())?.trim(), 'Ромашка ID');
          assert.equal(await page.locator('.brand img.logo').evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), true, 'the inline SVG logo is drawn');
          const accent = () => page.locator('form[action="/login"] button[type="submit"]').evaluate((b) => getComputedStyle(b).backgroundColor);
          assert.equal(await accent(), 'rgb(192, 57, 43)', 'buttons in the brand colour');
          await signIn(page, t, `brand-${lang}`, PASSWORD);
          await look(page, { lang, name: 'brand-portals' });
          await open(branded.baseUrl, `/admin/${PORTAL.slug}/users`, page, { lang, name: 'brand-admin-users' });
          const search = await page.locator('form.search button').evaluate((b) => getComputedStyle(b).backgroundColor);
          assert.equal(search, 'rgb(30, 132, 73)', "the portal's own colour on its console");
        } finally {
          await context.close();
        }
      }
    } finally {
      await branded.close();
    }
  });

  it('no page scrolls sideways at 390 px', () => {
    assert.ok(visited.length >= 60, `visited only ${visited.length} pages`);
    assert.deepEqual(overflows, [], `pages wider than a 390 px window:\n${overflows.join('\n')}`);
  });
});
