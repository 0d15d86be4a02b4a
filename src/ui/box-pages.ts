import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { errorList, layout } from './layout.js';

/** Pages of the box edition's recovery (seed B1–B2); they work without JavaScript. */

export const CHECKWORD_PATH = '/recover/checkword';

/** B1: "Forgot your password?" → login or e-mail → "Send checkword". */
export function boxRecoverPage(lang: Locale, values: { login?: string; errors?: string[] } = {}): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('box.recover.title'), path: '/recover' },
    html`<h1>${t('box.recover.title')}</h1>
<p>${t('box.recover.intro')}</p>
${errorList(t, values.errors ?? [])}
<form method="post" action="/recover" novalidate>
  <label>${t('box.recover.identifier')}<input name="login" autocomplete="username" required maxlength="320" value="${values.login ?? ''}" autofocus></label>
  <button type="submit" data-testid="send-checkword">${t('box.recover.submit')}</button>
</form>
<details class="help"><summary>${t('box.recover.forgotLogin')}</summary><p>${t('box.recover.forgotLoginHelp')}</p></details>
<p><a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

/** The answer to "Send checkword": the same page for every input. */
export function boxSentPage(lang: Locale, minutes: number): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('box.sent.title'), path: '/recover' },
    html`<h1 data-testid="recover-sent">${t('box.sent.title')}</h1>
<p>${t('box.sent.body', { minutes })}</p>
<p class="muted">${t('box.sent.noMail')}</p>
<p><a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

/**
 * B2: login (prefilled), new password, confirmation, and the checkword filled in and read-only. Its
 * address holds no checkword (it came in a cookie scoped to this path), so the default referrer policy
 * stays and the browser posts with a real Origin.
 */
export function checkwordFormPage(lang: Locale, values: { login: string; checkword: string; errors?: string[] }): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('box.form.title'), path: CHECKWORD_PATH },
    html`<h1>${t('box.form.title')}</h1>
<p>${t('box.form.intro')}</p>
${errorList(t, values.errors ?? [])}
<form method="post" action="${CHECKWORD_PATH}" novalidate>
  <label>${t('box.form.login')}<input name="login" autocomplete="username" required maxlength="320" value="${values.login}"></label>
  <label>${t('box.form.password')}<input name="password" type="password" autocomplete="new-password" required maxlength="1024" autofocus></label>
  <label>${t('box.form.passwordConfirm')}<input name="passwordConfirm" type="password" autocomplete="new-password" required maxlength="1024"></label>
  <p class="muted">${t('password.rules')}</p>
  <label>${t('box.form.checkword')}<input name="checkword" autocomplete="off" spellcheck="false" readonly required maxlength="200" value="${values.checkword}" data-testid="checkword"></label>
  <button type="submit">${t('box.form.submit')}</button>
</form>`,
  );
}

/** A changed, used, expired or other login's checkword: one page, no detail. */
export function invalidCheckwordPage(lang: Locale): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('box.invalid.title'), path: '/recover' },
    html`<h1 data-testid="invalid-link">${t('box.invalid.title')}</h1>
<p>${t('box.invalid.body')}</p>
<p><a href="/recover">${t('box.invalid.again')}</a></p>`,
  );
}
