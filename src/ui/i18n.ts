import type { Locale } from '../domain/locale.js';
import { en, type MessageKey, type Messages } from './locales/en.js';
import { ru } from './locales/ru.js';
import { currentBrand } from './brand.js';

const catalogs: Record<Locale, Messages> = { en, ru };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** `{product}` is the brand's name (LATCHKEY_BRAND_NAME) unless the caller names it. */
export function translator(locale: Locale): Translate {
  const catalog = catalogs[locale];
  return (key, params) => {
    const values: Record<string, string | number> = { product: currentBrand().name, ...params };
    return catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
  };
}

export type { MessageKey };
