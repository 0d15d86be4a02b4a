import type { Locale } from '../domain/locale.js';
import { currentBrand, logoImage } from './brand.js';
import { html, type SafeHtml } from './html.js';
import { translator, type Translate } from './i18n.js';

export interface PageFrame {
  lang: Locale;
  title: string;
  /** Path (without query) the language switch links back to. */
  path: string;
  /** Set when someone is signed in: shows the navigation and the sign-out form. */
  nav?: { login: string; csrf: string };
  /** Set on pages about one portal: its own colour (`portals.color`), when it has one, paints the page. */
  portal?: { slug: string; color: string | null };
}

/** Which header link is the page the person is on (`aria-current`, highlighted). */
function currentIn(path: string, section: string): SafeHtml | '' {
  return path === section || path.startsWith(`${section}/`) ? html` aria-current="page"` : '';
}

/** The page shell: language switch on every page, no inline script or style (the CSP forbids both). */
export function layout(frame: PageFrame, body: SafeHtml): string {
  const t = translator(frame.lang);
  const brand = currentBrand();
  const other: Locale = frame.lang === 'ru' ? 'en' : 'ru';
  return html`<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · ${brand.name}</title>
<link rel="stylesheet" href="/static/app.css">
${frame.portal?.color ? html`<link rel="stylesheet" href="/static/portals/${frame.portal.slug}.css">
` : ''}<link rel="icon" href="data:,">
</head>
<body>
<header class="top">
  <a class="brand" href="/" aria-label="${brand.name}">${logoImage(brand, 28)}<span>${brand.name}</span></a>
  <nav>
    ${frame.nav
      ? html`<a href="/portals"${currentIn(frame.path, '/portals')}>${t('nav.portals')}</a>
    <a href="/account"${currentIn(frame.path, '/account')}>${t('nav.account')}</a>
    <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${frame.nav.csrf}"><button type="submit" class="link" data-testid="sign-out">${t('nav.signOut')}</button></form>`
      : ''}
    <span class="lang" aria-label="${t('lang.switch')}">
      <a href="${frame.path}?lang=ru" hreflang="ru" lang="ru"${frame.lang === 'ru' ? html` aria-current="true"` : ''}>RU</a>
      <a href="${frame.path}?lang=en" hreflang="en" lang="en"${frame.lang === 'en' ? html` aria-current="true"` : ''}>EN</a>
    </span>
  </nav>
</header>
<main class="card" data-lang-other="${other}">
${body}
</main>
</body>
</html>`.value;
}

export function errorList(t: Translate, messages: string[]): SafeHtml {
  if (messages.length === 0) return html``;
  return html`<div class="alert" role="alert" data-testid="form-error">${messages.map((m) => html`<p>${m}</p>`)}</div>`;
}
