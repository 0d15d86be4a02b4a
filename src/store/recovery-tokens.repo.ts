import type { Insertable, Selectable } from 'kysely';
import { accountForSignIn, selectAccountForSignIn, type AccountForSignIn } from './accounts.repo.js';
import type { Executor } from './db.js';
import type { RecoveryTokensTable } from './schema.js';

export type RecoveryTokenRow = Selectable<RecoveryTokensTable>;

export async function insertRecoveryToken(db: Executor, row: Insertable<RecoveryTokensTable>): Promise<void> {
  await db.insertInto('recovery_tokens').values(row).execute();
}

/** Looks at a token without using it up (opening a link must consume nothing, SPEC §7 rule 3). */
export async function peekRecoveryToken(db: Executor, tokenHash: string, now: string): Promise<RecoveryTokenRow | undefined> {
  return db
    .selectFrom('recovery_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

/** A token row whatever its state (live, used, revoked, expired): what a dead link's page says depends on it. */
export async function findRecoveryToken(db: Executor, tokenHash: string): Promise<RecoveryTokenRow | undefined> {
  return db.selectFrom('recovery_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/**
 * Uses a token up in one atomic statement: of any number of concurrent callers, exactly one gets the row
 * (PostgreSQL re-checks `consumed_at IS NULL` after the row lock; SQLite runs writers one at a time).
 */
export async function consumeRecoveryToken(db: Executor, tokenHash: string, now: string): Promise<RecoveryTokenRow | undefined> {
  return db
    .updateTable('recovery_tokens')
    .set({ consumed_at: now })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

/** Whether the account holds a live token of this purpose issued for this portal (an admin link it sent earlier). */
export async function hasLivePortalToken(db: Executor, accountId: string, purpose: RecoveryTokenRow['purpose'], portalId: string, now: string): Promise<boolean> {
  const row = await db
    .selectFrom('recovery_tokens')
    .select('token_hash')
    .where('account_id', '=', accountId)
    .where('purpose', '=', purpose)
    .where('portal_id', '=', portalId)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

/** Kills every outstanding token of an account (SPEC §7 rule 5). */
export async function revokeAccountTokens(db: Executor, accountId: string, now: string): Promise<void> {
  await db
    .updateTable('recovery_tokens')
    .set({ revoked_at: now })
    .where('account_id', '=', accountId)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

/** `peekRecoveryToken` and its account with the sign-in facts, in one statement (a completion's only read). */
export async function peekRecoveryTokenForSignIn(
  db: Executor,
  tokenHash: string,
  now: string,
): Promise<{ token: Pick<RecoveryTokenRow, 'purpose' | 'channel'>; account: AccountForSignIn } | undefined> {
  const rows = await selectAccountForSignIn(db, now)
    .innerJoin('recovery_tokens', 'recovery_tokens.account_id', 'accounts.id')
    .select(['recovery_tokens.purpose as token_purpose', 'recovery_tokens.channel as token_channel'])
    .where('recovery_tokens.token_hash', '=', tokenHash)
    .where('recovery_tokens.consumed_at', 'is', null)
    .where('recovery_tokens.revoked_at', 'is', null)
    .where('recovery_tokens.expires_at', '>', now)
    .execute();
  const found = accountForSignIn(rows);
  if (!found) return undefined;
  const { token_purpose, token_channel, ...account } = found;
  return { token: { purpose: token_purpose, channel: token_channel }, account };
}
