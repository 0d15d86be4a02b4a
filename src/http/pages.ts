import fs from 'node:fs';
import { browserContext } from './browser-context.js';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { changeOwnPassword } from '../flows/change-password.js';
import { createLoginAndPassword } from '../flows/create-password.js';
import { listSignInMethods, unlinkSocialIdentity } from '../flows/sign-in-methods.js';
import { completeRecovery, inspectRecoveryLink, inspectRecoveryToken, whyTokenIsDead } from '../flows/complete-recovery.js';
import { requestEmailRecovery } from '../flows/recover-by-email.js';
import { phoneFlowState, requestPhoneRecovery, resendPhoneCode, verifyPhoneCode } from '../flows/recover-by-phone.js';
import { sha256 } from '../kernel/crypto.js';
import { findPhoneFlow } from '../store/phone-flows.repo.js';
import { closeSession } from '../flows/session.js';
import { signIn } from '../flows/sign-in.js';
import { AppError, isAppError } from '../kernel/errors.js';
import { findPortalBySlug, listActivePortals } from '../store/portals.repo.js';
import { BRAND_COLOR, colorCss } from '../ui/brand.js';
import { portalEntry } from '../flows/portal-entry.js';
import { translator } from '../ui/i18n.js';
import * as pages from '../ui/pages.js';
import { rateLimitedMessage } from '../ui/wait.js';
import { authOf, requirePasswordCurrent } from './auth.js';
import { CONTINUE_COOKIE, forgetContinue, rememberContinue, takeContinue } from './continue-to.js';
import { formRefusal } from './form-refusal.js';
import { redirectToSignIn, safeReturnPath } from './return-path.js';
import { requestLang, requestMeta } from './request.js';
import {
  SESSION_COOKIE,
  assertCsrfToken,
  clearSessionCookie,
  csrfToken,
  tokenPageHeaders,
} from './security.js';
import { redirectSignIn } from './sign-in-outcome.js';

const RESET_COOKIE = 'lk_reset';
/** The one new-password form every recovery channel ends in; its token travels in a cookie scoped to it. */
const RESET_PATH = '/recover/password';
/** A day: longer than any recovery token lives (admin links and invitations, 24 hours). */
const RESET_COOKIE_SECONDS = 24 * 3600;
const field = { type: 'string', maxLength: 2048 } as const;
const form = (...names: string[]) => ({
  type: 'object',
  required: names.filter((n) => n !== '_csrf'),
  properties: Object.fromEntries(names.map((n) => [n, field])),
});

const PHONE_COOKIE = 'lk_phone_flow';
const PHONE_PATH = '/recover/phone';
const css = fs.readFileSync(new URL('../ui/static/app.css', import.meta.url), 'utf8');
const countdownJs = fs.readFileSync(new URL('../ui/static/countdown.js', import.meta.url), 'utf8');

/** Server-rendered pages (SPEC §5). Expected mistakes re-show the form; the signed-in pages sit in a guarded context. */
export async function pageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';

  browserContext(app, deps);

  const providers = [...deps.social.values()].map((p) => ({ id: p.id, title: p.title }));
  const htmlReply = (reply: FastifyReply, body: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(body);
  const navFor = (request: FastifyRequest) => {
    const auth = authOf(request);
    return { login: auth.account.login, csrf: csrfToken(deps.secretKey, auth.idHash) };
  };
  // The brand's colour (LATCHKEY_BRAND_COLOR) goes after the style sheet it overrides, in the same answer.
  const appCss = css + colorCss(deps.config.brand.color);
  app.get('/static/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(appCss));
  // A portal's own colour, on the pages about that portal (layout links it only when the portal has one).
  app.get<{ Params: { file: string } }>('/static/portals/:file', async (request, reply) => {
    const slug = /^([a-z0-9-]{1,63})\.css$/.exec(request.params.file)?.[1];
    const portal = slug === undefined ? undefined : await findPortalBySlug(deps.store.db, slug);
    if (!portal?.color || !BRAND_COLOR.test(portal.color)) throw new AppError('not_found');
    return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(colorCss(portal.color));
  });
  app.get('/static/countdown.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(countdownJs),
  );

  app.get('/', async (request, reply) => reply.redirect(request.auth ? '/portals' : '/login', 303));

  // `next`: where to go back after signing in (an invitation page), a path on this site only.
  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    const next = safeReturnPath(request.query.next);
    if (request.auth) return reply.redirect(next ?? '/portals', 303);
    if (next) rememberContinue(reply, next, secure);
    return htmlReply(reply, pages.loginPage(requestLang(request), { edition: deps.config.edition, providers, ...(next ? { next } : {}) }));
  });

  app.post<{ Body: { login: string; password: string; next?: string } }>('/login', { schema: { body: { ...form('login', 'password'), properties: { login: field, password: field, next: field } } } }, async (request, reply) => {
    const next = safeReturnPath(request.body.next);
    // An empty field is named, and nothing is counted (issue 14 item 7): the flow is not even asked.
    const t = translator(requestLang(request));
    const missing = [
      ...(request.body.login.trim() === '' ? [t('login.missingLogin')] : []),
      ...(request.body.password === '' ? [t('login.missingPassword')] : []),
    ];
    if (missing.length > 0) {
      return htmlReply(reply, pages.loginPage(requestLang(request), { login: request.body.login, errors: missing, edition: deps.config.edition, providers, ...(next ? { next } : {}) }), 400);
    }
    try {
      const outcome = await signIn(deps, request.body, requestMeta(request));
      // The form carried its own way back; the remembered one is used up too, so a later recovery in this
      // browser (maybe by someone else) does not land on the page this sign-in asked for.
      if (request.cookies[CONTINUE_COOKIE] !== undefined) forgetContinue(reply);
      return await redirectSignIn(deps, request, reply, outcome, next ?? '/portals');
    } catch (error) {
      const { status, messages } = formRefusal(request, reply, error);
      return htmlReply(reply, pages.loginPage(requestLang(request), { login: request.body.login, errors: messages, edition: deps.config.edition, providers, ...(next ? { next } : {}) }), status);
    }
  });

  const phoneEnabled = deps.settings.smsEnabled;
  // In the box edition /recover belongs to the checkword flow (src/http/box.ts).
  if (deps.config.edition === 'cloud') {
    app.get('/recover', async (request, reply) => htmlReply(reply, pages.recoverPage(requestLang(request), { phoneEnabled })));

    app.post<{ Body: { login: string } }>('/recover', { schema: { body: form('login') } }, async (request, reply) => {
      const lang = requestLang(request);
      if (request.body.login.trim() === '') return htmlReply(reply, pages.recoverPage(lang, { phoneEnabled }), 400);
      try {
        await requestEmailRecovery(deps, request.body, requestMeta(request));
      } catch (error) {
        const { status, messages } = formRefusal(request, reply, error);
        return htmlReply(reply, pages.recoverPage(lang, { login: request.body.login, errors: messages, phoneEnabled }), status);
      }
      return htmlReply(reply, pages.recoverSentPage(lang, deps.config.emailLinkTtlMinutes));
    });
  }

  // The link from the letter: moves the token into a cookie scoped to the form and off the address bar.
  // GET and HEAD only look at the token; nothing is consumed until the form is posted (SPEC §7 rule 3).
  app.get<{ Params: { token: string } }>('/recover/email/:token', async (request, reply) => {
    tokenPageHeaders(reply);
    const account = await inspectRecoveryToken(deps, request.params.token);
    if (!account) return deadRecovery(request, reply, request.params.token);
    setResetCookie(reply, request.params.token);
    return reply.redirect(RESET_PATH, 303);
  });

  /**
   * The token in the reset cookie outlives the token itself (the server decides what is live), so that Back
   * after a completed recovery, or a late form, can say what happened in the words of how it began.
   */
  const setResetCookie = (reply: FastifyReply, token: string) =>
    reply.setCookie(RESET_COOKIE, token, { path: RESET_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: RESET_COOKIE_SECONDS });
  /** A token that no longer opens the form (issue 14 item 5): "already changed, sign in", or why not, worded for a link or a code. */
  const deadRecovery = async (request: FastifyRequest, reply: FastifyReply, token: string | undefined) => {
    const lang = requestLang(request);
    const why = token ? await whyTokenIsDead(deps, token) : ({ state: 'unknown' } as const);
    if (why.state === 'used') return htmlReply(reply, pages.passwordAlreadyChangedPage(lang, why.via, request.auth !== null), 400);
    // Opened from a link (its own address), an unknown token is a bad link; a form without its token is only stale.
    const via = why.state === 'dead' ? why.via : request.url.startsWith('/recover/email/') ? 'link' : 'unknown';
    return htmlReply(reply, pages.deadRecoveryPage(lang, via), 400);
  };

  // The form's own address holds no token (it is in a path-scoped cookie), so the default referrer policy
  // stays: `no-referrer` would make browsers post the form with `Origin: null`, which CSRF checks refuse.
  app.get(RESET_PATH, async (request, reply) => {
    const lang = requestLang(request);
    const token = request.cookies[RESET_COOKIE] ?? '';
    const link = await inspectRecoveryLink(deps, token);
    if (!link) return deadRecovery(request, reply, token);
    return htmlReply(reply, pages.resetPasswordPage(lang, link.account.login, [], link.invitation));
  });

  app.post<{ Body: { password: string } }>(RESET_PATH, { schema: { body: form('password') } }, async (request, reply) => {
    const lang = requestLang(request);
    const token = request.cookies[RESET_COOKIE] ?? '';
    try {
      // An invitation's first password is joining the portal, not a change: the chooser says so (issue 14 item 6).
      const invitation = (await inspectRecoveryLink(deps, token))?.invitation === true;
      const outcome = await completeRecovery(deps, { token, password: request.body.password }, requestMeta(request));
      return await redirectSignIn(deps, request, reply, outcome, takeContinue(request, reply, invitation ? '/portals?joined=1' : '/portals?changed=1'));
    } catch (error) {
      if (isAppError(error) && error.code === 'invalid_token') return deadRecovery(request, reply, token);
      const { status, messages } = formRefusal(request, reply, error);
      const link = await inspectRecoveryLink(deps, token);
      if (!link) return deadRecovery(request, reply, token);
      return htmlReply(reply, pages.resetPasswordPage(lang, link.account.login, messages, link.invitation), status);
    }
  });

  // Recovery by phone (seed C4, C5): number → code (with countdowns and "Send a new code") → the shared
  // new-password form. The flow handle lives in a cookie scoped to these pages, never in the address.
  const phoneCookie = { path: PHONE_PATH, httpOnly: true, sameSite: 'lax' as const, secure, maxAge: deps.config.phoneFlowTtlMinutes * 60 };
  const openFlow = async (request: FastifyRequest) => {
    const flow = request.cookies[PHONE_COOKIE];
    if (!flow || flow.length > 100) return undefined;
    const row = await findPhoneFlow(deps.store.db, sha256(flow));
    if (!row || row.closed_at || row.verified_at || row.expires_at <= deps.clock.now().toISOString()) return undefined;
    return { flow, row };
  };
  const showCode = async (request: FastifyRequest, reply: FastifyReply, extra: { errors?: string[]; notice?: string; status?: number } = {}) => {
    const open = await openFlow(request);
    if (!open) return reply.redirect(PHONE_PATH, 303);
    const { expiresIn, resendIn } = phoneFlowState(deps, open.flow, open.row);
    const view = { phone: parsePhoneNumberFromString(open.row.phone)?.formatInternational() ?? open.row.phone, expiresIn, resendIn, ...extra };
    return htmlReply(reply, pages.codePage(requestLang(request), view), extra.status ?? 200);
  };

  app.get(PHONE_PATH, async (request, reply) => {
    if (!phoneEnabled) return htmlReply(reply, pages.errorPage(requestLang(request), translator(requestLang(request))('phone.unavailable')), 404);
    return htmlReply(reply, pages.phonePage(requestLang(request)));
  });

  app.post<{ Body: { phone: string } }>(PHONE_PATH, { schema: { body: form('phone') } }, async (request, reply) => {
    const lang = requestLang(request);
    const t = translator(lang);
    try {
      const state = await requestPhoneRecovery(deps, request.body, requestMeta(request));
      reply.setCookie(PHONE_COOKIE, state.flow, phoneCookie);
      return reply.redirect(`${PHONE_PATH}/code`, 303);
    } catch (error) {
      if (isAppError(error) && error.code === 'invalid_request') {
        return htmlReply(reply, pages.phonePage(lang, { phone: request.body.phone, errors: [t('phone.invalidNumber')] }), 400);
      }
      const { status, messages } = formRefusal(request, reply, error);
      return htmlReply(reply, pages.phonePage(lang, { phone: request.body.phone, errors: messages }), status);
    }
  });

  // "A new code was sent" is a one-time notice: a cookie read once, so a reload does not repeat it.
  const FLASH_COOKIE = 'lk_phone_flash';
  app.get(`${PHONE_PATH}/code`, async (request, reply) => {
    const sent = request.cookies[FLASH_COOKIE] === 'resent';
    if (sent) reply.clearCookie(FLASH_COOKIE, { path: PHONE_PATH });
    return showCode(request, reply, sent ? { notice: translator(requestLang(request))('code.resent') } : {});
  });

  app.post<{ Body: { code: string } }>(`${PHONE_PATH}/code`, { schema: { body: form('code') } }, async (request, reply) => {
    const t = translator(requestLang(request));
    const flow = request.cookies[PHONE_COOKIE] ?? '';
    try {
      const { token } = await verifyPhoneCode(deps, { flow, code: request.body.code.trim() }, requestMeta(request));
      reply.clearCookie(PHONE_COOKIE, { path: PHONE_PATH });
      setResetCookie(reply, token);
      return reply.redirect(RESET_PATH, 303);
    } catch (error) {
      if (!isAppError(error)) throw error;
      if (error.code === 'invalid_code' || error.code === 'invalid_request') return showCode(request, reply, { errors: [t('code.wrong')], status: 400 });
      if (error.code === 'code_expired') return showCode(request, reply, { errors: [t('code.expired')], status: 410 });
      if (error.code === 'too_many_attempts') return htmlReply(reply, pages.phonePage(requestLang(request), { errors: [t('code.tooMany')] }), 429);
      if (error.code === 'invalid_token') return reply.redirect(PHONE_PATH, 303);
      const { status, messages } = formRefusal(request, reply, error);
      return showCode(request, reply, { errors: messages, status });
    }
  });

  app.post(`${PHONE_PATH}/resend`, async (request, reply) => {
    const t = translator(requestLang(request));
    try {
      await resendPhoneCode(deps, { flow: request.cookies[PHONE_COOKIE] ?? '' }, requestMeta(request));
      reply.setCookie(FLASH_COOKIE, 'resent', { path: PHONE_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: 60 });
      return reply.redirect(`${PHONE_PATH}/code`, 303);
    } catch (error) {
      if (!isAppError(error)) throw error;
      if (error.code === 'too_many_attempts') return reply.redirect(`${PHONE_PATH}/help`, 303);
      if (error.code === 'invalid_token') return reply.redirect(PHONE_PATH, 303);
      if (error.code === 'rate_limited') {
        reply.header('retry-after', String(error.extras.retryAfter ?? 60));
        // The cooldown between codes is a countdown in seconds; a longer wait (the number's hourly budget) in minutes.
        const wait = error.extras.retryAfter ?? 60;
        const message = wait <= 60 ? t('code.resendIn', { seconds: wait }) : rateLimitedMessage(requestLang(request), wait);
        return showCode(request, reply, { errors: [message], status: 429 });
      }
      throw error;
    }
  });

  // Seed C5: the code does not come. The global support contact is shown to everyone alike: a contact
  // chosen by the number's portals would tell a stranger whose number it is (SPEC §7 rule 6).
  app.get(`${PHONE_PATH}/help`, async (request, reply) => htmlReply(reply, pages.phoneHelpPage(requestLang(request), deps.config.supportContact)));

  app.get('/.well-known/change-password', async (_request, reply) => reply.redirect('/account#password', 302));

  await app.register(async (signedIn) => {
    signedIn.addHook('preValidation', async (request, reply) => {
      if (!request.auth) return redirectToSignIn(request, reply);
      if (request.method === 'POST') assertCsrfToken(deps.secretKey, request.auth.idHash, (request.body as Record<string, unknown> | undefined)?._csrf);
    });
    signedIn.addHook('preValidation', requirePasswordCurrent);

    signedIn.get<{ Querystring: { changed?: string; joined?: string } }>('/portals', async (request, reply) => {
      const lang = requestLang(request);
      const auth = authOf(request);
      const portals = await listActivePortals(deps.store.db, auth.account.id, auth.onlyPortalId);
      const flash = request.query.changed === '1' ? translator(lang)('passwordChanged.flash') : request.query.joined === '1' ? translator(lang)('invitation.joined.flash') : undefined;
      return htmlReply(reply, pages.portalsPage(lang, navFor(request), portals, flash));
    });

    // The landing of portals that have no URL of their own (the demo's): proves the chooser worked.
    signedIn.get<{ Params: { slug: string } }>('/portals/:slug', async (request, reply) => {
      const auth = authOf(request);
      const portals = await listActivePortals(deps.store.db, auth.account.id);
      const portal = portals.find((p) => p.slug === request.params.slug);
      if (!portal) throw new AppError('not_found');
      const entry = await portalEntry(deps, auth, portal.slug);
      if (entry === 'limited') return htmlReply(reply, pages.portalLimitedPage(requestLang(request), navFor(request), portal.title), 403);
      if (entry === 'enrol_first') return reply.redirect(`/account/2fa?required=${encodeURIComponent(portal.slug)}`, 303);
      const color = (await findPortalBySlug(deps.store.db, portal.slug))?.color ?? null;
      return htmlReply(reply, pages.portalLandingPage(requestLang(request), navFor(request), portal.title, { slug: portal.slug, color }));
    });

    signedIn.post('/logout', { schema: { body: form('_csrf') } }, async (request, reply) => {
      await closeSession(deps, request.cookies[SESSION_COOKIE]);
      clearSessionCookie(reply, secure);
      if (request.cookies[CONTINUE_COOKIE] !== undefined) forgetContinue(reply);
      return reply.redirect('/login', 303);
    });

    /** `/account` with its sign-in methods; `state` carries the outcome of what was just posted. */
    const showAccount = async (request: FastifyRequest, reply: FastifyReply, state: pages.AccountPageState = {}, status = 200) => {
      const { account } = authOf(request);
      const methods = await listSignInMethods(deps.store.db, deps.social, account);
      return htmlReply(reply, pages.accountPage(requestLang(request), navFor(request), account, methods, { phoneChange: deps.settings.smsEnabled, ...state }), status);
    };

    signedIn.get<{ Querystring: { mustChange?: string; done?: string } }>('/account', async (request, reply) => {
      const { account } = authOf(request);
      const t = translator(requestLang(request));
      const errors = account.must_change_password === 1 ? [t('account.mustChange')] : [];
      const notices = { linked: 'account.methods.linked', unlinked: 'account.methods.unlinked', password: 'account.createPassword.done', phone: 'contact.phoneChanged' } as const;
      const done = request.query.done;
      const notice = done === 'linked' || done === 'unlinked' || done === 'password' || done === 'phone' ? t(notices[done]) : undefined;
      return showAccount(request, reply, { errors, ...(notice ? { notice } : {}) });
    });

    signedIn.post<{ Body: { currentPassword: string; newPassword: string } }>(
      '/account/password',
      { schema: { body: form('_csrf', 'currentPassword', 'newPassword') } },
      async (request, reply) => {
        const lang = requestLang(request);
        const auth = authOf(request);
        try {
          await changeOwnPassword(deps, { account: auth.account, sessionHash: auth.idHash, ...request.body }, requestMeta(request));
        } catch (error) {
          if (isAppError(error) && error.code === 'invalid_credentials') return showAccount(request, reply, { errors: [translator(lang)('account.wrongCurrent')] }, 400);
          const { status, messages } = formRefusal(request, reply, error);
          return showAccount(request, reply, { errors: messages }, status);
        }
        return showAccount(request, reply, { saved: true });
      },
    );

    // Seed: "how to create a login and password when you signed in through a social network".
    signedIn.post<{ Body: { login: string; newPassword: string } }>(
      '/account/password/create',
      { schema: { body: form('_csrf', 'login', 'newPassword') } },
      async (request, reply) => {
        const t = translator(requestLang(request));
        const auth = authOf(request);
        try {
          await createLoginAndPassword(deps, { account: auth.account, sessionHash: auth.idHash, login: request.body.login, newPassword: request.body.newPassword }, requestMeta(request));
        } catch (error) {
          const wantedLogin = request.body.login;
          if (isAppError(error) && error.code === 'login_unavailable') return showAccount(request, reply, { errors: [t('account.loginUnavailable')], wantedLogin }, 409);
          if (isAppError(error) && error.code === 'invalid_request' && error.extras.field === 'login') return showAccount(request, reply, { errors: [t('account.invalidLogin')], wantedLogin }, 400);
          if (isAppError(error) && error.code === 'invalid_request' && error.extras.field === 'currentPassword') return reply.redirect('/account#password', 303);
          const { status, messages } = formRefusal(request, reply, error);
          return showAccount(request, reply, { errors: messages, wantedLogin }, status);
        }
        return reply.redirect('/account?done=password', 303);
      },
    );

    signedIn.post<{ Params: { id: string } }>('/account/sign-in-methods/:id/unlink', { schema: { body: form('_csrf') } }, async (request, reply) => {
      try {
        await unlinkSocialIdentity(deps, { accountId: authOf(request).account.id, identityId: request.params.id }, requestMeta(request));
      } catch (error) {
        if (isAppError(error) && error.code === 'last_sign_in_method') {
          return showAccount(request, reply, { methodErrors: [translator(requestLang(request))('account.methods.lastOne')] }, 409);
        }
        throw error;
      }
      return reply.redirect('/account?done=unlinked', 303);
    });
  });
}
