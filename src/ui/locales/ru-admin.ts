import type { enAdmin } from './en-admin.js';

/** Русские тексты консоли администратора; ключи те же, что в en-admin.ts. */
export const ruAdmin: Record<keyof typeof enAdmin, string> = {};
