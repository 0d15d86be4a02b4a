import type { Grant, KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/context.js';
import { activeRole } from './claims.js';
import { portalOfClient } from './clients.js';

/**
 * Consent (SPEC §10): a client of a portal where the person is an active member gets what it asked for
 * without a consent screen; the grant is created or widened here. For anyone else there is no grant, so
 * the consent prompt comes up and Latchkey's interaction answers it with access_denied (rule 18).
 */
export function latchkeyGrantLoader(ctx: Pick<FlowContext, 'store'>) {
  return async (koa: KoaContextWithOIDC): Promise<Grant | undefined> => {
    const { oidc } = koa;
    const accountId = oidc.session?.accountId;
    const client = oidc.client;
    if (!accountId || !client) return undefined;
    const portal = await portalOfClient(ctx, client.clientId);
    if (!portal || !(await activeRole(ctx, accountId, portal.id))) return undefined;
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
