import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { layout, type PageFrame } from './layout.js';

/** The invitation page (SPEC §5, rule 22): what it is, and the one step the person may take from here. */

type Nav = PageFrame['nav'];

export interface InvitationPageView {
  portal: string;
  inviter: string;
  role: 'admin' | 'employee';
  /** `sign_in`: nobody signed in; `answer`: the invited account; `wrong_account`: somebody else. */
  state: 'sign_in' | 'answer' | 'wrong_account';
}

export const INVITATION_PATH = '/invitations';

export function invitationPage(lang: Locale, nav: Nav, view: InvitationPageView): string {
  const t = translator(lang);
  const about = html`<p data-testid="invitation-from">${t('invitation.from', { inviter: view.inviter, portal: view.portal })}</p>
<p>${t('invitation.role', { role: t(`invitation.role.${view.role}`) })}</p>`;
  if (view.state === 'wrong_account' && nav) {
    return layout(
      { lang, title: t('invitation.wrongAccount.title'), path: INVITATION_PATH, nav },
      html`<h1 data-testid="wrong-account">${t('invitation.wrongAccount.title')}</h1>
${about}
<div class="alert" role="alert">${t('invitation.wrongAccount.body', { login: nav.login })}</div>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${nav.csrf}"><button type="submit" class="secondary">${t('nav.signOut')}</button></form>`,
    );
  }
  const title = t('invitation.title', { portal: view.portal });
  if (view.state === 'answer' && nav) {
    const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
    return layout(
      { lang, title, path: INVITATION_PATH, nav },
      html`<h1>${title}</h1>
${about}
<p class="muted">${t('invitation.signedInAs', { login: nav.login })}</p>
<div class="actions">
<form method="post" action="${INVITATION_PATH}/accept" class="inline">${csrf}<button type="submit" data-testid="accept">${t('invitation.accept')}</button></form>
<form method="post" action="${INVITATION_PATH}/decline" class="inline">${csrf}<button type="submit" class="secondary" data-testid="decline">${t('invitation.decline')}</button></form>
</div>`,
    );
  }
  return layout(
    { lang, title, path: INVITATION_PATH },
    html`<h1>${title}</h1>
${about}
<p>${t('invitation.signIn')}</p>
<p><a class="button" href="/login?next=${encodeURIComponent(INVITATION_PATH)}" data-testid="sign-in">${t('invitation.signInButton')}</a></p>`,
  );
}

export function invalidInvitationPage(lang: Locale, nav: Nav): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('invitation.invalid.title'), path: INVITATION_PATH, ...(nav ? { nav } : {}) },
    html`<h1 data-testid="invalid-invitation">${t('invitation.invalid.title')}</h1>
<p>${t('invitation.invalid.body')}</p>`,
  );
}

export function invitationDeclinedPage(lang: Locale, nav: NonNullable<Nav>, portal: string): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('invitation.declined.title'), path: INVITATION_PATH, nav },
    html`<h1 data-testid="declined">${t('invitation.declined.title')}</h1>
<p>${t('invitation.declined.body', { portal })}</p>
<p><a href="/portals">${t('invitation.toPortals')}</a></p>`,
  );
}
