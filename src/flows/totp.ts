import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app does it: SHA-1, 6 digits, 30-second steps (SPEC §7 rule 16). */
const PERIOD = 30;
const DIGITS = 6;

function totpOf(secretBase32: string, label: string, issuer = ''): TOTP {
  return new TOTP({ issuer, label, algorithm: 'SHA1', digits: DIGITS, period: PERIOD, secret: Secret.fromBase32(secretBase32) });
}

/** A new secret: 160 bits from the CSPRNG, as base32 (what the person types if the QR code won't scan). */
export function newTotpSecret(bytes: Buffer): string {
  return new Secret({ buffer: new Uint8Array(bytes).buffer }).base32;
}

/** The `otpauth://totp/…` URI the QR code carries; `issuer` names the service in the app (LATCHKEY_TOTP_ISSUER). */
export function totpUri(secretBase32: string, login: string, issuer: string): string {
  return totpOf(secretBase32, login, issuer).toString();
}

/**
 * The 30-second step a code belongs to, within ±1 step of `now`, or undefined for a wrong code. The
 * caller accepts each step once per account (store/second-factor.repo.ts `acceptStep`).
 */
export function matchingStep(secretBase32: string, code: string, now: Date): number | undefined {
  const token = code.replace(/[\s-]/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totpOf(secretBase32, '').validate({ token, timestamp: now.getTime(), window: 1 });
  return delta === null ? undefined : TOTP.counter({ period: PERIOD, timestamp: now.getTime() }) + delta;
}
