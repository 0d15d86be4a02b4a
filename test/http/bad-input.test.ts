// SPEC §7 rule 15: bad input (malformed JSON, wrong types, huge bodies, control characters, arrays where
// strings are expected, very long passwords) gets a 4xx problem body with a stable `code`; never a 5xx,
// a crash or a hang. Property-based with fast-check over the sign-in and recovery endpoints, on both dialects.
//
// Where the right answer can be computed from the input (the JSON schemas of src/http/api.ts and the form
// schemas of src/http/pages.ts), the properties assert that exact answer; elsewhere (raw bytes, odd content
// types, huge headers) they assert the general rule: no 5xx, and every refusal is a well-formed problem.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { addMs, iso } from '../../src/kernel/clock.js';
import { sha256 } from '../../src/kernel/crypto.js';
import { errorStatus, type ErrorCode } from '../../src/kernel/errors.js';
import { insertRecoveryToken } from '../../src/store/recovery-tokens.repo.js';
import { DIALECTS, PASSWORD, cookieFrom, seedAccount, startTestApp, type TestApp } from '../support/app.js';

const ORIGIN = 'http://localhost:3000';
/** An answer slower than this is a hang (nothing here should take more than one argon2 verification). */
const HANG_MS = 10_000;
const MB = 1024 * 1024;
/** BODY_LIMIT of src/app.ts: a longer body is 413 before anything parses it. */
const BODY_LIMIT = 64 * 1024;
const tooLarge = (body: string) => Buffer.byteLength(body, 'utf8') > BODY_LIMIT;

// ---------------------------------------------------------------------------------------------------
// Endpoints

interface Endpoint {
  method: 'POST' | 'DELETE';
  url: string;
  /** A server-rendered form: expected refusals re-show the page (text/html) instead of a problem. */
  form: boolean;
  /** Statuses that are right for some valid input; anything else must be a 4xx. */
  successes: number[];
}

const SESSION: Endpoint = { method: 'POST', url: '/api/v1/session', form: false, successes: [] };
const RECOVERY_EMAIL: Endpoint = { method: 'POST', url: '/api/v1/recovery/email', form: false, successes: [202] };
const RECOVERY_COMPLETE: Endpoint = { method: 'POST', url: '/api/v1/recovery/complete', form: false, successes: [] };
const ME_PASSWORD: Endpoint = { method: 'POST', url: '/api/v1/me/password', form: false, successes: [] };
const SIGN_OUT: Endpoint = { method: 'DELETE', url: '/api/v1/session', form: false, successes: [204] };
const LOGIN_FORM: Endpoint = { method: 'POST', url: '/login', form: true, successes: [] };
const RECOVER_FORM: Endpoint = { method: 'POST', url: '/recover', form: true, successes: [200] };
const RESET_FORM: Endpoint = { method: 'POST', url: '/recover/password', form: true, successes: [] };

const JSON_ENDPOINTS = [SESSION, RECOVERY_EMAIL, RECOVERY_COMPLETE, ME_PASSWORD, SIGN_OUT];
const FORM_ENDPOINTS = [LOGIN_FORM, RECOVER_FORM, RESET_FORM];
const ALL_ENDPOINTS = [...JSON_ENDPOINTS, ...FORM_ENDPOINTS];

const label = (ep: Endpoint) => `${ep.method} ${ep.url}`;

// ---------------------------------------------------------------------------------------------------
// Sending and judging answers

/** app.inject, failing (instead of waiting forever) when the app does not answer. */
async function send(app: FastifyInstance, options: InjectOptions): Promise<LightMyRequestResponse> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no answer within ${HANG_MS} ms to ${options.method} ${options.url}`)), HANG_MS);
  });
  try {
    return await Promise.race([app.inject(options), hang]);
  } finally {
    clearTimeout(timer);
  }
}

function contentType(res: LightMyRequestResponse): string {
  return String(res.headers['content-type'] ?? '');
}

const isProblemType = (res: LightMyRequestResponse) => /^application\/problem\+json(;|$)/.test(contentType(res));
const isHtmlType = (res: LightMyRequestResponse) => /^text\/html(;|$)/.test(contentType(res));

function show(res: LightMyRequestResponse): string {
  return `${res.statusCode} [${contentType(res)}] ${res.body.slice(0, 300)}`;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  field?: string;
  reasons?: string[];
}

/** An RFC 9457 body with one of the stable codes of SPEC §5, whose status is the one that code has. */
function assertProblem(res: LightMyRequestResponse, where: string): Problem {
  assert.ok(isProblemType(res), `${where}: a ${res.statusCode} must be application/problem+json, got ${show(res)}`);
  let body: unknown;
  assert.doesNotThrow(() => (body = JSON.parse(res.body)), `${where}: problem body is not JSON: ${show(res)}`);
  assert.ok(typeof body === 'object' && body !== null && !Array.isArray(body), `${where}: problem body is not an object: ${show(res)}`);
  const problem = body as Record<string, unknown>;
  assert.equal(typeof problem.code, 'string', `${where}: problem without a string code: ${show(res)}`);
  const code = problem.code as string;
  assert.ok(Object.hasOwn(errorStatus, code), `${where}: unknown problem code ${code}: ${show(res)}`);
  assert.equal(errorStatus[code as ErrorCode], res.statusCode, `${where}: code ${code} with the wrong status: ${show(res)}`);
  assert.equal(problem.status, res.statusCode, `${where}: problem.status differs from the HTTP status: ${show(res)}`);
  assert.equal(typeof problem.title, 'string', `${where}: problem without a title: ${show(res)}`);
  assert.equal(problem.type, 'about:blank', `${where}: problem type: ${show(res)}`);
  if (problem.field !== undefined) assert.equal(typeof problem.field, 'string', `${where}: problem.field: ${show(res)}`);
  return problem as unknown as Problem;
}

/** The rule itself, for inputs whose right answer is not computed: no 5xx, successes only where some input may succeed, refusals well-formed. */
function assertWellRefused(res: LightMyRequestResponse, ep: Endpoint, where: string, acceptsHtml = false): void {
  assert.ok(res.statusCode < 500, `${where}: server error ${show(res)}`);
  if (ep.successes.includes(res.statusCode)) return;
  assert.ok(res.statusCode >= 400 && res.statusCode <= 499, `${where}: expected a 4xx, got ${show(res)}`);
  if (ep.form && !isProblemType(res)) {
    // A form re-shown with a message (wrong password, blank login, dead link, weak password, 429).
    assert.ok(isHtmlType(res), `${where}: a form refusal must be a page or a problem, got ${show(res)}`);
    // Without `Accept: text/html`, errors that reach the error handler must be problems (src/http/errors.ts).
    if (!acceptsHtml) assert.ok([400, 401, 422, 429].includes(res.statusCode), `${where}: unexpected page status ${show(res)}`);
    return;
  }
  assertProblem(res, where);
}

type Expected = { kind: 'problem'; code: ErrorCode } | { kind: 'ok'; status: number } | { kind: 'page'; status: number };

const problem = (code: ErrorCode): Expected => ({ kind: 'problem', code });
const ok = (status: number): Expected => ({ kind: 'ok', status });
const page = (status: number): Expected => ({ kind: 'page', status });

function showExpected(e: Expected): string {
  return e.kind === 'problem' ? `${errorStatus[e.code]} ${e.code}` : e.kind === 'ok' ? `${e.status}` : `${e.status} page`;
}

function matches(res: LightMyRequestResponse, e: Expected): boolean {
  switch (e.kind) {
    case 'ok':
      return res.statusCode === e.status;
    case 'page':
      return res.statusCode === e.status && isHtmlType(res);
    case 'problem': {
      if (res.statusCode !== errorStatus[e.code] || !isProblemType(res)) return false;
      try {
        return (JSON.parse(res.body) as { code?: unknown }).code === e.code;
      } catch {
        return false;
      }
    }
  }
}

/** The answer is one of the expected ones (a 429 is always acceptable too), and is well-formed. */
function assertAnswer(res: LightMyRequestResponse, ep: Endpoint, expected: Expected[], where: string): void {
  assert.ok(res.statusCode < 500, `${where}: server error ${show(res)} (expected ${expected.map(showExpected).join(' or ')})`);
  const allowed = [...expected, problem('rate_limited'), ...(ep.form ? [page(429)] : [])];
  if (!allowed.some((e) => matches(res, e))) {
    assert.fail(`${where}: expected ${expected.map(showExpected).join(' or ')}, got ${show(res)}`);
  }
  if (res.statusCode >= 400 && (!ep.form || isProblemType(res))) assertProblem(res, where);
  if (res.statusCode === 202) assert.deepEqual(JSON.parse(res.body), {}, `${where}: 202 body`);
}

/** Long runs of one character (10 000 × "a") make counterexamples unreadable: print them as a count. */
function squeeze(text: string): string {
  return text.replace(/(\\u[0-9a-fA-F]{4}|[^\\])\1{15,}/gu, (run: string, unit: string) => `${unit}…(×${run.length / unit.length})`);
}

/** fc.assert, with the counterexample and the failed assertion squeezed into a readable message. */
async function holds(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error ? `\nFailed: ${squeeze(cause.message)}` : '';
    throw new Error(`${squeeze(error instanceof Error ? error.message : String(error))}${causeText}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// The schemas, restated: what a valid input is (Ajv counts code points, as [...s] does)

const codePoints = (s: string) => [...s].length;
const hasControl = (s: string) => [...s].some((c) => (c.codePointAt(0) ?? 0) < 0x20 || c.codePointAt(0) === 0x7f);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isIdentifier = (v: unknown) => typeof v === 'string' && codePoints(v) >= 1 && codePoints(v) <= 320 && !hasControl(v);
const isPassword = (v: unknown) => typeof v === 'string' && codePoints(v) >= 1 && codePoints(v) <= 2048 && !v.includes('\u0000');
const isToken = (v: unknown) => typeof v === 'string' && codePoints(v) >= 1 && codePoints(v) <= 200;

/** Fastify's JSON parser refuses `__proto__` and `constructor.prototype` keys with a 400 (prototype poisoning). */
const mayBePoisoned = (text: string) => /"(?:__proto__|constructor)"\s*:/.test(text);

/** What a JSON endpoint must answer to this JSON text (nobody is signed in, the credentials are wrong). */
function expectJson(ep: Endpoint, text: string): Expected[] {
  if (tooLarge(text)) return [problem('payload_too_large')];
  let body: unknown;
  let parsed = true;
  try {
    // Fastify's parser skips a leading byte-order mark.
    body = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch {
    parsed = false;
  }
  const refused = problem('invalid_request');
  if (ep === SIGN_OUT) {
    // Nobody is signed in, so any body that parses is ignored; an empty JSON body may count as malformed.
    if (text === '') return [ok(204), refused];
    if (!parsed) return [refused];
    return mayBePoisoned(text) ? [ok(204), refused] : [ok(204)];
  }
  if (ep === ME_PASSWORD) {
    // The session guard runs before body validation: any body that parses meets "sign in first".
    if (!parsed) return [refused];
    return mayBePoisoned(text) ? [problem('unauthorized'), refused] : [problem('unauthorized')];
  }
  if (!parsed || !isObject(body)) return [refused];
  let valid: Expected;
  let shapeOk: boolean;
  if (ep === SESSION) {
    shapeOk = isIdentifier(body.login) && isPassword(body.password);
    // A login of blanks is a field left empty: named, counted nowhere (issue 14 item 7).
    valid = typeof body.login === 'string' && body.login.trim() === '' ? refused : problem('invalid_credentials');
  } else if (ep === RECOVERY_EMAIL) {
    shapeOk = isIdentifier(body.login);
    valid = ok(202);
  } else if (ep === RECOVERY_COMPLETE) {
    shapeOk = isToken(body.token) && isPassword(body.password);
    valid = problem('invalid_token');
  } else {
    throw new Error(`no oracle for ${label(ep)}`);
  }
  if (!shapeOk) return [refused];
  return mayBePoisoned(text) ? [valid, refused] : [valid];
}

/** The value a form field arrives as: the body carries UTF-8, so a lone surrogate becomes U+FFFD. */
const asSent = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

/** What a form endpoint must answer to these fields (each name with the values it was given). */
function expectForm(ep: Endpoint, fields: FormFields, body: string, htmlErrors: boolean): Expected[] {
  if (tooLarge(body)) return [htmlErrors ? page(413) : problem('payload_too_large')];
  const one = (name: keyof FormFields): string | undefined => {
    const values = fields[name];
    return values.length === 1 && codePoints(asSent(values[0] ?? '')) <= 2048 ? asSent(values[0] ?? '') : undefined;
  };
  const refused = htmlErrors ? page(400) : problem('invalid_request');
  if (ep === LOGIN_FORM) {
    const login = one('login');
    const password = one('password');
    if (login === undefined || password === undefined) return [refused];
    // An empty field is named on the form, not tried (issue 14 item 7).
    return login.trim() === '' || password === '' ? [page(400)] : [page(401)];
  }
  if (ep === RECOVER_FORM) {
    const login = one('login');
    if (login === undefined) return [refused];
    return login.trim() === '' ? [page(400)] : [page(200)];
  }
  if (ep === RESET_FORM) {
    // No reset cookie: once the body is valid, the link is "not valid".
    return one('password') !== undefined ? [page(400)] : [refused];
  }
  throw new Error(`no oracle for ${label(ep)}`);
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

/** Characters that break naive code: C0 controls and NUL, DEL, line separators, BOM, lone surrogates, NFKC expanders. */
const nastyUnit = fc.constantFrom(
  '\u0000',
  '\u0001',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\ufffd',
  '\ufdfa', // NFKC: 18 characters
  '\u0130',
  'ß',
  'ﬀ',
  '😀',
  'é',
  '@',
  '+',
  ' ',
  '"',
  '\\',
  '<',
  '%',
  '&',
  '=',
  'a',
  'Z',
  '0',
  '7',
  '.',
  'ivan',
  'example.com',
);
const nastyString = fc.string({ unit: fc.oneof({ weight: 3, arbitrary: nastyUnit }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }), maxLength: 24 });

/** Around every limit: 256 (policy), 320 (identifier), 2048 (schema), and far past them. */
const longString = fc
  .tuple(fc.constantFrom(1, 255, 256, 257, 320, 321, 1025, 2048, 2049, 10_000), fc.constantFrom('a', '😀', '\u0000', '\ufdfa', 'é', ' ', '\ud800'))
  .map(([n, c]) => c.repeat(n));

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.array(nastyString, { minLength: 1, maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

const fieldValue = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: longString },
  { weight: 1, arbitrary: fc.constantFrom('ivan', 'ivan@example.com', '+79161234567', '', ' ', PASSWORD.slice(1)) },
  { weight: 3, arbitrary: wrongType },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const fieldsBody = fc.record(
  { login: fieldValue, password: fieldValue, token: fieldValue, currentPassword: fieldValue, newPassword: fieldValue },
  { requiredKeys: [] },
);

/** A JSON body as the API receives it: mostly the right object with wrong members, sometimes anything at all. */
const jsonBody = fc.oneof(
  { weight: 6, arbitrary: fieldsBody },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.array(fieldsBody, { minLength: 1, maxLength: 2 }) },
);

/** JSON that is not: random text, near-JSON token soup, and valid bodies cut short. */
const jsonishText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '"login"', '"password"', '"token"', '"ivan"', '1', '-', 'e', 'null', 'true', '\\', '\\u', '\\ud800', '\\u0000', '0', ' ', '\n', '\u0000', '\ufeff'),
    maxLength: 40,
  }),
  fieldsBody
    .map((b) => JSON.stringify(b))
    .chain((text) => fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n))),
  fc.constantFrom('', ' ', 'null', '"ivan"', '[]', '{}', '{"login":"ivan"', '{"login":"ivan",}', "{'login':'ivan'}", '{"login":"ivan"}garbage', '\ufeff{"login":"ivan"}'),
);

/** Latin-1 visible characters: anything a real client can put into a header line. */
const headerChar = fc.integer({ min: 0x20, max: 0xff }).filter((n) => n !== 0x7f).map((n) => String.fromCharCode(n));
const headerText = fc.string({ unit: headerChar, maxLength: 80 });
const hugeHeader = fc.tuple(fc.integer({ min: 8 * 1024, max: 200 * 1024 }), headerChar).map(([n, c]) => c.repeat(n));

const contentTypes = fc.oneof(
  fc.constantFrom(
    undefined,
    '',
    'text/plain',
    'text/plain; charset=utf-8',
    'text/html',
    'application/xml',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
    'APPLICATION/JSON',
    'application/json;;',
    'application/json; boundary',
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=iso-8859-1',
    'multipart/form-data; boundary=xyz',
    'application/octet-stream',
    '*/*',
    'application/*',
    'application/problem+json',
    'application/jsonx',
    'application/vnd.api+json',
    ' application/json',
    'application/json, text/plain',
    'application',
    ';',
  ),
  headerText,
);

const anyPayload = fc.oneof(
  fc.constantFrom('{"login":"ivan","password":"wrong-password","token":"x","currentPassword":"a","newPassword":"b"}', 'login=ivan&password=wrong-password', ''),
  jsonishText,
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

interface FormFields {
  login: string[];
  password: string[];
  _csrf: string[];
  x: string[];
}

const formValue = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: longString },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t', 'ivan', '+79161234567', 'ivan@example.com') },
);
/** Usually one value, sometimes none or several (`login=a&login=b` arrives as an array). */
const formValues = fc.oneof(
  { weight: 6, arbitrary: formValue.map((v) => [v]) },
  { weight: 1, arbitrary: fc.constant([] as string[]) },
  { weight: 1, arbitrary: fc.array(formValue, { minLength: 2, maxLength: 3 }) },
);
const formFields: fc.Arbitrary<FormFields> = fc.record({ login: formValues, password: formValues, _csrf: formValues, x: formValues });

/** Percent-encodes every byte of the UTF-8 form but the unreserved ones. */
function percent(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function encodeForm(fields: FormFields, order: number[]): string {
  const pairs: string[] = [];
  for (const [name, values] of Object.entries(fields) as Array<[string, string[]]>) {
    for (const value of values) pairs.push(`${percent(name)}=${percent(value)}`);
  }
  // Shuffle deterministically by the generated order, so repeated names are not always adjacent.
  const picked = [...new Set(order)].filter((i) => i < pairs.length);
  return picked
    .map((i) => pairs[i])
    .concat(pairs.filter((_p, i) => !picked.includes(i)))
    .join('&');
}

/** Form bodies no browser would send: broken escapes, overlong and surrogate UTF-8, stray separators. */
const rawFormText = fc.string({
  unit: fc.constantFrom(
    'login=',
    'password=',
    '_csrf=',
    '&',
    '=',
    '+',
    ';',
    'ivan',
    'a',
    '%',
    '%2',
    '%ZZ',
    '%00',
    '%0A',
    '%7F',
    '%FF',
    '%C0%80', // overlong NUL
    '%ED%A0%80', // UTF-8 of a lone surrogate
    '%E2%82', // cut short
    '%F4%90%80%80', // past U+10FFFF
    '%EF%BB%BF',
    '%26',
    '%3D',
    '__proto__',
    'constructor',
    '[]',
    '[0]',
    '.',
  ),
  maxLength: 30,
});

// ---------------------------------------------------------------------------------------------------
// The properties, on each dialect

for (const dialect of DIALECTS) {
  describe(`bad input never gets a 5xx, a crash or a hang (${dialect})`, () => {
    let t: TestApp;
    let app: FastifyInstance;

    before(async () => {
      t = await startTestApp({ dialect, env: { LATCHKEY_RATE_LIMITS: 'off' } });
      app = t.app;
      await seedAccount(t.deps);
    });

    after(async () => {
      await t?.close();
    });

    const postJson = (ep: Endpoint, payload: string, headers: Record<string, string> = {}) =>
      send(app, { method: ep.method, url: ep.url, payload, headers: { 'content-type': 'application/json', ...headers } });
    const postForm = (ep: Endpoint, payload: string, headers: Record<string, string> = {}) =>
      send(app, { method: ep.method, url: ep.url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });

    test('JSON bodies of every shape and type get the answer their schema says', async () => {
      await holds(() =>
        fc.assert(
          fc.asyncProperty(jsonBody, async (value) => {
            const text = JSON.stringify(value) ?? '';
            for (const ep of JSON_ENDPOINTS) {
              assertAnswer(await postJson(ep, text), ep, expectJson(ep, text), `${label(ep)} ${text.slice(0, 200)}`);
            }
          }),
          { numRuns: 150 },
        ),
      );
    });

    test('malformed and truncated JSON text gets 400 invalid_request', async () => {
      await holds(() =>
        fc.assert(
          fc.asyncProperty(jsonishText, async (text) => {
            for (const ep of JSON_ENDPOINTS) {
              assertAnswer(await postJson(ep, text), ep, expectJson(ep, text), `${label(ep)} ${JSON.stringify(text.slice(0, 200))}`);
            }
          }),
          { numRuns: 150 },
        ),
      );
    });

    test('wrong, missing and garbled content types are refused with a problem', async () => {
      await holds(() =>
        fc.assert(
          fc.asyncProperty(fc.constantFrom(...ALL_ENDPOINTS), contentTypes, anyPayload, async (ep, type, payload) => {
            const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
            const res = await send(app, { method: ep.method, url: ep.url, payload, headers });
            assertWellRefused(res, ep, `${label(ep)} content-type ${JSON.stringify(type)} body ${JSON.stringify(String(payload).slice(0, 120))}`);
          }),
          { numRuns: 200 },
        ),
      );
    });

    test('form fields with controls, NUL, lone surrogates, repeats and huge values get the answer their schema says', async () => {
      await holds(() =>
        fc.assert(
          fc.asyncProperty(formFields, fc.array(fc.nat({ max: 12 }), { maxLength: 12 }), fc.boolean(), async (fields, order, htmlErrors) => {
            const body = encodeForm(fields, order);
            const headers: Record<string, string> = htmlErrors ? { accept: 'text/html' } : {};
            for (const ep of FORM_ENDPOINTS) {
              const res = await postForm(ep, body, headers);
              const where = `${label(ep)}${htmlErrors ? ' (Accept: text/html)' : ''} ${body.slice(0, 200)}`;
              assertAnswer(res, ep, expectForm(ep, fields, body, htmlErrors), where);
            }
          }),
          { numRuns: 60 },
        ),
      );
    });

    test('raw form bodies with broken escapes are refused with a page or a problem', async () => {
      await holds(() =>
        fc.assert(
          fc.asyncProperty(rawFormText, async (body) => {
            for (const ep of FORM_ENDPOINTS) assertWellRefused(await postForm(ep, body), ep, `${label(ep)} ${JSON.stringify(body)}`);
          }),
          { numRuns: 100 },
        ),
      );
    });

    test('huge and garbled header values are refused with a problem', async () => {
      const headerName = fc.constantFrom('user-agent', 'origin', 'cookie', 'accept', 'accept-language', 'referer', 'sec-fetch-site', 'x-forwarded-for', 'authorization', 'x-junk');
      const headerValue = fc.oneof(
        fc.constantFrom(ORIGIN, `${ORIGIN}/`, 'null', 'cross-site', 'same-origin', 'text/html', 'ru, en;q=0.5'),
        headerText,
        hugeHeader,
        fc.tuple(fc.constantFrom('lk_session', 'lk_reset', 'lk_lang'), fc.oneof(headerText, hugeHeader)).map(([name, v]) => `${name}=${v}`),
      );
      const bodies: Record<string, string> = {
        json: JSON.stringify({ login: 'ivan', password: 'wrong-password', token: 'x'.repeat(43), currentPassword: 'a', newPassword: 'b' }),
        form: 'login=ivan&password=wrong-password',
      };
      await holds(() =>
        fc.assert(
          fc.asyncProperty(fc.constantFrom(...ALL_ENDPOINTS), fc.dictionary(headerName, headerValue, { minKeys: 1, maxKeys: 3 }), async (ep, extra) => {
            const headers = { 'content-type': ep.form ? 'application/x-www-form-urlencoded' : 'application/json', ...extra };
            const res = await send(app, { method: ep.method, url: ep.url, payload: ep.form ? bodies.form : bodies.json, headers });
            const shown = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 40)}… (${v.length} chars)` : v]));
            assertWellRefused(res, ep, `${label(ep)} headers ${JSON.stringify(shown)}`, (extra.accept ?? '').includes('text/html'));
          }),
          { numRuns: 60 },
        ),
      );
    });

    // -----------------------------------------------------------------------------------------------
    // Fixed cases the properties only reach by luck

    test('a 10 000-character password is 400 invalid_request (field password) everywhere', async () => {
      const long = 'a'.repeat(10_000);
      const cases: Array<[Endpoint, object]> = [
        [SESSION, { login: 'ivan', password: long }],
        [RECOVERY_COMPLETE, { token: 'x'.repeat(43), password: long }],
      ];
      for (const [ep, body] of cases) {
        const res = await postJson(ep, JSON.stringify(body));
        assertAnswer(res, ep, [problem('invalid_request')], `${label(ep)} 10 000-character password`);
        assert.equal(assertProblem(res, label(ep)).field, 'password');
      }
      // Unauthenticated: the guard speaks before the schema.
      const me = await postJson(ME_PASSWORD, JSON.stringify({ currentPassword: long, newPassword: long }));
      assertAnswer(me, ME_PASSWORD, [problem('unauthorized')], 'me/password 10 000-character password');

      for (const ep of [LOGIN_FORM, RESET_FORM]) {
        const res = await postForm(ep, `login=ivan&password=${long}`);
        assertAnswer(res, ep, [problem('invalid_request')], `${label(ep)} 10 000-character password`);
        assert.equal(assertProblem(res, label(ep)).field, 'password');
      }
    });

    test('passwords at the schema limit: 2048 code points pass the schema, 2049 do not', async () => {
      for (const c of ['a', '😀']) {
        const at = await postJson(SESSION, JSON.stringify({ login: 'ivan', password: c.repeat(2048) }));
        assertAnswer(at, SESSION, [problem('invalid_credentials')], `2048 × ${c}`);
        const past = await postJson(SESSION, JSON.stringify({ login: 'ivan', password: c.repeat(2049) }));
        assertAnswer(past, SESSION, [problem('invalid_request')], `2049 × ${c}`);
      }
    });

    test('with a live recovery token: a too-long password is 422 too_long (2048) or 400 (10 000), and the token survives', async () => {
      const account = await seedAccount(t.deps, { login: `long${dialect}`, email: `long-${dialect}@example.com` });
      const token = randomBytes(32).toString('base64url');
      const now = new Date();
      await insertRecoveryToken(t.deps.store.db, {
        token_hash: sha256(token),
        account_id: account.id,
        purpose: 'email_link',
        created_at: iso(now),
        expires_at: iso(addMs(now, 3600_000)),
        consumed_at: null,
        revoked_at: null,
      });

      const weak = await postJson(RECOVERY_COMPLETE, JSON.stringify({ token, password: 'b'.repeat(2048) }));
      assertAnswer(weak, RECOVERY_COMPLETE, [problem('weak_password')], 'complete with a 2048-character password');
      assert.deepEqual(assertProblem(weak, 'complete').reasons, ['too_long']);
      const huge = await postJson(RECOVERY_COMPLETE, JSON.stringify({ token, password: 'b'.repeat(10_000) }));
      assertAnswer(huge, RECOVERY_COMPLETE, [problem('invalid_request')], 'complete with a 10 000-character password');

      const cookie = { cookie: `lk_reset=${token}` };
      const formWeak = await postForm(RESET_FORM, `password=${'b'.repeat(2048)}`, cookie);
      assertAnswer(formWeak, RESET_FORM, [page(422)], 'reset form with a 2048-character password');
      const formHuge = await postForm(RESET_FORM, `password=${'b'.repeat(10_000)}`, cookie);
      assertAnswer(formHuge, RESET_FORM, [problem('invalid_request')], 'reset form with a 10 000-character password');

      // Nothing was consumed: the link still opens.
      const open = await send(app, { method: 'GET', url: `/recover/email/${token}` });
      assert.equal(open.statusCode, 303, show(open));
    });

    test('a 1 MB body is 413 payload_too_large, with or without a Content-Length', async () => {
      const big = `{"login":"${'a'.repeat(MB)}","password":"x"}`;
      const bigForm = `login=${'a'.repeat(MB)}&password=x`;
      for (const ep of ALL_ENDPOINTS) {
        for (const [type, payload] of [
          ['application/json', big],
          ['application/x-www-form-urlencoded', bigForm],
          ['text/plain', big],
        ] as const) {
          const res = await send(app, { method: ep.method, url: ep.url, payload, headers: { 'content-type': type } });
          // The JSON API refuses any other content type before reading the body.
          const expected = !ep.form && type !== 'application/json' ? 'unsupported_media_type' : 'payload_too_large';
          assertAnswer(res, ep, [problem(expected)], `${label(ep)} 1 MB ${type}`);
        }
        const chunked = await send(app, {
          method: ep.method,
          url: ep.url,
          payload: Readable.from([Buffer.from(big.slice(0, MB / 2)), Buffer.from(big.slice(MB / 2))]),
          headers: { 'content-type': ep.form ? 'application/x-www-form-urlencoded' : 'application/json', 'transfer-encoding': 'chunked' },
        });
        assertAnswer(chunked, ep, [problem('payload_too_large')], `${label(ep)} 1 MB chunked`);
      }
    });

    test('deeply nested JSON (10 000 and 30 000 levels) is refused or ignored, never a 5xx', async () => {
      const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
      const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
      const texts = [
        '['.repeat(10_000),
        deep(10_000),
        deep(30_000),
        deepObject(10_000),
        `{"login":${deep(10_000)},"password":${deep(10_000)}}`,
        `{"token":${deepObject(5_000)},"password":"x"}`,
        `{"login":"ivan","password":"wrong-password","x":${deep(10_000)}}`,
        `{"login":"ivan","x":${deepObject(10_000)}}`,
      ];
      for (const text of texts) {
        assert.ok(!tooLarge(text), 'stays under the body limit, so the parser really sees it');
        for (const ep of JSON_ENDPOINTS) assertAnswer(await postJson(ep, text), ep, expectJson(ep, text), `${label(ep)} ${text.slice(0, 60)}…`);
        for (const ep of FORM_ENDPOINTS) assertWellRefused(await postJson(ep, text), ep, `${label(ep)} JSON ${text.slice(0, 60)}…`);
      }
    });

    test('no body at all is 400 invalid_request (204 for sign-out)', async () => {
      for (const ep of ALL_ENDPOINTS) {
        const res = await send(app, { method: ep.method, url: ep.url });
        const expected = ep === SIGN_OUT ? [ok(204)] : ep === ME_PASSWORD ? [problem('unauthorized')] : [problem('invalid_request')];
        assertAnswer(res, ep, expected, `${label(ep)} without a body`);
      }
    });

    test('afterwards the app is healthy, a normal sign-in works, and no request was logged as failed', async () => {
      const health = await send(app, { method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200, show(health));
      const ready = await send(app, { method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200, show(ready));

      const signIn = await postJson(SESSION, JSON.stringify({ login: 'ivan', password: PASSWORD }));
      assert.equal(signIn.statusCode, 200, show(signIn));
      assert.equal((JSON.parse(signIn.body) as { account: { login: string } }).account.login, 'ivan');
      const session = cookieFrom(signIn.headers['set-cookie'], 'lk_session');
      assert.ok(session, 'a session cookie is set');
      const me = await send(app, { method: 'GET', url: '/api/v1/me', cookies: { lk_session: session } });
      assert.equal(me.statusCode, 200, show(me));

      const formSignIn = await postForm(LOGIN_FORM, `login=ivan&password=${percent(PASSWORD)}`);
      assert.equal(formSignIn.statusCode, 303, show(formSignIn));

      const failed = t.logs.filter((line) => line.includes('"request failed"'));
      assert.deepEqual(failed.map((line) => line.slice(0, 500)), [], 'no request ended in a 5xx');
    });
  });
}
