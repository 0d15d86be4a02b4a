import type { Locale } from '../domain/locale.js';
import { html, type SafeHtml } from './html.js';
import { translator, type Translate } from './i18n.js';

export interface PageFrame {
  lang: Locale;
  title: string;
  /** Path (without query) the language switch links back to. */
  path: string;
  /** Set when someone is signed in: shows the navigation and the sign-out form. */
  nav?: { login: string; csrf: string };
}

/** The page shell: language switch on every page, no inline script or style (the CSP forbids both). */
export function layout(frame: PageFrame, body: SafeHtml): string {
  const t = translator(frame.lang);
  const other: Locale = frame.lang === 'ru' ? 'en' : 'ru';
  return html`<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · ${t('app.name')}</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="data:,">
</head>
<body>
<header class="top">
  <a class="brand" href="/">${t('app.name')}</a>
  <nav>
    ${frame.nav
      ? html`<a href="/portals">${t('nav.portals')}</a>
    <a href="/account">${t('nav.account')}</a>
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
