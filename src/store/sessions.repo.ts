import type { Executor } from './db.js';
import type { Insertable, Selectable } from 'kysely';
import type { SessionsTable } from './schema.js';

export type SessionRow = Selectable<SessionsTable>;

export async function insertSession(db: Executor, session: Insertable<SessionsTable>): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** When a session is live at `now`: not revoked, not past its absolute end, and used since `idleSince`. */
export interface Liveness {
  now: string;
  idleSince: string;
}

/** A live session (see `Liveness`). */
export async function findLiveSession(db: Executor, idHash: string, live: Liveness): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', live.now)
    .where('last_seen_at', '>', live.idleSince)
    .executeTakeFirst();
}

/** Every live session of an account, the most recently used first. */
export async function listLiveSessions(db: Executor, accountId: string, live: Liveness): Promise<SessionRow[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', live.now)
    .where('last_seen_at', '>', live.idleSince)
    .orderBy('last_seen_at', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
}

/** Marks a session used at `now`, unless it was marked after `notBefore` (one write a minute at most). */
export async function touchSession(db: Executor, idHash: string, now: string, notBefore: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).where('last_seen_at', '<', notBefore).execute();
}

export async function revokeSession(db: Executor, idHash: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: now }).where('id_hash', '=', idHash).where('revoked_at', 'is', null).execute();
}

/** Revokes one session of an account: a session of anybody else is left alone. */
export async function revokeOwnSession(db: Executor, accountId: string, idHash: string, now: string): Promise<number> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id_hash', '=', idHash)
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Revokes every session of an account, except one when given (the one that made the change). */
export async function revokeAccountSessions(db: Executor, accountId: string, now: string, except?: string): Promise<number> {
  let query = db.updateTable('sessions').set({ revoked_at: now }).where('account_id', '=', accountId).where('revoked_at', 'is', null);
  if (except) query = query.where('id_hash', '!=', except);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Whose session this is, live or not. */
export async function findSessionOwner(db: Executor, idHash: string): Promise<string | undefined> {
  const row = await db.selectFrom('sessions').select('account_id').where('id_hash', '=', idHash).executeTakeFirst();
  return row?.account_id;
}
