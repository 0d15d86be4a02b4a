import type { Locale } from '../domain/locale.js';
import { currentBrand } from './brand.js';
import { html, type SafeHtml } from './html.js';
import { translator, type Translate } from './i18n.js';

export interface Letter {
  subject: string;
  text: string;
  html: string;
}

/** Who the letter greets: the person's name when the account has one, else the login (issue 14, item 9). */
export function greeting(t: Translate, login: string, name?: string | null): string {
  return t('mail.greeting', { name: name?.trim() || login });
}

/**
 * The letter's one button, in the brand's colour or, in a letter about one portal, the portal's own. The
 * colour is a validated `#rrggbb` (LATCHKEY_BRAND_COLOR, `portals.color`), safe in a `style` attribute.
 */
export function button(link: string, label: string, color?: string | null): SafeHtml {
  return html`<p><a href="${link}" style="display:inline-block;background:${color ?? currentBrand().color};color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${label}</a></p>`;
}

/**
 * The HTML part's frame: the brand's logo (an image address only: mail clients show no inline SVG) and
 * name on top, the signature below. `portal` names the portal a letter is about, next to the product.
 */
export function wrap(t: Translate, lang: Locale, body: SafeHtml, portal?: string): string {
  const brand = currentBrand();
  const heading = portal ? `${portal} · ${brand.name}` : brand.name;
  return html`<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${heading}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1b2430;max-width:560px;margin:0 auto;padding:24px">
<p style="font-weight:700;font-size:18px;margin:0 0 16px">${brand.logo?.kind === 'url' ? html`<img src="${brand.logo.url}" alt="" height="28" style="vertical-align:middle;margin-right:8px">` : ''}${heading}</p>
${body}
<p style="color:#66707d;font-size:13px">${t('mail.signature')}</p>
</body></html>`.value;
}

const NOT_ME_BUTTON = 'display:inline-block;background:#c62828;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none';

/** The "this wasn't me" part of every security notice (SPEC §6): one sentence with the link, for the text part. */
export function notMeText(t: Translate, url: string): string {
  return t('mail.notMe.line', { url });
}

/** The same for the HTML part: the sentence and a button. */
export function notMeHtml(t: Translate, url: string): SafeHtml {
  return html`<p>${t('mail.notMe.line', { url })}</p>
<p><a href="${url}" style="${NOT_ME_BUTTON}" data-not-me>${t('mail.notMe.button')}</a></p>`;
}

/** The recovery letter (SPEC §6): one link, how long it is valid, what to do if you did not ask. */
export function recoveryLetter(lang: Locale, login: string, link: string, minutes: number, name?: string | null): Letter {
  const t = translator(lang);
  const lines = [
    greeting(t, login, name),
    '',
    t('mail.recovery.body', { login }),
    '',
    `${t('mail.recovery.action')}: ${link}`,
    '',
    t('mail.recovery.validity', { minutes }),
    t('mail.recovery.ignore'),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, login, name)}</p>
<p>${t('mail.recovery.body', { login })}</p>
${button(link, t('mail.recovery.action'))}
<p>${t('mail.recovery.validity', { minutes })}</p>
<p>${t('mail.recovery.ignore')}</p>`;
  return { subject: t('mail.recovery.subject'), text: lines.join('\n'), html: wrap(t, lang, body) };
}

/** The notice after every password change or recovery, with "if this was not you" steps. */
export function passwordChangedLetter(lang: Locale, login: string, when: Date, recoverUrl: string, notMeUrl: string, name?: string | null): Letter {
  const t = translator(lang);
  const stamp = when.toISOString().slice(0, 16).replace('T', ' ');
  const lines = [
    greeting(t, login, name),
    '',
    t('mail.changed.body', { login, when: stamp }),
    '',
    t('mail.changed.notYou', { url: recoverUrl }),
    notMeText(t, notMeUrl),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, login, name)}</p>
<p>${t('mail.changed.body', { login, when: stamp })}</p>
<p>${t('mail.changed.notYou', { url: recoverUrl })}</p>
${notMeHtml(t, notMeUrl)}`;
  return { subject: t('mail.changed.subject'), text: lines.join('\n'), html: wrap(t, lang, body) };
}

export interface SocialRecoveryLetterInput {
  login: string;
  /** The account's name, greeted when known. */
  name?: string | null;
  /** The providers the account signs in with; `recoveryUrl` is the provider's own recovery page when known. */
  providers: Array<{ title: string; recoveryUrl: string | undefined }>;
  signInUrl: string;
  /** A normal recovery link: following it creates a Latchkey password. */
  link: string;
  minutes: number;
}

/**
 * Seed C6: the account was registered through a social network and has no password. The letter (never the
 * screen, SPEC §7 rule 6) names the provider, says to sign in with it, points to the provider's recovery
 * page for a lost provider password, and offers a link to create a Latchkey password instead.
 */
export function socialRecoveryLetter(lang: Locale, input: SocialRecoveryLetterInput): Letter {
  const t = translator(lang);
  const names = input.providers.map((p) => p.title).join(', ');
  const atProvider = input.providers.filter((p): p is { title: string; recoveryUrl: string } => p.recoveryUrl !== undefined);
  const lines = [
    greeting(t, input.login, input.name),
    '',
    t('mail.recovery.body', { login: input.login }),
    t('mail.social.noPassword', { providers: names }),
    '',
    `${t('mail.social.signIn', { providers: names })}: ${input.signInUrl}`,
    ...atProvider.map((p) => `${t('mail.social.providerRecovery', { provider: p.title })}: ${p.recoveryUrl}`),
    '',
    `${t('mail.social.createPassword')}: ${input.link}`,
    t('mail.recovery.validity', { minutes: input.minutes }),
    t('mail.recovery.ignore'),
    '',
    t('mail.signature'),
  ];
  const body = html`<p>${greeting(t, input.login, input.name)}</p>
<p>${t('mail.recovery.body', { login: input.login })} ${t('mail.social.noPassword', { providers: names })}</p>
${button(input.signInUrl, t('mail.social.signIn', { providers: names }))}
${atProvider.map((p) => html`<p>${t('mail.social.providerRecovery', { provider: p.title })}: <a href="${p.recoveryUrl}">${p.recoveryUrl}</a></p>`)}
<p>${t('mail.social.createPassword')}: <a href="${input.link}">${input.link}</a></p>
<p>${t('mail.recovery.validity', { minutes: input.minutes })}</p>
<p>${t('mail.recovery.ignore')}</p>`;
  return { subject: t('mail.recovery.subject'), text: lines.join('\n'), html: wrap(t, lang, body) };
}
