import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { greeting, wrap, type Letter } from './letters.js';

/** The fresh recovery link "this wasn't me" sends (rule 23): setting a password with it unlocks the account. */
export function unlockLetter(lang: Locale, login: string, link: string, hours: number): Letter {
  const t = translator(lang);
  const text = [
    greeting(t, login),
    '',
    t('mail.unlock.body', { login }),
    '',
    `${t('mail.unlock.action')}: ${link}`,
    '',
    t('mail.unlock.validity', { hours }),
    '',
    t('mail.signature'),
  ].join('\n');
  const body = html`<p>${greeting(t, login)}</p>
<p>${t('mail.unlock.body', { login })}</p>
<p><a href="${link}" style="display:inline-block;background:#2f6fde;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${t('mail.unlock.action')}</a></p>
<p>${t('mail.unlock.validity', { hours })}</p>`;
  return { subject: t('mail.unlock.subject'), text, html: wrap(t, lang, body) };
}

/** The same link by text message, when the notice went to the phone. */
export function unlockSms(lang: Locale, login: string, link: string): string {
  return translator(lang)('sms.unlock', { login, link });
}

/** What a portal admin reads when a member pressed "this wasn't me" (rule 23), in the admin's language. */
export function notMeAdminLetter(lang: Locale, input: { adminLogin: string; login: string; portal: string; when: Date; auditUrl: string }): Letter {
  const t = translator(lang);
  const when = input.when.toISOString().slice(0, 16).replace('T', ' ');
  const body = t('mail.notMeAdmin.body', { login: input.login, portal: input.portal, when });
  const text = [
    greeting(t, input.adminLogin),
    '',
    body,
    '',
    t('mail.notMeAdmin.hint'),
    `${t('mail.notMeAdmin.action')}: ${input.auditUrl}`,
    '',
    t('mail.signature'),
  ].join('\n');
  const markup = html`<p>${greeting(t, input.adminLogin)}</p>
<p>${body}</p>
<p>${t('mail.notMeAdmin.hint')}</p>
<p><a href="${input.auditUrl}" style="display:inline-block;background:#2f6fde;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${t('mail.notMeAdmin.action')}</a></p>`;
  return { subject: t('mail.notMeAdmin.subject', { login: input.login, portal: input.portal }), text, html: wrap(t, lang, markup) };
}
