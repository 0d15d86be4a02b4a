import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { errorList, layout, type PageFrame } from './layout.js';

/** The e-mail and phone change pages (SPEC §11): forms on /account, "check your mailbox", "enter the code", the link's confirm form. */

type Nav = NonNullable<PageFrame['nav']>;

export interface ContactFormView {
  kind: 'email' | 'phone';
  /** The contact the account has now, if any. */
  current: string | null;
  /** A change waiting for its proof (shown above the form, with a way on to the code for a phone). */
  pending?: string;
  /** What the person typed, kept when the form comes back with an error. */
  typed?: string;
  /** The account has no password to confirm with (a social-only account). */
  noPassword?: boolean;
  errors?: string[];
}

/** `/account/email` and `/account/phone`: the password and the new contact. */
export function contactFormPage(lang: Locale, nav: Nav, view: ContactFormView): string {
  const t = translator(lang);
  const { kind } = view;
  const path = `/account/${kind}`;
  const input =
    kind === 'email'
      ? html`<label>${t('contact.newEmail')}<input name="email" type="email" autocomplete="email" inputmode="email" required maxlength="254" value="${view.typed ?? ''}" data-testid="new-contact"></label>`
      : html`<label>${t('contact.newPhone')}<input name="phone" type="tel" autocomplete="tel" inputmode="tel" required maxlength="40" value="${view.typed ?? ''}" data-testid="new-contact"></label>`;
  const pending = view.pending
    ? html`<div class="notice" role="status" data-testid="pending">${t(`contact.pending.${kind}`, { value: view.pending })}${kind === 'phone' ? html` <a href="/account/phone/code" data-testid="enter-code">${t('contact.enterCode')}</a>` : ''}</div>`
    : '';
  const body = view.noPassword
    ? html`<p data-testid="no-password">${t('contact.noPassword')}</p><p><a class="button" href="/account#password">${t('account.createPassword')}</a></p>`
    : html`<form method="post" action="${path}" novalidate data-testid="contact-form">
  <input type="hidden" name="_csrf" value="${nav.csrf}">
  <input type="text" name="username" autocomplete="username" value="${nav.login}" hidden readonly>
  ${input}
  <label>${t('contact.password')}<input name="password" type="password" autocomplete="current-password" required maxlength="1024" data-testid="password"></label>
  <button type="submit" data-testid="send">${t(kind === 'email' ? 'contact.send.email' : 'contact.send.phone')}</button>
</form>`;
  return layout(
    { lang, title: t(`contact.${kind}.title`), path, nav },
    html`<h1>${t(`contact.${kind}.title`)}</h1>
${pending}
<p>${t(`contact.${kind}.intro`)}</p>
<p class="muted" data-testid="current">${t('contact.current', { value: view.current ?? t('account.none') })}</p>
${errorList(t, view.errors ?? [])}
${body}
<p><a href="/account">${t('contact.back')}</a></p>`,
  );
}

/** After the e-mail form: the link went to the new address. */
export function emailSentPage(lang: Locale, nav: Nav, email: string, minutes: number): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('contact.sent.title'), path: '/account/email', nav },
    html`<h1 data-testid="email-sent">${t('contact.sent.title')}</h1>
<p>${t('contact.sent.body', { email, minutes })}</p>
<p class="muted">${t('contact.sent.spam')} <a href="/account/email" data-testid="ask-again">${t('contact.sent.again')}</a></p>
<p><a href="/account">${t('contact.back')}</a></p>`,
  );
}

/** After the phone form: the code went to the new number. */
export function phoneCodePage(lang: Locale, nav: Nav, view: { phone: string; minutes: number; errors?: string[]; ended?: boolean }): string {
  const t = translator(lang);
  const form = view.ended
    ? html`<p><a class="button" href="/account/phone" data-testid="ask-again">${t('contact.code.again')}</a></p>`
    : html`<p>${t('contact.code.body', { phone: view.phone, minutes: view.minutes })}</p>
<form method="post" action="/account/phone/code" novalidate>
  <input type="hidden" name="_csrf" value="${nav.csrf}">
  <label>${t('contact.code.label')}<input name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]*" required maxlength="12" autofocus data-testid="code"></label>
  <button type="submit" data-testid="confirm-code">${t('contact.code.submit')}</button>
</form>
<p><a href="/account/phone">${t('contact.code.again')}</a></p>`;
  return layout(
    { lang, title: t('contact.code.title'), path: '/account/phone', nav },
    html`<h1 data-testid="phone-code">${t('contact.code.title')}</h1>
${errorList(t, view.errors ?? [])}
${form}
<p><a href="/account">${t('contact.back')}</a></p>`,
  );
}

/** `/account/email/confirm` (the link's landing, its token in a path-scoped cookie): a form; only its POST changes anything. */
export function emailConfirmPage(lang: Locale, view: { login: string; email: string; csrf: string }): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('contact.confirm.title'), path: '/account/email/confirm' },
    html`<h1>${t('contact.confirm.title')}</h1>
<p data-testid="confirm-body">${t('contact.confirm.body', { login: view.login, email: view.email })}</p>
<form method="post" action="/account/email/confirm">
  <input type="hidden" name="_csrf" value="${view.csrf}">
  <button type="submit" data-testid="confirm-email">${t('contact.confirm.submit')}</button>
</form>`,
  );
}

/** The change landed, or was refused because the address is someone else's by now. */
export function emailConfirmedPage(lang: Locale, outcome: { email: string } | { taken: true }): string {
  const t = translator(lang);
  const taken = 'taken' in outcome;
  return layout(
    { lang, title: taken ? t('problem.contact_taken') : t('contact.confirmed.title'), path: '/account/email/confirm' },
    html`<h1 data-testid="${taken ? 'contact-taken' : 'email-changed'}">${taken ? t('problem.contact_taken') : t('contact.confirmed.title')}</h1>
<p>${taken ? t('contact.taken') : t('contact.done.email', { value: outcome.email })}</p>
<p><a class="button" href="/account">${t('contact.confirmed.next')}</a></p>`,
  );
}
