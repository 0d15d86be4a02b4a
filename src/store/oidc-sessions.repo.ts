import type { Executor } from './db.js';
import type { OidcSessionClientsTable } from './schema.js';

/**
 * The provider's side of a session end (SPEC §10 Logout, migration 016): which applications signed in
 * through which provider session, and the provider's own models of an account (sessions, grants, codes,
 * tokens in `oidc_models`, written by src/oidc/adapter.ts in oidc-provider's JSON shape).
 */
export type SessionClientRow = OidcSessionClientsTable;

/**
 * An application got a code through provider session `session_uid` under Latchkey session `session_hash`.
 * The provider session follows the Latchkey session that answered it last: every application signed in
 * through it is moved under that session, so ending it logs them all out.
 */
export async function recordSessionClient(db: Executor, row: SessionClientRow): Promise<void> {
  await db
    .insertInto('oidc_session_clients')
    .values(row)
    .onConflict((oc) => oc.columns(['session_uid', 'client_id']).doUpdateSet({ sid: row.sid, grant_id: row.grant_id, account_id: row.account_id, session_hash: row.session_hash }))
    .execute();
  await db.updateTable('oidc_session_clients').set({ session_hash: row.session_hash }).where('session_uid', '=', row.session_uid).where('account_id', '=', row.account_id).execute();
}

/** The applications signed in under one Latchkey session (RP-initiated logout finds its Latchkey session here). */
export async function sessionHashOfProviderSession(db: Executor, sessionUid: string): Promise<string | undefined> {
  const row = await db.selectFrom('oidc_session_clients').select('session_hash').where('session_uid', '=', sessionUid).where('session_hash', 'is not', null).executeTakeFirst();
  return row?.session_hash ?? undefined;
}

/** Which of an account's signed-in applications end. */
export type SessionClientsFilter =
  | { kind: 'one'; sessionHash: string }
  | { kind: 'all_but'; keepSessionHash: string }
  | { kind: 'all' }
  | { kind: 'portal'; portalId: string };

/**
 * Removes and returns the account's signed-in applications that `filter` ends. A row is returned to exactly
 * one caller however many end it at once (the DELETE decides), so each logout is queued once.
 */
export async function takeSessionClients(db: Executor, accountId: string, filter: SessionClientsFilter): Promise<SessionClientRow[]> {
  let query = db.deleteFrom('oidc_session_clients').where('account_id', '=', accountId);
  if (filter.kind === 'one') query = query.where('session_hash', '=', filter.sessionHash);
  if (filter.kind === 'all_but') query = query.where((eb) => eb.or([eb('session_hash', 'is', null), eb('session_hash', '!=', filter.keepSessionHash)]));
  if (filter.kind === 'portal') query = query.where('client_id', 'in', db.selectFrom('oidc_clients').select('client_id').where('portal_id', '=', filter.portalId));
  return query.returningAll().execute();
}

/** The clients of a portal. */
export async function portalClientIds(db: Executor, portalId: string): Promise<string[]> {
  const rows = await db.selectFrom('oidc_clients').select('client_id').where('portal_id', '=', portalId).execute();
  return rows.map((r) => r.client_id);
}

/** The back-channel logout URI each of these clients registered (`latchkey client add --backchannel-logout-uri`), if any. */
export async function backchannelLogoutUris(db: Executor, clientIds: readonly string[]): Promise<Map<string, string>> {
  if (clientIds.length === 0) return new Map();
  const rows = await db.selectFrom('oidc_clients').select(['client_id', 'metadata']).where('client_id', 'in', [...new Set(clientIds)]).execute();
  const uris = new Map<string, string>();
  for (const row of rows) {
    const uri = (JSON.parse(row.metadata) as { backchannel_logout_uri?: string }).backchannel_logout_uri;
    if (uri) uris.set(row.client_id, uri);
  }
  return uris;
}

/** oidc-provider's Session payload, as far as logging out is concerned. */
interface SessionPayload {
  authorizations?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Logs the given clients (all, when `clientIds` is undefined) out of provider sessions, in place: their
 * authorizations (sid and grant) go, so no token of theirs is tied to the session any more. The row, its
 * uid and its account stay: an authorization request in progress in that browser fails unless its session
 * is still there with the same account (the library checks both), and the person may be about to sign in
 * again to finish it. Who may sign in through the provider is decided by the Latchkey session anyway (the
 * `latchkey_session` check in src/oidc/provider.ts). Selected by uid, and with `accountId` every session
 * of the account (also those no application got a code through yet). The updates go to `writes` (a write
 * batch, or `db` itself).
 */
export async function signOutProviderSessions(
  db: Executor,
  select: { uids?: readonly string[]; accountId?: string },
  clientIds?: ReadonlySet<string>,
  writes: Executor = db,
): Promise<void> {
  const uids = select.uids ?? [];
  if (uids.length === 0 && select.accountId === undefined) return;
  const rows = await db
    .selectFrom('oidc_models')
    .select(['id', 'payload'])
    .where('name', '=', 'Session')
    .where((eb) => {
      const any = [];
      if (uids.length > 0) any.push(eb('uid', 'in', [...uids]));
      if (select.accountId !== undefined) any.push(eb('account_id', '=', select.accountId));
      return eb.or(any);
    })
    .execute();
  for (const row of rows) {
    const payload = JSON.parse(row.payload) as SessionPayload;
    if (!payload.authorizations) continue;
    if (clientIds === undefined) delete payload.authorizations;
    else for (const clientId of clientIds) delete payload.authorizations[clientId];
    await writes.updateTable('oidc_models').set({ payload: JSON.stringify(payload) }).where('name', '=', 'Session').where('id', '=', row.id).execute();
  }
}

/** The models that carry what an application may do for an account. */
const GRANTED_MODELS = ['Grant', 'AuthorizationCode', 'AccessToken', 'RefreshToken'];

/**
 * Grants die with every code and token issued under them (the adapter's revokeByGrantId, plus the grant
 * itself). An authorization request in progress that names the grant (an Interaction) stays: it resumes
 * with a new grant.
 */
export async function revokeGrants(db: Executor, grantIds: readonly string[]): Promise<void> {
  const ids = [...new Set(grantIds)];
  if (ids.length === 0) return;
  await db
    .deleteFrom('oidc_models')
    .where('name', 'in', GRANTED_MODELS)
    .where((eb) => eb.or([eb('grant_id', 'in', ids), eb.and([eb('name', '=', 'Grant'), eb('id', 'in', ids)])]))
    .execute();
}

/**
 * Every grant, code and token of an account (only those of `clientIds` when given), whichever provider
 * session they came from: an account-wide end leaves nothing an application could still use. Reads on `db`,
 * deletes on `writes` (a write batch, or `db` itself).
 */
export async function revokeAccountGrants(db: Executor, accountId: string, clientIds?: ReadonlySet<string>, writes: Executor = db): Promise<void> {
  if (clientIds === undefined) {
    await writes.deleteFrom('oidc_models').where('account_id', '=', accountId).where('name', 'in', GRANTED_MODELS).execute();
    return;
  }
  if (clientIds.size === 0) return;
  const rows = await db.selectFrom('oidc_models').select(['name', 'id', 'payload', 'grant_id']).where('account_id', '=', accountId).where('name', 'in', GRANTED_MODELS).execute();
  const grantIds = rows
    .filter((row) => clientIds.has((JSON.parse(row.payload) as { clientId?: string }).clientId ?? ''))
    .map((row) => (row.name === 'Grant' ? row.id : (row.grant_id ?? '')))
    .filter((id) => id !== '');
  await revokeGrants(writes, grantIds);
}
