import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { findAccountByIdentifier } from '../../src/store/accounts.repo.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';

/**
 * E-mail and phone change in headless Chromium, once per language (issue 13, item 2): from /account the
 * person asks for a new e-mail (a wrong password first), the link in the letter is opened in another
 * browser that is not signed in, and its form lands the change; then a new phone, with the texted code
 * (a wrong one first). Screenshots at 390 and 1280 px of every new page.
 */

const SHOTS = '/tmp/shots/contact-change';

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

describe('e2e: e-mail and phone change', { timeout: 120_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  const gateway = new TestSmsGateway();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true, env: { LATCHKEY_SMS_WEBHOOK_URL: await gateway.start() } }));
    await addPortal(served.testApp.deps, { slug: 'acme', title: 'Acme Corp' });
  });
  after(async () => {
    try {
      await rig.stop();
    } finally {
      await gateway.stop();
    }
  });

  const phoneOf = (lang: Locale) => (lang === 'ru' ? '+79165550101' : '+79165550202');
  const newPhoneOf = (lang: Locale) => (lang === 'ru' ? '+79165550303' : '+79165550404');

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: changes the e-mail through the letter's link, then the phone with the texted code`, async () => {
      assert.ok(served && browser);
      const t = translator(lang);
      const login = `nina-${lang}`;
      const email = `${login}@example.com`;
      const newEmail = `${login}.new@example.com`;
      await addUser(served.testApp.deps, { login, email, phone: phoneOf(lang), password: PASSWORD, locale: lang, portals: [{ slug: 'acme', role: 'employee' }] });
      const browserLocale = lang === 'ru' ? 'ru-RU' : 'en-US';
      const mine = await browser.newContext({ locale: browserLocale, viewport: { width: 1000, height: 760 } });
      const elsewhere = await browser.newContext({ locale: browserLocale, viewport: { width: 1000, height: 760 } });
      try {
        const page = await mine.newPage();
        const problems = watchProblems(page);
        await page.goto(`${served.baseUrl}/login?lang=${lang}`);
        assert.equal(await signIn(page, t, login, PASSWORD), 303, await describePage(page));

        // E-mail: from /account to the form; a wrong password re-shows it with the address kept.
        await page.goto(`${served.baseUrl}/account`);
        await page.getByTestId('change-email').click();
        await page.waitForURL(/\/account\/email$/);
        await assertPage(page, lang, t('contact.email.title'));
        await page.getByTestId('new-contact').fill(newEmail);
        await page.getByTestId('password').fill('not-my-password');
        assert.equal(await submit(page, () => page.getByTestId('send').click()), 401, await describePage(page));
        assert.match(await page.locator('main').innerText(), new RegExp(t('contact.wrongPassword')));
        assert.equal(await page.getByTestId('new-contact').inputValue(), newEmail);
        await shoot(page, `email-form-error-${lang}`);
        await page.getByTestId('password').fill(PASSWORD);
        assert.equal(await submit(page, () => page.getByTestId('send').click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/account/email?sent=1');
        await assertPage(page, lang, t('contact.sent.title'));
        assert.match(await page.locator('main').innerText(), new RegExp(newEmail.replace(/\./g, '\\.')));
        await shoot(page, `email-sent-${lang}`);

        // The letter to the new address; the old one got the notice, in the account's language.
        const [letter] = await smtp.waitFor((m) => m.to === newEmail);
        const [notice] = await smtp.waitFor((m) => m.to === email && m.subject === t('mail.contactNotice.subject.email', { product: 'Latchkey' }));
        assert.ok(letter && notice);
        assert.equal(letter.subject, t('mail.emailChange.subject', { product: 'Latchkey' }));
        const link = /https?:\/\/\S+\/account\/email\/[A-Za-z0-9_-]+/.exec(letter.text)?.[0];
        assert.ok(link);

        // Opened in a browser that is not signed in: the token leaves the address bar, a form asks to confirm.
        const other = await elsewhere.newPage();
        watchProblems(other, problems);
        await other.goto(link);
        assert.equal(pathOf(other), '/account/email/confirm');
        await assertPage(other, lang, t('contact.confirm.title'));
        assert.match((await other.getByTestId('confirm-body').textContent()) ?? '', new RegExp(login));
        await shoot(other, `email-confirm-${lang}`);
        assert.equal(await submit(other, () => other.getByTestId('confirm-email').click()), 200, await describePage(other));
        await assertPage(other, lang, t('contact.confirmed.title'));
        await shoot(other, `email-changed-${lang}`);

        await page.goto(`${served.baseUrl}/account`);
        assert.match((await page.getByTestId('account-email').textContent()) ?? '', new RegExp(newEmail.replace(/\./g, '\\.')));

        // Phone: the form, the code screen (a wrong code first), then the account with the new number.
        await page.getByTestId('change-phone').click();
        await page.waitForURL(/\/account\/phone$/);
        await assertPage(page, lang, t('contact.phone.title'));
        await shoot(page, `phone-form-${lang}`);
        await page.getByTestId('new-contact').fill(newPhoneOf(lang));
        await page.getByTestId('password').fill(PASSWORD);
        assert.equal(await submit(page, () => page.getByTestId('send').click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/account/phone/code');
        await assertPage(page, lang, t('contact.code.title'));
        await waitUntil(() => gateway.lastCode(newPhoneOf(lang)) !== undefined);
        const code = gateway.lastCode(newPhoneOf(lang)) ?? '';
        await page.getByTestId('code').fill(code === '000000' ? '111111' : '000000');
        assert.equal(await submit(page, () => page.getByTestId('confirm-code').click()), 400, await describePage(page));
        assert.match(await page.locator('main').innerText(), new RegExp(t('contact.code.wrong')));
        await shoot(page, `phone-code-${lang}`);
        await page.getByTestId('code').fill(code);
        assert.equal(await submit(page, () => page.getByTestId('confirm-code').click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/account?done=phone');
        assert.equal(((await page.getByTestId('flash').textContent()) ?? '').trim(), t('contact.phoneChanged'));
        assert.match((await page.getByTestId('account-phone').textContent()) ?? '', new RegExp(newPhoneOf(lang).replace('+', '\\+')));
        await shoot(page, `account-after-${lang}`);

        const stored = await findAccountByIdentifier(served.testApp.deps.store.db, { kind: 'login', key: login });
        assert.equal(stored?.email, newEmail);
        assert.equal(stored?.phone, newPhoneOf(lang));
        assert.ok(stored?.phone_verified_at && stored.email_verified_at);
        assert.deepEqual(problems, []);
      } finally {
        await mine.close();
        await elsewhere.close();
      }
    });
  }
});
