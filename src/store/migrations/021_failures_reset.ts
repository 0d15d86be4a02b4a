import type { Kysely } from 'kysely';

/**
 * Issue 14, item 11: `latchkey user unlock <login>`. Failure budgets are counted in each node's memory (or in
 * Redis), out of the CLI's reach; the account's budgets are keyed by this stamp as well, so setting it gives
 * every node fresh counters for the account at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('failures_reset_at', 'text').execute();
}
