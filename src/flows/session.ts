import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import { findAccountById, findAccountByIdForSignIn } from '../store/accounts.repo.js';
import { listActivePortals, type PortalEntry } from '../store/portals.repo.js';
import type { Account } from '../store/schema.js';
import { findLiveSession, insertSession, touchSession, type Liveness } from '../store/sessions.repo.js';
import { newSignInLetter } from '../ui/session-letters.js';
import type { FlowContext, RequestMeta } from './context.js';
import { endBrowserSession } from './end-sessions.js';
import { notMeLink } from './not-me.js';

/** `last_seen_at` is written at most this often per session, so a busy page costs no write per request. */
const TOUCH_EVERY_MS = 60_000;

export interface OpenedSession {
  /** The cookie value; only its sha256 is stored (SPEC §7 rule 12). */
  token: string;
  idHash: string;
  expiresAt: Date;
  /** Whose session it is (the browser's device cookie will vouch for this account). */
  accountId: string;
}

/**
 * A fresh session id at every sign-in, so a planted id can never be promoted (session fixation). Every first
 * factor ends here, so this is where a browser new to the account (no device cookie for it, SPEC §11) queues
 * the "new sign-in" notice, inside the caller's transaction.
 */
export async function openSession(
  ctx: Pick<FlowContext, 'clock' | 'random' | 'settings' | 'outbox'>,
  db: Executor,
  who: Account | string,
  meta: RequestMeta,
  options: { onlyPortalId?: string; hadSession?: boolean } = {},
): Promise<OpenedSession> {
  const now = ctx.clock.now();
  const accountId = typeof who === 'string' ? who : who.id;
  if (meta.knownAccounts && !meta.knownAccounts.has(accountId)) {
    // finishSignIn passes what it knows; anyone else (tests) gets it read here.
    const known = typeof who !== 'string' && options.hadSession !== undefined ? { account: who, hadSession: options.hadSession } : undefined;
    const read = known ? undefined : await findAccountByIdForSignIn(db, accountId, iso(now));
    const account = known?.account ?? read;
    if (account) await queueNewSignInNotice(ctx, db, account, known?.hadSession ?? read?.signIn.hadSession ?? false, meta, now);
  }
  const token = newSecretToken(ctx.random);
  const idHash = sha256(token);
  const expiresAt = addMs(now, ctx.settings.sessionTtlHours * 3600_000);
  await insertSession(db, {
    id_hash: idHash,
    account_id: accountId,
    created_at: iso(now),
    expires_at: iso(expiresAt),
    revoked_at: null,
    ip: meta.ip,
    user_agent: meta.userAgent?.slice(0, 300) ?? null,
    last_seen_at: iso(now),
    only_portal_id: options.onlyPortalId ?? null,
  });
  return { token, idHash, expiresAt, accountId };
}

/**
 * The notice goes only to a verified address, and not for the very first session of an account (a brand-new
 * passport, an invited employee's first password): "someone signed in" would only be noise then. The caller
 * knows both (the account as it stands in this transaction, and whether it ever had a session).
 */
async function queueNewSignInNotice(ctx: Pick<FlowContext, 'clock' | 'random' | 'settings' | 'outbox'>, db: Executor, account: Account, hadSession: boolean, meta: RequestMeta, now: Date): Promise<void> {
  if (!account.email || account.email_verified_at === null || !hadSession) return;
  const letter = newSignInLetter(account.locale, {
    login: account.login,
    name: account.name,
    userAgent: meta.userAgent ?? null,
    ip: meta.ip,
    when: now,
    sessionsUrl: new URL('/account/sessions', ctx.settings.publicUrl).toString(),
    notMeUrl: await notMeLink(ctx, db, { accountId: account.id, channel: 'email', contact: account.email, notice: 'notice.new_sign_in' }),
  });
  await ctx.outbox.enqueueEmail(db, 'notice.new_sign_in', { to: account.email, ...letter });
}

/** Which sessions count as live at `now`: not past their absolute end and used within the idle timeout. */
export function livenessAt(ctx: Pick<FlowContext, 'settings'>, now: Date): Liveness {
  return { now: iso(now), idleSince: iso(addMs(now, -ctx.settings.sessionIdleHours * 3600_000)) };
}

export interface ActiveSession {
  account: Account;
  idHash: string;
  /** Set when the second factor was skipped by an admin's pause: the session enters only this portal. */
  onlyPortalId: string | null;
}

/** The signed-in person behind a session cookie; a revoked, expired or idle session is nobody. */
export async function resolveSession(ctx: Pick<FlowContext, 'clock' | 'store' | 'settings'>, token: string | undefined): Promise<ActiveSession | undefined> {
  if (!token || token.length > 100) return undefined;
  const idHash = sha256(token);
  const now = ctx.clock.now();
  const session = await findLiveSession(ctx.store.db, idHash, livenessAt(ctx, now));
  if (!session) return undefined;
  const account = await findAccountById(ctx.store.db, session.account_id);
  if (!account || account.status !== 'active') return undefined;
  if (session.last_seen_at === null || session.last_seen_at < iso(addMs(now, -TOUCH_EVERY_MS))) {
    await touchSession(ctx.store.db, idHash, iso(now), iso(addMs(now, -TOUCH_EVERY_MS)));
  }
  return { account, idHash, onlyPortalId: session.only_portal_id };
}

/** Ends the browser's session and logs its applications out (src/flows/end-sessions.ts). */
export async function closeSession(ctx: Pick<FlowContext, 'clock' | 'store' | 'random' | 'outbox'>, token: string | undefined): Promise<void> {
  await endBrowserSession(ctx, token);
}

export interface AccountView {
  account: { id: string; login: string; name: string | null; email: string | null; phone: string | null; locale: string };
  portals: PortalEntry[];
  /** Set by a box admin (B3): the person must choose a new password before going on. */
  mustChangePassword: boolean;
}

/** What the API returns about the signed-in person: never the hash, never internal flags. */
export function accountView(account: Account, portals: PortalEntry[]): AccountView {
  return {
    account: { id: account.id, login: account.login, name: account.name, email: account.email, phone: account.phone, locale: account.locale },
    portals,
    mustChangePassword: account.must_change_password === 1,
  };
}

/** `accountView` with the portals read now (`onlyPortalId`: see `listActivePortals`). */
export async function readAccountView(db: Executor, account: Account, onlyPortalId: string | null = null): Promise<AccountView> {
  return accountView(account, await listActivePortals(db, account.id, onlyPortalId));
}
