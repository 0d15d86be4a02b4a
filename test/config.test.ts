import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

describe('settings (SPEC §3)', () => {
  it('has working defaults for a newcomer', () => {
    const config = loadConfig({});
    assert.equal(config.edition, 'cloud');
    assert.equal(config.port, 3000);
    assert.equal(config.databaseUrl, 'sqlite:./data/latchkey.db');
    // Issue 14, item 1: the embedded database moves with the data folder; an explicit URL still wins.
    assert.equal(loadConfig({ LATCHKEY_DATA_DIR: '/var/lib/latchkey/' }).databaseUrl, 'sqlite:/var/lib/latchkey/latchkey.db');
    assert.equal(loadConfig({ LATCHKEY_DATA_DIR: '/srv/a', LATCHKEY_DATABASE_URL: 'sqlite:/srv/b.db' }).databaseUrl, 'sqlite:/srv/b.db');
    assert.equal(config.publicUrl.origin, 'http://localhost:3000');
    assert.equal(config.dev, true, 'no SMTP outside production: development outbox');
    assert.equal(config.rateLimits, true);
  });

  it('names authenticator apps\' issuer: the public host name by default, LATCHKEY_TOTP_ISSUER when set, never with a colon', () => {
    assert.equal(loadConfig({ LATCHKEY_PUBLIC_URL: 'https://id.example.com:8443/' }).totpIssuer, 'id.example.com');
    assert.equal(loadConfig({ LATCHKEY_TOTP_ISSUER: ' Acme ID ' }).totpIssuer, 'Acme ID');
    for (const bad of ['Acme:ID', 'x'.repeat(65)]) assert.deepEqual(problems({ LATCHKEY_TOTP_ISSUER: bad }).map((l) => l.split(':')[0]), ['LATCHKEY_TOTP_ISSUER'], bad);
  });

  it('reads social sign-in providers: the known ones by name, any other by its issuer; incomplete or insecure ones are refused', () => {
    const config = loadConfig({
      LATCHKEY_SOCIAL_VK_CLIENT_ID: 'vk-app',
      LATCHKEY_SOCIAL_GOOGLE_CLIENT_ID: 'g',
      LATCHKEY_SOCIAL_GOOGLE_CLIENT_SECRET: 'gs',
      LATCHKEY_SOCIAL_CORP_ISSUER: 'https://sso.example.com',
      LATCHKEY_SOCIAL_CORP_CLIENT_ID: 'corp',
      LATCHKEY_SOCIAL_CORP_TITLE: 'Corporate SSO',
    });
    assert.deepEqual(
      config.social.map((p) => [p.id, p.kind, p.issuer, p.title, p.clientSecret]),
      [
        ['corp', 'oidc', 'https://sso.example.com', 'Corporate SSO', undefined],
        ['google', 'oidc', 'https://accounts.google.com', 'Google', 'gs'],
        ['vk', 'vk', 'https://id.vk.com', 'VK ID', undefined],
      ],
    );
    assert.deepEqual(loadConfig({}).social, []);
    assert.ok(problems({ LATCHKEY_SOCIAL_CORP_CLIENT_ID: 'x' }).some((l) => l.startsWith('LATCHKEY_SOCIAL_CORP_ISSUER: required')));
    assert.ok(problems({ LATCHKEY_SOCIAL_YANDEX_CLIENT_SECRET: 'x' }).some((l) => l.startsWith('LATCHKEY_SOCIAL_YANDEX_CLIENT_ID: required')));
    assert.ok(problems({ LATCHKEY_SOCIAL_CORP_ISSUER: 'http://sso.example.com', LATCHKEY_SOCIAL_CORP_CLIENT_ID: 'x' }).some((l) => l.includes('must start with https://')));
    // Plain HTTP on loopback is for tests and local set-ups, never production.
    assert.equal(loadConfig({ LATCHKEY_SOCIAL_T_ISSUER: 'http://127.0.0.1:4000', LATCHKEY_SOCIAL_T_CLIENT_ID: 'x' }).social.length, 1);
    const production = { NODE_ENV: 'production', LATCHKEY_SMTP_URL: 'smtp://m:25', LATCHKEY_PUBLIC_URL: 'https://id.example.com', LATCHKEY_SECRET: 's'.repeat(40) };
    assert.ok(problems({ ...production, LATCHKEY_SOCIAL_T_ISSUER: 'http://127.0.0.1:4000', LATCHKEY_SOCIAL_T_CLIENT_ID: 'x' }).some((l) => l.startsWith('LATCHKEY_SOCIAL_T_ISSUER')));
  });

  it('reports every bad value on its own line naming the variable', () => {
    const lines = problems({ LATCHKEY_EDITION: 'cluod', LATCHKEY_PORT: 'eighty', LATCHKEY_PUBLIC_URL: 'not a url', LATCHKEY_RATE_LIMITS: 'maybe' });
    assert.equal(lines.length, 4);
    assert.match(lines[0] ?? '', /^LATCHKEY_PUBLIC_URL/);
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_EDITION: "cluod"')));
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_PORT')));
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_RATE_LIMITS')));
  });

  it('refuses unsafe production settings, one line each', () => {
    const lines = problems({ NODE_ENV: 'production', LATCHKEY_PUBLIC_URL: 'http://id.example.com', LATCHKEY_RATE_LIMITS: 'off' });
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_SMTP_URL')));
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_PUBLIC_URL')));
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_SECRET')));
    assert.ok(lines.some((l) => l.startsWith('LATCHKEY_RATE_LIMITS')));
    const ok = loadConfig({ NODE_ENV: 'production', LATCHKEY_PUBLIC_URL: 'https://id.example.com', LATCHKEY_SMTP_URL: 'smtp://u:p@mail:587', LATCHKEY_SECRET: 's'.repeat(40) });
    assert.equal(ok.dev, false);
  });

  it('never prints an SMTP password', () => {
    const lines = problems({ LATCHKEY_SMTP_URL: 'http://user:hunter2@mail' });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.includes('hunter2'));
  });

  it('caps token lifetimes at 24 hours', () => {
    assert.equal(loadConfig({ LATCHKEY_EMAIL_LINK_TTL_MINUTES: '1440' }).emailLinkTtlMinutes, 1440);
    assert.equal(problems({ LATCHKEY_EMAIL_LINK_TTL_MINUTES: '1441' }).length, 1);
  });

  it('chooses the SMS gateway and asks for its credentials by name', () => {
    assert.deepEqual(loadConfig({}).sms, { provider: 'dev' });
    assert.deepEqual(loadConfig({ LATCHKEY_SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' }).sms, { provider: 'webhook', url: 'http://127.0.0.1:9/sms' });
    const smsru = loadConfig({ LATCHKEY_SMS_PROVIDER: 'smsru', LATCHKEY_SMSRU_API_ID: 'abc' }).sms;
    assert.deepEqual(smsru, { provider: 'smsru', apiId: 'abc', baseUrl: 'https://sms.ru', from: undefined });
    const lines = problems({ LATCHKEY_SMS_PROVIDER: 'twilio', LATCHKEY_TWILIO_ACCOUNT_SID: 'AC1' });
    assert.deepEqual(lines, [
      'LATCHKEY_TWILIO_AUTH_TOKEN: required when LATCHKEY_SMS_PROVIDER=twilio',
      'LATCHKEY_TWILIO_FROM: required when LATCHKEY_SMS_PROVIDER=twilio',
    ]);
    assert.equal(problems({ LATCHKEY_SMS_COUNTRIES: 'RU,Russia' }).length, 1);
    assert.deepEqual(loadConfig({ LATCHKEY_SMS_COUNTRIES: 'ru, kz' }).smsCountries, ['RU', 'KZ']);
  });

  it('reads LATCHKEY_SMS_CAPS strictly: named caps replace their default, anything else names the variable', () => {
    const hour = 3600_000;
    assert.deepEqual(loadConfig({}).smsCaps, {
      number: { max: 5, windowMs: hour },
      sender: { max: 30, windowMs: hour },
      ip: { max: 10, windowMs: hour },
      global: { max: 500, windowMs: hour },
    });
    const caps = loadConfig({ LATCHKEY_SMS_CAPS: 'number=3/d, global = 2000/h,ip=1/m' }).smsCaps;
    assert.deepEqual(caps.number, { max: 3, windowMs: 24 * hour });
    assert.deepEqual(caps.global, { max: 2000, windowMs: hour });
    assert.deepEqual(caps.ip, { max: 1, windowMs: 60_000 });
    assert.deepEqual(caps.sender, { max: 30, windowMs: hour }, 'an unnamed cap keeps its default');
    for (const bad of ['number=5', 'number=5/w', 'numbr=5/h', 'number=-1/h', 'number=5/h,number=6/h', 'number=five/h', ',']) {
      const lines = problems({ LATCHKEY_SMS_CAPS: bad });
      assert.ok(lines.length > 0 && lines.every((l) => l.startsWith('LATCHKEY_SMS_CAPS: ')), `${bad}: ${lines.join(' | ')}`);
    }
  });

  it('reads the brand (issue 14, item 12): name, logo by address or inline SVG, colour; each bad value is one line naming its variable', () => {
    assert.deepEqual(loadConfig({}).brand, { name: 'Latchkey', logo: undefined, color: '#2f6fde' });
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="5"/></svg>';
    assert.deepEqual(loadConfig({ LATCHKEY_BRAND_NAME: ' Ромашка ID ', LATCHKEY_BRAND_LOGO_URL: 'https://cdn.example.com/logo.png', LATCHKEY_BRAND_COLOR: '#C0392B' }).brand, {
      name: 'Ромашка ID',
      logo: { kind: 'url', url: 'https://cdn.example.com/logo.png' },
      color: '#c0392b',
    });
    assert.deepEqual(loadConfig({ LATCHKEY_BRAND_LOGO_SVG: svg, LATCHKEY_BRAND_COLOR: '#0a8' }).brand, { name: 'Latchkey', logo: { kind: 'svg', svg }, color: '#00aa88' });
    assert.equal(loadConfig({ LATCHKEY_BRAND_LOGO_URL: 'http://127.0.0.1:8080/logo.svg' }).brand.logo?.kind, 'url', 'http:// outside production');
    const refused: Array<[Record<string, string>, string]> = [
      [{ LATCHKEY_BRAND_NAME: 'x'.repeat(41) }, 'LATCHKEY_BRAND_NAME: '],
      [{ LATCHKEY_BRAND_NAME: 'two\nlines' }, 'LATCHKEY_BRAND_NAME: '],
      [{ LATCHKEY_BRAND_COLOR: 'red' }, 'LATCHKEY_BRAND_COLOR: '],
      [{ LATCHKEY_BRAND_COLOR: '#12345g' }, 'LATCHKEY_BRAND_COLOR: '],
      [{ LATCHKEY_BRAND_COLOR: '#fff;background:url(x)' }, 'LATCHKEY_BRAND_COLOR: '],
      [{ LATCHKEY_BRAND_LOGO_URL: 'javascript:alert(1)' }, 'LATCHKEY_BRAND_LOGO_URL: '],
      [{ LATCHKEY_BRAND_LOGO_URL: 'logo.png' }, 'LATCHKEY_BRAND_LOGO_URL: '],
      [{ LATCHKEY_BRAND_LOGO_URL: 'https://cdn.example.com/logo.png', LATCHKEY_BRAND_LOGO_SVG: svg }, 'LATCHKEY_BRAND_LOGO_URL: '],
      [{ LATCHKEY_BRAND_LOGO_SVG: '<img src=x onerror=alert(1)>' }, 'LATCHKEY_BRAND_LOGO_SVG: '],
      [{ LATCHKEY_BRAND_LOGO_SVG: `<svg>${'x'.repeat(40_000)}</svg>` }, 'LATCHKEY_BRAND_LOGO_SVG: '],
    ];
    for (const [env, prefix] of refused) {
      const lines = problems(env);
      assert.equal(lines.length, 1, `${JSON.stringify(env).slice(0, 80)}: ${lines.join(' | ')}`);
      assert.ok(lines[0]?.startsWith(prefix), lines[0]);
    }
    const production = { NODE_ENV: 'production', LATCHKEY_PUBLIC_URL: 'https://id.example.com', LATCHKEY_SMTP_URL: 'smtp://m:25', LATCHKEY_SECRET: 's'.repeat(40) };
    assert.deepEqual(problems({ ...production, LATCHKEY_BRAND_LOGO_URL: 'http://cdn.example.com/logo.png' }).map((l) => l.split(':')[0]), ['LATCHKEY_BRAND_LOGO_URL'], 'https only in production');
  });

  it('has no development SMS outbox in production', () => {
    const config = loadConfig({ NODE_ENV: 'production', LATCHKEY_PUBLIC_URL: 'https://id.example.com', LATCHKEY_SMTP_URL: 'smtp://m:25', LATCHKEY_SECRET: 's'.repeat(40) });
    assert.deepEqual(config.sms, { provider: 'none' });
  });
});
