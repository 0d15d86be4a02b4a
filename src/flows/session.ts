import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import { findAccountById } from '../store/accounts.repo.js';
import { listActivePortals, type PortalEntry } from '../store/portals.repo.js';
import type { Account } from '../store/schema.js';
import { findLiveSession, insertSession, revokeSession } from '../store/sessions.repo.js';
import type { FlowContext, RequestMeta } from './context.js';

export interface OpenedSession {
  /** The cookie value; only its sha256 is stored (SPEC §7 rule 12). */
  token: string;
  idHash: string;
  expiresAt: Date;
  /** Whose session it is (the browser's device cookie will vouch for this account). */
  accountId: string;
}

/** A fresh session id at every sign-in, so a planted id can never be promoted (session fixation). */
export async function openSession(ctx: Pick<FlowContext, 'clock' | 'random' | 'settings'>, db: Executor, accountId: string, meta: RequestMeta): Promise<OpenedSession> {
  const now = ctx.clock.now();
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
  });
  return { token, idHash, expiresAt, accountId };
}

export interface ActiveSession {
  account: Account;
  idHash: string;
}

export async function resolveSession(ctx: Pick<FlowContext, 'clock' | 'store'>, token: string | undefined): Promise<ActiveSession | undefined> {
  if (!token || token.length > 100) return undefined;
  const idHash = sha256(token);
  const session = await findLiveSession(ctx.store.db, idHash, iso(ctx.clock.now()));
  if (!session) return undefined;
  const account = await findAccountById(ctx.store.db, session.account_id);
  if (!account || account.status !== 'active') return undefined;
  return { account, idHash };
}

export async function closeSession(ctx: Pick<FlowContext, 'clock' | 'store'>, token: string | undefined): Promise<void> {
  if (!token || token.length > 100) return;
  await revokeSession(ctx.store.db, sha256(token), iso(ctx.clock.now()));
}

export interface AccountView {
  account: { id: string; login: string; name: string | null; email: string | null; phone: string | null; locale: string };
  portals: PortalEntry[];
  /** Set by a box admin (B3): the person must choose a new password before going on. */
  mustChangePassword: boolean;
}

/** What the API returns about the signed-in person: never the hash, never internal flags. */
export async function accountView(db: Executor, account: Account): Promise<AccountView> {
  return {
    account: { id: account.id, login: account.login, name: account.name, email: account.email, phone: account.phone, locale: account.locale },
    portals: await listActivePortals(db, account.id),
    mustChangePassword: account.must_change_password === 1,
  };
}
