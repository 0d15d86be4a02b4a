import type { Kysely } from 'kysely';

/**
 * Issue 14, item 11: `latchkey user unlock <login>`. Failure budgets are counted in each node's memory (or in
 * Redis), out of the CLI's reach; the account's budgets are keyed by this stamp as well, so setting it gives
 * every node fresh counters for the account at once. Also an index for the console's audit log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('failures_reset_at', 'text').execute();
  // The console's audit log (issue 14, item 10) also reads its members' own events (portal ones: 003's index).
  await db.schema.createIndex('audit_events_target_at').on('audit_events').columns(['target_account_id', 'at']).execute();
}
