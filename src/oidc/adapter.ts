import type { Adapter, AdapterPayload } from 'oidc-provider';
import { addMs, iso, type Clock } from '../kernel/clock.js';
import type { Executor, Store } from '../store/db.js';

/**
 * oidc-provider's storage (SPEC §10): every model (Session, Grant, AuthorizationCode, AccessToken,
 * RefreshToken, Interaction, …) is a row of `oidc_models` keyed (name, id), so restarts and several nodes
 * lose nothing. Expired rows are never returned; `deleteExpiredModels` removes them. Clients are not
 * stored here but in `oidc_clients` (src/oidc/clients.ts), which `findClient` reads.
 */
export type FindClient = (clientId: string) => Promise<AdapterPayload | undefined>;

export function createAdapterClass(store: Store, clock: Clock, findClient: FindClient) {
  const { db } = store;
  return class LatchkeyAdapter implements Adapter {
    constructor(private readonly name: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const row = {
        name: this.name,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
        expires_at: expiresIn ? iso(addMs(clock.now(), expiresIn * 1000)) : null,
      };
      await db
        .insertInto('oidc_models')
        .values({ ...row, consumed_at: null })
        .onConflict((oc) => oc.columns(['name', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, user_code: row.user_code, uid: row.uid, account_id: row.account_id, expires_at: row.expires_at }))
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.name === 'Client') return findClient(id);
      return findLive(db, clock, this.name, 'id', id);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return findLive(db, clock, this.name, 'uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return findLive(db, clock, this.name, 'user_code', userCode);
    }

    /** Marks a code or token used; the library refuses (and revokes the grant of) a consumed code. */
    async consume(id: string): Promise<void> {
      await db.updateTable('oidc_models').set({ consumed_at: iso(clock.now()) }).where('name', '=', this.name).where('id', '=', id).where('consumed_at', 'is', null).execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('name', '=', this.name).where('id', '=', id).execute();
    }

    /** Every code and token of a grant dies with it (whatever model asks, as the library expects). */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
    }
  };
}

async function findLive(db: Executor, clock: Clock, name: string, column: 'id' | 'uid' | 'user_code', value: string): Promise<AdapterPayload | undefined> {
  const row = await db
    .selectFrom('oidc_models')
    .select(['payload', 'consumed_at'])
    .where('name', '=', name)
    .where(column, '=', value)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', iso(clock.now()))]))
    .executeTakeFirst();
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as AdapterPayload;
  return row.consumed_at ? { ...payload, consumed: Math.floor(Date.parse(row.consumed_at) / 1000) } : payload;
}

/** Removes models past their expiry; the provider's plugin runs it periodically. Returns how many went. */
export async function deleteExpiredModels(db: Executor, now: Date): Promise<number> {
  const result = await db.deleteFrom('oidc_models').where('expires_at', '<=', iso(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

