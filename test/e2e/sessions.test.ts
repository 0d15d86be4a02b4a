import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';

/**
 * Sessions in headless Chromium, once per language (issue 13, item 1): the person signs in from two
 * browsers (the second one new to the account, so a "new sign-in" letter arrives), sees both on
 * /account/sessions, signs the other one out from the first, and the other browser is signed out.
 */

const SHOTS = '/tmp/shots';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

describe('e2e: sessions and devices', { timeout: 90_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true }));
    await addPortal(served.testApp.deps, { slug: 'acme', title: 'Acme Corp' });
  });
  after(() => rig.stop());

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: two browsers, the list shows both, the first signs the other out`, async () => {
      assert.ok(served && browser);
      const t = translator(lang);
      const login = `sveta-${lang}`;
      const email = `${login}@example.com`;
      await addUser(served.testApp.deps, { login, email, password: PASSWORD, locale: lang, portals: [{ slug: 'acme', role: 'employee' }] });
      const first = await browser.newContext({ locale: lang === 'ru' ? 'en-US' : 'ru-RU', viewport: { width: 1000, height: 760 } });
      const second = await browser.newContext({ locale: lang === 'ru' ? 'en-US' : 'ru-RU', userAgent: IPHONE });
      try {
        const a = await first.newPage();
        const b = await second.newPage();
        const problems = watchProblems(a);
        watchProblems(b, problems);
        for (const page of [a, b]) {
          await page.goto(`${served.baseUrl}/login?lang=${lang}`);
          assert.equal(await signIn(page, t, login, PASSWORD), 303, await describePage(page));
          assert.equal(pathOf(page), '/portals');
        }
        // The second browser was new to the account: one letter, in the account's language, naming it.
        const [notice] = await smtp.waitFor((m) => m.to === email);
        assert.ok(notice);
        assert.equal(notice.subject, t('mail.newSignIn.subject', { product: 'Latchkey' }));
        assert.match(notice.text, lang === 'ru' ? /Safari на iPhone/ : /Safari on iPhone/);

        await a.goto(`${served.baseUrl}/account`);
        await a.getByTestId('sessions-link').click();
        await a.waitForURL(/\/account\/sessions$/);
        await assertPage(a, lang, t('sessions.title'));
        const items = a.getByTestId('sessions').locator('li');
        assert.equal(await items.count(), 2);
        assert.match((await a.locator('li[data-current="true"]').textContent()) ?? '', new RegExp(t('sessions.current')));
        assert.match((await a.getByTestId('sessions').textContent()) ?? '', lang === 'ru' ? /Safari на iPhone/ : /Safari on iPhone/);
        await shoot(a, `sessions-${lang}`);

        assert.equal(await submit(a, () => a.getByTestId('sign-out-session').click()), 303, await describePage(a));
        assert.equal(pathOf(a), '/account/sessions?done=one');
        assert.equal(((await a.getByTestId('flash').textContent()) ?? '').trim(), t('sessions.done.one'));
        assert.equal(await items.count(), 1);
        assert.equal(((await a.getByTestId('only-this').textContent()) ?? '').trim(), t('sessions.onlyThis'));

        await b.goto(`${served.baseUrl}/portals`);
        assert.equal(pathOf(b), '/login', 'the other browser is signed out');
        await a.goto(`${served.baseUrl}/portals`);
        assert.equal(pathOf(a), '/portals', 'the first one is not');
        assert.deepEqual(problems, []);
      } finally {
        await first.close();
        await second.close();
      }
    });
  }
});
