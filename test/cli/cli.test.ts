import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeps } from '../../src/deps.js';
import { loadConfig } from '../../src/config.js';
import { signIn } from '../../src/flows/sign-in.js';
import { insertSocialIdentity } from '../../src/store/social-identities.repo.js';
import { DIALECTS } from '../support/app.js';
import { latchkey } from '../support/cli.js';
import { createTestDatabase } from '../support/pg.js';
import pino from 'pino';
import { sql } from 'kysely';

for (const dialect of DIALECTS) {
  describe(`CLI (${dialect})`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-'));
      const pgDb = dialect === 'postgres' ? await createTestDatabase() : undefined;
      env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_DATABASE_URL: pgDb?.url ?? `sqlite:${path.join(dir, 'db.sqlite')}` };
      cleanup = async () => {
        await pgDb?.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    const signInWorks = async (login: string, password: string) => {
      const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      try {
        await signIn(deps, { login, password }, { ip: '127.0.0.1' });
        return true;
      } catch {
        return false;
      } finally {
        await deps.close();
      }
    };

    it('migrate, portal add, user add with a password from stdin, set-password', async () => {
      const migrate = await latchkey(env, ['migrate']);
      assert.equal(migrate.code, 0, migrate.stderr);
      assert.match(migrate.stdout, /001_initial|up to date/);
      const portal = await latchkey(env, ['portal', 'add', 'acme', '--title', 'Acme Corp', '--support', 'help@acme.example']);
      assert.equal(portal.code, 0, portal.stderr);
      const user = await latchkey(env, ['user', 'add', '--login', 'olga', '--email', 'olga@example.com', '--phone', '+7 916 000-11-22', '--password-stdin', '--portal', 'acme:admin'], { stdin: 'first-secret-phrase-1\n' });
      assert.equal(user.code, 0, user.stderr);
      assert.ok(await signInWorks('olga', 'first-secret-phrase-1'));
      const reset = await latchkey(env, ['user', 'set-password', 'olga', '--password-stdin'], { stdin: 'second-secret-phrase-2\n' });
      assert.equal(reset.code, 0, reset.stderr);
      assert.ok(!(await signInWorks('olga', 'first-secret-phrase-1')));
      assert.ok(await signInWorks('olga', 'second-secret-phrase-2'));
      const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      try {
        // The sign-ins this test made are audited too; the CLI's own events are these.
        const audit = (await sql<{ action: string; actor_kind: string }>`select action, actor_kind from audit_events where action not like 'signin.%' order by at`.execute(deps.store.db)).rows;
        assert.deepEqual(audit.map((a) => `${a.actor_kind}:${a.action}`), ['operator:account.created', 'operator:password.changed']);
      } finally {
        await deps.close();
      }
    });

    it('refuses bad input with one clear line and a non-zero code', async () => {
      const weak = await latchkey(env, ['user', 'set-password', 'olga', '--password-stdin'], { stdin: 'password1\n' });
      assert.equal(weak.code, 1);
      assert.match(weak.stderr, /^latchkey: weak_password: common\n$/);
      const taken = await latchkey(env, ['user', 'add', '--login', 'OLGA']);
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, /login OLGA is taken/);
      const missingPortal = await latchkey(env, ['user', 'add', '--login', 'petr', '--portal', 'nowhere']);
      assert.equal(missingPortal.code, 1);
      assert.match(missingPortal.stderr, /portal nowhere does not exist/);
      const unknown = await latchkey(env, ['frobnicate']);
      assert.equal(unknown.code, 1);
      const badSetting = await latchkey({ ...env, LATCHKEY_EDITION: 'cluod' }, ['migrate']);
      assert.equal(badSetting.code, 1);
      assert.match(badSetting.stderr, /latchkey: LATCHKEY_EDITION: "cluod" is not one of cloud, box/);
    });

    it('support lists and unlinks social sign-ins, never the last way in', async () => {
      const added = await latchkey(env, ['user', 'add', '--login', 'vera', '--email', 'vera@example.com']);
      assert.equal(added.code, 0, added.stderr);
      const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      try {
        const vera = await deps.store.db.selectFrom('accounts').select('id').where('login_key', '=', 'vera').executeTakeFirstOrThrow();
        const at = new Date().toISOString();
        for (const [id, provider, issuer] of [['i-vk', 'vk', 'https://id.vk.com'], ['i-ya', 'yandex', 'https://oauth.yandex.ru']] as const) {
          await insertSocialIdentity(deps.store.db, { id, account_id: vera.id, provider, issuer, subject: `${provider}-42`, email: null, created_at: at, last_used_at: null });
        }
      } finally {
        await deps.close();
      }
      const listed = await latchkey(env, ['user', 'sign-in-methods', 'vera']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^password: not set$/m);
      assert.match(listed.stdout, /^vk: https:\/\/id\.vk\.com vk-42/m);
      assert.match(listed.stdout, /^yandex: https:\/\/oauth\.yandex\.ru yandex-42/m);
      const unlinked = await latchkey(env, ['user', 'unlink', 'vera', '--provider', 'vk']);
      assert.equal(unlinked.code, 0, unlinked.stderr);
      assert.match(unlinked.stdout, /1 vk sign-in\(s\) unlinked from vera/);
      const last = await latchkey(env, ['user', 'unlink', 'vera', '--provider', 'yandex']);
      assert.equal(last.code, 1);
      assert.match(last.stderr, /latchkey: last_sign_in_method/);
      const none = await latchkey(env, ['user', 'unlink', 'vera', '--provider', 'vk']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /has no vk sign-in/);
      const after = await latchkey(env, ['user', 'sign-in-methods', 'vera']);
      assert.doesNotMatch(after.stdout, /^vk:/m);
      assert.match(after.stdout, /^yandex:/m);
    });

    it('demo prints accounts that can sign in, and can run again', async () => {
      const secrets: string[] = [];
      for (let run = 0; run < 2; run += 1) {
        const demo = await latchkey(env, ['demo']);
        // The example application's client, registered once: the second run prints the same secret, and
        // the command to start the example.
        const app = /client_id=portal-app client_secret=(\S+)/.exec(demo.stdout);
        assert.ok(app, demo.stdout);
        secrets.push(app[1] ?? '');
        assert.match(demo.stdout, new RegExp(`LATCHKEY_ISSUER=http://localhost:3000 CLIENT_ID=portal-app CLIENT_SECRET=${app[1]} PORT=4000 APP_URL=http://localhost:4000 npx tsx examples/portal-app/server.ts`));
        assert.equal(demo.code, 0, demo.stderr);
        assert.match(demo.stdout, /login anna/);
        assert.match(demo.stdout, /\/dev\/outbox/);
        // The SMS flow needs a number to enter: boris's, with where to read the code.
        assert.match(demo.stdout, /login boris .*phone \+7 916 123-45-67/);
        assert.match(demo.stdout, /\/recover\/phone, enter boris's number \+7 916 123-45-67, then the code\nshown at \S+\/dev\/outbox/);
        assert.match(demo.stdout, /\(en, acme admin, globex\)/);
      }
      assert.equal(secrets[0], secrets[1]);
      const clients = await latchkey(env, ['client', 'list']);
      assert.match(clients.stdout, /^portal-app portal=acme confidential redirect_uris=http:\/\/localhost:4000\/callback /m);
      const demo = await latchkey(env, ['demo']);
      const [, login, password] = /login (\w+)\s+or \S+\s+password (\S+)/.exec(demo.stdout) ?? [];
      assert.ok(login && password);
      assert.ok(await signInWorks(login, password));
    });
  });
}

describe('CLI in the box edition', () => {
  it('the operator sets a password there too, and it is audited', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-box-'));
    const env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, LATCHKEY_EDITION: 'box' };
    try {
      const user = await latchkey(env, ['user', 'add', '--login', 'mila', '--email', 'mila@example.com', '--portal', 'company:admin']);
      assert.equal(user.code, 0, user.stderr);
      const reset = await latchkey(env, ['user', 'set-password', 'mila', '--password-stdin'], { stdin: 'box-operator-phrase-5\n' });
      assert.equal(reset.code, 0, reset.stderr);
      const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      try {
        const result = await signIn(deps, { login: 'mila', password: 'box-operator-phrase-5' }, { ip: '127.0.0.1' });
        assert.equal(result.kind, 'session');
        assert.deepEqual(result.kind === 'session' ? result.portals.map((p) => p.slug) : [], ['company']);
        const audit = (await sql<{ action: string; actor_kind: string }>`select action, actor_kind from audit_events where action = 'password.changed'`.execute(deps.store.db)).rows;
        assert.deepEqual(audit, [{ action: 'password.changed', actor_kind: 'operator' }]);
      } finally {
        await deps.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('demo in the box edition', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-box-demo-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('uses the box portal, makes anna its admin, and prints the demo phone number', async () => {
    const env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_EDITION: 'box', LATCHKEY_BOX_PORTAL_SLUG: 'office', LATCHKEY_BOX_PORTAL_TITLE: 'Head office' };
    const demo = await latchkey(env, ['demo']);
    assert.equal(demo.code, 0, demo.stderr);
    assert.match(demo.stdout, /Edition: box\. Demo portal: Head office \(office\)/);
    assert.match(demo.stdout, /\(en, office admin\)/);
    assert.match(demo.stdout, /\/admin\/office\/users/);
    assert.match(demo.stdout, /phone \+7 916 123-45-67/);
    assert.match(demo.stdout, /checkword link/);
    // The box edition texts nobody unless a gateway is configured: the demo says so, and how to turn it on.
    assert.match(demo.stdout, /Phone recovery is off: .*LATCHKEY_SMS_PROVIDER=dev/);
    const deps = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
    try {
      const portals = (await deps.store.db.selectFrom('portals').select('slug').execute()).map((p) => p.slug);
      assert.deepEqual(portals, ['office']);
      const result = await signIn(deps, { login: 'anna', password: 'orange-kettle-51' }, { ip: '127.0.0.1' });
      assert.deepEqual(result.kind === 'session' ? result.portals.map((p) => p.slug) : [], ['office']);
      const roles = await deps.store.db
        .selectFrom('memberships')
        .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
        .select(['accounts.login', 'memberships.role'])
        .orderBy('accounts.login')
        .execute();
      assert.deepEqual(roles, [{ login: 'anna', role: 'admin' }, { login: 'boris', role: 'employee' }]);
    } finally {
      await deps.close();
    }
    const withTexts = await latchkey({ ...env, LATCHKEY_SMS_PROVIDER: 'dev' }, ['demo']);
    assert.equal(withTexts.code, 0, withTexts.stderr);
    assert.match(withTexts.stdout, /\/recover\/phone, enter boris's number \+7 916 123-45-67/);
  });
});
