import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { translator } from '../../src/ui/i18n.js';
import { PASSWORD } from '../support/app.js';
import { BrowserRig, type ServedApp } from '../support/browser.js';
import { FakeClock } from '../support/clock.js';
import { describePage, pathOf, signIn, submit, watchProblems, shootWidths } from '../support/page.js';
import { enrolThroughFlows } from '../support/second-factor.js';

/**
 * A lost phone in headless Chromium, once per language (issue 11, item 5): the admin pauses an employee's
 * second factor from the member page; the employee then signs in with the password alone and the chooser
 * offers only that portal.
 */

const SHOTS = '/tmp/shots';

const shoot = (page: Page, name: string) => shootWidths(page, SHOTS, name);

describe('e2e: an admin pauses a member\'s second factor', { timeout: 90_000 }, () => {
  const rig = new BrowserRig();
  let served: ServedApp | undefined;
  let browser: Browser | undefined;

  before(async () => {
    ({ served, browser } = await rig.start({ dialect: 'sqlite' }));
  });
  after(() => rig.stop());

  for (const lang of ['ru', 'en'] as Locale[]) {
    it(`${lang}: pause for 24 h → the employee signs in with the password alone, to that portal only`, async () => {
      assert.ok(served && browser);
      const t = translator(lang);
      const deps = served.testApp.deps;
      const slug = `acme-${lang}`;
      const other = `globex-${lang}`;
      await addPortal(deps, { slug, title: `Acme ${lang}` });
      await addPortal(deps, { slug: other, title: `Globex ${lang}` });
      await addUser(deps, { login: `boss-${lang}`, email: `boss-${lang}@example.com`, password: PASSWORD, locale: lang, portals: [{ slug, role: 'admin' }] });
      const employee = await addUser(deps, {
        login: `kira-${lang}`,
        email: `kira-${lang}@example.com`,
        password: PASSWORD,
        locale: lang,
        portals: [{ slug, role: 'employee' }, { slug: other, role: 'employee' }],
      });
      // The served app runs on the real clock; this one only computes the confirming code.
      await enrolThroughFlows(deps, employee.id, PASSWORD, new FakeClock(Date.now()));
      const adminContext = await browser.newContext({ viewport: { width: 1000, height: 760 } });
      const employeeContext = await browser.newContext();
      try {
        const admin = await adminContext.newPage();
        const person = await employeeContext.newPage();
        const problems = watchProblems(admin);
        watchProblems(person, problems);
        await admin.goto(`${served.baseUrl}/login?lang=${lang}`);
        assert.equal(await signIn(admin, t, `boss-${lang}`, PASSWORD), 303, await describePage(admin));

        await admin.goto(`${served.baseUrl}/admin/${slug}/users/${employee.id}`);
        assert.equal(((await admin.getByTestId('member-2fa').textContent()) ?? '').trim(), t('admin.2fa.on'));
        await admin.getByTestId('suspend-hours').selectOption('24');
        assert.equal(await submit(admin, () => admin.getByTestId('suspend-2fa').click()), 303, await describePage(admin));
        assert.equal(((await admin.getByTestId('flash').textContent()) ?? '').trim(), t('admin.done.suspended'));
        assert.match((await admin.getByTestId('member-2fa').textContent()) ?? '', new RegExp(t('admin.2fa.suspendedUntil', { until: 'X' }).split('X')[0] ?? ''));
        await shoot(admin, `2fa-suspend-${lang}`);

        await person.goto(`${served.baseUrl}/login?lang=${lang}`);
        assert.equal(await signIn(person, t, `kira-${lang}`, PASSWORD), 303, await describePage(person));
        assert.equal(pathOf(person), '/portals', 'no code asked');
        assert.equal(await person.locator(`li[data-portal="${slug}"]`).count(), 1);
        assert.equal(await person.locator(`li[data-portal="${other}"]`).count(), 0, 'only the pausing portal is offered');
        const refused = await person.goto(`${served.baseUrl}/portals/${other}`);
        assert.equal(refused?.status(), 403);
        assert.equal(await person.getByTestId('portal-limited').count(), 1);
        assert.deepEqual(problems.filter((p) => !p.includes(`/portals/${other}`)), []);
      } finally {
        await adminContext.close();
        await employeeContext.close();
      }
    });
  }
});
