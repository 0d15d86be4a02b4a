import { emailKey, isValidEmail, isValidLogin, loginKey, normalizePhone } from '../domain/identifiers.js';
import type { Locale } from '../domain/locale.js';
import { iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier, insertAccount, setAccountStatus } from '../store/accounts.repo.js';
import { endSessions } from './end-sessions.js';
import { killAccountSecrets } from './tokens.js';
import { recordAudit } from './audit.js';
import { findPortalBySlug, insertPortal, updatePortal, upsertMembership } from '../store/portals.repo.js';
import { PASSWORD_MAX, PASSWORD_MIN } from '../domain/password-policy.js';
import type { Account, Portal, SocialIdentity } from '../store/schema.js';
import { listSocialIdentities } from '../store/social-identities.repo.js';
import { listSignInMethods, unlinkSocialIdentity, type SignInMethods } from './sign-in-methods.js';
import type { FlowContext } from './context.js';
import { applyPasswordChange, hashNewPassword } from './password-change.js';
import { BRAND_COLOR } from '../ui/brand.js';

/** The operator's use cases (SPEC §4 CLI); the operator is trusted, every action is still audited. */

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function addPortal(
  ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>,
  input: { slug: string; title: string; url?: string | undefined; support?: string | undefined; color?: string | undefined },
): Promise<Portal> {
  if (!SLUG.test(input.slug)) throw new AppError('invalid_request', { field: 'slug' }, 'slug: lower-case letters, digits and dashes');
  if (input.title.trim() === '') throw new AppError('invalid_request', { field: 'title' }, 'title is empty');
  // Without a URL of its own a portal lands on Latchkey's own /portals/<slug> page (the demo's case).
  const url = input.url ?? `/portals/${input.slug}`;
  if (input.url !== undefined && !/^https?:\/\//.test(url)) throw new AppError('invalid_request', { field: 'url' }, 'url must start with http:// or https://');
  if (await findPortalBySlug(ctx.store.db, input.slug)) throw new AppError('invalid_request', { field: 'slug' }, `portal ${input.slug} already exists`);
  const color = input.color === undefined ? null : portalColor(input.color);
  const portal: Portal = {
    id: newId(ctx.random),
    slug: input.slug,
    title: input.title.trim(),
    url,
    support_contact: input.support ?? null,
    created_at: iso(ctx.clock.now()),
    color,
  };
  await insertPortal(ctx.store.db, portal);
  return portal;
}

export interface NewUserInput {
  login: string;
  email?: string | undefined;
  phone?: string | undefined;
  name?: string | undefined;
  password?: string | undefined;
  locale?: Locale | undefined;
  portals?: Array<{ slug: string; role: 'admin' | 'employee' }>;
}

/** Contacts the operator adds count as verified (SPEC §2). */
export async function addUser(ctx: FlowContext, input: NewUserInput): Promise<Account> {
  const db = ctx.store.db;
  if (!isValidLogin(input.login)) throw new AppError('invalid_request', { field: 'login' }, 'login: 2-64 letters, digits, . _ -, starting with a letter');
  if (input.email !== undefined && !isValidEmail(input.email)) throw new AppError('invalid_request', { field: 'email' }, 'email is not valid');
  const phone = input.phone === undefined ? undefined : normalizePhone(input.phone, ctx.settings.smsDefaultRegion);
  if (input.phone !== undefined && !phone) throw new AppError('invalid_request', { field: 'phone' }, 'phone is not a valid number');
  if (await findAccountByIdentifier(db, { kind: 'login', key: loginKey(input.login) })) {
    // The person may already have a passport: they join another portal with `member add` (issue 14, item 11).
    throw new AppError('invalid_request', { field: 'login' }, `login ${input.login} is taken; to add that account to a portal: latchkey member add ${input.login} --portal <slug>`);
  }
  if (input.email && (await findAccountByIdentifier(db, { kind: 'email', key: emailKey(input.email) }))) {
    throw new AppError('invalid_request', { field: 'email' }, `e-mail ${input.email} is taken`);
  }
  if (phone && (await findAccountByIdentifier(db, { kind: 'phone', key: phone }))) {
    throw new AppError('invalid_request', { field: 'phone' }, `phone ${phone} is taken`);
  }
  const portals: Portal[] = [];
  for (const entry of input.portals ?? []) {
    const portal = await findPortalBySlug(db, entry.slug);
    if (!portal) throw new AppError('not_found', { field: 'portal' }, `portal ${entry.slug} does not exist`);
    portals.push(portal);
  }
  const profile = { login: input.login, email: input.email ?? null, name: input.name ?? null };
  const hash = input.password === undefined ? null : await hashNewPassword(ctx, input.password, profile);
  const at = iso(ctx.clock.now());
  const account: Account = {
    id: newId(ctx.random),
    login: input.login.normalize('NFKC'),
    login_key: loginKey(input.login),
    name: input.name ?? null,
    email: input.email?.normalize('NFKC').trim() ?? null,
    email_key: input.email ? emailKey(input.email) : null,
    email_verified_at: input.email ? at : null,
    phone: phone ?? null,
    phone_verified_at: phone ? at : null,
    password_hash: hash,
    password_changed_at: hash ? at : null,
    status: 'active',
    locale: input.locale ?? 'ru',
    created_at: at,
    updated_at: at,
    must_change_password: 0,
    failures_reset_at: null,
  };
  await db.transaction().execute(async (tx) => {
    await insertAccount(tx, account);
    for (const [i, portal] of portals.entries()) {
      await upsertMembership(tx, { account_id: account.id, portal_id: portal.id, role: input.portals?.[i]?.role ?? 'employee', status: 'active', created_at: at });
    }
    await recordAudit(ctx, tx, { action: 'account.created', actorKind: 'operator', targetAccountId: account.id });
  });
  return account;
}

/** The operator's way in when every admin is locked out: sets a password, revokes sessions, audits. */
export async function setPasswordByOperator(ctx: FlowContext, login: string, password: string): Promise<Account> {
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'login', key: loginKey(login) });
  if (!account) throw new AppError('not_found', { field: 'login' }, `no account with login ${login}`);
  const hash = await hashNewPassword(ctx, password, account);
  await ctx.store.db.transaction().execute((tx) =>
    applyPasswordChange(ctx, tx, { account, hash, actorKind: 'operator', actorAccountId: null, ip: null }),
  );
  return account;
}

/** `latchkey user sign-in-methods <login>`: how an account can sign in, for support. */
export async function signInMethodsByOperator(ctx: FlowContext, login: string): Promise<{ account: Account; methods: SignInMethods; identities: SocialIdentity[] }> {
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'login', key: loginKey(login) });
  if (!account) throw new AppError('not_found', { field: 'login' }, `no account with login ${login}`);
  return { account, methods: await listSignInMethods(ctx.store.db, ctx.social, account), identities: await listSocialIdentities(ctx.store.db, account.id) };
}

/**
 * `latchkey user unlink <login> --provider <id>`: support unlinks a social identity the person lost (or that
 * someone took over); the last way in is still refused, so set a password first. Audited as the operator.
 */
export async function unlinkByOperator(ctx: FlowContext, login: string, provider: string): Promise<number> {
  const { account, identities } = await signInMethodsByOperator(ctx, login);
  const targets = identities.filter((identity) => identity.provider === provider);
  if (targets.length === 0) throw new AppError('not_found', { field: 'provider' }, `${login} has no ${provider} sign-in`);
  for (const identity of targets) await unlinkSocialIdentity(ctx, { accountId: account.id, identityId: identity.id, actorKind: 'operator' }, undefined);
  return targets.length;
}

async function accountByLogin(ctx: Pick<FlowContext, 'store'>, login: string): Promise<Account> {
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'login', key: loginKey(login) });
  if (!account) throw new AppError('not_found', { field: 'login' }, `no account with login ${login}`);
  return account;
}

/**
 * `latchkey user disable <login>` (SPEC §4): the account can no longer sign in or recover (both answer as for
 * an unknown account), and every session, token and open phone flow it has dies in the same transaction
 * (rule 5). Returns whether it was enabled before; disabling twice changes nothing and audits nothing.
 */
export async function disableAccount(ctx: Pick<FlowContext, 'store' | 'clock' | 'random' | 'outbox'>, login: string): Promise<boolean> {
  const account = await accountByLogin(ctx, login);
  const at = iso(ctx.clock.now());
  const disabled = await ctx.store.db.transaction().execute(async (tx) => {
    if (!(await setAccountStatus(tx, account.id, ['active', 'locked'], 'disabled', at))) return false;
    const sessions = await endSessions(ctx, tx, account.id, { kind: 'all' });
    await killAccountSecrets(tx, account.id, at);
    await recordAudit(ctx, tx, { action: 'operator.account.disabled', actorKind: 'operator', targetAccountId: account.id, detail: `sessions=${sessions}` });
    return true;
  });
  ctx.outbox.kick();
  return disabled;
}

/**
 * `latchkey user enable <login>`: a disabled account is active again (it signs in afresh: nothing was kept
 * alive); so is one locked by "this wasn't me" whose owner never got the unlock link (support's way out).
 */
export async function enableAccount(ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>, login: string): Promise<boolean> {
  const account = await accountByLogin(ctx, login);
  return ctx.store.db.transaction().execute(async (tx) => {
    if (!(await setAccountStatus(tx, account.id, ['disabled', 'locked'], 'active', iso(ctx.clock.now())))) return false;
    await recordAudit(ctx, tx, { action: 'operator.account.enabled', actorKind: 'operator', targetAccountId: account.id });
    return true;
  });
}

export interface PortalChanges {
  title?: string | undefined;
  url?: string | undefined;
  support?: string | undefined;
  require2fa?: string | undefined;
  recoveryChannels?: string | undefined;
  minPasswordLength?: string | undefined;
  /** `#rrggbb` (or `#rgb`) for the portal's pages and letters; '' = the product's colour again. */
  color?: string | undefined;
}

/** A portal's colour as stored: `#rrggbb`, lower case; anything else is refused (it reaches a style sheet). */
function portalColor(text: string): string {
  const color = text.trim().toLowerCase();
  if (!BRAND_COLOR.test(color)) throw new AppError('invalid_request', { field: 'color' }, '--color: a colour written #rgb or #rrggbb');
  return color.length === 4 ? `#${[...color.slice(1)].map((c) => c + c).join('')}` : color;
}

export const RECOVERY_CHANNELS = ['email', 'phone', 'admin'] as const;

/** `latchkey portal set <slug> …` (SPEC §4): title, URL, support contact and the portal's policy (issue 11, item 6). */
export async function setPortal(ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>, slug: string, input: PortalChanges): Promise<void> {
  if (!(await findPortalBySlug(ctx.store.db, slug))) throw new AppError('not_found', { field: 'slug' }, `portal ${slug.slice(0, 64)} does not exist`);
  const changes: Parameters<typeof updatePortal>[2] = {};
  if (input.title !== undefined) {
    if (input.title.trim() === '') throw new AppError('invalid_request', { field: 'title' }, 'title is empty');
    changes.title = input.title.trim();
  }
  if (input.url !== undefined) {
    if (!/^https?:\/\//.test(input.url)) throw new AppError('invalid_request', { field: 'url' }, 'url must start with http:// or https://');
    changes.url = input.url;
  }
  if (input.support !== undefined) changes.support_contact = input.support.trim() === '' ? null : input.support.trim();
  if (input.require2fa !== undefined) {
    if (input.require2fa !== 'on' && input.require2fa !== 'off') throw new AppError('invalid_request', { field: 'require2fa' }, '--require-2fa on|off');
    changes.require_2fa = input.require2fa === 'on' ? 1 : 0;
  }
  if (input.recoveryChannels !== undefined) {
    const channels = input.recoveryChannels.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (channels.some((c) => !(RECOVERY_CHANNELS as readonly string[]).includes(c))) throw new AppError('invalid_request', { field: 'recoveryChannels' }, '--recovery-channels: email, phone, admin');
    changes.recovery_channels = RECOVERY_CHANNELS.filter((c) => channels.includes(c)).join(',');
  }
  if (input.minPasswordLength !== undefined) {
    const n = Number(input.minPasswordLength);
    if (!/^[0-9]{1,3}$/.test(input.minPasswordLength) || n < PASSWORD_MIN || n > PASSWORD_MAX) throw new AppError('invalid_request', { field: 'minPasswordLength' }, `--min-password-length: ${PASSWORD_MIN}..${PASSWORD_MAX}`);
    changes.min_password_length = n;
  }
  if (input.color !== undefined) changes.color = input.color.trim() === '' ? null : portalColor(input.color);
  if (Object.keys(changes).length === 0) return;
  await ctx.store.db.transaction().execute(async (tx) => {
    await updatePortal(tx, slug, changes);
    await recordAudit(ctx, tx, { action: 'operator.portal.updated', actorKind: 'operator', detail: Object.keys(changes).join(',') });
  });
}
