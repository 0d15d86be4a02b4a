import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Random } from './random.js';

export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function hmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A secret with 256 bits from the CSPRNG, URL-safe. Only its sha256 is ever stored. */
export function newSecretToken(random: Random): string {
  return random.bytes(32).toString('base64url');
}

/** A random identifier for rows (128 bits, hex). */
export function newId(random: Random): string {
  return random.bytes(16).toString('hex');
}

/**
 * Sealed box (AES-256-GCM under a key derived from LATCHKEY_SECRET and a purpose): outbox payloads hold
 * live links, so they are stored encrypted; a social sign-in attempt's PKCE verifier and nonce wait in the
 * browser sealed. Each purpose has its own key, so one kind of box never opens as another.
 */
export class Sealer {
  private readonly key: Buffer;
  constructor(
    secret: Buffer,
    private readonly random: Random,
    purpose: 'outbox' | 'social-attempt' | 'oidc-keys' | 'oidc-clients' | 'totp' = 'outbox',
  ) {
    this.key = createHash('sha256').update(`latchkey:${purpose}:`).update(secret).digest();
  }

  seal(plain: string): string {
    const iv = this.random.bytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
