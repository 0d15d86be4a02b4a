import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { confirmEmailChange, inspectEmailChange, pendingContactChange, requestEmailChange, requestPhoneChange, verifyPhoneChange } from '../flows/contact-change.js';
import { isAppError } from '../kernel/errors.js';
import { translator } from '../ui/i18n.js';
import { contactFormPage, emailConfirmedPage, emailConfirmPage, emailSentPage, phoneCodePage, type ContactFormView } from '../ui/contact-change-pages.js';
import { invalidLinkPage } from '../ui/pages.js';
import { signedInApi } from './api-context.js';
import { authOf, loadSession } from './auth.js';
import { browserContext } from './browser-context.js';
import { formRefusal } from './form-refusal.js';
import { requestLang, requestMeta } from './request.js';
import { assertCsrfToken, csrfToken, requireJsonBody, tokenPageHeaders } from './security.js';

const password = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\u0000]*$' } as const;
const contact = { type: 'string', minLength: 1, maxLength: 320 } as const;
const flow = { type: 'string', minLength: 1, maxLength: 100 } as const;
const code = { type: 'string', minLength: 1, maxLength: 40 } as const;
const body = (required: string[], properties: Record<string, object>) => ({ type: 'object', required, properties, additionalProperties: true }) as const;

/** `POST /api/v1/me/email`, `/me/phone`, `/me/phone/verify` (SPEC §5 "sessions and account"): signed in, our Origin. */
export async function contactChangeApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.addHook('onRequest', requireJsonBody);
  app.addHook('preValidation', loadSession(deps));
  signedInApi(app, deps, { origin: true });

  app.post<{ Body: { password: string; email: string } }>('/me/email', { schema: { body: body(['password', 'email'], { password, email: contact }) } }, async (request, reply) => {
    await requestEmailChange(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
    return reply.status(202).send({});
  });

  app.post<{ Body: { password: string; phone: string } }>('/me/phone', { schema: { body: body(['password', 'phone'], { password, phone: contact }) } }, async (request, reply) => {
    const state = await requestPhoneChange(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
    return reply.status(202).send(state);
  });

  app.post<{ Body: { flow?: string; code: string } }>('/me/phone/verify', { schema: { body: body(['code'], { flow, code }) } }, async (request, reply) => {
    await verifyPhoneChange(deps, { account: authOf(request).account, flow: request.body.flow, code: request.body.code }, requestMeta(request));
    return reply.status(204).send();
  });
}

const field = { type: 'string', maxLength: 2048 } as const;
const form = (...names: string[]) => ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, field])) });
const htmlReply = (reply: FastifyReply, page: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(page);

/** "Change e-mail" and "Change phone" on /account (SPEC §11): forms with the session's CSRF token. */
export async function contactChangePageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  browserContext(app, deps, { signedIn: true, csrf: true, passwordCurrent: true });

  const navFor = (request: FastifyRequest) => {
    const auth = authOf(request);
    return { login: auth.account.login, csrf: csrfToken(deps.secretKey, auth.idHash) };
  };
  const showForm = async (request: FastifyRequest, reply: FastifyReply, kind: ContactFormView['kind'], view: Partial<ContactFormView> = {}, status = 200) => {
    const { account } = authOf(request);
    const pending = await pendingContactChange(deps, account.id, kind);
    const current = kind === 'email' ? account.email : account.phone;
    const page = contactFormPage(requestLang(request), navFor(request), {
      kind,
      current,
      noPassword: account.password_hash === null,
      ...(pending ? { pending: pending.value } : {}),
      ...view,
    });
    return htmlReply(reply, page, status);
  };
  /** The form's wording of a refusal; anything unexpected goes to the error handler. */
  const refusal = (request: FastifyRequest, reply: FastifyReply, error: unknown, kind: ContactFormView['kind']) => {
    const detail = isAppError(error) && error.code === 'invalid_request' ? (error.detail ?? '') : '';
    const invalid = detail.startsWith('already') ? (`contact.same.${kind}` as const) : detail.includes('LATCHKEY_SMS_COUNTRIES') ? 'contact.countryOff' : kind === 'email' ? 'contact.badEmail' : 'contact.badPhone';
    return formRefusal(request, reply, error, { invalid_credentials: 'contact.wrongPassword', invalid_request: invalid });
  };

  app.get<{ Querystring: { sent?: string } }>('/account/email', async (request, reply) => {
    const pending = await pendingContactChange(deps, authOf(request).account.id, 'email');
    if (request.query.sent !== undefined && pending) return htmlReply(reply, emailSentPage(requestLang(request), navFor(request), pending.value, deps.config.emailLinkTtlMinutes));
    return showForm(request, reply, 'email');
  });

  app.post<{ Body: { password: string; email: string } }>('/account/email', { schema: { body: form('_csrf', 'password', 'email') } }, async (request, reply) => {
    try {
      await requestEmailChange(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
    } catch (error) {
      const { status, messages } = refusal(request, reply, error, 'email');
      return showForm(request, reply, 'email', { errors: messages, typed: request.body.email }, status);
    }
    return reply.redirect('/account/email?sent=1', 303);
  });

  if (deps.settings.smsEnabled) {
    app.get('/account/phone', async (request, reply) => showForm(request, reply, 'phone'));

    app.post<{ Body: { password: string; phone: string } }>('/account/phone', { schema: { body: form('_csrf', 'password', 'phone') } }, async (request, reply) => {
      try {
        await requestPhoneChange(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
      } catch (error) {
        const { status, messages } = refusal(request, reply, error, 'phone');
        return showForm(request, reply, 'phone', { errors: messages, typed: request.body.phone }, status);
      }
      return reply.redirect('/account/phone/code', 303);
    });

    const showCode = async (request: FastifyRequest, reply: FastifyReply, view: { errors?: string[]; ended?: boolean } = {}, status = 200) => {
      const pending = await pendingContactChange(deps, authOf(request).account.id, 'phone');
      if (!pending && !view.ended) return reply.redirect('/account/phone', 303);
      return htmlReply(reply, phoneCodePage(requestLang(request), navFor(request), { phone: pending?.value ?? '', minutes: deps.settings.phoneFlowTtlMinutes, ...view }), status);
    };

    app.get('/account/phone/code', async (request, reply) => showCode(request, reply));

    app.post<{ Body: { code: string } }>('/account/phone/code', { schema: { body: form('_csrf', 'code') } }, async (request, reply) => {
      const t = translator(requestLang(request));
      try {
        await verifyPhoneChange(deps, { account: authOf(request).account, code: request.body.code.replace(/\s+/g, '') }, requestMeta(request));
      } catch (error) {
        if (isAppError(error) && (error.code === 'too_many_attempts' || error.code === 'invalid_token')) {
          return showCode(request, reply, { ended: true, errors: [t(error.code === 'too_many_attempts' ? 'contact.code.tooMany' : 'contact.code.expired')] }, error.status);
        }
        if (isAppError(error) && error.code === 'contact_taken') return showCode(request, reply, { ended: true, errors: [t('contact.taken')] }, error.status);
        const { status, messages } = formRefusal(request, reply, error, { invalid_code: 'contact.code.wrong', invalid_request: 'contact.code.wrong' });
        return showCode(request, reply, { errors: messages }, status);
      }
      return reply.redirect('/account?done=phone', 303);
    });
  }
}

const CONFIRM_COOKIE = 'lk_email_change';
/** The confirm form's address; the token waits in a cookie scoped to it, never in the address bar (rule 11). */
const CONFIRM_PATH = '/account/email/confirm';
/** The confirm form's CSRF token: keyed by the change itself, as the form needs no session. */
const confirmCsrf = (deps: Deps, idHash: string) => csrfToken(deps.secretKey, `email-change:${idHash}`);

/**
 * The link in the letter to the new address, `/account/email/<token>` (SPEC §11). It works whether or not
 * this browser is signed in, or signed in as someone else: the token, sent only to the new address, is the
 * proof, and the person already gave the password when asking. So the POST needs no session; it needs our
 * Origin (a cross-site form cannot post it), the token in its path-scoped SameSite=Lax cookie, and a form
 * token bound to the change. GET and HEAD only look (mail scanners, rule 3).
 */
export async function emailConfirmRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';
  browserContext(app, deps, { originRequired: true });

  app.get<{ Params: { token: string } }>('/account/email/:token', async (request, reply) => {
    tokenPageHeaders(reply);
    const seen = await inspectEmailChange(deps, request.params.token);
    if (!seen) return htmlReply(reply, invalidLinkPage(requestLang(request)), 400);
    reply.setCookie(CONFIRM_COOKIE, request.params.token, { path: CONFIRM_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: deps.config.emailLinkTtlMinutes * 60 });
    return reply.redirect(CONFIRM_PATH, 303);
  });

  app.get(CONFIRM_PATH, async (request, reply) => {
    const seen = await inspectEmailChange(deps, request.cookies[CONFIRM_COOKIE] ?? '');
    if (!seen) return htmlReply(reply, invalidLinkPage(requestLang(request)), 400);
    return htmlReply(reply, emailConfirmPage(requestLang(request), { login: seen.login, email: seen.email, csrf: confirmCsrf(deps, seen.idHash) }));
  });

  app.post<{ Body: { _csrf?: string } }>(CONFIRM_PATH, { schema: { body: { type: 'object', properties: { _csrf: field } } } }, async (request, reply) => {
    const lang = requestLang(request);
    const token = request.cookies[CONFIRM_COOKIE] ?? '';
    const seen = await inspectEmailChange(deps, token);
    if (!seen) return htmlReply(reply, invalidLinkPage(lang), 400);
    assertCsrfToken(deps.secretKey, `email-change:${seen.idHash}`, request.body._csrf);
    try {
      const { email } = await confirmEmailChange(deps, { token }, requestMeta(request));
      reply.clearCookie(CONFIRM_COOKIE, { path: CONFIRM_PATH });
      return htmlReply(reply, emailConfirmedPage(lang, { email }));
    } catch (error) {
      if (isAppError(error) && error.code === 'contact_taken') return htmlReply(reply, emailConfirmedPage(lang, { taken: true }), error.status);
      if (isAppError(error) && error.code === 'invalid_token') return htmlReply(reply, invalidLinkPage(lang), 400);
      throw error;
    }
  });
}
