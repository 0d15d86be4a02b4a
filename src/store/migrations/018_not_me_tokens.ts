import type { Kysely } from 'kysely';

/**
 * Issue 13, item 3 ("this wasn't me", SPEC §7 rule 23): every security notice carries a 7-day link. Its token
 * lives apart from `recovery_tokens` because a new recovery link or a password change kills every recovery
 * token (rule 5), and the link in a "your password was changed" notice must outlive exactly that. It keeps the
 * channel and the contact that got the notice: the fresh recovery link goes back there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('not_me_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('notice', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await db.schema.createIndex('not_me_tokens_account').on('not_me_tokens').column('account_id').execute();
}
