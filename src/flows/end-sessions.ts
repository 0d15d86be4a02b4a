import { iso } from '../kernel/clock.js';
import { newId, sha256 } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import {
  backchannelLogoutUris,
  portalClientIds,
  revokeAccountGrants,
  revokeGrants,
  signOutProviderSessions,
  takeSessionClients,
  type SessionClientRow,
} from '../store/oidc-sessions.repo.js';
import { findSessionOwner, revokeAccountSessions, revokeOwnSession } from '../store/sessions.repo.js';
import type { FlowContext } from './context.js';

/** Which of an account's sessions end. */
export type SessionsToEnd =
  /** One browser's session (sign-out, RP-initiated logout, `/account/sessions` "sign out"), by the sha256 of its cookie. */
  | { kind: 'one'; sessionHash: string }
  /** Every session but the one that made the change (password change, "sign out everywhere else"). */
  | { kind: 'all_but'; keepSessionHash: string }
  /** Every session (recovery, an admin's "end sessions", account disabled or locked). */
  | { kind: 'all' }
  /**
   * Membership in a portal ended: only that portal's applications are logged out (their grants, provider
   * sessions and logout tokens); the Latchkey sessions stay.
   */
  | { kind: 'portal'; portalId: string };

export type EndSessionsContext = Pick<FlowContext, 'clock' | 'random' | 'outbox'>;

/**
 * Ends sessions everywhere (SPEC §10 Logout, §11; issue 12 item 5), inside the caller's transaction: the
 * Latchkey sessions are revoked, and on the provider's side the applications signed in through them are
 * logged out: their authorizations leave the provider sessions, their grants die with every code, access
 * and refresh token, and each application that registered a back-channel logout URI gets one logout token per `sid`,
 * queued in the outbox (sent after the commit, retried, once: src/oidc/logout.ts).
 *
 * Every place that ends a session calls this rather than `revokeAccountSessions` (which stays the store's
 * primitive). Returns how many Latchkey sessions were revoked (0 for `portal`).
 *
 * With `writes` (a write batch, store/write-batch.ts) only the reads go to `tx` at once; every write is
 * left in the batch, to go with the caller's own in one statement. The count is not known then (0).
 */
export async function endSessions(ctx: EndSessionsContext, tx: Executor, accountId: string, which: SessionsToEnd, writes: Executor = tx): Promise<number> {
  const at = iso(ctx.clock.now());
  let revoked = 0;
  if (which.kind === 'one') revoked = await revokeOwnSession(writes, accountId, which.sessionHash, at);
  if (which.kind === 'all_but') revoked = await revokeAccountSessions(writes, accountId, at, which.keepSessionHash);
  if (which.kind === 'all') revoked = await revokeAccountSessions(writes, accountId, at);

  const ended = await takeSessionClients(tx, accountId, which);
  if (which.kind === 'portal') {
    const clients = new Set(await portalClientIds(tx, which.portalId));
    await signOutProviderSessions(tx, { uids: uidsOf(ended) }, clients, writes);
    await revokeAccountGrants(tx, accountId, clients, writes);
  } else {
    await signOutProviderSessions(tx, { uids: uidsOf(ended), ...(which.kind === 'all' ? { accountId } : {}) }, undefined, writes);
    if (which.kind === 'all') await revokeAccountGrants(tx, accountId, undefined, writes);
  }
  await revokeGrants(writes, ended.flatMap((row) => (row.grant_id ? [row.grant_id] : [])));
  await queueLogoutTokens(ctx, tx, ended, writes);
  return revoked;
}

const uidsOf = (rows: SessionClientRow[]) => [...new Set(rows.map((row) => row.session_uid))];

/** One job per (client, sid) for the clients with a back-channel logout URI. */
async function queueLogoutTokens(ctx: EndSessionsContext, tx: Executor, ended: SessionClientRow[], writes: Executor): Promise<void> {
  const uris = await backchannelLogoutUris(tx, ended.map((row) => row.client_id));
  for (const row of ended) {
    if (!uris.has(row.client_id)) continue;
    await ctx.outbox.enqueueJob(writes, 'oidc.backchannel_logout', { clientId: row.client_id, sid: row.sid, sub: row.account_id, jti: newId(ctx.random) });
  }
}

/**
 * Ends the session behind a browser's session cookie (sign-out, a new sign-in replacing it, a sign-in asked
 * again), with its applications. An unknown or malformed cookie ends nothing.
 */
export async function endBrowserSession(ctx: EndSessionsContext & Pick<FlowContext, 'store'>, token: string | undefined): Promise<void> {
  if (!token || token.length > 100) return;
  await endSessionByHash(ctx, sha256(token));
}

/** The same by the session's hash (RP-initiated logout may know it only from the provider's session). */
export async function endSessionByHash(ctx: EndSessionsContext & Pick<FlowContext, 'store'>, sessionHash: string, expectedAccountId?: string): Promise<boolean> {
  const accountId = await findSessionOwner(ctx.store.db, sessionHash);
  if (!accountId || (expectedAccountId !== undefined && accountId !== expectedAccountId)) return false;
  await ctx.store.db.transaction().execute((tx) => endSessions(ctx, tx, accountId, { kind: 'one', sessionHash }));
  ctx.outbox.kick();
  return true;
}
