import type { Selectable } from 'kysely';
import type { Executor } from './db.js';
import type { SecondFactorSuspensionsTable } from './schema.js';

export type SuspensionRow = Selectable<SecondFactorSuspensionsTable>;

export async function insertSuspension(db: Executor, row: Omit<SuspensionRow, 'ended_at'>): Promise<void> {
  await db.insertInto('second_factor_suspensions').values({ ...row, ended_at: null }).execute();
}

/** The account's suspension that still lives at `now` (the latest one, if an admin made several). */
export async function findLiveSuspension(db: Executor, accountId: string, now: string): Promise<SuspensionRow | undefined> {
  return db
    .selectFrom('second_factor_suspensions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('expires_at', 'desc')
    .executeTakeFirst();
}

/** Ends every live suspension of the account (it enrolled again, or the operator reset its factor). */
export async function endSuspensions(db: Executor, accountId: string, at: string): Promise<void> {
  await db.updateTable('second_factor_suspensions').set({ ended_at: at }).where('account_id', '=', accountId).where('ended_at', 'is', null).execute();
}
