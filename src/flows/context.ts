import type { Counter } from 'prom-client';
import type { SmsCaps } from '../config.js';
import type { Outbox } from '../delivery/outbox.js';
import type { Clock } from '../kernel/clock.js';
import type { PasswordHasher } from '../kernel/password-hasher.js';
import type { Random } from '../kernel/random.js';
import type { RateLimiter } from '../kernel/rate-limiter.js';
import type { SocialProviders } from '../social/index.js';
import type { Store } from '../store/db.js';

/** The ports every flow runs over; the composition root (src/deps.ts) builds them once. */
export interface FlowContext {
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  outbox: Outbox;
  limiter: RateLimiter;
  /** Enabled social sign-in providers (SPEC §3 LATCHKEY_SOCIAL_*), by id. */
  social: SocialProviders;
  /** Texts refused by the SMS guard, by reason (flows/text-guard.ts); absent where nothing reads metrics. */
  smsRefusals?: Counter<'reason'>;
  /** Server secret: keys the HMAC of SMS codes. */
  secretKey: Buffer;
  settings: {
    edition: 'cloud' | 'box';
    publicUrl: URL;
    checkwordTtlMinutes: number;
    emailLinkTtlMinutes: number;
    sessionTtlHours: number;
    /** LATCHKEY_SESSION_IDLE_HOURS: a session unused this long is dead. */
    sessionIdleHours: number;
    smsDefaultRegion: string;
    smsCodeTtlSeconds: number;
    phoneFlowTtlMinutes: number;
    smsCountries: string[] | undefined;
    smsDailyBudget: number;
    /** Rule 19's caps on texts (LATCHKEY_SMS_CAPS). */
    smsCaps: SmsCaps;
    /** False when no SMS gateway is configured: phone recovery is then off. */
    smsEnabled: boolean;
    /** LATCHKEY_TOTP_ISSUER: the name authenticator apps show for the account. */
    totpIssuer: string;
  };
}

/** Who is asking: for rate limits, sessions and the audit log. */
export interface RequestMeta {
  ip: string;
  userAgent?: string | undefined;
  /** Accounts this browser signed in to before (a valid device cookie, SPEC §7 rule 20); none when absent. */
  knownAccounts?: ReadonlySet<string> | undefined;
  /** That browser's own id (a hash of its valid device cookie), keying its per-account budget of failures. */
  deviceId?: string | undefined;
}
