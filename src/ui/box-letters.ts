import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { button, greeting, wrap, type Letter } from './letters.js';

export interface CheckwordLetterInput {
  login: string;
  /** The box portal's title: the letter names where the account lives. */
  portal: string;
  /** `PUBLIC_URL/recover/checkword?login=…&checkword=…`, the only copy of the checkword. */
  link: string;
  minutes: number;
  /** The account's name, greeted when known. */
  name?: string | null;
  /** The box portal's own colour (`portals.color`), if it has one. */
  color?: string | null;
}

/**
 * The box edition's checkword letter (seed B1, SPEC §6): one link that opens the form with the login and
 * the checkword filled in, how long it stays valid, and what to do if the reader did not ask.
 */
export function checkwordLetter(lang: Locale, input: CheckwordLetterInput): Letter {
  const t = translator(lang);
  const { login, portal, link, minutes } = input;
  const lines = [
    greeting(t, login, input.name),
    '',
    t('box.mail.body', { login, portal }),
    '',
    `${t('box.mail.action')}: ${link}`,
    '',
    t('box.mail.howTo'),
    t('box.mail.validity', { minutes }),
    t('box.mail.ignore'),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, login, input.name)}</p>
<p>${t('box.mail.body', { login, portal })}</p>
${button(link, t('box.mail.action'), input.color)}
<p>${t('box.mail.howTo')}</p>
<p>${t('box.mail.validity', { minutes })}</p>
<p>${t('box.mail.ignore')}</p>`;
  return { subject: t('box.mail.subject', { portal }), text: lines.join('\n'), html: wrap(t, lang, body, portal) };
}
