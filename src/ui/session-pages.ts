import { deviceName } from '../domain/device-name.js';
import type { Locale } from '../domain/locale.js';
import type { SessionView } from '../flows/account-sessions.js';
import { html } from './html.js';
import { translator } from './i18n.js';
import { layout, type PageFrame } from './layout.js';

export interface SessionsPageState {
  notice?: 'one' | 'others';
}

const stamp = (at: string) => `${at.slice(0, 16).replace('T', ' ')} UTC`;

/** `/account/sessions` (SPEC §11): every session with its device, IP and times; sign out one, or all but this one. */
export function sessionsPage(lang: Locale, nav: NonNullable<PageFrame['nav']>, sessions: SessionView[], state: SessionsPageState = {}): string {
  const t = translator(lang);
  const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
  const others = sessions.filter((s) => !s.current);
  return layout(
    { lang, title: t('sessions.title'), path: '/account/sessions', nav },
    html`<h1>${t('sessions.title')}</h1>
${state.notice ? html`<div class="notice" role="status" data-testid="flash">${t(state.notice === 'one' ? 'sessions.done.one' : 'sessions.done.others')}</div>` : ''}
<p class="muted">${t('sessions.intro')}</p>
<ul class="sessions" data-testid="sessions">${sessions.map(
      (s) => html`<li data-session="${s.id}"${s.current ? html` data-current="true"` : ''}>
  <div><strong>${deviceName(s.userAgent, { on: t('device.on'), unknown: t('device.unknown') })}</strong>${s.current ? html` <span class="badge">${t('sessions.current')}</span>` : ''}
  <br><span class="muted"><span class="fact">${t('sessions.ip')}: ${s.ip ?? t('sessions.unknownIp')}</span> · <span class="fact">${t('sessions.created')}: ${stamp(s.createdAt)}</span> · <span class="fact">${t('sessions.lastSeen')}: ${stamp(s.lastSeenAt)}</span></span></div>
  ${s.current ? '' : html`<form method="post" action="/account/sessions/${s.id}/sign-out" class="inline">${csrf}<button type="submit" class="secondary" data-testid="sign-out-session">${t('sessions.signOut')}</button></form>`}
</li>`,
    )}</ul>
${others.length > 0
  ? html`<form method="post" action="/account/sessions/sign-out-others">${csrf}<button type="submit" data-testid="sign-out-others">${t('sessions.signOutOthers')}</button></form>`
  : html`<p data-testid="only-this">${t('sessions.onlyThis')}</p>`}
<p><a href="/account">${t('sessions.back')}</a></p>`,
  );
}
