import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { button, greeting, wrap, type Letter } from './letters.js';

export type AdminLinkKind = 'admin' | 'invite';

/**
 * Seed C7: the link an admin sends, with the employee's registration data (login, portal); greets by name
 * when known and wears the portal's colour when it has one.
 */
export function adminLinkLetter(lang: Locale, kind: AdminLinkKind, login: string, portal: string, link: string, person: { name?: string | null; color?: string | null } = {}): Letter {
  const t = translator(lang);
  const subject = t(kind === 'admin' ? 'mail.admin.subject' : 'mail.invite.subject', { portal });
  const body = t(kind === 'admin' ? 'mail.admin.body' : 'mail.invite.body', { portal });
  // Its own words: the person did not ask for this letter, their administrator sent it.
  const ignore = kind === 'admin' ? 'mail.admin.ignore' : 'mail.invitation.new.ignore';
  const text = [
    greeting(t, login, person.name),
    '',
    body,
    t('mail.registration', { login, portal }),
    '',
    `${t('mail.admin.action')}: ${link}`,
    '',
    t('mail.admin.validity'),
    t(ignore),
    '',
    t('mail.signature'),
  ].join('\n');
  const htmlBody = html`<p>${greeting(t, login, person.name)}</p>
<p>${body}</p>
<p>${t('mail.registration', { login, portal })}</p>
${button(link, t('mail.admin.action'), person.color)}
<p>${t('mail.admin.validity')}</p>
<p>${t(ignore)}</p>`;
  return { subject, text, html: wrap(t, lang, htmlBody, portal) };
}

/** The admin-sent SMS (SPEC §6, seed C7 "link and registration data"): short, with the login and the link. */
export function adminLinkSms(lang: Locale, kind: AdminLinkKind, login: string, portal: string, link: string): string {
  return translator(lang)(kind === 'admin' ? 'sms.admin' : 'sms.invite', { portal, login, link });
}
