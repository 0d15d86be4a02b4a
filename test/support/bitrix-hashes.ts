import { createHash, randomBytes } from 'node:crypto';
import { sha512Crypt } from '../../src/kernel/sha512-crypt.js';

/**
 * The three password hash forms Bitrix writes, made here from known passwords with the published
 * algorithms (never from real user data): what `Bitrix\Main\Security\Password::hash` and its predecessors
 * stored in `b_user.PASSWORD`.
 */

const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function salt(length: number, extra = ''): string {
  const chars = SALT_CHARS + extra;
  return [...randomBytes(length)].map((b) => chars[b % chars.length]).join('');
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Today's Bitrix: crypt($password, '$6$' . 16-char salt . '$'), 5000 rounds. */
export const bitrixSha512 = (password: string) => sha512Crypt(password, `$6$${salt(16)}$`);
/** Older Bitrix: an 8-character salt (punctuation included, so CSV quoting matters) + md5(salt . password). */
export function bitrixSaltedMd5(password: string, fixedSalt?: string): string {
  const s = fixedSalt ?? salt(8, ',;"<>');
  return s + md5(s + password);
}
/** The oldest Bitrix: md5($password). */
export const bitrixBareMd5 = (password: string) => md5(password);
