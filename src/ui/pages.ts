import type { Locale } from '../domain/locale.js';
import { PASSWORD_MIN, type WeakReason } from '../domain/password-policy.js';
import type { PortalEntry } from '../store/portals.repo.js';
import type { OutboxMessage } from '../store/schema.js';
import type { SignInMethods } from '../flows/sign-in-methods.js';
import type { SocialFailure } from '../social/provider.js';
import { html, type SafeHtml } from './html.js';
import { translator, type MessageKey } from './i18n.js';
import { errorList, layout, type PageFrame } from './layout.js';

/** Server-rendered pages (SPEC §5); each works without JavaScript and carries the right `autocomplete`. */

type Nav = PageFrame['nav'];

export function weakPasswordMessages(lang: Locale, reasons: readonly string[]): string[] {
  const t = translator(lang);
  return reasons.map((reason) => t(`weak.${reason as WeakReason}`, { min: PASSWORD_MIN }));
}

/** `/login`; the box edition words the recovery link as its seed does (B1: «Забыли свой пароль?»). */
export function loginPage(
  lang: Locale,
  values: { login?: string; errors?: string[]; edition?: 'cloud' | 'box'; providers?: Array<{ id: string; title: string }>; next?: string } = {},
): string {
  const t = translator(lang);
  const providers = values.providers ?? [];
  return layout(
    { lang, title: t('login.title'), path: '/login' },
    html`<h1>${t('login.title')}</h1>
${errorList(t, values.errors ?? [])}
<form method="post" action="/login" novalidate>
  ${values.next ? html`<input type="hidden" name="next" value="${values.next}">` : ''}
  <label>${t('login.identifier')}<input name="login" autocomplete="username" required maxlength="320" value="${values.login ?? ''}" autofocus></label>
  <label>${t('login.password')}<input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label>
  <button type="submit">${t('login.submit')}</button>
</form>
<p><a href="/recover" data-testid="forgot-password">${t(values.edition === 'box' ? 'login.forgotBox' : 'login.forgot')}</a></p>
${providers.length === 0
  ? ''
  : html`<div class="social"><p class="muted">${t('login.or')}</p>${providers.map(
      (p) => html`<a class="button secondary" href="/auth/${p.id}" data-testid="social-${p.id}">${t('social.signInWith', { provider: p.title })}</a>`,
    )}</div>`}`,
  );
}

/** "By e-mail" / "By phone number", as the seed offers both ways back (C2, C4). */
function channelTabs(lang: Locale, current: 'email' | 'phone', phoneEnabled: boolean): SafeHtml {
  const t = translator(lang);
  if (!phoneEnabled) return html``;
  return html`<nav class="tabs">${current === 'email' ? html`<strong>${t('recover.byEmail')}</strong>` : html`<a href="/recover">${t('recover.byEmail')}</a>`}
  ${current === 'phone' ? html`<strong>${t('recover.byPhone')}</strong>` : html`<a href="/recover/phone" data-testid="recover-by-phone">${t('recover.byPhone')}</a>`}</nav>`;
}

export function recoverPage(lang: Locale, values: { login?: string; errors?: string[]; phoneEnabled?: boolean } = {}): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('recover.title'), path: '/recover' },
    html`<h1>${t('recover.title')}</h1>
${channelTabs(lang, 'email', values.phoneEnabled ?? false)}
<p>${t('recover.intro')}</p>
${errorList(t, values.errors ?? [])}
<form method="post" action="/recover" novalidate>
  <label>${t('recover.identifier')}<input name="login" autocomplete="username" required maxlength="320" value="${values.login ?? ''}" autofocus></label>
  <button type="submit">${t('recover.submit')}</button>
</form>
<details class="help"><summary>${t('recover.forgotLogin')}</summary><p>${t('recover.forgotLoginHelp')}</p></details>
<p><a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

export function recoverSentPage(lang: Locale, minutes: number): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('recover.sent.title'), path: '/recover' },
    html`<h1 data-testid="recover-sent">${t('recover.sent.title')}</h1>
<p>${t('recover.sent.body', { minutes })}</p>
<p class="muted">${t('recover.sent.noMail')}</p>
<p><a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

/** The new-password form every recovery ends in; an invitation's link sets a first password, worded so. */
export function resetPasswordPage(lang: Locale, login: string, errors: string[] = [], invitation = false): string {
  const t = translator(lang);
  const title = t(invitation ? 'reset.invitation.title' : 'reset.title');
  return layout(
    { lang, title, path: '/recover/password' },
    html`<h1>${title}</h1>
<p>${t(invitation ? 'reset.invitation.intro' : 'reset.intro', { login })}</p>
${errorList(t, errors)}
<form method="post" action="/recover/password" novalidate>
  <input type="text" name="username" autocomplete="username" value="${login}" hidden readonly>
  <label>${t('reset.password')}<input name="password" type="password" autocomplete="new-password" required maxlength="1024" autofocus></label>
  <p class="muted">${t('password.rules')}</p>
  <button type="submit">${t(invitation ? 'reset.invitation.submit' : 'reset.submit')}</button>
</form>`,
  );
}

export function invalidLinkPage(lang: Locale): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('reset.invalid.title'), path: '/recover' },
    html`<h1 data-testid="invalid-link">${t('reset.invalid.title')}</h1>
<p>${t('reset.invalid.body')}</p>
<p><a href="/recover">${t('reset.invalid.again')}</a></p>`,
  );
}

/** How a dead recovery secret was sent: an e-mailed or admin-sent link, an SMS code, an invitation. */
export type RecoveryVia = 'link' | 'code' | 'invitation';

/**
 * Back, or the link again, after the recovery was completed (issue 14 item 5): not "the link is dead" but
 * "your password is already changed", with the way in (sign in; or, already signed in, the portals).
 */
export function passwordAlreadyChangedPage(lang: Locale, via: RecoveryVia, signedIn: boolean): string {
  const t = translator(lang);
  const title = t(via === 'invitation' ? 'reset.done.titleInvitation' : 'reset.done.title');
  return layout(
    { lang, title, path: '/login' },
    html`<h1 data-testid="password-already-changed">${title}</h1>
<p>${t(via === 'code' ? 'reset.done.bodyCode' : via === 'invitation' ? 'reset.done.bodyInvitation' : 'reset.done.bodyLink')}</p>
${signedIn
  ? html`<p>${t('reset.done.signedIn')}</p><p><a class="button" href="/portals" data-testid="to-portals">${t('reset.done.toPortals')}</a></p>`
  : html`<p><a class="button" href="/login" data-testid="sign-in">${t('reset.done.signIn')}</a></p>`}`,
  );
}

/** A recovery that was not completed and can no longer be: worded for how it began (a code is not a link). */
export function deadRecoveryPage(lang: Locale, via: RecoveryVia | 'unknown'): string {
  if (via === 'link') return invalidLinkPage(lang);
  const t = translator(lang);
  const [title, body, again, href] =
    via === 'code'
      ? [t('reset.deadCode.title'), t('reset.deadCode.body'), t('reset.deadCode.again'), '/recover/phone']
      : via === 'invitation'
        ? [t('reset.deadInvitation.title'), t('reset.deadInvitation.body'), t('recover.backToLogin'), '/login']
        : [t('reset.expired.title'), t('reset.expired.body'), t('reset.expired.again'), '/recover'];
  return layout(
    { lang, title, path: '/recover' },
    html`<h1 data-testid="invalid-link" data-via="${via}">${title}</h1>
<p>${body}</p>
<p><a class="button" href="${href}">${again}</a></p>`,
  );
}

export function portalsPage(lang: Locale, nav: NonNullable<Nav>, portals: PortalEntry[], flash?: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('portals.title'), path: '/portals', nav },
    html`<h1>${t('portals.title')}</h1>
${flash ? html`<div class="notice" role="status" data-testid="flash">${flash}</div>` : ''}
<p>${t('portals.intro', { login: nav.login })}</p>
${portals.length === 0
  ? html`<p>${t('portals.none')}</p>`
  : html`<ul class="portals">${portals.map(
      (p) => html`<li data-portal="${p.slug}"><span><strong>${p.title}</strong>${p.role === 'admin' ? html` <small>(${t('portals.admin')})</small>` : ''}</span>
      <span class="portal-actions">${p.role === 'admin' ? html`<a class="administer" href="/admin/${p.slug}/users" data-testid="administer">${t('admin.nav')}</a> ` : ''}<a class="button" href="${p.url}">${t('portals.enter')}</a></span></li>`,
    )}</ul>`}`,
  );
}

/** `portal`: the portal's own colour paints its page, when it has one. */
export function portalLandingPage(lang: Locale, nav: NonNullable<Nav>, title: string, portal?: PageFrame['portal']): string {
  const t = translator(lang);
  return layout({ lang, title, path: '/portals', nav, ...(portal ? { portal } : {}) }, html`<h1>${title}</h1><p data-testid="portal-landing">${t('portal.landing', { title, login: nav.login })}</p>`);
}

/** A session held to another portal while an admin paused the person's second factor (issue 11, item 5). */
export function portalLimitedPage(lang: Locale, nav: NonNullable<Nav>, title: string): string {
  const t = translator(lang);
  return layout(
    { lang, title, path: '/portals', nav },
    html`<h1>${title}</h1><p data-testid="portal-limited">${t('portal.limited', { title })}</p><p><a class="button" href="/account/2fa">${t('portal.limited.enrol')}</a> <a href="/portals">${t('portal.limited.back')}</a></p>`,
  );
}

export interface AccountPageState {
  errors?: string[];
  saved?: boolean;
  /** A one-time notice (linked, unlinked, password created). */
  notice?: string;
  /** Errors of the "ways to sign in" section. */
  methodErrors?: string[];
  /** The login typed into "create a login and password", kept when the form is shown again. */
  wantedLogin?: string;
  /** An SMS gateway is configured, so the phone can be changed (issue 13 item 2). */
  phoneChange?: boolean;
}

export function accountPage(
  lang: Locale,
  nav: NonNullable<Nav>,
  account: { login: string; email: string | null; phone: string | null },
  methods: SignInMethods,
  state: AccountPageState = {},
): string {
  const t = translator(lang);
  const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
  return layout(
    { lang, title: t('account.title'), path: '/account', nav },
    html`<h1>${t('account.title')}</h1>
${state.notice ? html`<div class="notice" role="status" data-testid="flash">${state.notice}</div>` : ''}
<dl class="profile">
  <dt>${t('account.login')}</dt><dd data-testid="account-login">${account.login}</dd>
  <dt>${t('account.email')}</dt><dd data-testid="account-email">${account.email ?? t('account.none')} <a href="/account/email" data-testid="change-email">${t('account.change')}</a></dd>
  <dt>${t('account.phone')}</dt><dd data-testid="account-phone">${account.phone ?? t('account.none')}${state.phoneChange ? html` <a href="/account/phone" data-testid="change-phone">${t('account.change')}</a>` : ''}</dd>
</dl>
<p><a href="/account/sessions" data-testid="sessions-link">${t('account.sessions.link')}</a></p>
<h2 id="methods">${t('account.methods')}</h2>
${errorList(t, state.methodErrors ?? [])}
<ul class="methods" data-testid="sign-in-methods">
  <li data-method="password"><span>${t('account.methods.password')}</span><small>${t(methods.password ? 'account.methods.passwordSet' : 'account.methods.passwordNone')}</small></li>
  ${methods.identities.map(
    (i) => html`<li data-method="${i.provider}"><span><strong>${i.title}</strong>${i.email ? html` <small>${i.email}</small>` : ''} <small>${t('account.methods.linkedAt', { date: i.linkedAt.slice(0, 10) })}</small></span>
    <form method="post" action="/account/sign-in-methods/${i.id}/unlink" class="inline">${csrf}<button type="submit" class="secondary" data-testid="unlink-${i.provider}">${t('account.methods.unlink')}</button></form></li>`,
  )}
</ul>
${methods.linkable.map(
  (p) => html`<form method="post" action="/auth/${p.id}/link" class="inline">${csrf}<button type="submit" class="secondary" data-testid="link-${p.id}">${t('account.methods.link', { provider: p.title })}</button></form> `,
)}
<p><a href="/account/2fa" data-testid="account-2fa">${t('account.2fa.link')}</a></p>
${methods.password
  ? html`<h2 id="password">${t('account.changePassword')}</h2>
${state.saved ? html`<div class="notice" role="status" data-testid="flash">${t('passwordChanged.flash')}</div>` : ''}
${errorList(t, state.errors ?? [])}
<form method="post" action="/account/password" novalidate>
  ${csrf}
  <input type="text" name="username" autocomplete="username" value="${account.login}" hidden readonly>
  <label>${t('account.currentPassword')}<input name="currentPassword" type="password" autocomplete="current-password" required maxlength="1024"></label>
  <label>${t('account.newPassword')}<input name="newPassword" type="password" autocomplete="new-password" required maxlength="1024"></label>
  <p class="muted">${t('password.rules')}</p>
  <button type="submit">${t('account.save')}</button>
</form>`
  : html`<h2 id="password">${t('account.createPassword')}</h2>
<p>${t('account.createPassword.intro')}</p>
${errorList(t, state.errors ?? [])}
<form method="post" action="/account/password/create" novalidate data-testid="create-password">
  ${csrf}
  <label>${t('account.createPassword.login')}<input name="login" autocomplete="username" required maxlength="64" value="${state.wantedLogin ?? account.login}"></label>
  <label>${t('account.newPassword')}<input name="newPassword" type="password" autocomplete="new-password" required maxlength="1024"></label>
  <p class="muted">${t('password.rules')}</p>
  <button type="submit">${t('account.createPassword.save')}</button>
</form>`}`,
  );
}

/** Why a social sign-in stopped (seed's "errors when signing in through social networks"), with a way back. */
export function socialErrorPage(lang: Locale, provider: string, reason: SocialFailure, retryHref: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('social.error.title', { provider }), path: '/login' },
    html`<h1>${t('social.error.title', { provider })}</h1>
<p data-testid="social-error" data-reason="${reason}">${t(`social.error.${reason}`, { provider })}</p>
<p class="muted">${t('social.error.reason', { code: reason })}</p>
<p><a class="button" href="${retryHref}">${t('social.error.again')}</a> <a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

export function errorPage(lang: Locale, message: string): string {
  const t = translator(lang);
  return layout({ lang, title: t('error.title'), path: '/' }, html`<h1>${t('error.title')}</h1><p data-testid="error-message">${message}</p><p><a href="/login">${t('recover.backToLogin')}</a></p>`);
}

export interface OutboxEntry {
  message: OutboxMessage;
  text: string | undefined;
}

/** Turns the URLs in a plain-text letter into links, escaping everything else. */
function linkify(text: string): SafeHtml[] {
  return text.split(/(https?:\/\/[^\s<>"]+)/g).map((part, i) => (i % 2 === 1 ? html`<a href="${part}" data-testid="outbox-link">${part}</a>` : html`${part}`));
}

/** What each kind of message is, in words (issue 14 item 6): the page never shows `admin.admin.sms`. */
const OUTBOX_KINDS: Record<string, MessageKey> = {
  'recovery.email': 'outbox.kind.recovery',
  'recovery.email.social': 'outbox.kind.recoverySocial',
  'recovery.checkword': 'outbox.kind.checkword',
  'recovery.sms.code': 'outbox.kind.code',
  'password.changed': 'outbox.kind.passwordChanged',
  'admin.admin.email': 'outbox.kind.adminLink',
  'admin.admin.sms': 'outbox.kind.adminLink',
  'invitation.email': 'outbox.kind.invitation',
  'invitation.sms': 'outbox.kind.invitation',
  'invitation.new.email': 'outbox.kind.invitationNew',
  'invitation.new.sms': 'outbox.kind.invitationNew',
  'notice.new_sign_in': 'outbox.kind.newSignIn',
};

/** "Letter: password recovery" / "SMS: …"; a kind this page does not know is named by its channel alone. */
export function outboxKindWords(lang: Locale, kind: string, channel: string | null): string {
  const t = translator(lang);
  const what = OUTBOX_KINDS[kind] ?? (kind.startsWith('2fa.') ? 'outbox.kind.twoFactor' : kind.startsWith('notice.') ? 'outbox.kind.notice' : undefined);
  const medium = t(channel === 'sms' ? 'outbox.channel.sms' : 'outbox.channel.email');
  return what ? `${medium}: ${t(what)}` : medium;
}

export function devOutboxPage(lang: Locale, entries: OutboxEntry[]): string {
  const t = translator(lang);
  const status = (s: OutboxMessage['status']) => t(`outbox.status.${s}`);
  return layout(
    { lang, title: t('outbox.title'), path: '/dev/outbox' },
    html`<h1>${t('outbox.title')}</h1>
<p class="muted">${t('outbox.intro')}</p>
${entries.length === 0 ? html`<p>${t('outbox.empty')}</p>` : ''}
${entries.map(
  ({ message, text }) => html`<article class="message" data-testid="outbox-message" data-kind="${message.kind}">
  <header>${message.subject
    ? html`<small data-testid="outbox-kind">${outboxKindWords(lang, message.kind, message.channel)}</small><br><strong>${message.subject}</strong>`
    : html`<strong data-testid="outbox-kind">${outboxKindWords(lang, message.kind, message.channel)}</strong>`}<br><small>${t('outbox.to')}: ${message.recipient ?? ''} · ${message.created_at.slice(0, 19).replace('T', ' ')} UTC · <span data-testid="outbox-status">${status(message.status)}</span>${message.last_error ? ` · ${message.last_error}` : ''}</small></header>
  <pre>${text === undefined ? '' : linkify(text)}</pre>
</article>`,
)}`,
  );
}

export function phonePage(lang: Locale, values: { phone?: string; errors?: string[] } = {}): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('phone.title'), path: '/recover/phone' },
    html`<h1>${t('recover.title')}</h1>
${channelTabs(lang, 'phone', true)}
<p>${t('phone.intro')}</p>
${errorList(t, values.errors ?? [])}
<form method="post" action="/recover/phone" novalidate>
  <label>${t('phone.number')}<input name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="40" value="${values.phone ?? ''}" autofocus></label>
  <button type="submit">${t('phone.submit')}</button>
</form>
<p><a href="/login">${t('recover.backToLogin')}</a></p>`,
  );
}

export interface CodeView {
  phone: string;
  expiresIn: number;
  resendIn: number | null;
  errors?: string[];
  notice?: string;
}

/**
 * The code form (seed C4): the countdowns are plain text from the server, so they work without
 * JavaScript; /static/countdown.js, when it runs, ticks them and enables "Send a new code" on time.
 */
export function codePage(lang: Locale, view: CodeView): string {
  const t = translator(lang);
  const countdown = (seconds: number, key: 'code.expiresIn' | 'code.resendIn', doneKey: 'code.expired' | 'code.resendNow', testid: string) =>
    html`<p class="muted" data-testid="${testid}" data-countdown="${seconds}" data-template="${t(key, { seconds: '{s}' })}" data-done="${t(doneKey)}">${seconds > 0 ? t(key, { seconds }) : t(doneKey)}</p>`;
  if (view.expiresIn <= 0) return expiredCodePage(lang, view);
  return layout(
    { lang, title: t('code.title'), path: '/recover/phone/code' },
    html`<h1>${t('code.title')}</h1>
<p>${t('code.intro', { phone: view.phone })}</p>
${view.notice ? html`<div class="notice" role="status" data-testid="flash">${view.notice}</div>` : ''}
${errorList(t, view.errors ?? [])}
<form method="post" action="/recover/phone/code" novalidate>
  <label>${t('code.label')}<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus></label>
  ${countdown(view.expiresIn, 'code.expiresIn', 'code.expired', 'code-expires')}
  <button type="submit">${t('code.submit')}</button>
</form>
${view.resendIn === null
  ? html`<p class="muted">${t('code.noResends')}</p>`
  : html`<form method="post" action="/recover/phone/resend" class="resend">
  ${countdown(view.resendIn, 'code.resendIn', 'code.resendNow', 'code-resend-in')}
  <button type="submit" class="secondary" data-testid="resend" data-enable-after="${view.resendIn}">${t('code.resend')}</button>
</form>`}
<p><a href="/recover/phone/help" data-testid="no-code">${t('code.notReceived')}</a></p>
<script src="/static/countdown.js" defer></script>`,
  );
}

/**
 * The code ran out (issue 14 item 5): said once, and the main action is to start again with a new code (the
 * seed: "if you were late, request a new code"); no code field and no "Continue" that can only fail.
 */
function expiredCodePage(lang: Locale, view: CodeView): string {
  const t = translator(lang);
  const expired = t('code.expired');
  const messages = [expired, ...(view.errors ?? []).filter((m) => m !== expired)];
  return layout(
    { lang, title: t('code.title'), path: '/recover/phone/code' },
    html`<h1>${t('code.title')}</h1>
${view.notice ? html`<div class="notice" role="status" data-testid="flash">${view.notice}</div>` : ''}
${errorList(t, messages)}
${view.resendIn === null
  ? html`<p class="muted">${t('code.noResends')}</p>
<p><a class="button" href="/recover/phone" data-testid="start-again">${t('code.startAgain')}</a></p>`
  : html`<form method="post" action="/recover/phone/resend" class="resend">
  ${view.resendIn > 0
    ? html`<p class="muted" data-testid="code-resend-in" data-countdown="${view.resendIn}" data-template="${t('code.resendIn', { seconds: '{s}' })}" data-done="${t('code.resendNow')}">${t('code.resendIn', { seconds: view.resendIn })}</p>`
    : html`<p class="muted" data-testid="code-resend-in">${t('code.resendNow')}</p>`}
  <button type="submit" data-testid="resend" data-enable-after="${view.resendIn}">${t('code.resend')}</button>
</form>
<p><a href="/recover/phone" data-testid="start-again">${t('code.otherNumber')}</a></p>`}
<p><a href="/recover/phone/help" data-testid="no-code">${t('code.notReceived')}</a></p>
<script src="/static/countdown.js" defer></script>`,
  );
}

export function phoneHelpPage(lang: Locale, supportContact: string | undefined): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('help.title'), path: '/recover/phone/help' },
    html`<h1 data-testid="phone-help">${t('help.title')}</h1>
<p>${t('help.operator')}</p>
<p data-testid="support-contact">${supportContact ? t('help.support', { contact: supportContact }) : t('help.supportAdmin')}</p>
<p><a class="button" href="/recover" data-testid="try-email">${t('help.tryEmail')}</a></p>
<p><a href="/recover/phone">${t('help.startOver')}</a></p>`,
  );
}
