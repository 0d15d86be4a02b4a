import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { latchkey } from '../support/cli.js';
import { DIALECTS, PASSWORD, startTestApp, type TestApp } from '../support/app.js';

/**
 * The operator's directory commands (SPEC §4, issue 14 item 11): user list|show|edit|unlock, portal
 * list|show, member add|remove|role, `--json` for scripts; exit codes and one-line errors as elsewhere.
 */

const json = { 'content-type': 'application/json' };

for (const dialect of DIALECTS) {
  describe(`latchkey user / portal / member directory (${dialect})`, () => {
    let t: TestApp;
    let env: Record<string, string>;

    before(async () => {
      // Rate limits stay on: `user unlock` is about them.
      t = await startTestApp({ dialect });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex', url: 'https://globex.example', support: 'help@globex.example' });
      await addUser(t.deps, { login: 'anna', email: 'anna@example.com', name: 'Анна Смирнова', password: PASSWORD, portals: [{ slug: 'acme', role: 'admin' }] });
      await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', phone: '+7 916 000-11-22', password: PASSWORD, portals: [{ slug: 'acme', role: 'employee' }] });
      await addUser(t.deps, { login: 'olga', password: PASSWORD });
      const { config } = t.deps;
      env = { LATCHKEY_DATA_DIR: config.dataDir, LATCHKEY_DATABASE_URL: config.databaseUrl, LATCHKEY_SECRET: config.secret ?? '' };
    });
    after(() => t.close());

    const run = async (args: string[], code = 0) => {
      const result = await latchkey(env, args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}${result.stdout}`);
      if (code !== 0) assert.match(result.stderr, /^latchkey: [^\n]+\n/, 'an error starts with one clear line');
      return result;
    };
    const parse = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

    it('user list and show: a table for people, one JSON document with stable keys for scripts', async () => {
      const table = await run(['user', 'list']);
      const lines = table.stdout.trim().split('\n');
      assert.match(lines[0] ?? '', /^LOGIN\s+STATUS\s+E-MAIL\s+PHONE\s+PORTALS\s+NAME$/);
      assert.match(lines[1] ?? '', /^anna\s+active\s+anna@example\.com\s+-\s+acme:admin\s+Анна Смирнова$/);
      assert.match(lines[3] ?? '', /^olga\s+active\s+-\s+-\s+-$/);

      const listed = parse((await run(['user', 'list', '--json'])).stdout);
      assert.equal(listed.total, 3);
      const users = listed.users as Array<Record<string, unknown>>;
      assert.deepEqual(users.map((u) => u.login), ['anna', 'ivan', 'olga']);
      assert.deepEqual(Object.keys(users[1] ?? {}), ['id', 'login', 'name', 'email', 'emailVerified', 'phone', 'phoneVerified', 'status', 'locale', 'createdAt', 'portals']);
      assert.deepEqual(users[1]?.portals, [{ portal: 'acme', role: 'employee', status: 'active' }]);
      assert.equal(users[1]?.phone, '+79160001122');

      const ofAcme = parse((await run(['user', 'list', '--portal', 'acme', '--json'])).stdout);
      assert.deepEqual((ofAcme.users as Array<{ login: string }>).map((u) => u.login), ['anna', 'ivan']);
      const limited = await run(['user', 'list', '--limit', '1']);
      assert.match(limited.stderr, /1 of 3 accounts shown/);
      await run(['user', 'list', '--portal', 'nowhere'], 1);
      await run(['user', 'list', '--limit', 'lots'], 1);

      const shown = parse((await run(['user', 'show', 'IVAN', '--json'])).stdout).user as Record<string, unknown>;
      assert.deepEqual(Object.keys(shown), ['id', 'login', 'name', 'email', 'emailVerified', 'phone', 'phoneVerified', 'status', 'locale', 'createdAt', 'portals', 'passwordSet', 'mustChangePassword', 'twoFactor', 'socialSignIns', 'updatedAt']);
      assert.equal(shown.passwordSet, true);
      assert.equal(shown.twoFactor, false);
      assert.doesNotMatch(JSON.stringify(shown), /argon2|hash/i, 'never a password hash');
      const text = await run(['user', 'show', 'ivan']);
      assert.match(text.stdout, /^e-mail:\s+ivan@example\.com$/m);
      assert.match(text.stdout, /^portals:\s+acme$/m);
      const missing = await run(['user', 'show', 'nobody'], 1);
      assert.equal(missing.stderr, 'latchkey: not_found: no account with login nobody\n');
    });

    it('user edit: name, contacts (verified; earlier links die), locale; taken and bad values refused', async () => {
      // An outstanding recovery link of ivan's, to see it die with the contact change (SPEC §7 rule 5).
      const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      assert.equal(asked.statusCode, 202);
      const ivan = await t.deps.store.db.selectFrom('accounts').select('id').where('login_key', '=', 'ivan').executeTakeFirstOrThrow();
      const liveTokens = () => t.deps.store.db.selectFrom('recovery_tokens').select('token_hash').where('account_id', '=', ivan.id).where('revoked_at', 'is', null).where('consumed_at', 'is', null).execute();
      for (let i = 0; i < 100 && (await liveTokens()).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
      assert.equal((await liveTokens()).length, 1, 'the worker issued the link');

      const edited = await run(['user', 'edit', 'ivan', '--name', 'Иван Петров', '--email', 'Ivan.Petrov@example.com', '--phone', '8 916 000-33-44', '--locale', 'en']);
      assert.match(edited.stdout, /user ivan updated: name, email, phone, locale; links and codes sent before were revoked/);
      assert.equal((await liveTokens()).length, 0, 'the link sent before the change is dead');
      const shown = parse((await run(['user', 'show', 'ivan', '--json'])).stdout).user as Record<string, unknown>;
      assert.deepEqual([shown.name, shown.email, shown.emailVerified, shown.phone, shown.phoneVerified, shown.locale], ['Иван Петров', 'Ivan.Petrov@example.com', true, '+79160003344', true, 'en']);
      assert.match((await run(['user', 'edit', 'ivan', '--name', 'Иван Петров'])).stdout, /nothing to change/);
      await run(['user', 'edit', 'ivan', '--phone', '']);
      assert.equal((parse((await run(['user', 'show', 'ivan', '--json'])).stdout).user as Record<string, unknown>).phone, null, 'an empty value removes the phone');

      const taken = await run(['user', 'edit', 'ivan', '--email', 'ANNA@example.com'], 1);
      assert.equal(taken.stderr, 'latchkey: invalid_request: e-mail ANNA@example.com is taken\n');
      assert.match((await run(['user', 'edit', 'ivan', '--email', 'not-an-address'], 1)).stderr, /email is not valid/);
      assert.match((await run(['user', 'edit', 'ivan', '--locale', 'de'], 1)).stderr, /--locale must be ru or en/);
      assert.match((await run(['user', 'edit', 'ivan'], 1)).stderr, /needs --name, --email, --phone or --locale/);
      const audit = await t.deps.store.db.selectFrom('audit_events').select(['actor_kind', 'detail']).where('action', '=', 'operator.account.edited').orderBy('at').execute();
      assert.deepEqual(audit.map((a) => `${a.actor_kind} ${a.detail}`), ['operator name,email,phone,locale', 'operator phone']);
    });

    it('portal list and show', async () => {
      const table = await run(['portal', 'list']);
      assert.match(table.stdout, /^SLUG\s+MEMBERS\s+ADMINS\s+URL\s+TITLE$/m);
      assert.match(table.stdout, /^acme\s+2\s+1\s+\/portals\/acme\s+Acme Corp$/m);
      const listed = parse((await run(['portal', 'list', '--json'])).stdout).portals as Array<Record<string, unknown>>;
      assert.deepEqual(listed.map((p) => p.slug), ['acme', 'globex']);
      assert.deepEqual(Object.keys(listed[0] ?? {}), ['id', 'slug', 'title', 'url', 'supportContact', 'createdAt', 'members', 'activeAdmins']);
      assert.deepEqual(listed[0]?.members, { active: 2, fired: 0, invited: 0 });
      const globex = parse((await run(['portal', 'show', 'globex', '--json'])).stdout).portal as Record<string, unknown>;
      assert.equal(globex.supportContact, 'help@globex.example');
      assert.deepEqual(globex.policy, { require2fa: false, recoveryChannels: ['email', 'phone', 'admin'], minPasswordLength: 8 });
      assert.deepEqual(globex.admins, []);
      assert.match((await run(['portal', 'show', 'acme'])).stdout, /^admins:\s+anna$/m);
      assert.equal((await run(['portal', 'show', 'nowhere'], 1)).stderr, 'latchkey: not_found: portal nowhere does not exist\n');
    });

    it('member add|role|remove: an existing passport joins a second portal; the last active admin stays', async () => {
      assert.match((await run(['user', 'add', '--login', 'ivan'], 1)).stderr, /login ivan is taken; to add that account to a portal: latchkey member add ivan --portal <slug>/);
      assert.match((await run(['member', 'add', 'ivan', '--portal', 'globex', '--role', 'admin'])).stdout, /ivan added to globex as admin/);
      const portals = () => run(['user', 'show', 'ivan', '--json']).then((r) => (parse(r.stdout).user as { portals: unknown }).portals);
      assert.deepEqual(await portals(), [
        { portal: 'acme', role: 'employee', status: 'active' },
        { portal: 'globex', role: 'admin', status: 'active' },
      ]);
      const signedIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: PASSWORD } });
      assert.deepEqual(signedIn.json().portals.map((p: { slug: string }) => p.slug).sort(), ['acme', 'globex'], 'the chooser offers both');
      assert.match((await run(['member', 'add', 'ivan', '--portal', 'globex'], 1)).stderr, /already a member of globex/);
      assert.match((await run(['member', 'add', 'nobody', '--portal', 'globex'], 1)).stderr, /no account with login nobody/);
      assert.match((await run(['member', 'add', 'ivan', '--portal', 'nowhere'], 1)).stderr, /portal nowhere does not exist/);
      assert.match((await run(['member', 'add', 'ivan', '--portal', 'globex', '--role', 'owner'], 1)).stderr, /--role must be admin or employee/);
      assert.match((await run(['member', 'add', 'ivan'], 1)).stderr, /needs <login> and --portal <slug>/);

      const last = await run(['member', 'role', 'ivan', '--portal', 'globex', '--role', 'employee'], 1);
      assert.equal(last.stderr, 'latchkey: last_admin: ivan is the last active admin of globex\n');
      assert.match((await run(['member', 'remove', 'ivan', '--portal', 'globex'], 1)).stderr, /last_admin/);
      assert.match((await run(['member', 'role', 'olga', '--portal', 'globex', '--role', 'admin'], 1)).stderr, /olga is not a member of globex/);
      await run(['member', 'add', 'olga', '--portal', 'globex', '--role', 'admin']);
      assert.match((await run(['member', 'role', 'ivan', '--portal', 'globex', '--role', 'employee'])).stdout, /ivan is now employee in globex/);
      assert.match((await run(['member', 'role', 'ivan', '--portal', 'globex', '--role', 'employee'])).stdout, /already employee/);
      assert.match((await run(['member', 'remove', 'ivan', '--portal', 'globex'])).stdout, /ivan removed from globex/);
      assert.deepEqual(await portals(), [{ portal: 'acme', role: 'employee', status: 'active' }]);
      const audit = await t.deps.store.db.selectFrom('audit_events').select(['action', 'detail']).where('action', 'like', 'operator.member.%').orderBy('at').execute();
      assert.deepEqual(audit.map((a) => `${a.action} ${a.detail}`), ['operator.member.added admin', 'operator.member.added admin', 'operator.member.role_changed employee', 'operator.member.removed employee']);
    });

    it('user unlock: a locked account is active again and its wrong-password budget counts afresh, on the running server too', async () => {
      const signIn = (password: string) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'olga', password } });
      for (let i = 0; i < 10; i += 1) assert.equal((await signIn('wrong-password-guess')).statusCode, 401);
      assert.equal((await signIn(PASSWORD)).statusCode, 429, 'the budget for olga from this client is spent');
      await t.deps.store.db.updateTable('accounts').set({ status: 'locked' }).where('login_key', '=', 'olga').execute();

      const unlocked = await run(['user', 'unlock', 'olga']);
      assert.match(unlocked.stdout, /user olga unlocked \(was locked\): wrong passwords and codes count afresh/);
      assert.equal((await signIn(PASSWORD)).statusCode, 200, 'the right password works at once, without a restart');
      const row = await t.deps.store.db.selectFrom('accounts').select('status').where('login_key', '=', 'olga').executeTakeFirstOrThrow();
      assert.equal(row.status, 'active');
      assert.match((await run(['user', 'unlock', 'olga'])).stdout, /^user olga unlocked: /);
      assert.match((await run(['user', 'unlock', 'nobody'], 1)).stderr, /no account with login nobody/);
      assert.equal((await t.deps.store.db.selectFrom('audit_events').select('id').where('action', '=', 'operator.account.unlocked').execute()).length, 2);
    });
  });
}
