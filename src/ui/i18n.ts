import type { Locale } from '../domain/locale.js';
import { en, type MessageKey, type Messages } from './locales/en.js';
import { ru } from './locales/ru.js';

const catalogs: Record<Locale, Messages> = { en, ru };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const catalog = catalogs[locale];
  return (key, params) => catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (params && name in params ? String(params[name]) : whole));
}

export type { MessageKey };
