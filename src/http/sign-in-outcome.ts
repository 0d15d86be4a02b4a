import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { CHALLENGE_MINUTES, SECOND_FACTOR_METHODS, type PendingChallenge, type SignInOutcome } from '../flows/finish-sign-in.js';
import { closeSession } from '../flows/session.js';
import { sha256 } from '../kernel/crypto.js';
import { setChallengeReturnTo } from '../store/second-factor.repo.js';
import { OIDC_PREFIX } from '../oidc/provider.js';
import { continueToApplicationPage } from '../ui/oidc-pages.js';
import { PASSWORD_FORM } from './auth.js';
import { requestLang } from './request.js';
import { SESSION_COOKIE, setSessionCookie } from './security.js';

/** The pending challenge's handle (SPEC §7 rule 17): the only thing a browser holds before the second factor. */
export const PENDING_COOKIE = 'lk_pending';
/** Where a browser with a pending challenge answers it. */
export const SECOND_FACTOR_PAGE = '/login/2fa';

const secureOf = (deps: Deps) => deps.config.publicUrl.protocol === 'https:';

function setPendingCookie(deps: Deps, reply: FastifyReply, challenge: PendingChallenge): void {
  reply.setCookie(PENDING_COOKIE, challenge.token, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureOf(deps), maxAge: CHALLENGE_MINUTES * 60 });
}

export function clearPendingCookie(deps: Deps, reply: FastifyReply): void {
  reply.clearCookie(PENDING_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: secureOf(deps) });
}

/**
 * The one place the HTTP side acts on a sign-in (issue 11, item 1): whatever session the browser had ends;
 * then either the session cookie (and the device cookie, rule 20), or only the pending challenge's cookie.
 */
export async function applySignIn(deps: Deps, request: FastifyRequest, reply: FastifyReply, outcome: SignInOutcome, returnTo?: string): Promise<void> {
  // A new id at every sign-in: whatever session this browser had before is ended.
  await closeSession(deps, request.cookies[SESSION_COOKIE]);
  if (outcome.kind === 'session') {
    setSessionCookie(request, reply, outcome.session, { secretKey: deps.secretKey, secure: secureOf(deps) });
    if (request.cookies[PENDING_COOKIE] !== undefined) clearPendingCookie(deps, reply);
    return;
  }
  setPendingCookie(deps, reply, outcome.challenge);
  if (returnTo) await setChallengeReturnTo(deps.store.db, sha256(outcome.challenge.token), returnTo);
}

/** The API's answer (SPEC §5): `200 {account, portals, mustChangePassword}`, or `202` naming the second factor's methods. */
export async function answerSignIn(deps: Deps, request: FastifyRequest, reply: FastifyReply, outcome: SignInOutcome) {
  await applySignIn(deps, request, reply, outcome);
  if (outcome.kind === 'second_factor') return reply.status(202).send({ next: 'second_factor', methods: SECOND_FACTOR_METHODS });
  return { account: outcome.account, portals: outcome.portals, mustChangePassword: outcome.mustChangePassword };
}

/** The pages' answer: on to `target` (or the password form an admin asked for), or to `/login/2fa` first. */
export async function redirectSignIn(deps: Deps, request: FastifyRequest, reply: FastifyReply, outcome: SignInOutcome, target: string) {
  await applySignIn(deps, request, reply, outcome, target);
  if (outcome.kind === 'second_factor') return reply.redirect(SECOND_FACTOR_PAGE, 303);
  if (outcome.mustChangePassword) return reply.redirect(PASSWORD_FORM, 303);
  // An application's pending sign-in ends in a redirect to its own origin: not from a form post (CSP form-action).
  if (target.startsWith(`${OIDC_PREFIX}/`)) {
    return reply.status(200).header('refresh', `0;url=${target}`).type('text/html; charset=utf-8').send(continueToApplicationPage(requestLang(request), target));
  }
  return reply.redirect(target, 303);
}
