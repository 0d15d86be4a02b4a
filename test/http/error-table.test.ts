import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Locale } from '../../src/domain/locale.js';
import { errorRow, errorTable } from '../../src/http/error-table.js';
import { problemBody, sendError } from '../../src/http/errors.js';
import { formRefusal, type Wording } from '../../src/http/form-refusal.js';
import { AppError, errorStatus, type ErrorCode, type ErrorExtras } from '../../src/kernel/errors.js';
import { translator, type MessageKey } from '../../src/ui/i18n.js';
import { en } from '../../src/ui/locales/en.js';
import { ru } from '../../src/ui/locales/ru.js';
import { errorPage, weakPasswordMessages } from '../../src/ui/pages.js';
import { rateLimitedMessage } from '../../src/ui/wait.js';

/**
 * Issue 11, "Structure to leave behind": one table (src/http/error-table.ts) decides, per error code, the
 * status, the API title, the error page's sentence and whether a form re-shows itself. The compiler checks
 * that every code has a row and every key exists; this checks the words are there in both languages and that
 * problemBody, sendError and formRefusal say what the table says.
 */

const CODES = Object.keys(errorStatus) as ErrorCode[];
const LOCALES: Locale[] = ['en', 'ru'];
const catalogs: Record<Locale, Record<string, string>> = { en, ru };

/** Extras a real refusal of that code carries, so the special renderers have something to render. */
function extrasFor(code: ErrorCode): ErrorExtras {
  if (code === 'rate_limited') return { retryAfter: 125 };
  if (code === 'weak_password') return { reasons: ['too_short', 'common'] };
  return {};
}

/** Every message key a row names (the special renderers are not keys). */
function keysOf(code: ErrorCode): MessageKey[] {
  const row = errorRow(code);
  return [row.title, row.page, row.form].filter((key): key is MessageKey => key !== false && key !== 'wait' && key !== 'weak-password');
}

describe('error table', () => {
  it('has one row per error code, with the status kernel gives AppError', () => {
    assert.deepEqual(Object.keys(errorTable).sort(), [...CODES].sort());
    for (const code of CODES) {
      assert.equal(errorRow(code).status, errorStatus[code], code);
      assert.equal(errorRow(code).status, new AppError(code).status, code);
      assert.equal(errorRow(code).title, `problem.${code}`, code);
    }
  });

  it('names only keys with real text in Russian and English, never the raw code', () => {
    for (const code of CODES) {
      for (const key of keysOf(code)) {
        for (const lang of LOCALES) {
          const text = catalogs[lang][key];
          assert.equal(typeof text, 'string', `${lang} ${key}`);
          assert.ok(text && text.trim().length > 0, `${lang} ${key} is empty`);
          assert.ok(!text.includes(key) && text.trim() !== code, `${lang} ${key} shows the raw key or code: ${text}`);
          // No snake_case code (invalid_request and the like) inside the sentence either.
          assert.doesNotMatch(text, /\b[a-z]+_[a-z_]+\b/, `${lang} ${key} shows a raw code: ${text}`);
          if (lang === 'ru') assert.match(text, /[а-яё]/i, `ru ${key} is not Russian: ${text}`);
        }
      }
    }
  });

  it('problemBody takes status and title from the table, in both languages', () => {
    for (const code of CODES) {
      for (const lang of LOCALES) {
        const body = problemBody(new AppError(code), lang);
        assert.equal(body.status, errorRow(code).status, code);
        assert.equal(body.code, code);
        assert.equal(body.title, translator(lang)(errorRow(code).title), `${lang} ${code}`);
      }
    }
    assert.equal(problemBody(new AppError('rate_limited')).title, 'Too many requests', 'English when nothing says otherwise');
    assert.equal(problemBody(new AppError('invalid_credentials'), 'ru').title, 'Неверный логин или пароль');
  });

  describe('through a Fastify app', () => {
    let app: FastifyInstance;
    before(async () => {
      app = Fastify({ logger: false });
      app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
      app.get<{ Params: { code: ErrorCode } }>('/throw/:code', async (request) => {
        throw new AppError(request.params.code, extrasFor(request.params.code));
      });
      // A form that re-shows itself for what it can say (here as JSON, to read what it would show) and rethrows the rest.
      app.post<{ Params: { code: ErrorCode }; Querystring: { worded?: string } }>('/form/:code', async (request, reply) => {
        try {
          throw new AppError(request.params.code, extrasFor(request.params.code));
        } catch (error) {
          const wording: Wording = request.query.worded === undefined ? {} : { invalid_code: 'code.wrong', invalid_credentials: 'account.wrongCurrent' };
          const { status, messages } = formRefusal(request, reply, error, wording);
          return reply.status(200).send({ reshown: true, status, messages });
        }
      });
      await app.ready();
    });
    after(() => app.close());

    /** The error page's sentence for a code: the table's, or its special renderer's. */
    const pageMessage = (code: ErrorCode, lang: Locale): string => {
      const page = errorRow(code).page;
      return page === 'wait' ? rateLimitedMessage(lang, extrasFor(code).retryAfter) : translator(lang)(page);
    };

    it('sendError: the error page says the table\'s sentence with its status; the API the table\'s title', async () => {
      for (const code of CODES) {
        for (const lang of LOCALES) {
          const page = await app.inject({ method: 'GET', url: `/throw/${code}?lang=${lang}`, headers: { accept: 'text/html' } });
          assert.equal(page.statusCode, errorRow(code).status, `${lang} ${code}`);
          assert.match(String(page.headers['content-type']), /^text\/html/);
          assert.equal(page.body, errorPage(lang, pageMessage(code, lang)), `${lang} ${code}`);
          const api = await app.inject({ method: 'GET', url: `/throw/${code}?lang=${lang}`, headers: { accept: 'application/json' } });
          assert.equal(api.statusCode, errorRow(code).status, `${lang} ${code}`);
          assert.match(String(api.headers['content-type']), /^application\/problem\+json/);
          assert.deepEqual(api.json(), problemBody(new AppError(code, extrasFor(code)), lang));
        }
      }
    });

    it('the error page words the codes that once fell back to "The form was filled in incorrectly" as a person would', async () => {
      const said = async (code: ErrorCode, lang: Locale) => (await app.inject({ method: 'GET', url: `/throw/${code}?lang=${lang}`, headers: { accept: 'text/html' } })).body;
      assert.match(await said('invalid_credentials', 'en'), /Wrong login or password\./);
      assert.match(await said('invalid_credentials', 'ru'), /Неверный логин или пароль\./);
      assert.match(await said('code_expired', 'en'), /The code has expired\./);
      assert.match(await said('edition_mismatch', 'en'), /Page not found\./);
      assert.match(await said('unauthorized', 'ru'), /Войдите и попробуйте ещё раз/);
      assert.match(await said('internal', 'en'), /Unexpected error\./);
      const wait = await app.inject({ method: 'GET', url: '/throw/rate_limited?lang=en', headers: { accept: 'text/html' } });
      assert.match(wait.body, /Try again in 3 minutes\./);
      assert.equal(wait.headers['retry-after'], '125');
    });

    it('formRefusal re-shows the form for the codes the table says, with its words, and rethrows the others', async () => {
      for (const code of CODES) {
        for (const lang of LOCALES) {
          const answer = await app.inject({ method: 'POST', url: `/form/${code}?lang=${lang}`, headers: { accept: 'text/html' } });
          const row = errorRow(code);
          if (row.form === false) {
            assert.equal(answer.statusCode, row.status, `${lang} ${code} goes to the error page`);
            assert.equal(answer.body, errorPage(lang, pageMessage(code, lang)), `${lang} ${code}`);
            continue;
          }
          assert.equal(answer.statusCode, 200, `${lang} ${code} re-shows the form: ${answer.body}`);
          const expected =
            row.form === 'weak-password'
              ? weakPasswordMessages(lang, extrasFor(code).reasons ?? [])
              : row.form === 'wait'
                ? [rateLimitedMessage(lang, extrasFor(code).retryAfter)]
                : [translator(lang)(row.form)];
          assert.deepEqual(answer.json(), { reshown: true, status: row.status, messages: expected }, `${lang} ${code}`);
          if (row.form === 'wait') assert.equal(answer.headers['retry-after'], '125');
        }
      }
      const reshown = CODES.filter((code) => errorRow(code).form !== false).sort();
      assert.deepEqual(reshown, ['account_locked', 'invalid_credentials', 'rate_limited', 'weak_password'], 'what every form re-shows by itself');
    });

    it('a page\'s own wording re-shows a code the table leaves to the error page, and replaces a default sentence', async () => {
      const code = await app.inject({ method: 'POST', url: '/form/invalid_code?lang=ru&worded', headers: { accept: 'text/html' } });
      assert.deepEqual(code.json(), { reshown: true, status: 400, messages: [translator('ru')('code.wrong')] });
      const password = await app.inject({ method: 'POST', url: '/form/invalid_credentials?lang=en&worded', headers: { accept: 'text/html' } });
      assert.deepEqual(password.json(), { reshown: true, status: 401, messages: [translator('en')('account.wrongCurrent')] });
      const other = await app.inject({ method: 'POST', url: '/form/forbidden?lang=en&worded', headers: { accept: 'text/html' } });
      assert.equal(other.statusCode, 403, 'a code neither the page nor the table words still goes to the error page');
    });
  });
});
