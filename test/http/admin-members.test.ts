import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };

for (const dialect of DIALECTS) {
  describe(`admin: member sessions, fire and re-activate (${dialect})`, () => {
    let t: TestApp;
    let anna: Account;
    let ivan: Account;
    let boris: Account;
    let vera: Account;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      anna = await addUser(t.deps, { login: 'anna', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      ivan = await addUser(t.deps, { login: 'ivan', email: 'ivan@example.com', password: PASSWORD, locale: 'ru', portals: [{ slug: 'acme', role: 'employee' }, { slug: 'globex', role: 'employee' }] });
      boris = await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'admin' }] });
      vera = await addUser(t.deps, { login: 'vera', email: 'vera@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
    });
    after(() => t.close());

    const signIn = async (login: string) => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password: PASSWORD } });
      assert.equal(answer.statusCode, 200, answer.body);
      return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
    };
    const api = (session: string, method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/v1/portals${url}`, headers: { ...(payload ? json : {}), origin: ORIGIN }, cookies: { lk_session: session }, ...(payload ? { payload } : {}) });
    const me = async (session: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } })).statusCode;
    const audit = async (action: string) =>
      t.deps.store.db.selectFrom('audit_events').select(['actor_account_id', 'target_account_id', 'actor_kind']).where('action', '=', action).execute();

    it("ends every session of a member's passport (all portals), audited; only the portal's admin may", async () => {
      const admin = await signIn('anna');
      const first = await signIn('ivan');
      const second = await signIn('ivan');
      const outsider = await signIn('boris');
      assert.equal((await api(outsider, 'DELETE', `/acme/users/${ivan.id}/sessions`)).statusCode, 403, "another portal's admin: forbidden");
      assert.equal((await api(first, 'DELETE', `/acme/users/${ivan.id}/sessions`)).statusCode, 403, 'an employee: forbidden');
      assert.equal((await api(admin, 'DELETE', `/acme/users/${boris.id}/sessions`)).statusCode, 404, 'not a member of acme: not_found');
      assert.equal(await me(first), 200);
      const noOrigin = await t.app.inject({ method: 'DELETE', url: `/api/v1/portals/acme/users/${ivan.id}/sessions`, cookies: { lk_session: admin } });
      assert.equal(noOrigin.statusCode, 403, 'CSRF: our Origin is required');

      const ended = await api(admin, 'DELETE', `/acme/users/${ivan.id}/sessions`);
      assert.equal(ended.statusCode, 204);
      assert.equal(await me(first), 401);
      assert.equal(await me(second), 401);
      assert.equal(await me(admin), 200);
      assert.equal(await me(outsider), 200);
      assert.deepEqual(await audit('admin.member.sessions_ended'), [{ actor_account_id: anna.id, target_account_id: ivan.id, actor_kind: 'admin' }]);
    });

    it('fires a member: gone from the chooser, /portals/<slug> refuses, other portals stay; re-activate restores; audited', async () => {
      const admin = await signIn('anna');
      const employee = await signIn('ivan');
      const chooser = async () => (await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: employee } })).json().portals.map((p: { slug: string }) => p.slug);
      assert.deepEqual(await chooser(), ['acme', 'globex']);
      assert.equal((await api(await signIn('boris'), 'PATCH', `/acme/users/${ivan.id}`, { status: 'fired' })).statusCode, 403, "another portal's admin cannot fire");
      assert.equal((await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { status: 'gone' })).statusCode, 400);

      const fired = await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { status: 'fired' });
      assert.equal(fired.statusCode, 200, fired.body);
      assert.equal(fired.json().user.status, 'fired');
      assert.deepEqual(await chooser(), ['globex'], 'the chooser no longer offers acme');
      assert.equal((await t.app.inject({ method: 'GET', url: '/portals/acme', cookies: { lk_session: employee } })).statusCode, 404, '/portals/acme refuses');
      assert.equal((await t.app.inject({ method: 'GET', url: '/portals/globex', cookies: { lk_session: employee } })).statusCode, 200, 'other portals stay');
      const page = await t.app.inject({ method: 'GET', url: '/portals', cookies: { lk_session: employee } });
      assert.doesNotMatch(page.body, /data-portal="acme"/);
      const listed = (await api(admin, 'GET', '/acme/users')).json().users.find((u: { login: string }) => u.login === 'ivan');
      assert.equal(listed?.status, 'fired', 'the admin still sees the fired member');
      assert.equal((await api(admin, 'GET', `/acme/users/${ivan.id}`)).json().user.status, 'fired');
      const recovery = await t.app.inject({ method: 'POST', url: `/api/v1/portals/acme/users/${ivan.id}/recovery`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: admin }, payload: { channel: 'email' } });
      assert.equal(recovery.statusCode, 404, 'no recovery link to a fired member');

      const back = await api(admin, 'PATCH', `/acme/users/${ivan.id}`, { status: 'active' });
      assert.equal(back.statusCode, 200);
      assert.equal(back.json().user.status, 'active');
      assert.deepEqual(await chooser(), ['acme', 'globex']);
      assert.equal((await t.app.inject({ method: 'GET', url: '/portals/acme', cookies: { lk_session: employee } })).statusCode, 200);
      assert.deepEqual(await audit('admin.member.fired'), [{ actor_account_id: anna.id, target_account_id: ivan.id, actor_kind: 'admin' }]);
      assert.deepEqual(await audit('admin.member.reactivated'), [{ actor_account_id: anna.id, target_account_id: ivan.id, actor_kind: 'admin' }]);
    });

    it('never fires oneself; never leaves the portal without an active admin (409 cannot_fire_self / last_admin)', async () => {
      const admin = await signIn('anna');
      const self = await api(admin, 'PATCH', `/acme/users/${anna.id}`, { status: 'fired' });
      assert.equal(self.statusCode, 409);
      assert.equal(self.json().code, 'cannot_fire_self');
      // Vera (another admin) fires Anna: allowed, one admin is left ...
      const veraSession = await signIn('vera');
      assert.equal((await api(veraSession, 'PATCH', `/acme/users/${anna.id}`, { status: 'fired' })).statusCode, 200);
      assert.equal((await api(admin, 'GET', '/acme/users')).statusCode, 403, 'a fired admin administers nothing');
      // ... and Vera, now the last one, cannot fire herself.
      const last = await api(veraSession, 'PATCH', `/acme/users/${vera.id}`, { status: 'fired' });
      assert.equal(last.statusCode, 409);
      assert.equal(last.json().code, 'last_admin');
      assert.equal((await api(veraSession, 'PATCH', `/acme/users/${anna.id}`, { status: 'active' })).statusCode, 200);
    });

    it('the console: fire, re-activate from the list, end sessions; the button says it signs out everywhere (ru and en)', async () => {
      const admin = await signIn('anna');
      const employee = await signIn('ivan');
      for (const lang of ['ru', 'en'] as const) {
        const profile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${ivan.id}?lang=${lang}`, cookies: { lk_session: admin } });
        assert.equal(profile.statusCode, 200);
        assert.match(profile.body, lang === 'ru' ? /Завершить все сеансы сотрудника, на всех порталах/ : /End all their sessions, on every portal/);
        assert.match(profile.body, lang === 'ru' ? /он выйдет везде, со всех порталов/ : /signs them out everywhere, on every portal/);
        assert.match(profile.body, lang === 'ru' ? /Уволить/ : /Fire/);
      }
      const profile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${ivan.id}`, cookies: { lk_session: admin } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(profile.body)?.[1] ?? '';
      const post = (url: string, payload: Record<string, string>) =>
        t.app.inject({ method: 'POST', url, headers: { origin: ORIGIN }, cookies: { lk_session: admin }, payload: { _csrf: csrf, ...payload } });

      const forged = await t.app.inject({ method: 'POST', url: `/admin/acme/users/${ivan.id}/status`, headers: { origin: ORIGIN }, cookies: { lk_session: admin }, payload: { status: 'fired' } });
      assert.equal(forged.statusCode, 403, 'no form token');
      const fire = await post(`/admin/acme/users/${ivan.id}/status`, { status: 'fired' });
      assert.equal(fire.statusCode, 303);
      const list = await t.app.inject({ method: 'GET', url: '/admin/acme/users?lang=en', cookies: { lk_session: admin } });
      assert.match(list.body, /data-login="ivan">.*fired.*data-testid="reactivate"/s);
      const reactivate = await post(`/admin/acme/users/${ivan.id}/status`, { status: 'active' });
      assert.equal(reactivate.headers.location, `/admin/acme/users/${ivan.id}?done=reactivated`);
      assert.equal(await me(employee), 200);
      const end = await post(`/admin/acme/users/${ivan.id}/sessions/end`, {});
      assert.equal(end.statusCode, 303);
      assert.equal(await me(employee), 401);
      const self = await post(`/admin/acme/users/${anna.id}/status`, { status: 'fired' });
      assert.equal(self.statusCode, 409);
      assert.match(self.body, /You cannot fire yourself/);
    });
  });
}
