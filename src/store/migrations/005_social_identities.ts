import type { Kysely } from 'kysely';

/**
 * Social identities (SPEC §2): the provider's issuer and subject, linked to one account. The pair is the
 * only key an identity is ever found by: never the provider's e-mail.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('social_identities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addUniqueConstraint('social_identities_issuer_subject', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('social_identities_account').on('social_identities').column('account_id').execute();
}
