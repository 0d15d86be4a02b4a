import { hmac } from '../kernel/crypto.js';
import type { Random } from '../kernel/random.js';

/** 32 letters and digits without look-alikes (0/o, 1/l): each character carries 5 bits. */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;
const CODE_LENGTH = 10;

/** Ten codes of 50 bits each, shown as `xxxxx-xxxxx` (SPEC §7 rule 16). */
export function newRecoveryCodes(random: Random): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = [...random.bytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** What the person typed, without dashes, spaces or case; undefined when it cannot be a code. */
export function normalizeRecoveryCode(typed: string): string | undefined {
  const code = typed.toLowerCase().replace(/[\s-]/g, '');
  return code.length === CODE_LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : undefined;
}

/** Stored form: an HMAC under the server secret, bound to the account (a bare hash of 50 bits could be searched). */
export function recoveryCodeHash(secretKey: Buffer, accountId: string, normalized: string): string {
  return hmac(secretKey, `recovery-code:${accountId}:${normalized}`);
}
