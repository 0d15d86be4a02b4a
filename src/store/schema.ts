import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Times are ISO-8601 UTC strings (`*_at`); secrets are stored only as `*_hash`. */
export interface AccountsTable {
  id: string;
  login: string;
  /** NFKC, case-folded login: the unique key. */
  login_key: string;
  name: string | null;
  email: string | null;
  email_key: string | null;
  email_verified_at: string | null;
  /** E.164. */
  phone: string | null;
  phone_verified_at: string | null;
  password_hash: string | null;
  password_changed_at: string | null;
  status: 'active' | 'locked' | 'disabled';
  locale: 'ru' | 'en';
  created_at: string;
  updated_at: string;
  /** Set by a box admin (B3): the next sign-in must choose a new password. */
  must_change_password: Generated<number>;
  /** Set by `latchkey user unlock`: the account's failure budgets count afresh from here (issue 14, item 11). */
  failures_reset_at: Generated<string | null>;
}

export interface PortalsTable {
  id: string;
  slug: string;
  title: string;
  url: string;
  support_contact: string | null;
  created_at: string;
  /** Policy (issue 11): 1 = members must have a second factor to enter. */
  require_2fa: Generated<number>;
  /** Comma-separated recovery channels the portal allows: email, phone, admin. */
  recovery_channels: Generated<string>;
  /** The least password length for the portal's members (8..256). */
  min_password_length: Generated<number>;
  /** `#rrggbb` for the portal's own pages and letters (issue 14); null = the product's colour. */
  color: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MembershipsTable {
  account_id: string;
  portal_id: string;
  role: 'admin' | 'employee';
  status: 'invited' | 'active' | 'fired';
  created_at: string;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
  /** When the session was last used, written at most once a minute (the idle timeout counts from it). */
  last_seen_at: string | null;
  /** Set when the second factor was skipped by an admin's suspension: the session enters only this portal. */
  only_portal_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A portal admin's suspension of a member's second factor (lost phone), limited in time and to that portal. */
export interface SecondFactorSuspensionsTable {
  id: string;
  account_id: string;
  portal_id: string;
  suspended_by: string | null;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
}

export interface RecoveryTokensTable {
  token_hash: string;
  account_id: string;
  /**
   * `email_link`: the e-mailed link (60 min); `phone_reset`: issued once an SMS code was verified (10 min);
   * `admin_link`: sent by a portal admin (24 h); `invitation`: first password of an invited employee (24 h);
   * `checkword`: the box edition's e-mailed checkword (60 min); `unlock`: sent by "this wasn't me" (24 h), the
   * one recovery a locked account may complete, and completing it unlocks the account.
   */
  purpose: 'email_link' | 'phone_reset' | 'admin_link' | 'invitation' | 'checkword' | 'unlock';
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
  revoked_at: string | null;
  /** The portal an admin link or invitation belongs to. */
  portal_id: Generated<string | null>;
  /** Where the link went (`email` or `phone`): using it proves that contact. */
  channel: Generated<string | null>;
}

/** A "this wasn't me" link of one security notice (SPEC §7 rule 23): 7 days, used once. */
export interface NotMeTokensTable {
  token_hash: string;
  account_id: string;
  /** Where the notice went: the fresh recovery link goes back to the same contact. */
  channel: 'email' | 'phone';
  contact: string;
  /** Which notice carried it (`password.changed`, `2fa.enabled`, `notice.new_sign_in`, …), for the audit log. */
  notice: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
}

export type OutboxStatus = 'queued' | 'processing' | 'sent' | 'abandoned';

export interface OutboxTable {
  id: Generated<number>;
  /** `email`, `sms`, or `job` (work the worker does before a message exists, e.g. resolving a recovery request). */
  channel: 'email' | 'sms' | 'job';
  kind: string;
  recipient: string | null;
  subject: string | null;
  /** Sealed (encrypted) JSON; cleared once a real transport accepted the message. */
  payload: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string;
  locked_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface AuditEventsTable {
  id: string;
  at: string;
  actor_account_id: string | null;
  /** `self`, `operator` (CLI), `admin`, or `system`. */
  actor_kind: string;
  action: string;
  target_account_id: string | null;
  portal_id: string | null;
  ip: string | null;
  detail: string | null;
}

export interface PhoneFlowsTable {
  /** sha256 of the flow handle the client holds. */
  id_hash: string;
  phone: string;
  /** Set by the worker when the number belongs to an active account with a verified phone; else null. */
  account_id: string | null;
  created_at: string;
  expires_at: string;
  /** HMAC of the current 6-digit code under the server secret (a bare hash of 10^6 codes would be no secret). */
  code_hash: string;
  code_expires_at: string;
  code_sent_at: string;
  resends: number;
  /** Verification attempts, counted across resends. */
  attempts: number;
  verified_at: string | null;
  closed_at: string | null;
}

export interface SocialIdentitiesTable {
  id: string;
  account_id: string;
  /** The configured provider id (`vk`, `google`, …) the identity came through. */
  provider: string;
  /** OIDC `iss` (or the provider's fixed base for plain OAuth 2.0 ones) + `sub`: the identity's only key. */
  issuer: string;
  subject: string;
  /** The provider's e-mail at linking time, shown on /account so the person can tell two links apart. */
  email: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** An invitation to a portal (SPEC §5, rule 22); the admin sees only what they typed, never `account_id`. */
export interface InvitationsTable {
  id: string;
  portal_id: string;
  contact_kind: 'email' | 'phone';
  /** What the admin typed, normalised: an e-mail key (NFKC, lower case) or an E.164 number. */
  contact: string;
  role: 'admin' | 'employee';
  /** The name the admin typed, for an account the invitation creates. */
  name: string | null;
  invited_by: string | null;
  /** Set by the worker: the passport the contact resolved to (existing, or created for the invitation). */
  account_id: string | null;
  /** sha256 of the `/invitations/<token>` secret, for an existing passport's accept link. */
  token_hash: string | null;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  declined_at: string | null;
  revoked_at: string | null;
}

/** The one row saying whose database this is (migration 010; store/instance.repo.ts). */
export interface InstanceTable {
  /** Always 1. */
  id: number;
  edition: string;
  /** HMAC-SHA256 of a fixed label under LATCHKEY_SECRET: tells secrets apart without storing one. */
  secret_check: string;
  created_at: string;
}

/** An account's TOTP factor (SPEC §9): active once `confirmed_at` is set. */
export interface SecondFactorsTable {
  account_id: string;
  /** The 20-byte secret, base32, sealed (Sealer purpose `totp`). */
  totp_secret_sealed: string;
  created_at: string;
  confirmed_at: string | null;
  /** The last 30-second step a code was accepted for; a code of this step or an earlier one is refused. */
  last_step: Generated<number>;
}

export interface RecoveryCodesTable {
  /** HMAC of the normalised code under the server secret. */
  code_hash: string;
  account_id: string;
  created_at: string;
  used_at: string | null;
}

/** A first factor passed, the second one still owed (SPEC §7 rule 17): lives 10 minutes, 5 wrong codes. */
export interface PendingChallengesTable {
  /** sha256 of the 256-bit handle in the `lk_pending` cookie. */
  id_hash: string;
  account_id: string;
  /** `password`, `social:<provider>`, `email_link`, `phone_reset`, `admin_link`, `invitation`, `checkword`. */
  first_factor: string;
  created_at: string;
  expires_at: string;
  attempts: Generated<number>;
  closed_at: string | null;
  ip: string | null;
  /** Where the browser goes once the factor passes (a path on this site). */
  return_to: string | null;
}

export interface ContactChangesTable {
  /** sha256 of the e-mailed link's token or of the phone flow's handle. */
  id_hash: string;
  account_id: string;
  kind: 'email' | 'phone';
  /** The new contact as it will be stored: the e-mail as typed (NFKC, trimmed), the phone as E.164. */
  new_value: string;
  created_at: string;
  expires_at: string;
  /** Phone: HMAC of the texted code under the server secret. */
  code_hash: string | null;
  /** Phone: wrong codes counted (5 end the change). */
  attempts: Generated<number>;
  landed_at: string | null;
  /** Replaced by a newer request, ended by a password change or by too many wrong codes. */
  cancelled_at: string | null;
}

export interface Database {
  accounts: AccountsTable;
  portals: PortalsTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  recovery_tokens: RecoveryTokensTable;
  outbox: OutboxTable;
  audit_events: AuditEventsTable;
  phone_flows: PhoneFlowsTable;
  social_identities: SocialIdentitiesTable;
  invitations: InvitationsTable;
  instance: InstanceTable;
  oidc_models: OidcModelsTable;
  oidc_clients: OidcClientsTable;
  oidc_keys: OidcKeysTable;
  oidc_session_clients: OidcSessionClientsTable;
  second_factors: SecondFactorsTable;
  recovery_codes: RecoveryCodesTable;
  pending_challenges: PendingChallengesTable;
  second_factor_suspensions: SecondFactorSuspensionsTable;
  not_me_tokens: NotMeTokensTable;
  contact_changes: ContactChangesTable;
}

export type Account = Selectable<AccountsTable>;
export type NewAccount = Insertable<AccountsTable>;
/** A portal as most code sees it; its policy is read on its own (`PortalPolicy`). */
export type Portal = Omit<Selectable<PortalsTable>, 'require_2fa' | 'recovery_channels' | 'min_password_length'>;
export type PortalPolicy = Pick<Selectable<PortalsTable>, 'require_2fa' | 'recovery_channels' | 'min_password_length'>;
export type Membership = Selectable<MembershipsTable>;
export type OutboxMessage = Selectable<OutboxTable>;
export type SocialIdentity = Selectable<SocialIdentitiesTable>;
export type Invitation = Selectable<InvitationsTable>;

/** One model of the OpenID Connect provider (oidc-provider's adapter; SPEC §10): `payload` is its JSON. */
export interface OidcModelsTable {
  name: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: string | null;
  consumed_at: string | null;
  /** The payload's `accountId` (migration 016), so an account's grants and tokens are found by index. */
  account_id: string | null;
}

/** An OpenID Connect client of a portal (`latchkey client add`); the secret sealed, absent for public clients. */
export interface OidcClientsTable {
  client_id: string;
  portal_id: string;
  /** JSON: redirect URIs, post-logout redirect URIs, back-channel logout URI, public or confidential. */
  metadata: string;
  sealed_secret: string | null;
  created_at: string;
}

/** A signing key of the provider: the private JWK sealed, the public one in clear for the JWKS. */
export interface OidcKeysTable {
  kid: string;
  alg: 'RS256' | 'ES256';
  sealed_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

/**
 * An application signed in through a provider session (migration 016): the `sid` its ID token carries, its
 * grant, and the Latchkey session (sha256 of the cookie) that session answered to. Gone once it is logged out.
 */
export interface OidcSessionClientsTable {
  session_uid: string;
  client_id: string;
  sid: string;
  grant_id: string | null;
  account_id: string;
  session_hash: string | null;
  created_at: string;
}
