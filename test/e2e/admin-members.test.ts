import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';

/**
 * Cutting a person off in headless Chromium, once per language (issue 13, item 4): the admin fires an
 * employee (the portal leaves the employee's chooser and refuses them), re-activates them from the list,
 * then ends all their sessions (the employee's browser is signed out).
 */

const SHOTS = '/tmp/shots';

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

describe('e2e: admin fires, re-activates and signs out a member', { timeout: 90_000 }, () => {
  const rig = new BrowserRig();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite' }));
  });
  after(() => rig.stop());

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: fire → the portal is gone for the employee → re-activate → end sessions`, async () => {
      assert.ok(served && browser);
      const t = translator(lang);
      const deps = served.testApp.deps;
      const slug = `acme-${lang}`;
      await addPortal(deps, { slug, title: `Acme ${lang}` });
      await addUser(deps, { login: `boss-${lang}`, email: `boss-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug, role: 'admin' }] });
      const employee = await addUser(deps, { login: `kira-${lang}`, email: `kira-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug, role: 'employee' }] });
      const adminContext = await browser.newContext({ viewport: { width: 1000, height: 760 } });
      const employeeContext = await browser.newContext();
      try {
        const admin = await adminContext.newPage();
        const person = await employeeContext.newPage();
        const problems = watchProblems(admin);
        watchProblems(person, problems);
        for (const [page, login] of [[admin, `boss-${lang}`], [person, `kira-${lang}`]] as const) {
          await page.goto(`${served.baseUrl}/login?lang=${lang}`);
          assert.equal(await signIn(page, t, login, PASSWORD), 303, await describePage(page));
        }
        assert.equal(await person.locator(`li[data-portal="${slug}"]`).count(), 1);

        await admin.goto(`${served.baseUrl}/admin/${slug}/users/${employee.id}`);
        assert.equal(((await admin.getByTestId('end-sessions').textContent()) ?? '').trim(), t('admin.endSessions'));
        assert.match((await admin.locator('main').textContent()) ?? '', new RegExp(t('admin.endSessions.hint').slice(0, 30)));
        await shoot(admin, `admin-member-${lang}`);
        assert.equal(await submit(admin, () => admin.getByTestId('fire').click()), 303, await describePage(admin));
        assert.equal(((await admin.getByTestId('flash').textContent()) ?? '').trim(), t('admin.done.fired'));
        assert.equal(((await admin.getByTestId('member-status').textContent()) ?? '').trim(), t('admin.status.fired'));

        await person.goto(`${served.baseUrl}/portals`);
        assert.equal(await person.locator(`li[data-portal="${slug}"]`).count(), 0, 'the chooser no longer offers the portal');
        const refused = await person.goto(`${served.baseUrl}/portals/${slug}`);
        assert.equal(refused?.status(), 404, '/portals/<slug> refuses a fired member');

        await admin.goto(`${served.baseUrl}/admin/${slug}/users`);
        const row = admin.locator(`tr[data-login="kira-${lang}"]`);
        assert.match((await row.textContent()) ?? '', new RegExp(t('admin.status.fired')));
        assert.equal(await submit(admin, () => row.getByTestId('reactivate').click()), 303, await describePage(admin));
        assert.equal(((await admin.getByTestId('flash').textContent()) ?? '').trim(), t('admin.done.reactivated'));
        await person.goto(`${served.baseUrl}/portals/${slug}`);
        assert.equal(pathOf(person), `/portals/${slug}`);

        assert.equal(await submit(admin, () => admin.getByTestId('end-sessions').click()), 303, await describePage(admin));
        assert.equal(((await admin.getByTestId('flash').textContent()) ?? '').trim(), t('admin.done.sessionsEnded'));
        await person.goto(`${served.baseUrl}/portals`);
        assert.equal(pathOf(person), '/login', "the employee's browser is signed out");
        assert.deepEqual(problems.filter((p) => !p.includes(`/portals/${slug}`)), []);
      } finally {
        await adminContext.close();
        await employeeContext.close();
      }
    });
  }
});
