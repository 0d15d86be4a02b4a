import type { Locale } from '../domain/locale.js';
import { html, SafeHtml } from './html.js';
import { translator } from './i18n.js';
import { layout } from './layout.js';

/** Pages of the OpenID Connect provider (SPEC §10) that Latchkey renders itself. */

/** A person who is not an active member of the client's portal: which portal, and the way back (access_denied). */
export function notMemberPage(lang: Locale, view: { portal: string; login: string; backTo: string; path: string }): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('oidc.notMember.title'), path: view.path },
    html`<h1 data-testid="oidc-not-member">${t('oidc.notMember.title')}</h1>
<div class="alert" role="alert"><p>${t('oidc.notMember.body', { portal: view.portal, login: view.login })}</p></div>
<p>${t('oidc.notMember.hint')}</p>
<p><a class="button" href="${view.backTo}" data-testid="oidc-back">${t('oidc.notMember.back')}</a></p>`,
  );
}

/**
 * The person is a member, but may not enter this portal now (issue 11): the session was opened during an
 * admin's pause of the second factor and is held to another portal, or the portal requires a second factor.
 */
export function portalRefusedPage(lang: Locale, view: { portal: string; reason: 'limited' | 'enrol_first'; backTo: string; path: string }): string {
  const t = translator(lang);
  const body = view.reason === 'limited' ? t('portal.limited', { title: view.portal }) : t('2fa.requiredBy', { portal: view.portal });
  return layout(
    { lang, title: t('oidc.notMember.title'), path: view.path },
    html`<h1 data-testid="oidc-portal-refused">${t('oidc.notMember.title')}</h1>
<div class="alert" role="alert"><p>${body}</p></div>
<p><a class="button" href="/account/2fa">${t('portal.limited.enrol')}</a> <a href="${view.backTo}" data-testid="oidc-back">${t('oidc.notMember.back')}</a></p>`,
  );
}

/**
 * RP-initiated logout's confirmation. `form` is the library's own `<form id="op.logoutForm">` (its action
 * and one-time xsrf value); the buttons submit it with `logout=yes` or without.
 */
export function logoutConfirmPage(lang: Locale, form: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('oidc.logout.title'), path: '/login' },
    html`<h1>${t('oidc.logout.title')}</h1>
<p>${t('oidc.logout.body')}</p>
${new SafeHtml(form)}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" data-testid="oidc-logout-confirm">${t('oidc.logout.confirm')}</button>
<button type="submit" form="op.logoutForm" class="secondary">${t('oidc.logout.cancel')}</button>
</div>`,
  );
}

export function logoutDonePage(lang: Locale): string {
  const t = translator(lang);
  return layout({ lang, title: t('oidc.logout.title'), path: '/login' }, html`<h1 data-testid="oidc-logged-out">${t('oidc.logout.done')}</h1>`);
}

/** An authorization request that cannot go back to the client (unknown client or redirect URI, bad parameters). */
export function oidcErrorPage(lang: Locale, error: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('oidc.error.title'), path: '/login' },
    html`<h1 data-testid="oidc-error" data-error="${error}">${t('oidc.error.title')}</h1>
<p>${t('oidc.error.body', { error })}</p>`,
  );
}

/**
 * After a sign-in form (password, second factor, new password) the browser continues to the application's
 * pending sign-in from this page, not by a redirect: the redirects that follow end at the application's
 * redirect URI on another origin, which the form page's CSP (`form-action 'self'`) would block in a browser.
 * The page moves on by itself (a Refresh header, no script); the link is for a browser that does not.
 */
export function continueToApplicationPage(lang: Locale, path: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('oidc.continue.title'), path: '/login' },
    html`<h1 data-testid="oidc-continue">${t('oidc.continue.title')}</h1>
<p><a class="button" href="${path}">${t('oidc.continue.link')}</a></p>`,
  );
}
