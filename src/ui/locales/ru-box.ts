import type { enBox } from './en-box.js';

/** Русские тексты коробочной редакции; ключи те же, что в en-box.ts. */
export const ruBox: Record<keyof typeof enBox, string> = {};
