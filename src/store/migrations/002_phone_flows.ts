import type { Kysely } from 'kysely';

/** Phone recovery flows (seed C4): one row per "send me a code", holding the code's hash and its counters. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('phone_flows')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('code_expires_at', 'text', (c) => c.notNull())
    .addColumn('code_sent_at', 'text', (c) => c.notNull())
    .addColumn('resends', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified_at', 'text')
    .addColumn('closed_at', 'text')
    .execute();
  await db.schema.createIndex('phone_flows_phone').on('phone_flows').column('phone').execute();
}
