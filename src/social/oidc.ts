import * as client from 'openid-client';
import type { SocialProviderSettings } from '../config.js';
import { callbackRefusal } from './http.js';
import { SocialError, type AttemptSecrets, type SocialProfile, type SocialProvider } from './provider.js';

/** Known recovery pages; a generic issuer's own page is unknown, so letters then name only the provider. */
const RECOVERY_PAGES: Record<string, string> = {
  'https://accounts.google.com': 'https://accounts.google.com/signin/recovery',
};

/**
 * Google and any OpenID Connect issuer, through openid-client: discovery (cached once it succeeds),
 * authorization code flow with PKCE (S256), `state` and `nonce`, ID token validation by the library.
 * Every request to the issuer is bounded by the time-out.
 */
export function createOidcProvider(settings: SocialProviderSettings, timeoutMs: number): SocialProvider {
  let configuration: Promise<client.Configuration> | undefined;
  const issuerUrl = new URL(settings.issuer);
  // Plain HTTP is accepted by config only for loopback issuers outside production (tests, local set-ups).
  const insecure = issuerUrl.protocol === 'http:';

  const discover = (): Promise<client.Configuration> => {
    configuration ??= client
      .discovery(
        issuerUrl,
        settings.clientId,
        settings.clientSecret ? { client_secret: settings.clientSecret } : { token_endpoint_auth_method: 'none' },
        settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None(),
        { timeout: Math.ceil(timeoutMs / 1000), execute: insecure ? [client.allowInsecureRequests] : [] },
      )
      .catch((error: unknown) => {
        // A provider that was down must be asked again next time.
        configuration = undefined;
        throw asSocialError(error);
      });
    return configuration;
  };

  return {
    id: settings.id,
    title: settings.title,
    recoveryUrl: RECOVERY_PAGES[settings.issuer],

    async authorizationUrl(attempt: AttemptSecrets): Promise<URL> {
      const config = await discover();
      return client.buildAuthorizationUrl(config, {
        redirect_uri: attempt.redirectUri,
        scope: 'openid email profile',
        state: attempt.state,
        nonce: attempt.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(attempt.codeVerifier),
        code_challenge_method: 'S256',
      });
    },

    async finish(callbackUrl: URL, attempt: AttemptSecrets): Promise<SocialProfile> {
      const refusal = callbackRefusal(callbackUrl);
      if (refusal) throw refusal;
      const config = await discover();
      let claims: client.IDToken | undefined;
      let userInfo: client.UserInfoResponse | undefined;
      try {
        // The library compares `state`, checks `iss` (RFC 9207), sends the verifier, validates the ID token and its nonce.
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: attempt.codeVerifier,
          expectedState: attempt.state,
          expectedNonce: attempt.nonce,
          idTokenExpected: true,
        });
        claims = tokens.claims();
        // Many providers keep e-mail and name out of the ID token and answer them at the userinfo endpoint.
        if (claims && claims.email === undefined && config.serverMetadata().userinfo_endpoint) {
          userInfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
        }
      } catch (error) {
        throw asSocialError(error);
      }
      if (!claims || typeof claims.sub !== 'string' || claims.sub === '') throw new SocialError('no_subject', 'ID token without sub');
      // fetchUserInfo has checked that the userinfo answer is about the same `sub`.
      const about = { ...userInfo, ...claims };
      return {
        issuer: claims.iss,
        subject: claims.sub,
        email: typeof about.email === 'string' ? about.email : undefined,
        emailVerified: about.email_verified === true,
        phone: typeof about.phone_number === 'string' ? about.phone_number : undefined,
        phoneVerified: about.phone_number_verified === true,
        name: typeof about.name === 'string' ? about.name : undefined,
      };
    },
  };
}

/** openid-client's errors as our reasons; the detail names the library's code, never a token. */
function asSocialError(error: unknown): SocialError {
  if (error instanceof SocialError) return error;
  if (error instanceof client.AuthorizationResponseError) {
    return new SocialError(error.error === 'access_denied' ? 'cancelled' : 'provider_error', `authorization refused: ${error.error}`);
  }
  if (error instanceof client.ResponseBodyError) return new SocialError('provider_error', `${error.error} (HTTP ${error.status})`);
  if (!(error instanceof Error)) return new SocialError('provider_error', 'unknown');
  // The library wraps the real cause (a network error, a failed claim check) one or two levels down.
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 4; e = e.cause) chain.push(e);
  const codes = chain.map((e) => (e as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
  const text = chain.map((e) => `${e.name} ${e.message}`).join(' | ');
  const detail = codes[0] ?? error.name;
  if (/"nonce"/.test(text)) return new SocialError('nonce_mismatch', detail);
  if (/"state"/.test(text)) return new SocialError('state_mismatch', detail);
  if (codes.includes('OAUTH_TIMEOUT') || /TimeoutError|AbortError|fetch failed|ECONNREFUSED|ECONNRESET|socket hang up/.test(text)) {
    return new SocialError('provider_unreachable', detail);
  }
  return new SocialError('provider_error', detail);
}
