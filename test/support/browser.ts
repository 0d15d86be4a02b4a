import { freeLoopbackPort } from '../../scripts/free-port.js';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';
import { TestSmtpServer } from './smtp.js';

/** Debian's system Chromium; Playwright's own browser downloads are never used. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless system Chromium. `headless: true` (Playwright's default) already adds `--headless`, and
 * `chromiumSandbox: false` (also the default) adds `--no-sandbox`; the rest keep the browser quiet and
 * off the network except for the pages it is sent to. Playwright already passes some of these itself;
 * naming them here keeps them on if its defaults ever change.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    chromiumSandbox: false,
    args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A free TCP port on the loopback interface (there is a small window in which someone else may take it). */
export { freeLoopbackPort };

export interface ServedAppOptions extends Omit<TestAppOptions, 'env'> {
  /** Where letters go (`smtp://…`); unset = the development outbox. */
  smtpUrl?: string;
  /** More settings; they override the ones set here. */
  env?: Record<string, string>;
}

export interface ServedApp {
  /** `http://127.0.0.1:<port>`, which is also the app's LATCHKEY_PUBLIC_URL (so links and Origin checks line up). */
  baseUrl: string;
  testApp: TestApp;
  close(): Promise<void>;
}

/**
 * The real app listening on a loopback port, for a real browser. Its public URL is the address it
 * listens on, so the links in letters lead back to it and the browser's Origin header matches.
 * Rate limits are off: a journey signs in and out several times from one IP.
 */
export async function startServedApp(options: ServedAppOptions): Promise<ServedApp> {
  const { smtpUrl, env, ...rest } = options;
  const port = await freeLoopbackPort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const testApp = await startTestApp({
    ...rest,
    env: {
      LATCHKEY_PUBLIC_URL: baseUrl,
      LATCHKEY_RATE_LIMITS: 'off',
      ...(smtpUrl === undefined ? {} : { LATCHKEY_SMTP_URL: smtpUrl }),
      ...env,
    },
  });
  try {
    await testApp.app.listen({ host: '127.0.0.1', port });
  } catch (error) {
    await testApp.close();
    throw error;
  }
  return { baseUrl, testApp, close: () => testApp.close() };
}

/**
 * What a browser test starts in `before` and stops in `after`: the served app, Chromium, and with `withSmtp`
 * a real SMTP server (`smtp`) the app's letters go to. `stop` stops whatever started, every part even when
 * one of them fails to stop.
 */
export class BrowserRig {
  readonly smtp = new TestSmtpServer();
  private served: ServedApp | undefined;
  private browser: Browser | undefined;
  private withSmtp = false;

  async start(options: Omit<ServedAppOptions, 'smtpUrl'> & { withSmtp?: boolean }): Promise<{ served: ServedApp; browser: Browser }> {
    const { withSmtp = false, ...served } = options;
    this.withSmtp = withSmtp;
    this.served = await startServedApp(withSmtp ? { ...served, smtpUrl: await this.smtp.start() } : served);
    this.browser = await launchBrowser();
    return { served: this.served, browser: this.browser };
  }

  async stop(): Promise<void> {
    const results = await Promise.allSettled([this.browser?.close(), this.served?.close()]);
    // After the app: it may still be handing a letter over.
    if (this.withSmtp) await this.smtp.stop();
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }
}
