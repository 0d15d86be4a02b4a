import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.js';
import { freeLoopbackPort, launchBrowser } from '../support/browser.js';

/**
 * Issue 14 item 13: the README's "try social sign-in locally" recipe works as written. `npm run social:local`
 * (scripts/social-test-provider.js) is started as a child, Latchkey with exactly the variables it prints, and a
 * person signs in through its login form in Chromium and lands at Latchkey signed in.
 */
describe('e2e: the local social sign-in recipe of the README', { timeout: 90_000 }, () => {
  let child: ChildProcess | undefined;
  let testApp: TestApp | undefined;
  let browser: Browser | undefined;
  let base = '';
  let printed = '';

  before(async () => {
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    const providerPort = await freeLoopbackPort();
    child = spawn(process.execPath, ['scripts/social-test-provider.js'], { env: { ...process.env, PORT: String(providerPort), LATCHKEY_PUBLIC_URL: base }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const deadline = Date.now() + 20_000;
    while (!printed.includes('npm start') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // The variables exactly as the script printed them.
    const env = Object.fromEntries([...printed.matchAll(/(LATCHKEY_SOCIAL_[A-Z_]+)=("[^"]*"|\S+)/g)].map(([, key, value]) => [key, (value ?? '').replace(/^"|"$/g, '')]));
    assert.equal(Object.keys(env).length, 4, printed);
    testApp = await startTestApp({ dialect: 'sqlite', env: { LATCHKEY_PUBLIC_URL: base, ...env } as Record<string, string> });
    await testApp.app.listen({ host: '127.0.0.1', port });
    browser = await launchBrowser();
  });

  after(async () => {
    child?.kill();
    if (child && child.exitCode === null) await once(child, 'exit');
    const results = await Promise.allSettled([browser?.close(), testApp?.close()]);
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  });

  it('signs a newcomer in through the local provider, with the e-mail typed as the login', async () => {
    assert.ok(browser);
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${base}/login?lang=en`);
      await page.getByTestId('social-local').click();
      // The library's development login form: any login, any password.
      await page.locator('input[name="login"]').fill('newcomer@example.org');
      await page.locator('input[name="password"]').fill('anything');
      await page.locator('button[type="submit"]').click();
      // Its consent screen.
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(`${base}/portals`);
      assert.equal(await page.getByTestId('sign-out').count(), 1);
      const account = await testApp?.deps.store.db.selectFrom('accounts').select(['email', 'email_verified_at']).where('email', '=', 'newcomer@example.org').executeTakeFirst();
      assert.ok(account?.email_verified_at, 'the passport was created with the provider e-mail, verified');
    } finally {
      await context.close();
    }
  });
});
