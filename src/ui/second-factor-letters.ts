import type { Locale } from '../domain/locale.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { greeting, notMeHtml, notMeText, wrap, type Letter } from './letters.js';

export type SecondFactorNotice = 'enabled' | 'disabled' | 'code_used' | 'codes_renewed' | 'reset' | 'suspended';

/** A security notice about the second factor (SPEC §6, rule 16): what happened, when, and what to do if it was not you. */
export function secondFactorLetter(lang: Locale, notice: SecondFactorNotice, input: { login: string; name?: string | null; when: Date; codesLeft?: number; recoverUrl: string; notMeUrl: string; portal?: string; until?: Date }): Letter {
  const t = translator(lang);
  const when = input.when.toISOString().slice(0, 16).replace('T', ' ');
  const until = input.until?.toISOString().slice(0, 16).replace('T', ' ') ?? '';
  const body = t(`mail.2fa.${notice}.body`, { login: input.login, when, left: input.codesLeft ?? 0, portal: input.portal ?? '', until });
  const notYou = t('mail.2fa.notYou', { url: input.recoverUrl });
  const text = [greeting(t, input.login, input.name), '', body, '', notYou, notMeText(t, input.notMeUrl), '', t('mail.signature')].join('\n');
  const markup = html`<p>${greeting(t, input.login, input.name)}</p>
<p>${body}</p>
<p>${notYou}</p>
${notMeHtml(t, input.notMeUrl)}`;
  return { subject: t(`mail.2fa.${notice}.subject`), text, html: wrap(t, lang, markup) };
}
