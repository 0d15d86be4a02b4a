import QRCode from 'qrcode';
import { signedInApi } from './api-context.js';
import { browserContext } from './browser-context.js';
import { findPortalBySlug } from '../store/portals.repo.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import {
  answerChallenge,
  confirmTotp,
  disableSecondFactor,
  pendingEnrolment,
  renewRecoveryCodes,
  secondFactorStatus,
  startTotpEnrolment,
  type Enrolment,
} from '../flows/second-factor.js';
import { normalizeRecoveryCode } from '../flows/recovery-codes.js';
import { AppError, isAppError } from '../kernel/errors.js';
import { translator } from '../ui/i18n.js';
import { account2faPage, login2faPage, type Account2faView } from '../ui/second-factor-pages.js';
import { authOf, loadSession, requirePasswordCurrent } from './auth.js';
import { requestLang, requestMeta } from './request.js';
import { formRefusal } from './form-refusal.js';
import { redirectToSignIn } from './return-path.js';
import { assertCsrfToken, assertSameOrigin, csrfToken, requireJsonBody } from './security.js';
import { PENDING_COOKIE, answerSignIn, clearPendingCookie, redirectSignIn } from './sign-in-outcome.js';

const password = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\u0000]*$' } as const;
const code = { type: 'string', minLength: 1, maxLength: 40 } as const;

function body(properties: Record<string, object>, optional: Record<string, object> = {}) {
  return { type: 'object', required: Object.keys(properties), properties: { ...properties, ...optional }, additionalProperties: true } as const;
}

/** The second factor's API (SPEC §5 "second factor"): the challenge's answer, and enrolment for the signed-in person. */
export async function secondFactorApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const publicOrigin = deps.config.publicUrl.origin;
  app.addHook('onRequest', requireJsonBody);
  app.addHook('preValidation', loadSession(deps));

  app.post<{ Body: { code?: string; recoveryCode?: string } }>(
    '/session/second-factor',
    { schema: { body: body({}, { code, recoveryCode: code }) } },
    async (request, reply) => {
      assertSameOrigin(request, publicOrigin, false);
      const { code: totp, recoveryCode } = request.body;
      if (totp === undefined && recoveryCode === undefined) throw new AppError('invalid_request', { field: 'code' });
      const challenge = request.cookies[PENDING_COOKIE];
      try {
        const { outcome } = await answerChallenge(deps, { challenge, code: totp, recoveryCode }, requestMeta(request));
        return await answerSignIn(deps, request, reply, outcome);
      } catch (error) {
        // A challenge that is over is over for this browser too.
        if (isAppError(error) && (error.code === 'too_many_attempts' || error.code === 'second_factor_required') && challenge !== undefined) clearPendingCookie(deps, reply);
        throw error;
      }
    },
  );

  await app.register(async (guarded) => {
    signedInApi(guarded, deps);

    guarded.post<{ Body: { password: string } }>('/me/2fa/totp', { schema: { body: body({ password }) } }, async (request) => {
      assertSameOrigin(request, publicOrigin, true);
      return startTotpEnrolment(deps, { account: authOf(request).account, password: request.body.password }, requestMeta(request));
    });

    guarded.post<{ Body: { code: string } }>('/me/2fa/totp/confirm', { schema: { body: body({ code }) } }, async (request) => {
      assertSameOrigin(request, publicOrigin, true);
      return confirmTotp(deps, { account: authOf(request).account, code: request.body.code }, requestMeta(request));
    });

    guarded.post<{ Body: { password: string } }>('/me/2fa/recovery-codes', { schema: { body: body({ password }) } }, async (request) => {
      assertSameOrigin(request, publicOrigin, true);
      return renewRecoveryCodes(deps, { account: authOf(request).account, password: request.body.password }, requestMeta(request));
    });

    guarded.delete<{ Body: { password: string; code: string } }>('/me/2fa', { schema: { body: body({ password, code }) } }, async (request, reply) => {
      assertSameOrigin(request, publicOrigin, true);
      await disableSecondFactor(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
      return reply.status(204).send();
    });
  });
}

const field = { type: 'string', maxLength: 2048 } as const;
const form = (...names: string[]) => ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, field])) });

/** `/login/2fa` (after any first factor) and `/account/2fa` (enrol, recovery codes, turn off). */
export async function secondFactorPageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  browserContext(app, deps);
  const htmlReply = (reply: FastifyReply, page: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(page);

  app.get<{ Querystring: { method?: string } }>('/login/2fa', async (request, reply) => {
    const lang = requestLang(request);
    if (request.cookies[PENDING_COOKIE] === undefined) {
      return htmlReply(reply, login2faPage(lang, { method: 'totp', ended: true, errors: [translator(lang)('login2fa.expired')] }), 401);
    }
    return htmlReply(reply, login2faPage(lang, { method: request.query.method === 'recovery' ? 'recovery' : 'totp' }));
  });

  app.post<{ Body: { code?: string; recoveryCode?: string } }>(
    '/login/2fa',
    { schema: { body: { type: 'object', properties: { code: field, recoveryCode: field } } } },
    async (request, reply) => {
      const lang = requestLang(request);
      const t = translator(lang);
      const method = request.body.recoveryCode !== undefined ? 'recovery' : 'totp';
      const challenge = request.cookies[PENDING_COOKIE];
      try {
        const { outcome, returnTo } = await answerChallenge(
          deps,
          { challenge, ...(method === 'recovery' ? { recoveryCode: request.body.recoveryCode } : { code: request.body.code ?? '' }) },
          requestMeta(request),
        );
        return await redirectSignIn(deps, request, reply, outcome, returnTo ?? '/portals');
      } catch (error) {
        if (isAppError(error) && (error.code === 'too_many_attempts' || error.code === 'second_factor_required')) {
          clearPendingCookie(deps, reply);
          const message = t(error.code === 'too_many_attempts' ? 'login2fa.tooMany' : 'login2fa.expired');
          return htmlReply(reply, login2faPage(lang, { method, ended: true, errors: [message] }), error.status);
        }
        const { status, messages } = formRefusal(request, reply, error, { invalid_code: method === 'recovery' ? 'login2fa.wrongRecovery' : 'login2fa.wrong' });
        return htmlReply(reply, login2faPage(lang, { method, errors: messages }), status);
      }
    },
  );

  await app.register(async (signedIn) => {
    signedIn.addHook('preValidation', async (request, reply) => {
      if (!request.auth) return redirectToSignIn(request, reply);
      if (request.method === 'POST') assertCsrfToken(deps.secretKey, request.auth.idHash, (request.body as Record<string, unknown> | undefined)?._csrf);
    });
    signedIn.addHook('preValidation', requirePasswordCurrent);

    const navFor = (request: FastifyRequest) => {
      const auth = authOf(request);
      return { login: auth.account.login, csrf: csrfToken(deps.secretKey, auth.idHash) };
    };
    const show = async (request: FastifyRequest, reply: FastifyReply, view: Partial<Account2faView> = {}, status = 200) => {
      const { account } = authOf(request);
      const state = await secondFactorStatus(deps.store.db, account.id, deps.clock.now().toISOString());
      return htmlReply(reply, account2faPage(requestLang(request), navFor(request), { ...state, hasPassword: account.password_hash !== null, ...view }), status);
    };
    const withQr = async (enrolment: Enrolment) => ({ secret: enrolment.secret, qrSvg: await QRCode.toString(enrolment.uri, { type: 'svg', margin: 1 }) });
    /** What the person reads for an expected refusal here (src/http/form-refusal.ts); anything else goes to the error handler. */
    const refusal = (request: FastifyRequest, reply: FastifyReply, error: unknown): { status: number; message: string } => {
      const { status, messages } = formRefusal(request, reply, error, { invalid_credentials: '2fa.wrongPassword', invalid_code: '2fa.wrongCode', invalid_request: '2fa.notPending' });
      return { status, message: messages.join(' ') };
    };

    signedIn.get<{ Querystring: { done?: string; required?: string } }>('/account/2fa', async (request, reply) => {
      const t = translator(requestLang(request));
      const done = request.query.done;
      // A portal that requires a second factor sent the person here (issue 11, item 6).
      const requiredBy = request.query.required && request.query.required.length <= 64 ? await findPortalBySlug(deps.store.db, request.query.required) : undefined;
      if (requiredBy) return show(request, reply, { notice: t('2fa.requiredBy', { portal: requiredBy.title }) });
      return show(request, reply, done === 'enabled' || done === 'disabled' ? { notice: t(done === 'enabled' ? '2fa.enabled.flash' : '2fa.disabled.flash') } : {});
    });

    signedIn.post<{ Body: { password: string } }>('/account/2fa/totp', { schema: { body: form('_csrf', 'password') } }, async (request, reply) => {
      try {
        const enrolment = await startTotpEnrolment(deps, { account: authOf(request).account, password: request.body.password }, requestMeta(request));
        return await show(request, reply, { enrolment: await withQr(enrolment) });
      } catch (error) {
        const { status, message } = refusal(request, reply, error);
        return show(request, reply, { errors: [message] }, status);
      }
    });

    signedIn.post<{ Body: { code: string } }>('/account/2fa/totp/confirm', { schema: { body: form('_csrf', 'code') } }, async (request, reply) => {
      const { account } = authOf(request);
      try {
        const { recoveryCodes } = await confirmTotp(deps, { account, code: request.body.code }, requestMeta(request));
        return await show(request, reply, { codes: recoveryCodes, notice: translator(requestLang(request))('2fa.enabled.flash') });
      } catch (error) {
        const { status, message } = refusal(request, reply, error);
        const enrolment = await pendingEnrolment(deps, account);
        return show(request, reply, { errors: [message], ...(enrolment ? { enrolment: await withQr(enrolment) } : {}) }, status);
      }
    });

    signedIn.post<{ Body: { password: string } }>('/account/2fa/recovery-codes', { schema: { body: form('_csrf', 'password') } }, async (request, reply) => {
      try {
        const { recoveryCodes } = await renewRecoveryCodes(deps, { account: authOf(request).account, password: request.body.password }, requestMeta(request));
        return await show(request, reply, { codes: recoveryCodes });
      } catch (error) {
        const { status, message } = refusal(request, reply, error);
        return show(request, reply, { errors: [message], errorsAt: 'renew' }, status);
      }
    });

    signedIn.post<{ Body: { password: string; code: string } }>('/account/2fa/off', { schema: { body: form('_csrf', 'password', 'code') } }, async (request, reply) => {
      try {
        await disableSecondFactor(deps, { account: authOf(request).account, ...request.body }, requestMeta(request));
      } catch (error) {
        const { status, message } = refusal(request, reply, error);
        return show(request, reply, { errors: [message], errorsAt: 'disable' }, status);
      }
      return reply.redirect('/account/2fa?done=disabled', 303);
    });

    // "Download": the codes the page just showed come back and leave as a file; nothing is stored in clear.
    signedIn.post<{ Body: { codes: string } }>('/account/2fa/codes.txt', { schema: { body: form('_csrf', 'codes') } }, async (request, reply) => {
      const codes = request.body.codes.split(/\s+/).filter((c) => normalizeRecoveryCode(c) !== undefined).slice(0, 10);
      const t = translator(requestLang(request));
      const text = [`${t('2fa.codes.title')} (${authOf(request).account.login})`, '', ...codes, ''].join('\n');
      return reply.type('text/plain; charset=utf-8').header('content-disposition', 'attachment; filename="latchkey-recovery-codes.txt"').send(text);
    });
  });
}
