import type { Selectable } from 'kysely';
import type { Executor } from './db.js';
import type { PendingChallengesTable, SecondFactorsTable } from './schema.js';

export type SecondFactorRow = Selectable<SecondFactorsTable>;
export type PendingChallengeRow = Selectable<PendingChallengesTable>;

export async function findSecondFactor(db: Executor, accountId: string): Promise<SecondFactorRow | undefined> {
  return db.selectFrom('second_factors').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

/** True when the account has a confirmed second factor: every first factor then ends in a challenge. */
export async function hasActiveSecondFactor(db: Executor, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('second_factors').select('account_id').where('account_id', '=', accountId).where('confirmed_at', 'is not', null).executeTakeFirst();
  return row !== undefined;
}

/** A new, unconfirmed secret; replaces an earlier unconfirmed one (never a confirmed one: the caller checks). */
export async function putPendingSecret(db: Executor, accountId: string, sealed: string, at: string): Promise<void> {
  await db.deleteFrom('second_factors').where('account_id', '=', accountId).where('confirmed_at', 'is', null).execute();
  await db.insertInto('second_factors').values({ account_id: accountId, totp_secret_sealed: sealed, created_at: at, confirmed_at: null, last_step: 0 }).execute();
}

/**
 * Accepts a TOTP step once: moves `last_step` forward only if it is still behind, so of two parallel uses
 * of one code exactly one wins. `confirm` also makes a pending factor active.
 */
export async function acceptStep(db: Executor, accountId: string, step: number, options: { confirmAt?: string } = {}): Promise<boolean> {
  let query = db.updateTable('second_factors').set({ last_step: step, ...(options.confirmAt ? { confirmed_at: options.confirmAt } : {}) }).where('account_id', '=', accountId).where('last_step', '<', step);
  query = options.confirmAt ? query.where('confirmed_at', 'is', null) : query.where('confirmed_at', 'is not', null);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteSecondFactor(db: Executor, accountId: string): Promise<void> {
  await db.deleteFrom('second_factors').where('account_id', '=', accountId).execute();
  await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
}

/** Closes every open challenge of the account: nothing is left to answer once its factor is gone. */
export async function closeAccountChallenges(db: Executor, accountId: string, now: string): Promise<void> {
  await db.updateTable('pending_challenges').set({ closed_at: now }).where('account_id', '=', accountId).where('closed_at', 'is', null).execute();
}

/** A new set of recovery codes; every old one of the account dies. */
export async function replaceRecoveryCodes(db: Executor, accountId: string, hashes: string[], at: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
  await db
    .insertInto('recovery_codes')
    .values(hashes.map((code_hash) => ({ code_hash, account_id: accountId, created_at: at, used_at: null })))
    .execute();
}

/** Uses a recovery code once: of parallel uses of one code exactly one sees `true`. */
export async function useRecoveryCode(db: Executor, accountId: string, hash: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: at })
    .where('code_hash', '=', hash)
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countRecoveryCodesLeft(db: Executor, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A new challenge; the account's finished or expired ones are dropped on the way, so the table stays small. */
export async function insertChallenge(db: Executor, row: Omit<PendingChallengeRow, 'attempts' | 'closed_at'>): Promise<void> {
  await db
    .deleteFrom('pending_challenges')
    .where('account_id', '=', row.account_id)
    .where((eb) => eb.or([eb('expires_at', '<=', row.created_at), eb('closed_at', 'is not', null)]))
    .execute();
  await db.insertInto('pending_challenges').values({ ...row, closed_at: null }).execute();
}

/** A challenge still open: not closed, not expired, attempts left. */
export async function findOpenChallenge(db: Executor, idHash: string, now: string, maxAttempts: number): Promise<PendingChallengeRow | undefined> {
  return db
    .selectFrom('pending_challenges')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('closed_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts)
    .executeTakeFirst();
}

/** Counts a wrong code; returns the attempts made so far (closing the challenge at the limit). */
export async function countWrongCode(db: Executor, idHash: string, now: string, maxAttempts: number): Promise<number> {
  await db.updateTable('pending_challenges').set((eb) => ({ attempts: eb('attempts', '+', 1) })).where('id_hash', '=', idHash).execute();
  const row = await db.selectFrom('pending_challenges').select('attempts').where('id_hash', '=', idHash).executeTakeFirst();
  const attempts = Number(row?.attempts ?? maxAttempts);
  if (attempts >= maxAttempts) await closeChallenge(db, idHash, now);
  return attempts;
}

/** Closes a challenge once: of parallel successes exactly one sees `true`. */
export async function closeChallenge(db: Executor, idHash: string, now: string): Promise<boolean> {
  const result = await db.updateTable('pending_challenges').set({ closed_at: now }).where('id_hash', '=', idHash).where('closed_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Where the browser goes once the challenge passes (pages only). */
export async function setChallengeReturnTo(db: Executor, idHash: string, returnTo: string): Promise<void> {
  await db.updateTable('pending_challenges').set({ return_to: returnTo }).where('id_hash', '=', idHash).execute();
}
