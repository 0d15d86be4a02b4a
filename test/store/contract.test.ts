import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/db.js';
import { deleteSocialIdentity, findSocialIdentity, insertSocialIdentity, listLinkedProviders, listSocialIdentities } from '../../src/store/social-identities.repo.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { findAccountForSignIn, insertAccount } from '../../src/store/accounts.repo.js';
import { combineWrites, writeTogether } from '../../src/store/write-batch.js';
import { claimDueMessages, enqueueMessage, markRetry, markSent, outboxDepth } from '../../src/store/outbox.repo.js';
import { consumeRecoveryToken, insertRecoveryToken, peekRecoveryToken, revokeAccountTokens } from '../../src/store/recovery-tokens.repo.js';
import { attachAccount, closeOpenFlowsOfAccount, findPhoneFlow, insertPhoneFlow, type PhoneFlow } from '../../src/store/phone-flows.repo.js';
import { findLiveSession, insertSession, listLiveSessions, revokeAccountSessions, revokeOwnSession, touchSession } from '../../src/store/sessions.repo.js';
import { claimInstance } from '../../src/store/instance.repo.js';
import { createTestDatabase } from '../support/pg.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const T0 = '2026-11-25T09:00:00.000Z';
const T1 = '2026-11-25T09:30:00.000Z';
const T2 = '2026-11-25T10:30:00.000Z';

/** The same repository contract, on the embedded SQLite and on PostgreSQL. */
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`store contract (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    before(async () => {
      if (dialect === 'postgres') {
        const db = await createTestDatabase();
        store = openStore(db.url);
        cleanup = db.drop;
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-store-'));
        store = openStore(`sqlite:${path.join(dir, 'db.sqlite')}`);
        cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
      }
      assert.deepEqual(await migrateToLatest(store), ['001_initial', '002_phone_flows', '003_admin_and_box', '004_outbox_sms_count', '005_social_identities', '006_invitations', '007_phone_flows_account', '009_unsquat_social_contacts', '010_instance', '011_second_factor', '013_oidc_provider', '014_session_last_seen', '015_second_factor_admin', '016_oidc_session_clients', '017_contact_changes', '018_not_me_tokens', '020_portal_color', '021_failures_reset', '022_outbox_claim_indexes']);
      assert.deepEqual(await migrateToLatest(store), [], 'migrating again is a no-op');
      await insertAccount(store.db, {
        id: 'a1', login: 'ivan', login_key: 'ivan', name: null, email: 'i@example.com', email_key: 'i@example.com', email_verified_at: T0,
        phone: null, phone_verified_at: null, password_hash: null, password_changed_at: null, status: 'active', locale: 'ru', created_at: T0, updated_at: T0,
      });
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it('a write batch sends its writes together (one statement on PostgreSQL), refuses reads, and is all or nothing', async () => {
      await insertAccount(store.db, {
        id: 'a-batch', login: 'batch', login_key: 'batch', name: null, email: null, email_key: null, email_verified_at: null,
        phone: null, phone_verified_at: null, password_hash: null, password_changed_at: null, status: 'active', locale: 'en', created_at: T0, updated_at: T0,
      });
      const session = (id: string) => ({ id_hash: id, account_id: 'a-batch', created_at: T0, expires_at: T2, revoked_at: null, ip: null, user_agent: null, last_seen_at: T0, only_portal_id: null });
      const live = { now: T1, idleSince: '2026-01-01T00:00:00.000Z' };
      await insertSession(store.db, session('batch-old'));
      const sent = await writeTogether(store, store.db, async (writes) => {
        await revokeAccountSessions(writes, 'a-batch', T1);
        await insertSession(writes, session('batch-new'));
        return 'built';
      });
      assert.equal(sent, 'built');
      // Every write saw the database as before the batch: the revocation did not reach the session inserted beside it.
      assert.equal(await findLiveSession(store.db, 'batch-old', live), undefined);
      assert.ok(await findLiveSession(store.db, 'batch-new', live));
      await assert.rejects(writeTogether(store, store.db, async (writes) => findLiveSession(writes, 'batch-new', live)), /only writes/);
      await assert.rejects(writeTogether(store, store.db, async (writes) => consumeRecoveryToken(writes, 'none', T1)), /only writes/, 'RETURNING is a read');
      // A failing write (a duplicate session id) takes the other writes of its batch with it.
      await assert.rejects(
        writeTogether(store, store.db, async (writes) => {
          await insertSession(writes, session('batch-atomic'));
          await insertSession(writes, session('batch-new'));
        }),
      );
      assert.equal(await findLiveSession(store.db, 'batch-atomic', live), undefined, 'all or nothing');
      if (dialect === 'postgres') {
        const combined = combineWrites([
          { sql: 'update a set x = $1 where y = $2', parameters: [1, 2], query: { kind: 'RawNode' } } as never,
          { sql: 'insert into b values ($1, $2, $3)', parameters: [3, 4, 5], query: { kind: 'RawNode' } } as never,
        ]);
        assert.equal(combined.sql, 'with w0 as (update a set x = $1 where y = $2), w1 as (insert into b values ($3, $4, $5)) select 1');
        assert.deepEqual(combined.parameters, [1, 2, 3, 4, 5]);
      }
    });

    it('an account for sign-in comes with its facts in one read', async () => {
      const found = await findAccountForSignIn(store.db, { kind: 'login', key: 'batch' }, T1);
      assert.equal(found?.id, 'a-batch');
      assert.deepEqual(found?.signIn, { suspendedForPortalId: null, hasSecondFactor: false, hadSession: true, minPasswordLength: null, portals: [] });
      assert.equal((await findAccountForSignIn(store.db, { kind: 'login', key: 'ivan' }, T1))?.signIn.hadSession, false);
      assert.equal(await findAccountForSignIn(store.db, { kind: 'login', key: 'nobody' }, T1), undefined);
    });

    it('instance: the first claim stays; a later or concurrent one reads it back', async () => {
      const first = { id: 1, edition: 'cloud', secret_check: 'check-a', created_at: T0 };
      const [a, b] = await Promise.all([claimInstance(store.db, first), claimInstance(store.db, { ...first, edition: 'box', secret_check: 'check-b', created_at: T1 })]);
      assert.equal(a.edition, b.edition);
      assert.equal(a.secret_check, b.secret_check);
      const later = await claimInstance(store.db, { id: 1, edition: 'box', secret_check: 'check-c', created_at: T2 });
      assert.deepEqual(later, a);
    });

    it('enforces unique case-folded logins and e-mails', async () => {
      const base = {
        id: 'a2', login: 'IVAN', login_key: 'ivan', name: null, email: null, email_key: null, email_verified_at: null, phone: null,
        phone_verified_at: null, password_hash: null, password_changed_at: null, status: 'active' as const, locale: 'ru' as const, created_at: T0, updated_at: T0,
      };
      await assert.rejects(insertAccount(store.db, base));
      await assert.rejects(insertAccount(store.db, { ...base, login_key: 'ivan2', email_key: 'i@example.com' }));
    });

    it('a social identity is found by issuer + subject only, belongs to one account, and goes with it', async () => {
      const identity = { id: 's1', account_id: 'a1', provider: 'vk', issuer: 'https://id.vk.com', subject: '42', email: 'i@example.com', created_at: T0, last_used_at: null };
      await insertSocialIdentity(store.db, identity);
      assert.equal((await findSocialIdentity(store.db, 'https://id.vk.com', '42'))?.account_id, 'a1');
      assert.equal(await findSocialIdentity(store.db, 'https://oauth.yandex.ru', '42'), undefined, 'another issuer is another identity');
      assert.equal(await findSocialIdentity(store.db, 'https://id.vk.com', '42\u0000'), undefined);
      await assert.rejects(insertSocialIdentity(store.db, { ...identity, id: 's2' }), 'one issuer + subject, one row');
      assert.deepEqual(await listLinkedProviders(store.db, 'a1'), ['vk']);
      assert.equal(await deleteSocialIdentity(store.db, 'someone-else', 's1'), false, 'only its own account may unlink it');
      assert.equal(await deleteSocialIdentity(store.db, 'a1', 's1'), true);
      assert.deepEqual(await listSocialIdentities(store.db, 'a1'), []);
    });

    it('a token is peeked without being used, consumed once, and dies when expired or revoked', async () => {
      const row = { token_hash: 'h1', account_id: 'a1', purpose: 'email_link' as const, created_at: T0, expires_at: T2, consumed_at: null, revoked_at: null };
      await insertRecoveryToken(store.db, row);
      assert.ok(await peekRecoveryToken(store.db, 'h1', T1));
      assert.ok(await peekRecoveryToken(store.db, 'h1', T1), 'peeking twice changes nothing');
      assert.equal(await peekRecoveryToken(store.db, 'h1', T2), undefined, 'expired at its expiry time');
      const results = await Promise.all(Array.from({ length: 20 }, () => store.db.transaction().execute((tx) => consumeRecoveryToken(tx, 'h1', T1))));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one of 20 concurrent consumers wins');
      assert.equal(await peekRecoveryToken(store.db, 'h1', T1), undefined);

      await insertRecoveryToken(store.db, { ...row, token_hash: 'h2' });
      await revokeAccountTokens(store.db, 'a1', T1);
      assert.equal(await consumeRecoveryToken(store.db, 'h2', T1), undefined, 'revoked tokens cannot be consumed');
    });

    it('sessions: live until expiry, revocation or idleness; revoking all may spare one', async () => {
      const s = { account_id: 'a1', created_at: T0, expires_at: T2, revoked_at: null, ip: null, user_agent: null, last_seen_at: T0 };
      const at = (now: string, idleSince = '2000-01-01T00:00:00.000Z') => ({ now, idleSince });
      await insertSession(store.db, { ...s, id_hash: 's1' });
      await insertSession(store.db, { ...s, id_hash: 's2' });
      assert.ok(await findLiveSession(store.db, 's1', at(T1)));
      assert.equal(await findLiveSession(store.db, 's1', at(T2)), undefined);
      assert.equal(await findLiveSession(store.db, 's1', at(T1, T0)), undefined, 'unused since the idle cut-off');
      await touchSession(store.db, 's1', T1, T1);
      assert.ok(await findLiveSession(store.db, 's1', at(T1, T0)), 'used again: live');
      assert.equal((await listLiveSessions(store.db, 'a1', at(T1))).length, 2);
      assert.equal(await revokeOwnSession(store.db, 'someone-else', 's1', T1), 0, "another account's session is left alone");
      assert.equal(await revokeAccountSessions(store.db, 'a1', T1, 's2'), 1);
      assert.equal(await findLiveSession(store.db, 's1', at(T1)), undefined);
      assert.ok(await findLiveSession(store.db, 's2', at(T1)));
      assert.equal(await revokeOwnSession(store.db, 'a1', 's2', T1), 1);
      assert.deepEqual(await listLiveSessions(store.db, 'a1', at(T1)), []);
    });

    it("phone flows: an account's open flows close by account and by its number; verified and other numbers' flows stay", async () => {
      await insertAccount(store.db, {
        id: 'a3', login: 'olga', login_key: 'olga', name: null, email: null, email_key: null, email_verified_at: null,
        phone: '+79160000003', phone_verified_at: T0, password_hash: null, password_changed_at: null, status: 'active', locale: 'ru', created_at: T0, updated_at: T0,
      });
      const flow = (id: string, phone: string, change: Partial<PhoneFlow> = {}): PhoneFlow => ({
        id_hash: id, phone, account_id: null, created_at: T0, expires_at: T2, code_hash: 'h', code_expires_at: T1, code_sent_at: T0,
        resends: 0, attempts: 0, verified_at: null, closed_at: null, ...change,
      });
      await insertPhoneFlow(store.db, flow('f-attached', '+79160000003', { account_id: 'a3' }));
      await insertPhoneFlow(store.db, flow('f-queued', '+79160000003'));
      await insertPhoneFlow(store.db, flow('f-verified', '+79160000003', { account_id: 'a3', verified_at: T0 }));
      await insertPhoneFlow(store.db, flow('f-other', '+79160000099'));
      await closeOpenFlowsOfAccount(store.db, 'a3', T1);
      const closed = async (id: string) => (await findPhoneFlow(store.db, id))?.closed_at ?? null;
      assert.equal(await closed('f-attached'), T1);
      assert.equal(await closed('f-queued'), T1, 'a flow whose code is not sent yet is found by the number');
      assert.equal(await closed('f-verified'), null);
      assert.equal(await closed('f-other'), null);
      assert.equal(await attachAccount(store.db, 'f-queued', 'a3'), false, 'a closed flow takes no account (and gets no text)');
      assert.equal(await attachAccount(store.db, 'f-other', 'a3'), true);
    });

    it('outbox: due messages are claimed by one worker at a time, retried later, and sent once', async () => {
      for (let i = 0; i < 5; i += 1) {
        await enqueueMessage(store.db, { channel: 'email', kind: 'test', recipient: `r${i}`, subject: 's', payload: 'sealed' }, T0);
      }
      assert.equal(await outboxDepth(store.db), 5);
      const lock = '2026-11-25T09:01:00.000Z';
      const [a, b] = await Promise.all([
        store.db.transaction().execute((tx) => claimDueMessages(tx, store.dialect, T0, lock, 3)),
        store.db.transaction().execute((tx) => claimDueMessages(tx, store.dialect, T0, lock, 3)),
      ]);
      const ids = [...(a ?? []), ...(b ?? [])].map((m) => m.id);
      assert.equal(ids.length, 5, 'every message claimed');
      assert.equal(new Set(ids).size, 5, 'none claimed twice');
      assert.deepEqual(await claimDueMessages(store.db, store.dialect, T0, lock, 10), [], 'claimed ones are not due');
      const [first, second] = ids;
      assert.ok(first !== undefined && second !== undefined);
      assert.equal(await markSent(store.db, first, T0, false), true);
      assert.equal(await markSent(store.db, first, T0, false), false, 'marked sent exactly once');
      await markRetry(store.db, second, T1, 'boom');
      assert.deepEqual(await claimDueMessages(store.db, store.dialect, T0, lock, 10), [], 'not before its retry time');
      // A worker that died holding messages: they come back once its lock expires.
      const revived = await claimDueMessages(store.db, store.dialect, '2026-11-25T09:02:00.000Z', T2, 10);
      assert.equal(revived.length, 3);
      assert.ok(!revived.some((m) => m.id === second), 'the one waiting for its retry is not due yet');
      const later = await claimDueMessages(store.db, store.dialect, T1, T2, 10);
      assert.deepEqual(later.map((m) => [m.id, m.attempts]), [[second, 2]]);
    });

    it('claims letters and texts before jobs, so a letter leaves right after its job under a backlog', async () => {
      await store.db.updateTable('outbox').set({ status: 'sent' }).execute();
      await enqueueMessage(store.db, { channel: 'job', kind: 'recovery.email.request', recipient: null, subject: null, payload: 'j' }, T0);
      await enqueueMessage(store.db, { channel: 'email', kind: 'recovery.email', recipient: 'x@example.com', subject: 's', payload: 'e' }, T0);
      const [first] = await claimDueMessages(store.db, store.dialect, T1, T2, 1);
      assert.equal(first?.channel, 'email', 'the letter, though queued after the job');
      const rest = await claimDueMessages(store.db, store.dialect, T1, T2, 5);
      assert.deepEqual(rest.map((m) => m.channel), ['job']);
      // A letter being retried (its transport was down) waits its turn by age: it does not hold up the jobs.
      assert.ok(first);
      await markRetry(store.db, first.id, T1, 'connection refused');
      await enqueueMessage(store.db, { channel: 'job', kind: 'recovery.email.request', recipient: null, subject: null, payload: 'j2' }, T0);
      const retried = await claimDueMessages(store.db, store.dialect, T1, T2, 1);
      assert.deepEqual(retried.map((m) => m.id), [first.id], 'the oldest due one, the retried letter');
    });
  });
}
