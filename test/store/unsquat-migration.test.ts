import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { insertAccount } from '../../src/store/accounts.repo.js';
import { openStore, type Store } from '../../src/store/db.js';
import { up as unsquat } from '../../src/store/migrations/009_unsquat_social_contacts.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { insertSocialIdentity } from '../../src/store/social-identities.repo.js';
import { createTestDatabase } from '../support/pg.js';

const T0 = '2026-11-20T09:00:00.000Z';
const T1 = '2026-11-21T09:00:00.000Z';

/** Issue 10, item 9: migration 009 takes provider-copied, unproven contacts off passports; nothing else. */
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`migration 009: unproven social contacts leave the passport (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (dialect === 'postgres') {
        const db = await createTestDatabase();
        store = openStore(db.url);
        cleanup = db.drop;
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-unsquat-'));
        store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
        cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      }
      await migrateToLatest(store);
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    const account = (id: string, over: Record<string, string | null>) =>
      insertAccount(store.db, {
        id, login: id, login_key: id, name: null, email: null, email_key: null, email_verified_at: null, phone: null, phone_verified_at: null,
        password_hash: null, password_changed_at: null, status: 'active', locale: 'en', created_at: T0, updated_at: T0, ...over,
      });
    const identity = (id: string, accountId: string, email: string | null, createdAt: string) =>
      insertSocialIdentity(store.db, { id, account_id: accountId, provider: 'vk', issuer: 'https://id.vk.com', subject: id, email, created_at: createdAt, last_used_at: null });

    it('clears squatted contacts of social-made passports and keeps verified and unrelated ones', async () => {
      // Made by a VK sign-in that copied an e-mail and a phone VK did not vouch for: the squat.
      await account('a'.repeat(32), { email: 'victim@example.com', email_key: 'victim@example.com', phone: '+79990000001' });
      await identity('i1', 'a'.repeat(32), 'victim@example.com', T0);
      // Verified contacts of a social passport stay.
      await account('b'.repeat(32), { email: 'own@example.com', email_key: 'own@example.com', email_verified_at: T0, phone: '+79990000002', phone_verified_at: T0 });
      await identity('i2', 'b'.repeat(32), 'own@example.com', T0);
      // An invited employee's unproven address, later linked to VK with another e-mail: not the provider's copy.
      await account('c'.repeat(32), { email: 'invited@example.com', email_key: 'invited@example.com', phone: '+79990000003' });
      await identity('i3', 'c'.repeat(32), 'other@vk.example', T1);
      await unsquat(store.db as unknown as Kysely<unknown>);
      const rows = await store.db.selectFrom('accounts').select(['id', 'email', 'email_key', 'phone']).orderBy('id').execute();
      assert.deepEqual(rows, [
        { id: 'a'.repeat(32), email: null, email_key: null, phone: null },
        { id: 'b'.repeat(32), email: 'own@example.com', email_key: 'own@example.com', phone: '+79990000002' },
        { id: 'c'.repeat(32), email: 'invited@example.com', email_key: 'invited@example.com', phone: '+79990000003' },
      ]);
    });
  });
}
