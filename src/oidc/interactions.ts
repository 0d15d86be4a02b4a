import type { FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Deps } from '../deps.js';
import { closeSession, livenessAt } from '../flows/session.js';
import { iso } from '../kernel/clock.js';
import { CONTINUE_COOKIE, forgetContinue } from '../http/continue-to.js';
import { requestLang } from '../http/request.js';
import { SESSION_COOKIE, clearSessionCookie } from '../http/security.js';
import { findLiveSession } from '../store/sessions.repo.js';
import { notMemberPage, oidcErrorPage, portalRefusedPage } from '../ui/oidc-pages.js';
import { entryByPolicy, requiresSecondFactor } from '../flows/portal-entry.js';
import { activeRole } from './claims.js';
import { portalOfClient } from './clients.js';
import { INTERACTION_PATH } from './provider.js';

/**
 * Latchkey answers the provider's interactions (SPEC §10) on its own pages; only "is there a live
 * Latchkey session" (request.auth, from the session cookie) and `/login?next=…` are used, so however
 * sign-in proves who someone is (password, second factor, social, recovery), it ends here the same way.
 *
 * - login: a live session that satisfies `prompt=login` (opened after this interaction sent the person to
 *   /login) and `max_age` finishes it at once — a browser signed in at Latchkey goes straight back;
 *   otherwise the person signs in at /login and comes back. A session that does not satisfy the request
 *   is ended first, so /login asks again.
 * - consent: never shown. A member of the client's portal is granted what was asked; anyone else gets
 *   Latchkey's page naming the portal, whose link returns `access_denied` to the client (rule 18).
 */
export async function answerInteraction(deps: Deps, provider: Provider, request: FastifyRequest<{ Params: { uid: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const lang = requestLang(request);
  const page = (status: number, body: string) => reply.status(status).type('text/html; charset=utf-8').send(body);
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(request.raw, reply.raw);
  } catch {
    // No interaction cookie, or an expired interaction: the application has to start over.
    return page(400, oidcErrorPage(lang, 'invalid_request'));
  }
  if (details.uid !== request.params.uid) return page(400, oidcErrorPage(lang, 'invalid_request'));
  const here = `${INTERACTION_PATH}/${details.uid}`;
  // Back here: the path /login remembered for recovery and social sign-in is used up.
  if (request.cookies[CONTINUE_COOKIE] !== undefined) forgetContinue(reply);
  const toLogin = () => reply.redirect(`/login?next=${encodeURIComponent(here)}`, 303);
  const auth = request.auth;
  const finish = async (result: Parameters<Provider['interactionResult']>[2], merge = true) =>
    reply.redirect(await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: merge }), 303);

  if (details.prompt.name === 'login') {
    const now = deps.clock.now();
    const session = auth ? await findLiveSession(deps.store.db, auth.idHash, livenessAt(deps, now)) : undefined;
    const openedAt = session ? Date.parse(session.created_at) : 0;
    // A session opened after this interaction sent the person to /login satisfies both prompt=login and max_age.
    const since = await signInAskedAt(deps, details.uid);
    const signedInForThis = since !== undefined && session !== undefined && openedAt >= since;
    const maxAge = Number(details.params.max_age);
    const youngEnough = details.params.max_age === undefined || !Number.isFinite(maxAge) || signedInForThis || Math.floor(now.getTime() / 1000) - Math.floor(openedAt / 1000) <= maxAge;
    const freshEnough = !details.prompt.reasons.includes('login_prompt') || signedInForThis;
    if (!auth || !session || !freshEnough || !youngEnough) {
      // From now on, a session opened at /login answers this request; one that was too old ends here.
      if (auth) {
        await closeSession(deps, request.cookies[SESSION_COOKIE]);
        clearSessionCookie(reply, deps.config.publicUrl.protocol === 'https:');
      }
      await rememberSignInAsked(deps, details.uid, now, details.exp);
      return toLogin();
    }
    return finish({ login: { accountId: auth.account.id, ts: Math.floor(openedAt / 1000) } });
  }

  if (details.prompt.name === 'consent') {
    const accountId = details.session?.accountId;
    if (!auth || !accountId || auth.account.id !== accountId) return toLogin();
    const clientId = String(details.params.client_id);
    const portal = await portalOfClient(deps, clientId);
    const role = portal ? await activeRole(deps, accountId, portal.id) : undefined;
    if (!portal || !role) {
      const backTo = await provider.interactionResult(
        request.raw,
        reply.raw,
        { error: 'access_denied', error_description: 'the person is not an active member of the client’s portal' },
        { mergeWithLastSubmission: false },
      );
      return page(403, notMemberPage(lang, { portal: portal?.title ?? clientId, login: auth.account.login, backTo, path: here }));
    }
    // A member may still be kept out now (issue 11): a session held to another portal, or no second factor
    // where the portal requires one. The application hears access_denied.
    const entry = await entryByPolicy(deps.store.db, accountId, auth.onlyPortalId, { id: portal.id, require_2fa: await requiresSecondFactor(deps, portal.id) });
    if (entry !== 'ok') {
      const backTo = await provider.interactionResult(
        request.raw,
        reply.raw,
        { error: 'access_denied', error_description: entry === 'limited' ? 'the session may enter only another portal' : 'the portal requires a second factor' },
        { mergeWithLastSubmission: false },
      );
      return page(403, portalRefusedPage(lang, { portal: portal.title, reason: entry, backTo, path: here }));
    }
    // Only prompt=consent (or a widened request) lands here for a member: grant what is missing, no screen.
    const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return finish({ consent: { grantId: await grant.save() } });
  }
  return page(400, oidcErrorPage(lang, 'interaction_required'));
}

/** The model name under which "sign-in asked for this interaction at" is kept (in `oidc_models`, like the library's). */
const SIGN_IN_ASKED = 'LatchkeySignInAsked';

/** When this interaction sent the person to /login: `prompt=login` is satisfied only by a session opened after. */
async function rememberSignInAsked(deps: Deps, uid: string, now: Date, exp: number): Promise<void> {
  const row = { payload: JSON.stringify({ at: iso(now) }), expires_at: iso(new Date(exp * 1000)) };
  await deps.store.db
    .insertInto('oidc_models')
    .values({ name: SIGN_IN_ASKED, id: uid, ...row, grant_id: null, user_code: null, uid: null, consumed_at: null })
    .onConflict((oc) => oc.columns(['name', 'id']).doUpdateSet(row))
    .execute();
}

async function signInAskedAt(deps: Deps, uid: string): Promise<number | undefined> {
  const row = await deps.store.db.selectFrom('oidc_models').select('payload').where('name', '=', SIGN_IN_ASKED).where('id', '=', uid).executeTakeFirst();
  return row ? Date.parse((JSON.parse(row.payload) as { at: string }).at) : undefined;
}
