import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator, type Translate } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { assertPage, describePage, pathOf, signIn, signOut, submit, watchProblems, shootWidths } from '../support/page.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { linkIn } from '../support/smtp.js';

/**
 * The admin console in headless Chromium, once per language, against the real app on a loopback port,
 * a real SMTP server and the SMS webhook stub:
 *  - cloud (seed C7): sign in → "Administration" → employees → search → profile → "Recover password to
 *    e-mail" → the notice and no link → the employee's letter → the employee sets a password → the audit
 *    log (action filter); and an invitation by e-mail up to the invitee's first password;
 *  - box (seed B3): the admin sets a password twice with "must change" → the employee signs in, is sent
 *    to /account, changes it → /portals.
 */

const EMPLOYEE_PASSWORD = 'Tundra-Lantern-47-quietly';
const INVITEE_PASSWORD = 'Harbour-Compass-83-slowly';
const ADMIN_SET_PASSWORD = 'Granite-Meadow-29-softly';
const OWN_PASSWORD = 'Copper-Willow-61-brightly';
const PORTAL = { slug: 'acme', title: 'Acme Corp' };
const OTHER_PORTAL = { slug: 'globex', title: 'Globex' };
const SHOTS = '/tmp/shots';
const BOX_PORTAL_TITLE = 'Company portal';

interface Person {
  login: string;
  email: string;
  name?: string;
  phone?: string;
}

interface CloudJourney {
  lang: Locale;
  /** The browser's own language: the other one, so only `?lang=` can explain the page's language. */
  browserLocale: string;
  admin: Person;
  employee: Person & { name: string; phone: string };
  /** What the admin types into the search: a part of the employee's name. */
  search: string;
  invitee: { email: string; name: string; login: string };
  /** A passport of another portal the admin invites: it joins only by accepting while signed in. */
  outsider: Person;
}

const cloudJourneys: CloudJourney[] = [
  {
    lang: 'ru',
    browserLocale: 'en-US',
    admin: { login: 'alla', email: 'alla@example.ru' },
    employee: { login: 'petr', name: 'Пётр Сидоров', email: 'petr@example.ru', phone: '+79161234567' },
    // Upper-case Cyrillic on purpose: the search folds case in every script, on SQLite too.
    search: 'СИДОР',
    invitee: { email: 'nina.new@example.ru', name: 'Нина Орлова', login: 'nina.new' },
    outsider: { login: 'zoya', email: 'zoya@example.ru' },
  },
  {
    lang: 'en',
    browserLocale: 'ru-RU',
    admin: { login: 'anna', email: 'anna@example.com' },
    employee: { login: 'walter', name: 'Walter Bishop', email: 'walter@example.com', phone: '+447911123456' },
    search: 'Bish',
    invitee: { email: 'oscar.new@example.com', name: 'Oscar Lane', login: 'oscar.new' },
    outsider: { login: 'quinn', email: 'quinn@example.com' },
  },
];

interface BoxJourney {
  lang: Locale;
  browserLocale: string;
  admin: Person;
  employee: Person;
}

const boxJourneys: BoxJourney[] = [
  { lang: 'ru', browserLocale: 'en-US', admin: { login: 'vera', email: 'vera@example.ru' }, employee: { login: 'gleb', email: 'gleb@example.ru' } },
  { lang: 'en', browserLocale: 'ru-RU', admin: { login: 'bruce', email: 'bruce@example.com' }, employee: { login: 'hank', email: 'hank@example.com' } },
];

// ---------------------------------------------------------------------------------------------------
// Helpers of this file only (the shared ones are in test/support/page.ts)

/** Follows a link or a GET form and waits until the page at a matching address has loaded. */
async function navigate(page: Page, matches: (url: URL) => boolean, action: () => Promise<void>): Promise<void> {
  await Promise.all([page.waitForURL(matches), action()]);
}

/** The text of the element with `data-testid=testId`, white space folded (test/e2e/recovery-phone.test.ts keeps its own, trimmed only). */
async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * A page in a fresh context whose problems (CSP violations, script errors, failed sub-resources) are
 * collected. Chromium logs every 4xx page as "Failed to load resource": expected here (400, 401).
 */
async function openPage(browser: Browser, locale: string, problems: string[]): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: { width: 1000, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  watchProblems(page, problems);
  return { context, page };
}

/** /portals → "Administration" next to the portal → its employee list. */
async function administer(page: Page, lang: Locale, t: Translate, portal: { slug: string; title: string }): Promise<void> {
  const entry = page.locator(`ul.portals li[data-portal="${portal.slug}"]`);
  assert.equal((await entry.getByTestId('administer').textContent())?.trim(), t('admin.nav'));
  await navigate(page, (u) => u.pathname === `/admin/${portal.slug}/users`, () => entry.getByTestId('administer').click());
  await assertPage(page, lang, portal.title);
  assert.equal(await page.title(), `${t('admin.employees')} · ${portal.title} · ${t('app.name')}`);
}

/** The list's rows as `login → cells`. */
async function listedRows(page: Page): Promise<Map<string, string[]>> {
  const rows = new Map<string, string[]>();
  for (const row of await page.locator('table.list tbody tr').all()) {
    const login = (await row.getAttribute('data-login')) ?? '';
    rows.set(login, (await row.locator('td').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim()));
  }
  return rows;
}

/** The audit table's rows as [action attribute, who, action text, whom]. */
async function auditRows(page: Page): Promise<Array<{ action: string; who: string; what: string; whom: string }>> {
  const rows = [];
  for (const row of await page.locator('table[data-testid="audit"] tbody tr').all()) {
    const cells = (await row.locator('td').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim());
    rows.push({ action: (await row.getAttribute('data-action')) ?? '', who: cells[1] ?? '', what: cells[2] ?? '', whom: cells[3] ?? '' });
  }
  return rows;
}

/** The invitation or admin link in a letter, opened with `?lang=` (the employee's first page) in the new-password form. */
async function openLetterLink(page: Page, base: string, link: string, lang: Locale): Promise<void> {
  assert.ok(link.startsWith(`${base}/recover/email/`), link);
  const token = link.slice(`${base}/recover/email/`.length);
  await page.goto(`${link}?lang=${lang}`);
  await page.waitForURL(`${base}/recover/password`);
  assert.ok(!page.url().includes(token), page.url());
}

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

// ---------------------------------------------------------------------------------------------------

describe('e2e: admin console, cloud edition (C7)', { timeout: 80_000 }, () => {
  const rig = new BrowserRig();
  const { smtp } = rig;
  const gateway = new TestSmsGateway();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    const smsUrl = await gateway.start();
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true, env: { LATCHKEY_RATE_LIMITS: 'off', LATCHKEY_SMS_WEBHOOK_URL: smsUrl } }));
    base = served.baseUrl;
    const { deps } = served.testApp;
    await addPortal(deps, PORTAL);
    await addPortal(deps, OTHER_PORTAL);
    for (const { lang, admin, employee, outsider } of cloudJourneys) {
      await addUser(deps, { ...outsider, password: PASSWORD, locale: lang, portals: [{ slug: OTHER_PORTAL.slug, role: 'employee' }] });
      await addUser(deps, { ...admin, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'admin' }] });
      await addUser(deps, { ...employee, password: PASSWORD, locale: lang, portals: [{ slug: PORTAL.slug, role: 'employee' }] });
    }
  });

  after(async () => {
    try {
      await rig.stop();
    } finally {
      await gateway.stop();
    }
  });

  for (const journey of cloudJourneys) {
    it(`[${journey.lang}] search → profile → recovery link by e-mail → employee back in → audit; invitation`, { timeout: 40_000 }, async () => {
      assert.ok(browser);
      const { lang, admin, employee, invitee, outsider } = journey;
      const t = translator(lang);
      const problems: string[] = [];
      const contexts: BrowserContext[] = [];
      try {
        const { context: adminContext, page } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(adminContext);

        // --- The admin signs in; "Administration" on the portal chooser → the employee list ---
        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        assert.equal(await signIn(page, t, admin.login, PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await assertPage(page, lang, t('portals.title'));
        await administer(page, lang, t, PORTAL);
        const everyone = await listedRows(page);
        assert.ok(everyone.has(admin.login) && everyone.has(employee.login), [...everyone.keys()].join(', '));
        assert.ok(everyone.get(admin.login)?.[0]?.includes(`(${t('admin.role.admin')})`));

        // --- Search by a part of the name → one row → the profile ---
        await page.getByLabel(t('admin.search')).fill(journey.search);
        await navigate(page, (u) => u.searchParams.get('query') === journey.search, () => page.getByRole('button', { name: t('admin.searchButton') }).click());
        const found = await listedRows(page);
        assert.deepEqual([...found.keys()], [employee.login], await describePage(page));
        assert.deepEqual(found.get(employee.login), [employee.login, employee.name, employee.email, employee.phone, t('admin.status.active')]);
        await navigate(page, (u) => /^\/admin\/acme\/users\/[^/]+$/.test(u.pathname), () => page.getByRole('link', { name: employee.login, exact: true }).click());
        await assertPage(page, lang, PORTAL.title);
        assert.equal(await text(page, 'member-login'), employee.login);
        assert.equal(((await page.locator('main h2').first().textContent()) ?? '').trim(), t('admin.profile'));
        assert.equal(((await page.locator('main h2').nth(1).textContent()) ?? '').trim(), t('admin.passwords'));
        const toEmail = page.getByTestId('recover-email');
        const toPhone = page.getByTestId('recover-phone');
        assert.equal((await toEmail.textContent())?.trim(), t('admin.recoverEmail'));
        assert.equal((await toPhone.textContent())?.trim(), t('admin.recoverPhone'));
        assert.equal(await page.locator('input[type="password"]').count(), 0, 'a cloud admin never sets passwords');
        const profilePath = new URL(page.url()).pathname;

        // --- "Recover password to e-mail" → the notice with the time; no link anywhere on the page ---
        const before = Date.now();
        assert.equal(await submit(page, () => toEmail.click()), 303, await describePage(page));
        const landed = new URL(page.url());
        assert.equal(landed.pathname, profilePath);
        assert.equal(landed.searchParams.get('sent'), 'email');
        const sentAt = landed.searchParams.get('at') ?? '';
        const sentMs = Date.parse(sentAt);
        assert.ok(sentMs >= before - 1000 && sentMs <= Date.now() + 1000, sentAt);
        const time = new Date(sentMs).toISOString().slice(11, 16);
        assert.match(time, /^\d\d:\d\d$/);
        assert.equal(await text(page, 'flash'), t('admin.sent.email', { time }));
        await assertPage(page, lang, PORTAL.title);
        const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
        assert.ok(!hrefs.some((h) => h.includes('/recover')), hrefs.join(' '));
        assert.ok(!(await page.content()).includes('/recover/email/'), 'the admin never sees the link');
        if (lang === 'ru') await page.screenshot({ path: path.join(os.tmpdir(), 'latchkey-e2e-admin-profile-ru.png'), fullPage: true });

        // --- The letter: the employee's language, their login and the portal; the page never held its token ---
        const [letter] = await smtp.waitFor((mail) => mail.to === employee.email && mail.subject === t('mail.admin.subject', { portal: PORTAL.title }));
        assert.ok(letter);
        // Greeted by name (issue 14, item 9); the login is in the registration data.
        for (const line of [t('mail.greeting', { name: employee.name }), t('mail.admin.body', { portal: PORTAL.title }), t('mail.registration', { login: employee.login, portal: PORTAL.title }), t('mail.admin.validity')]) {
          assert.ok(letter.text.includes(line), `${line}\n--- in ---\n${letter.text}`);
        }
        const link = linkIn(letter);
        const token = link.slice(link.lastIndexOf('/') + 1);
        assert.ok(!(await page.content()).includes(token) && !page.url().includes(token));
        assert.equal(gateway.received.filter((sms) => sms.to === employee.phone).length, 0, 'no SMS: the admin chose e-mail');
        await signOut(page);
        await assertPage(page, lang, t('login.title'));

        // --- The employee, in a browser of their own: the link → the new-password form → /portals ---
        const { context: employeeContext, page: employeePage } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(employeeContext);
        await openLetterLink(employeePage, base, link, lang);
        await assertPage(employeePage, lang, t('reset.title'));
        assert.ok((await employeePage.locator('main').textContent())?.includes(t('reset.intro', { login: employee.login })));
        await employeePage.getByLabel(t('reset.password')).fill(EMPLOYEE_PASSWORD);
        assert.equal(await submit(employeePage, () => employeePage.getByRole('button', { name: t('reset.submit') }).click()), 303, await describePage(employeePage));
        assert.equal(pathOf(employeePage), '/portals?changed=1');
        await assertPage(employeePage, lang, t('portals.title'));
        assert.equal(await text(employeePage, 'flash'), t('passwordChanged.flash'));
        const acme = employeePage.locator(`ul.portals li[data-portal="${PORTAL.slug}"]`);
        assert.equal(await acme.locator('strong').textContent(), PORTAL.title);
        assert.equal(await acme.getByTestId('administer').count(), 0, 'an employee is offered no administration');
        await employeeContext.close();

        // --- The admin again: invite a new employee by e-mail ---
        await page.goto(`${base}/login`);
        assert.equal(await signIn(page, t, admin.login, PASSWORD), 303, await describePage(page));
        await administer(page, lang, t, PORTAL);
        await navigate(page, (u) => u.pathname === '/admin/acme/invite', () => page.locator('nav.tabs').getByRole('link', { name: t('admin.invite'), exact: true }).click());
        await assertPage(page, lang, t('admin.invite'));
        await page.getByLabel(t('admin.invite.email'), { exact: true }).fill(invitee.email);
        await page.getByLabel(t('admin.invite.name'), { exact: true }).fill(invitee.name);
        assert.equal(await submit(page, () => page.getByTestId('invite').click()), 200, await describePage(page));
        assert.equal(await text(page, 'flash'), t('admin.invite.done', { contact: invitee.email }));
        assert.equal(await page.locator(`[data-testid="invitations"] li[data-contact="${invitee.email}"]`).count(), 1, 'in the pending list');
        await navigate(page, (u) => u.pathname === '/admin/acme/users', () => page.locator('nav.tabs').getByRole('link', { name: t('admin.employees'), exact: true }).click());
        assert.ok(!(await listedRows(page)).has(invitee.login), 'only invited: not in the list of employees');

        // The invitee: the letter (in the inviting admin's language) → the link → a first password → /portals.
        const [invitation] = await smtp.waitFor((mail) => mail.to === invitee.email);
        assert.ok(invitation);
        assert.equal(invitation.subject, t('mail.invitation.subject', { portal: PORTAL.title }));
        assert.ok(invitation.text.includes(t('mail.invitation.new.howTo', { login: invitee.login })), invitation.text);
        const { context: inviteeContext, page: inviteePage } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(inviteeContext);
        await openLetterLink(inviteePage, base, linkIn(invitation), lang);
        // An invitation's own words: a first password and joining, not "a new password" (issue 14 item 6).
        await assertPage(inviteePage, lang, t('reset.invitation.title'));
        assert.ok((await inviteePage.locator('main').textContent())?.includes(t('reset.invitation.intro', { login: invitee.login })));
        await inviteePage.getByLabel(t('reset.password')).fill(INVITEE_PASSWORD);
        assert.equal(await submit(inviteePage, () => inviteePage.getByRole('button', { name: t('reset.invitation.submit') }).click()), 303, await describePage(inviteePage));
        assert.equal(pathOf(inviteePage), '/portals?joined=1');
        await assertPage(inviteePage, lang, t('portals.title'));
        assert.equal(await text(inviteePage, 'flash'), t('invitation.joined.flash'));
        assert.deepEqual(await inviteePage.locator('ul.portals li').evaluateAll((items) => items.map((li) => li.getAttribute('data-portal'))), [PORTAL.slug]);
        await inviteeContext.close();
        await page.reload();
        assert.equal((await listedRows(page)).get(invitee.login)?.[4], t('admin.status.active'));

        // --- The audit log: the event is there; the action filter keeps only its kind ---
        await navigate(page, (u) => u.pathname === '/admin/acme/audit', () => page.locator('nav.tabs').getByRole('link', { name: t('admin.audit'), exact: true }).click());
        await assertPage(page, lang, t('admin.audit'));
        const all = await auditRows(page);
        assert.ok(all.some((r) => r.action === 'admin.member.invited' && r.who === admin.login && r.whom === ''), JSON.stringify(all));
        assert.ok(all.some((r) => r.action === 'member.joined' && r.whom === invitee.login), JSON.stringify(all));
        const actionFilter = page.locator('form.search select[name="action"]');
        assert.ok((await page.locator('form.search label').first().textContent())?.startsWith(t('admin.audit.action')));
        await actionFilter.selectOption('admin.recovery_link.sent');
        await navigate(page, (u) => u.searchParams.get('action') === 'admin.recovery_link.sent', () => page.getByRole('button', { name: t('admin.audit.filter') }).click());
        assert.equal(await actionFilter.inputValue(), 'admin.recovery_link.sent');
        const sent = await auditRows(page);
        assert.ok(sent.length > 0 && sent.every((r) => r.action === 'admin.recovery_link.sent'), JSON.stringify(sent));
        assert.deepEqual(
          sent.filter((r) => r.whom === employee.login),
          [{ action: 'admin.recovery_link.sent', who: admin.login, what: `${t('action.admin.recovery_link.sent')} (${t('audit.detail.email')})`, whom: employee.login }],
        );
        await actionFilter.selectOption('admin.member.invited');
        await navigate(page, (u) => u.searchParams.get('action') === 'admin.member.invited', () => page.getByRole('button', { name: t('admin.audit.filter') }).click());
        const invited = await auditRows(page);
        assert.ok(invited.every((r) => r.action === 'admin.member.invited'), JSON.stringify(invited));
        assert.ok(invited.some((r) => r.who === admin.login && r.what.startsWith(t('action.admin.member.invited'))));

        // --- An existing passport of another portal: the same flash; it joins only by accepting, signed in ---
        await page.goto(`${base}/admin/acme/invite`);
        await page.getByLabel(t('admin.invite.email'), { exact: true }).fill(outsider.email);
        assert.equal(await submit(page, () => page.getByTestId('invite').click()), 200, await describePage(page));
        assert.equal(await text(page, 'flash'), t('admin.invite.done', { contact: outsider.email }));
        if (lang === 'ru') await shoot(page, 'admin-invite-ru');
        const [accept] = await smtp.waitFor((mail) => mail.to === outsider.email);
        assert.ok(accept);
        assert.equal(accept.subject, t('mail.invitation.subject', { portal: PORTAL.title }));
        const acceptLink = /https?:\/\/\S+\/invitations\/[A-Za-z0-9_-]+/.exec(accept.text)?.[0] ?? '';
        assert.ok(acceptLink.startsWith(`${base}/invitations/`), accept.text);
        const { context: outsiderContext, page: outsiderPage } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(outsiderContext);
        await outsiderPage.goto(`${acceptLink}?lang=${lang}`);
        await outsiderPage.waitForURL(`${base}/invitations`);
        await assertPage(outsiderPage, lang, t('invitation.title', { portal: PORTAL.title }));
        assert.equal(await text(outsiderPage, 'invitation-from'), t('invitation.from', { inviter: admin.login, portal: PORTAL.title }));
        await shoot(outsiderPage, `invitation-sign-in-${lang}`);
        await navigate(outsiderPage, (u) => u.pathname === '/login', () => outsiderPage.getByTestId('sign-in').click());
        assert.equal(await signIn(outsiderPage, t, outsider.login, PASSWORD), 303, await describePage(outsiderPage));
        assert.equal(pathOf(outsiderPage), '/invitations');
        await assertPage(outsiderPage, lang, t('invitation.title', { portal: PORTAL.title }));
        await shoot(outsiderPage, `invitation-accept-${lang}`);
        assert.equal(await submit(outsiderPage, () => outsiderPage.getByTestId('accept').click()), 303, await describePage(outsiderPage));
        assert.equal(pathOf(outsiderPage), '/portals');
        const joined = await outsiderPage.locator('ul.portals li').evaluateAll((items) => items.map((li) => li.getAttribute('data-portal')));
        assert.deepEqual(joined.sort(), [PORTAL.slug, OTHER_PORTAL.slug]);
        await outsiderContext.close();
        await page.goto(`${base}/admin/acme/users`);
        assert.equal((await listedRows(page)).get(outsider.login)?.[4], t('admin.status.active'));
        await signOut(page);

        assert.deepEqual(problems, []);
      } finally {
        await Promise.allSettled(contexts.map((c) => c.close()));
      }
    });
  }
});

describe('e2e: admin console, box edition (B3)', { timeout: 60_000 }, () => {
  const rig = new BrowserRig();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;
  let base = '';
  let portalSlug = '';

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite', withSmtp: true, env: { LATCHKEY_EDITION: 'box', LATCHKEY_RATE_LIMITS: 'off' } }));
    base = served.baseUrl;
    const { deps } = served.testApp;
    portalSlug = deps.config.boxPortal.slug;
    assert.equal(portalSlug, 'company');
    for (const { lang, admin, employee } of boxJourneys) {
      await addUser(deps, { ...admin, password: PASSWORD, locale: lang, portals: [{ slug: 'company', role: 'admin' }] });
      await addUser(deps, { ...employee, password: PASSWORD, locale: lang, portals: [{ slug: 'company', role: 'employee' }] });
    }
  });

  after(() => rig.stop());

  for (const journey of boxJourneys) {
    it(`[${journey.lang}] the admin sets a password with "must change" → the employee changes it → /portals`, { timeout: 30_000 }, async () => {
      assert.ok(browser);
      const { lang, admin, employee } = journey;
      const t = translator(lang);
      const portal = { slug: portalSlug, title: BOX_PORTAL_TITLE };
      const problems: string[] = [];
      const contexts: BrowserContext[] = [];
      try {
        const { context: adminContext, page } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(adminContext);

        // --- The admin: sign in → "Administration" → the employee from the list → the profile ---
        await page.goto(`${base}/login?lang=${lang}`);
        assert.equal(await signIn(page, t, admin.login, PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await administer(page, lang, t, portal);
        await navigate(page, (u) => /^\/admin\/company\/users\/[^/]+$/.test(u.pathname), () => page.getByRole('link', { name: employee.login, exact: true }).click());
        await assertPage(page, lang, BOX_PORTAL_TITLE);
        assert.equal(await text(page, 'member-login'), employee.login);
        assert.equal(((await page.locator('main h2').first().textContent()) ?? '').trim(), t('admin.profile'));
        assert.equal(((await page.locator('main h2').nth(1).textContent()) ?? '').trim(), t('admin.passwords'));
        assert.equal(await page.getByTestId('recover-email').count(), 0, 'no admin-sent links in the box edition');
        const newPassword = page.getByLabel(t('admin.newPassword'), { exact: true });
        const confirm = page.getByLabel(t('admin.confirmPassword'), { exact: true });
        const mustChange = page.getByLabel(t('admin.mustChange'), { exact: true });
        assert.equal((await page.getByTestId('set-password').textContent())?.trim(), t('admin.save'));

        // A confirmation that does not match: the mismatch message, nothing changed.
        await newPassword.fill(ADMIN_SET_PASSWORD);
        await confirm.fill(`${ADMIN_SET_PASSWORD}-typo`);
        await mustChange.check();
        assert.equal(await submit(page, () => page.getByTestId('set-password').click()), 400, await describePage(page));
        await assertPage(page, lang, BOX_PORTAL_TITLE);
        assert.equal(await text(page, 'form-error'), t('admin.mismatch'));
        assert.equal(await page.getByTestId('flash').count(), 0);

        // Twice the same, "must change" checked → the notice.
        await newPassword.fill(ADMIN_SET_PASSWORD);
        await confirm.fill(ADMIN_SET_PASSWORD);
        await mustChange.check();
        assert.equal(await submit(page, () => page.getByTestId('set-password').click()), 303, await describePage(page));
        assert.equal(new URL(page.url()).searchParams.get('set'), '1');
        await assertPage(page, lang, BOX_PORTAL_TITLE);
        assert.equal(await text(page, 'flash'), t('admin.passwordSet'));
        assert.equal(await page.getByTestId('form-error').count(), 0);
        await signOut(page);

        // --- The employee: that password → /account with the must-change message ---
        const { context: employeeContext, page: employeePage } = await openPage(browser, journey.browserLocale, problems);
        contexts.push(employeeContext);
        await employeePage.goto(`${base}/login?lang=${lang}`);
        assert.equal(await signIn(employeePage, t, employee.login, PASSWORD), 401, 'the old password no longer works');
        assert.equal(await signIn(employeePage, t, employee.login, ADMIN_SET_PASSWORD), 303, await describePage(employeePage));
        assert.equal(pathOf(employeePage), '/account?mustChange=1');
        await assertPage(employeePage, lang, t('account.title'));
        assert.equal(await text(employeePage, 'form-error'), t('account.mustChange'));
        // /portals is not reachable until the password is changed.
        await employeePage.goto(`${base}/portals`);
        assert.equal(pathOf(employeePage), '/account?mustChange=1');

        // Change it → the notice → /portals works.
        await employeePage.getByLabel(t('account.currentPassword'), { exact: true }).fill(ADMIN_SET_PASSWORD);
        await employeePage.getByLabel(t('account.newPassword'), { exact: true }).fill(OWN_PASSWORD);
        assert.equal(await submit(employeePage, () => employeePage.getByRole('button', { name: t('account.save') }).click()), 200, await describePage(employeePage));
        assert.equal(await text(employeePage, 'flash'), t('passwordChanged.flash'));
        assert.equal(await employeePage.getByTestId('form-error').count(), 0);
        await navigate(employeePage, (u) => u.pathname === '/portals', () => employeePage.locator('header.top').getByRole('link', { name: t('nav.portals') }).click());
        assert.equal(pathOf(employeePage), '/portals');
        await assertPage(employeePage, lang, t('portals.title'));
        assert.deepEqual(await employeePage.locator('ul.portals li strong').allTextContents(), [BOX_PORTAL_TITLE]);
        await signOut(employeePage);
        assert.equal(await signIn(employeePage, t, employee.login, OWN_PASSWORD), 303, await describePage(employeePage));
        assert.equal(pathOf(employeePage), '/portals');

        assert.deepEqual(problems, []);
      } finally {
        await Promise.allSettled(contexts.map((c) => c.close()));
      }
    });
  }
});
