import type { Executor } from './db.js';
import type { SocialIdentity } from './schema.js';

export async function findSocialIdentity(db: Executor, issuer: string, subject: string): Promise<SocialIdentity | undefined> {
  // PostgreSQL text cannot carry NUL and no stored key holds one.
  if (issuer.includes('\u0000') || subject.includes('\u0000')) return undefined;
  return db.selectFrom('social_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
}

export async function listSocialIdentities(db: Executor, accountId: string): Promise<SocialIdentity[]> {
  return db.selectFrom('social_identities').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute();
}

export async function insertSocialIdentity(db: Executor, row: SocialIdentity): Promise<void> {
  await db.insertInto('social_identities').values(row).execute();
}

export async function touchSocialIdentity(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable('social_identities').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function deleteSocialIdentity(db: Executor, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('social_identities').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The titles of the providers an account can sign in with, for the recovery letter of a social-only account. */
export async function listLinkedProviders(db: Executor, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('social_identities').select('provider').distinct().where('account_id', '=', accountId).orderBy('provider').execute();
  return rows.map((r) => r.provider);
}
