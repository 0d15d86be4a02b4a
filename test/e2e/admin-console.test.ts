import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';

/**
 * The admin console of issue 14, item 10, in headless Chromium, once per language: role change (and the
 * last admin's refusal), the member's name, the list's filters, the audit log's filters and its CSV export.
 */

const SHOTS = '/tmp/shots/console-cli';

/** `ownLayout: false` for a page that is not ours: its width is not held to our rule. */
const shoot = (page: Page, name: string, ownLayout = true) => shootWidths(page, SHOTS, name, { ownLayout });

const text = async (page: Page, testId: string) => ((await page.getByTestId(testId).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

describe('e2e: admin console: role, name, filters, audit export', { timeout: 120_000 }, () => {
  const rig = new BrowserRig();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite' }));
  });
  after(() => rig.stop());

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: make an admin, the last admin refused, edit a name, filter the list, filter and export the audit log`, async () => {
      assert.ok(served && browser);
      const t = translator(lang);
      const deps = served.testApp.deps;
      const slug = `console-${lang}`;
      await addPortal(deps, { slug, title: `Console ${lang}` });
      const boss = await addUser(deps, { login: `chief-${lang}`, email: `chief-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug, role: 'admin' }] });
      const employee = await addUser(deps, { login: `mira-${lang}`, email: `mira-${lang}@example.com`, password: PASSWORD, locale: lang, name: 'Mira', portals: [{ slug, role: 'employee' }] });
      await addUser(deps, { login: `lev-${lang}`, email: `lev-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug, role: 'employee' }] });
      const context = await browser.newContext({ viewport: { width: 1000, height: 760 }, acceptDownloads: true });
      try {
        const page = await context.newPage();
        const problems = watchProblems(page);
        await page.goto(`${served.baseUrl}/login?lang=${lang}`);
        assert.equal(await signIn(page, t, `chief-${lang}`, PASSWORD), 303, await describePage(page));

        // The last admin cannot step down: the page says why, and stays.
        await page.goto(`${served.baseUrl}/admin/${slug}/users/${boss.id}`);
        assert.equal(await submit(page, () => page.getByTestId('make-employee').click()), 409, await describePage(page));
        assert.equal(await text(page, 'form-error'), t('console.error.lastAdmin'));
        await shoot(page, `member-last-admin-${lang}`);

        // Mira becomes an administrator; her name is edited.
        await page.goto(`${served.baseUrl}/admin/${slug}/users/${employee.id}`);
        assert.equal(await text(page, 'member-role'), t('console.role.current', { role: t('admin.role.employee') }));
        assert.equal(await submit(page, () => page.getByTestId('make-admin').click()), 303, await describePage(page));
        assert.equal(await text(page, 'flash'), t('console.done.roleChanged'));
        assert.equal(await text(page, 'member-role'), t('console.role.current', { role: t('admin.role.admin') }));
        await page.getByTestId('name-input').fill('Мира Соколова');
        assert.equal(await submit(page, () => page.getByTestId('save-name').click()), 303, await describePage(page));
        assert.equal(await text(page, 'flash'), t('console.done.renamed'));
        assert.equal(await page.getByTestId('name-input').inputValue(), 'Мира Соколова');
        assert.match((await page.locator('dl.profile').textContent()) ?? '', /Мира Соколова/);
        await shoot(page, `member-${lang}`);

        // The list, filtered to administrators.
        await page.goto(`${served.baseUrl}/admin/${slug}/users`);
        assert.equal(await page.locator('tr[data-login]').count(), 3);
        await page.getByTestId('filter-role').selectOption('admin');
        await Promise.all([page.waitForURL(/role=admin/), page.locator('form.search button[type="submit"]').click()]);
        assert.deepEqual((await page.locator('tr[data-login]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-login')))).sort(), [`chief-${lang}`, `mira-${lang}`]);
        assert.equal(await text(page, 'member-count'), t('console.found', { count: 2 }));
        await shoot(page, `members-filtered-${lang}`, false);

        // The audit log, filtered to role changes of Mira, then exported.
        await page.goto(`${served.baseUrl}/admin/${slug}/audit`);
        await page.locator('select[name="action"]').selectOption('admin.member.role_changed');
        await page.locator('input[name="login"]').fill(`mira-${lang}`);
        const today = new Date().toISOString().slice(0, 10);
        await page.getByTestId('audit-from').fill(today);
        await page.getByTestId('audit-to').fill(today);
        await Promise.all([page.waitForURL(/action=admin\.member\.role_changed/), page.locator('form.search button[type="submit"]').click()]);
        const rows = page.locator('table[data-testid="audit"] tbody tr');
        assert.equal(await rows.count(), 1, await describePage(page));
        const row = ((await rows.first().textContent()) ?? '').replace(/\s+/g, ' ');
        assert.match(row, new RegExp(`${t('action.admin.member.role_changed')} \\(${t('admin.role.admin')}\\)`));
        assert.match(row, new RegExp(`chief-${lang}.*mira-${lang}`));
        await shoot(page, `audit-${lang}`);

        const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
        assert.equal(download.suggestedFilename(), `audit-${slug}-${today}.csv`);
        const csv = fs.readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '');
        const lines = csv.trim().split('\r\n');
        assert.equal(lines[0], 'at,action,actor,target,ip,detail');
        assert.equal(lines.length, 2, csv);
        assert.match(lines[1] ?? '', new RegExp(`^${today}T[^,]+,admin\\.member\\.role_changed,chief-${lang},mira-${lang},[^,]+,admin$`));
        assert.equal(pathOf(page).split('?')[0], `/admin/${slug}/audit`);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
