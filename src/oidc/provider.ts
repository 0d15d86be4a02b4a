import type Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { isLocale, localeFromAcceptLanguage, type Locale } from '../domain/locale.js';
import { livenessAt, resolveSession } from '../flows/session.js';
import { hmac } from '../kernel/crypto.js';
import { findLiveSession } from '../store/sessions.repo.js';
import type { Deps } from '../deps.js';
import { LANG_COOKIE } from '../http/request.js';
import { SESSION_COOKIE } from '../http/security.js';
import { logoutConfirmPage, logoutDonePage, oidcErrorPage } from '../ui/oidc-pages.js';
import { createAdapterClass } from './adapter.js';
import { CLAIMS, SCOPES, accountFinder } from './claims.js';
import { findClientMetadata } from './clients.js';
import { latchkeyGrantLoader } from './grants.js';
import { ensureSigningKeys, loadSigningKeys } from './keys.js';
import { issuerOf, useSigningKeys } from './logout.js';

/**
 * The OpenID Connect provider (SPEC §10, §7 rule 18): oidc-provider configured for portal applications.
 * Issuer = LATCHKEY_PUBLIC_URL; its endpoints under /oidc, discovery at the root. Its development login
 * screens are off: interactions go to Latchkey's /oidc/interaction/<uid> (src/oidc/interactions.ts).
 */
export const OIDC_PREFIX = '/oidc';
export const INTERACTION_PATH = `${OIDC_PREFIX}/interaction`;

/** Lifetimes in seconds; the code's 60 s is rule 18's. */
const TTL = { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, RefreshToken: 14 * 24 * 3600 };

/** The language of a page the library asks us to render: the remembered choice, else the browser's, as on every other page. */
function koaLang(ctx: KoaContextWithOIDC): Locale {
  const lang = ctx.cookies.get(LANG_COOKIE, { signed: false });
  return isLocale(lang) ? lang : localeFromAcceptLanguage(ctx.get('accept-language') || undefined);
}

export async function createProvider(deps: Deps): Promise<Provider> {
  // Loaded only when an app is built: on Node 20 the library warns at import, and CLI commands that do not
  // serve (whose stderr is one line per error) never load it.
  const { default: ProviderClass, interactionPolicy } = await import('oidc-provider');
  await ensureSigningKeys(deps);
  const keys = await loadSigningKeys(deps);
  // Logout tokens are signed with the same keys, so they verify against the JWKS this provider publishes.
  useSigningKeys(deps.store, keys);
  const sessionTtl = deps.config.sessionTtlHours * 3600;

  // A signed-out Latchkey means signing in again: the library's own session never outlives ours, and a
  // different person signed in at Latchkey replaces whoever the library remembered.
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.push(
    new interactionPolicy.Check('latchkey_session', 'no live Latchkey session for this person', 'login_required', async (ctx) => {
      if (ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const active = await resolveSession(deps, ctx.cookies.get(SESSION_COOKIE, { signed: false }));
      if (!active || active.account.id !== ctx.oidc.session?.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      // max_age counts from when the Latchkey session was opened.
      const maxAge = Number(ctx.oidc.params?.max_age);
      if (ctx.oidc.params?.max_age === undefined || !Number.isFinite(maxAge)) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const session = await findLiveSession(deps.store.db, active.idHash, livenessAt(deps, deps.clock.now()));
      const age = session ? Math.floor(deps.clock.now().getTime() / 1000) - Math.floor(Date.parse(session.created_at) / 1000) : Infinity;
      return age > maxAge;
    }),
  );

  const configuration: Configuration = {
    adapter: createAdapterClass(deps.store, deps.clock, (id) => findClientMetadata(deps, id)),
    findAccount: accountFinder(deps),
    loadExistingGrant: latchkeyGrantLoader(deps),
    jwks: { keys: keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [hmac(deps.secretKey, 'latchkey:oidc-cookies')],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    scopes: SCOPES,
    claims: CLAIMS,
    ttl: { ...TTL, Session: sessionTtl, Grant: sessionTtl },
    interactions: { policy, url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}` },
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      token: `${OIDC_PREFIX}/token`,
      userinfo: `${OIDC_PREFIX}/me`,
      jwks: `${OIDC_PREFIX}/jwks`,
      end_session: `${OIDC_PREFIX}/session/end`,
      revocation: `${OIDC_PREFIX}/token/revocation`,
      introspection: `${OIDC_PREFIX}/token/introspection`,
      backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
      code_verification: `${OIDC_PREFIX}/device`,
      device_authorization: `${OIDC_PREFIX}/device/auth`,
      pushed_authorization_request: `${OIDC_PREFIX}/request`,
      registration: `${OIDC_PREFIX}/reg`,
      challenge: `${OIDC_PREFIX}/challenge`,
    },
    features: {
      devInteractions: { enabled: false },
      // Portals are tenants: a client introspects and revokes only its own tokens.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      clientCredentials: { enabled: false },
      // Advertised, and clients registered with a logout URI get `sid` in their ID tokens; the tokens themselves
      // are Latchkey's own, from the outbox, whenever a session ends (src/oidc/logout.ts; the library's sender
      // is switched off below).
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutConfirmPage(koaLang(ctx), form);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = logoutDonePage(koaLang(ctx));
        },
      },
    },
    // Browsers may call the token, userinfo and revocation endpoints from the origins of the client's redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = oidcErrorPage(koaLang(ctx), String(out.error ?? 'server_error'));
    },
  };

  const provider = new ProviderClass(issuerOf(deps.config.publicUrl), configuration);
  provider.proxy = deps.config.trustedProxies.length > 0;
  // The library would send logout tokens itself on RP-initiated logout, outside the outbox (no retry) and
  // refusing the loopback and private addresses an operator may register (SPEC §10): Latchkey sends them.
  provider.Client.prototype.backchannelLogout = async () => undefined;
  return provider;
}
