import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/context.js';
import { entryByPolicy, requiresSecondFactor } from '../flows/portal-entry.js';
import { resolveSession } from '../flows/session.js';
import { SESSION_COOKIE } from '../http/security.js';
import { activeRole } from './claims.js';
import { portalOfClient } from './clients.js';

/**
 * Consent (SPEC §10): a client of a portal where the person is an active member gets what it asked for
 * without a consent screen; the grant is created or widened here. For anyone else there is no grant, so
 * the consent prompt comes up and Latchkey's interaction answers it with access_denied (rule 18).
 */
export function latchkeyGrantLoader(ctx: Pick<FlowContext, 'store' | 'clock' | 'settings'>) {
  return async (koa: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = koa;
    const accountId = oidc.session?.accountId;
    const client = oidc.client;
    if (!accountId || !client) return undefined;
    const portal = await portalOfClient(ctx, client.clientId);
    if (!portal || !(await activeRole(ctx, accountId, portal.id))) return undefined;
    // No grant while the Latchkey session may not enter this portal (issue 11): the interaction explains it.
    const active = await resolveSession(ctx, koa.cookies.get(SESSION_COOKIE, { signed: false }));
    const policy = { id: portal.id, require_2fa: await requiresSecondFactor(ctx, portal.id) };
    if ((await entryByPolicy(ctx.store.db, accountId, active?.onlyPortalId ?? null, policy)) !== 'ok') return undefined;
    const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
    grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
    const scope = typeof oidc.params?.scope === 'string' ? oidc.params.scope : 'openid';
    grant.addOIDCScope(scope);
    const requested = oidc.claims as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> } | undefined;
    const claims = [...Object.keys(requested?.id_token ?? {}), ...Object.keys(requested?.userinfo ?? {})];
    if (claims.length > 0) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  };
}
