import type { Locale } from '../domain/locale.js';
import { html, SafeHtml } from './html.js';
import { translator } from './i18n.js';
import { errorList, layout, type PageFrame } from './layout.js';

/** The second factor's pages (SPEC §9): `/login/2fa` and `/account/2fa`; each works without JavaScript. */

type Nav = NonNullable<PageFrame['nav']>;

export interface Login2faView {
  /** `recovery`: the recovery-code form (`?method=recovery`), else the app's code. */
  method: 'totp' | 'recovery';
  errors?: string[];
  /** No live challenge: only "sign in again". */
  ended?: boolean;
}

export function login2faPage(lang: Locale, view: Login2faView): string {
  const t = translator(lang);
  const frame = { lang, title: t('login2fa.title'), path: '/login/2fa' };
  if (view.ended) {
    return layout(frame, html`<h1>${t('login2fa.title')}</h1>
${errorList(t, view.errors ?? [])}
<p><a class="button" href="/login" data-testid="sign-in-again">${t('login2fa.again')}</a></p>`);
  }
  const form =
    view.method === 'recovery'
      ? html`<p>${t('login2fa.recoveryIntro')}</p>
${errorList(t, view.errors ?? [])}
<form method="post" action="/login/2fa" novalidate>
  <label>${t('login2fa.recoveryCode')}<input name="recoveryCode" autocomplete="off" autocapitalize="none" spellcheck="false" required maxlength="40" autofocus data-testid="recovery-code"></label>
  <button type="submit">${t('login2fa.submit')}</button>
</form>
<p><a href="/login/2fa" data-testid="use-app">${t('login2fa.useApp')}</a></p>`
      : html`<p>${t('login2fa.intro')}</p>
${errorList(t, view.errors ?? [])}
<form method="post" action="/login/2fa" novalidate>
  <label>${t('login2fa.code')}<input name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" required maxlength="12" autofocus data-testid="totp-code"></label>
  <button type="submit">${t('login2fa.submit')}</button>
</form>
<p><a href="/login/2fa?method=recovery" data-testid="use-recovery">${t('login2fa.useRecovery')}</a></p>`;
  return layout(frame, html`<h1>${t('login2fa.title')}</h1>
${form}
<p class="muted" data-testid="no-access">${t('login2fa.noAccess')}</p>`);
}

export interface Account2faView {
  enabled: boolean;
  recoveryCodesLeft: number;
  /** The account has a password (turning the factor on and off needs it). */
  hasPassword: boolean;
  /** Step 2 of enrolment: the QR code (SVG markup from `qrcode`) and the base32 key. */
  enrolment?: { secret: string; qrSvg: string };
  /** Fresh recovery codes, shown this once. */
  codes?: string[];
  /** An admin paused the factor (lost phone): a new one can be set up, which ends the pause. */
  suspended?: boolean;
  notice?: string;
  errors?: string[];
  /** Where `errors` belong: the renewal or the turn-off form, else the top. */
  errorsAt?: 'renew' | 'disable';
}

/** The key in groups of four, as authenticator apps accept it typed. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function account2faPage(lang: Locale, nav: Nav, view: Account2faView): string {
  const t = translator(lang);
  const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
  const errorsAt = (place: Account2faView['errorsAt']) => (view.errorsAt === place ? errorList(t, view.errors ?? []) : html``);
  const frame = { lang, title: t('2fa.title'), path: '/account/2fa', nav };

  if (view.codes) {
    return layout(frame, html`<h1>${t('2fa.codes.title')}</h1>
${view.notice ? html`<div class="notice" role="status" data-testid="flash">${view.notice}</div>` : ''}
<p>${t('2fa.codes.intro')}</p>
<ul class="recovery-codes" data-testid="recovery-codes">${view.codes.map((code) => html`<li>${code}</li>`)}</ul>
<div class="actions">
  <form method="post" action="/account/2fa/codes.txt" class="inline">${csrf}<input type="hidden" name="codes" value="${view.codes.join(' ')}"><button type="submit" class="secondary" data-testid="download-codes">${t('2fa.codes.download')}</button></form>
  <a class="button" href="/account/2fa" data-testid="codes-saved">${t('2fa.codes.saved')}</a>
</div>`);
  }

  if (view.enrolment) {
    return layout(frame, html`<h1>${t('2fa.title')}</h1>
<p>${t('2fa.scan')}</p>
<div class="qr" data-testid="totp-qr">${new SafeHtml(view.enrolment.qrSvg)}</div>
<p>${t('2fa.key')}</p>
<p class="totp-key" data-testid="totp-key">${grouped(view.enrolment.secret)}</p>
<p>${t('2fa.confirm.intro')}</p>
${errorList(t, view.errors ?? [])}
<form method="post" action="/account/2fa/totp/confirm" novalidate>
  ${csrf}
  <label>${t('2fa.code')}<input name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9 ]*" required maxlength="12" autofocus data-testid="totp-code"></label>
  <button type="submit">${t('2fa.confirm')}</button>
</form>`);
  }

  const passwordField = html`<label>${t('2fa.password')}<input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>`;
  const startForm = html`<form method="post" action="/account/2fa/totp" novalidate>${csrf}${passwordField}<button type="submit" data-testid="start-2fa">${t('2fa.start')}</button></form>`;
  const body = view.suspended
    ? html`<p data-testid="2fa-status">${t('2fa.status.suspended')}</p>
${errorsAt(undefined)}
${startForm}`
    : view.enabled
    ? html`<p data-testid="2fa-status">${t('2fa.status.on')}</p>
<p data-testid="codes-left">${t('2fa.codes.left', { left: view.recoveryCodesLeft })}</p>
<section class="factor">
<h2>${t('2fa.codes.renew')}</h2>
<p>${t('2fa.codes.renew.intro')}</p>
${errorsAt('renew')}
<form method="post" action="/account/2fa/recovery-codes" novalidate>${csrf}${passwordField}<button type="submit" class="secondary" data-testid="renew-codes">${t('2fa.codes.renew')}</button></form>
</section>
<section class="factor">
<h2>${t('2fa.disable')}</h2>
<p>${t('2fa.disable.intro')}</p>
${errorsAt('disable')}
<form method="post" action="/account/2fa/off" novalidate>${csrf}${passwordField}
  <label>${t('2fa.disable.code')}<input name="code" autocomplete="one-time-code" required maxlength="40" data-testid="disable-code"></label>
  <button type="submit" class="secondary" data-testid="disable-2fa">${t('2fa.disable')}</button>
</form>
</section>`
    : view.hasPassword
      ? html`<p data-testid="2fa-status">${t('2fa.status.off')}</p>
<p>${t('2fa.intro')}</p>
<p>${t('2fa.start.intro')}</p>
${errorsAt(undefined)}
<form method="post" action="/account/2fa/totp" novalidate>${csrf}${passwordField}<button type="submit" data-testid="start-2fa">${t('2fa.start')}</button></form>`
      : html`<p data-testid="2fa-status">${t('2fa.status.off')}</p>
<p>${t('2fa.intro')}</p>
<p class="alert">${t('2fa.needsPassword')}</p>`;
  return layout(frame, html`<h1>${t('2fa.title')}</h1>
${view.notice ? html`<div class="notice" role="status" data-testid="flash">${view.notice}</div>` : ''}
${view.errorsAt === undefined && view.enabled && !view.suspended ? errorList(t, view.errors ?? []) : ''}
${body}`);
}
