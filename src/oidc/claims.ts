import type { Account as OidcAccount, KoaContextWithOIDC } from 'oidc-provider';
import type { FlowContext } from '../flows/context.js';
import { findAccountById } from '../store/accounts.repo.js';
import { portalOfClient } from './clients.js';

/**
 * Scopes and claims of SPEC §10. `portal` ({slug, role} of the client's portal) comes with `openid`, so
 * every application learns which portal's member arrived and in what role.
 */
export const SCOPES = ['openid', 'profile', 'email', 'phone', 'offline_access'];

export const CLAIMS = {
  openid: ['sub', 'portal'],
  profile: ['name', 'preferred_username', 'locale'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** The role of an account in a portal when its membership is active; otherwise none. */
export async function activeRole(ctx: Pick<FlowContext, 'store'>, accountId: string, portalId: string): Promise<'admin' | 'employee' | undefined> {
  const row = await ctx.store.db
    .selectFrom('memberships')
    .select('role')
    .where('account_id', '=', accountId)
    .where('portal_id', '=', portalId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row?.role;
}

/**
 * oidc-provider's `findAccount`: the passport, while it is active and a member of the asking client's
 * portal. Anyone else is unknown to that client at the token and userinfo endpoints, so a code, refresh
 * token or userinfo call made after the person was fired or disabled fails. (While authorizing, a
 * non-member is known by id only, so the refusal can come from the consent step: src/oidc/grants.ts.)
 */
export function accountFinder(ctx: Pick<FlowContext, 'store'>) {
  return async (koa: KoaContextWithOIDC, sub: string): Promise<OidcAccount | undefined> => {
    const clientId = koa.oidc.client?.clientId;
    if (!clientId) return undefined;
    const [account, portal] = await Promise.all([findAccountById(ctx.store.db, sub), portalOfClient(ctx, clientId)]);
    if (!account || account.status !== 'active' || !portal) return undefined;
    const role = await activeRole(ctx, account.id, portal.id);
    if (!role) {
      // While authorizing, the library must know who signed in to ask for (refused) consent; it learns no claims.
      const authorizing = koa.oidc.route === 'authorization' || koa.oidc.route === 'resume';
      return authorizing ? { accountId: account.id, claims: () => ({ sub: account.id }) } : undefined;
    }
    return {
      accountId: account.id,
      claims: () => ({
        sub: account.id,
        name: account.name ?? account.login,
        preferred_username: account.login,
        locale: account.locale,
        ...(account.email ? { email: account.email, email_verified: account.email_verified_at !== null } : {}),
        ...(account.phone ? { phone_number: account.phone, phone_number_verified: account.phone_verified_at !== null } : {}),
        portal: { slug: portal.slug, role },
      }),
    };
  };
}
