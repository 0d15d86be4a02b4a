import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addPortal, addUser } from '../../src/flows/operator.js';
import type { Account } from '../../src/store/schema.js';
import { DIALECTS, PASSWORD, cookieFrom, startTestApp, type TestApp } from '../support/app.js';
import { FakeClock } from '../support/clock.js';
import { TestSmsGateway } from '../support/sms-gateway.js';
import { TestSmtpServer } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

/**
 * Invitations with consent (SPEC §5, §7 rules 13 and 22): the admin's answer is the same for every contact,
 * an existing passport joins only by accepting while signed in, and until then no admin list, search or
 * action reaches it. Real SMTP server and SMS gateway, both databases, time moved by a FakeClock.
 */

const ORIGIN = 'http://localhost:3000';
const json = { 'content-type': 'application/json' };
const acceptTokenIn = (text: string) => /https?:\/\/\S+\/invitations\/([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';
const setPasswordTokenIn = (text: string) => /https?:\/\/\S+\/recover\/email\/([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';

for (const dialect of DIALECTS) {
  describe(`invitations with consent (${dialect})`, () => {
    const smtp = new TestSmtpServer();
    const gateway = new TestSmsGateway();
    const clock = new FakeClock();
    let t: TestApp;
    let vera: Account;
    let petra: Account;
    let adminSession: string;

    const signIn = async (login: string) => {
      const answer = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: json, payload: { login, password: PASSWORD } });
      assert.equal(answer.statusCode, 200, answer.body);
      return cookieFrom(answer.headers['set-cookie'], 'lk_session') ?? '';
    };
    const asAdmin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      t.app.inject({ method, url: `/api/v1/portals/acme${url}`, headers: payload ? { ...json, origin: ORIGIN } : { origin: ORIGIN }, cookies: { lk_session: adminSession }, ...(payload ? { payload } : {}) });
    const invite = (payload: object) => asAdmin('POST', '/users', payload);
    const listedLogins = async (query = '') => ((await asAdmin('GET', `/users?query=${encodeURIComponent(query)}`)).json().users as Array<{ login: string }>).map((u) => u.login);
    const myPortals = async (session: string) =>
      ((await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } })).json().portals as Array<{ slug: string }>).map((p) => p.slug);
    /** Opens the letter's link as a browser would: the token goes into a cookie, then the page. */
    const openLink = async (token: string, session?: string) => {
      const first = await t.app.inject({ method: 'GET', url: `/invitations/${token}?lang=en`, ...(session ? { cookies: { lk_session: session } } : {}) });
      const cookie = cookieFrom(first.headers['set-cookie'], 'lk_invitation');
      const page = cookie
        ? await t.app.inject({ method: 'GET', url: '/invitations?lang=en', cookies: { lk_invitation: cookie, ...(session ? { lk_session: session } : {}) } })
        : undefined;
      return { first, cookie, page };
    };
    const answerByForm = async (answer: 'accept' | 'decline', invitationCookie: string, session: string, page: string) => {
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      return t.app.inject({
        method: 'POST',
        url: `/invitations/${answer}`,
        headers: { origin: ORIGIN },
        cookies: { lk_invitation: invitationCookie, lk_session: session },
        payload: { _csrf: csrf },
      });
    };

    before(async () => {
      t = await startTestApp({ dialect, clock, env: { LATCHKEY_SMTP_URL: await smtp.start(), LATCHKEY_SMS_WEBHOOK_URL: await gateway.start(), LATCHKEY_RATE_LIMITS: 'off' } });
      await addPortal(t.deps, { slug: 'acme', title: 'Acme Corp' });
      await addPortal(t.deps, { slug: 'globex', title: 'Globex' });
      await addUser(t.deps, { login: 'anna', name: 'Anna Admin', email: 'anna@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'acme', role: 'admin' }] });
      vera = await addUser(t.deps, { login: 'vera', name: 'Vera Victim', email: 'vera@example.com', phone: '+79161112233', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      petra = await addUser(t.deps, { login: 'petra', phone: '+79162223344', password: PASSWORD, locale: 'ru', portals: [{ slug: 'globex', role: 'employee' }] });
      await addUser(t.deps, { login: 'boris', email: 'boris@example.com', password: PASSWORD, locale: 'en', portals: [{ slug: 'globex', role: 'employee' }] });
      // An account that typed an address it never confirmed.
      const ulya = await addUser(t.deps, { login: 'ulya', email: 'ulya@example.com', password: PASSWORD, locale: 'en' });
      await t.deps.store.db.updateTable('accounts').set({ email_verified_at: null }).where('id', '=', ulya.id).execute();
      adminSession = await signIn('anna');
    });
    after(async () => {
      await t.close();
      await smtp.stop();
      await gateway.stop();
    });

    it('rule 22: the answer is the same for an existing passport’s e-mail or phone and for an unknown one, and carries nothing of the passport', async () => {
      const pairs: Array<[object, object, string]> = [
        [{ email: 'Vera@Example.com' }, { email: 'Nobody.Here@Example.com' }, 'vera@example.com'],
        [{ phone: '+7 916 222-33-44' }, { phone: '+7 916 999-88-77' }, '+79162223344'],
      ];
      for (const [existing, unknown, typed] of pairs) {
        const a = await invite({ ...existing, role: 'employee' });
        const b = await invite({ ...unknown, role: 'employee' });
        assert.equal(a.statusCode, 202, a.body);
        assert.equal(b.statusCode, b.statusCode);
        assert.deepEqual(Object.keys(a.json()), ['invitation']);
        const { id: idA, contact: contactA, ...restA } = a.json().invitation;
        const { id: idB, contact: _contactB, ...restB } = b.json().invitation;
        assert.deepEqual(restA, restB);
        assert.deepEqual(restA, { role: 'employee', status: 'invited' });
        assert.equal(contactA, typed, 'what the admin typed, normalised');
        assert.ok(typeof idA === 'string' && typeof idB === 'string' && idA !== idB);
        assert.deepEqual(Object.keys(a.headers).sort(), Object.keys(b.headers).sort());
        assert.ok(!/Victim|"vera"|login|name|phone|email/.test(a.body), a.body);
      }
      // The unproven address gets the same answer as well.
      const unproven = await invite({ email: 'ulya@example.com' });
      assert.equal(unproven.statusCode, 202);
      assert.deepEqual(Object.keys(unproven.json().invitation), ['id', 'contact', 'role', 'status']);
    });

    it('an existing passport is not a member, nor reachable by any admin action, until it accepts', async () => {
      const [letter] = await smtp.waitFor((m) => m.to === 'vera@example.com' && acceptTokenIn(m.text) !== '');
      assert.ok(letter);
      assert.equal(letter.subject, 'Invitation to Acme Corp');
      assert.match(letter.text, /Anna Admin, an administrator of Acme Corp, invites you/);
      assert.doesNotMatch(letter.text, /did not ask|recovery/i, 'an invitation letter talks about an invitation');
      assert.match(letter.html, /\/invitations\//);
      const veraSession = await signIn('vera');
      assert.deepEqual(await listedLogins(), ['anna']);
      for (const query of ['vera', 'vera@example.com', '+79161112233', '916 111', 'Victim']) assert.deepEqual(await listedLogins(query), [], query);
      assert.deepEqual(await myPortals(veraSession), ['globex']);
      assert.equal((await asAdmin('GET', `/users/${vera.id}`)).statusCode, 404);
      const recovery = await asAdmin('POST', `/users/${vera.id}/recovery`, { channel: 'email' });
      assert.equal(recovery.statusCode, 404);
      assert.equal(recovery.json().code, 'not_found');
      const console = await t.app.inject({ method: 'GET', url: '/admin/acme/users?query=vera', cookies: { lk_session: adminSession } });
      assert.doesNotMatch(console.body, /vera@example\.com|Vera Victim/);
      const profile = await t.app.inject({ method: 'GET', url: `/admin/acme/users/${vera.id}`, cookies: { lk_session: adminSession } });
      assert.equal(profile.statusCode, 404);
      const audit = JSON.stringify((await asAdmin('GET', '/audit')).json());
      assert.ok(!audit.includes('vera'), audit);

      // Opening the link (signed out, as a mail scanner would) changes nothing.
      const token = acceptTokenIn(letter.text);
      const anonymous = await openLink(token);
      assert.equal(anonymous.first.statusCode, 303);
      assert.equal(anonymous.first.headers.location, '/invitations');
      assert.equal(anonymous.first.headers['referrer-policy'], 'no-referrer');
      assert.equal(anonymous.first.headers['cache-control'], 'no-store');
      assert.equal(anonymous.page?.statusCode, 200);
      assert.match(anonymous.page?.body ?? '', /Anna Admin invites you to join Acme Corp/);
      assert.match(anonymous.page?.body ?? '', /href="\/login\?next=%2Finvitations"/);
      assert.equal(anonymous.page?.headers['cache-control'], 'no-store');
      assert.ok(!String(anonymous.page?.body).includes(token), 'the token is off the address bar and the page');
      assert.deepEqual(await myPortals(veraSession), ['globex']);
      const signInPage = await t.app.inject({ method: 'GET', url: '/login?next=%2Finvitations' });
      assert.match(signInPage.body, /name="next" value="\/invitations"/);
      const login = await t.app.inject({ method: 'POST', url: '/login', payload: { login: 'boris', password: PASSWORD, next: '/invitations' } });
      assert.equal(login.headers.location, '/invitations', 'back to the invitation after signing in');
      const foreign = await t.app.inject({ method: 'POST', url: '/login', payload: { login: 'boris', password: PASSWORD, next: '//evil.example/x' } });
      assert.equal(foreign.headers.location, '/portals', 'never off the site');

      // Somebody else, signed in: a clear refusal, and the invitation is still there.
      const borisSession = cookieFrom(login.headers['set-cookie'], 'lk_session') ?? '';
      const asBoris = await openLink(token, borisSession);
      assert.equal(asBoris.page?.statusCode, 403);
      assert.match(asBoris.page?.body ?? '', /data-testid="wrong-account"/);
      const borisTries = await answerByForm('accept', asBoris.cookie ?? '', borisSession, asBoris.page?.body ?? '');
      assert.equal(borisTries.statusCode, 403);
      assert.deepEqual(await myPortals(borisSession), ['globex']);
      const borisApi = await t.app.inject({ method: 'POST', url: `/api/v1/invitations/${token}/accept`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: borisSession }, payload: {} });
      assert.equal(borisApi.statusCode, 403);

      // The invited passport accepts: a member with the invitation's role, in the admin's list.
      const asVera = await openLink(token, veraSession);
      assert.equal(asVera.page?.statusCode, 200);
      assert.match(asVera.page?.body ?? '', /data-testid="accept"/);
      const noCsrf = await t.app.inject({ method: 'POST', url: '/invitations/accept', headers: { origin: ORIGIN }, cookies: { lk_invitation: asVera.cookie ?? '', lk_session: veraSession }, payload: {} });
      assert.equal(noCsrf.statusCode, 403);
      const accepted = await answerByForm('accept', asVera.cookie ?? '', veraSession, asVera.page?.body ?? '');
      assert.equal(accepted.statusCode, 303, accepted.body);
      assert.equal(accepted.headers.location, '/portals');
      assert.deepEqual((await myPortals(veraSession)).sort(), ['acme', 'globex']);
      assert.deepEqual(await listedLogins('vera@example.com'), ['vera']);
      assert.equal((await asAdmin('GET', `/users/${vera.id}`)).json().user.role, 'employee');
      const joined = (await asAdmin('GET', '/audit?action=member.joined')).json().events as Array<{ actor_login: string; target_login: string }>;
      assert.ok(joined.some((e) => e.actor_login === 'vera' && e.target_login === 'vera'));

      // Used once.
      const again = await openLink(token, veraSession);
      assert.equal(again.first.statusCode, 400);
      assert.equal((await answerByForm('accept', asVera.cookie ?? '', veraSession, asVera.page?.body ?? '')).statusCode, 400);
    });

    it('an unproven address gets nothing: no letter, no account, no membership', async () => {
      await waitUntil(async () => {
        const jobs = await t.deps.store.db.selectFrom('outbox').select('status').where('kind', '=', 'invitation.deliver').execute();
        return jobs.every((j) => j.status === 'sent');
      });
      const toUlya = await t.deps.store.db.selectFrom('outbox').select('id').where('recipient', '=', 'ulya@example.com').execute();
      assert.deepEqual(toUlya, []);
      assert.ok(!smtp.mails.some((m) => m.to === 'ulya@example.com'));
    });

    it('an unknown contact: the letter to create the account leads to an active member', async () => {
      const [letter] = await smtp.waitFor((m) => m.to === 'nobody.here@example.com');
      assert.ok(letter);
      assert.equal(letter.subject, 'Invitation to Acme Corp');
      assert.match(letter.text, /Anna Admin/);
      const token = setPasswordTokenIn(letter.text);
      assert.ok(token);
      assert.deepEqual(await listedLogins('nobody'), [], 'not a member before the first password');
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: 'a-brand-new-password-9' } });
      assert.equal(done.statusCode, 200, done.body);
      assert.deepEqual(done.json().portals.map((p: { slug: string }) => p.slug), ['acme']);
      assert.deepEqual(await listedLogins('nobody'), ['nobody.here']);
      const pending = (await asAdmin('GET', '/invitations')).json().invitations as Array<{ contact: string }>;
      assert.ok(!pending.some((i) => i.contact === 'nobody.here@example.com'), 'answered, so no longer pending');
    });

    it('by phone: the text holds the accept link; re-inviting kills the old link; the API accepts; pending list and revoke', async () => {
      await waitUntil(() => gateway.received.some((s) => s.to === '+79162223344'));
      const firstText = gateway.received.find((s) => s.to === '+79162223344')?.text ?? '';
      assert.match(firstText, /Anna Admin приглашает вас в Acme Corp/, 'in the passport’s own language');
      const first = acceptTokenIn(firstText);
      assert.ok(first);
      assert.ok(gateway.received.some((s) => s.to === '+79169998877' && setPasswordTokenIn(s.text) !== ''), 'an unknown number gets a set-password link');

      // The pending list: only what the admin typed.
      const pending = await asAdmin('GET', '/invitations');
      assert.equal(pending.statusCode, 200);
      const contacts = (pending.json().invitations as Array<{ contact: string }>).map((i) => i.contact).sort();
      assert.deepEqual(contacts, ['+79162223344', '+79169998877', 'ulya@example.com']);
      assert.ok(!pending.body.includes(petra.id) && !pending.body.includes('petra'), pending.body);

      const again = await invite({ phone: '+79162223344', role: 'admin' });
      assert.equal(again.statusCode, 202);
      await waitUntil(() => gateway.received.filter((s) => s.to === '+79162223344').length === 2);
      const second = acceptTokenIn(gateway.received.filter((s) => s.to === '+79162223344')[1]?.text ?? '');
      assert.notEqual(second, first);
      const petraSession = await signIn('petra');
      const api = (token: string, answer = 'accept', origin = ORIGIN) =>
        t.app.inject({ method: 'POST', url: `/api/v1/invitations/${token}/${answer}`, headers: { ...json, origin }, cookies: { lk_session: petraSession }, payload: {} });
      assert.equal((await api(first)).json().code, 'invalid_token', 'the replaced link died');
      assert.equal((await api(second, 'accept', 'http://evil.example')).statusCode, 403);
      const accepted = await api(second);
      assert.equal(accepted.statusCode, 200, accepted.body);
      assert.deepEqual(accepted.json(), { portal: { slug: 'acme', title: 'Acme Corp' } });
      assert.equal((await api(second)).json().code, 'invalid_token', 'used once');
      assert.equal((await asAdmin('GET', `/users/${petra.id}`)).json().user.role, 'admin', 'the role of the invitation accepted');
      const toMember = await invite({ email: 'vera@example.com' });
      assert.equal(toMember.statusCode, 202, 'the same answer for someone who already joined');

      // Revoke: the link dies, the revocation is audited.
      const unknown = (pending.json().invitations as Array<{ id: string; contact: string }>).find((i) => i.contact === '+79169998877');
      assert.ok(unknown);
      assert.equal((await asAdmin('DELETE', `/invitations/${unknown.id}`)).statusCode, 204);
      assert.equal((await asAdmin('DELETE', `/invitations/${unknown.id}`)).statusCode, 404);
      const revokedToken = setPasswordTokenIn(gateway.received.find((s) => s.to === '+79169998877')?.text ?? '');
      const dead = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token: revokedToken, password: 'a-brand-new-password-9' } });
      assert.equal(dead.json().code, 'invalid_token');
      const revoked = (await asAdmin('GET', '/audit?action=admin.invitation.revoked')).json().events;
      assert.equal(revoked.length, 1);
    });

    it('the console: "Invitation sent to …" for every contact, the pending list with revoke, in Russian and English', async () => {
      const page = await t.app.inject({ method: 'GET', url: '/admin/acme/invite?lang=ru', cookies: { lk_session: adminSession } });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const post = (email: string, lang: string) =>
        t.app.inject({ method: 'POST', url: `/admin/acme/invite?lang=${lang}`, headers: { origin: ORIGIN }, cookies: { lk_session: adminSession }, payload: { email, _csrf: csrf } });
      const known = await post('boris@example.com', 'ru');
      const unknown = await post('stranger@example.com', 'ru');
      assert.equal(known.statusCode, 200);
      assert.match(known.body, /Приглашение отправлено: boris@example\.com\./);
      assert.match(unknown.body, /Приглашение отправлено: stranger@example\.com\./);
      assert.equal(unknown.statusCode, 200);
      assert.match(known.body, /Приглашения без ответа/);
      const en = await post('boris@example.com', 'en');
      assert.match(en.body, /Invitation sent to boris@example\.com\./);
      const revokeAction = /action="(\/admin\/acme\/invitations\/[^"]+\/revoke)"/.exec(en.body)?.[1] ?? '';
      const revoke = await t.app.inject({ method: 'POST', url: `${revokeAction}?lang=en`, headers: { origin: ORIGIN }, cookies: { lk_session: adminSession }, payload: { _csrf: csrf } });
      assert.equal(revoke.statusCode, 200);
      assert.match(revoke.body, /was revoked/);
      assert.ok(!known.body.includes('boris</'), 'no login of the invited passport');
    });

    it('an invitation link expires after 24 hours', async () => {
      const toBoris = (m: { to: string; text: string }) => m.to === 'boris@example.com' && acceptTokenIn(m.text) !== '';
      const before = smtp.mails.filter(toBoris).length;
      await invite({ email: 'boris@example.com' });
      const token = acceptTokenIn((await smtp.waitFor(toBoris, before + 1)).at(-1)?.text ?? '');
      clock.advance(25 * 3600_000);
      const borisSession = await signIn('boris');
      const late = await t.app.inject({ method: 'POST', url: `/api/v1/invitations/${token}/accept`, headers: { ...json, origin: ORIGIN }, cookies: { lk_session: borisSession }, payload: {} });
      assert.equal(late.statusCode, 400);
      assert.equal(late.json().code, 'invalid_token');
      assert.equal((await openLink(token, borisSession)).first.statusCode, 400);
      assert.deepEqual(await myPortals(borisSession), ['globex']);
      assert.deepEqual((await asAdmin('GET', '/invitations')).json().invitations, []);
    });
  });
}
