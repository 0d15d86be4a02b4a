import type { Kysely } from 'kysely';

/**
 * Admin-sent links and invitations name their portal and the channel they went by (so using them proves
 * that contact and activates the invitation); box admins can require a new password at next sign-in.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('recovery_tokens').addColumn('portal_id', 'text').execute();
  await db.schema.alterTable('recovery_tokens').addColumn('channel', 'text').execute();
  await db.schema.alterTable('accounts').addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('audit_events_portal_at').on('audit_events').columns(['portal_id', 'at']).execute();
}
