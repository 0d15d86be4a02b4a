import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';

/**
 * The admin console of issue 14, item 10, through the API and the pages: role change (never the last active
 * admin), the member's name, the list's pages and filters, the audit log's filters (with the members'
 * self-service events) and its CSV export.
 */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const DAY = 24 * 3600 * 1000;

for (const dialect of DIALECTS) {
  describe(`admin console: roles, names, filters, audit export (${dialect})`, () => {
    let t: TestApp;
    const clock = new FakeClock(Date.parse('2026-11-20T09:00:00Z'));
    let anna: Account;
    let ivan: Account;
    let boris: Account;
    let olga: Account;

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      anna = await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'ru', name: 'Иван', portals: [{ slug: 'acme', role: 'employee' }] });
      boris = await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'admin' }] });
      olga = await addUser(t.deps, { login: 'olga', password: PASSWORD, portals: [{ slug: 'acme', role: 'employee' }] });
      // 30 more employees without passwords: 33 members, two pages of 25.
      for (let i = 0; i < 30; i += 1) await addUser(t.deps, { login: `worker${String(i).padStart(2, '0')}`, portals: [{ slug: 'acme', role: 'employee' }] });
    });
    after(() => t.close());

    const signIn = async (login: string, password = PASSWORD) => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password } });
      assert.equal(answer.statusCode, 200, answer.body);
      return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
    };
    const api = (session: string, method: 'GET' | 'PATCH', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/v1/portals${url}`, headers: { ...(payload ? json : {}), origin: ORIGIN }, cookies: { lk_session: session }, ...(payload ? { payload } : {}) });
    const page = (session: string, url: string) => t.app.inject({ method: 'GET', url, cookies: { lk_session: session } });
    const post = async (session: string, url: string, payload: Record<string, string>, lang = 'en') => {
      const form = await page(session, `/admin/acme/users/${ivan.id}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
      return t.app.inject({ method: 'POST', url: `${url}?lang=${lang}`, headers: { origin: ORIGIN }, cookies: { lk_session: session }, payload: { ...payload, _csrf: csrf } });
    };
    const audit = async (action: string) =>
      t.deps.store.db.selectFrom('audit_events').select(['actor_account_id', 'target_account_id', 'portal_id', 'detail']).where('action', '=', action).orderBy('at').execute();

    it('role: an admin promotes and demotes; the last active admin is never demoted (API 409, page message ru/en); audited', async () => {
      const admin = await signIn('anna');
      const employee = await signIn('olga');
      assert.equal((await api(employee, 'PATCH', `/acme/users/${ivan.id}`, { role: 'admin' })).statusCode, 403, 'an employee is refused');
      assert.equal((await api(await signIn('boris'), 'PATCH', `/acme/users/${ivan.id}`, { role: 'admin' })).statusCode, 403, "another portal's admin is refused");
      assert.equal((await api(admin, 'PATCH', `/acme/users/${boris.id}`, { role: 'admin' })).statusCode, 404, 'not a member: not_found');
      assert.equal((await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { role: 'owner' })).statusCode, 400);
      assert.equal((await api(admin, 'PATCH', `/acme/users/${ivan.id}`, {})).statusCode, 400, 'an empty change is a bad request');

      const refused = await api(admin, 'PATCH', `/acme/users/${anna.id}`, { role: 'employee' });
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(refused.json().code, 'last_admin');
      for (const [lang, text] of [['en', 'last active administrator'], ['ru', 'последний активный администратор']] as const) {
        const pageRefusal = await post(admin, `/admin/acme/users/${anna.id}/role`, { role: 'employee' }, lang);
        assert.equal(pageRefusal.statusCode, 409);
        assert.match(pageRefusal.body, new RegExp(text));
        assert.match(pageRefusal.body, /data-testid="form-error"/);
      }

      const promoted = await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { role: 'admin' });
      assert.equal(promoted.statusCode, 200, promoted.body);
      assert.equal(promoted.json().user.role, 'admin');
      const ivanSession = await signIn('ivan');
      assert.equal((await api(ivanSession, 'GET', '/acme/users')).statusCode, 200, 'the new admin administers');
      // With two admins, anna may step down; then ivan is the last one.
      const viaPage = await post(admin, `/admin/acme/users/${anna.id}/role`, { role: 'employee' });
      assert.equal(viaPage.statusCode, 303);
      assert.equal(viaPage.headers.location, '/portals', 'an admin who stepped down goes back to their portals');
      assert.equal((await api(admin, 'GET', '/acme/users')).statusCode, 403, 'anna administers no more');
      assert.equal((await api(ivanSession, 'PATCH', `/acme/users/${ivan.id}`, { role: 'employee' })).json().code, 'last_admin');
      // Put anna back for the other tests.
      assert.equal((await api(ivanSession, 'PATCH', `/acme/users/${anna.id}`, { role: 'admin' })).statusCode, 200);
      assert.equal((await api(ivanSession, 'PATCH', `/acme/users/${ivan.id}`, { role: 'employee' })).statusCode, 200);

      const rows = await audit('admin.member.role_changed');
      assert.deepEqual(
        rows.map((r) => [r.actor_account_id, r.target_account_id, r.detail]),
        [
          [anna.id, ivan.id, 'admin'],
          [anna.id, anna.id, 'employee'],
          [ivan.id, anna.id, 'admin'],
          [ivan.id, ivan.id, 'employee'],
        ],
      );
      assert.ok(rows.every((r) => r.portal_id !== null));
    });

    it("name: the admin edits a member's name (API and page), bad names are a 400 naming the field; audited", async () => {
      const admin = await signIn('anna');
      const renamed = await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { name: '  Иван Петров  ' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal(renamed.json().user.name, 'Иван Петров');
      for (const name of ['x'.repeat(201), 'two\nlines']) {
        const bad = await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { name });
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().field, 'name');
      }
      const viaPage = await post(admin, `/admin/acme/users/${ivan.id}/name`, { name: 'Ivan <Petrov>' });
      assert.equal(viaPage.statusCode, 303);
      const shown = await page(admin, String(viaPage.headers.location));
      assert.match(shown.body, /Ivan &lt;Petrov&gt;/);
      assert.match(shown.body, /The name was saved/);
      const tooLong = await post(admin, `/admin/acme/users/${ivan.id}/name`, { name: 'y'.repeat(300) }, 'ru');
      assert.equal(tooLong.statusCode, 400);
      assert.match(tooLong.body, /Имя слишком длинное/);
      assert.equal((await audit('admin.member.renamed')).length, 2, 'one row per change');
    });

    it('list: pages of 25 with next/prev, filters by role and status, with the search', async () => {
      const admin = await signIn('anna');
      const first = (await api(admin, 'GET', '/acme/users')).json();
      assert.equal(first.total, 33);
      assert.equal(first.users.length, 25);
      const second = (await api(admin, 'GET', '/acme/users?page=2')).json();
      assert.equal(second.users.length, 8);
      const logins = [...first.users, ...second.users].map((u: { login: string }) => u.login);
      assert.equal(new Set(logins).size, 33, 'no member on two pages');

      const admins = (await api(admin, 'GET', '/acme/users?role=admin')).json();
      assert.deepEqual(admins.users.map((u: { login: string }) => u.login), ['anna']);
      assert.equal((await api(admin, 'PATCH', `/acme/users/${olga.id}`, { status: 'fired' })).statusCode, 200);
      const fired = (await api(admin, 'GET', '/acme/users?status=fired')).json();
      assert.deepEqual(fired.users.map((u: { login: string }) => u.login), ['olga']);
      assert.equal((await api(admin, 'GET', '/acme/users?status=active')).json().total, 32);
      assert.equal((await api(admin, 'GET', '/acme/users?status=active&role=employee&query=worker1')).json().total, 10);
      assert.equal((await api(admin, 'GET', '/acme/users?role=owner')).statusCode, 400);
      assert.equal((await api(admin, 'PATCH', `/acme/users/${olga.id}`, { status: 'active' })).statusCode, 200);

      const pageOne = await page(admin, '/admin/acme/users?lang=ru');
      assert.match(pageOne.body, /Найдено: 33/);
      const next = /href="([^"]+)" data-testid="next"/.exec(pageOne.body)?.[1]?.replace(/&amp;/g, '&') ?? '';
      assert.match(next, /page=2/);
      const pageTwo = await page(admin, next);
      assert.equal((pageTwo.body.match(/<tr data-login=/g) ?? []).length, 8);
      assert.match(pageTwo.body, /data-testid="prev"/);
      assert.doesNotMatch(pageTwo.body, /data-testid="next"/);
      const filtered = await page(admin, '/admin/acme/users?role=admin&lang=en');
      assert.equal((filtered.body.match(/<tr data-login=/g) ?? []).length, 1);
      assert.match(filtered.body, /<option value="admin" selected>administrators/);
    });

    it("audit: members' self-service events (not other people's), filters by action, member and days; bad days are a 400", async () => {
      clock.advance(2 * DAY); // 2026-11-22
      await signIn('ivan');
      const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login: 'ivan', password: 'not-the-password' } });
      assert.equal(wrong.statusCode, 401);
      await signIn('boris'); // not a member of acme: never in its log
      clock.advance(2 * DAY); // 2026-11-24
      await signIn('ivan');
      const admin = await signIn('anna');

      const all = (await api(admin, 'GET', '/acme/audit?action=signin.succeeded')).json().events as Array<{ target_login: string; at: string }>;
      assert.ok(all.some((e) => e.target_login === 'ivan'), "a member's sign-in is in the portal's log");
      assert.ok(!all.some((e) => e.target_login === 'boris'), "a non-member's sign-in is not");
      const globex = (await api(await signIn('boris'), 'GET', '/globex/audit?action=signin.succeeded')).json().events as Array<{ target_login: string }>;
      assert.ok(!globex.some((e) => e.target_login === 'ivan'), "acme's member is not in globex's log");

      const ivans = (await api(admin, 'GET', '/acme/audit?action=signin.succeeded&login=ivan&from=2026-11-21')).json().events as Array<{ at: string }>;
      assert.deepEqual(ivans.map((e) => e.at.slice(0, 10)), ['2026-11-24', '2026-11-22']);
      const day22 = (await api(admin, 'GET', '/acme/audit?login=IVAN&from=2026-11-22&to=2026-11-22')).json().events as Array<{ action: string; at: string }>;
      assert.deepEqual(day22.map((e) => e.action).sort(), ['signin.failed', 'signin.succeeded']);
      assert.ok(day22.every((e) => e.at.startsWith('2026-11-22')));
      const since23 = (await api(admin, 'GET', '/acme/audit?login=ivan&from=2026-11-23')).json().events as Array<{ at: string }>;
      assert.ok(since23.length > 0 && since23.every((e) => e.at >= '2026-11-23'));
      for (const bad of ['from=2026-02-30', 'to=yesterday']) {
        const answer = await api(admin, 'GET', `/acme/audit?${bad}`);
        assert.equal(answer.statusCode, 400, bad);
        assert.equal(answer.json().field, bad.split('=')[0]);
      }
      assert.equal((await api(await signIn('olga'), 'GET', '/acme/audit')).statusCode, 403, 'an employee is refused');

      const ru = await page(admin, '/admin/acme/audit?login=ivan&action=signin.failed&lang=ru');
      assert.match(ru.body, /не смог войти/);
      assert.match(ru.body, /неверный пароль/);
      assert.doesNotMatch(ru.body, /wrong_password/);
      assert.match(ru.body, /href="\/admin\/acme\/audit\.csv\?action=signin\.failed&amp;login=ivan"/);
      const badDay = await page(admin, '/admin/acme/audit?from=2026-13-01&lang=en');
      assert.equal(badDay.statusCode, 400);
      assert.match(badDay.body, /year-month-day/);
    });

    it('audit export: CSV with a header, RFC 4180 quoting and formula cells defused; the filters apply; admins only', async () => {
      const admin = await signIn('anna');
      // Whatever an event holds, the export must not hand a spreadsheet a formula.
      await t.deps.store.db
        .insertInto('audit_events')
        .values({ id: 'evil-1', at: clock.now().toISOString(), actor_account_id: ivan.id, actor_kind: 'self', action: 'test.evil', target_account_id: ivan.id, portal_id: (await t.deps.store.db.selectFrom('portals').select('id').where('slug', '=', 'acme').executeTakeFirstOrThrow()).id, ip: '127.0.0.1', detail: '=HYPERLINK("http://evil.example","x"), more' })
        .execute();
      const csv = await t.app.inject({ method: 'GET', url: '/admin/acme/audit.csv?action=test.evil', cookies: { lk_session: admin } });
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      assert.match(String(csv.headers['content-disposition']), /attachment; filename="audit-acme-2026-11-24\.csv"/);
      const lines = csv.body.replace(/^\uFEFF/, '').split('\r\n');
      assert.equal(lines[0], 'at,action,actor,target,ip,detail');
      assert.equal(lines[1], `${clock.now().toISOString()},test.evil,ivan,ivan,127.0.0.1,"'=HYPERLINK(""http://evil.example"",""x""), more"`);
      assert.equal(lines.length, 3, 'one event, then the final line break');

      const viaApi = await api(admin, 'GET', '/acme/audit.csv?login=ivan&action=signin.failed');
      assert.equal(viaApi.statusCode, 200);
      const rows = viaApi.body.replace(/^\uFEFF/, '').trim().split('\r\n').slice(1);
      assert.ok(rows.length >= 1 && rows.every((r) => r.split(',')[1] === 'signin.failed'));
      assert.equal((await api(await signIn('olga'), 'GET', '/acme/audit.csv')).statusCode, 403);
      assert.equal((await page(await signIn('boris'), '/admin/acme/audit.csv')).statusCode, 403);
    });
  });
}
