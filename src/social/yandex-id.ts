import type { SocialProviderSettings } from '../config.js';
import { callbackCode, pkceAuthorizationUrl, providerJson, refuseOAuthError, stringField } from './http.js';
import { SocialError, type AttemptSecrets, type SocialProfile, type SocialProvider } from './provider.js';

/**
 * Yandex ID (OAuth 2.0 with PKCE S256 and `state`): `/authorize` and `POST /token` under the configured base
 * (https://oauth.yandex.ru by default), then the profile from `GET /info?format=json` with
 * `Authorization: OAuth <token>`. In production the profile lives on another host (login.yandex.ru); any other
 * base (a local test server) serves it as `{base}/info`. Yandex does not say whether the default e-mail or phone
 * were confirmed, so neither counts as verified.
 */
export function createYandexIdProvider(settings: SocialProviderSettings, timeoutMs: number): SocialProvider {
  const base = settings.issuer.replace(/\/+$/, '');
  const infoUrl = (): URL => {
    const url = new URL(`${base}/info`);
    const production = /^oauth\.yandex\.(ru|com)$/.exec(url.hostname);
    if (production && url.protocol === 'https:') url.hostname = `login.yandex.${production[1]}`;
    url.searchParams.set('format', 'json');
    return url;
  };

  return {
    id: settings.id,
    title: settings.title,
    recoveryUrl: 'https://passport.yandex.ru/restoration',

    async authorizationUrl(attempt: AttemptSecrets): Promise<URL> {
      return pkceAuthorizationUrl(`${base}/authorize`, settings.clientId, attempt);
    },

    async finish(callbackUrl: URL, attempt: AttemptSecrets): Promise<SocialProfile> {
      const code = callbackCode(callbackUrl, attempt);

      const fields: Record<string, string> = {
        grant_type: 'authorization_code',
        code,
        client_id: settings.clientId,
        code_verifier: attempt.codeVerifier,
        redirect_uri: attempt.redirectUri,
      };
      if (settings.clientSecret) fields.client_secret = settings.clientSecret;
      const token = await providerJson(
        new URL(`${base}/token`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams(fields).toString(),
        },
        timeoutMs,
      );
      refuseOAuthError('token', token);
      const accessToken = stringField(token.body, 'access_token');
      if (!accessToken) throw new SocialError('provider_error', 'token: no access_token');

      const info = await providerJson(infoUrl(), { headers: { authorization: `OAuth ${accessToken}`, accept: 'application/json' } }, timeoutMs);
      refuseOAuthError('info', info);
      const subject = stringField(info.body, 'id');
      if (!subject) throw new SocialError('no_subject', 'info without id');
      const phone = info.body.default_phone;
      return {
        issuer: base,
        subject,
        email: stringField(info.body, 'default_email'),
        emailVerified: false,
        phone: typeof phone === 'object' && phone !== null ? stringField(phone as Record<string, unknown>, 'number') : undefined,
        phoneVerified: false,
        name: stringField(info.body, 'real_name') ?? stringField(info.body, 'display_name'),
      };
    },
  };
}
