import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Locale } from '../../src/domain/locale.js';
import { pathOf, watchProblems } from './page.js';

/**
 * The layout checks of test/e2e/layout*.test.ts (issue 14, item 9): a page is looked at 390 px wide (a
 * phone) and 1280 px (a desktop); one wider than its window (it scrolls sideways) or whose header wraps
 * onto a second line at 390 px is recorded, and both widths are saved as screenshots to be looked at.
 */

export const LAYOUT_SHOTS = '/tmp/shots/layout-brand';
export const NARROW = 390;
export const WIDE = 1280;
const HEIGHT = 844;

export const LAYOUT_LANGS: Array<{ lang: Locale; browserLocale: string }> = [
  { lang: 'ru', browserLocale: 'ru-RU' },
  { lang: 'en', browserLocale: 'en-US' },
];

export interface Visit {
  lang: Locale;
  /** What a person sees: the file name of the screenshot and the name in the failure list. */
  name: string;
}

/** How wide the page is laid out, against the window. */
async function sidewaysScroll(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

/** The height of the page's header (one line of links at a desktop's width). */
async function headerHeight(page: Page): Promise<number> {
  return page.evaluate(() => Math.round(document.querySelector('header.top')?.getBoundingClientRect().height ?? 0));
}

export class LayoutCheck {
  /** What is wrong, one line per page and fault; a test asserts it is empty once every page was seen. */
  readonly faults: string[] = [];
  /** Console errors, script errors and failed sub-resources of every page (test/support/page.ts). */
  readonly problems: string[] = [];
  readonly visited: string[] = [];

  constructor(private readonly browser: Browser) {
    fs.mkdirSync(LAYOUT_SHOTS, { recursive: true });
  }

  async newPage(browserLocale: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext({ locale: browserLocale, viewport: { width: NARROW, height: HEIGHT } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watchProblems(page, this.problems);
    return { context, page };
  }

  /** Measures the page at 390 px, then saves it at 390 and 1280 px. */
  async look(page: Page, visit: Visit): Promise<void> {
    this.visited.push(`${visit.lang}/${visit.name}`);
    const where = `${visit.lang} ${visit.name} (${pathOf(page)})`;
    await page.setViewportSize({ width: NARROW, height: HEIGHT });
    const narrow = await sidewaysScroll(page);
    if (narrow.scrollWidth > narrow.innerWidth) this.faults.push(`${where}: ${narrow.scrollWidth} px wide in a ${narrow.innerWidth} px window`);
    const narrowHeader = await headerHeight(page);
    await page.screenshot({ path: path.join(LAYOUT_SHOTS, `${visit.lang}-${visit.name}-${NARROW}.png`), fullPage: true });
    await page.setViewportSize({ width: WIDE, height: HEIGHT });
    const wideHeader = await headerHeight(page);
    if (narrowHeader > wideHeader + 1) this.faults.push(`${where}: the header wraps at ${NARROW} px (${narrowHeader} px tall, ${wideHeader} px at ${WIDE} px)`);
    await page.screenshot({ path: path.join(LAYOUT_SHOTS, `${visit.lang}-${visit.name}-${WIDE}.png`), fullPage: true });
    await page.setViewportSize({ width: NARROW, height: HEIGHT });
  }

  async open(base: string, address: string, page: Page, visit: Visit): Promise<void> {
    await page.goto(new URL(address, base).href);
    await this.look(page, visit);
  }
}

/** The newest link in /dev/outbox whose address starts with `prefix`, waiting for the worker to send it. */
export async function outboxLink(page: Page, base: string, prefix: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    await page.goto(`${base}/dev/outbox`);
    const links = await page.getByTestId('outbox-link').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('href') ?? ''));
    const found = links.find((href) => href.startsWith(`${base}${prefix}`));
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${prefix} link in the outbox`);
}
