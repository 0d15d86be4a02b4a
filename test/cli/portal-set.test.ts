import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal } from '../../src/flows/operator.js';
import { latchkey } from '../support/cli.js';
import { DIALECTS, startTestApp, type TestApp } from '../support/app.js';



/** `latchkey portal set <slug> …` (SPEC §4, issue 11 item 6): details and policy; bad values refused, nothing changed. */
for (const dialect of DIALECTS) {
  describe(`latchkey portal set (${dialect})`, () => {
    let t: TestApp;
    let env: Record<string, string>;

    before(async () => {
      t = await startTestApp({ dialect, worker: false });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      const { config } = t.deps;
      env = { LATCHKEY_DATA_DIR: config.dataDir, LATCHKEY_DATABASE_URL: config.databaseUrl, LATCHKEY_SECRET: config.secret ?? '' };
    });
    after(() => t.close());

    const acme = () => t.deps.store.db.selectFrom('portals').selectAll().where('slug', '=', 'acme').executeTakeFirstOrThrow();

    it('sets the title, URL, support contact and the policy; audited as the operator', async () => {
      const run = await latchkey(env, ['portal', 'set', 'acme', '--title', 'Acme Inc', '--url', 'https://acme.example', '--support', 'help@acme.example', '--require-2fa', 'on', '--recovery-channels', 'admin,email', '--min-password-length', '14']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /portal acme updated/);
      const row = await acme();
      assert.equal(row.title, 'Acme Inc');
      assert.equal(row.url, 'https://acme.example');
      assert.equal(row.support_contact, 'help@acme.example');
      assert.equal(Number(row.require_2fa), 1);
      assert.equal(row.recovery_channels, 'email,admin');
      assert.equal(Number(row.min_password_length), 14);
      const audit = await t.deps.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'operator.portal.updated').execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_kind, 'operator');
    });

    it('refuses bad values and unknown portals, changing nothing', async () => {
      for (const args of [
        ['--require-2fa', 'maybe'],
        ['--recovery-channels', 'email,pigeon'],
        ['--min-password-length', '7'],
        ['--min-password-length', '257'],
        ['--min-password-length', 'ten'],
        ['--url', 'ftp://acme.example'],
      ]) {
        const run = await latchkey(env, ['portal', 'set', 'acme', ...args]);
        assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      }
      assert.equal((await latchkey(env, ['portal', 'set', 'nope', '--require-2fa', 'off'])).code, 1);
      const row = await acme();
      assert.equal(Number(row.require_2fa), 1);
      assert.equal(Number(row.min_password_length), 14);
      assert.equal(row.recovery_channels, 'email,admin');
      const off = await latchkey(env, ['portal', 'set', 'acme', '--require-2fa', 'off']);
      assert.equal(off.code, 0, off.stderr);
      assert.equal(Number((await acme()).require_2fa), 0);
    });
  });
}
