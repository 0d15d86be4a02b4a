import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { addUser } from '../../src/flows/operator.js';
import { freeLoopbackPort } from '../support/browser.js';
import { Browserless, csrfOf, type Hop } from '../support/browserless.js';
import { startVkIdStub, startYandexIdStub, type VkIdStub, type YandexIdStub } from '../support/oauth-stubs.js';
import { TestOidcProvider } from '../support/oidc-provider.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';

const NEW_PASSWORD = 'amber-tundra-violin-37';
const json = { accept: 'application/json' };

for (const dialect of DIALECTS) {
  describe(`accounts registered through a social network (${dialect})`, () => {
    let oidc: TestOidcProvider;
    let vk: VkIdStub;
    let yandex: YandexIdStub;
    let smtp: TestSmtpServer;
    let t: TestApp;
    let base: string;

    before(async () => {
      const port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
      oidc = await TestOidcProvider.start({ clientId: 'lk', clientSecret: 'oidc-secret-0123456789', redirectUris: [`${base}/auth/test/callback`] });
      vk = await startVkIdStub({ clientId: 'vk-app', redirectUri: `${base}/auth/vk/callback` });
      yandex = await startYandexIdStub({ clientId: 'ya-app', clientSecret: 'ya-secret', redirectUri: `${base}/auth/yandex/callback` });
      smtp = new TestSmtpServer();
      const smtpUrl = await smtp.start();
      t = await startTestApp({
        dialect,
        env: {
          LATCHKEY_PUBLIC_URL: base,
          LATCHKEY_RATE_LIMITS: 'off',
          LATCHKEY_SMTP_URL: smtpUrl,
          LATCHKEY_SOCIAL_TEST_ISSUER: oidc.issuer,
          LATCHKEY_SOCIAL_TEST_CLIENT_ID: 'lk',
          LATCHKEY_SOCIAL_TEST_CLIENT_SECRET: 'oidc-secret-0123456789',
          LATCHKEY_SOCIAL_TEST_TITLE: 'Test ID',
          LATCHKEY_SOCIAL_VK_ISSUER: vk.base,
          LATCHKEY_SOCIAL_VK_CLIENT_ID: 'vk-app',
          LATCHKEY_SOCIAL_YANDEX_ISSUER: yandex.base,
          LATCHKEY_SOCIAL_YANDEX_CLIENT_ID: 'ya-app',
          LATCHKEY_SOCIAL_YANDEX_CLIENT_SECRET: 'ya-secret',
        },
      });
      await t.app.listen({ host: '127.0.0.1', port });
      await seedAccount(t.deps, { login: 'petr', email: 'petr@example.com' });
    });
    after(async () => {
      await t.close();
      await Promise.all([oidc.stop(), vk.stop(), yandex.stop(), smtp.stop()]);
    });

    const through = async (provider: string, browser = new Browserless()) => {
      const hops = await browser.follow(await browser.request(`${base}/auth/${provider}`));
      return { browser, last: hops.at(-1) as Hop };
    };
    const me = async (browser: Browserless) => JSON.parse((await browser.request(`${base}/api/v1/me`, { headers: json })).body) as { account: { id: string; login: string; email: string | null; phone: string | null } };
    const reasonOf = (hop: Hop) => /data-reason="([a-z_]+)"/.exec(hop.body)?.[1];
    const accountRow = (id: string) => t.deps.store.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('VK ID and Yandex ID sign people in through their own endpoints; contacts they do not vouch for stay off the passport', async () => {
      assert.match((await new Browserless().request(`${base}/login?lang=ru`)).body, /Войти через VK ID[\s\S]*Войти через Yandex ID[\s\S]*Войти через Test ID/);
      vk.nextUser = { user_id: 777001, first_name: 'Иван', last_name: 'Петров', email: 'ivan.vk@example.ru', phone: '79991230001' };
      const viaVk = await through('vk');
      assert.equal(viaVk.last.url.pathname, '/portals', `${viaVk.last.status} ${reasonOf(viaVk.last) ?? ''}`);
      const vkAccount = await accountRow((await me(viaVk.browser)).account.id);
      // VK does not assert them: kept on the identity only, so they squat nobody's address (issue 10, item 9).
      assert.equal(vkAccount.email, null);
      assert.equal(vkAccount.email_key, null);
      assert.equal(vkAccount.phone, null);
      assert.doesNotMatch(vkAccount.login, /ivan\.vk/);
      const vkIdentity = await t.deps.store.db.selectFrom('social_identities').selectAll().where('account_id', '=', vkAccount.id).executeTakeFirstOrThrow();
      assert.equal(vkIdentity.email, 'ivan.vk@example.ru');
      // The real owner of that address and that number can still be added.
      const owner = await addUser(t.deps, { login: 'ivan-real', email: 'ivan.vk@example.ru', phone: '+79991230001', locale: 'en' });
      assert.equal(owner.email, 'ivan.vk@example.ru');
      assert.equal(vkAccount.name, 'Иван Петров');

      yandex.nextUser = { id: '5550001', login: 'olga', default_email: 'olga@yandex.ru', real_name: 'Olga' };
      const viaYandex = await through('yandex');
      assert.equal(viaYandex.last.url.pathname, '/portals');
      const identity = await t.deps.store.db.selectFrom('social_identities').selectAll().where('subject', '=', '5550001').executeTakeFirstOrThrow();
      assert.equal(identity.issuer, yandex.base);
      assert.equal(identity.provider, 'yandex');

      // The same VK person again: the same passport.
      const again = await through('vk');
      assert.equal((await me(again.browser)).account.id, vkAccount.id);
    });

    it('a provider that names nobody, or a refusal at the provider, gets its own page', async () => {
      vk.nextUser = { first_name: 'Nobody' };
      const nobody = await through('vk');
      assert.equal(nobody.last.status, 502);
      assert.equal(reasonOf(nobody.last), 'no_subject');
      yandex.deny = true;
      try {
        const denied = await through('yandex');
        assert.equal(reasonOf(denied.last), 'cancelled');
        assert.match((await new Browserless().request(`${base}/login?lang=ru`)).body, /Войти/);
      } finally {
        yandex.deny = false;
      }
      const logs = t.logs.join('');
      for (const secret of vk.issued.concat(yandex.issued)) assert.ok(!logs.includes(secret), 'a provider code or token reached the log');
    });

    it('a social-only account creates a login and password on /account and signs in with them', async () => {
      oidc.nextUser = { sub: 'create-pw', email: 'create.pw@example.org', emailVerified: true };
      const { browser } = await through('test');
      const page = await browser.request(`${base}/account?lang=en`);
      assert.match(page.body, /Create a login and password/);
      assert.doesNotMatch(page.body, /name="currentPassword"/, 'there is no current password to ask for');
      const csrf = csrfOf(page.body);

      const taken = await browser.request(`${base}/account/password/create?lang=en`, { form: { _csrf: csrf, login: 'PETR', newPassword: NEW_PASSWORD } });
      assert.equal(taken.status, 409);
      assert.match(taken.body, /This login cannot be used/);
      const bad = await browser.request(`${base}/account/password/create?lang=en`, { form: { _csrf: csrf, login: '1abc', newPassword: NEW_PASSWORD } });
      assert.equal(bad.status, 400);
      const weak = await browser.request(`${base}/account/password/create?lang=en`, { form: { _csrf: csrf, login: 'createpw', newPassword: 'password' } });
      assert.equal(weak.status, 422);
      const forged = await browser.request(`${base}/account/password/create`, { form: { _csrf: 'nope', login: 'createpw', newPassword: NEW_PASSWORD } });
      assert.equal(forged.status, 403);

      const created = await browser.request(`${base}/account/password/create?lang=en`, { form: { _csrf: csrf, login: 'createpw', newPassword: NEW_PASSWORD } });
      assert.equal(created.status, 303);
      const after = await browser.request(`${base}${new URL(created.location ?? '').pathname}${new URL(created.location ?? '').search}`);
      assert.match(after.body, /Your login and password are set/);
      assert.match(after.body, /name="currentPassword"/, 'from now on the password is changed with the current one');
      assert.equal((await me(browser)).account.login, 'createpw', 'this session survived');

      const signIn = await new Browserless().request(`${base}/api/v1/session`, { json: { login: 'createpw', password: NEW_PASSWORD }, headers: json });
      assert.equal(signIn.status, 200);
      // A second "create" is refused: the account has a password now.
      const twice = await browser.request(`${base}/api/v1/me/password`, { json: { newPassword: 'another-long-password-9' }, headers: { ...json, origin: base } });
      assert.equal(twice.status, 400);
      assert.equal((JSON.parse(twice.body) as { field: string }).field, 'currentPassword');
    });

    it('the API creates a login and password for a social-only account too', async () => {
      oidc.nextUser = { sub: 'api-create', email: 'api.create@example.org', emailVerified: true };
      const { browser } = await through('test');
      const answer = await browser.request(`${base}/api/v1/me/password`, { json: { newPassword: NEW_PASSWORD, login: 'apicreate' }, headers: { ...json, origin: base } });
      assert.equal(answer.status, 204, answer.body);
      const signIn = await new Browserless().request(`${base}/api/v1/session`, { json: { login: 'api.create@example.org', password: NEW_PASSWORD }, headers: json });
      assert.equal(signIn.status, 200);
      const methods = JSON.parse((await browser.request(`${base}/api/v1/me/sign-in-methods`, { headers: json })).body) as { password: boolean };
      assert.equal(methods.password, true);
    });

    it('recovery for a social-only account: the same answer as for anyone, a letter that names the provider and offers a password', async () => {
      oidc.nextUser = { sub: 'social-recovery', email: 'social.recovery@example.org', emailVerified: true };
      const social = await through('test');
      // Link VK too, so the letter also points to VK's own recovery page.
      const page = await social.browser.request(`${base}/account?lang=en`);
      vk.nextUser = { user_id: 888002, first_name: 'Soc', last_name: 'Ial' };
      const linked = (await social.browser.follow(await social.browser.request(`${base}/auth/vk/link`, { form: { _csrf: csrfOf(page.body) } }))).at(-1) as Hop;
      assert.equal(linked.url.pathname, '/account', `${linked.status} ${reasonOf(linked) ?? ''}`);

      const ask = (login: string) => new Browserless().request(`${base}/api/v1/recovery/email`, { json: { login }, headers: json });
      const answers = await Promise.all(['social.recovery@example.org', 'petr@example.com', 'nobody@example.org'].map(ask));
      for (const answer of answers) {
        assert.equal(answer.status, 202);
        assert.equal(answer.body, answers[0]?.body, 'byte-identical bodies');
        assert.equal(answer.headers.get('content-type'), answers[0]?.headers.get('content-type'));
        assert.equal(answer.headers.get('content-length'), answers[0]?.headers.get('content-length'));
      }

      const [mail] = await smtp.waitFor((m) => m.to === 'social.recovery@example.org');
      assert.ok(mail);
      assert.match(mail.text, /registered through Test ID, VK ID|registered through VK ID, Test ID/);
      assert.ok(mail.text.includes(`Sign in with`) && mail.text.includes(`${base}/login`), mail.text);
      assert.ok(mail.text.includes('https://id.vk.com/restore/'), "VK's own recovery page");
      assert.ok(mail.html.includes('https://id.vk.com/restore/') && mail.html.includes(`${base}/login`));
      const link = linkIn(mail);
      assert.ok(mail.html.includes(link));
      const [ordinary] = await smtp.waitFor((m) => m.to === 'petr@example.com');
      assert.ok(ordinary && !/Test ID|VK ID/.test(ordinary.text), 'an account with a password gets the ordinary letter');

      // The link creates a Latchkey password; afterwards the e-mail and that password sign in.
      const browser = new Browserless();
      const form = (await browser.follow(await browser.request(link))).at(-1) as Hop;
      assert.equal(form.url.pathname, '/recover/password');
      const done = await browser.request(`${base}/recover/password`, { form: { password: NEW_PASSWORD } });
      assert.equal(done.status, 303);
      const signIn = await new Browserless().request(`${base}/api/v1/session`, { json: { login: 'social.recovery@example.org', password: NEW_PASSWORD }, headers: json });
      assert.equal(signIn.status, 200);
    });

    it('a password account links Yandex ID and keeps both ways in after unlinking it', async () => {
      const browser = new Browserless();
      await browser.request(`${base}/login`, { form: { login: 'petr', password: PASSWORD } });
      const page = await browser.request(`${base}/account?lang=ru`);
      assert.match(page.body, /Привязать Yandex ID/);
      yandex.nextUser = { id: '5550099', login: 'petr.ya', default_email: 'petr@yandex.ru' };
      const linked = (await browser.follow(await browser.request(`${base}/auth/yandex/link`, { form: { _csrf: csrfOf(page.body) } }))).at(-1) as Hop;
      assert.match(linked.body, /Привязано/);
      const identityId = /action="\/account\/sign-in-methods\/([0-9a-f]+)\/unlink"/.exec(linked.body)?.[1] ?? '';
      const unlinked = await browser.request(`${base}/account/sign-in-methods/${identityId}/unlink`, { form: { _csrf: csrfOf(linked.body) } });
      assert.equal(unlinked.status, 303);
      const signIn = await new Browserless().request(`${base}/api/v1/session`, { json: { login: 'petr', password: PASSWORD }, headers: json });
      assert.equal(signIn.status, 200);
    });
  });
}
