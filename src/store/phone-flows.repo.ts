import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Executor } from './db.js';
import type { PhoneFlowsTable } from './schema.js';

export type PhoneFlow = Selectable<PhoneFlowsTable>;

export const MAX_CODE_ATTEMPTS = 5;
export const MAX_RESENDS = 3;

export async function insertPhoneFlow(db: Executor, flow: PhoneFlow): Promise<void> {
  await db.insertInto('phone_flows').values(flow).execute();
}

export async function findPhoneFlow(db: Executor, idHash: string): Promise<PhoneFlow | undefined> {
  return db.selectFrom('phone_flows').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

/**
 * Closes every open flow of an account, found by the account it was attached to or by the account's phone
 * (a flow whose code the worker has not sent yet has no account): part of killing an account's secrets
 * (SPEC §7 rule 5). A new request for a number closes nothing: a stranger's request must not end the
 * owner's flow (rule 20).
 */
export async function closeOpenFlowsOfAccount(db: Executor, accountId: string, now: string): Promise<void> {
  // One statement for both kinds (a flow tied to the account, or opened for its number), so it can go in a
  // write batch (store/write-batch.ts), which must not touch one row twice.
  await db
    .updateTable('phone_flows')
    .set({ closed_at: now })
    .where('closed_at', 'is', null)
    .where('verified_at', 'is', null)
    .where((eb) => eb.or([eb('account_id', '=', accountId), eb('phone', '=', eb.selectFrom('accounts').select('phone').where('id', '=', accountId).$castTo<string>())]))
    .execute();
}

/** Ties an open flow to the account whose number it is; false when the flow was closed meanwhile. */
export async function attachAccount(db: Executor, idHash: string, accountId: string): Promise<boolean> {
  const result = await db.updateTable('phone_flows').set({ account_id: accountId }).where('id_hash', '=', idHash).where('closed_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Rotates the code if the flow is open, under its resend limit and past its cooldown: one conditional
 * UPDATE, so parallel resends cannot exceed the limit or skip the cooldown.
 */
export async function rotateCode(
  db: Executor,
  idHash: string,
  change: { codeHash: string; codeExpiresAt: string; now: string; cooldownStartedBefore: string },
): Promise<PhoneFlow | undefined> {
  return db
    .updateTable('phone_flows')
    .set({ code_hash: change.codeHash, code_expires_at: change.codeExpiresAt, code_sent_at: change.now, resends: sql<number>`resends + 1` })
    .where('id_hash', '=', idHash)
    .where('closed_at', 'is', null)
    .where('verified_at', 'is', null)
    .where('expires_at', '>', change.now)
    .where('resends', '<', MAX_RESENDS)
    .where('code_sent_at', '<=', change.cooldownStartedBefore)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Counts one verification attempt, atomically and only while attempts remain: of any number of parallel
 * guesses at most MAX_CODE_ATTEMPTS are ever counted (SPEC §7 rule 7).
 */
export async function countAttempt(db: Executor, idHash: string, now: string): Promise<PhoneFlow | undefined> {
  return db
    .updateTable('phone_flows')
    .set({ attempts: sql<number>`attempts + 1` })
    .where('id_hash', '=', idHash)
    .where('closed_at', 'is', null)
    .where('verified_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', MAX_CODE_ATTEMPTS)
    .returningAll()
    .executeTakeFirst();
}

/** Marks the flow verified once; the caller then issues the reset token. */
export async function markVerified(db: Executor, idHash: string, now: string): Promise<boolean> {
  const result = await db.updateTable('phone_flows').set({ verified_at: now }).where('id_hash', '=', idHash).where('verified_at', 'is', null).where('closed_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function closeFlow(db: Executor, idHash: string, now: string): Promise<void> {
  await db.updateTable('phone_flows').set({ closed_at: now }).where('id_hash', '=', idHash).where('closed_at', 'is', null).execute();
}

/**
 * Texts queued since `since`, counted up to `atMost` (the daily SMS budget counts them across nodes; the
 * cap keeps the count cheap however many texts a busy day holds).
 */
export async function countSmsSince(db: Executor, since: string, atMost: number): Promise<number> {
  const recent = db.selectFrom('outbox').select('id').where('channel', '=', 'sms').where('created_at', '>=', since).limit(atMost);
  const row = await db
    .selectFrom(recent.as('recent'))
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
