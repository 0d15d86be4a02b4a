import type { Logger } from 'pino';
import { addMs, iso } from '../kernel/clock.js';
import { sha256 } from '../kernel/crypto.js';
import type { Metrics } from '../kernel/metrics.js';
import type { Clock } from '../kernel/clock.js';
import type { Executor, Store } from '../store/db.js';
import { claimDueMessages, markAbandoned, markRetry, markSent, oldestQueuedDueAt, renewLocks } from '../store/outbox.repo.js';
import type { OutboxMessage } from '../store/schema.js';
import { PermanentDeliveryError } from './errors.js';
import type { MailTransport } from './mail-transport.js';
import type { EmailPayload, Outbox, SmsPayload } from './outbox.js';
import type { SmsTransport } from './sms-transport.js';

export interface WorkerOptions {
  /** How often an idle worker looks for due messages (it is also woken by `Outbox.kick`). */
  pollMs: number;
  batchSize: number;
  /**
   * How long a claim lasts without renewal: a live worker renews the claims it is working on every third
   * of it, so this bounds how long a dead worker's messages wait before another worker (or this one,
   * restarted) takes them over.
   */
  lockMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * How long requests may keep a message waiting: once a claimed batch holds a message queued longer ago,
   * the worker stops deferring to requests (no waiting for a gap, a whole batch at once) until it has
   * caught up, so a person's letter never starves behind a steady stream of requests (issue 15, item 5).
   */
  maxDeferMs: number;
}

export const defaultWorkerOptions: WorkerOptions = {
  pollMs: 1000,
  batchSize: 20,
  lockMs: 15_000,
  maxAttempts: 10,
  backoffBaseMs: 2000,
  backoffMaxMs: 10 * 60_000,
  maxDeferMs: 2000,
};

/**
 * The work behind a queued job, by its kind, inside the transaction that marks the job done. The handlers
 * come from the composition root (src/job-handlers.ts), so delivery knows no flow.
 */
export type JobHandler = (tx: Executor, sealedPayload: string) => Promise<void>;

/**
 * A job whose work is a call to another server (a back-channel logout token): run outside any transaction,
 * since an SQLite transaction holds the one connection and every request would wait for the remote answer.
 * Marked sent when it resolves; a throw is retried like a failed letter (PermanentDeliveryError: given up).
 */
export interface RemoteJobHandler {
  remote: (sealedPayload: string) => Promise<void>;
}

export type JobHandlers = Record<string, JobHandler | RemoteJobHandler>;

export interface WorkerContext {
  store: Store;
  clock: Clock;
  outbox: Outbox;
  settings: { publicUrl: URL };
  jobs: JobHandlers;
  mail: MailTransport;
  /** Undefined when no SMS gateway is configured. */
  sms: SmsTransport | undefined;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Drains the outbox: claims due rows, does the work, marks each one sent once. Failures are retried with
 * exponential backoff; permanent refusals and exhausted retries are abandoned with the error recorded.
 */
/** Thrown inside a job's transaction to roll it back when the claim was taken over meanwhile. */
class LostClaimError extends Error {}

export class OutboxWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private busy: () => boolean = () => false;
  /** The last batch held a message older than `maxDeferMs`: requests wait for the worker until it catches up. */
  private behind = false;

  constructor(
    private readonly ctx: WorkerContext,
    private readonly options: WorkerOptions = defaultWorkerOptions,
  ) {
    ctx.outbox.onKick(() => this.kick());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /**
   * Requests first: while `busy()` says requests are being answered, the running worker waits for a gap
   * and takes at most one batch per `pollMs`, one message at a time (one pooled connection). Under a
   * burst the answers keep their speed and do not depend on what the queued jobs turn out to cost
   * (an existing account's letter or nothing: SPEC §7 rule 6); the letters follow once it passes. Only
   * for so long: a message older than `maxDeferMs` ends the deferring until the worker has caught up.
   */
  yieldWhile(busy: () => boolean): void {
    this.busy = busy;
  }

  /** Claims and handles one batch; returns how many messages it took. `known`: a kick said something is due. */
  async runOnce(oneAtATime = false, known = false): Promise<number> {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const batch = await claimDueMessages(store.db, store.dialect, iso(now), iso(addMs(now, this.options.lockMs)), this.options.batchSize, known);
    if (batch.length === 0) {
      this.behind = false;
      return 0;
    }
    // How long the longest-waiting message has been due (queued, or since its retry time) says how far behind
    // the worker is: the batch's own messages cannot tell, since new letters are claimed before older jobs. A
    // batch short of full took everything due, so only a full one asks what is left in the queue.
    const dueBefore = iso(addMs(now, -this.options.maxDeferMs));
    const late = (dueAt: string | undefined) => dueAt !== undefined && dueAt < dueBefore;
    const full = batch.length === this.options.batchSize;
    this.behind = batch.some((message) => late(message.next_attempt_at)) || (full && late(await oldestQueuedDueAt(store.db)));
    // Renew the claims still being worked on, so a slow send (SMTP time-outs add up to tens of seconds)
    // is not taken over and sent a second time by another worker while this one is still at it.
    const held = new Map(batch.map((m) => [m.id, { id: m.id, attempts: Number(m.attempts) }]));
    const renewal = setInterval(() => {
      renewLocks(store.db, [...held.values()], iso(addMs(clock.now(), this.options.lockMs))).catch((error: unknown) => {
        this.ctx.logger.warn({ err: error }, 'outbox: cannot renew claims');
      });
    }, Math.max(100, Math.floor(this.options.lockMs / 3)));
    renewal.unref();
    const handleHeld = async (message: OutboxMessage) => {
      try {
        await this.handle(message);
      } finally {
        held.delete(message.id);
      }
    };
    try {
      if (oneAtATime) for (const message of batch) await handleHeld(message);
      else await Promise.all(batch.map(handleHeld));
    } finally {
      clearInterval(renewal);
    }
    return batch.length;
  }

  /** Runs batches until nothing is due (tests and the CLI use it). */
  async drain(): Promise<void> {
    while ((await this.runOnce()) > 0) {
      /* keep going */
    }
  }

  private async run(): Promise<void> {
    // Consecutive failed claims (the database is down): the worker waits longer each time, up to 5 s, so an
    // outage is neither hammered nor logged at the poll rate; it resumes on its own when the database is back.
    let failures = 0;
    while (this.running) {
      let handled = 0;
      // A kick from here on wakes the next idle; one before it means a message of ours is due.
      const known = this.kicked;
      this.kicked = false;
      try {
        // Behind: no gap to wait for, the whole batch at once (see `maxDeferMs`).
        handled = await this.runOnce(this.behind ? false : await this.gap(), known);
        if (failures > 0) this.ctx.logger.info({ failures }, 'outbox: claiming again');
        failures = 0;
      } catch (error) {
        failures += 1;
        this.ctx.logger.warn({ err: error, failures }, 'outbox: cannot claim messages');
      }
      // A batch short of full took everything due: what is queued next kicks (here) or is polled (another node).
      if (handled < this.options.batchSize && this.running) {
        await this.idle(failures === 0 ? this.options.pollMs : Math.min(this.options.pollMs * 2 ** failures, Math.max(this.options.pollMs, 5000)));
      }
    }
  }

  /** Waits while requests are busy, at most `pollMs`; true when it gave up waiting (still busy). */
  private async gap(): Promise<boolean> {
    const deadline = performance.now() + this.options.pollMs;
    while (this.busy()) {
      if (!this.running || performance.now() >= deadline) return true;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return false;
  }

  private idle(delayMs: number): Promise<void> {
    // The kick stays set: the next turn of `run` takes it as word that a message is due.
    if (this.kicked) {
      // One event-loop turn lets concurrent requests queue their jobs, so one claim takes them together.
      return new Promise((resolve) => setImmediate(resolve));
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, delayMs);
      timer.unref();
      this.wake = done;
    });
  }

  /**
   * One Message-ID per outbox row, the same at every attempt. Delivery is at-least-once: when the process
   * dies after the SMTP server took a letter but before `markSent` commits, the row is claimed again once
   * its lock expires and the letter goes out again, with this same Message-ID, so the copy is a
   * recognisable duplicate (same id, same link) rather than a second letter. The sealed payload never
   * changes while the row is queued; its hash keeps ids from two databases apart without revealing anything.
   */
  private messageId(message: OutboxMessage): string {
    return `<lk.${message.id}.${sha256(message.payload).slice(0, 24)}@${this.ctx.settings.publicUrl.hostname || 'latchkey.invalid'}>`;
  }

  private async handle(message: OutboxMessage): Promise<void> {
    const { store, clock, metrics, logger } = this.ctx;
    // The claim's fencing token: a claim taken over by another worker (ours expired) no longer settles the row.
    const claim = Number(message.attempts);
    try {
      if (message.channel === 'job') {
        const job = this.ctx.jobs[message.kind];
        if (job && typeof job !== 'function') {
          await job.remote(message.payload);
          if (!(await markSent(store.db, message.id, iso(clock.now()), false, claim))) this.lostClaim(message);
          logger.info({ outboxId: message.id, kind: message.kind }, 'outbox: job done');
          return;
        }
        await store.db.transaction().execute(async (tx) => {
          // A kind this version does not know (a newer node queued it, or a bug): no retry will teach it.
          if (!job) throw new PermanentDeliveryError(`no handler for job kind ${message.kind}`);
          await job(tx, message.payload);
          // Lost the claim while working: roll the job back, the worker that holds it now does it once.
          if (!(await markSent(tx, message.id, iso(clock.now()), false, claim))) throw new LostClaimError();
        });
        this.kick();
        return;
      }
      if (message.channel === 'email') {
        await this.ctx.mail.send(this.ctx.outbox.open<EmailPayload>(message.payload), { messageId: this.messageId(message) });
        if (!(await markSent(store.db, message.id, iso(clock.now()), this.ctx.mail.kind === 'dev', claim))) this.lostClaim(message);
        metrics.messagesSent.inc({ channel: 'email' });
        logger.info({ outboxId: message.id, kind: message.kind }, 'outbox: message sent');
        return;
      }
      if (message.channel === 'sms' && this.ctx.sms) {
        await this.ctx.sms.send(this.ctx.outbox.open<SmsPayload>(message.payload));
        if (!(await markSent(store.db, message.id, iso(clock.now()), this.ctx.sms.kind === 'dev', claim))) this.lostClaim(message);
        metrics.messagesSent.inc({ channel: 'sms' });
        logger.info({ outboxId: message.id, kind: message.kind, gateway: this.ctx.sms.kind }, 'outbox: message sent');
        return;
      }
      await markAbandoned(store.db, message.id, `no transport for channel ${message.channel}`, claim);
    } catch (error) {
      if (error instanceof LostClaimError) {
        this.lostClaim(message);
        return;
      }
      metrics.messagesFailed.inc({ channel: message.channel });
      const reason = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof PermanentDeliveryError;
      if (permanent || message.attempts >= this.options.maxAttempts) {
        logger.error({ outboxId: message.id, kind: message.kind, reason }, 'outbox: message abandoned');
        await markAbandoned(store.db, message.id, reason, claim).catch(() => undefined);
        return;
      }
      const delay = Math.min(this.options.backoffBaseMs * 2 ** (message.attempts - 1), this.options.backoffMaxMs);
      logger.warn({ outboxId: message.id, kind: message.kind, reason, retryInMs: delay }, 'outbox: delivery failed, will retry');
      // If the database is gone too, the row stays claimed and is taken again when the claim expires.
      await markRetry(store.db, message.id, iso(addMs(clock.now(), delay)), reason, claim).catch(() => undefined);
    }
  }

  private lostClaim(message: OutboxMessage): void {
    this.ctx.logger.warn({ outboxId: message.id, kind: message.kind }, 'outbox: claim expired while working; another worker took the message over');
  }
}
