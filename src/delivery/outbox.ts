import type { Clock } from '../kernel/clock.js';
import { iso } from '../kernel/clock.js';
import type { Sealer } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import { enqueueMessage } from '../store/outbox.repo.js';
import type { Letter } from '../ui/letters.js';

export interface EmailPayload extends Letter {
  to: string;
}

/** A recovery request the worker resolves later, so the request itself does the same work for every login. */
export interface RecoveryRequestJob {
  identifier: string;
  /** Who asked, for the audit event the worker writes when the login names an account. */
  ip?: string;
}

/** A box checkword request (seed B1): resolved by the worker like a recovery request; names the box portal. */
export interface CheckwordRequestJob {
  identifier: string;
  /** Slug of the box portal, whose title the letter names. */
  portal: string;
  /** Who asked, for the audit event the worker writes when the login names an account. */
  ip?: string;
}

export interface SmsPayload {
  to: string;
  text: string;
}

/** A code to text if the number belongs to an account; resolved by the worker for the same reason. */
export interface PhoneCodeJob {
  flowHash: string;
  phone: string;
  code: string;
}

/** An invitation the worker resolves later (SPEC §5, rule 22): the request does the same work for every contact. */
export interface InvitationJob {
  invitationId: string;
  /** The language of a letter to a contact nobody has yet (the inviting admin's); a passport's own otherwise. */
  locale: 'ru' | 'en';
}

/**
 * One back-channel logout token to send (SPEC §10 Logout): an application's session `sid` of account `sub`
 * ended. Signed when sent, so a retry carries a fresh `iat`/`exp`; `jti` is chosen at enqueue and is the
 * same at every attempt, so the application can tell a repeated delivery from a new logout.
 */
export interface BackchannelLogoutJob {
  clientId: string;
  sid: string;
  sub: string;
  jti: string;
}

/**
 * The write side of the durable outbox. Services enqueue inside the transaction that changed the data;
 * only the worker talks to SMTP. Payloads are sealed because a queued letter holds a live link.
 */
/** Job kinds the worker knows, with their payloads. */
export interface OutboxJobs {
  'recovery.email.request': RecoveryRequestJob;
  'recovery.checkword.request': CheckwordRequestJob;
  'recovery.phone.code': PhoneCodeJob;
  'invitation.deliver': InvitationJob;
  'oidc.backchannel_logout': BackchannelLogoutJob;
}

export class Outbox {
  private listener: () => void = () => undefined;

  constructor(
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  async enqueueEmail(db: Executor, kind: string, payload: EmailPayload): Promise<void> {
    await this.put(db, 'email', kind, payload.to, payload.subject, payload);
  }

  async enqueueSms(db: Executor, kind: string, payload: SmsPayload): Promise<void> {
    await this.put(db, 'sms', kind, payload.to, null, payload);
  }

  /** Work for the worker to resolve later (see `OutboxJobs`): nothing about the account leaks into the request. */
  async enqueueJob<K extends keyof OutboxJobs>(db: Executor, kind: K, job: OutboxJobs[K]): Promise<void> {
    await this.put(db, 'job', kind, null, null, job);
  }

  private async put(db: Executor, channel: 'email' | 'sms' | 'job', kind: string, recipient: string | null, subject: string | null, payload: unknown): Promise<void> {
    await enqueueMessage(db, { channel, kind, recipient, subject, payload: this.sealer.seal(JSON.stringify(payload)) }, iso(this.clock.now()));
  }

  open<T>(sealed: string): T {
    return JSON.parse(this.sealer.open(sealed)) as T;
  }

  /** Wakes the worker after a commit, so letters leave at once rather than at the next poll. */
  kick(): void {
    this.listener();
  }

  onKick(listener: () => void): void {
    this.listener = listener;
  }
}
