import { createHash, timingSafeEqual } from 'node:crypto';
import { parseSha512CryptSetting, sha512CryptDigest } from './sha512-crypt.js';

/**
 * Password hashes imported from Bitrix (`latchkey import bitrix`), stored as `bitrix:<Bitrix's hash>` so
 * they are never mistaken for argon2id ones (`$argon2id$…`). The three forms Bitrix's `Password::equals`
 * accepts: SHA-512 crypt (`$6$<16-char salt>$…`, 5000 rounds, Bitrix's default today), an 8-character salt
 * followed by md5(salt + password) in hex (older sites), and a bare md5(password) in hex (oldest).
 * The first successful sign-in replaces them with argon2id (flows/legacy-password.ts).
 */

export const BITRIX_PREFIX = 'bitrix:';

export type BitrixHashKind = 'sha512crypt' | 'salted_md5' | 'md5';

const MD5_HEX = /^[0-9a-f]{32}$/i;
/**
 * Bitrix writes 5000 rounds. The JavaScript SHA-512 crypt runs on the event loop (about 20 ms at 5000
 * rounds), so a hash asking for much more work is no Bitrix hash: refused at import, never verified.
 */
const MAX_BITRIX_ROUNDS = 10_000;

/** Which Bitrix form a hash (without the prefix) is, or undefined when it is none of them. */
export function bitrixHashKind(hash: string): BitrixHashKind | undefined {
  if (hash.startsWith('$6$')) {
    const setting = parseSha512CryptSetting(hash);
    return /^\$6\$(?:rounds=\d{1,10}\$)?[^$]{1,16}\$[./0-9A-Za-z]{86}$/.test(hash) && setting && setting.rounds <= MAX_BITRIX_ROUNDS ? 'sha512crypt' : undefined;
  }
  if (hash.length === 40 && MD5_HEX.test(hash.slice(8))) return 'salted_md5';
  if (MD5_HEX.test(hash)) return 'md5';
  return undefined;
}

export function isBitrixHash(stored: string): boolean {
  return stored.startsWith(BITRIX_PREFIX);
}

/** Constant-time comparison of two strings of the same alphabet (lengths are not secret). */
function same(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

const md5Hex = (data: Buffer) => createHash('md5').update(data).digest('hex');

/**
 * Verifies a password against a stored `bitrix:` hash. Bitrix hashed the bytes the browser sent (UTF-8 on
 * UTF-8 sites), so the password's UTF-8 bytes are what is hashed here.
 */
export function verifyBitrixHash(stored: string, password: string): boolean {
  if (!isBitrixHash(stored)) return false;
  const hash = stored.slice(BITRIX_PREFIX.length);
  const bytes = Buffer.from(password, 'utf8');
  switch (bitrixHashKind(hash)) {
    case 'sha512crypt': {
      const setting = parseSha512CryptSetting(hash);
      const digest = hash.slice(hash.lastIndexOf('$') + 1);
      return setting !== undefined && same(sha512CryptDigest(bytes, setting.salt, setting.rounds), digest);
    }
    case 'salted_md5':
      return same(md5Hex(Buffer.concat([Buffer.from(hash.slice(0, 8), 'utf8'), bytes])), hash.slice(8).toLowerCase());
    case 'md5':
      return same(md5Hex(bytes), hash.toLowerCase());
    default:
      return false;
  }
}
