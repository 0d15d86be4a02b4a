import fs from 'node:fs';

/**
 * Password rules of SPEC §7 rule 9: 8–256 characters after NFKC, no composition rules, not a common
 * or breached password, not built from the account's own login, e-mail or name. Every step is linear
 * in the (capped) length, so the check is bounded in time whatever the input.
 */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

/** Why a new password is refused; `same_as_current` is never found by `checkPassword`: the flows that set a person's own password add it. */
export type WeakReason = 'too_short' | 'too_long' | 'common' | 'contains_personal_data' | 'same_as_current';

const commonPasswords: ReadonlySet<string> = new Set(
  fs
    .readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')),
);

/** The form a password is hashed and compared in. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export interface PasswordContext {
  login?: string | null;
  email?: string | null;
  name?: string | null;
  /** A portal policy may raise the minimum. */
  minLength?: number;
}

export function checkPassword(password: string, context: PasswordContext = {}): WeakReason[] {
  // Cap before normalising: NFKC of a megabyte string would itself be the slow path.
  if (password.length > PASSWORD_MAX * 4) return ['too_long'];
  const normalized = normalizePassword(password);
  const length = [...normalized].length;
  if (length > PASSWORD_MAX) return ['too_long'];
  const reasons: WeakReason[] = [];
  if (length < Math.max(PASSWORD_MIN, context.minLength ?? 0)) reasons.push('too_short');
  const lower = normalized.toLowerCase();
  if (commonPasswords.has(lower) || commonPasswords.has(stripTrailingDigits(lower))) reasons.push('common');
  if (personalWords(context).some((word) => lower.includes(word) || word.includes(lower))) {
    reasons.push('contains_personal_data');
  }
  return reasons;
}

function stripTrailingDigits(value: string): string {
  const stripped = value.replace(/[\d!.]+$/, '');
  return stripped.length >= PASSWORD_MIN ? stripped : value;
}

function personalWords(context: PasswordContext): string[] {
  const words: string[] = [];
  const add = (value: string | null | undefined) => {
    if (!value) return;
    for (const part of value.normalize('NFKC').toLowerCase().split(/[\s@._+-]+/)) {
      if ([...part].length >= 4) words.push(part);
    }
  };
  add(context.login);
  add(context.email?.split('@')[0]);
  add(context.name);
  return words;
}
