import { sql, type Kysely } from 'kysely';

/**
 * Issue 13: sessions show when they were last used, and a session unused for LATCHKEY_SESSION_IDLE_HOURS is
 * dead. Existing sessions start from their creation time, so a long-idle one ends at once rather than living on.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('last_seen_at', 'text').execute();
  await sql`update sessions set last_seen_at = created_at`.execute(db);
}
