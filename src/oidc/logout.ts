import { createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { BackchannelLogoutJob } from '../delivery/outbox.js';
import { PermanentDeliveryError } from '../delivery/errors.js';
import type { FlowContext } from '../flows/context.js';
import { endSessionByHash } from '../flows/end-sessions.js';
import { resolveSession } from '../flows/session.js';
import { iso } from '../kernel/clock.js';
import { sha256 } from '../kernel/crypto.js';
import type { Store } from '../store/db.js';
import { recordSessionClient, sessionHashOfProviderSession } from '../store/oidc-sessions.repo.js';
import { loadSigningKeys } from './keys.js';

/**
 * Logout on the provider's side (SPEC §10 Logout, issue 12 item 5). Latchkey's session is the source of
 * truth: when it ends (src/flows/end-sessions.ts), so do the provider sessions and grants of the
 * applications signed in under it, and each application with a back-channel logout URI gets a logout
 * token (OpenID Connect Back-Channel Logout 1.0) from the outbox. The library's own sender is not used: it
 * refuses loopback and private addresses, which the operator may register, and it would send only on
 * RP-initiated logout, outside the outbox (src/oidc/provider.ts switches it off).
 */

type LogoutContext = Pick<FlowContext, 'store' | 'clock' | 'random' | 'secretKey' | 'settings'>;

/** How long a logout token is valid: it is signed at each attempt, so a short life costs no retry. */
const LOGOUT_TOKEN_TTL_S = 120;
/** How long a receiver may take to answer before the attempt counts as failed (and is retried). */
const SEND_TIMEOUT_MS = 10_000;
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * The keys this process's provider signs with (set when it is built). A rotation takes effect at the next
 * start, and the JWKS the provider publishes holds only the keys it loaded: a logout token signed with a
 * newer key would not verify against it. A process without a provider (a CLI command draining the outbox)
 * reads the keys as a starting provider would.
 */
const keysInUse = new WeakMap<Store, JsonWebKey[]>();

export function useSigningKeys(store: Store, keys: JsonWebKey[]): void {
  keysInUse.set(store, keys);
}

/**
 * An application got a code (the authorization or resume endpoint answered with one): remember its `sid`
 * and grant under the provider session and the Latchkey session of this browser, so they end together.
 */
export async function recordProviderSession(ctx: Pick<FlowContext, 'store' | 'clock' | 'settings'>, oidc: KoaContextWithOIDC['oidc'], sessionCookie: string | undefined): Promise<void> {
  const { session, client } = oidc;
  const accountId = session?.accountId;
  if (!session || !client || !accountId) return;
  const sid = session.sidFor(client.clientId);
  if (!sid) return;
  const active = await resolveSession(ctx, sessionCookie);
  await recordSessionClient(ctx.store.db, {
    session_uid: session.uid,
    client_id: client.clientId,
    sid,
    grant_id: session.grantIdFor(client.clientId) ?? null,
    account_id: accountId,
    session_hash: active?.account.id === accountId ? active.idHash : null,
    created_at: iso(ctx.clock.now()),
  });
}

/**
 * RP-initiated logout confirmed: the library has ended its session and the grants; the Latchkey session
 * of this browser ends too, with every application signed in under it. The Latchkey session comes from the
 * cookie, else from the provider session's record; one of another person than the provider session's is
 * left alone (the library logs out its remembered person when someone else signed in at Latchkey).
 * Returns whether a Latchkey session ended.
 */
export async function endSessionAfterProviderLogout(
  ctx: Pick<FlowContext, 'store' | 'clock' | 'random' | 'outbox'>,
  provider: { uid: string | undefined; accountId: string | undefined },
  sessionCookie: string | undefined,
): Promise<boolean> {
  const cookieHash = sessionCookie && sessionCookie.length <= 100 ? sha256(sessionCookie) : undefined;
  const hash = cookieHash ?? (provider.uid ? await sessionHashOfProviderSession(ctx.store.db, provider.uid) : undefined);
  if (!hash) return false;
  return endSessionByHash(ctx, hash, provider.accountId);
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The logout token for one job, signed with the provider's current key of the client's algorithm (RS256 unless it registered ES256). */
export async function logoutToken(ctx: LogoutContext, job: BackchannelLogoutJob, alg: 'RS256' | 'ES256'): Promise<string> {
  const keys = keysInUse.get(ctx.store) ?? (await loadSigningKeys(ctx));
  // Live keys come first (loadSigningKeys): the first of the algorithm is the one the provider signs with.
  const jwk = keys.find((key) => (key as { alg?: string }).alg === alg);
  if (!jwk) throw new PermanentDeliveryError(`no ${alg} signing key`);
  const iat = Math.floor(ctx.clock.now().getTime() / 1000);
  const header = { alg, typ: 'logout+jwt', kid: (jwk as { kid?: string }).kid };
  const claims = {
    iss: issuerOf(ctx.settings.publicUrl),
    aud: job.clientId,
    iat,
    exp: iat + LOGOUT_TOKEN_TTL_S,
    jti: job.jti,
    sub: job.sub,
    sid: job.sid,
    events: { [EVENT]: {} },
  };
  const input = `${base64url(header)}.${base64url(claims)}`;
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const signature = alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** The issuer: LATCHKEY_PUBLIC_URL without a trailing slash (src/oidc/provider.ts publishes the same). */
export function issuerOf(publicUrl: URL): string {
  return `${publicUrl.origin}${publicUrl.pathname.replace(/\/+$/, '')}`;
}

/**
 * The outbox's half (a remote job, run outside any transaction): POSTs the logout token to the client's
 * back-channel logout URI, wherever the operator pointed it (loopback and private addresses included:
 * SPEC §10). A 2xx answer is done; anything else, or no answer, throws and the outbox retries. A client
 * removed meanwhile, or one that dropped its logout URI, gets nothing.
 */
export async function sendLogoutToken(ctx: LogoutContext, job: BackchannelLogoutJob): Promise<void> {
  const row = await ctx.store.db.selectFrom('oidc_clients').select('metadata').where('client_id', '=', job.clientId).executeTakeFirst();
  const metadata = row ? (JSON.parse(row.metadata) as { backchannel_logout_uri?: string; id_token_signed_response_alg?: string }) : undefined;
  const uri = metadata?.backchannel_logout_uri;
  if (!uri) return;
  const token = await logoutToken(ctx, job, metadata.id_token_signed_response_alg === 'ES256' ? 'ES256' : 'RS256');
  const response = await fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ logout_token: token }).toString(),
    redirect: 'manual',
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  // The body is not needed; reading it frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status < 200 || response.status >= 300) throw new Error(`back-channel logout of client ${job.clientId} answered ${response.status}`);
}
