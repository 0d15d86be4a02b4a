import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { launchBrowser, startServedApp, type ServedApp } from '../support/browser.js';
import { LAYOUT_LANGS, LayoutCheck, NARROW } from '../support/layout.js';
import { describePage, signIn } from '../support/page.js';

/**
 * Issue 14, items 9 and 12: the box edition's pages, and pages under a custom brand (LATCHKEY_BRAND_*) and a
 * portal's own colour, at 390 and 1280 px in ru and en (test/support/layout.ts; the cloud edition's pages
 * are in test/e2e/layout.test.ts). Screenshots go to /tmp/shots/layout-brand/.
 */

const PORTAL = { slug: 'acme', title: 'Acme Corporation Holdings' };
const OTHER = { slug: 'globex', title: 'Globex International' };
const MEMBERS = [{ login: 'konstantin.konstantinopolsky', name: 'Константин Константинопольский', email: 'konstantin.konstantinopolsky@very-long-company-domain.example.ru', phone: '+79161234567' }];

describe(`layout of the box edition and of a custom brand at ${NARROW} px (ru, en)`, () => {
  let browser: Browser;
  let box: ServedApp;
  let check: LayoutCheck;

  before(async () => {
    box = await startServedApp({ dialect: 'sqlite', env: { LATCHKEY_EDITION: 'box', LATCHKEY_BOX_PORTAL_TITLE: 'Портал компании «Ромашка»' } });
    for (const { lang } of LAYOUT_LANGS) {
      await addUser(box.testApp.deps, { login: `boss-${lang}`, email: `boss-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: 'company', role: 'admin' }] });
    }
    await addUser(box.testApp.deps, { ...MEMBERS[0]!, password: PASSWORD, portals: [{ slug: 'company', role: 'employee' }] });
    browser = await launchBrowser();
    check = new LayoutCheck(browser);
  });

  after(async () => {
    await browser?.close();
    await box?.close();
  });

  for (const { lang, browserLocale } of LAYOUT_LANGS) {
    const t = translator(lang);

    it(`${lang}: the box edition's pages`, async () => {
      const base = box.baseUrl;
      const { context, page } = await check.newPage(browserLocale);
      try {
        await check.open(base, '/login', page, { lang, name: 'box-login' });
        await check.open(base, '/recover', page, { lang, name: 'box-recover' });
        await check.open(base, `/recover/checkword?login=${MEMBERS[0]!.login}&checkword=abcdefgh`, page, { lang, name: 'box-checkword' });
        await page.goto(`${base}/login`);
        assert.equal(await signIn(page, t, `boss-${lang}`, PASSWORD), 303, await describePage(page));
        await check.look(page, { lang, name: 'box-portals' });
        await check.open(base, '/admin/company/users', page, { lang, name: 'box-admin-users' });
        await page.locator('table.list a, .members a').filter({ hasText: MEMBERS[0]!.login }).first().click();
        await page.waitForURL((u) => /\/admin\/company\/users\/[^/]+$/.test(u.pathname));
        await check.look(page, { lang, name: 'box-admin-user' });
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
      for (const { lang, browserLocale } of LAYOUT_LANGS) {
        const t = translator(lang);
        await addUser(deps, { login: `brand-${lang}`, email: `brand-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'admin' }, { slug: OTHER.slug, role: 'employee' }] });
        const { context, page } = await check.newPage(browserLocale);
        try {
          await check.open(branded.baseUrl, '/login', page, { lang, name: 'brand-login' });
          assert.equal(await page.title(), `${t('login.title')} · Ромашка ID`);
          assert.equal((await page.locator('.brand').textContent())?.trim(), 'Ромашка ID');
          assert.equal(await page.locator('.brand img.logo').evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), true, 'the inline SVG logo is drawn');
          const accent = () => page.locator('form[action="/login"] button[type="submit"]').evaluate((b) => getComputedStyle(b).backgroundColor);
          assert.equal(await accent(), 'rgb(192, 57, 43)', 'buttons in the brand colour');
          await signIn(page, t, `brand-${lang}`, PASSWORD);
          await check.look(page, { lang, name: 'brand-portals' });
          await check.open(branded.baseUrl, `/admin/${PORTAL.slug}/users`, page, { lang, name: 'brand-admin-users' });
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

  it(`no page scrolls sideways at ${NARROW} px, no header wraps`, () => {
    assert.ok(check.visited.length >= 16, `visited only ${check.visited.length} pages`);
    assert.deepEqual(check.faults, [], `pages that do not fit ${NARROW} px:\n${check.faults.join('\n')}`);
  });
});
