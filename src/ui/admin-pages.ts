import type { Locale } from '../domain/locale.js';
import type { MemberFilter, MemberRow } from '../store/admin.repo.js';
import { auditDateFields, auditFooter, memberCount, memberEditSection, memberFilterFields, type AuditView, type MemberEditState } from './admin-console.js';
import type { PendingInvitationView } from '../flows/invite-employee.js';
import type { Portal, PortalPolicy } from '../store/schema.js';
import { html, type SafeHtml } from './html.js';
import { translator, type MessageKey } from './i18n.js';
import { errorList, layout, type PageFrame } from './layout.js';

/** The admin console (issue 4): employees, a profile with "Passwords → Sign-in", invitations, audit log. */

type Nav = NonNullable<PageFrame['nav']>;

/** The console's tabs; `current` is highlighted (`aria-current`). */
function adminNav(lang: Locale, portal: Portal, current?: 'users' | 'invite' | 'audit'): SafeHtml {
  const t = translator(lang);
  const base = `/admin/${portal.slug}`;
  const tab = (name: 'users' | 'invite' | 'audit', label: string) => html`<a href="${base}/${name}"${name === current ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs">${tab('users', t('admin.employees'))}${tab('invite', t('admin.invite'))}${tab('audit', t('admin.audit'))}</nav>`;
}

/** The frame of a page about one portal: its own colour, when it has one. */
function portalFrame(portal: Portal): PageFrame['portal'] {
  return { slug: portal.slug, color: portal.color };
}

export function adminPortalsPage(lang: Locale, nav: Nav, portals: Portal[]): string {
  const t = translator(lang);
  return layout(
    { lang, title: t('admin.title'), path: '/admin', nav },
    html`<h1>${t('admin.title')}</h1><p>${t('admin.choosePortal')}</p>
<ul class="portals">${portals.map((p) => html`<li><strong>${p.title}</strong><a class="button" href="/admin/${p.slug}/users">${t('admin.employees')}</a></li>`)}</ul>`,
  );
}

/**
 * A signed-in person who is not an administrator of the portal in the address (issue 14 item 4): says so and
 * leads back to their portals. `slug` is what they typed (undefined on `/admin` itself); `heldElsewhere` is a
 * session an admin's 2FA pause holds to another portal.
 */
export function notAdminPage(lang: Locale, nav: Nav, slug: string | undefined, heldElsewhere: boolean): string {
  const t = translator(lang);
  const message = heldElsewhere ? t('admin.notAdmin.held') : slug === undefined ? t('admin.notAdmin.any') : t('admin.notAdmin.body', { portal: slug.slice(0, 64) });
  return layout(
    { lang, title: t('admin.notAdmin.title'), path: '/portals', nav },
    html`<h1>${t('admin.notAdmin.title')}</h1>
<p data-testid="not-admin">${message}</p>
<p class="muted">${t('admin.notAdmin.ask')}</p>
<p><a class="button" href="/portals" data-testid="back-to-portals">${t('admin.notAdmin.back')}</a></p>`,
  );
}

export function employeesPage(lang: Locale, nav: Nav, portal: Portal, view: { query: string; page: number; pages: number; total: number; filter: MemberFilter; members: MemberRow[]; policy?: PortalPolicy | undefined }): string {
  const t = translator(lang);
  const base = `/admin/${portal.slug}/users`;
  const pageLink = (page: number) => `${base}?${new URLSearchParams({ query: view.query, role: view.filter.role ?? '', status: view.filter.status ?? '', page: String(page) }).toString()}`;
  return layout(
    { lang, title: `${t('admin.employees')} · ${portal.title}`, path: base, nav, portal: portalFrame(portal) },
    html`<h1>${portal.title}</h1>
${adminNav(lang, portal, 'users')}
<form method="get" action="${base}" class="search filters">
  <label>${t('admin.search')}<input name="query" type="search" value="${view.query}" maxlength="200"></label>
  ${memberFilterFields(lang, view.filter)}
  <button type="submit">${t('admin.searchButton')}</button>
</form>
${memberCount(lang, view.total)}
${view.members.length === 0
  ? html`<p data-testid="no-employees">${t('admin.empty')}</p>`
  : html`<table class="list"><thead><tr><th>${t('admin.col.login')}</th><th>${t('admin.col.name')}</th><th>${t('admin.col.email')}</th><th>${t('admin.col.phone')}</th><th>${t('admin.col.status')}</th></tr></thead>
<tbody>${view.members.map(
      (m) => html`<tr data-login="${m.login}"><td><a href="${base}/${m.id}">${m.login}</a>${m.role === 'admin' ? html` <small>(${t('admin.role.admin')})</small>` : ''}</td><td>${m.name ?? ''}</td><td>${m.email ?? ''}</td><td>${m.phone ?? ''}</td><td>${t(`admin.status.${m.membership}`)}${m.membership === 'fired' ? html` <form method="post" action="${base}/${m.id}/status" class="inline"><input type="hidden" name="_csrf" value="${nav.csrf}"><input type="hidden" name="status" value="active"><button type="submit" class="secondary" data-testid="reactivate">${t('admin.reactivate')}</button></form>` : ''}</td></tr>`,
    )}</tbody></table>`}
${view.policy ? portalPolicy(lang, view.policy) : ''}
<p class="pager">${view.page > 1 ? html`<a href="${pageLink(view.page - 1)}" data-testid="prev">${t('admin.prev')}</a>` : ''}
<span>${t('admin.pageOf', { page: view.page, pages: Math.max(1, view.pages) })}</span>
${view.page < view.pages ? html`<a href="${pageLink(view.page + 1)}" data-testid="next">${t('admin.next')}</a>` : ''}</p>`,
  );
}

/** The portal's policy (issue 11, item 6), read-only: the operator sets it with `latchkey portal set`. */
function portalPolicy(lang: Locale, policy: PortalPolicy) {
  const t = translator(lang);
  const channels = policy.recovery_channels.split(',').filter((c) => c !== '');
  return html`<section class="policy" data-testid="portal-policy"><h2>${t('admin.policy')}</h2>
<dl class="profile">
  <dt>${t('admin.policy.require2fa')}</dt><dd>${t(Number(policy.require_2fa) === 1 ? 'admin.policy.yes' : 'admin.policy.no')}</dd>
  <dt>${t('admin.policy.channels')}</dt><dd>${channels.length === 0 ? '—' : channels.map((c) => t(`admin.policy.channel.${c}` as MessageKey)).join(', ')}</dd>
  <dt>${t('admin.policy.minLength')}</dt><dd>${String(policy.min_password_length)}</dd>
</dl>
<p class="muted">${t('admin.policy.hint')}</p></section>`;
}

export interface ProfileState {
  /** A recovery link just sent; `replaced`: an earlier one from this portal's admins stopped working. */
  sent?: { channel: 'email' | 'phone'; at: string; replaced?: boolean };
  /** What the access section just did (issue 13; `suspended`: the second factor was paused, issue 11). */
  done?: 'sessionsEnded' | 'fired' | 'reactivated' | 'suspended';
  /** The member's second factor: on or off, and until when an admin's pause lasts (UTC ISO), if one does. */
  twoFactor?: { enabled: boolean; suspendedUntil: string | null };
  accessErrors?: string[];
  /** The role and name section (issue 14, item 10). */
  edit?: MemberEditState;
  passwordSet?: boolean;
  errors?: string[];
}

export function employeePage(lang: Locale, nav: Nav, portal: Portal, member: MemberRow, edition: 'cloud' | 'box', smsEnabled: boolean, state: ProfileState = {}): string {
  const t = translator(lang);
  const base = `/admin/${portal.slug}/users/${member.id}`;
  const canEmail = member.email !== null && member.email_verified_at !== null;
  const canPhone = member.phone !== null && member.phone_verified_at !== null && smsEnabled;
  const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
  return layout(
    { lang, title: `${member.login} · ${portal.title}`, path: base, nav, portal: portalFrame(portal) },
    html`<h1>${portal.title}</h1>
${adminNav(lang, portal, 'users')}
<h2>${t('admin.profile')}</h2>
<dl class="profile">
  <dt>${t('admin.col.login')}</dt><dd data-testid="member-login">${member.login}</dd>
  <dt>${t('admin.col.name')}</dt><dd>${member.name ?? '—'}</dd>
  <dt>${t('admin.col.email')}</dt><dd>${member.email ?? '—'}</dd>
  <dt>${t('admin.col.phone')}</dt><dd>${member.phone ?? '—'}</dd>
  <dt>${t('admin.col.status')}</dt><dd data-testid="member-status">${t(`admin.status.${member.membership}`)}</dd>
</dl>
${state.done ? html`<div class="notice" role="status" data-testid="flash">${t(`admin.done.${state.done}`)}</div>` : ''}
${member.membership === 'fired' ? '' : html`<h2>${t('admin.passwords')}</h2>
${state.sent ? html`<div class="notice" role="status" data-testid="flash">${t(`admin.sent.${state.sent.channel}`, { time: state.sent.at.slice(11, 16) })}${state.sent.replaced ? html` <span data-testid="link-replaced">${t('admin.sent.replaced')}</span>` : ''}</div>` : ''}
${state.passwordSet ? html`<div class="notice" role="status" data-testid="flash">${t('admin.passwordSet')}</div>` : ''}
${errorList(t, state.errors ?? [])}
${edition === 'cloud'
  ? canEmail || canPhone
    ? html`<div class="actions">
${canEmail ? html`<form method="post" action="${base}/recovery" class="inline">${csrf}<input type="hidden" name="channel" value="email"><button type="submit" data-testid="recover-email">${t('admin.recoverEmail')}</button></form>` : ''}
${canPhone ? html`<form method="post" action="${base}/recovery" class="inline">${csrf}<input type="hidden" name="channel" value="phone"><button type="submit" data-testid="recover-phone">${t('admin.recoverPhone')}</button></form>` : ''}
</div>`
    : html`<p class="muted">${t('admin.noContacts')}</p>`
  : html`<h3>${t('admin.setPassword')}</h3>
<form method="post" action="${base}/password" novalidate>
  ${csrf}
  <input type="text" name="username" autocomplete="off" value="${member.login}" hidden readonly>
  <label>${t('admin.newPassword')}<input name="password" type="password" autocomplete="new-password" required maxlength="1024"></label>
  <label>${t('admin.confirmPassword')}<input name="passwordConfirm" type="password" autocomplete="new-password" required maxlength="1024"></label>
  <label class="check"><input type="checkbox" name="mustChange" value="1"> ${t('admin.mustChange')}</label>
  <button type="submit" data-testid="set-password">${t('admin.save')}</button>
</form>`}`}
${member.membership === 'fired' || !state.twoFactor ? '' : html`<h2>${t('admin.2fa')}</h2>
<p data-testid="member-2fa">${state.twoFactor.suspendedUntil
  ? t('admin.2fa.suspendedUntil', { until: state.twoFactor.suspendedUntil.slice(0, 16).replace('T', ' ') })
  : t(state.twoFactor.enabled ? 'admin.2fa.on' : 'admin.2fa.off')}</p>
${state.twoFactor.enabled ? html`<p class="muted">${t('admin.2fa.suspend.hint')}</p>
<form method="post" action="${base}/2fa/suspend" class="inline">${csrf}
  <label>${t('admin.2fa.hours')}<select name="hours" data-testid="suspend-hours">${[1, 4, 8, 24, 72, 168].map((h) => html`<option value="${String(h)}"${h === 24 ? ' selected' : ''}>${t('admin.2fa.hoursOption', { hours: h })}</option>`)}</select></label>
  <button type="submit" class="secondary" data-testid="suspend-2fa">${t('admin.2fa.suspend')}</button>
</form>` : ''}`}
${memberEditSection(lang, nav.csrf, base, member, state.edit)}
<h2>${t('admin.access')}</h2>
${errorList(t, state.accessErrors ?? [])}
${member.membership === 'fired' ? html`<p class="muted">${t('admin.fired.notice')}</p>` : ''}
<p class="muted">${t('admin.endSessions.hint')}</p>
<div class="actions">
<form method="post" action="${base}/sessions/end" class="inline">${csrf}<button type="submit" class="secondary" data-testid="end-sessions">${t('admin.endSessions')}</button></form>
<form method="post" action="${base}/status" class="inline">${csrf}<input type="hidden" name="status" value="${member.membership === 'fired' ? 'active' : 'fired'}"><button type="submit" class="secondary" data-testid="${member.membership === 'fired' ? 'reactivate' : 'fire'}">${t(member.membership === 'fired' ? 'admin.reactivate' : 'admin.fire')}</button></form>
</div>`,
  );
}

export interface InvitePageState {
  errors?: string[];
  /** The contact an invitation was just sent to (as typed, normalised): the same message for every contact. */
  sent?: string;
  revoked?: string;
  values?: Record<string, string>;
  invitations?: PendingInvitationView[];
}

export function invitePage(lang: Locale, nav: Nav, portal: Portal, state: InvitePageState = {}): string {
  const t = translator(lang);
  const v = state.values ?? {};
  const csrf = html`<input type="hidden" name="_csrf" value="${nav.csrf}">`;
  const invitations = state.invitations ?? [];
  const stamp = (at: string) => at.slice(0, 16).replace('T', ' ');
  return layout(
    { lang, title: `${t('admin.invite')} · ${portal.title}`, path: `/admin/${portal.slug}/invite`, nav, portal: portalFrame(portal) },
    html`<h1>${t('admin.invite')}</h1>
${adminNav(lang, portal, 'invite')}
<p>${t('admin.invite.intro', { portal: portal.title })}</p>
${state.sent ? html`<div class="notice" role="status" data-testid="flash">${t('admin.invite.done', { contact: state.sent })}</div>` : ''}
${state.revoked ? html`<div class="notice" role="status" data-testid="flash">${t('admin.invitations.revoked', { contact: state.revoked })}</div>` : ''}
${errorList(t, state.errors ?? [])}
<form method="post" action="/admin/${portal.slug}/invite" novalidate>
  ${csrf}
  <label>${t('admin.invite.email')}<input name="email" type="email" autocomplete="off" maxlength="254" value="${v.email ?? ''}"></label>
  <label>${t('admin.invite.phone')}<input name="phone" type="tel" autocomplete="off" maxlength="40" value="${v.phone ?? ''}"></label>
  <label>${t('admin.invite.name')}<input name="name" autocomplete="off" maxlength="200" value="${v.name ?? ''}"></label>
  <label class="check"><input type="checkbox" name="role" value="admin"${v.role === 'admin' ? html` checked` : ''}> ${t('admin.invite.role')}</label>
  <button type="submit" data-testid="invite">${t('admin.invite.submit')}</button>
</form>
<h2>${t('admin.invitations')}</h2>
${invitations.length === 0
  ? html`<p class="muted" data-testid="no-invitations">${t('admin.invitations.empty')}</p>`
  : html`<ul class="methods pending" data-testid="invitations">${invitations.map(
      (i) => html`<li data-contact="${i.contact}"><div><strong>${i.contact}</strong><br><span class="muted">${t('admin.invitations.role')}: ${t(`admin.role.${i.role}`)} · ${t('admin.invitations.sent')}: ${stamp(i.createdAt)} · ${t('admin.invitations.expires')}: ${stamp(i.expiresAt)}</span></div>
<form method="post" action="/admin/${portal.slug}/invitations/${i.id}/revoke" class="inline">${csrf}<button type="submit" class="secondary" data-testid="revoke">${t('admin.invitations.revoke')}</button></form></li>`,
    )}</ul>`}`,
  );
}

export const AUDIT_ACTIONS = [
  'admin.recovery_link.sent',
  'admin.member.invited',
  'admin.invitation.revoked',
  'member.joined',
  'member.invitation_declined',
  'admin.member.added',
  'admin.password.set',
  'password.changed',
  'admin.member.sessions_ended',
  'admin.member.fired',
  'admin.member.reactivated',
  'account.not_me',
  'account.unlocked',
  'admin.member.role_changed',
  'admin.member.renamed',
  'admin.member.2fa_suspended',
  'signin.succeeded',
  'signin.failed',
  'signin.second_factor_passed',
  'social.signed_in',
  'login.changed',
  'session.revoked_others',
  '2fa.enabled',
  '2fa.disabled',
  '2fa.codes_renewed',
  '2fa.code_used',
  'operator.member.added',
  'operator.member.removed',
  'operator.member.role_changed',
] as const;

/**
 * An event's detail in words (issue 14 items 6 and 10): the channel, the role, a refused sign-in's reason,
 * "must change at next sign-in", a count. Row ids and anything this page has no words for are left out rather than shown as raw codes.
 */
export function auditDetail(lang: Locale, action: string, detail: string | null): string | undefined {
  if (!detail) return undefined;
  const t = translator(lang);
  if ((action === 'admin.member.role_changed' || action.startsWith('operator.member.')) && (detail === 'admin' || detail === 'employee')) return t(`admin.role.${detail}`);
  if (action === 'signin.failed' && (detail === 'wrong_password' || detail === 'rate_limited')) return t(`console.audit.reason.${detail}`);
  const known: Record<string, MessageKey> = {
    email: 'audit.detail.email',
    phone: 'audit.detail.phone',
    must_change: 'audit.detail.mustChange',
    admin: 'audit.detail.roleAdmin',
    employee: 'audit.detail.roleEmployee',
  };
  const word = known[detail.split(' ')[0] ?? ''];
  if (action === 'admin.member.invited' || action === 'admin.recovery_link.sent' || action === 'admin.password.set') return word === undefined ? undefined : t(word);
  if (action === 'admin.member.sessions_ended' && /^\d+$/.test(detail)) return t('audit.detail.sessions', { count: detail });
  const hours = /^hours=(\d+)$/.exec(detail);
  if (hours) return t('audit.detail.hours', { hours: hours[1] ?? '' });
  return undefined;
}

/** Who acted, when no login names them: the operator, the recovery flow, the person themselves. */
function actorWords(lang: Locale, kind: string): string {
  const t = translator(lang);
  const words: Record<string, MessageKey> = { operator: 'audit.actor.operator', recovery: 'audit.actor.recovery', self: 'audit.actor.self', admin: 'audit.actor.admin' };
  return t(words[kind] ?? 'audit.actor.system');
}

export function auditPage(lang: Locale, nav: Nav, portal: Portal, view: AuditView & { errors?: string[] }): string {
  const t = translator(lang);
  const name = (action: string) => (AUDIT_ACTIONS as readonly string[]).includes(action) ? t(`action.${action}` as MessageKey) : action;
  return layout(
    { lang, title: `${t('admin.audit')} · ${portal.title}`, path: `/admin/${portal.slug}/audit`, nav, portal: portalFrame(portal) },
    html`<h1>${t('admin.audit')}</h1>
${adminNav(lang, portal, 'audit')}
<form method="get" action="/admin/${portal.slug}/audit" class="search filters">
  <label>${t('admin.audit.action')}<select name="action"><option value="">${t('admin.audit.any')}</option>${AUDIT_ACTIONS.map((a) => html`<option value="${a}"${a === view.action ? html` selected` : ''}>${name(a)}</option>`)}</select></label>
  <label>${t('admin.audit.who')}<input name="login" value="${view.login}" maxlength="64"></label>
  ${auditDateFields(lang, view)}
  <button type="submit">${t('admin.audit.filter')}</button>
</form>
${errorList(t, view.errors ?? [])}
${view.events.length === 0
  ? html`<p>${t('admin.audit.empty')}</p>`
  : html`<div class="table-scroll"><table class="list" data-testid="audit"><thead><tr><th>${t('admin.audit.when')}</th><th>${t('admin.audit.actor')}</th><th>${t('admin.audit.action')}</th><th>${t('admin.audit.target')}</th><th>${t('admin.audit.ip')}</th></tr></thead>
<tbody>${view.events.map((e) => {
      const detail = auditDetail(lang, e.action, e.detail);
      return html`<tr data-action="${e.action}"><td>${e.at.slice(0, 19).replace('T', ' ')}</td><td>${e.actor_login ?? actorWords(lang, e.actor_kind)}</td><td>${name(e.action)}${detail ? html` <small data-testid="audit-detail">(${detail})</small>` : ''}</td><td>${e.target_login ?? ''}</td><td>${e.ip ?? ''}</td></tr>`;
    })}</tbody></table></div>`}
${auditFooter(lang, portal.slug, view)}`,
  );
}
