/**
 * A social sign-in provider (SPEC §3 `LATCHKEY_SOCIAL_<ID>_*`, seed C6): VK ID, Yandex ID, Google or any
 * OpenID Connect issuer. Each adapter runs the authorization code flow with PKCE and `state` (plus `nonce`
 * where the provider issues ID tokens) and answers with who the person is at the provider.
 */

/** Why a social sign-in did not finish; each has its own page and is logged by this code (never with tokens). */
export type SocialFailure =
  | 'cancelled'
  | 'provider_unreachable'
  | 'provider_error'
  | 'state_mismatch'
  | 'nonce_mismatch'
  | 'expired'
  | 'identity_taken'
  | 'email_taken'
  | 'no_subject'
  | 'account_inactive';

export class SocialError extends Error {
  constructor(
    readonly reason: SocialFailure,
    /** Private detail for the log; never shown, never holds a token. */
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'SocialError';
  }
}

/** What the provider told us about the person. Contacts count as verified only when the provider says so. */
export interface SocialProfile {
  /** The identity's issuer: the OIDC `iss`, or the provider's fixed base URL for plain OAuth 2.0 ones. */
  issuer: string;
  /** The provider's stable id of the person (`sub`); empty means the provider gave none. */
  subject: string;
  email?: string | undefined;
  emailVerified: boolean;
  /** As the provider wrote it; the flow normalizes it to E.164. */
  phone?: string | undefined;
  phoneVerified: boolean;
  name?: string | undefined;
}

/** The secrets of one attempt, made by the flow and kept (sealed) in the browser between start and callback. */
export interface AttemptSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** `PUBLIC_URL/auth/<id>/callback`. */
  redirectUri: string;
}

export interface SocialProvider {
  /** Lower-case id used in paths: `vk`, `yandex`, `google`, or the generic provider's name. */
  readonly id: string;
  /** Shown on the button ("Sign in with {title}") and in letters. */
  readonly title: string;
  /** Where a person who lost their password at the provider recovers it (named in recovery letters). */
  readonly recoveryUrl: string | undefined;
  /** The address to send the browser to. May fetch the provider's metadata (bounded by the time-out). */
  authorizationUrl(attempt: AttemptSecrets): Promise<URL>;
  /**
   * Handles the callback: checks the provider's answer (an `error` parameter means a refusal: `cancelled`
   * for `access_denied`), exchanges the code with the PKCE verifier, reads the person's profile.
   * Throws SocialError; network failures and time-outs are `provider_unreachable`.
   */
  finish(callbackUrl: URL, attempt: AttemptSecrets): Promise<SocialProfile>;
}
