import type { SocialProviderSettings } from '../config.js';
import { callbackCode, pkceAuthorizationUrl, providerJson, refuseOAuthError, stringField } from './http.js';
import { SocialError, type AttemptSecrets, type SocialProfile, type SocialProvider } from './provider.js';

/**
 * VK ID (id.vk.com, OAuth 2.1): authorization code with PKCE (S256) and `state`; the callback also carries a
 * `device_id` that the token request must repeat. Endpoints under the configured base (https://id.vk.com by
 * default; tests point it at a local server): `/authorize`, `POST /oauth2/auth` (code → tokens, `state` echoed),
 * `POST /oauth2/user_info` (access token → `{user: {user_id, first_name, last_name, email, phone, …}}`).
 * VK's answer says nothing about whether the e-mail or phone were confirmed, so neither counts as verified.
 */
export function createVkIdProvider(settings: SocialProviderSettings, timeoutMs: number): SocialProvider {
  const base = settings.issuer.replace(/\/+$/, '');
  const form = (fields: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(fields).toString(),
  });

  return {
    id: settings.id,
    title: settings.title,
    recoveryUrl: 'https://id.vk.com/restore/',

    async authorizationUrl(attempt: AttemptSecrets): Promise<URL> {
      return pkceAuthorizationUrl(`${base}/authorize`, settings.clientId, attempt, { scope: 'email phone' });
    },

    async finish(callbackUrl: URL, attempt: AttemptSecrets): Promise<SocialProfile> {
      const code = callbackCode(callbackUrl, attempt);
      const deviceId = callbackUrl.searchParams.get('device_id');
      if (!deviceId) throw new SocialError('provider_error', 'callback without device_id');

      const token = await providerJson(
        new URL(`${base}/oauth2/auth`),
        form({
          grant_type: 'authorization_code',
          code,
          code_verifier: attempt.codeVerifier,
          client_id: settings.clientId,
          device_id: deviceId,
          redirect_uri: attempt.redirectUri,
          state: attempt.state,
        }),
        timeoutMs,
      );
      refuseOAuthError('token', token);
      // VK echoes our `state` in the token answer; one that differs is not the answer to this attempt. (An answer
      // without it is accepted: the callback's state was already compared, and this answer came straight from VK.)
      const echoed = stringField(token.body, 'state');
      if (echoed !== undefined && echoed !== attempt.state) throw new SocialError('state_mismatch', 'token answer state differs');
      const accessToken = stringField(token.body, 'access_token');
      if (!accessToken) throw new SocialError('provider_error', 'token: no access_token');

      const info = await providerJson(new URL(`${base}/oauth2/user_info`), form({ client_id: settings.clientId, access_token: accessToken }), timeoutMs);
      refuseOAuthError('user_info', info);
      const user = info.body.user;
      if (typeof user !== 'object' || user === null || Array.isArray(user)) throw new SocialError('provider_error', 'user_info: no user object');
      const profile = user as Record<string, unknown>;
      const subject = stringField(profile, 'user_id');
      if (!subject) throw new SocialError('no_subject', 'user_info without user_id');
      const tokenUser = stringField(token.body, 'user_id');
      if (tokenUser !== undefined && tokenUser !== subject) throw new SocialError('provider_error', 'user_info user_id differs from the token answer');

      const name = [stringField(profile, 'first_name'), stringField(profile, 'last_name')].filter(Boolean).join(' ');
      return {
        issuer: base,
        subject,
        email: stringField(profile, 'email'),
        emailVerified: false,
        phone: stringField(profile, 'phone'),
        phoneVerified: false,
        name: name || undefined,
      };
    },
  };
}
