import type { Kysely } from 'kysely';

/**
 * Issue 13, item 2: a person changes their own e-mail or phone. A change waits here until the new contact
 * is proved (the e-mailed link's form is posted, or the texted code is typed); only then does the account
 * row change. `id_hash` is the sha256 of the link's token or the phone flow's handle; a phone change also
 * holds the HMAC of its code and the attempts counted against it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('contact_changes')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('new_value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('landed_at', 'text')
    .addColumn('cancelled_at', 'text')
    .execute();
  await db.schema.createIndex('contact_changes_account').on('contact_changes').columns(['account_id', 'kind']).execute();
}
