import type { AdapterPayload } from 'oidc-provider';
import { iso } from '../kernel/clock.js';
import { Sealer, newSecretToken } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import type { FlowContext } from '../flows/context.js';
import { findPortalBySlug } from '../store/portals.repo.js';

/**
 * OpenID Connect clients of portals (SPEC §4 `latchkey client …`, §7 rule 18). A client belongs to one
 * portal; only that portal's active members get a code. Confidential clients' secrets are shown once, at
 * `add` or `rotate-secret`, and kept sealed (the provider needs them in clear to check client_secret_basic).
 */
type ClientsContext = Pick<FlowContext, 'store' | 'clock' | 'random' | 'secretKey'>;

export interface ClientRegistration {
  clientId: string;
  portalSlug: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[] | undefined;
  backchannelLogoutUri?: string | undefined;
  /** A public client (a SPA or native app): no secret, PKCE only. */
  public?: boolean | undefined;
}

/** What `oidc_clients.metadata` holds. */
interface StoredMetadata {
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri?: string;
  public: boolean;
}

export interface ClientListing {
  clientId: string;
  portal: string;
  redirectUris: string[];
  public: boolean;
  createdAt: string;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** An absolute URI without a fragment; https, or http on a loopback host outside production. */
export function checkClientUri(value: string, field: string, production: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new AppError('invalid_request', { field }, `${field}: "${value}" is not an absolute URI`);
  }
  if (parsed.hash !== '' || value.includes('#')) throw new AppError('invalid_request', { field }, `${field}: "${value}" must not have a fragment`);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback && !production)) {
    throw new AppError('invalid_request', { field }, `${field}: "${value}" must start with https:// (http:// only on a loopback host outside production)`);
  }
  return value;
}

const sealerOf = (ctx: ClientsContext) => new Sealer(ctx.secretKey, ctx.random, 'oidc-clients');

/** Registers a client; returns its secret (confidential clients) — the only time it is shown. */
export async function addClient(ctx: ClientsContext, input: ClientRegistration, production: boolean): Promise<{ clientId: string; secret: string | undefined }> {
  if (!CLIENT_ID.test(input.clientId)) throw new AppError('invalid_request', { field: 'client_id' }, 'client id: letters, digits, dot, dash and underscore, up to 100');
  if (input.redirectUris.length === 0) throw new AppError('invalid_request', { field: 'redirect_uri' }, 'at least one --redirect-uri');
  const portal = await findPortalBySlug(ctx.store.db, input.portalSlug);
  if (!portal) throw new AppError('not_found', { field: 'portal' }, `no portal ${input.portalSlug}`);
  const metadata: StoredMetadata = {
    redirect_uris: input.redirectUris.map((uri) => checkClientUri(uri, 'redirect_uri', production)),
    post_logout_redirect_uris: (input.postLogoutRedirectUris ?? []).map((uri) => checkClientUri(uri, 'post_logout_redirect_uri', production)),
    ...(input.backchannelLogoutUri ? { backchannel_logout_uri: checkClientUri(input.backchannelLogoutUri, 'backchannel_logout_uri', production) } : {}),
    public: input.public === true,
  };
  const secret = metadata.public ? undefined : newSecretToken(ctx.random);
  const result = await ctx.store.db
    .insertInto('oidc_clients')
    .values({ client_id: input.clientId, portal_id: portal.id, metadata: JSON.stringify(metadata), sealed_secret: secret ? sealerOf(ctx).seal(secret) : null, created_at: iso(ctx.clock.now()) })
    .onConflict((oc) => oc.column('client_id').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new AppError('invalid_request', { field: 'client_id' }, `client ${input.clientId} already exists`);
  return { clientId: input.clientId, secret };
}

export async function listClients(ctx: ClientsContext): Promise<ClientListing[]> {
  const rows = await ctx.store.db
    .selectFrom('oidc_clients')
    .innerJoin('portals', 'portals.id', 'oidc_clients.portal_id')
    .select(['oidc_clients.client_id', 'oidc_clients.metadata', 'oidc_clients.created_at', 'portals.slug'])
    .orderBy('oidc_clients.client_id')
    .execute();
  return rows.map((r) => {
    const metadata = JSON.parse(r.metadata) as StoredMetadata;
    return { clientId: r.client_id, portal: r.slug, redirectUris: metadata.redirect_uris, public: metadata.public, createdAt: r.created_at };
  });
}

/** Removes a client and every code, token and grant it held. */
export async function removeClient(ctx: ClientsContext, clientId: string): Promise<void> {
  const result = await ctx.store.db.deleteFrom('oidc_clients').where('client_id', '=', clientId).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new AppError('not_found', {}, `no client ${clientId}`);
  // Its models name it only inside their JSON payload; a LIKE on the exact JSON pair finds them.
  await ctx.store.db.deleteFrom('oidc_models').where('payload', 'like', `%"clientId":${JSON.stringify(clientId)}%`).execute();
}

/** A new secret for a confidential client; the old one stops working at once. */
export async function rotateClientSecret(ctx: ClientsContext, clientId: string): Promise<string> {
  const row = await ctx.store.db.selectFrom('oidc_clients').select(['metadata']).where('client_id', '=', clientId).executeTakeFirst();
  if (!row) throw new AppError('not_found', {}, `no client ${clientId}`);
  if ((JSON.parse(row.metadata) as StoredMetadata).public) throw new AppError('invalid_request', { field: 'client_id' }, `client ${clientId} is public: it has no secret`);
  const secret = newSecretToken(ctx.random);
  await ctx.store.db.updateTable('oidc_clients').set({ sealed_secret: sealerOf(ctx).seal(secret) }).where('client_id', '=', clientId).execute();
  return secret;
}

/** The client as oidc-provider wants it (code flow only, PKCE enforced by the provider's configuration). */
export async function findClientMetadata(ctx: ClientsContext, clientId: string): Promise<AdapterPayload | undefined> {
  if (!CLIENT_ID.test(clientId)) return undefined;
  const row = await ctx.store.db.selectFrom('oidc_clients').select(['metadata', 'sealed_secret']).where('client_id', '=', clientId).executeTakeFirst();
  if (!row) return undefined;
  const metadata = JSON.parse(row.metadata) as StoredMetadata;
  return {
    client_id: clientId,
    redirect_uris: metadata.redirect_uris,
    post_logout_redirect_uris: metadata.post_logout_redirect_uris,
    ...(metadata.backchannel_logout_uri ? { backchannel_logout_uri: metadata.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    ...(metadata.public || !row.sealed_secret
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: sealerOf(ctx).open(row.sealed_secret), token_endpoint_auth_method: 'client_secret_basic' }),
  };
}

/** The portal a client belongs to, for the membership check and the `portal` claim. */
export async function portalOfClient(ctx: Pick<FlowContext, 'store'>, clientId: string): Promise<{ id: string; slug: string; title: string } | undefined> {
  return ctx.store.db
    .selectFrom('oidc_clients')
    .innerJoin('portals', 'portals.id', 'oidc_clients.portal_id')
    .select(['portals.id', 'portals.slug', 'portals.title'])
    .where('oidc_clients.client_id', '=', clientId)
    .executeTakeFirst();
}
