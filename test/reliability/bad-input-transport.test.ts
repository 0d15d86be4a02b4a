// SPEC §7 rule 15 over a real listening socket (test/http/bad-input.test.ts covers the same endpoints through
// app.inject with fast-check; some inputs never get that far: invalid UTF-8 in the request line, oversized
// headers, lying or malformed framing, bodies cut short). Every answer is a 4xx problem (or the form's page),
// never a 5xx, a crash or a hang; afterwards the server is healthy and a normal sign-in works. Both dialects.
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { errorStatus, type ErrorCode } from '../../src/kernel/errors.js';
import { DIALECTS, PASSWORD, seedAccount, startTestApp, type TestApp } from '../support/app.js';
import { get, rawRequest, withBody, type RawResponse } from './helpers/raw-http.js';

const KIB = 1024;
const JSON_ENDPOINTS = ['/api/v1/session', '/api/v1/recovery/email', '/api/v1/recovery/complete', '/api/v1/recovery/phone'];
const FORM_ENDPOINTS = ['/login', '/recover'];

function show(res: RawResponse): string {
  return res.closedWithoutAnswer ? 'connection closed without an answer' : `${res.status} [${res.headers['content-type'] ?? ''}] ${res.body.slice(0, 200)}`;
}

interface Expect {
  /** Statuses that are a right answer for this input (besides the listed problem codes). */
  ok?: number[];
  /** Problem codes that are right; any 4xx problem when omitted. */
  codes?: ErrorCode[];
  /** A form's page (text/html) is a right refusal too. */
  page?: boolean;
}

/** No 5xx, no silent close; a refusal is a well-formed problem with a stable code (or the form's page). */
function judge(res: RawResponse, where: string, expect: Expect = {}): void {
  assert.ok(!res.closedWithoutAnswer, `${where}: ${show(res)}`);
  assert.ok(res.status < 500, `${where}: server error ${show(res)}`);
  if (expect.ok?.includes(res.status)) return;
  assert.ok(res.status >= 400 && res.status < 500, `${where}: expected a 4xx, got ${show(res)}`);
  const type = res.headers['content-type'] ?? '';
  if (expect.page && type.startsWith('text/html')) return;
  assert.match(type, /^application\/problem\+json/, `${where}: ${show(res)}`);
  const problem = JSON.parse(res.body) as { code: ErrorCode; status: number };
  assert.ok(Object.hasOwn(errorStatus, problem.code), `${where}: unknown code ${show(res)}`);
  assert.equal(errorStatus[problem.code], res.status, `${where}: code and status disagree ${show(res)}`);
  assert.equal(problem.status, res.status, where);
  if (expect.codes) assert.ok(expect.codes.includes(problem.code), `${where}: expected ${expect.codes.join(' or ')}, got ${show(res)}`);
}

for (const dialect of DIALECTS) {
  describe(`bad input over a real socket (${dialect})`, () => {
    let t: TestApp;
    let port: number;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);

    before(async () => {
      process.on('uncaughtException', onUncaught);
      t = await startTestApp({ dialect, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      await seedAccount(t.deps, { login: 'ivan', email: 'ivan@example.com', phone: '+79161234567' });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      port = (t.app.server.address() as AddressInfo).port;
    });

    after(async () => {
      process.off('uncaughtException', onUncaught);
      await t?.close();
    });

    test('huge bodies are 413, with a Content-Length, chunked, or a Content-Length that lies', async () => {
      const big = `{"login":"${'a'.repeat(KIB * KIB)}","password":"x"}`;
      for (const path of JSON_ENDPOINTS) {
        judge(await rawRequest(port, withBody('POST', path, 'application/json', big)), `${path} 1 MiB`, { codes: ['payload_too_large'] });
        const justOver = `{"login":"${'a'.repeat(64 * KIB)}"}`;
        judge(await rawRequest(port, withBody('POST', path, 'application/json', justOver)), `${path} 64 KiB + 13 bytes`, { codes: ['payload_too_large'] });
        const chunk = Buffer.from('a'.repeat(16 * KIB));
        const chunked = [
          Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`),
          ...Array.from({ length: 8 }, () => Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])),
          Buffer.from('0\r\n\r\n'),
        ];
        judge(await rawRequest(port, chunked), `${path} 128 KiB chunked`, { codes: ['payload_too_large'] });
        // Announces 1 GB, sends a little: refused on the header alone, without waiting for the rest.
        const liar = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"login":`;
        judge(await rawRequest(port, liar), `${path} Content-Length 1 GB`, { codes: ['payload_too_large'] });
      }
      for (const path of FORM_ENDPOINTS) {
        const form = `login=${'a'.repeat(KIB * KIB)}&password=x`;
        judge(await rawRequest(port, withBody('POST', path, 'application/x-www-form-urlencoded', form)), `${path} 1 MiB form`, { codes: ['payload_too_large'], page: true });
      }
    });

    test('deeply nested JSON: 100 000 levels is 413, as deep as fits under the limit is 400', async () => {
      const cases: Array<[string, string, Expect]> = [
        ['100 000 × [', '['.repeat(100_000), { codes: ['payload_too_large'] }],
        ['100 000 × [ ]', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, { codes: ['payload_too_large'] }],
        ['65 000 × [ (unclosed)', '['.repeat(65_000), { codes: ['invalid_request'] }],
        ['32 000 × [ ]', `${'['.repeat(32_000)}${']'.repeat(32_000)}`, { codes: ['invalid_request'] }],
        ['login: 30 000 × [ ]', `{"login":${'['.repeat(30_000)}${']'.repeat(30_000)}}`, { codes: ['invalid_request'] }],
        ['10 000 × {"a":', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, { codes: ['invalid_request'] }],
      ];
      for (const [name, body, expect] of cases) {
        for (const path of JSON_ENDPOINTS) judge(await rawRequest(port, withBody('POST', path, 'application/json', body)), `${path} ${name}`, expect);
      }
    });

    test('control characters and invalid UTF-8 in bodies', async () => {
      const raw = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
      const invalid = [[0xff], [0xfe, 0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]];
      for (const bytes of invalid) {
        const where = `bytes ${Buffer.from(bytes).toString('hex')}`;
        // Decoded as U+FFFD: an unknown login is still "accepted" (no enumeration), a wrong password is 401.
        judge(await rawRequest(port, withBody('POST', '/api/v1/recovery/email', 'application/json', raw('{"login":"iv', bytes, 'an"}'))), `recovery ${where}`, { ok: [202] });
        judge(await rawRequest(port, withBody('POST', '/api/v1/session', 'application/json', raw('{"login":"ivan","password":"pa', bytes, 'ss"}'))), `session ${where}`, { codes: ['invalid_credentials', 'invalid_request'] });
        judge(await rawRequest(port, withBody('POST', '/api/v1/recovery/complete', 'application/json', raw('{"token":"', bytes, '","password":"a-long-enough-password"}'))), `complete ${where}`, { codes: ['invalid_token', 'invalid_request'] });
        judge(await rawRequest(port, withBody('POST', '/api/v1/recovery/phone', 'application/json', raw('{"phone":"+7916', bytes, '1234567"}'))), `phone ${where}`, { ok: [202], codes: ['invalid_request'] });
        judge(await rawRequest(port, withBody('POST', '/login', 'application/x-www-form-urlencoded', raw('login=iv', bytes, 'an&password=x'))), `login form ${where}`, { page: true });
        judge(await rawRequest(port, withBody('POST', '/api/v1/session', 'application/json', raw([0xef, 0xbb, 0xbf], '{"login":"ivan"', bytes, ',"password":"x"}'))), `BOM + ${where} outside a string`, { codes: ['invalid_request'] });
      }
      const controls = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\r\n', '\u0085', '\u2028'];
      for (const c of controls) {
        const where = `control U+${c.codePointAt(0)?.toString(16).padStart(4, '0')}`;
        // Raw (unescaped) controls below U+0020 make the JSON invalid; escaped ones fail the schemas.
        for (const path of JSON_ENDPOINTS) {
          const field = path.endsWith('phone') ? 'phone' : path.endsWith('complete') ? 'token' : 'login';
          judge(await rawRequest(port, withBody('POST', path, 'application/json', `{"${field}":"iv${c}an","password":"pass${c}word-long"}`)), `${path} raw ${where}`, { ok: [202], codes: ['invalid_request', 'invalid_credentials', 'invalid_token'] });
          judge(await rawRequest(port, withBody('POST', path, 'application/json', JSON.stringify({ [field]: `iv${c}an`, password: `pass${c}word-long` }))), `${path} escaped ${where}`, { ok: [202], codes: ['invalid_request', 'invalid_credentials', 'invalid_token'] });
        }
        for (const path of FORM_ENDPOINTS) {
          judge(await rawRequest(port, withBody('POST', path, 'application/x-www-form-urlencoded', `login=iv${encodeURIComponent(c)}an&password=x${c}`)), `${path} ${where}`, { ok: [200], page: true });
        }
      }
    });

    test('invalid UTF-8 and control characters in URL paths and query strings', async () => {
      const paths = [
        '/recover/email/%ff%fe',
        '/recover/email/\xff\xfe',
        '/recover/email/%c3',
        '/recover/email/%00',
        '/recover/email/%ed%a0%80',
        `/recover/email/${'a'.repeat(5000)}`,
        '/%',
        '/%zz',
        '/\x01',
        '/login/\x7f',
        '/api/v1/portals/%ff/users',
        '/api/v1/portals/\xc3/users?query=%ff',
        '/api/v1/%ff',
        '/login?lang=%ff',
        '/login?lang=%00%0d%0a',
        '/login?lang=\xff',
        '/recover?%=%&&=&lang[]=x&lang=ru&lang=en',
        '/recover/checkword?login=%ff&checkword=%c3',
        '/recover/phone?flow=%00',
        '/healthz?%ff',
        '/api/v1/me?x=%ff',
      ];
      for (const path of paths) {
        for (const accept of ['', 'Accept: text/html\r\n']) {
          // Pages render (200), redirect (303) or refuse; the API refuses with a problem (or 401, nobody is signed in).
          judge(await rawRequest(port, get(path, accept)), `GET ${JSON.stringify(path).slice(0, 80)} ${accept ? 'html' : 'json'}`, { ok: [200, 303], page: true });
        }
      }
      // A long query string fits in the header limit or is refused with 431; never a 5xx.
      judge(await rawRequest(port, get(`/login?${'a=%ff&'.repeat(2000)}`)), 'query of 12 000 bytes', { ok: [200], page: true });
      judge(await rawRequest(port, get(`/login?${'a=%ff&'.repeat(20_000)}`)), 'query of 120 000 bytes', { codes: ['headers_too_large'] });
    });

    test('very long and odd headers: 431 or an ordinary answer, never a hang', async () => {
      const signIn = (headers: string) => withBody('POST', '/api/v1/session', 'application/json', '{"login":"ivan","password":"wrong-password"}', headers);
      judge(await rawRequest(port, get('/login', `Cookie: lk_session=${'a'.repeat(100 * KIB)}\r\n`)), '100 KB cookie', { codes: ['headers_too_large'] });
      judge(await rawRequest(port, get('/api/v1/me', `X-Junk: ${'a'.repeat(100 * KIB)}\r\n`)), '100 KB header', { codes: ['headers_too_large'] });
      judge(await rawRequest(port, get('/login', Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join(''))), '3000 headers', { codes: ['headers_too_large'] });
      // Under the limit: a 12 KB cookie of junk and odd values are just ignored.
      judge(await rawRequest(port, signIn(`Cookie: lk_session=${'%ff'.repeat(4000)}; lk_lang=\xff\r\n`)), '12 KB junk cookie', { codes: ['invalid_credentials'] });
      judge(await rawRequest(port, signIn('Accept-Language: \xff\xfe;q=abc, *;q=-1\r\nOrigin: null\r\n')), 'latin1 accept-language, Origin null', { codes: ['invalid_credentials', 'forbidden'] });
      judge(await rawRequest(port, signIn('Origin: http://evil.example\r\n')), 'foreign Origin', { codes: ['forbidden'] });
      judge(await rawRequest(port, signIn('X-Bad: a\x01b\r\n')), 'control byte in a header value', { codes: ['invalid_request'] });
      judge(await rawRequest(port, signIn('Bad Header Name: x\r\n')), 'space in a header name', { codes: ['invalid_request'] });
    });

    test('wrong, odd and missing content types', async () => {
      const body = '{"login":"ivan","password":"wrong-password"}';
      const types = [undefined, 'text/plain', 'text/html', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json;;;=;', 'application/jsonx', 'application/problem+json', '*/*', '\xff/\xfe', ''];
      for (const path of [...JSON_ENDPOINTS, ...FORM_ENDPOINTS]) {
        for (const type of types) {
          judge(await rawRequest(port, withBody('POST', path, type, body)), `${path} content-type ${JSON.stringify(type)}`, { ok: [200, 202], page: true });
        }
      }
      const utf16 = Buffer.from(body, 'utf16le');
      judge(await rawRequest(port, withBody('POST', '/api/v1/session', 'application/json; charset=utf-16', utf16)), 'UTF-16 body', { codes: ['invalid_request', 'unsupported_media_type'] });
    });

    test('malformed framing is 400; bodies cut short end cleanly', async () => {
      const post = (extra: string, body: string) => `POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}Connection: close\r\n\r\n${body}`;
      const cases: Array<[string, string]> = [
        ['Content-Length: abc', post('Content-Length: abc\r\n', '{}')],
        ['two Content-Lengths', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}')],
        ['Content-Length and chunked', post('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '0\r\n\r\n')],
        ['bad chunk size', post('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n')],
        ['garbage request line', 'GARBAGE\r\n\r\n'],
        ['unknown method', 'BREW /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
        ['HTTP/9.9', 'GET /login HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n'],
        ['NUL in request line', 'GET /lo\x00gin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'],
        ['bare LF line ends', 'GET /login HTTP/1.1\nHost: 127.0.0.1\n\n'],
      ];
      for (const [name, request] of cases) {
        const res = await rawRequest(port, Buffer.from(request, 'latin1'));
        // llhttp is lenient about some of these (bare LF); what matters is no 5xx and a well-formed refusal.
        judge(res, name, { ok: [200, 401, 404, 405], page: true });
      }
      // Half a body, then the client goes away: nothing to answer, nothing logged as a server failure.
      for (let i = 0; i < 20; i += 1) {
        const res = await rawRequest(port, `POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"login":"iv`, { endAfterWrite: true, timeoutMs: 10_000 });
        assert.ok(res.closedWithoutAnswer || res.status < 500, `half a body: ${show(res)}`);
      }
    });

    test('a client dropping the connection mid-body is its refusal, not a server failure', async () => {
      const before = t.logs.length;
      // Half a body, a pause (the server is now waiting for the rest), then the client drops the connection.
      await Promise.all(
        Array.from(
          { length: 10 },
          () =>
            new Promise<void>((resolve) => {
              const socket = net.connect(port, '127.0.0.1', () => {
                socket.write(`POST /api/v1/recovery/email HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"login":"iv`);
                setTimeout(() => socket.destroy(), 300);
              });
              socket.on('error', () => undefined);
              socket.on('close', () => resolve());
            }),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const failed = t.logs.slice(before).filter((line) => line.includes('"request failed"') || line.includes('"level":50'));
      assert.deepEqual(failed.map((line) => line.slice(0, 300)), [], 'a client hanging up is logged as a refusal');
    });

    test('afterwards: healthy, a normal sign-in works, nothing logged as a server failure, no uncaught error', async () => {
      judge(await rawRequest(port, get('/healthz')), 'healthz', { ok: [200] });
      const ready = await rawRequest(port, get('/readyz'));
      assert.equal(ready.status, 200, show(ready));
      const signIn = await fetch(`http://127.0.0.1:${port}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'ivan', password: PASSWORD }),
      });
      assert.equal(signIn.status, 200, await signIn.text());
      assert.match(signIn.headers.get('set-cookie') ?? '', /lk_session=/);
      const failed = t.logs.filter((line) => line.includes('"request failed"') || line.includes('"level":50') || line.includes('"level":60'));
      assert.deepEqual(failed.map((line) => line.slice(0, 400)), [], 'no request ended in a 5xx and nothing was logged as an error');
      assert.deepEqual(uncaught, []);
    });
  });
}
