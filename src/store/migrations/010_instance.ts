import type { Kysely } from 'kysely';

/**
 * Issue 14, item 1: whose database this is. One row, written at the first start: the edition and a check
 * value derived from LATCHKEY_SECRET (an HMAC of a fixed label, never the secret), so a box instance, or one
 * with another secret, pointed at this database stops at start instead of mixing its data and outbox in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instance')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('edition', 'text', (c) => c.notNull())
    .addColumn('secret_check', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}
