import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PermanentDeliveryError } from '../../src/delivery/errors.js';
import { devSmsTransport, type SmsTransport } from '../../src/delivery/sms-transport.js';
import { createSmsRuTransport, createSmsTransport, createTwilioTransport, createWebhookSmsTransport } from '../../src/delivery/sms/index.js';

// Every gateway here talks to a stub on 127.0.0.1 that checks the request as the provider documents it and
// answers with the provider's documented bodies; nothing leaves the machine.

const NUMBER = '+79255070602';
const DIGITS = '79255070602';
const TEXT = 'Код для входа: 482913. Никому его не сообщайте — «Latchkey».';
const message = { to: NUMBER, text: TEXT };

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Reply = (request: Received, response: ServerResponse) => void;

/** A local HTTP server whose answer each test sets; records every request it gets. */
class Stub {
  readonly requests: Received[] = [];
  reply: Reply = (_request, response) => response.writeHead(500).end();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      this.requests.push(received);
      this.reply(received, res);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The one request the last send made. */
  last(): Received {
    const request = this.requests.at(-1);
    assert.ok(request, 'the gateway was called');
    return request;
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

function form(body: string): Record<string, string> {
  const params = new URLSearchParams(body);
  assert.equal(new Set(params.keys()).size, [...params.keys()].length, 'no field is sent twice');
  return Object.fromEntries(params);
}

async function rejectsPermanently(promise: Promise<void>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PermanentDeliveryError, `expected PermanentDeliveryError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

async function rejectsForRetry(promise: Promise<void>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.ok(!(error instanceof PermanentDeliveryError), `expected a retryable error, got PermanentDeliveryError: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A port nothing listens on: start a server, note its port, close it. */
async function deadPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** A server that accepts the request and never answers. */
const silent: Reply = () => undefined;

// ---------------------------------------------------------------------------

describe('createSmsTransport', () => {
  it('picks the transport for each provider', () => {
    assert.equal(createSmsTransport({ provider: 'none' }), undefined);
    assert.equal(createSmsTransport({ provider: 'dev' }), devSmsTransport);
    assert.equal(createSmsTransport({ provider: 'webhook', url: 'http://127.0.0.1:9/sms' })?.kind, 'webhook');
    assert.equal(createSmsTransport({ provider: 'smsru', apiId: 'x', baseUrl: 'http://127.0.0.1:9', from: undefined })?.kind, 'smsru');
    assert.equal(
      createSmsTransport({ provider: 'twilio', accountSid: 'AC1', authToken: 't', from: '+15005550006', baseUrl: 'http://127.0.0.1:9' })?.kind,
      'twilio',
    );
  });
});

// ---------------------------------------------------------------------------

describe('SMS gateway: generic webhook', () => {
  const stub = new Stub();
  let base = '';
  let sms: SmsTransport;

  before(async () => {
    base = await stub.start();
    sms = createWebhookSmsTransport(`${base}/hooks/sms?key=abc`, { timeoutMs: 2_000 });
  });
  after(() => stub.stop());

  it('POSTs {"to","text"} as JSON to the configured URL and takes any 2xx as accepted', async () => {
    for (const status of [200, 202, 204]) {
      stub.reply = (_request, response) => response.writeHead(status).end();
      await sms.send(message);
      const request = stub.last();
      assert.equal(request.method, 'POST');
      assert.equal(request.url, '/hooks/sms?key=abc', 'path and query kept as configured');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.body, JSON.stringify({ to: NUMBER, text: TEXT }));
      assert.deepEqual(JSON.parse(request.body), { to: NUMBER, text: TEXT });
    }
  });

  it('delivers Cyrillic text and a +7 number intact (UTF-8, byte for byte)', async () => {
    stub.reply = (_request, response) => response.writeHead(200).end('ok');
    await sms.send(message);
    const { body } = stub.last();
    assert.equal(Buffer.byteLength(body), Buffer.byteLength(JSON.stringify(message)));
    const parsed = JSON.parse(body) as { to: string; text: string };
    assert.equal(parsed.to, NUMBER);
    assert.equal(parsed.text, TEXT);
  });

  it('a 4xx refusal is permanent and names the status and the answer', async () => {
    stub.reply = (_request, response) => response.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid number ${NUMBER}\n`);
    await rejectsPermanently(sms.send(message), /^SMS webhook: HTTP 400: invalid number \+\*\*\*$/);
    stub.reply = (_request, response) => json(response, 422, { error: 'x'.repeat(1000) });
    await assert.rejects(sms.send(message), (error: Error) => error instanceof PermanentDeliveryError && error.message.length < 260);
    for (const status of [401, 403, 404]) {
      stub.reply = (_request, response) => response.writeHead(status).end();
      await rejectsPermanently(sms.send(message), new RegExp(`HTTP ${status}`));
    }
  });

  it('408, 429 and 5xx are retryable', async () => {
    for (const status of [408, 429, 500, 502, 503]) {
      stub.reply = (_request, response) => response.writeHead(status).end('try later');
      await rejectsForRetry(sms.send(message), new RegExp(`^SMS webhook: HTTP ${status}: try later$`));
    }
  });

  it('does not follow a redirect (a POST would turn into a body-less GET) and reports it as permanent', async () => {
    const before = stub.requests.length;
    stub.reply = (_request, response) => response.writeHead(301, { location: `${base}/elsewhere` }).end();
    await rejectsPermanently(sms.send(message), /HTTP 301 redirect to http:\/\/127\.0\.0\.1:\d+\/elsewhere/);
    assert.equal(stub.requests.length, before + 1, 'the redirect target was not requested');
  });

  it('a refused connection is retryable', async () => {
    const dead = createWebhookSmsTransport(`${await deadPort()}/sms`);
    await rejectsForRetry(dead.send(message), /^SMS webhook: request failed \(.*ECONNREFUSED/);
  });

  it('a gateway that never answers times out, retryably', async () => {
    stub.reply = silent;
    const quick = createWebhookSmsTransport(`${base}/hooks/sms`, { timeoutMs: 150 });
    const started = Date.now();
    await rejectsForRetry(quick.send(message), /^SMS webhook: no answer within 150 ms$/);
    assert.ok(Date.now() - started < 2_000, 'gave up near the time-out');
  });
});

// ---------------------------------------------------------------------------

describe('SMS gateway: SMS.ru', () => {
  const stub = new Stub();
  const apiId = '00000000-1111-2222-3333-444444444444';
  let base = '';
  let sms: SmsTransport;

  /** The documented answer with json=1 (https://sms.ru/api/send), one recipient. */
  const accepted = {
    status: 'OK',
    status_code: 100,
    sms: { [DIGITS]: { status: 'OK', status_code: 100, sms_id: '000000-10000000' } },
    balance: 4122.56,
  };
  const perNumber = (code: number, text: string) => ({
    status: 'OK',
    status_code: 100,
    sms: { [DIGITS]: { status: 'ERROR', status_code: code, status_text: text } },
    balance: 0,
  });
  const whole = (code: number, text: string) => ({ status: 'ERROR', status_code: code, status_text: text });

  before(async () => {
    base = await stub.start();
    sms = createSmsRuTransport({ apiId, baseUrl: `${base}/`, from: 'Latchkey' }, { timeoutMs: 2_000 });
  });
  after(() => stub.stop());

  it('POSTs the form to /sms/send exactly as documented and accepts status_code 100', async () => {
    stub.reply = (_request, response) => json(response, 200, accepted);
    await sms.send(message);
    const request = stub.last();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/sms/send');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request.headers.authorization, undefined, 'SMS.ru takes api_id in the form, not a header');
    assert.deepEqual(form(request.body), { api_id: apiId, to: DIGITS, msg: TEXT, json: '1', from: 'Latchkey' });
  });

  it('leaves out `from` when no sender name is configured', async () => {
    stub.reply = (_request, response) => json(response, 200, accepted);
    const plain = createSmsRuTransport({ apiId, baseUrl: base, from: undefined });
    await plain.send(message);
    assert.deepEqual(form(stub.last().body), { api_id: apiId, to: DIGITS, msg: TEXT, json: '1' });
  });

  it('delivers Cyrillic text intact and the number as digits without +', async () => {
    stub.reply = (_request, response) => json(response, 200, accepted);
    await sms.send({ to: NUMBER, text: 'Привет, мир! Ёё Щщ 😀' });
    const fields = form(stub.last().body);
    assert.equal(fields.msg, 'Привет, мир! Ёё Щщ 😀');
    assert.equal(fields.to, DIGITS);
  });

  it('finds the result when SMS.ru keys it by its own spelling of the number', async () => {
    stub.reply = (_request, response) => json(response, 200, { ...accepted, sms: { '7 925 507-06-02': accepted.sms[DIGITS] } });
    await sms.send(message);
  });

  it('202 invalid number is permanent and names the code and status_text', async () => {
    stub.reply = (_request, response) => json(response, 200, perNumber(202, 'Неправильно указан номер телефона получателя, либо на него нет маршрута'));
    await rejectsPermanently(sms.send(message), /^SMS\.ru: status_code 202: Неправильно указан номер телефона получателя/);
  });

  it('201 out of balance is permanent, per number or for the whole request', async () => {
    stub.reply = (_request, response) => json(response, 200, perNumber(201, 'Не хватает средств на лицевом счету'));
    await rejectsPermanently(sms.send(message), /status_code 201: Не хватает средств на лицевом счету/);
    stub.reply = (_request, response) => json(response, 200, whole(201, 'Не хватает средств на лицевом счету'));
    await rejectsPermanently(sms.send(message), /status_code 201: Не хватает средств/);
  });

  it('200 bad api_id is permanent and the message does not carry the api_id', async () => {
    stub.reply = (_request, response) => json(response, 200, whole(200, 'Неправильный api_id'));
    await assert.rejects(sms.send(message), (error: Error) => {
      assert.ok(error instanceof PermanentDeliveryError);
      assert.match(error.message, /status_code 200: Неправильный api_id/);
      assert.ok(!error.message.includes(apiId));
      return true;
    });
  });

  it('sender not approved, no route, stop list and per-number limits are permanent', async () => {
    const cases: [number, string, 'whole' | 'number'][] = [
      [204, 'Имя отправителя не согласовано с администрацией', 'whole'],
      [207, 'На этот номер нет маршрута для доставки сообщений', 'number'],
      [209, 'Вы добавили этот номер (или один из номеров) в стоп-лист', 'number'],
      [231, 'Превышен лимит одинаковых сообщений на этот номер в минуту', 'number'],
      [301, 'Неправильный api_id, либо логин/пароль', 'whole'],
    ];
    for (const [code, text, where] of cases) {
      stub.reply = (_request, response) => json(response, 200, where === 'whole' ? whole(code, text) : perNumber(code, text));
      await rejectsPermanently(sms.send(message), new RegExp(`status_code ${code}: `));
    }
  });

  it('220 "service temporarily unavailable" and 500 "server error" are retryable', async () => {
    stub.reply = (_request, response) => json(response, 200, whole(220, 'Сервис временно недоступен, попробуйте чуть позже'));
    await rejectsForRetry(sms.send(message), /^SMS\.ru: status_code 220: Сервис временно недоступен/);
    stub.reply = (_request, response) => json(response, 200, perNumber(500, 'Ошибка на сервере. Повторите запрос.'));
    await rejectsForRetry(sms.send(message), /status_code 500: Ошибка на сервере/);
  });

  it('HTTP 5xx, 429 and an unreadable answer are retryable', async () => {
    for (const status of [429, 500, 502, 503]) {
      stub.reply = (_request, response) => response.writeHead(status, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>');
      await rejectsForRetry(sms.send(message), new RegExp(`^SMS\\.ru: HTTP ${status}`));
    }
    stub.reply = (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
    await rejectsForRetry(sms.send(message), /^SMS\.ru: unreadable answer: <html>maintenance<\/html>$/);
  });

  it('a gateway that never answers times out, retryably', async () => {
    stub.reply = silent;
    const quick = createSmsRuTransport({ apiId, baseUrl: base, from: undefined }, { timeoutMs: 150 });
    await rejectsForRetry(quick.send(message), /^SMS\.ru: no answer within 150 ms$/);
  });

  it('a refused connection is retryable', async () => {
    const dead = createSmsRuTransport({ apiId, baseUrl: await deadPort(), from: undefined });
    await rejectsForRetry(dead.send(message), /^SMS\.ru: request failed/);
  });
});

// ---------------------------------------------------------------------------

describe('SMS gateway: Twilio', () => {
  const stub = new Stub();
  const accountSid = 'AC0123456789abcdef0123456789abcdef';
  const authToken = 'f00dfacef00dfacef00dfacef00dface';
  const from = '+15005550006';
  let base = '';
  let sms: SmsTransport;

  /** The documented 201 answer to "Create a Message resource". */
  const created = (to: string, body: string) => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    body,
    date_created: 'Thu, 24 Aug 2023 05:01:45 +0000',
    date_sent: null,
    date_updated: 'Thu, 24 Aug 2023 05:01:45 +0000',
    direction: 'outbound-api',
    error_code: null,
    error_message: null,
    from,
    messaging_service_sid: null,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: 'SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    status: 'queued',
    subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Media.json` },
    to,
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json`,
  });
  /** Twilio's documented error body: {code, message, more_info, status}. */
  const failure = (response: ServerResponse, status: number, code: number, text: string) =>
    json(response, status, { code, message: text, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  before(async () => {
    base = await stub.start();
    sms = createTwilioTransport({ accountSid, authToken, from, baseUrl: base }, { timeoutMs: 2_000 });
    stub.reply = (request, response) => {
      const fields = form(request.body);
      json(response, 201, created(fields.To ?? '', fields.Body ?? ''));
    };
  });
  after(() => stub.stop());

  it('POSTs To/From/Body with Basic auth to the Messages resource and accepts 201 queued', async () => {
    await sms.send(message);
    const request = stub.last();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `/2010-04-01/Accounts/${accountSid}/Messages.json`);
    assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(form(request.body), { To: NUMBER, From: from, Body: TEXT });
    assert.match(request.body, /(^|&)To=%2B79255070602(&|$)/, 'the + of the E.164 number is percent-encoded, not a space');
  });

  it('delivers Cyrillic text and a +7 number intact', async () => {
    await sms.send({ to: NUMBER, text: 'Ваш код: 000111. Ёлка, щука, «кавычки» — и эмодзи 🔐' });
    const fields = form(stub.last().body);
    assert.equal(fields.To, NUMBER);
    assert.equal(fields.Body, 'Ваш код: 000111. Ёлка, щука, «кавычки» — и эмодзи 🔐');
  });

  it('invalid, non-mobile, region-blocked and unsubscribed numbers are permanent', async () => {
    const cases: [number, string, RegExp][] = [
      [21211, `The 'To' number ${NUMBER} is not a valid phone number.`, /HTTP 400, code 21211 \(invalid 'To' number\): The 'To' number \+\*\*\* is not a valid/],
      [21614, "'To' number is not a valid mobile number", /code 21614 \('To' number is not a mobile number\)/],
      [21408, `Permission to send an SMS has not been enabled for the region indicated by the 'To' number: ${NUMBER}.`, /code 21408 \(region not enabled/],
      [21610, 'Attempt to send to unsubscribed recipient', /code 21610 \(recipient unsubscribed\)/],
    ];
    for (const [code, text, pattern] of cases) {
      stub.reply = (_request, response) => failure(response, 400, code, text);
      await assert.rejects(sms.send(message), (error: Error) => {
        assert.ok(error instanceof PermanentDeliveryError, `${code} is permanent`);
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes(DIGITS), 'the number is masked in the recorded error');
        return true;
      });
    }
  });

  it('bad credentials (20003, HTTP 401) are permanent and the message carries no secret', async () => {
    stub.reply = (_request, response) => failure(response, 401, 20003, 'Authenticate');
    await assert.rejects(sms.send(message), (error: Error) => {
      assert.ok(error instanceof PermanentDeliveryError);
      assert.match(error.message, /^Twilio: HTTP 401, code 20003 \(authentication failed or account suspended\): Authenticate$/);
      assert.ok(!error.message.includes(authToken));
      return true;
    });
  });

  it('an account out of funds / not active (20005, 10001) is permanent', async () => {
    stub.reply = (_request, response) => failure(response, 401, 20005, 'Account not active');
    await rejectsPermanently(sms.send(message), /code 20005 \(account not active\)/);
    stub.reply = (_request, response) => failure(response, 403, 10001, 'Account is not active');
    await rejectsPermanently(sms.send(message), /code 10001 \(account not active\)/);
  });

  it('429 too many requests (20429) and 5xx are retryable', async () => {
    stub.reply = (_request, response) => failure(response, 429, 20429, 'Too Many Requests');
    await rejectsForRetry(sms.send(message), /^Twilio: HTTP 429, code 20429 \(too many requests\): Too Many Requests$/);
    stub.reply = (_request, response) => failure(response, 500, 20500, 'Internal Server Error');
    await rejectsForRetry(sms.send(message), /^Twilio: HTTP 500, code 20500: Internal Server Error$/);
    stub.reply = (_request, response) => response.writeHead(503, { 'content-type': 'text/html' }).end('<html>Service Unavailable</html>');
    await rejectsForRetry(sms.send(message), /^Twilio: HTTP 503: <html>Service Unavailable<\/html>$/);
  });

  it('a gateway that never answers times out, retryably', async () => {
    stub.reply = silent;
    const quick = createTwilioTransport({ accountSid, authToken, from, baseUrl: base }, { timeoutMs: 150 });
    await rejectsForRetry(quick.send(message), /^Twilio: no answer within 150 ms$/);
  });

  it('a refused connection is retryable', async () => {
    const dead = createTwilioTransport({ accountSid, authToken, from, baseUrl: await deadPort() });
    await rejectsForRetry(dead.send(message), /^Twilio: request failed/);
  });
});
