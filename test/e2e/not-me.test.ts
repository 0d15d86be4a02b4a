import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';
import { type ReceivedMail } from '../support/smtp.js';

/**
 * "This wasn't me" in headless Chromium, once per language (issue 13 item 3, SPEC §7 rule 23): an intruder
 * signs in from a browser new to the account, the owner presses the button in the "new sign-in" letter (read
 * at the real SMTP server), the intruder's browser is signed out and refused, and the recovery letter the
 * button sent unlocks the account in the owner's browser.
 */

const SHOTS = '/tmp/shots/not-me';
const NEW_PASSWORD = 'owner-takes-it-back-2026';
const PRODUCT = 'Latchkey';

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

/** The href of the letter's HTML button marked `data-not-me` (the same link is in the text part). */
function notMeHref(mail: ReceivedMail): string {
  const href = /<a href="([^"]+)"[^>]*data-not-me/.exec(mail.html)?.[1] ?? '';
  assert.ok(href, `no "this wasn't me" button in "${mail.subject}"`);
  assert.ok(mail.text.includes(href), 'the text part holds the same link');
  return href;
}

describe('e2e: "this wasn\'t me"', { timeout: 120_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true }));
    await addPortal(served.testApp.deps, { slug: 'acme', title: 'Acme Corp' });
    await addUser(served.testApp.deps, { login: 'boss', email: 'boss@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'admin' }] });
  });
  after(() => rig.stop());

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: from the letter's button to the unlocked account`, async () => {
      assert.ok(served && browser);
      const base = served.baseUrl;
      const t = translator(lang);
      const login = `nina-${lang}`;
      const email = `${login}@example.com`;
      await addUser(served.testApp.deps, { login, email, password: PASSWORD, locale: lang, portals: [{ slug: 'acme', role: 'employee' }] });
      const browserLocale = lang === 'ru' ? 'ru-RU' : 'en-US';
      const owner = await browser.newContext({ locale: browserLocale, viewport: { width: 1000, height: 760 } });
      const intruder = await browser.newContext({ locale: browserLocale });
      try {
        const mine = await owner.newPage();
        const theirs = await intruder.newPage();
        const problems = watchProblems(mine);
        watchProblems(theirs, problems);

        // The owner signs in; then the intruder, from a browser new to the account: a "new sign-in" letter.
        for (const page of [mine, theirs]) {
          await page.goto(`${base}/login`);
          assert.equal(await signIn(page, t, login, PASSWORD), 303, await describePage(page));
          assert.equal(pathOf(page), '/portals');
        }
        const [notice] = await smtp.waitFor((m) => m.to === email && m.subject === t('mail.newSignIn.subject', { product: PRODUCT }));
        assert.ok(notice);
        assert.ok(notice.text.includes(t('mail.notMe.button')), 'the notice offers the button, in the account\'s language');
        const link = notMeHref(notice);
        assert.ok(link.startsWith(`${base}/account/not-me/`), link);
        const token = link.slice(`${base}/account/not-me/`.length);

        // The owner presses it: a confirm page (opening the link changed nothing), the token off the address bar.
        await mine.goto(link);
        await mine.waitForURL(`${base}/account/not-me`);
        assert.ok(!mine.url().includes(token));
        await assertPage(mine, lang, t('notMe.title'));
        assert.ok((await mine.locator('main').textContent())?.includes('ni•••@example.com'));
        await theirs.goto(`${base}/portals`);
        assert.equal(pathOf(theirs), '/portals', 'opening the link signed nobody out');
        await shoot(mine, `confirm-${lang}`);

        assert.equal(await submit(mine, () => mine.getByTestId('not-me-confirm').click()), 200, await describePage(mine));
        await assertPage(mine, lang, t('notMe.done.title'));
        await shoot(mine, `done-${lang}`);

        // The intruder is out and cannot come back with the password.
        await theirs.goto(`${base}/portals`);
        assert.equal(pathOf(theirs), '/login');
        assert.equal(await signIn(theirs, t, login, PASSWORD), 403, await describePage(theirs));
        assert.equal((await theirs.getByTestId('form-error').textContent())?.trim(), t('login.locked'));
        await shoot(theirs, `locked-login-${lang}`);

        // The link works once: a second visit gets a page that says what to do next.
        await theirs.goto(link);
        await assertPage(theirs, lang, t('notMe.invalid.title'));
        assert.equal(await theirs.locator('main a[href="/recover"]').count(), 1);
        await shoot(theirs, `used-link-${lang}`);

        // The admin of the portal is told (in the admin's language).
        const [adminLetter] = await smtp.waitFor((m) => m.to === 'boss@example.com' && m.subject.includes(login));
        assert.ok(adminLetter?.text.includes('Это был не я'));

        // The fresh recovery letter, in the account's language: a new password unlocks and signs in.
        const [unlock] = await smtp.waitFor((m) => m.to === email && m.subject === t('mail.unlock.subject', { product: PRODUCT }));
        assert.ok(unlock);
        const recover = /<a href="([^"]+\/recover\/email\/[^"]+)"/.exec(unlock.html)?.[1] ?? '';
        assert.ok(recover.startsWith(`${base}/recover/email/`), recover);
        await mine.goto(recover);
        await mine.waitForURL(`${base}/recover/password`);
        await assertPage(mine, lang, t('reset.title'));
        await mine.getByLabel(t('reset.password')).fill(NEW_PASSWORD);
        assert.equal(await submit(mine, () => mine.getByRole('button', { name: t('reset.submit') }).click()), 303, await describePage(mine));
        assert.equal(pathOf(mine), '/portals?changed=1');
        await assertPage(mine, lang, t('portals.title'));
        await shoot(mine, `unlocked-${lang}`);

        // Unlocked: the new password signs in anywhere, the old one does not.
        await theirs.goto(`${base}/login`);
        assert.equal(await signIn(theirs, t, login, PASSWORD), 401, await describePage(theirs));
        assert.equal(await signIn(theirs, t, login, NEW_PASSWORD), 303, await describePage(theirs));
        assert.deepEqual(problems, []);
      } finally {
        await owner.close();
        await intruder.close();
      }
    });
  }
});
