import { hmac, safeEqual } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { listLiveSessions } from '../store/sessions.repo.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { endSessions } from './end-sessions.js';
import { livenessAt, type ActiveSession } from './session.js';

/** `/account/sessions` and `GET /api/v1/me/sessions` (SPEC §11): what a person sees of their own sessions. */
export interface SessionView {
  /** A public handle: an HMAC of the stored hash, so neither the cookie nor its hash ever leaves the server. */
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
}

export function publicSessionId(secretKey: Buffer, idHash: string): string {
  return hmac(secretKey, `session-id:${idHash}`).slice(0, 32);
}

/** Every live session of the signed-in person, the current one flagged. */
export async function listOwnSessions(ctx: Pick<FlowContext, 'store' | 'clock' | 'settings' | 'secretKey'>, auth: ActiveSession): Promise<SessionView[]> {
  const rows = await listLiveSessions(ctx.store.db, auth.account.id, livenessAt(ctx, ctx.clock.now()));
  // The caller's own session first, then the most recently used.
  rows.sort((a, b) => Number(b.id_hash === auth.idHash) - Number(a.id_hash === auth.idHash));
  return rows.map((row) => ({
    id: publicSessionId(ctx.secretKey, row.id_hash),
    current: row.id_hash === auth.idHash,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at ?? row.created_at,
    ip: row.ip,
    userAgent: row.user_agent,
  }));
}

/** Signs out one of the person's own sessions by its public id; anything else (another's, unknown) is `not_found`. */
export async function signOutOwnSession(ctx: FlowContext, auth: ActiveSession, publicId: string, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  const rows = publicId.length <= 64 ? await listLiveSessions(ctx.store.db, auth.account.id, livenessAt(ctx, now)) : [];
  const target = rows.find((row) => safeEqual(publicSessionId(ctx.secretKey, row.id_hash), publicId));
  if (!target) throw new AppError('not_found');
  await ctx.store.db.transaction().execute(async (tx) => {
    await endSessions(ctx, tx, auth.account.id, { kind: 'one', sessionHash: target.id_hash });
    await recordAudit(ctx, tx, {
      action: target.id_hash === auth.idHash ? 'session.signed_out' : 'session.revoked',
      actorKind: 'self',
      actorAccountId: auth.account.id,
      targetAccountId: auth.account.id,
      ip: meta.ip,
    });
  });
  ctx.outbox.kick();
}

/** "Sign out everywhere else": every session of the person but the one asking. */
export async function signOutOtherSessions(ctx: FlowContext, auth: ActiveSession, meta: RequestMeta): Promise<number> {
  const count = await ctx.store.db.transaction().execute(async (tx) => {
    const revoked = await endSessions(ctx, tx, auth.account.id, { kind: 'all_but', keepSessionHash: auth.idHash });
    await recordAudit(ctx, tx, { action: 'session.revoked_others', actorKind: 'self', actorAccountId: auth.account.id, targetAccountId: auth.account.id, ip: meta.ip, detail: String(revoked) });
    return revoked;
  });
  ctx.outbox.kick();
  return count;
}
