import { deviceName } from '../domain/device-name.js';
import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { button, greeting, notMeHtml, notMeText, wrap, type Letter } from './letters.js';

export interface NewSignInLetterInput {
  login: string;
  /** The account's name, greeted when known. */
  name?: string | null;
  userAgent: string | null;
  ip: string | null;
  when: Date;
  /** `PUBLIC_URL/account/sessions`, where the reader signs the stranger out. */
  sessionsUrl: string;
  /** `PUBLIC_URL/account/not-me/<token>` (SPEC §6): locks the account and sends a recovery link. */
  notMeUrl: string;
}

/** "A sign-in from a new device" (SPEC §6, §11): names the device, the IP and the time; says what to do if it was not you. */
export function newSignInLetter(lang: Locale, input: NewSignInLetterInput): Letter {
  const t = translator(lang);
  const device = deviceName(input.userAgent, { on: t('device.on'), unknown: t('device.unknown') });
  const when = input.when.toISOString().slice(0, 16).replace('T', ' ');
  const ip = input.ip ?? t('sessions.unknownIp');
  const facts = [t('mail.newSignIn.device', { device }), t('mail.newSignIn.ip', { ip }), t('mail.newSignIn.when', { when })];
  const lines = [
    greeting(t, input.login, input.name),
    '',
    t('mail.newSignIn.body', { login: input.login }),
    '',
    ...facts,
    '',
    t('mail.newSignIn.ifYou'),
    t('mail.newSignIn.notYou', { url: input.sessionsUrl }),
    notMeText(t, input.notMeUrl),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, input.login, input.name)}</p>
<p>${t('mail.newSignIn.body', { login: input.login })}</p>
<ul>${facts.map((fact) => html`<li>${fact}</li>`)}</ul>
<p>${t('mail.newSignIn.ifYou')}</p>
<p>${t('mail.newSignIn.notYou', { url: input.sessionsUrl })}</p>
${button(input.sessionsUrl, t('sessions.title'))}
${notMeHtml(t, input.notMeUrl)}`;
  return { subject: t('mail.newSignIn.subject'), text: lines.join('\n'), html: wrap(t, lang, body) };
}
