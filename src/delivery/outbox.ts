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
}

/** A box checkword request (seed B1): resolved by the worker like a recovery request; names the box portal. */
export interface CheckwordRequestJob {
  identifier: string;
  /** Slug of the box portal, whose title the letter names. */
  portal: string;
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

/**
 * The write side of the durable outbox. Services enqueue inside the transaction that changed the data;
 * only the worker talks to SMTP. Payloads are sealed because a queued letter holds a live link.
 */
export class Outbox {
  private listener: () => void = () => undefined;

  constructor(
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  async enqueueEmail(db: Executor, kind: string, payload: EmailPayload): Promise<void> {
    await enqueueMessage(
      db,
      { channel: 'email', kind, recipient: payload.to, subject: payload.subject, payload: this.sealer.seal(JSON.stringify(payload)) },
      iso(this.clock.now()),
    );
  }

  async enqueueRecoveryRequest(db: Executor, job: RecoveryRequestJob): Promise<void> {
    await enqueueMessage(
      db,
      { channel: 'job', kind: 'recovery.email.request', recipient: null, subject: null, payload: this.sealer.seal(JSON.stringify(job)) },
      iso(this.clock.now()),
    );
  }

  async enqueueCheckwordRequest(db: Executor, job: CheckwordRequestJob): Promise<void> {
    await enqueueMessage(
      db,
      { channel: 'job', kind: 'recovery.checkword.request', recipient: null, subject: null, payload: this.sealer.seal(JSON.stringify(job)) },
      iso(this.clock.now()),
    );
  }

  async enqueueSms(db: Executor, kind: string, payload: SmsPayload): Promise<void> {
    await enqueueMessage(
      db,
      { channel: 'sms', kind, recipient: payload.to, subject: null, payload: this.sealer.seal(JSON.stringify(payload)) },
      iso(this.clock.now()),
    );
  }

  async enqueuePhoneCode(db: Executor, job: PhoneCodeJob): Promise<void> {
    await enqueueMessage(
      db,
      { channel: 'job', kind: 'recovery.phone.code', recipient: null, subject: null, payload: this.sealer.seal(JSON.stringify(job)) },
      iso(this.clock.now()),
    );
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
