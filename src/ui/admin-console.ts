import type { Locale } from '../domain/locale.js';
import type { AuditRow, MemberFilter, MemberRow } from '../store/admin.repo.js';
import { html, type SafeHtml } from './html.js';
import { translator } from './i18n.js';
import { errorList } from './layout.js';

/**
 * The console's parts of issue 14, item 10 (Keycloak's admin console is the anchor): the member list's
 * filters, the member page's role and name forms, the audit log's date range, pages and CSV export. Kept apart
 * from admin-pages.ts so the pages' own markup and classes stay where the layout work styles them.
 */

/** Role and status filters for the member list's search form (`form.search`): empty = any. */
export function memberFilterFields(lang: Locale, filter: MemberFilter): SafeHtml {
  const t = translator(lang);
  const option = (value: string, label: string, current: string | undefined) => html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${label}</option>`;
  return html`<label>${t('console.filter.role')}<select name="role" data-testid="filter-role">${option('', t('console.filter.any'), filter.role)}${option('admin', t('console.filter.admins'), filter.role)}${option('employee', t('console.filter.employees'), filter.role)}</select></label>
<label>${t('console.filter.status')}<select name="status" data-testid="filter-status">${option('', t('console.filter.any'), filter.status)}${option('active', t('console.filter.active'), filter.status)}${option('fired', t('console.filter.fired'), filter.status)}</select></label>`;
}

/** "N found", above the list. */
export function memberCount(lang: Locale, total: number): SafeHtml {
  return html`<p class="muted" data-testid="member-count">${translator(lang)('console.found', { count: total })}</p>`;
}

export interface MemberEditState {
  /** What the role or name form just did. */
  done?: 'roleChanged' | 'renamed';
  errors?: string[];
  /** The name as typed, when it was refused. */
  name?: string;
}

/**
 * The member page's "Role and name" section: employee ↔ administrator (never the last active one) and the
 * passport's name (shown on every portal the person is in). Fired members are re-activated first.
 */
export function memberEditSection(lang: Locale, csrf: string, base: string, member: MemberRow, state: MemberEditState = {}): SafeHtml {
  const t = translator(lang);
  if (member.membership === 'fired') return html``;
  const token = html`<input type="hidden" name="_csrf" value="${csrf}">`;
  const other = member.role === 'admin' ? 'employee' : 'admin';
  return html`<section class="member-edit" data-testid="member-edit"><h2>${t('console.roleAndName')}</h2>
${state.done ? html`<div class="notice" role="status" data-testid="flash">${t(`console.done.${state.done}`)}</div>` : ''}
${errorList(t, state.errors ?? [])}
<p data-testid="member-role">${t('console.role.current', { role: t(`admin.role.${member.role}`) })}</p>
<form method="post" action="${base}/role" class="inline">${token}<input type="hidden" name="role" value="${other}"><button type="submit" class="secondary" data-testid="${other === 'admin' ? 'make-admin' : 'make-employee'}">${t(other === 'admin' ? 'console.role.makeAdmin' : 'console.role.makeEmployee')}</button></form>
<form method="post" action="${base}/name" class="member-name">${token}
  <label>${t('admin.col.name')}<input name="name" autocomplete="off" maxlength="200" value="${state.name ?? member.name ?? ''}" data-testid="name-input"></label>
  <p class="muted">${t('console.name.hint')}</p>
  <button type="submit" data-testid="save-name">${t('console.name.save')}</button>
</form></section>`;
}

export interface AuditView {
  action: string;
  login: string;
  from: string;
  to: string;
  page: number;
  /** Whether another page follows (one row more than a page was asked for). */
  more: boolean;
  events: AuditRow[];
}

/** The audit query as a URL query string, for the pager and the CSV link. */
export function auditQueryString(view: Pick<AuditView, 'action' | 'login' | 'from' | 'to'>, page?: number): string {
  const params = new URLSearchParams();
  for (const key of ['action', 'login', 'from', 'to'] as const) if (view[key] !== '') params.set(key, view[key]);
  if (page !== undefined && page > 1) params.set('page', String(page));
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

/** The date-range inputs of the audit log's filter form (UTC days). */
export function auditDateFields(lang: Locale, view: Pick<AuditView, 'from' | 'to'>): SafeHtml {
  const t = translator(lang);
  return html`<label>${t('console.audit.from')}<input name="from" type="date" value="${view.from}" data-testid="audit-from"></label>
<label>${t('console.audit.to')}<input name="to" type="date" value="${view.to}" data-testid="audit-to"></label>`;
}

/** Previous/next pages of the audit log and the CSV export of everything the filters match. */
export function auditFooter(lang: Locale, slug: string, view: AuditView): SafeHtml {
  const t = translator(lang);
  const base = `/admin/${slug}/audit`;
  return html`<p class="pager">${view.page > 1 ? html`<a href="${base}${auditQueryString(view, view.page - 1)}" data-testid="audit-prev">${t('admin.prev')}</a>` : ''}
<span>${t('console.page', { page: view.page })}</span>
${view.more ? html`<a href="${base}${auditQueryString(view, view.page + 1)}" data-testid="audit-next">${t('admin.next')}</a>` : ''}</p>
<p><a class="button secondary" href="${base}.csv${auditQueryString(view)}" download data-testid="audit-export">${t('console.audit.export')}</a></p>`;
}

