import type { Executor } from './db.js';
import type { InstanceTable } from './schema.js';

/**
 * Writes the instance row unless one is there, then returns the row that is: two processes starting on a
 * fresh database together both read the first writer's row.
 */
export async function claimInstance(db: Executor, row: InstanceTable): Promise<InstanceTable> {
  await db
    .insertInto('instance')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return db.selectFrom('instance').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
}
