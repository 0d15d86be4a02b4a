import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { browserContext } from './browser-context.js';
import type { Deps } from '../deps.js';
import { completeCheckword, inspectCheckword, requestCheckword, type CheckwordInput } from '../flows/checkword.js';
import { assertEdition } from '../flows/edition.js';
import { AppError, isAppError } from '../kernel/errors.js';
import { CHECKWORD_PATH, boxRecoverPage, boxSentPage, checkwordFormPage, invalidCheckwordPage } from '../ui/box-pages.js';
import { translator } from '../ui/i18n.js';
import { takeContinue } from './continue-to.js';
import { requestLang, requestMeta } from './request.js';
import { formRefusal } from './form-refusal.js';
import { assertSameOrigin, tokenPageHeaders } from './security.js';
import { answerSignIn, redirectSignIn } from './sign-in-outcome.js';

/**
 * The box edition's recovery (seed B1–B2): `/recover` asks for login or e-mail and e-mails a checkword;
 * `/recover/checkword` sets the new password. API: `/api/v1/recovery/checkword` and `…/complete`.
 * The API is registered in both editions and answers `edition_mismatch` in the cloud one; the pages
 * exist only in the box edition (the cloud's `/recover` is in pages.ts).
 */
export async function boxRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  await app.register(checkwordApi, { deps: opts.deps, prefix: '/api/v1' });
  if (opts.deps.config.edition === 'box') await app.register(checkwordPages, { deps: opts.deps });
}

/** The link's login and checkword, moved off the address bar into a cookie only the form's path sees. */
const CHECKWORD_COOKIE = 'lk_checkword';

/** Strings only; NUL and other C0 controls are refused in identifiers (as in api.ts). */
const identifier = { type: 'string', minLength: 1, maxLength: 320, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const;
const password = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\u0000]*$' } as const;
const checkword = { type: 'string', minLength: 1, maxLength: 200 } as const;

function body(properties: Record<string, object>) {
  return { type: 'object', required: Object.keys(properties), properties, additionalProperties: true } as const;
}

async function checkwordApi(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const publicOrigin = deps.config.publicUrl.origin;

  app.addHook('onRequest', async (request) => {
    // The edition decides first, whatever the body: the cloud edition has no checkwords.
    assertEdition(deps, 'box');
    const type = request.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) throw new AppError('unsupported_media_type');
  });

  app.post<{ Body: { login: string } }>('/recovery/checkword', { schema: { body: body({ login: identifier }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    await requestCheckword(deps, request.body, requestMeta(request));
    return reply.status(202).send({});
  });

  app.post<{ Body: { login: string; checkword: string; password: string; passwordConfirm: string } }>(
    '/recovery/checkword/complete',
    { schema: { body: body({ login: identifier, checkword, password, passwordConfirm: password }) } },
    async (request, reply) => {
      assertSameOrigin(request, publicOrigin, false);
      return answerSignIn(deps, request, reply, await completeCheckword(deps, request.body, requestMeta(request)));
    },
  );
}

const field = { type: 'string', maxLength: 2048 } as const;
const form = (...names: string[]) => ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, field])) });

async function checkwordPages(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';
  const minutes = deps.config.checkwordTtlMinutes;

  browserContext(app, deps, { session: false });

  const htmlReply = (reply: FastifyReply, page: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(page);
  /** The message for an expected refusal that re-shows a form; anything else goes to the error handler. */
  const refusal = (request: FastifyRequest, reply: FastifyReply, error: unknown): { status: number; messages: string[] } => {
    if (isAppError(error) && error.code === 'invalid_request' && error.extras.field === 'passwordConfirm') {
      return { status: 400, messages: [translator(requestLang(request))('box.form.mismatch')] };
    }
    return formRefusal(request, reply, error);
  };
  const heldCheckword = (request: FastifyRequest): CheckwordInput | undefined => {
    const raw = request.cookies[CHECKWORD_COOKIE];
    if (!raw || raw.length > 1000) return undefined;
    try {
      const value = JSON.parse(raw) as unknown;
      if (typeof value !== 'object' || value === null) return undefined;
      const { login, checkword } = value as Record<string, unknown>;
      return typeof login === 'string' && typeof checkword === 'string' ? { login, checkword } : undefined;
    } catch {
      return undefined;
    }
  };

  // B1: "Forgot your password?" → "Send checkword" → the same "check your mail" page for every input.
  app.get('/recover', async (request, reply) => htmlReply(reply, boxRecoverPage(requestLang(request))));

  app.post<{ Body: { login: string } }>('/recover', { schema: { body: form('login') } }, async (request, reply) => {
    const lang = requestLang(request);
    const login = request.body.login.trim();
    if (login === '' || login.length > 320) return htmlReply(reply, boxRecoverPage(lang, { login: request.body.login }), 400);
    try {
      await requestCheckword(deps, { login }, requestMeta(request));
    } catch (error) {
      const { status, messages } = refusal(request, reply, error);
      return htmlReply(reply, boxRecoverPage(lang, { login: request.body.login, errors: messages }), status);
    }
    return htmlReply(reply, boxSentPage(lang, minutes));
  });

  // B2. The link from the letter (`?login=…&checkword=…`): both go into an HttpOnly cookie scoped to the
  // form, and the browser is sent to the bare address (SPEC §7 rule 11). GET and HEAD consume nothing.
  // The form itself keeps the default referrer policy: under `no-referrer` browsers post with `Origin: null`.
  app.get(CHECKWORD_PATH, async (request, reply) => {
    const lang = requestLang(request);
    const query = request.query as Record<string, unknown>;
    if (query.login !== undefined || query.checkword !== undefined) {
      tokenPageHeaders(reply);
      const login = typeof query.login === 'string' ? query.login : '';
      const checkword = typeof query.checkword === 'string' ? query.checkword : '';
      if (login === '' || checkword === '' || login.length > 320 || checkword.length > 200) return htmlReply(reply, invalidCheckwordPage(lang), 400);
      reply.setCookie(CHECKWORD_COOKIE, JSON.stringify({ login, checkword }), { path: CHECKWORD_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: minutes * 60 });
      return reply.redirect(CHECKWORD_PATH, 303);
    }
    const held = heldCheckword(request);
    if (!held || !(await inspectCheckword(deps, held))) return htmlReply(reply, invalidCheckwordPage(lang), 400);
    return htmlReply(reply, checkwordFormPage(lang, held));
  });

  app.post<{ Body: { login: string; checkword: string; password: string; passwordConfirm: string } }>(
    CHECKWORD_PATH,
    { schema: { body: form('login', 'checkword', 'password', 'passwordConfirm') } },
    async (request, reply) => {
      const lang = requestLang(request);
      const input = { ...request.body, login: request.body.login.trim() };
      try {
        const outcome = await completeCheckword(deps, input, requestMeta(request));
        reply.clearCookie(CHECKWORD_COOKIE, { path: CHECKWORD_PATH });
        return redirectSignIn(deps, request, reply, outcome, takeContinue(request, reply, '/portals?changed=1'));
      } catch (error) {
        if (isAppError(error) && error.code === 'invalid_token') {
          // A typo in the login (issue 14 item 4): the checkword the letter gave this browser is still good for
          // the login it came with, so the form comes back with the message instead of a dead end. Whoever
          // holds the checkword already knows that login from the link; nothing new is told.
          const held = heldCheckword(request);
          const stillLive = held !== undefined && held.checkword === request.body.checkword && held.login !== input.login && (await inspectCheckword(deps, held)) !== undefined;
          if (!stillLive) return htmlReply(reply, invalidCheckwordPage(lang), 400);
          return htmlReply(reply, checkwordFormPage(lang, { login: request.body.login, checkword: request.body.checkword, errors: [translator(lang)('box.form.wrongLogin')] }), 400);
        }
        const { status, messages } = refusal(request, reply, error);
        return htmlReply(reply, checkwordFormPage(lang, { login: request.body.login, checkword: request.body.checkword, errors: messages }), status);
      }
    },
  );
}
