import type { Insertable, Selectable } from 'kysely';
import type { Executor } from './db.js';
import type { NotMeTokensTable } from './schema.js';

export type NotMeTokenRow = Selectable<NotMeTokensTable>;

export async function insertNotMeToken(db: Executor, row: Insertable<NotMeTokensTable>): Promise<void> {
  await db.insertInto('not_me_tokens').values(row).execute();
}

/** Looks at a link without using it (a mail scanner's GET or HEAD changes nothing, SPEC §11). */
export async function peekNotMeToken(db: Executor, tokenHash: string, now: string): Promise<NotMeTokenRow | undefined> {
  return db
    .selectFrom('not_me_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** Uses a link up in one atomic statement: of concurrent callers exactly one gets the row (as recovery tokens). */
export async function consumeNotMeToken(db: Executor, tokenHash: string, now: string): Promise<NotMeTokenRow | undefined> {
  return db
    .updateTable('not_me_tokens')
    .set({ consumed_at: now })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}
