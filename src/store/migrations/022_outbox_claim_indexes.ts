import { sql, type Kysely } from 'kysely';

/**
 * Issue 15, item 1: a claim under a backlog read the outbox in id order from its first row, stepping over
 * every message ever sent (and, for new letters, over every job queued before them): 4–11 ms a claim with
 * ten thousand jobs queued, the largest cost PostgreSQL had while recovery requests poured in. Two partial
 * indexes in id order hold only what a claim looks for: new letters and texts, and what is not sent yet.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('outbox_new_letters')
    .on('outbox')
    .column('id')
    .where(sql.ref('status'), '=', 'queued')
    .where(sql.ref('attempts'), '=', 0)
    .where(sql.ref('channel'), '!=', 'job')
    .execute();
  await db.schema.createIndex('outbox_unsent').on('outbox').column('id').where(sql.ref('status'), 'in', ['queued', 'processing']).execute();
}
