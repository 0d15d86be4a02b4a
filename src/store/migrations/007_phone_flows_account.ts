import type { Kysely } from 'kysely';

/** Every new token and password change closes the account's open phone flows (rule 5): found by account, not by a scan. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('phone_flows_account').on('phone_flows').column('account_id').execute();
}
