import type { Kysely } from 'kysely';

/**
 * Issue 14, item 12: a portal's own colour (`#rrggbb`, or none = the product's LATCHKEY_BRAND_COLOR) paints
 * the pages and letters about that portal; its title was already there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('portals').addColumn('color', 'text').execute();
}
