import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config.js';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { TestSmtpServer, linkIn } from '../support/smtp.js';
import { waitUntil } from '../support/wait.js';

const json = { 'content-type': 'application/json' };

/**
 * Issue 10, items 2, 5, 6 and 8 (SPEC §7 rules 14 and 21): what a stranger could read from the public port,
 * whose address the per-IP limits believe, when the development outbox may be on, and what a malformed link
 * leaves in the logs.
 */
for (const dialect of DIALECTS) {
  describe(`what the public port exposes (${dialect})`, () => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    before(async () => {
      smtp = new TestSmtpServer();
      t = await startTestApp({ dialect, env: { LATCHKEY_SMTP_URL: await smtp.start() } });
      await seedAccount(t.deps);
    });
    after(async () => {
      await t.close();
      await smtp.stop();
    });

    it('rule 21: /metrics is not on the public listener, only on the management one; health and readiness on both', async () => {
      const publicMetrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(publicMetrics.statusCode, 404);
      assert.equal(publicMetrics.json().code, 'not_found');
      assert.doesNotMatch(publicMetrics.body, /latchkey_/);
      const metrics = await t.management.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(metrics.body, /latchkey_messages_sent_total|latchkey_outbox_depth/);
      for (const app of [t.app, t.management]) {
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
        assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      }
      // Nothing else lives on the management listener.
      assert.equal((await t.management.inject({ method: 'GET', url: '/login' })).statusCode, 404);
    });

    it('rule 21: with real SMTP and no SMS gateway there is no development outbox and no phone recovery', async () => {
      assert.equal(t.deps.config.dev, false);
      const outbox = await t.app.inject({ method: 'GET', url: '/dev/outbox' });
      assert.equal(outbox.statusCode, 404);
      const phone = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/phone', headers: json, payload: { phone: '+79990001122' } });
      assert.equal(phone.statusCode, 404);
      const page = await t.app.inject({ method: 'GET', url: '/recover', headers: { accept: 'text/html' } });
      assert.doesNotMatch(page.body, /href="\/recover\/phone"/);
    });

    it('rule 14: a live token requested with a broken %-escape or an over-long path never reaches the log', async () => {
      const mailsBefore = smtp.mails.length;
      const asked = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', headers: json, payload: { login: 'ivan' } });
      assert.equal(asked.statusCode, 202);
      await waitUntil(() => smtp.mails.length > mailsBefore);
      const token = new URL(linkIn(smtp.mails.at(-1)!)).pathname.split('/').pop() ?? '';
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      const urls = [
        `/recover/email/${token}%`,
        `/recover/email/${token}%zz`,
        `/recover/email/%${token}`,
        `/recover/email/${token}${'x'.repeat(300)}`,
        `/api/v1/recovery/complete/${token}%`,
        `/recover/checkword?login=ivan&checkword=${token}%`,
        `/${token}%ff%`,
      ];
      for (const url of urls) {
        const response = await t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${response.statusCode} for a malformed URL`);
        assert.ok(!response.body.includes(token), 'nor the answer');
      }
      const logs = t.logs.join('');
      assert.match(logs, /request refused/);
      assert.ok(!logs.includes(token), 'the token is in the log');
      // The link still works afterwards: nothing above consumed it.
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/recovery/complete', headers: json, payload: { token, password: `${PASSWORD}-new` } });
      assert.equal(done.statusCode, 200);
    });
  });

  describe(`client addresses behind a proxy (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' } });
      await seedAccount(t.deps);
    });
    after(() => t.close());

    const recover = (login: string, remoteAddress: string, forwardedFor?: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/recovery/email', remoteAddress, headers: { ...json, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) }, payload: { login } });

    it('rule 21: clients behind a trusted proxy each get their own per-IP budget', async () => {
      // 30 different people behind the proxy, each asking once: the per-IP cap (20 an hour) never trips.
      for (let i = 0; i < 30; i += 1) {
        const response = await recover(`someone${i}`, '127.0.0.1', `198.51.100.${i + 1}`);
        assert.equal(response.statusCode, 202, `client ${i} refused: ${response.body}`);
      }
      // One of them asking many times is still limited.
      const codes: number[] = [];
      for (let i = 0; i < 21; i += 1) codes.push((await recover(`other${i}`, '10.1.2.3', '198.51.100.200')).statusCode);
      assert.equal(codes.at(-1), 429);
    });

    it('rule 21: X-Forwarded-For from anyone else is ignored, so it cannot dodge the limits', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 21; i += 1) codes.push((await recover(`spoof${i}`, '203.0.113.9', `192.0.2.${i + 1}`)).statusCode);
      assert.equal(codes.filter((c) => c === 202).length, 20);
      assert.equal(codes.at(-1), 429);
    });

    it('sessions record the real client behind the proxy, and the spoofer as themselves', async () => {
      const viaProxy = await t.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '10.0.0.7', headers: { ...json, 'x-forwarded-for': '198.51.100.77, 10.0.0.8' }, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(viaProxy.statusCode, 200);
      const spoofed = await t.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '203.0.113.50', headers: { ...json, 'x-forwarded-for': '198.51.100.88' }, payload: { login: 'ivan', password: PASSWORD } });
      assert.equal(spoofed.statusCode, 200);
      const ips = (await sql<{ ip: string }>`select ip from sessions order by created_at`.execute(t.deps.store.db)).rows.map((r) => r.ip);
      assert.ok(ips.includes('198.51.100.77'), `sessions: ${ips.join(', ')}`);
      assert.ok(ips.includes('203.0.113.50'));
      assert.ok(!ips.includes('198.51.100.88') && !ips.includes('10.0.0.7'));
    });
  });
}

describe('settings for exposure (SPEC §3)', () => {
  it('dev mode only when no real transport at all is configured', () => {
    assert.equal(loadConfig({}).dev, true);
    const smtpOnly = loadConfig({ LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2525' });
    assert.equal(smtpOnly.dev, false);
    assert.equal(smtpOnly.sms.provider, 'none', 'texts never fall back to the development outbox');
    assert.equal(loadConfig({ LATCHKEY_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' }).dev, false);
    assert.throws(() => loadConfig({ LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2525', LATCHKEY_DEV: '1' }), /LATCHKEY_DEV/);
    assert.throws(() => loadConfig({ LATCHKEY_SMTP_URL: 'smtp://127.0.0.1:2525', LATCHKEY_SMS_PROVIDER: 'dev' }), /LATCHKEY_SMS_PROVIDER/);
  });

  it('trusted proxies and the management listener are read strictly', () => {
    assert.deepEqual(loadConfig({}).trustedProxies, []);
    assert.deepEqual(loadConfig({ LATCHKEY_TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16,::1,fd00::/8' }).trustedProxies, ['10.0.0.1', '192.168.0.0/16', '::1', 'fd00::/8']);
    for (const bad of ['10.0.0.300', '10.0.0.0/33', 'proxy.example.com', '10.0.0.0/8/1', '::1/129']) {
      assert.throws(() => loadConfig({ LATCHKEY_TRUSTED_PROXIES: bad }), /LATCHKEY_TRUSTED_PROXIES/, bad);
    }
    assert.deepEqual(loadConfig({}).management, { host: '127.0.0.1', port: 9464 });
    assert.throws(() => loadConfig({ LATCHKEY_MANAGEMENT_PORT: '70000' }), /LATCHKEY_MANAGEMENT_PORT/);
  });
});
