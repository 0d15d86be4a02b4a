import type { Locale } from '../domain/locale.js';
import { translator } from './i18n.js';

/**
 * The recovery code text (SPEC §6): short enough for one segment (Russian is UCS-2: 70 characters),
 * ending with the WebOTP line `@<public host> #<code>` so browsers can offer the code themselves.
 */
export function codeSms(lang: Locale, code: string, seconds: number, publicHost: string): string {
  return `${translator(lang)('sms.code', { code, seconds })}\n\n@${publicHost} #${code}`;
}
