import type { Locale } from '../domain/locale.js';
import type { NotMeView } from '../flows/not-me.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { layout } from './layout.js';

const PATH = '/account/not-me';

/** The confirm page of "this wasn't me" (SPEC §11): says what the button does; opening it changed nothing. */
export function notMeConfirmPage(lang: Locale, view: NotMeView, csrf: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('notMe.title'), path: PATH },
    html`<h1>${t('notMe.title')}</h1>
<p>${t('notMe.intro', { login: view.login })}</p>
<ul class="steps">
  <li>${t('notMe.step.lock')}</li>
  <li>${t('notMe.step.signOut')}</li>
  <li>${t('notMe.step.admins')}</li>
  <li>${t(view.channel === 'phone' ? 'notMe.step.link.phone' : 'notMe.step.link.email', { contact: view.contact })}</li>
</ul>
<form method="post" action="${PATH}">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button type="submit" class="danger" data-testid="not-me-confirm">${t('notMe.confirm')}</button>
</form>
<p><a href="/account">${t('notMe.itWasMe')}</a></p>`,
  );
}

/** After the POST: locked, signed out everywhere, where the unlock link went and what to do next. */
export function notMeDonePage(lang: Locale, view: NotMeView, hours: number): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('notMe.done.title'), path: PATH },
    html`<h1 data-testid="not-me-done">${t('notMe.done.title')}</h1>
<div class="notice" role="status">${t(view.channel === 'phone' ? 'notMe.done.phone' : 'notMe.done.email', { contact: view.contact, hours })}</div>
<p>${t('notMe.done.next')}</p>
<p class="muted">${t('notMe.done.noLetter')}</p>`,
  );
}

/** An expired, used or unknown link: what to do next, whichever case the reader is in. */
export function notMeInvalidPage(lang: Locale): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('notMe.invalid.title'), path: PATH },
    html`<h1 data-testid="invalid-link">${t('notMe.invalid.title')}</h1>
<p>${t('notMe.invalid.body')}</p>
<ul class="steps">
  <li><a href="/login?next=%2Faccount%2Fsessions">${t('notMe.invalid.signIn')}</a></li>
  <li><a href="/recover">${t('notMe.invalid.recover')}</a></li>
</ul>
<p class="muted">${t('notMe.invalid.locked')}</p>`,
  );
}
