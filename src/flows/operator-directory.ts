import { emailKey, isValidEmail, loginKey, normalizePhone } from '../domain/identifiers.js';
import { isLocale, type Locale } from '../domain/locale.js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import { countActiveAdmins, lockPortal } from '../store/admin.repo.js';
import {
  countPortalMembers,
  deleteMembership,
  findMembershipRow,
  listAccounts,
  listMembershipsOf,
  listPortalAdmins,
  resetAccountFailures,
  updateAccountProfile,
  type MembershipOfAccount,
} from '../store/directory.repo.js';
import { findPortalBySlug, findPortalPolicy, upsertMembership } from '../store/portals.repo.js';
import type { Account, Membership, Portal } from '../store/schema.js';
import { listSocialIdentities } from '../store/social-identities.repo.js';
import { cleanName } from './admin-members.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';
import { secondFactorStatus } from './second-factor.js';
import { killAccountSecrets } from './tokens.js';

/**
 * The operator's directory (SPEC §4, issue 14 item 11): accounts and portals to list and show, an account's
 * profile to edit, memberships to add, remove and re-role, and `user unlock`. Views have stable keys, since
 * `--json` prints them for scripts. Every change is audited as the operator's.
 */

type Ctx = Pick<FlowContext, 'store' | 'clock' | 'random'>;

export interface PortalMembershipView {
  portal: string;
  role: Membership['role'];
  status: Membership['status'];
}

export interface AccountView {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  phoneVerified: boolean;
  status: Account['status'];
  locale: Locale;
  createdAt: string;
  portals: PortalMembershipView[];
}

export interface AccountDetails extends AccountView {
  passwordSet: boolean;
  mustChangePassword: boolean;
  twoFactor: boolean;
  socialSignIns: string[];
  updatedAt: string;
}

function accountView(account: Account, memberships: MembershipOfAccount[]): AccountView {
  return {
    id: account.id,
    login: account.login,
    name: account.name,
    email: account.email,
    emailVerified: account.email_verified_at !== null,
    phone: account.phone,
    phoneVerified: account.phone_verified_at !== null,
    status: account.status,
    locale: account.locale,
    createdAt: account.created_at,
    portals: memberships.filter((m) => m.account_id === account.id).map((m) => ({ portal: m.slug, role: m.role, status: m.status })),
  };
}

export async function accountByLogin(ctx: Pick<FlowContext, 'store'>, login: string): Promise<Account> {
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'login', key: loginKey(login) });
  if (!account) throw new AppError('not_found', { field: 'login' }, `no account with login ${login.slice(0, 64)}`);
  return account;
}

async function portalBySlug(ctx: Pick<FlowContext, 'store'>, slug: string): Promise<Portal> {
  const portal = await findPortalBySlug(ctx.store.db, slug);
  if (!portal) throw new AppError('not_found', { field: 'portal' }, `portal ${slug.slice(0, 64)} does not exist`);
  return portal;
}

/** `latchkey user list [--portal <slug>] [--limit N]`: accounts by login, with their memberships. */
export async function listUsers(ctx: Pick<FlowContext, 'store'>, options: { portal?: string | undefined; limit: number }): Promise<{ users: AccountView[]; total: number }> {
  const portal = options.portal === undefined ? undefined : await portalBySlug(ctx, options.portal);
  const { accounts, total } = await listAccounts(ctx.store.db, { portalId: portal?.id, limit: options.limit });
  const memberships = await listMembershipsOf(ctx.store.db, accounts.map((a) => a.id));
  return { users: accounts.map((a) => accountView(a, memberships)), total };
}

/** `latchkey user show <login>`: the account, its memberships, how it signs in. Never a hash or a secret. */
export async function showUser(ctx: Pick<FlowContext, 'store' | 'clock'>, login: string): Promise<AccountDetails> {
  const account = await accountByLogin(ctx, login);
  const memberships = await listMembershipsOf(ctx.store.db, [account.id]);
  const factor = await secondFactorStatus(ctx.store.db, account.id, iso(ctx.clock.now()));
  const identities = await listSocialIdentities(ctx.store.db, account.id);
  return {
    ...accountView(account, memberships),
    passwordSet: account.password_hash !== null,
    mustChangePassword: Number(account.must_change_password) === 1,
    twoFactor: factor.enabled,
    socialSignIns: identities.map((i) => i.provider),
    updatedAt: account.updated_at,
  };
}

export interface UserEdit {
  name?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  locale?: string | undefined;
}

/**
 * `latchkey user edit <login> [--name] [--email] [--phone] [--locale]`: an empty value removes a name, e-mail or
 * phone. Contacts the operator sets count as verified (SPEC §2); a changed contact kills every outstanding
 * link and phone flow of the account (rule 5). Returns the fields that changed.
 */
export async function editUser(ctx: FlowContext, login: string, edit: UserEdit): Promise<string[]> {
  const db = ctx.store.db;
  const account = await accountByLogin(ctx, login);
  const at = iso(ctx.clock.now());
  const changes: Parameters<typeof updateAccountProfile>[2] = {};
  if (edit.name !== undefined) {
    const name = cleanName(edit.name);
    if (name !== account.name) changes.name = name;
  }
  if (edit.email !== undefined) {
    const email = edit.email.normalize('NFKC').trim();
    if (email === '') {
      if (account.email !== null) Object.assign(changes, { email: null, email_key: null, email_verified_at: null });
    } else {
      if (!isValidEmail(email)) throw new AppError('invalid_request', { field: 'email' }, 'email is not valid');
      const owner = await findAccountByIdentifier(db, { kind: 'email', key: emailKey(email) });
      if (owner && owner.id !== account.id) throw new AppError('invalid_request', { field: 'email' }, `e-mail ${email} is taken`);
      if (account.email_key !== emailKey(email) || account.email !== email || account.email_verified_at === null) Object.assign(changes, { email, email_key: emailKey(email), email_verified_at: at });
    }
  }
  if (edit.phone !== undefined) {
    if (edit.phone.trim() === '') {
      if (account.phone !== null) Object.assign(changes, { phone: null, phone_verified_at: null });
    } else {
      const phone = normalizePhone(edit.phone, ctx.settings.smsDefaultRegion);
      if (!phone) throw new AppError('invalid_request', { field: 'phone' }, 'phone is not a valid number');
      const owner = await findAccountByIdentifier(db, { kind: 'phone', key: phone });
      if (owner && owner.id !== account.id) throw new AppError('invalid_request', { field: 'phone' }, `phone ${phone} is taken`);
      if (account.phone !== phone || account.phone_verified_at === null) Object.assign(changes, { phone, phone_verified_at: at });
    }
  }
  if (edit.locale !== undefined) {
    if (!isLocale(edit.locale)) throw new AppError('invalid_request', { field: 'locale' }, '--locale must be ru or en');
    if (edit.locale !== account.locale) changes.locale = edit.locale;
  }
  const fields = Object.keys(changes).filter((k) => !k.endsWith('_key') && !k.endsWith('_verified_at'));
  if (fields.length === 0) return [];
  await db.transaction().execute(async (tx) => {
    await updateAccountProfile(tx, account.id, changes, at);
    // A link or code sent to the old contact must not outlive the change (SPEC §7 rule 5).
    if ('email' in changes || 'phone' in changes) await killAccountSecrets(tx, account.id, at);
    await recordAudit(ctx, tx, { action: 'operator.account.edited', actorKind: 'operator', targetAccountId: account.id, detail: fields.join(',') });
  });
  return fields;
}

/**
 * `latchkey user unlock <login>`: a locked account is active again, and its own failure budgets (wrong
 * passwords, wrong second-factor codes) count afresh on every node. A disabled account stays disabled
 * (`user enable` is for that). Budgets per client IP are untouched: they guard against the client, not for it.
 */
export async function unlockUser(ctx: Ctx, login: string): Promise<{ wasLocked: boolean; disabled: boolean }> {
  const account = await accountByLogin(ctx, login);
  const at = iso(ctx.clock.now());
  const { wasLocked } = await ctx.store.db.transaction().execute(async (tx) => {
    const result = await resetAccountFailures(tx, account.id, at);
    await recordAudit(ctx, tx, { action: 'operator.account.unlocked', actorKind: 'operator', targetAccountId: account.id, detail: result.wasLocked ? 'status=locked' : null });
    return result;
  });
  return { wasLocked, disabled: account.status === 'disabled' };
}

export interface PortalView {
  id: string;
  slug: string;
  title: string;
  url: string;
  supportContact: string | null;
  createdAt: string;
  members: { active: number; fired: number; invited: number };
  activeAdmins: number;
}

export interface PortalDetails extends PortalView {
  policy: { require2fa: boolean; recoveryChannels: string[]; minPasswordLength: number };
  admins: string[];
}

/** `latchkey portal list`: every portal by slug, with its members counted. */
export async function listPortals(ctx: Pick<FlowContext, 'store'>): Promise<PortalView[]> {
  const portals = await ctx.store.db.selectFrom('portals').select(['id', 'slug', 'title', 'url', 'support_contact', 'created_at']).orderBy('slug').execute();
  const counts = await countPortalMembers(ctx.store.db);
  return portals.map((p) => {
    const c = counts.get(p.id);
    return {
      id: p.id,
      slug: p.slug,
      title: p.title,
      url: p.url,
      supportContact: p.support_contact,
      createdAt: p.created_at,
      members: { active: c?.active ?? 0, fired: c?.fired ?? 0, invited: c?.invited ?? 0 },
      activeAdmins: c?.admins ?? 0,
    };
  });
}

/** `latchkey portal show <slug>`: the portal, its policy, its members counted and its active admins. */
export async function showPortal(ctx: Pick<FlowContext, 'store'>, slug: string): Promise<PortalDetails> {
  const portal = await portalBySlug(ctx, slug);
  const view = (await listPortals(ctx)).find((p) => p.id === portal.id);
  const policy = await findPortalPolicy(ctx.store.db, portal.slug);
  if (!view || !policy) throw new AppError('not_found', { field: 'portal' }, `portal ${slug.slice(0, 64)} does not exist`);
  return {
    ...view,
    policy: { require2fa: Number(policy.require_2fa) === 1, recoveryChannels: policy.recovery_channels.split(',').filter((c) => c !== ''), minPasswordLength: Number(policy.min_password_length) },
    admins: await listPortalAdmins(ctx.store.db, portal.id),
  };
}

/**
 * `latchkey member add <login> --portal <slug> [--role]`: an existing passport joins another portal at once
 * (the operator is trusted; admins invite instead). An invited or fired membership becomes active with the
 * role; an active one is refused as already there.
 */
export async function addMember(ctx: Ctx, login: string, slug: string, role: Membership['role']): Promise<'added' | 'activated'> {
  const account = await accountByLogin(ctx, login);
  const portal = await portalBySlug(ctx, slug);
  const at = iso(ctx.clock.now());
  return ctx.store.db.transaction().execute(async (tx) => {
    const existing = await findMembershipRow(tx, account.id, portal.id);
    if (existing?.status === 'active') throw new AppError('invalid_request', { field: 'login' }, `${account.login} is already a member of ${portal.slug} (role ${existing.role}); use member role`);
    await upsertMembership(tx, { account_id: account.id, portal_id: portal.id, role, status: 'active', created_at: existing?.created_at ?? at });
    await recordAudit(ctx, tx, { action: 'operator.member.added', actorKind: 'operator', targetAccountId: account.id, portalId: portal.id, detail: role });
    return existing ? 'activated' : 'added';
  });
}

/** The portal's last active admin is never removed or demoted: somebody must be left to administer it. */
async function assertNotLastAdmin(tx: Parameters<typeof lockPortal>[0], portal: Portal, account: Account, membership: Membership): Promise<void> {
  await lockPortal(tx, portal.id);
  const counted = membership.role === 'admin' && membership.status === 'active' && account.status === 'active';
  if (counted && (await countActiveAdmins(tx, portal.id)) <= 1) throw new AppError('last_admin', {}, `${account.login} is the last active admin of ${portal.slug}`);
}

/** `latchkey member remove <login> --portal <slug>`: the membership goes (never the last active admin's). */
export async function removeMember(ctx: Ctx, login: string, slug: string): Promise<void> {
  const account = await accountByLogin(ctx, login);
  const portal = await portalBySlug(ctx, slug);
  await ctx.store.db.transaction().execute(async (tx) => {
    const membership = await findMembershipRow(tx, account.id, portal.id);
    if (!membership) throw new AppError('not_found', { field: 'login' }, `${account.login} is not a member of ${portal.slug}`);
    await assertNotLastAdmin(tx, portal, account, membership);
    await deleteMembership(tx, account.id, portal.id);
    await recordAudit(ctx, tx, { action: 'operator.member.removed', actorKind: 'operator', targetAccountId: account.id, portalId: portal.id, detail: membership.role });
  });
}

/** `latchkey member role <login> --portal <slug> --role admin|employee`; returns whether the role changed. */
export async function setMemberRoleByOperator(ctx: Ctx, login: string, slug: string, role: Membership['role']): Promise<boolean> {
  const account = await accountByLogin(ctx, login);
  const portal = await portalBySlug(ctx, slug);
  return ctx.store.db.transaction().execute(async (tx) => {
    const membership = await findMembershipRow(tx, account.id, portal.id);
    if (!membership) throw new AppError('not_found', { field: 'login' }, `${account.login} is not a member of ${portal.slug}`);
    if (membership.role === role) return false;
    if (role === 'employee') await assertNotLastAdmin(tx, portal, account, membership);
    await upsertMembership(tx, { ...membership, role });
    await recordAudit(ctx, tx, { action: 'operator.member.role_changed', actorKind: 'operator', targetAccountId: account.id, portalId: portal.id, detail: role });
    return true;
  });
}
