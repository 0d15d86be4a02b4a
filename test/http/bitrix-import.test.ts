import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { importBitrixUsers, type BitrixImportReport } from '../../src/flows/import-bitrix.js';
import { addPortal, addUser } from '../../src/flows/operator.js';
import { DIALECTS, startTestApp, type TestApp } from '../support/app.js';
import { bitrixBareMd5, bitrixSaltedMd5, bitrixSha512 } from '../support/bitrix-hashes.js';

/**
 * Moving in from Bitrix (issue 15, item 2): a CSV export of `b_user` becomes accounts and memberships with
 * the Bitrix hashes kept as they are; the first sign-in verifies the Bitrix hash and replaces it with argon2id.
 */

const json = { 'content-type': 'application/json' };
const PASSWORDS = { olga: 'olga-bitrix-sha512', petr: 'petr,salted;md5', ivan: 'иван-голый-md5' };

for (const dialect of DIALECTS) {
  describe(`import bitrix (${dialect})`, () => {
    let t: TestApp;
    let report: BitrixImportReport;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme' });
      await addUser(t.deps, { login: 'taken', email: 'taken@example.com' });
      // Bitrix's Russian export: a BOM, `;` between fields, quotes where a field holds one.
      const rows = [
        ['LOGIN', 'EMAIL', 'PERSONAL_MOBILE', 'NAME', 'LAST_NAME', 'PASSWORD', 'ACTIVE', 'EMAIL_VERIFIED', 'PHONE_VERIFIED'],
        ['olga', 'olga@example.com', '+7 916 000-11-22', 'Ольга', 'Петрова; мл.', bitrixSha512(PASSWORDS.olga), 'Y', 'Y', 'Y'],
        ['petr', 'Petr@Example.com', '', 'Пётр', '"Камень"', bitrixSaltedMd5(PASSWORDS.petr), 'Y', 'N', ''],
        ['ivan', '', '8 (916) 000-33-44', 'Ivan', '', bitrixBareMd5(PASSWORDS.ivan), 'Y', '', 'N'],
        ['fired', 'fired@example.com', '', '', '', bitrixBareMd5('whatever-it-was'), 'N', 'Y', ''],
        ['nopass', 'nopass@example.com', '', '', '', '', 'Y', 'Y', ''],
        ['OLGA', 'other@example.com', '', '', '', '', 'Y', '', ''],
        ['taken', 'x@example.com', '', '', '', '', 'Y', '', ''],
        ['sasha', 'taken@example.com', '', '', '', '', 'Y', '', ''],
        ['lena', 'not-an-address', '', '', '', '', 'Y', '', ''],
        ['misha', '', '12', '', '', '', 'Y', '', ''],
        ['kolya', '', '', '', '', '$2y$10$notbitrixnotbitrixnotbi', 'Y', '', ''],
        ['1bad', '', '', '', '', '', 'Y', '', ''],
        ['short', 'short@example.com'],
        ['yura', '', '', '', '', '', 'maybe', '', ''],
      ];
      const quote = (field: string) => (/[;"\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field);
      const csv = '\uFEFF' + rows.map((row) => row.map(quote).join(';')).join('\r\n') + '\r\n';
      report = await importBitrixUsers(t.deps, { csv, portalSlug: 'acme' });
    });
    after(() => t.close());

    const signIn = (login: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
    const account = (login: string) => t.deps.store.db.selectFrom('accounts').selectAll().where('login_key', '=', login.toLowerCase()).executeTakeFirstOrThrow();

    it('imports the good lines and refuses the others with line and reason', () => {
      assert.equal(report.imported, 5);
      assert.equal(report.disabled, 1);
      assert.equal(report.withoutPassword, 1);
      assert.deepEqual(report.bareMd5, ['ivan', 'fired']);
      assert.deepEqual(
        report.refused.map((r) => [r.line, r.login, r.reason]),
        [
          [7, 'OLGA', 'login repeats line 2'],
          [8, 'taken', 'login taken is taken'],
          [9, 'sasha', 'e-mail taken@example.com is taken'],
          [10, 'lena', 'EMAIL is not a valid address'],
          [11, 'misha', 'PERSONAL_MOBILE is not a valid phone number'],
          [12, 'kolya', 'PASSWORD is none of the hash forms Bitrix writes'],
          [13, '1bad', 'LOGIN: 2-64 letters, digits, . _ -, starting with a letter'],
          [14, 'short', '2 fields, the header has 9'],
          [15, 'yura', 'ACTIVE must be Y or N'],
        ],
      );
    });

    it('keeps names, normalises contacts, verifies them only when the file says so, and makes members', async () => {
      const olga = await account('olga');
      assert.equal(olga.name, 'Ольга Петрова; мл.');
      assert.equal(olga.phone, '+79160001122');
      assert.ok(olga.email_verified_at && olga.phone_verified_at);
      assert.match(olga.password_hash ?? '', /^bitrix:\$6\$/);
      const petr = await account('petr');
      assert.equal(petr.name, 'Пётр "Камень"');
      assert.equal(petr.email_key, 'petr@example.com');
      assert.equal(petr.email_verified_at, null);
      const ivan = await account('ivan');
      assert.equal(ivan.phone, '+79160003344');
      assert.equal(ivan.phone_verified_at, null);
      assert.equal((await account('fired')).status, 'disabled');
      assert.equal((await account('nopass')).password_hash, null);
      const members = await t.deps.store.db
        .selectFrom('memberships')
        .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
        .innerJoin('portals', 'portals.id', 'memberships.portal_id')
        .select(['accounts.login', 'memberships.role', 'memberships.status'])
        .where('portals.slug', '=', 'acme')
        .orderBy('accounts.login')
        .execute();
      assert.deepEqual(members.map((m) => `${m.login}:${m.role}:${m.status}`), ['fired:employee:active', 'ivan:employee:active', 'nopass:employee:active', 'olga:employee:active', 'petr:employee:active']);
    });

    it('each Bitrix form signs in once by its hash, which is then argon2id; a wrong password is invalid_credentials', async () => {
      for (const [login, password] of Object.entries(PASSWORDS)) {
        const wrong = await signIn(login, `${password}!`);
        assert.equal(wrong.statusCode, 401, login);
        assert.equal(wrong.json().code, 'invalid_credentials');
        assert.match((await account(login)).password_hash ?? '', /^bitrix:/, `${login}: a wrong password changes nothing`);
        const first = await signIn(login, password);
        assert.equal(first.statusCode, 200, `${login}: ${first.body}`);
        assert.deepEqual(first.json().portals.map((p: { slug: string }) => p.slug), ['acme']);
        assert.match((await account(login)).password_hash ?? '', /^\$argon2id\$/, `${login}: rehashed`);
        assert.equal((await signIn(login, password)).statusCode, 200, `${login}: the password still works`);
        assert.equal((await signIn(login, `${password}!`)).json().code, 'invalid_credentials');
      }
      const rehashed = await t.deps.store.db.selectFrom('audit_events').select(['action', 'detail']).where('action', '=', 'password.rehashed').execute();
      assert.equal(rehashed.length, 3);
    });

    it('a disabled import does not sign in, its right password answering like a wrong one', async () => {
      const fired = await signIn('fired', 'whatever-it-was');
      assert.equal(fired.statusCode, 401);
      assert.equal(fired.json().code, 'invalid_credentials');
      assert.match((await account('fired')).password_hash ?? '', /^bitrix:/);
    });

    it('importing the same file again refuses every line as taken and creates nothing', async () => {
      const before = await t.deps.store.db.selectFrom('accounts').select('id').execute();
      const again = await importBitrixUsers(t.deps, { csv: `LOGIN,EMAIL\nolga,\nnew1,olga@example.com\n`, portalSlug: 'acme' });
      assert.equal(again.imported, 0);
      assert.deepEqual(again.refused.map((r) => r.reason), ['login olga is taken', 'e-mail olga@example.com is taken']);
      assert.equal((await t.deps.store.db.selectFrom('accounts').select('id').execute()).length, before.length);
    });

    it('a line the database refuses mid-batch leaves no half account; the rest of its batch still comes in', async () => {
      // The audit row is the last thing an account's line writes: refusing it proves the account and the
      // membership written before it are rolled back with it.
      const db = t.deps.store.db;
      if (dialect === 'sqlite') {
        await sql`create trigger refuse_boom before insert on audit_events when new.target_account_id in (select id from accounts where login_key = 'boom') begin select raise(abort, 'boom refused'); end`.execute(db);
      } else {
        await sql`create function refuse_boom() returns trigger as $$ begin if new.target_account_id in (select id from accounts where login_key = 'boom') then raise exception 'boom refused'; end if; return new; end $$ language plpgsql`.execute(db);
        await sql`create trigger refuse_boom before insert on audit_events for each row execute function refuse_boom()`.execute(db);
      }
      try {
        const result = await importBitrixUsers(t.deps, { csv: 'LOGIN,EMAIL\nbefore1,b1@example.com\nboom,boom@example.com\nafter1,a1@example.com\n', portalSlug: 'acme' });
        assert.equal(result.imported, 2);
        assert.deepEqual(result.refused.map((r) => [r.line, r.login]), [[3, 'boom']]);
        assert.match(result.refused[0]?.reason ?? '', /^not stored: .*boom refused/);
      } finally {
        await sql`drop trigger refuse_boom${sql.raw(dialect === 'postgres' ? ' on audit_events' : '')}`.execute(db);
        if (dialect === 'postgres') await sql`drop function refuse_boom()`.execute(db);
      }
      assert.equal(await db.selectFrom('accounts').select('id').where('login_key', '=', 'boom').executeTakeFirst(), undefined);
      assert.equal((await db.selectFrom('accounts').select('id').where('login_key', 'in', ['before1', 'after1']).execute()).length, 2);
      const orphans = await db.selectFrom('memberships').leftJoin('accounts', 'accounts.id', 'memberships.account_id').select('memberships.account_id').where('accounts.id', 'is', null).execute();
      assert.deepEqual(orphans, []);
    });

    it('refuses a file without a LOGIN column and an unknown portal, importing nothing', async () => {
      await assert.rejects(importBitrixUsers(t.deps, { csv: 'EMAIL\nx@example.com\n' }), /LOGIN/);
      await assert.rejects(importBitrixUsers(t.deps, { csv: 'LOGIN\nnewbie\n', portalSlug: 'nowhere' }), /portal nowhere does not exist/);
      assert.equal(await t.deps.store.db.selectFrom('accounts').select('id').where('login_key', '=', 'newbie').executeTakeFirst(), undefined);
    });
  });
}
