import type { Limit } from '../kernel/rate-limiter.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Rate limits on every endpoint that sends a message or checks a secret (SPEC §7 rule 8):
 * per recipient/account, per IP, and global. Windows are short enough that nobody is locked out for good.
 */
export const limits = {
  signInPerIp: { max: 30, windowMs: 5 * MINUTE },
  /** Wrong passwords for one login from all clients together; spent, it refuses only browsers without the account's device cookie. */
  signInPerAccount: { max: 50, windowMs: 15 * MINUTE },
  /** Wrong passwords for one login from one client (IP), so no single client spends the shared budget (SPEC §7 rule 20). */
  signInPerAccountClient: { max: 10, windowMs: 15 * MINUTE },
  /** Wrong passwords for one account from a browser that signed in to it before: its own budget (SPEC §7 rule 20). */
  signInPerDevice: { max: 10, windowMs: 15 * MINUTE },
  recoveryPerIp: { max: 20, windowMs: HOUR },
  recoveryPerLogin: { max: 5, windowMs: HOUR },
  recoveryGlobal: { max: 5000, windowMs: HOUR },
  completePerIp: { max: 30, windowMs: 15 * MINUTE },
  /** Box checkword (B2): attempts to set a password with a checkword, per account (login and e-mail share it); windowed. */
  checkwordAttemptsPerLogin: { max: 10, windowMs: 15 * MINUTE },
  changePasswordPerAccount: { max: 10, windowMs: 15 * MINUTE },
  /** E-mail or phone change requests (each sends a message to a contact the person typed), per account and per IP. */
  contactChangePerAccount: { max: 10, windowMs: HOUR },
  contactChangePerIp: { max: 30, windowMs: HOUR },
  /** Texts' caps per number, sender and overall are LATCHKEY_SMS_CAPS (flows/text-guard.ts, SPEC §7 rule 19). */
  phoneVerifyPerIp: { max: 60, windowMs: 15 * MINUTE },
  /** A social-only account choosing its login: each try says whether a login is free, so few of them. */
  loginChoicePerAccount: { max: 5, windowMs: HOUR },
  loginChoicePerIp: { max: 20, windowMs: HOUR },
  /** Social sign-in callbacks (each one spends a code at the provider), per IP. */
  socialPerIp: { max: 30, windowMs: 15 * MINUTE },
  /** Wrong second-factor codes (TOTP or recovery), per account across challenges and per client (SPEC §7 rule 16). */
  secondFactorPerAccount: { max: 20, windowMs: 15 * MINUTE },
  secondFactorPerIp: { max: 60, windowMs: 15 * MINUTE },
  /** Wrong second-factor codes from a browser that signed in to the account before: its own budget (rule 20). */
  secondFactorPerDevice: { max: 20, windowMs: 15 * MINUTE },
  /** Wrong passwords or codes when turning the second factor on or off or renewing codes, per account. */
  secondFactorManagePerAccount: { max: 10, windowMs: 15 * MINUTE },
} satisfies Record<string, Limit>;
