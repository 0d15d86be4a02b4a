import type { Locale } from '../domain/locale.js';
import { translator, type MessageKey } from './i18n.js';

type Unit = 'second' | 'minute' | 'hour';
const plural: Record<Locale, Intl.PluralRules> = { ru: new Intl.PluralRules('ru'), en: new Intl.PluralRules('en') };

/**
 * How long to wait, as a person says it (issue 14 item 6): "in 45 seconds", "in 7 minutes", "in 2 hours" /
 * «через 45 секунд», «через 7 минут», «через 2 часа», with the language's plural forms. Rounded up, so
 * the wait is never shorter than said: 392 s is "in 7 minutes".
 */
export function waitWords(lang: Locale, seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const [n, unit]: [number, Unit] = s < 60 ? [s, 'second'] : s < 3600 ? [Math.ceil(s / 60), 'minute'] : [Math.ceil(s / 3600), 'hour'];
  const form = plural[lang].select(n);
  const key = `wait.${unit}.${form === 'one' || form === 'few' || form === 'many' ? form : 'other'}` as MessageKey;
  return translator(lang)(key, { n });
}

/** "Too many attempts. Try again in 7 minutes." — every page that shows a rate-limit wait says it so. */
export function rateLimitedMessage(lang: Locale, seconds: number | undefined): string {
  return translator(lang)('error.rate_limited', { wait: waitWords(lang, seconds ?? 60) });
}
