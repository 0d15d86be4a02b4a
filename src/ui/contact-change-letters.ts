import { deviceName } from '../domain/device-name.js';
import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { greeting, wrap, type Letter } from './letters.js';

const BUTTON = 'display:inline-block;background:#2f6fde;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none';

/**
 * The new contact as the old one's notice and the audit log show it: enough for the owner to recognise
 * their own, not enough to hand a stranger a working address (`i***@example.com`, `+7 *** ** 45-67` → `…4567`).
 */
export function maskContact(kind: 'email' | 'phone', value: string): string {
  if (kind === 'phone') return `${value.slice(0, 2)}…${value.slice(-4)}`;
  const at = value.lastIndexOf('@');
  return `${value.slice(0, 1)}***${value.slice(at)}`;
}

/** The letter to the **new** address (SPEC §11): one link to the confirm form, its lifetime, "ignore if not you". */
export function emailChangeLetter(lang: Locale, input: { login: string; link: string; minutes: number }): Letter {
  const t = translator(lang);
  const lines = [
    greeting(t, input.login),
    '',
    t('mail.emailChange.body', { login: input.login }),
    '',
    `${t('mail.emailChange.action')}: ${input.link}`,
    '',
    t('mail.emailChange.validity', { minutes: input.minutes }),
    t('mail.emailChange.ignore'),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, input.login)}</p>
<p>${t('mail.emailChange.body', { login: input.login })}</p>
<p><a href="${input.link}" style="${BUTTON}">${t('mail.emailChange.action')}</a></p>
<p>${t('mail.emailChange.validity', { minutes: input.minutes })}</p>
<p>${t('mail.emailChange.ignore')}</p>`;
  return { subject: t('mail.emailChange.subject'), text: lines.join('\n'), html: wrap(t, lang, body) };
}

export interface ContactChangeNoticeInput {
  login: string;
  kind: 'email' | 'phone';
  /** Masked (`maskContact`). */
  newContact: string;
  userAgent: string | null;
  ip: string | null;
  when: Date;
  /** `PUBLIC_URL/account`, where the password is changed (which cancels the pending change). */
  accountUrl: string;
  /**
   * `PUBLIC_URL/account/not-me/<token>` ("this wasn't me", issue 13 item 3, SPEC §6): rendered as a button
   * when given. The not-me work wires it in; until then the notice says to change the password.
   */
  notMeUrl?: string;
}

/** The notice to the **old** e-mail at request time (SPEC §6, §11): what was asked, from which device, when; what to do if not you. */
export function contactChangeNoticeLetter(lang: Locale, input: ContactChangeNoticeInput): Letter {
  const t = translator(lang);
  const device = deviceName(input.userAgent, { on: t('device.on'), unknown: t('device.unknown') });
  const when = input.when.toISOString().slice(0, 16).replace('T', ' ');
  const facts = [t('mail.newSignIn.device', { device }), t('mail.newSignIn.ip', { ip: input.ip ?? t('sessions.unknownIp') }), t('mail.newSignIn.when', { when })];
  const said = t(`mail.contactNotice.body.${input.kind}`, { login: input.login, contact: input.newContact });
  const notYou = t('mail.contactNotice.notYou', { url: input.accountUrl });
  const lines = [
    greeting(t, input.login),
    '',
    said,
    '',
    ...facts,
    '',
    t('mail.contactNotice.pending'),
    t('mail.contactNotice.ifYou'),
    notYou,
    ...(input.notMeUrl ? [t('mail.contactNotice.notMeText', { url: input.notMeUrl })] : []),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, input.login)}</p>
<p>${said}</p>
<ul>${facts.map((fact) => html`<li>${fact}</li>`)}</ul>
<p>${t('mail.contactNotice.pending')}</p>
<p>${t('mail.contactNotice.ifYou')}</p>
<p>${notYou}</p>
${input.notMeUrl ? html`<p><a href="${input.notMeUrl}" style="${BUTTON}" data-not-me>${t('mail.contactNotice.notMe')}</a></p>` : ''}`;
  return { subject: t(`mail.contactNotice.subject.${input.kind}`), text: lines.join('\n'), html: wrap(t, lang, body) };
}

/** The short notice texted to the **old** number (a phone change, or an account without a verified e-mail). */
export function contactChangeNoticeSms(lang: Locale, kind: 'email' | 'phone', notMeUrl?: string): string {
  const text = translator(lang)(`sms.contactNotice.${kind}`);
  return notMeUrl ? `${text} ${notMeUrl}` : text;
}

/** The code to the **new** number, ending with the WebOTP line `@<public host> #<code>` (SPEC §6). */
export function phoneChangeSms(lang: Locale, code: string, minutes: number, publicHost: string): string {
  return `${translator(lang)('sms.phoneChange', { code, minutes })}\n\n@${publicHost} #${code}`;
}
