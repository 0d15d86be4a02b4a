import type { Kysely } from 'kysely';

/** The daily SMS budget counts today's texts on every code: an index keeps that a short range scan. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('outbox_channel_created').on('outbox').columns(['channel', 'created_at']).execute();
}
