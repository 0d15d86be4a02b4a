import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { openStore, type Store } from '../../src/store/db.js';
import { backfillModelAccounts } from '../../src/store/migrations/016_oidc_session_clients.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { createTestDatabase } from '../support/pg.js';

/** Migration 016: provider models written before it get their account (from their JSON) as an indexed column. */
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`migration 016: provider models learn their account (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (dialect === 'postgres') {
        const db = await createTestDatabase();
        store = openStore(db.url);
        cleanup = db.drop;
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-oidc-accounts-'));
        store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
        cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      }
      await migrateToLatest(store);
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it('copies accountId out of each payload; models without one keep none', async () => {
      const model = (name: string, id: string, payload: unknown) => ({ name, id, payload: JSON.stringify(payload), grant_id: null, user_code: null, uid: null, expires_at: null, consumed_at: null, account_id: null });
      await store.db
        .insertInto('oidc_models')
        .values([
          model('Grant', 'g1', { accountId: 'acc-1', clientId: 'crm' }),
          model('RefreshToken', 'r1', { accountId: 'acc-2', grantId: 'g2' }),
          model('Interaction', 'i1', { params: { client_id: 'crm' } }),
        ])
        .execute();
      await backfillModelAccounts(store.db as unknown as Kysely<unknown>);
      const rows = await store.db.selectFrom('oidc_models').select(['id', 'account_id']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { id: 'g1', account_id: 'acc-1' },
        { id: 'i1', account_id: null },
        { id: 'r1', account_id: 'acc-2' },
      ]);
    });
  });
}
