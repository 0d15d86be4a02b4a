import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import type { Translate } from '../../src/ui/i18n.js';

/**
 * Page helpers shared by the browser tests in test/e2e: where the page is, what it says, and the
 * form posts every journey makes (sign in, sign out). They drive a Playwright `Page` and assert with
 * `node:assert/strict`; none of them keeps state between calls.
 */

/** The text of the page's first `<h1>`, trimmed ('' when there is none or it is empty). */
async function h1(page: Page): Promise<string> {
  return ((await page.locator('h1').first().textContent()) ?? '').trim();
}

/** The page is a whole page in `lang`: `<html lang>` and the heading. */
export async function assertPage(page: Page, lang: Locale, heading: string): Promise<void> {
  assert.equal(await page.locator('html').getAttribute('lang'), lang, `html lang on ${page.url()}`);
  assert.equal(await h1(page), heading, `heading on ${page.url()}`);
}

/** The page's address without scheme and host: its path and query string (`/portals?changed=1`). */
export function pathOf(page: Page): string {
  const url = new URL(page.url());
  return url.pathname + url.search;
}

/**
 * Submits a form by POST and waits until the page that answers it has loaded; returns the status of
 * the answer to the post itself (303 when it redirects).
 */
export async function submit(page: Page, action: () => Promise<void>): Promise<number> {
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest());
  const loaded = page.waitForEvent('domcontentloaded');
  await action();
  const [response] = await Promise.all([answer, loaded]);
  return response.status();
}

/** What the page says (its URL and the start of `<main>`, white space folded), for failure messages. */
export async function describePage(page: Page): Promise<string> {
  const shown = ((await page.locator('main').textContent().catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
  return `${page.url()}: ${shown.slice(0, 300)}`;
}

/**
 * Collects the page's problems into `problems` (a new list unless one is given, so that several pages
 * can share one) and returns that list: console errors (a CSP violation, a script error), uncaught
 * script errors, failed requests, and sub-resources answered with 4xx/5xx. Chromium also logs every
 * 4xx answer as "Failed to load resource": for pages that is expected (401, 422, …), the favicon is
 * not served (404), and sub-resources are checked through `response` instead, so those lines are
 * skipped.
 */
export function watchProblems(page: Page, problems: string[] = []): string[] {
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()} @ ${message.location().url}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'document' && response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return problems;
}

/** Fills and posts the sign-in form on the current page; returns the status of the answer (303 or 401). */
export async function signIn(page: Page, t: Translate, login: string, password: string): Promise<number> {
  await page.getByLabel(t('login.identifier')).fill(login);
  await page.getByLabel(t('login.password')).fill(password);
  return submit(page, () => page.locator('form[action="/login"]').getByRole('button', { name: t('login.submit') }).click());
}

/** Posts "Sign out" and asserts that it redirects (303) to the sign-in page. */
export async function signOut(page: Page): Promise<void> {
  assert.equal(await submit(page, () => page.getByTestId('sign-out').click()), 303, await describePage(page));
  assert.equal(pathOf(page), '/login');
}

export interface ShotOptions {
  /** False for a page of another app (the example portal app): its sideways scroll is returned, not asserted. */
  ownLayout?: boolean;
  /** False: check the widths only, keep no picture. */
  save?: boolean;
}

/**
 * The page at a phone's (390 px) and a desktop's (1280 px) width, saved as `<dir>/<name>-<width>.png` to be
 * looked at: at both widths nothing of ours scrolls sideways. Returns the sideways scroll of a page that is
 * not ours (`ownLayout: false`), one line per width. The viewport goes back to 1000×760 afterwards.
 */
export async function shootWidths(page: Page, dir: string, name: string, options: ShotOptions = {}): Promise<string[]> {
  const { ownLayout = true, save = true } = options;
  if (save) fs.mkdirSync(dir, { recursive: true });
  const notes: string[] = [];
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (ownLayout) assert.ok(overflow <= 0, `${name}: ${overflow} px of sideways scroll at ${width} px`);
    else if (overflow > 0) notes.push(`${name}: ${overflow} px sideways at ${width} px`);
    if (save) await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1000, height: 760 });
  return notes;
}
