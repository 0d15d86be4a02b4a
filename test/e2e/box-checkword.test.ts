import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, submit } from '../support/page.js';
import { type ReceivedMail } from '../support/smtp.js';

/**
 * The box edition's checkword journey (seed B1–B2) in headless Chromium, once per language, against the
 * real app on a loopback port and a real SMTP server: "Forgot password" → login → "Send checkword" →
 * the letter → its link → the form with the checkword filled in and read-only → new password twice →
 * signed in on /portals.
 */

const NEW_PASSWORD = 'Tundra-Lantern-47-quietly';
/** Screenshots of the form kept after a login typo (issue 14 item 4). */
const SHOTS = '/tmp/shots/newcomer-fixes';
const PORTAL = 'Northwind Intranet';

interface Journey {
  lang: Locale;
  /** The browser's own language: the other one, so only `?lang=` can explain the page's language. */
  browserLocale: string;
  login: string;
  email: string;
}

const journeys: Journey[] = [
  { lang: 'ru', browserLocale: 'en-US', login: 'olga', email: 'olga@example.ru' },
  { lang: 'en', browserLocale: 'ru-RU', login: 'margaret', email: 'margaret@example.com' },
];

function checkwordLinkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/recover\/checkword\?\S+/.exec(mail.text);
  if (!match) throw new Error(`no checkword link in letter: ${mail.text}`);
  return match[0];
}

describe('e2e: box edition, recovery by checkword in the browser', { timeout: 60_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true, env: { LATCHKEY_EDITION: 'box', LATCHKEY_BOX_PORTAL_TITLE: PORTAL } }));
    base = served.baseUrl;
    const { deps } = served.testApp;
    for (const journey of journeys) {
      await addUser(deps, {
        login: journey.login,
        email: journey.email,
        password: PASSWORD,
        locale: journey.lang,
        portals: [{ slug: deps.config.boxPortal.slug, role: 'employee' }],
      });
    }
  });

  after(() => rig.stop());

  for (const journey of journeys) {
    it(`[${journey.lang}] forgot password → send checkword → letter → form → new password → portals`, { timeout: 40_000 }, async () => {
      assert.ok(browser);
      const { lang, login, email } = journey;
      const t = translator(lang);
      const context = await browser.newContext({ locale: journey.browserLocale, viewport: { width: 1000, height: 760 } });
      const problems: string[] = [];
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        // Narrower than watchProblems() in test/support/page.ts (no failed-request check, no console location).
        page.on('console', (message) => {
          if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        page.on('response', (response) => {
          if (response.request().resourceType() !== 'document' && response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
        });

        // --- Sign-in page → "Forgot password?" ---
        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        // The seed's box wording (B1): «Забыли свой пароль?».
        assert.equal((await page.getByTestId('forgot-password').textContent())?.trim(), t('login.forgotBox'));
        await page.getByTestId('forgot-password').click();
        await page.waitForURL(`${base}/recover`);
        await assertPage(page, lang, t('box.recover.title'));

        // --- Login → "Send checkword" → "check your mail" ---
        await page.getByLabel(t('box.recover.identifier'), { exact: true }).fill(login);
        const sendButton = page.getByRole('button', { name: t('box.recover.submit') });
        assert.equal((await sendButton.textContent())?.trim(), lang === 'ru' ? 'Выслать контрольную строку' : 'Send checkword');
        assert.equal(await submit(page, () => sendButton.click()), 200, await describePage(page));
        await assertPage(page, lang, t('box.sent.title'));
        assert.ok((await page.locator('main').textContent())?.includes(t('box.sent.body', { minutes: 60 })));

        // --- The letter, in the account's language, naming the portal ---
        const [letter] = await smtp.waitFor((mail) => mail.to === email);
        assert.ok(letter);
        assert.equal(letter.subject, t('box.mail.subject', { portal: PORTAL }));
        assert.ok(letter.text.includes(t('box.mail.body', { login, portal: PORTAL })), letter.text);
        const link = checkwordLinkIn(letter);
        assert.ok(link.startsWith(`${base}/recover/checkword?`), link);
        const checkword = new URL(link).searchParams.get('checkword') ?? '';
        assert.equal(new URL(link).searchParams.get('login'), login);
        assert.ok(checkword.length >= 43);

        // --- The link: the form, with the checkword off the address bar, filled in and read-only ---
        await page.goto(link);
        await page.waitForURL(`${base}/recover/checkword`);
        assert.ok(!page.url().includes(checkword), page.url());
        await assertPage(page, lang, t('box.form.title'));
        assert.equal(await page.getByLabel(t('box.form.login'), { exact: true }).inputValue(), login);
        const checkwordField = page.getByLabel(t('box.form.checkword'), { exact: true });
        assert.equal(await checkwordField.inputValue(), checkword);
        assert.equal(await checkwordField.isEditable(), false, 'the checkword is read-only');
        const changeButton = page.getByRole('button', { name: t('box.form.submit') });
        assert.equal((await changeButton.textContent())?.trim(), lang === 'ru' ? 'Изменить пароль' : 'Change password');

        // A typo in the login: the form comes back with the message, the typed login and the checkword (issue 14 item 4).
        await page.getByLabel(t('box.form.login'), { exact: true }).fill(`${login}x`);
        await page.getByLabel(t('box.form.password'), { exact: true }).fill(NEW_PASSWORD);
        await page.getByLabel(t('box.form.passwordConfirm'), { exact: true }).fill(NEW_PASSWORD);
        assert.equal(await submit(page, () => changeButton.click()), 400, await describePage(page));
        await assertPage(page, lang, t('box.form.title'));
        assert.equal((await page.getByTestId('form-error').textContent())?.trim(), t('box.form.wrongLogin'));
        assert.equal(await page.getByLabel(t('box.form.login'), { exact: true }).inputValue(), `${login}x`);
        assert.equal(await page.getByLabel(t('box.form.checkword'), { exact: true }).inputValue(), checkword);
        fs.mkdirSync(SHOTS, { recursive: true });
        for (const width of [390, 1280]) {
          await page.setViewportSize({ width, height: 800 });
          assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), `no sideways scroll at ${width} px`);
          await page.screenshot({ path: path.join(SHOTS, `checkword-typo-${lang}-${width}.png`), fullPage: true });
        }
        await page.setViewportSize({ width: 1000, height: 760 });
        await page.getByLabel(t('box.form.login'), { exact: true }).fill(login);

        // A confirmation that does not match: the form comes back with the message and the checkword.
        await page.getByLabel(t('box.form.password'), { exact: true }).fill(NEW_PASSWORD);
        await page.getByLabel(t('box.form.passwordConfirm'), { exact: true }).fill(`${NEW_PASSWORD}-typo`);
        assert.equal(await submit(page, () => changeButton.click()), 400, await describePage(page));
        assert.equal((await page.getByTestId('form-error').textContent())?.trim(), t('box.form.mismatch'));
        assert.equal(await page.getByLabel(t('box.form.checkword'), { exact: true }).inputValue(), checkword);

        // --- New password twice → "Change password" → signed in, on the portal chooser ---
        await page.getByLabel(t('box.form.password'), { exact: true }).fill(NEW_PASSWORD);
        await page.getByLabel(t('box.form.passwordConfirm'), { exact: true }).fill(NEW_PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('box.form.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals?changed=1');
        await assertPage(page, lang, t('portals.title'));
        assert.equal((await page.getByTestId('flash').textContent())?.trim(), t('passwordChanged.flash'));
        assert.deepEqual(await page.locator('ul.portals li strong').allTextContents(), [PORTAL]);

        // --- The new password signs in, the old one does not; the link works once ---
        assert.equal(await submit(page, () => page.getByTestId('sign-out').click()), 303);
        assert.equal(await signIn(page, t, login, PASSWORD), 401, await describePage(page));
        assert.equal(await signIn(page, t, login, NEW_PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await page.goto(link);
        await page.waitForURL(`${base}/recover/checkword`);
        assert.equal(await page.getByTestId('invalid-link').count(), 1);
        await assertPage(page, lang, t('box.invalid.title'));

        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
