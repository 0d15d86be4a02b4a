import { createHash } from 'node:crypto';
import { SocialError, type AttemptSecrets } from './provider.js';

/**
 * One request to a provider, bounded by the time-out: a refused connection, a reset or a slow answer is
 * `provider_unreachable`; a non-JSON answer is `provider_error`. The JSON body is returned whatever the
 * status, because OAuth 2.0 servers describe refusals (`{"error": …}`) in it.
 */
export async function providerJson(url: URL, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new SocialError('provider_unreachable', `${url.origin}${url.pathname}: ${error instanceof Error ? error.name : 'error'}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      throw new SocialError('provider_unreachable', `${url.origin}${url.pathname}: slow body`);
    }
    throw new SocialError('provider_error', `${url.origin}${url.pathname}: HTTP ${response.status}, not JSON`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SocialError('provider_error', `${url.origin}${url.pathname}: HTTP ${response.status}, not a JSON object`);
  }
  return { status: response.status, body: body as Record<string, unknown> };
}

/** A refusal at the provider's authorization step, read from the callback's query (RFC 6749 §4.1.2.1). */
export function callbackRefusal(callbackUrl: URL): SocialError | undefined {
  const error = callbackUrl.searchParams.get('error');
  if (error === null) return undefined;
  return new SocialError(error === 'access_denied' ? 'cancelled' : 'provider_error', `authorization refused: ${error.slice(0, 60)}`);
}

/** A string member of a provider's JSON answer, or undefined (numbers are turned into strings: VK's ids are numbers). */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** RFC 7636 S256: base64url(sha256(verifier)). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A non-2xx answer, or one carrying an OAuth `error`, is `provider_error`; the detail holds only the error code. */
export function refuseOAuthError(step: string, answer: { status: number; body: Record<string, unknown> }): void {
  const error = stringField(answer.body, 'error');
  if (answer.status >= 200 && answer.status < 300 && error === undefined) return;
  throw new SocialError('provider_error', `${step}: HTTP ${answer.status}${error ? ` ${oauthCode(error)}` : ''}`);
}

/** An OAuth error code is a short token of [\w.-]; anything else is not repeated into the log. */
function oauthCode(error: string): string {
  return /^[\w.-]{1,60}$/.test(error) ? error : 'unrecognized error';
}

/** The authorization request of a plain OAuth 2.0 provider: code flow, PKCE S256, our `state`. */
export function pkceAuthorizationUrl(endpoint: string, clientId: string, attempt: AttemptSecrets, extra: Record<string, string> = {}): URL {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: attempt.redirectUri,
    state: attempt.state,
    code_challenge: s256(attempt.codeVerifier),
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return url;
}

/** Checks a plain OAuth 2.0 callback (a refusal, our `state`, a code) and returns the code. */
export function callbackCode(callbackUrl: URL, attempt: AttemptSecrets): string {
  const refusal = callbackRefusal(callbackUrl);
  if (refusal) throw refusal;
  if (callbackUrl.searchParams.get('state') !== attempt.state) throw new SocialError('state_mismatch', 'callback state differs');
  const code = callbackUrl.searchParams.get('code');
  if (!code) throw new SocialError('provider_error', 'callback without code');
  return code;
}
