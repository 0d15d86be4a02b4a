import { parsePhoneNumberFromString } from 'libphonenumber-js';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { translator, type MessageKey, type Translate } from '../../src/ui/i18n.js';
import { PASSWORD, seedAccount } from '../support/app.js';
import { launchBrowser, startServedApp, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { assertPage, describePage, pathOf, signIn, signOut, submit, watchProblems } from '../support/page.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { waitUntil } from '../support/wait.js';

/**
 * Recovery by phone in headless Chromium, once per language, against the real app on a loopback port
 * and a real SMS webhook: number in a local written form → code page (countdowns, disabled "Send a new
 * code") → "I did not get a code" → a late code → a new code → a wrong one → the right one → new password
 * → portals → sign in again. The server's time is a FakeClock and the page's is Playwright's clock, and the
 * test moves both together, so a code goes stale without waiting a minute.
 */

const NEW_PASSWORD = 'Quartz-Harbour-83-slowly';
const SUPPORT = 'support@example.com';
/** LATCHKEY_SMS_CODE_TTL_SECONDS and the resend cooldown, both at their defaults. */
const CODE_SECONDS = 60;

interface Journey {
  lang: Locale;
  /** The browser's own language: the other one, so only `?lang=` can explain the page's language. */
  browserLocale: string;
  login: string;
  email: string;
  phone: string;
  /** The same number as a person would write it at home. */
  written: string;
}

const journeys: Journey[] = [
  { lang: 'ru', browserLocale: 'en-US', login: 'svetlana', email: 'svetlana@example.ru', phone: '+79161234567', written: '8 (916) 123-45-67' },
  { lang: 'en', browserLocale: 'ru-RU', login: 'henry', email: 'henry@example.com', phone: '+79167654321', written: '8 916 765-43-21' },
];

/** The text of the element with `data-testid=testId`, trimmed only (inner white space must match exactly). */
async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

/** The seconds a countdown text shows, when it is `key` with a number in it (undefined otherwise). */
function secondsIn(shown: string, t: Translate, key: MessageKey): number | undefined {
  for (let seconds = 0; seconds <= 600; seconds += 1) if (t(key, { seconds }) === shown) return seconds;
  return undefined;
}

describe('e2e: password recovery by phone in the browser', { timeout: 60_000 }, () => {
  const gateway = new TestSmsGateway();
  // Starts at the real time so that cookie lifetimes computed from it make sense to the browser.
  const clock = new FakeClock(Date.now());
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    const webhook = await gateway.start();
    served = await startServedApp({
      dialect: 'sqlite',
      clock,
      env: { LATCHKEY_SMS_WEBHOOK_URL: webhook, LATCHKEY_SUPPORT_CONTACT: SUPPORT, LATCHKEY_RATE_LIMITS: 'off' },
    });
    base = served.baseUrl;
    for (const { login, email, phone, lang } of journeys) await seedAccount(served.testApp.deps, { login, email, phone, locale: lang });
    browser = await launchBrowser();
  });

  after(async () => {
    const results = await Promise.allSettled([browser?.close(), served?.close()]);
    await gateway.stop();
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  });

  /** The texts sent to `phone` so far; waits until there are at least `count`. */
  const textsTo = async (phone: string, count: number) => {
    await waitUntil(() => gateway.received.filter((m) => m.to === phone).length >= count);
    return gateway.received.filter((m) => m.to === phone);
  };

  for (const journey of journeys) {
    it(`[${journey.lang}] phone number → late code → new code → wrong code → right code → new password → sign in`, { timeout: 30_000 }, async () => {
      assert.ok(browser);
      const { lang, login, phone } = journey;
      const t = translator(lang);
      const context: BrowserContext = await browser.newContext({ locale: journey.browserLocale, viewport: { width: 1000, height: 760 } });
      // The page's own clock, moved by the test together with the server's.
      await context.clock.install();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        const problems = watchProblems(page);

        // --- Sign-in page → "Forgot password?" → "By phone number" ---
        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        await page.getByTestId('forgot-password').click();
        await page.waitForURL(`${base}/recover`);
        await assertPage(page, lang, t('recover.title'));
        assert.equal(await text(page, 'recover-by-phone'), t('recover.byPhone'));
        await page.getByTestId('recover-by-phone').click();
        await page.waitForURL(`${base}/recover/phone`);
        await assertPage(page, lang, t('recover.title'));
        const number = page.getByLabel(t('phone.number'));
        assert.equal(await number.getAttribute('type'), 'tel');
        assert.equal(await number.getAttribute('autocomplete'), 'tel');

        // --- The number as written at home → the code page ---
        await number.fill(journey.written);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('phone.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/recover/phone/code');
        await assertPage(page, lang, t('code.title'));
        // The number as people read it: international format with spaces.
        const shown = parsePhoneNumberFromString(phone)?.formatInternational() ?? phone;
        assert.ok((await page.locator('main').textContent())?.includes(t('code.intro', { phone: shown })), await describePage(page));
        const codeInput = page.getByLabel(t('code.label'));
        assert.equal(await codeInput.getAttribute('inputmode'), 'numeric');
        assert.equal(await codeInput.getAttribute('autocomplete'), 'one-time-code');
        const expires = secondsIn(await text(page, 'code-expires'), t, 'code.expiresIn');
        const resendIn = secondsIn(await text(page, 'code-resend-in'), t, 'code.resendIn');
        assert.ok(expires !== undefined && expires > CODE_SECONDS - 10 && expires <= CODE_SECONDS, `code-expires: ${await text(page, 'code-expires')}`);
        assert.ok(resendIn !== undefined && resendIn > CODE_SECONDS - 10 && resendIn <= CODE_SECONDS, `code-resend-in: ${await text(page, 'code-resend-in')}`);
        const resend = page.getByTestId('resend');
        assert.equal((await resend.textContent())?.trim(), t('code.resend'));
        assert.equal(await resend.isDisabled(), true, 'the countdown script disables "Send a new code" at first');
        if (lang === 'ru') await page.screenshot({ path: path.join(os.tmpdir(), 'latchkey-e2e-ru-phone-code.png'), fullPage: true });
        // The script ticks: 3 s later on the page's clock (which also runs on by itself) the texts show fewer seconds.
        await page.clock.runFor(3_000);
        const ticked = (shown: number | undefined, from: number) => shown !== undefined && shown <= from - 3 && shown > from - 10;
        assert.ok(ticked(secondsIn(await text(page, 'code-expires'), t, 'code.expiresIn'), expires), await text(page, 'code-expires'));
        assert.ok(ticked(secondsIn(await text(page, 'code-resend-in'), t, 'code.resendIn'), resendIn), await text(page, 'code-resend-in'));
        assert.equal(await resend.isDisabled(), true);

        // --- The text, in the account's language, ending with the WebOTP line ---
        const [first] = await textsTo(phone, 1);
        assert.ok(first);
        const firstCode = gateway.lastCode(phone);
        assert.ok(firstCode, first.text);
        assert.equal(first.text, `${t('sms.code', { code: firstCode, seconds: CODE_SECONDS })}\n\n@${new URL(base).host} #${firstCode}`);

        // --- "I did not get a code" → the help page → e-mail recovery; then back to the code page ---
        assert.equal(await text(page, 'no-code'), t('code.notReceived'));
        await page.getByTestId('no-code').click();
        await page.waitForURL(`${base}/recover/phone/help`);
        await assertPage(page, lang, t('help.title'));
        assert.equal(await text(page, 'phone-help'), t('help.title'));
        assert.equal(await text(page, 'support-contact'), t('help.support', { contact: SUPPORT }));
        assert.equal(await text(page, 'try-email'), t('help.tryEmail'));
        await page.getByTestId('try-email').click();
        await page.waitForURL(`${base}/recover`);
        await assertPage(page, lang, t('recover.title'));
        assert.equal(await page.getByLabel(t('recover.identifier')).count(), 1);
        await page.goto(`${base}/recover/phone/code`);
        await assertPage(page, lang, t('code.title'));

        // --- A late code: a minute and a second pass for the server and for the page alike ---
        clock.advance((CODE_SECONDS + 1) * 1000);
        await page.clock.fastForward((CODE_SECONDS + 1) * 1000);
        assert.equal(await text(page, 'code-expires'), t('code.expired'));
        assert.equal(await text(page, 'code-resend-in'), t('code.resendNow'));
        assert.equal(await resend.isEnabled(), true, 'the countdown script enables "Send a new code" when the cooldown is over');
        await codeInput.fill(firstCode);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('code.submit') }).click()), 410, await describePage(page));
        assert.equal(pathOf(page), '/recover/phone/code');
        await assertPage(page, lang, t('code.title'));
        assert.equal(await text(page, 'form-error'), t('code.expired'));
        // The page the server sent back counts from its own (fake) time: nothing left to wait for.
        assert.equal(await text(page, 'code-resend-in'), t('code.resendNow'));
        assert.equal(await resend.isEnabled(), true);

        // --- "Send a new code" → the notice, a second text with another code, the countdown again ---
        assert.equal(await submit(page, () => resend.click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/recover/phone/code');
        assert.equal(await text(page, 'flash'), t('code.resent'));
        assert.equal(await page.getByTestId('form-error').count(), 0);
        // The notice is said once: a reload does not claim another code was sent.
        await page.reload();
        assert.equal(await page.getByTestId('flash').count(), 0);
        const cooldown = secondsIn(await text(page, 'code-resend-in'), t, 'code.resendIn');
        assert.ok(cooldown !== undefined && cooldown > CODE_SECONDS - 10, await text(page, 'code-resend-in'));
        assert.equal(await resend.isDisabled(), true);
        const texts = await textsTo(phone, 2);
        assert.equal(texts.length, 2);
        const secondCode = gateway.lastCode(phone);
        assert.ok(secondCode);
        // Random six digits: the same code twice happens once in a million runs.
        assert.notEqual(secondCode, firstCode, 'the new text carries a new code');
        assert.ok(texts[1]?.text.startsWith(t('sms.code', { code: secondCode, seconds: CODE_SECONDS })), texts[1]?.text);

        // --- A wrong code once ---
        await codeInput.fill(secondCode === '000000' ? '111111' : '000000');
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('code.submit') }).click()), 400, await describePage(page));
        assert.equal(pathOf(page), '/recover/phone/code');
        assert.equal(await text(page, 'form-error'), t('code.wrong'));
        assert.equal(await page.getByTestId('flash').count(), 0);

        // --- The new code → the new-password form → the portals, with the notice ---
        await codeInput.fill(secondCode);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('code.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/recover/password');
        await assertPage(page, lang, t('reset.title'));
        assert.ok((await page.locator('main').textContent())?.includes(t('reset.intro', { login })));
        await page.getByLabel(t('reset.password')).fill(NEW_PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('reset.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals?changed=1');
        await assertPage(page, lang, t('portals.title'));
        assert.equal(await text(page, 'flash'), t('passwordChanged.flash'));

        // --- Sign out; the old password is refused, the new one works ---
        await signOut(page);
        await assertPage(page, lang, t('login.title'));
        assert.equal(await signIn(page, t, login, PASSWORD), 401, await describePage(page));
        assert.equal(await text(page, 'form-error'), t('login.failed'));
        assert.equal(await signIn(page, t, login, NEW_PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await assertPage(page, lang, t('portals.title'));

        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }

  it('the code page without JavaScript: the countdowns are text, "Send a new code" is enabled and checked by the server', { timeout: 15_000 }, async () => {
    assert.ok(browser);
    const t = translator('en');
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const problems = watchProblems(page);
      // A number on no account: the pages answer exactly as for a known one, and nobody gets a text.
      await page.goto(`${base}/recover/phone?lang=en`);
      await page.getByLabel(t('phone.number')).fill('+7 916 000-00-00');
      assert.equal(await submit(page, () => page.getByRole('button', { name: t('phone.submit') }).click()), 303, await describePage(page));
      assert.equal(pathOf(page), '/recover/phone/code');
      await assertPage(page, 'en', t('code.title'));
      // The server's clock does not move here, so the texts are exactly what it rendered.
      assert.equal(await text(page, 'code-expires'), t('code.expiresIn', { seconds: CODE_SECONDS }));
      assert.equal(await text(page, 'code-resend-in'), t('code.resendIn', { seconds: CODE_SECONDS }));
      const resend = page.getByTestId('resend');
      assert.equal(await resend.isEnabled(), true, 'without the script nothing disables the button');
      assert.equal(await submit(page, () => resend.click()), 429, await describePage(page));
      assert.equal(await text(page, 'form-error'), t('code.resendIn', { seconds: CODE_SECONDS }));
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
