import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { translator } from '../../src/ui/i18n.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort, launchBrowser } from '../support/browser.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { assertPage, describePage, pathOf, signIn, signOut, submit, watchProblems } from '../support/page.js';

/**
 * Social sign-in in headless Chromium, once per language, against the real app on a loopback port and
 * a real OpenID Connect provider (oidc-provider) on another: the provider's button on /login, a new
 * passport at the first sign-in, "create a login and password" on /account, and signing in with them
 * afterwards; and a consent cancelled at the provider, which gets a page in the visitor's language with
 * a way to try again.
 */

const CLIENT_ID = 'latchkey-e2e';
const CLIENT_SECRET = 'e2e-client-secret-0123456789abcdef';
const PROVIDER_TITLE = 'Test ID';
const NEW_PASSWORD = 'Juniper-Harbour-83-softly';

interface Journey {
  lang: Locale;
  /** The browser's own language (Accept-Language): the other one, so only `?lang=` can explain the page's language. */
  browserLocale: string;
  /** The login chosen in "create a login and password". */
  login: string;
}

const journeys: Journey[] = [
  { lang: 'ru', browserLocale: 'en-US', login: 'social-ru' },
  { lang: 'en', browserLocale: 'ru-RU', login: 'social-en' },
];

describe('e2e: social sign-in through an OpenID Connect provider in the browser', { timeout: 120_000 }, () => {
  let provider: TestOidcProvider | undefined;
  let testApp: TestApp | undefined;
  let browser: Browser | undefined;
  let base = '';

  before(async () => {
    // The provider must know the app's callback before the app starts, so the app's port comes first.
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    provider = await TestOidcProvider.start({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [`${base}/auth/test/callback`] });
    testApp = await startTestApp({
      dialect: 'sqlite',
      env: {
        LATCHKEY_PUBLIC_URL: base,
        // A journey signs in and out several times from one IP.
        LATCHKEY_RATE_LIMITS: 'off',
        LATCHKEY_SOCIAL_TEST_ISSUER: provider.issuer,
        LATCHKEY_SOCIAL_TEST_CLIENT_ID: CLIENT_ID,
        LATCHKEY_SOCIAL_TEST_CLIENT_SECRET: CLIENT_SECRET,
        LATCHKEY_SOCIAL_TEST_TITLE: PROVIDER_TITLE,
      },
    });
    await testApp.app.listen({ host: '127.0.0.1', port });
    browser = await launchBrowser();
  });

  after(async () => {
    // Everything is stopped even if something before it fails to stop (or never started).
    const results = await Promise.allSettled([browser?.close(), testApp?.close(), provider?.stop()]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  });

  /** The addresses of every top-level navigation (redirects included), to see that a sign-in went through the provider. */
  const recordNavigations = (page: Page): string[] => {
    const urls: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) urls.push(request.url());
    });
    return urls;
  };

  /** The provider's button on /login: its text, where it leads. */
  const assertProviderButton = async (page: Page, lang: Locale): Promise<void> => {
    const t = translator(lang);
    const button = page.getByTestId('social-test');
    assert.equal((await button.textContent())?.trim(), t('social.signInWith', { provider: PROVIDER_TITLE }));
    assert.equal(await button.getAttribute('href'), '/auth/test');
  };

  for (const journey of journeys) {
    const { lang, login } = journey;
    const t = translator(lang);

    it(`[${lang}] signs in through the provider, creates a login and password, signs in with them`, { timeout: 40_000 }, async () => {
      assert.ok(browser && provider);
      const email = `vera.${lang}@example.org`;
      provider.nextUser = { sub: `e2e-${lang}-subject`, email, emailVerified: true, name: `Social ${lang}` };
      const context = await browser.newContext({ locale: journey.browserLocale, viewport: { width: 1000, height: 760 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        const problems = watchProblems(page);
        const navigations = recordNavigations(page);

        // --- /login in the language asked for, with the provider's button ---
        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        await assertProviderButton(page, lang);

        // --- The button: to the provider (which answers for nextUser) and back, signed in ---
        await page.getByTestId('social-test').click();
        await page.waitForURL(`${base}/portals`);
        await assertPage(page, lang, t('portals.title'));
        const authorize = navigations.find((url) => url.startsWith(`${provider?.issuer}/auth?`));
        assert.ok(authorize, `never went to the provider: ${navigations.join(' → ')}`);
        assert.equal(new URL(authorize).searchParams.get('redirect_uri'), `${base}/auth/test/callback`);
        assert.ok(
          navigations.some((url) => url.startsWith(`${base}/auth/test/callback?`)),
          `never came back to the callback: ${navigations.join(' → ')}`,
        );
        // Signed in (the navigation with "Sign out" is shown), with no notice.
        assert.equal(await page.getByTestId('sign-out').count(), 1);
        assert.equal(await page.getByTestId('flash').count(), 0);

        // --- /account: no password yet, the provider is linked, the create form is offered ---
        await page.locator('nav').getByRole('link', { name: t('nav.account') }).click();
        await page.waitForURL(`${base}/account`);
        await assertPage(page, lang, t('account.title'));
        const methods = page.getByTestId('sign-in-methods');
        assert.equal((await methods.locator('li[data-method="password"] small').textContent())?.trim(), t('account.methods.passwordNone'));
        assert.ok((await methods.locator('li[data-method="test"]').textContent())?.includes(PROVIDER_TITLE), await describePage(page));
        assert.equal(await page.locator('h2#password').textContent(), t('account.createPassword'));
        assert.ok((await page.locator('main').textContent())?.includes(t('account.createPassword.intro')));
        const createForm = page.getByTestId('create-password');
        const loginField = createForm.getByLabel(t('account.createPassword.login'), { exact: true });
        const passwordField = createForm.getByLabel(t('account.newPassword'), { exact: true });
        assert.equal(await loginField.getAttribute('autocomplete'), 'username');
        assert.equal(await passwordField.getAttribute('autocomplete'), 'new-password');
        assert.equal(await passwordField.getAttribute('type'), 'password');
        // The login field starts with the passport's current login.
        const currentLogin = ((await page.getByTestId('account-login').textContent()) ?? '').trim();
        assert.ok(currentLogin.length > 0);
        assert.notEqual(currentLogin, login);
        assert.equal(await loginField.inputValue(), currentLogin);
        await page.screenshot({ path: path.join(os.tmpdir(), `latchkey-e2e-social-${lang}-account.png`), fullPage: true });

        // --- Create a login and password ---
        await loginField.fill(login);
        await passwordField.fill(NEW_PASSWORD);
        const created = await submit(page, () => createForm.getByRole('button', { name: t('account.createPassword.save') }).click());
        assert.equal(created, 303, await describePage(page));
        assert.equal(pathOf(page), '/account?done=password');
        await assertPage(page, lang, t('account.title'));
        assert.equal((await page.getByTestId('flash').textContent())?.trim(), t('account.createPassword.done'));
        assert.equal((await page.getByTestId('account-login').textContent())?.trim(), login);
        assert.equal((await methods.locator('li[data-method="password"] small').textContent())?.trim(), t('account.methods.passwordSet'));
        assert.ok((await methods.locator('li[data-method="test"]').textContent())?.includes(PROVIDER_TITLE));
        // The create form gives way to "change password".
        assert.equal(await page.getByTestId('create-password').count(), 0);
        assert.equal(await page.locator('h2#password').textContent(), t('account.changePassword'));

        // --- Sign out, sign in with the new login and password ---
        await signOut(page);
        await assertPage(page, lang, t('login.title'));
        assert.equal(await signIn(page, t, login, NEW_PASSWORD), 303, await describePage(page));
        assert.equal(pathOf(page), '/portals');
        await assertPage(page, lang, t('portals.title'));
        assert.ok((await page.locator('main').textContent())?.includes(t('portals.intro', { login })), await describePage(page));
        await page.screenshot({ path: path.join(os.tmpdir(), `latchkey-e2e-social-${lang}-portals.png`), fullPage: true });

        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    it(`[${lang}] a consent cancelled at the provider shows why, in the chosen language, and "Try again" works`, { timeout: 30_000 }, async () => {
      assert.ok(browser && provider);
      provider.nextUser = { sub: `e2e-${lang}-cancelled`, email: `cancelled-${lang}@example.org`, emailVerified: true };
      // A fresh context: no session at the provider, so it asks (and this time the person cancels).
      const context = await browser.newContext({ locale: journey.browserLocale, viewport: { width: 1000, height: 760 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(10_000);
        const problems = watchProblems(page);

        await page.goto(`${base}/login?lang=${lang}`);
        await assertPage(page, lang, t('login.title'));
        await assertProviderButton(page, lang);

        provider.cancel = true;
        let status: number;
        try {
          const callback = page.waitForResponse((r) => r.url().startsWith(`${base}/auth/test/callback?`));
          await page.getByTestId('social-test').click();
          status = (await callback).status();
          await page.waitForURL((url) => url.pathname === '/auth/test/callback');
          await page.getByTestId('social-error').waitFor();
        } finally {
          provider.cancel = false;
        }
        assert.equal(status, 400, await describePage(page));
        await assertPage(page, lang, t('social.error.title', { provider: PROVIDER_TITLE }));
        const error = page.getByTestId('social-error');
        assert.equal(await error.getAttribute('data-reason'), 'cancelled');
        assert.equal((await error.textContent())?.trim(), t('social.error.cancelled', { provider: PROVIDER_TITLE }));
        assert.ok((await page.locator('main').textContent())?.includes(t('social.error.reason', { code: 'cancelled' })));
        // "Try again" starts a new sign-in; "Back to sign-in" leads to /login.
        const again = page.getByRole('link', { name: t('social.error.again'), exact: true });
        assert.equal(await again.getAttribute('href'), '/auth/test');
        assert.equal(await page.getByRole('link', { name: t('recover.backToLogin'), exact: true }).getAttribute('href'), '/login');
        await page.screenshot({ path: path.join(os.tmpdir(), `latchkey-e2e-social-${lang}-cancelled.png`), fullPage: true });
        // Nobody is signed in.
        assert.equal(await page.getByTestId('sign-out').count(), 0);

        // --- "Try again", this time allowing access: signed in ---
        await again.click();
        await page.waitForURL(`${base}/portals`);
        await assertPage(page, lang, t('portals.title'));
        assert.equal(await page.getByTestId('sign-out').count(), 1);

        assert.deepEqual(problems, []);
      } finally {
        provider.cancel = false;
        await context.close();
      }
    });
  }
});
