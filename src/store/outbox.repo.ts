import { sql } from 'kysely';
import type { Dialect, Executor } from './db.js';
import type { OutboxMessage, OutboxTable } from './schema.js';

export interface NewOutboxMessage {
  channel: OutboxTable['channel'];
  kind: string;
  recipient: string | null;
  subject: string | null;
  /** Already sealed. */
  payload: string;
}

export async function enqueueMessage(db: Executor, message: NewOutboxMessage, now: string): Promise<void> {
  await db
    .insertInto('outbox')
    .values({ ...message, status: 'queued', attempts: 0, next_attempt_at: now, created_at: now })
    .execute();
}

/**
 * Claims due messages for one worker: queued ones whose time has come, and processing ones whose
 * worker died (lock expired). On PostgreSQL `FOR UPDATE SKIP LOCKED` lets every node drain safely.
 */
export async function claimDueMessages(
  db: Executor,
  dialect: Dialect,
  now: string,
  lockedUntil: string,
  limit: number,
  /** The caller knows something is due (it was kicked by a message it queued): no read first. */
  known = false,
): Promise<OutboxMessage[]> {
  // The constants are written into the SQL (not bound), so both databases see that a claim reads only rows
  // of the partial indexes of migration 022 (unsent ones; new letters), in id order: no step over sent rows.
  const unsent = db.selectFrom('outbox').select('id').where(sql<boolean>`status in ('queued', 'processing')`);
  const dueNow = unsent.where((eb) =>
    eb.or([
      eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
      eb.and([eb('status', '=', 'processing'), eb('locked_until', '<', now)]),
    ]),
  );
  const newLetters = db
    .selectFrom('outbox')
    .select('id')
    .where(sql<boolean>`status = 'queued'`)
    .where(sql<boolean>`attempts = 0`)
    .where(sql<boolean>`channel != 'job'`)
    .where('next_attempt_at', '<=', now);
  // Most wake-ups (polls) find nothing: an indexed read (in id order, so it walks the unsent index) is far
  // cheaper than an UPDATE … RETURNING write. A worker kicked by a message it just queued skips it.
  if (!known && !(await dueNow.orderBy('id').limit(1).executeTakeFirst())) return [];
  // New letters and texts before the rest: a job (a recovery request to resolve) makes a letter, and the
  // person waits for the letter; under a backlog it then leaves right after its job, not behind every job
  // queued since. Only untried ones: retries while a transport is down must not hold up the jobs. One
  // statement: the first `limit` of the new ones, then of the rest up to `limit` in all (each an indexed
  // LIMIT, not a sort of the whole backlog); on PostgreSQL `SKIP LOCKED` in both, so two nodes never take the
  // same row.
  const lockable = <T extends typeof dueNow>(query: T): T => (dialect === 'postgres' ? (query.forUpdate().skipLocked() as T) : query);
  const claimed = await db
    .with('fresh', () => lockable(newLetters.orderBy('id').limit(limit)))
    // Only as many as the new letters left room for: a row locked here and not claimed would be skipped by
    // another node's claim for nothing.
    .with('older', (cte) =>
      lockable(
        dueNow
          .where('id', 'not in', cte.selectFrom('fresh').select('id'))
          .orderBy('id')
          .limit(sql<number>`(select ${limit} - count(*) from fresh)`),
      ),
    )
    .updateTable('outbox')
    .set({ status: 'processing', locked_until: lockedUntil, attempts: sql<number>`attempts + 1` })
    .where('id', 'in', (eb) => eb.selectFrom('fresh').select('id').unionAll(eb.selectFrom('older').select('id')))
    .returningAll()
    .execute();
  // RETURNING keeps no order: the new letters first again, each group oldest first.
  const rank = (m: OutboxMessage) => (m.channel !== 'job' && Number(m.attempts) === 1 ? 0 : 1);
  return claimed.sort((a, b) => rank(a) - rank(b) || a.id - b.id);
}

/**
 * When the longest-waiting queued message became due (undefined: none is waiting). Read beside a claim, since
 * the claim takes new letters first and so says nothing of the jobs queued behind them (outbox_due index).
 */
export async function oldestQueuedDueAt(db: Executor): Promise<string | undefined> {
  const row = await db.selectFrom('outbox').select('next_attempt_at').where('status', '=', 'queued').orderBy('next_attempt_at').limit(1).executeTakeFirst();
  return row?.next_attempt_at;
}

/**
 * Marks a claimed message sent; `keepPayload` is false once a real transport has it (the link leaves the
 * database). `attempts` is the claim's fencing token (every claim increments it): when given, only the
 * worker whose claim is current may settle the row, so a worker that lost its lock (it stalled past
 * `locked_until` and another worker reclaimed the row) changes nothing. Returns whether the row was ours.
 */
export async function markSent(db: Executor, id: number, now: string, keepPayload: boolean, attempts?: number): Promise<boolean> {
  let update = db
    .updateTable('outbox')
    .set(keepPayload ? { status: 'sent', sent_at: now, locked_until: null } : { status: 'sent', sent_at: now, locked_until: null, payload: '' })
    .where('id', '=', id)
    .where('status', '=', 'processing');
  if (attempts !== undefined) update = update.where('attempts', '=', attempts);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Puts a claimed message back in the queue for a later attempt (fenced by `attempts` like `markSent`). */
export async function markRetry(db: Executor, id: number, nextAttemptAt: string, error: string, attempts?: number): Promise<void> {
  let update = db
    .updateTable('outbox')
    .set({ status: 'queued', next_attempt_at: nextAttemptAt, locked_until: null, last_error: error.slice(0, 500) })
    .where('id', '=', id);
  if (attempts !== undefined) update = update.where('status', '=', 'processing').where('attempts', '=', attempts);
  await update.execute();
}

/** Gives a claimed message up for good (fenced by `attempts` like `markSent`). */
export async function markAbandoned(db: Executor, id: number, error: string, attempts?: number): Promise<void> {
  let update = db
    .updateTable('outbox')
    .set({ status: 'abandoned', locked_until: null, last_error: error.slice(0, 500), payload: '' })
    .where('id', '=', id);
  if (attempts !== undefined) update = update.where('status', '=', 'processing').where('attempts', '=', attempts);
  await update.execute();
}

/**
 * Extends the locks a live worker holds (the claims it is still working on), so a slow send keeps its
 * row while a dead worker's rows come free soon after `locked_until`.
 */
export async function renewLocks(db: Executor, claims: ReadonlyArray<{ id: number; attempts: number }>, lockedUntil: string): Promise<void> {
  if (claims.length === 0) return;
  await db
    .updateTable('outbox')
    .set({ locked_until: lockedUntil })
    .where('status', '=', 'processing')
    .where((eb) => eb.or(claims.map((c) => eb.and([eb('id', '=', c.id), eb('attempts', '=', c.attempts)]))))
    .execute();
}

/** Messages still to be delivered (queued or in flight): the outbox depth metric. */
export async function outboxDepth(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('status', 'in', ['queued', 'processing'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The newest letters and texts, for the development outbox page. */
export async function listRecentMessages(db: Executor, limit: number): Promise<OutboxMessage[]> {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('channel', '!=', 'job')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
