import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { listRecentMessages } from '../../src/store/outbox.repo.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { assertPage, describePage, pathOf, signIn, signOut, submit, watchProblems, shootWidths } from '../support/page.js';

/**
 * A newcomer's first day in headless Chromium, once per language (issue 14 items 4–8), on the development
 * outbox exactly as the README starts it: the way back after sign-in, an empty sign-in form, an employee
 * in /admin, an admin link that replaces an earlier one (and its SMS with the login), the outbox and the
 * audit log in words, the expired-code screen, the current password refused, and the page after a
 * completed recovery. Screenshots at 390 and 1280 px go to /tmp/shots/newcomer-fixes.
 */

const SHOTS = '/tmp/shots/newcomer-fixes';
const NEW_PASSWORD = 'Tundra-Lantern-47-quietly';

/**
 * `ownLayout`: a page whose layout this change made (it must not scroll sideways at 390 px); the console's
 * tables and the outbox are issue 14 item 9's, so their sideways scroll only comes back as a note.
 */
const shoot = (page: Page, name: string, ownLayout = true) => shootWidths(page, SHOTS, name, { ownLayout });

async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

interface Journey {
  lang: Locale;
  browserLocale: string;
  admin: string;
  employee: string;
  phone: string;
}

const journeys: Journey[] = [
  { lang: 'ru', browserLocale: 'en-US', admin: 'anna', employee: 'ivan', phone: '+79161234567' },
  { lang: 'en', browserLocale: 'ru-RU', admin: 'margaret', employee: 'john', phone: '+79161234568' },
];

describe('e2e: a newcomer meets no dead ends and no raw codes', { timeout: 120_000 }, () => {
  const clock = new FakeClock();
  const rig = new BrowserRig();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';
  const ids = new Map<string, string>();
  const layoutNotes: string[] = [];

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', clock }));
    base = served.baseUrl;
    const { deps } = served.testApp;
    assert.ok(deps.config.dev && deps.settings.smsEnabled, 'the development outbox keeps letters and texts');
    await addPortal(deps, { slug: 'acme', title: 'Acme Corp' });
    for (const j of journeys) {
      const admin = await addUser(deps, { login: j.admin, email: `${j.admin}@example.com`, password: PASSWORD, locale: j.lang, portals: [{ slug: 'acme', role: 'admin' }] });
      const employee = await addUser(deps, { login: j.employee, email: `${j.employee}@example.com`, phone: j.phone, password: PASSWORD, locale: j.lang, portals: [{ slug: 'acme', role: 'employee' }] });
      ids.set(j.admin, admin.id);
      ids.set(j.employee, employee.id);
    }
  });

  after(async () => {
    if (layoutNotes.length > 0) console.log(`layout notes (issue 14 item 9): ${layoutNotes.join('; ')}`);
    await rig.stop();
  });

  /** The texts the development outbox holds for a number, newest first. */
  const textsTo = async (phone: string): Promise<string[]> => {
    assert.ok(served);
    const { deps } = served.testApp;
    const messages = await listRecentMessages(deps.store.db, 50);
    return messages.filter((m) => m.channel === 'sms' && m.recipient === phone).map((m) => deps.outbox.open<{ text: string }>(m.payload).text);
  };

  for (const j of journeys) {
    it(`[${j.lang}] the way back, /admin for an employee, admin links, outbox and audit in words, an expired code, Back after recovery`, { timeout: 100_000 }, async () => {
      assert.ok(browser);
      const { lang } = j;
      const t = translator(lang);
      const context = await browser.newContext({ locale: j.browserLocale, viewport: { width: 1000, height: 760 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        const problems = watchProblems(page);

        // --- Item 4: a signed-out employee asks for the console; /login keeps the way back ---
        await page.goto(`${base}/admin/acme/users?lang=${lang}`);
        assert.equal(pathOf(page), `/login?next=${encodeURIComponent(`/admin/acme/users?lang=${lang}`)}`);
        await assertPage(page, lang, t('login.title'));

        // --- Item 7: the empty form names what is missing ---
        assert.equal(await submit(page, () => page.locator('form[action="/login"]').getByRole('button', { name: t('login.submit') }).click()), 400, await describePage(page));
        assert.deepEqual(await page.getByTestId('form-error').locator('p').allTextContents(), [t('login.missingLogin'), t('login.missingPassword')]);
        layoutNotes.push(...(await shoot(page, `login-empty-${lang}`)));

        // --- Signed in, the employee lands where they asked: the console says they are not its admin ---
        assert.equal(await signIn(page, t, j.employee, PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), `/admin/acme/users?lang=${lang}`);
        await assertPage(page, lang, t('admin.notAdmin.title'));
        assert.equal(await text(page, 'not-admin'), t('admin.notAdmin.body', { portal: 'acme' }));
        layoutNotes.push(...(await shoot(page, `not-admin-${lang}`)));
        await page.getByTestId('back-to-portals').click();
        await page.waitForURL(`${base}/portals`);
        await assertPage(page, lang, t('portals.title'));
        await signOut(page);

        // --- Item 8: the admin asks for an employee's page, signs in, lands there, sends two links ---
        const profile = `/admin/acme/users/${ids.get(j.employee) ?? ''}`;
        await page.goto(`${base}${profile}`);
        assert.equal(pathOf(page), `/login?next=${encodeURIComponent(profile)}`);
        assert.equal(await signIn(page, t, j.admin, PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), profile);
        assert.equal(await submit(page, () => page.getByTestId('recover-phone').click()), 303, await describePage(page));
        assert.equal(await text(page, 'flash'), t('admin.sent.phone', { time: clock.now().toISOString().slice(11, 16) }));
        assert.equal(await page.getByTestId('link-replaced').count(), 0, 'the first link replaced nothing');
        assert.equal(await submit(page, () => page.getByTestId('recover-email').click()), 303, await describePage(page));
        assert.equal(await text(page, 'link-replaced'), t('admin.sent.replaced'));
        layoutNotes.push(...(await shoot(page, `admin-link-replaced-${lang}`, false)));
        const [sms] = await textsTo(j.phone);
        assert.ok(sms?.includes(j.employee) && /\/recover\/email\/\S+/.test(sms), `the SMS holds the login and the link: ${sms}`);

        // --- Item 6: the audit log and the outbox in words, in the page's language ---
        await page.goto(`${base}/admin/acme/audit`);
        const details = await page.getByTestId('audit-detail').allTextContents();
        assert.ok(details.includes(`(${t('audit.detail.phone')})`) && details.includes(`(${t('audit.detail.email')})`), details.join(' | '));
        const auditText = (await page.locator('main').textContent()) ?? '';
        assert.ok(!/\((phone|email|must_change)\)/.test(auditText), auditText);
        layoutNotes.push(...(await shoot(page, `audit-${lang}`, false)));
        await page.goto(`${base}/dev/outbox?lang=${lang}`);
        const kinds = await page.getByTestId('outbox-kind').allTextContents();
        assert.ok(kinds.includes(`${t('outbox.channel.sms')}: ${t('outbox.kind.adminLink')}`), kinds.join(' | '));
        assert.ok(!kinds.some((k) => /admin\.admin|\.sms|\.email/.test(k)), kinds.join(' | '));
        const statuses = new Set(await page.getByTestId('outbox-status').allTextContents());
        assert.ok([...statuses].every((s) => ['queued', 'processing', 'sent', 'abandoned'].map((x) => t(`outbox.status.${x}` as 'outbox.status.sent')).includes(s)), [...statuses].join(', '));
        if (lang === 'ru') assert.ok(![...statuses].some((s) => /^[a-z]+$/.test(s)), [...statuses].join(', '));
        layoutNotes.push(...(await shoot(page, `outbox-${lang}`, false)));
        await page.goto(`${base}/portals`);
        await signOut(page);

        // --- Item 5: the code runs out; the screen says so once and leads with a new code ---
        await page.goto(`${base}/recover/phone?lang=${lang}`);
        await page.getByLabel(t('phone.number')).fill(j.phone);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('phone.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/recover/phone/code');
        clock.advance(61_000);
        await page.reload();
        await assertPage(page, lang, t('code.title'));
        assert.equal(await text(page, 'form-error'), t('code.expired'));
        assert.equal(((await page.locator('main').textContent()) ?? '').split(t('code.expired')).length - 1, 1, 'the message once');
        assert.equal(await page.getByLabel(t('code.label')).count(), 0, 'no code field');
        assert.equal(await page.getByRole('button', { name: t('code.submit') }).count(), 0, 'no "Continue"');
        layoutNotes.push(...(await shoot(page, `code-expired-${lang}`)));
        assert.equal(await submit(page, () => page.getByTestId('resend').click()), 303, await describePage(page));
        assert.equal(await text(page, 'flash'), t('code.resent'));
        const code = /\b(\d{6})\b/.exec((await textsTo(j.phone))[0] ?? '')?.[1] ?? '';
        await page.getByLabel(t('code.label')).fill(code);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('code.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/recover/password');

        // --- Item 7: the current password is refused as the new one ---
        await page.getByLabel(t('reset.password')).fill(PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('reset.submit') }).click()), 422, await describePage(page));
        assert.equal(await text(page, 'form-error'), t('weak.same_as_current'));
        layoutNotes.push(...(await shoot(page, `same-password-${lang}`)));
        await page.getByLabel(t('reset.password')).fill(NEW_PASSWORD);
        assert.equal(await submit(page, () => page.getByRole('button', { name: t('reset.submit') }).click()), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals?changed=1');

        // --- Item 5: the form again after the recovery: "already changed", no talk of a link ---
        // (Back itself would ask to post the refused form again, which ends on this same page: opened here directly.)
        assert.equal((await page.goto(`${base}/recover/password`))?.status(), 400);
        await assertPage(page, lang, t('reset.done.title'));
        const said = (await page.locator('main').textContent()) ?? '';
        assert.ok(said.includes(t('reset.done.bodyCode')), said);
        assert.ok(!/ссылк|link/i.test(said), said);
        assert.equal(await page.getByTestId('to-portals').count(), 1, 'signed in by the recovery: on to the portals');
        layoutNotes.push(...(await shoot(page, `already-changed-${lang}`)));
        await page.getByTestId('to-portals').click();
        await page.waitForURL(`${base}/portals`);
        await signOut(page);
        await page.goto(`${base}/recover/password`);
        await assertPage(page, lang, t('reset.done.title'));
        await page.getByTestId('sign-in').click();
        await page.waitForURL(`${base}/login`);
        assert.equal(await signIn(page, t, j.employee, NEW_PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');

        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
