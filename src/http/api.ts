import type { FastifyInstance } from 'fastify';
import { signedInApi } from './api-context.js';
import type { Deps } from '../deps.js';
import { changeOwnPassword } from '../flows/change-password.js';
import { createLoginAndPassword } from '../flows/create-password.js';
import { listSignInMethods, unlinkSocialIdentity } from '../flows/sign-in-methods.js';
import { completeRecovery } from '../flows/complete-recovery.js';
import { requestEmailRecovery } from '../flows/recover-by-email.js';
import { requestPhoneRecovery, resendPhoneCode, verifyPhoneCode, type PhoneFlowState } from '../flows/recover-by-phone.js';
import { closeSession, readAccountView } from '../flows/session.js';
import { secondFactorStatus } from '../flows/second-factor.js';
import { signIn } from '../flows/sign-in.js';
import { AppError } from '../kernel/errors.js';
import { authOf, loadSession } from './auth.js';
import { requestMeta } from './request.js';
import { SESSION_COOKIE, assertSameOrigin, clearSessionCookie, requireJsonBody } from './security.js';
import { answerSignIn } from './sign-in-outcome.js';

/** Strings only, never arrays or numbers; NUL and other C0 controls are refused in identifiers. */
const identifier = { type: 'string', minLength: 1, maxLength: 320, pattern: '^[^\\u0000-\\u001f\\u007f]*$' } as const;
/** Long enough for any real password; the policy itself says `too_long` past 256 characters. */
const password = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[^\\u0000]*$' } as const;
const token = { type: 'string', minLength: 1, maxLength: 200 } as const;
const phone = { type: 'string', minLength: 1, maxLength: 40 } as const;
const code = { type: 'string', minLength: 1, maxLength: 20 } as const;

/** A JSON object with these required members (and these optional ones). */
function body(properties: Record<string, object>, optional: Record<string, object> = {}) {
  return { type: 'object', required: Object.keys(properties), properties: { ...properties, ...optional }, additionalProperties: true } as const;
}

/** JSON API of SPEC §5 under /api/v1. Public routes first; the signed-in ones live in a guarded context. */
export async function apiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const publicOrigin = deps.config.publicUrl.origin;
  const secure = deps.config.publicUrl.protocol === 'https:';

  app.addHook('onRequest', requireJsonBody);
  // Session and guard run before body validation, so a signed-out caller learns that first.
  app.addHook('preValidation', loadSession(deps));

  app.post<{ Body: { login: string; password: string } }>('/session', { schema: { body: body({ login: identifier, password }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    return answerSignIn(deps, request, reply, await signIn(deps, request.body, requestMeta(request)));
  });

  app.delete('/session', async (request, reply) => {
    if (request.cookies[SESSION_COOKIE]) {
      assertSameOrigin(request, publicOrigin, true);
      await closeSession(deps, request.cookies[SESSION_COOKIE]);
    }
    clearSessionCookie(reply, secure);
    return reply.status(204).send();
  });

  app.post<{ Body: { login: string } }>('/recovery/email', { schema: { body: body({ login: identifier }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    await requestEmailRecovery(deps, request.body, requestMeta(request));
    return reply.status(202).send({});
  });

  const phoneAnswer = (state: PhoneFlowState) => ({ flow: state.flow, expiresIn: state.expiresIn, resendIn: state.resendIn, resendsLeft: state.resendsLeft });

  app.post<{ Body: { phone: string } }>('/recovery/phone', { schema: { body: body({ phone }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    return reply.status(202).send(phoneAnswer(await requestPhoneRecovery(deps, request.body, requestMeta(request))));
  });

  app.post<{ Body: { flow: string } }>('/recovery/phone/resend', { schema: { body: body({ flow: token }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    const { flow: _flow, ...rest } = phoneAnswer(await resendPhoneCode(deps, request.body, requestMeta(request)));
    return reply.status(202).send(rest);
  });

  app.post<{ Body: { flow: string; code: string } }>('/recovery/phone/verify', { schema: { body: body({ flow: token, code }) } }, async (request) => {
    assertSameOrigin(request, publicOrigin, false);
    return verifyPhoneCode(deps, request.body, requestMeta(request));
  });

  app.post<{ Body: { token: string; password: string } }>('/recovery/complete', { schema: { body: body({ token, password }) } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    return answerSignIn(deps, request, reply, await completeRecovery(deps, request.body, requestMeta(request)));
  });

  await app.register(async (guarded) => {
    signedInApi(guarded, deps);

    guarded.get('/me', async (request) => {
      const { account, onlyPortalId } = authOf(request);
      const { suspended, ...twoFactor } = await secondFactorStatus(deps.store.db, account.id, deps.clock.now().toISOString());
      // `suspended` only while an admin's pause lives, so the usual answer keeps its shape.
      return { ...(await readAccountView(deps.store.db, account, onlyPortalId)), twoFactor: suspended ? { ...twoFactor, suspended } : twoFactor };
    });

    // Changes the password with the current one; an account without a password (registered through a
    // social network) creates one instead, optionally choosing its login.
    guarded.post<{ Body: { currentPassword?: string; newPassword: string; login?: string } }>(
      '/me/password',
      { schema: { body: body({ newPassword: password }, { currentPassword: password, login: identifier }) } },
      async (request, reply) => {
        assertSameOrigin(request, publicOrigin, true);
        const auth = authOf(request);
        const { currentPassword, newPassword, login } = request.body;
        if (auth.account.password_hash === null) {
          await createLoginAndPassword(deps, { account: auth.account, sessionHash: auth.idHash, login, newPassword }, requestMeta(request));
        } else {
          if (currentPassword === undefined) throw new AppError('invalid_request', { field: 'currentPassword' });
          await changeOwnPassword(deps, { account: auth.account, sessionHash: auth.idHash, currentPassword, newPassword }, requestMeta(request));
        }
        return reply.status(204).send();
      },
    );

    guarded.get('/me/sign-in-methods', async (request) => listSignInMethods(deps.store.db, deps.social, authOf(request).account));

    guarded.delete<{ Params: { id: string } }>('/me/sign-in-methods/:id', async (request, reply) => {
      assertSameOrigin(request, publicOrigin, true);
      await unlinkSocialIdentity(deps, { accountId: authOf(request).account.id, identityId: request.params.id }, requestMeta(request));
      return reply.status(204).send();
    });
  });
}
