import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/** Logins compare case-folded after Unicode NFKC (SPEC §2). */
export function loginKey(login: string): string {
  return login.normalize('NFKC').toLowerCase();
}

/** Letters, digits and . _ - ; starts with a letter, so it can never be mistaken for an e-mail or a phone. */
const LOGIN_PATTERN = /^\p{L}[\p{L}\p{N}._-]{1,63}$/u;

export function isValidLogin(login: string): boolean {
  return LOGIN_PATTERN.test(login.normalize('NFKC'));
}

export function emailKey(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

const EMAIL_PATTERN = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]{1,253}\.[^\s@<>()",;:.]{2,63}$/u;

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL_PATTERN.test(email.normalize('NFKC').trim());
}

/** A phone number in any common written form, as E.164, or undefined when it is not a valid number. */
export function normalizePhone(input: string, defaultRegion: string): string | undefined {
  if (input.length > 40 || !/^[+\d\s().-]+$/.test(input)) return undefined;
  const parsed = parsePhoneNumberFromString(input, defaultRegion as CountryCode);
  return parsed?.isValid() ? parsed.number : undefined;
}

export type Identifier =
  | { kind: 'email'; key: string }
  | { kind: 'phone'; key: string }
  | { kind: 'login'; key: string };

/** What a person typed into "login": an e-mail, a phone number or a login name, told apart by shape. */
export function parseIdentifier(input: string, defaultRegion: string): Identifier {
  const text = input.normalize('NFKC').trim();
  if (text.includes('@')) return { kind: 'email', key: emailKey(text) };
  if (/^[+\d]/.test(text)) {
    const phone = normalizePhone(text, defaultRegion);
    if (phone) return { kind: 'phone', key: phone };
  }
  return { kind: 'login', key: loginKey(text) };
}

/** Cyrillic and Greek letters that look like Latin ones (lower case, after loginKey). */
const LOOKALIKES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w',
  α: 'a', β: 'b', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
};

/** The Latin login a login would pass for, once its look-alike letters are read as Latin ones. */
export function loginSkeleton(login: string): string {
  return [...loginKey(login)].map((ch) => LOOKALIKES[ch] ?? ch).join('');
}

/** True when a login mixes letters of several scripts (Latin with Cyrillic, say): a classic impersonation. */
export function isMixedScript(login: string): boolean {
  const text = login.normalize('NFKC');
  const scripts = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u].filter((script) => script.test(text));
  return scripts.length > 1;
}
