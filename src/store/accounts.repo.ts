import { isValidLogin, loginKey, type Identifier } from '../domain/identifiers.js';
import { AppError } from '../kernel/errors.js';
import type { Executor } from './db.js';
import type { PortalEntry } from './portals.repo.js';
import type { Account, NewAccount } from './schema.js';

export async function insertAccount(db: Executor, account: NewAccount): Promise<void> {
  await db.insertInto('accounts').values(account).execute();
}

export async function findAccountById(db: Executor, id: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAccountByIdentifier(db: Executor, identifier: Identifier): Promise<Account | undefined> {
  // No stored key holds NUL, and PostgreSQL text cannot carry one: nothing can match, on either database.
  if (identifier.key.includes('\u0000')) return undefined;
  const column = identifier.kind === 'email' ? 'email_key' : identifier.kind === 'phone' ? 'phone' : 'login_key';
  return db.selectFrom('accounts').selectAll().where(column, '=', identifier.key).executeTakeFirst();
}

/** Stores a new password hash; `clearMustChange` also lifts "must change at next sign-in" in the same statement. */
export async function setPasswordHash(db: Executor, accountId: string, hash: string, at: string, clearMustChange = false): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ password_hash: hash, password_changed_at: at, updated_at: at, ...(clearMustChange ? { must_change_password: 0 } : {}) })
    .where('id', '=', accountId)
    .execute();
}

export async function markEmailVerified(db: Executor, accountId: string, at: string): Promise<void> {
  await db
    .updateTable('accounts')
    .set({ email_verified_at: at, updated_at: at })
    .where('id', '=', accountId)
    .where('email_verified_at', 'is', null)
    .execute();
}

export async function markPhoneVerified(db: Executor, accountId: string, at: string): Promise<void> {
  await db.updateTable('accounts').set({ phone_verified_at: at, updated_at: at }).where('id', '=', accountId).where('phone_verified_at', 'is', null).execute();
}

export async function setMustChangePassword(db: Executor, accountId: string, mustChange: boolean): Promise<void> {
  await db.updateTable('accounts').set({ must_change_password: mustChange ? 1 : 0 }).where('id', '=', accountId).execute();
}

/** A free login made from a wish (an e-mail's name, a provider's id): cleaned up, then numbered if taken. */
export async function findFreeLogin(db: Executor, wanted: string): Promise<string> {
  const base = wanted.normalize('NFKC').replace(/[^\p{L}\p{N}._-]/gu, '').replace(/^[^\p{L}]+/u, '').slice(0, 48) || 'user';
  const seed = isValidLogin(base) ? base : `user${base}`.slice(0, 48);
  for (let n = 0; n < 1000; n += 1) {
    const candidate = n === 0 ? seed : `${seed}${n + 1}`;
    if (!(await findAccountByIdentifier(db, { kind: 'login', key: loginKey(candidate) }))) return candidate;
  }
  throw new AppError('invalid_request', { field: 'login' }, 'no free login');
}

/** Holds the account's row until the transaction ends (PostgreSQL), so checks like "the last way in" cannot race. */
export async function lockAccount(db: Executor, dialect: 'sqlite' | 'postgres', accountId: string): Promise<void> {
  // SQLite runs one writer at a time on its single connection: the transaction itself is the lock.
  if (dialect === 'postgres') await db.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
}

export async function setLogin(db: Executor, accountId: string, login: string, at: string): Promise<void> {
  await db.updateTable('accounts').set({ login, login_key: loginKey(login), updated_at: at }).where('id', '=', accountId).execute();
}

/** Swaps one stored hash for another of the same password; false when the hash changed meanwhile (kept as it is). */
export async function replacePasswordHash(db: Executor, accountId: string, oldHash: string, newHash: string, at: string): Promise<boolean> {
  const result = await db.updateTable('accounts').set({ password_hash: newHash, updated_at: at }).where('id', '=', accountId).where('password_hash', '=', oldHash).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Moves an account between statuses (the operator's disable/enable); returns whether it changed. */
export async function setAccountStatus(db: Executor, accountId: string, from: Array<Account['status']>, to: Account['status'], at: string): Promise<boolean> {
  const result = await db.updateTable('accounts').set({ status: to, updated_at: at }).where('id', '=', accountId).where('status', 'in', from).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function setAccountName(db: Executor, accountId: string, name: string | null, at: string): Promise<void> {
  await db.updateTable('accounts').set({ name, updated_at: at }).where('id', '=', accountId).execute();
}

/** What the one sign-in path (flows/finish-sign-in.ts) decides on, read with the account in the same statement. */
export interface SignInFacts {
  /** The portal of a live admin pause of the second factor, if any (the latest one). */
  suspendedForPortalId: string | null;
  hasSecondFactor: boolean;
  /** Whether the account ever had a session (its very first one sends no "new sign-in" notice). */
  hadSession: boolean;
  /** The highest `--min-password-length` of the portals the account is an active member of. */
  minPasswordLength: number | null;
  /** The portals it is an active member of, as the portal chooser lists them (by title). */
  portals: PortalEntry[];
}

export type AccountForSignIn = Account & { signIn: SignInFacts };

/**
 * The account columns plus the sign-in facts, one row per active membership (its portal's entry in the
 * chooser and its password minimum) or one row without: one round trip instead of six. Fold the rows with
 * `accountForSignIn`.
 */
export function selectAccountForSignIn(db: Executor, now: string) {
  return db
    .selectFrom('accounts')
    .leftJoin('memberships as chosen', (join) => join.onRef('chosen.account_id', '=', 'accounts.id').on('chosen.status', '=', 'active'))
    .leftJoin('portals as chooser', 'chooser.id', 'chosen.portal_id')
    .selectAll('accounts')
    .select(['chooser.slug as entry_slug', 'chooser.title as entry_title', 'chooser.url as entry_url', 'chosen.role as entry_role', 'chooser.min_password_length as entry_min_password_length'])
    .select((eb) => [
      eb
        .selectFrom('second_factor_suspensions')
        .select('second_factor_suspensions.portal_id')
        .whereRef('second_factor_suspensions.account_id', '=', 'accounts.id')
        .where('second_factor_suspensions.ended_at', 'is', null)
        .where('second_factor_suspensions.expires_at', '>', now)
        .orderBy('second_factor_suspensions.expires_at', 'desc')
        .limit(1)
        .as('fact_suspended_for'),
      eb
        .exists(eb.selectFrom('second_factors').select('second_factors.account_id').whereRef('second_factors.account_id', '=', 'accounts.id').where('second_factors.confirmed_at', 'is not', null))
        .as('fact_second_factor'),
      eb.exists(eb.selectFrom('sessions').select('sessions.id_hash').whereRef('sessions.account_id', '=', 'accounts.id')).as('fact_had_session'),
    ])
    .orderBy('chooser.title');
}

type FactColumns = {
  fact_suspended_for: string | null;
  fact_second_factor: unknown;
  fact_had_session: unknown;
  entry_slug: string | null;
  entry_title: string | null;
  entry_url: string | null;
  entry_role: PortalEntry['role'] | null;
  entry_min_password_length: number | null;
};

/**
 * Folds the rows of `selectAccountForSignIn` (one per portal entry, same account) into the account and its
 * facts; undefined for no rows. SQLite answers EXISTS with 0/1.
 */
export function accountForSignIn<R extends Account & FactColumns>(rows: readonly R[]): (Omit<R, keyof FactColumns> & { signIn: SignInFacts }) | undefined {
  const [first] = rows;
  if (!first) return undefined;
  const { fact_suspended_for, fact_second_factor, fact_had_session, entry_slug: _slug, entry_title: _title, entry_url: _url, entry_role: _role, entry_min_password_length: _min, ...rest } = first;
  const portals = rows.flatMap((row) =>
    row.entry_slug !== null && row.entry_title !== null && row.entry_url !== null && row.entry_role !== null ? [{ slug: row.entry_slug, title: row.entry_title, url: row.entry_url, role: row.entry_role }] : [],
  );
  // The strictest of its portals' minimums.
  const minimums = rows.flatMap((row) => (row.entry_min_password_length === null ? [] : [row.entry_min_password_length]));
  return {
    ...rest,
    signIn: {
      suspendedForPortalId: fact_suspended_for,
      hasSecondFactor: Boolean(Number(fact_second_factor)),
      hadSession: Boolean(Number(fact_had_session)),
      minPasswordLength: minimums.length > 0 ? Math.max(...minimums) : null,
      portals,
    },
  };
}

/** `findAccountByIdentifier` with the sign-in facts (see `SignInFacts`). */
export async function findAccountForSignIn(db: Executor, identifier: Identifier, now: string): Promise<AccountForSignIn | undefined> {
  if (identifier.key.includes('\u0000')) return undefined;
  const column = identifier.kind === 'email' ? 'email_key' : identifier.kind === 'phone' ? 'phone' : 'login_key';
  return accountForSignIn(await selectAccountForSignIn(db, now).where(`accounts.${column}`, '=', identifier.key).execute());
}

/** `findAccountById` with the sign-in facts. */
export async function findAccountByIdForSignIn(db: Executor, id: string, now: string): Promise<AccountForSignIn | undefined> {
  return accountForSignIn(await selectAccountForSignIn(db, now).where('accounts.id', '=', id).execute());
}
