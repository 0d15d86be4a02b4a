import type { Kysely } from 'kysely';

/**
 * Issue 11, items 5–6. A portal admin suspends a member's second factor for a few hours (lost phone): while the
 * suspension lives, a first factor alone signs the person in, but the session is held to that portal
 * (`sessions.only_portal_id`). Portals get a policy: second factor required, recovery channels, a higher
 * password minimum.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('second_factor_suspensions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('portal_id', 'text', (c) => c.notNull().references('portals.id').onDelete('cascade'))
    .addColumn('suspended_by', 'text', (c) => c.references('accounts.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('second_factor_suspensions_account').on('second_factor_suspensions').column('account_id').execute();
  await db.schema.alterTable('sessions').addColumn('only_portal_id', 'text').execute();
  await db.schema.alterTable('portals').addColumn('require_2fa', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('portals').addColumn('recovery_channels', 'text', (c) => c.notNull().defaultTo('email,phone,admin')).execute();
  await db.schema.alterTable('portals').addColumn('min_password_length', 'integer', (c) => c.notNull().defaultTo(8)).execute();
}
