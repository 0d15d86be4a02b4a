import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import type { Letter } from './letters.js';

const PRODUCT = 'Latchkey';

export interface CheckwordLetterInput {
  login: string;
  /** The box portal's title: the letter names where the account lives. */
  portal: string;
  /** `PUBLIC_URL/recover/checkword?login=…&checkword=…`, the only copy of the checkword. */
  link: string;
  minutes: number;
}

/**
 * The box edition's checkword letter (seed B1, SPEC §6): one link that opens the form with the login and
 * the checkword filled in, how long it stays valid, and what to do if the reader did not ask.
 */
export function checkwordLetter(lang: Locale, input: CheckwordLetterInput): Letter {
  const t = translator(lang);
  const { login, portal, link, minutes } = input;
  const lines = [
    t('mail.greeting', { login }),
    '',
    t('box.mail.body', { login, portal }),
    '',
    `${t('box.mail.action')}: ${link}`,
    '',
    t('box.mail.howTo'),
    t('box.mail.validity', { minutes }),
    t('box.mail.ignore'),
    '',
    t('mail.signature', { product: PRODUCT }),
  ];
  const body = html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${portal}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b2430;max-width:560px;margin:0 auto;padding:24px">
<p>${t('mail.greeting', { login })}</p>
<p>${t('box.mail.body', { login, portal })}</p>
<p><a href="${link}" style="display:inline-block;background:#2f6fde;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${t('box.mail.action')}</a></p>
<p>${t('box.mail.howTo')}</p>
<p>${t('box.mail.validity', { minutes })}</p>
<p>${t('box.mail.ignore')}</p>
<p style="color:#66707d;font-size:13px">${t('mail.signature', { product: PRODUCT })}</p>
</body></html>`;
  return { subject: t('box.mail.subject', { portal }), text: lines.join('\n'), html: body.value };
}
