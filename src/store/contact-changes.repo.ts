import type { Insertable, Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Executor } from './db.js';
import type { ContactChangesTable } from './schema.js';

export type ContactChange = Selectable<ContactChangesTable>;
export type ContactKind = ContactChange['kind'];

/** Wrong codes that end a phone change (SPEC §7 rule 7's count, per change). */
export const MAX_CHANGE_ATTEMPTS = 5;

export async function insertContactChange(db: Executor, row: Insertable<ContactChangesTable>): Promise<void> {
  await db.insertInto('contact_changes').values(row).execute();
}

/** A change that can still land: neither landed nor cancelled, and not expired. */
export async function findLiveContactChange(db: Executor, idHash: string, now: string): Promise<ContactChange | undefined> {
  return db
    .selectFrom('contact_changes')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('landed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** The account's live change of one kind (a new request cancels the older one, so there is at most one). */
export async function findPendingContactChange(db: Executor, accountId: string, kind: ContactKind, now: string): Promise<ContactChange | undefined> {
  return db
    .selectFrom('contact_changes')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('kind', '=', kind)
    .where('landed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/**
 * Cancels the account's pending changes (of one kind, or all): a newer request replaces one, a landed
 * change ends the others, and a password change or "this wasn't me" ends them all.
 */
export async function cancelContactChanges(db: Executor, accountId: string, now: string, kind?: ContactKind): Promise<void> {
  let query = db.updateTable('contact_changes').set({ cancelled_at: now }).where('account_id', '=', accountId).where('landed_at', 'is', null).where('cancelled_at', 'is', null);
  if (kind) query = query.where('kind', '=', kind);
  await query.execute();
}

export async function cancelContactChange(db: Executor, idHash: string, now: string): Promise<void> {
  await db.updateTable('contact_changes').set({ cancelled_at: now }).where('id_hash', '=', idHash).where('landed_at', 'is', null).where('cancelled_at', 'is', null).execute();
}

/** Counts one code attempt atomically, only while attempts remain and the change lives (rule 7's pattern). */
export async function countChangeAttempt(db: Executor, idHash: string, now: string): Promise<ContactChange | undefined> {
  return db
    .updateTable('contact_changes')
    .set({ attempts: sql<number>`attempts + 1` })
    .where('id_hash', '=', idHash)
    .where('landed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', MAX_CHANGE_ATTEMPTS)
    .returningAll()
    .executeTakeFirst();
}

/** Marks the change landed in one conditional UPDATE: of parallel posts of one link exactly one lands it. */
export async function markContactChangeLanded(db: Executor, idHash: string, now: string): Promise<ContactChange | undefined> {
  return db
    .updateTable('contact_changes')
    .set({ landed_at: now })
    .where('id_hash', '=', idHash)
    .where('landed_at', 'is', null)
    .where('cancelled_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

/** Writes the proved contact onto the account, verified now. */
export async function setAccountContact(db: Executor, accountId: string, kind: ContactKind, value: string, key: string, at: string): Promise<void> {
  const change = kind === 'email' ? { email: value, email_key: key, email_verified_at: at } : { phone: value, phone_verified_at: at };
  await db.updateTable('accounts').set({ ...change, updated_at: at }).where('id', '=', accountId).execute();
}
