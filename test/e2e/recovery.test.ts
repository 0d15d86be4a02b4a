import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, signOut, submit, watchProblems } from '../support/page.js';
import { linkIn } from '../support/smtp.js';

/**
 * The whole e-mail recovery journey in headless Chromium, once per language, against the real app on
 * a loopback port and a real SMTP server: sign in, sign out, ask for a link, follow it from the letter,
 * set a new password (a weak one first), choose a portal, and check which password works afterwards.
 */

const NEW_PASSWORD = 'Tundra-Lantern-47-quietly';
const WEAK_PASSWORD = 'password123';
const PRODUCT = 'Latchkey';

interface Journey {
  lang: Locale;
  /** The browser's own language (Accept-Language): the other one, so only `?lang=` can explain the page's language. */
  browserLocale: string;
  login: string;
  email: string;
  portals: Array<{ slug: string; title: string; role: 'admin' | 'employee' }>;
}

const journeys: Journey[] = [
  {
    lang: 'en',
    browserLocale: 'ru-RU',
    login: 'margaret',
    email: 'margaret@example.com',
    portals: [
      { slug: 'northwind-support', title: 'Northwind Support', role: 'admin' },
      { slug: 'northwind-billing', title: 'Northwind Billing', role: 'employee' },
    ],
  },
  {
    lang: 'ru',
    browserLocale: 'en-US',
    login: 'olga',
    email: 'olga@example.ru',
    portals: [
      { slug: 'romashka-sklad', title: 'Ромашка: склад', role: 'employee' },
      { slug: 'romashka-buh', title: 'Ромашка: бухгалтерия', role: 'admin' },
    ],
  },
];

const other = (lang: Locale): Locale => (lang === 'ru' ? 'en' : 'ru');

describe('e2e: e-mail password recovery in the browser', { timeout: 60_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true }));
    base = served.baseUrl;
    const { deps } = served.testApp;
    for (const journey of journeys) {
      for (const portal of journey.portals) await addPortal(deps, { slug: portal.slug, title: portal.title });
      await addUser(deps, {
        login: journey.login,
        email: journey.email,
        password: PASSWORD,
        locale: journey.lang,
        portals: journey.portals.map(({ slug, role }) => ({ slug, role })),
      });
    }
  });

  after(() => rig.stop());

  for (const journey of journeys) {
    it(`[${journey.lang}] sign in, recover by e-mail, choose a portal, old password refused`, { timeout: 40_000 }, async () => {
      assert.ok(browser);
      const { lang, login, email } = journey;
      const t = translator(lang);
      const context = await browser.newContext({ locale: journey.browserLocale, viewport: { width: 1000, height: 760 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        // A CSP violation, a script error or a missing stylesheet shows up here; 4xx pages (401, 422, 400
        // below) are expected.
        const problems = watchProblems(page);

        // --- The sign-in page, in the language asked for (not the browser's) ---
        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        assert.equal(await page.getByTestId('forgot-password').textContent(), t('login.forgot'));

        // The language switch: the other language's link changes the texts, and back.
        const there = translator(other(lang));
        await page.locator(`.lang a[hreflang="${other(lang)}"]`).click();
        await page.waitForURL(`${base}/login?lang=${other(lang)}`);
        await assertPage(page, other(lang), there('login.title'));
        assert.equal(await page.getByTestId('forgot-password').textContent(), there('login.forgot'));
        await page.locator(`.lang a[hreflang="${lang}"]`).click();
        await page.waitForURL(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));

        // --- Sign in with the password, see the portals, sign out ---
        assert.equal(await signIn(page, t, login, PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await assertPage(page, lang, t('portals.title'));
        assert.deepEqual(new Set(await page.locator('ul.portals li strong').allTextContents()), new Set(journey.portals.map((p) => p.title)));
        await signOut(page);
        await assertPage(page, lang, t('login.title'));

        // --- Forgot password → "check your mail" ---
        await page.getByTestId('forgot-password').click();
        await page.waitForURL(`${base}/recover`);
        await assertPage(page, lang, t('recover.title'));
        await page.getByLabel(t('recover.identifier')).fill(login);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('recover.submit') }).click()), 200, await describePage(page));
        assert.equal(await page.getByTestId('recover-sent').count(), 1);
        await assertPage(page, lang, t('recover.sent.title'));
        assert.ok((await page.locator('main').textContent())?.includes(t('recover.sent.body', { minutes: 60 })));

        // --- The letter, in the account's language ---
        const [letter] = await smtp.waitFor((mail) => mail.to === email);
        assert.ok(letter);
        assert.equal(letter.subject, t('mail.recovery.subject', { product: PRODUCT }));
        // No name on this account: the letter greets by login.
        assert.ok(letter.text.includes(t('mail.greeting', { name: login })), letter.text);
        const link = linkIn(letter);
        assert.ok(link.startsWith(`${base}/recover/email/`), link);
        const token = link.slice(`${base}/recover/email/`.length);

        // --- The link: the form is shown, the token is off the address bar ---
        await page.goto(link);
        await page.waitForURL(`${base}/recover/password`);
        assert.ok(!page.url().includes(token), page.url());
        await assertPage(page, lang, t('reset.title'));
        assert.ok((await page.locator('main').textContent())?.includes(t('reset.intro', { login })));
        await page.screenshot({ path: path.join(os.tmpdir(), `latchkey-e2e-${lang}-new-password.png`), fullPage: true });
        // The login is in the form for password managers only: present, but not shown as a text box.
        const usernameHint = page.locator('form[action="/recover/password"] input[name="username"]');
        assert.equal(await usernameHint.getAttribute('autocomplete'), 'username');
        assert.equal(await usernameHint.isVisible(), false, 'the hidden username field of the new-password form is visible');

        // A weak password: refused in the page's language, the form stays and the link still works.
        await page.getByLabel(t('reset.password')).fill(WEAK_PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('reset.submit') }).click()), 422, await describePage(page));
        assert.equal(pathOf(page), '/recover/password');
        await assertPage(page, lang, t('reset.title'));
        assert.equal((await page.getByTestId('form-error').textContent())?.trim(), t('weak.common'));

        // A good one: signed in, on the chooser with the notice.
        await page.getByLabel(t('reset.password')).fill(NEW_PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('reset.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals?changed=1');
        await assertPage(page, lang, t('portals.title'));
        assert.equal((await page.getByTestId('flash').textContent())?.trim(), t('passwordChanged.flash'));
        assert.ok((await page.locator('main').textContent())?.includes(t('portals.intro', { login })));
        const entries = page.locator('ul.portals li');
        assert.equal(await entries.count(), journey.portals.length);
        for (const portal of journey.portals) {
          const entry = page.locator(`ul.portals li[data-portal="${portal.slug}"]`);
          assert.equal(await entry.locator('strong').textContent(), portal.title);
          assert.equal((await entry.locator('a.button').textContent())?.trim(), t('portals.enter'));
          assert.equal(await entry.getByTestId('administer').count(), portal.role === 'admin' ? 1 : 0);
          assert.equal(await entry.locator('small').count(), portal.role === 'admin' ? 1 : 0);
        }
        await page.screenshot({ path: path.join(os.tmpdir(), `latchkey-e2e-${lang}-portals.png`), fullPage: true });

        // The notice that the password changed, also in the account's language.
        const letters = await smtp.waitFor((mail) => mail.to === email, 2);
        assert.equal(letters[1]?.subject, t('mail.changed.subject', { product: PRODUCT }));

        // "Sign in" next to a portal → its landing page.
        const chosen = journey.portals[1];
        assert.ok(chosen);
        await page.locator(`ul.portals li[data-portal="${chosen.slug}"]`).getByRole('link', { name: t('portals.enter') }).click();
        await page.waitForURL(`${base}/portals/${chosen.slug}`);
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        assert.equal(await page.getByTestId('portal-landing').textContent(), t('portal.landing', { title: chosen.title, login }));

        // --- The old password no longer works, the new one does ---
        await signOut(page);
        assert.equal(await signIn(page, t, login, PASSWORD), 401, await describePage(page));
        assert.equal(pathOf(page), '/login');
        await assertPage(page, lang, t('login.title'));
        assert.equal((await page.getByTestId('form-error').textContent())?.trim(), t('login.failed'));
        assert.equal(await signIn(page, t, login, NEW_PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await assertPage(page, lang, t('portals.title'));
        assert.equal(await page.getByTestId('flash').count(), 0);

        // The link from the letter works once; opened again it says the password is already changed (issue 14 item 5).
        assert.equal((await page.goto(link))?.status(), 400);
        assert.equal(await page.getByTestId('password-already-changed').count(), 1);
        await assertPage(page, lang, t('reset.done.title'));
        assert.equal(await page.getByTestId('invalid-link').count(), 0);

        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
