import { createHash, type Hash } from 'node:crypto';

/**
 * SHA-512 crypt (`$6$`), after Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification
 * (the algorithm glibc's crypt(3) and PHP's crypt() run). Node has no built-in for it; Bitrix stores its
 * passwords this way, so imported accounts can sign in until their hash is replaced by argon2id.
 */

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SHA512_CRYPT_DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;

/** The byte order of the final digest's base-64 encoding (specification, step 22). */
const ORDER: Array<[number, number, number]> = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

const sha512 = (): Hash => createHash('sha512');

/** Appends `length` bytes made of `block` repeated (steps 9-10, 16, 20). */
function repeatInto(length: number, block: Buffer): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += block.length) block.copy(out, at, 0, Math.min(block.length, length - at));
  return out;
}

function encode24(b2: number, b1: number, b0: number, chars: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < chars; i += 1) {
    out += ALPHABET[w & 0x3f];
    w >>= 6;
  }
  return out;
}

/** The digest part of a `$6$` hash for the password and salt (at most 16 bytes of salt are used). */
export function sha512CryptDigest(password: Buffer, saltText: string, rounds: number): string {
  const salt = Buffer.from(saltText, 'utf8').subarray(0, 16);
  const b = sha512().update(password).update(salt).update(password).digest();
  const a = sha512().update(password).update(salt);
  a.update(repeatInto(password.length, b));
  for (let bits = password.length; bits > 0; bits >>= 1) a.update(bits & 1 ? b : password);
  const digestA = a.digest();

  const dp = sha512();
  for (let i = 0; i < password.length; i += 1) dp.update(password);
  const p = repeatInto(password.length, dp.digest());
  const ds = sha512();
  for (let i = 0; i < 16 + (digestA[0] ?? 0); i += 1) ds.update(salt);
  const s = repeatInto(salt.length, ds.digest());

  let c = digestA;
  for (let round = 0; round < rounds; round += 1) {
    const h = sha512();
    h.update(round & 1 ? p : c);
    if (round % 3) h.update(s);
    if (round % 7) h.update(p);
    h.update(round & 1 ? c : p);
    c = h.digest();
  }
  const at = (i: number) => c[i] ?? 0;
  return ORDER.map(([x, y, z]) => encode24(at(x), at(y), at(z), 4)).join('') + encode24(0, 0, at(63), 2);
}

export interface Sha512CryptSetting {
  salt: string;
  rounds: number;
  /** Whether the hash spelled out `rounds=N$` (then the output repeats it). */
  explicitRounds: boolean;
}

/** Reads `$6$[rounds=N$]salt[$digest]` (rounds clamped as crypt(3) does); undefined when it is not one. */
export function parseSha512CryptSetting(setting: string): Sha512CryptSetting | undefined {
  const match = /^\$6\$(?:rounds=(\d{1,10})\$)?([^$]*)/.exec(setting);
  if (!match) return undefined;
  const asked = match[1] === undefined ? SHA512_CRYPT_DEFAULT_ROUNDS : Number(match[1]);
  const rounds = Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, asked));
  return { salt: (match[2] ?? '').slice(0, 16), rounds, explicitRounds: match[1] !== undefined };
}

/** The full `$6$…` hash, as crypt(3) writes it for this setting (a bare salt means 5000 rounds). */
export function sha512Crypt(password: string | Buffer, setting: string): string {
  const parsed = parseSha512CryptSetting(setting.startsWith('$6$') ? setting : `$6$${setting}`);
  if (!parsed) throw new Error('not a $6$ setting');
  const bytes = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  const digest = sha512CryptDigest(bytes, parsed.salt, parsed.rounds);
  return `$6$${parsed.explicitRounds ? `rounds=${parsed.rounds}$` : ''}${parsed.salt}$${digest}`;
}
