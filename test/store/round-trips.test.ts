/**
 * What a sign-in, a recovery completion and the letter it queues cost in statements (issue 15, item 1: on
 * PostgreSQL each statement is a round trip, and beyond its argon2id hash a sign-in spends most of what it
 * costs on them). On SQLite, which is in-process, the same requests must answer the same; only PostgreSQL's
 * counts are held to a number. Counted: every statement Kysely executes (BEGIN and COMMIT are not statements
 * here); a write batch (store/write-batch.ts) is one on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { issueToken } from '../../src/flows/tokens.js';
import { addPortal } from '../../src/flows/operator.js';
import { openStore, type Db } from '../../src/store/db.js';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/pg.js';
import { waitUntil } from '../support/wait.js';

/** Counts the statements executed through the store while `counting` is on. */
class StatementCounter implements KyselyPlugin {
  counting = false;
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.counting) this.count += 1;
    return args.result;
  }
  async measure(action: () => Promise<unknown>): Promise<number> {
    this.count = 0;
    this.counting = true;
    try {
      await action();
    } finally {
      this.counting = false;
    }
    return this.count;
  }
}

const json = { 'content-type': 'application/json' };

for (const dialect of DIALECTS) {
  describe(`statements per request (${dialect})`, () => {
    let t: TestApp;
    let pgDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
    let ivanId: string;
    let plain: Db;
    const counter = new StatementCounter();

    before(async () => {
      // On PostgreSQL the app's store is seen through the counter (same connections, one more plugin); `plain`
      // is the same database without it, for the test's own reads.
      pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      const opened = pgDb ? openStore(pgDb.url) : undefined;
      // A long poll: the worker runs only when told of a message (the last test counts what that costs).
      t = await startTestApp({
        dialect,
        worker: false,
        workerOptions: { pollMs: 60_000 },
        env: { LATCHKEY_RATE_LIMITS: 'off' },
        ...(opened ? { store: { ...opened, db: opened.db.withPlugin(counter) } } : {}),
      });
      plain = opened?.db ?? t.deps.store.db;
      // Two portals, titled so that the chooser's order (by title) is not the order they were joined in.
      await addPortal(t.deps, { slug: 'zeta', title: 'Zeta works' });
      await addPortal(t.deps, { slug: 'alpha', title: 'Alpha works' });
      ivanId = (await seedAccount(t.deps, { portals: [{ slug: 'zeta', role: 'employee' }, { slug: 'alpha', role: 'admin' }] })).id;
    });
    after(async () => {
      await t.close();
      await pgDb?.drop();
    });
    it('a sign-in reads the account with its portals in one statement and writes in one more', async () => {
      let answer: { statusCode: number; json(): { portals: Array<{ slug: string }> } } | undefined;
      const statements = await counter.measure(async () => {
        answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
      });
      assert.equal(answer?.statusCode, 200);
      assert.deepEqual(answer?.json().portals.map((p) => p.slug), ['alpha', 'zeta'], 'every active portal, by title');
      if (dialect === 'postgres') assert.equal(statements, 2, 'account with facts and portals; then session, audit and notice as one batch');
    });

    it('a recovery completion ends every session in the same batch as the new password and session', async () => {
      const token = await issueToken(t.deps, plain, { accountId: ivanId, purpose: 'email_link', lifetimeMs: 3600_000 });
      let answer: { statusCode: number; json(): { portals: Array<{ slug: string }> } } | undefined;
      const statements = await counter.measure(async () => {
        answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'a-new-long-password-42' } });
      });
      assert.equal(answer?.statusCode, 200);
      assert.deepEqual(answer?.json().portals.map((p) => p.slug), ['alpha', 'zeta']);
      // The old session is over, the one the completion opened is not.
      const live = await plain.selectFrom('sessions').select('id_hash').where('account_id', '=', ivanId).where('revoked_at', 'is', null).execute();
      assert.equal(live.length, 1);
      // Token with account, facts and portals; consume; the applications signed in (none); their provider
      // sessions; then every write (sessions revoked, grants, password, audit, notice, new session) at once.
      if (dialect === 'postgres') assert.equal(statements, 5);
      await t.deps.worker.drain();
    });

    it('a worker woken by the letters it was told of claims them in one statement and marks each sent', async () => {
      const token = await issueToken(t.deps, plain, { accountId: ivanId, purpose: 'email_link', lifetimeMs: 3600_000 });
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'another-long-password-43' } });
      assert.equal(answer.statusCode, 200);
      const queued = () => plain.selectFrom('outbox').select('id').where('status', '!=', 'sent').execute();
      // The password-changed notice and the "new sign-in" one (this client carries no device cookie).
      const letters = (await queued()).length;
      assert.equal(letters, 2);
      const statements = await counter.measure(async () => {
        t.deps.worker.start();
        await waitUntil(async () => (await queued()).length === 0);
        await t.deps.worker.stop();
      });
      // No read of the queue before the claim (the kick said a message is due), none after a batch that took
      // all there was (what is queued next kicks again), and the new letters and the rest in one claim.
      if (dialect === 'postgres') assert.equal(statements, 1 + letters, 'one claim, then each letter marked sent');
    });
  });
}
