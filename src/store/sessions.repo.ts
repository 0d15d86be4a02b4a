import type { Executor } from './db.js';
import type { Selectable } from 'kysely';
import type { SessionsTable } from './schema.js';

export type SessionRow = Selectable<SessionsTable>;

export async function insertSession(db: Executor, session: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** A live session: not revoked and not expired at `now`. */
export async function findLiveSession(db: Executor, idHash: string, now: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function revokeSession(db: Executor, idHash: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: now }).where('id_hash', '=', idHash).where('revoked_at', 'is', null).execute();
}

/** Revokes every session of an account, except one when given (the one that made the change). */
export async function revokeAccountSessions(db: Executor, accountId: string, now: string, except?: string): Promise<number> {
  let query = db.updateTable('sessions').set({ revoked_at: now }).where('account_id', '=', accountId).where('revoked_at', 'is', null);
  if (except) query = query.where('id_hash', '!=', except);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
