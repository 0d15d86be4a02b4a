import { sql, type Kysely } from 'kysely';

/**
 * Issue 12, item 5 (SPEC §10 Logout): which application signed in through which provider session, and under
 * which Latchkey session. One row per (provider session, client), written when the client gets a code: its
 * `sid` (the one in the ID token) and grant, so whenever a Latchkey session ends, its applications' grants
 * die and each gets one back-channel logout token, even after the library has dropped its own session.
 * Provider models get the account they belong to as a column (it was only inside their JSON), so ending
 * every session of an account finds its grants and tokens by index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_session_clients')
    .addColumn('session_uid', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('sid', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('session_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('oidc_session_clients_pk', ['session_uid', 'client_id'])
    .execute();
  await db.schema.createIndex('oidc_session_clients_account').on('oidc_session_clients').columns(['account_id']).execute();
  await db.schema.createIndex('oidc_session_clients_session_hash').on('oidc_session_clients').columns(['session_hash']).execute();

  await db.schema.alterTable('oidc_models').addColumn('account_id', 'text').execute();
  await db.schema.createIndex('oidc_models_account_id').on('oidc_models').columns(['account_id']).execute();
  await backfillModelAccounts(db);
}

/** Models written before this migration get their account from their JSON. */
export async function backfillModelAccounts(db: Kysely<unknown>): Promise<void> {
  const rows = await sql<{ name: string; id: string; payload: string }>`select name, id, payload from oidc_models where account_id is null`.execute(db);
  for (const row of rows.rows) {
    const accountId = (JSON.parse(row.payload) as { accountId?: unknown }).accountId;
    if (typeof accountId === 'string') await sql`update oidc_models set account_id = ${accountId} where name = ${row.name} and id = ${row.id}`.execute(db);
  }
}
