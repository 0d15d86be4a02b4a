import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import type { Limit } from '../kernel/rate-limiter.js';
import type { Executor } from '../store/db.js';
import { countSmsSince } from '../store/phone-flows.repo.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';

/**
 * The one guard every text message passes (SPEC §7 rule 19, SMS pumping): the country allow-list, the
 * daily budget, and caps per number, per sender and overall (LATCHKEY_SMS_CAPS). It has two halves:
 *
 * - `guardText`, where a text is asked for: counts the caps (and for an admin checks country and budget
 *   too, so the admin is told at once). Self-service recovery counts the typed number whether or not it is
 *   on an account, so its answer says nothing about the number (rule 6).
 * - `sendText`, where a text is queued: checks country and budget again and queues it. It is the only
 *   caller of `outbox.enqueueSms`.
 *
 * A refusal is counted in `latchkey_sms_refused_total{reason}` and written to the audit log as
 * `sms.refused` with the reason (once per cap, key and window, so a flood does not flood the log).
 */

/**
 * Who asks for a text: an admin acting on a member, a signed-in person proving a new number of their own
 * (issue 13, contact change), or anyone at an IP asking for their own account.
 */
export type TextSender =
  | { kind: 'admin'; accountId: string; ip: string; portalId: string }
  | { kind: 'account'; accountId: string; ip: string }
  | {
      kind: 'ip';
      ip: string;
      /**
       * This browser's device cookie vouches for the account that owns the number (rule 20): the owner's
       * requests count against a budget of their own, so strangers asking for the number cannot starve it.
       */
      owner?: boolean;
    };

export type TextRefusal = 'country_not_allowed' | 'budget_exhausted' | 'number_cap' | 'sender_cap' | 'ip_cap' | 'global_cap';

type GuardContext = Pick<FlowContext, 'clock' | 'random' | 'store' | 'limiter' | 'settings' | 'smsRefusals'>;

interface Refusal {
  reason: TextRefusal;
  /** What the caps key on, so the audit line is written once per window, not once per refused request. */
  key: string;
  windowMs: number;
  retryAfter: number;
}

const DAY_MS = 24 * 3600_000;

function secondsToNextUtcDay(now: Date): number {
  const dayStart = Date.parse(`${iso(now).slice(0, 10)}T00:00:00.000Z`);
  return Math.max(1, Math.ceil((dayStart + DAY_MS - now.getTime()) / 1000));
}

/** The checks that count nothing: the number's country and today's budget (counted in the outbox, across nodes). */
async function unsendable(ctx: GuardContext, db: Executor, to: string): Promise<Refusal | undefined> {
  const allowed = ctx.settings.smsCountries;
  const country = parsePhoneNumberFromString(to)?.country;
  if (allowed && (!country || !allowed.includes(country))) return { reason: 'country_not_allowed', key: country ?? '?', windowMs: 3600_000, retryAfter: 0 };
  const now = ctx.clock.now();
  const budget = ctx.settings.smsDailyBudget;
  if ((await countSmsSince(db, `${iso(now).slice(0, 10)}T00:00:00.000Z`, budget)) >= budget) {
    return { reason: 'budget_exhausted', key: iso(now).slice(0, 10), windowMs: DAY_MS, retryAfter: secondsToNextUtcDay(now) };
  }
  return undefined;
}

/** The caps a request counts against, the sender's own first: a flooding sender runs out before the number does. */
function capsFor(ctx: GuardContext, to: string, sender: TextSender): Array<[bucket: string, key: string, limit: Limit, reason: TextRefusal]> {
  const caps = ctx.settings.smsCaps;
  if (sender.kind === 'admin') {
    return [
      ['sms:sender', sender.accountId, caps.sender, 'sender_cap'],
      ['sms:number:admin', to, caps.number, 'number_cap'],
      ['sms:global', '*', caps.global, 'global_cap'],
    ];
  }
  if (sender.kind === 'account') {
    return [
      ['sms:sender', sender.accountId, caps.sender, 'sender_cap'],
      ['sms:ip', sender.ip, caps.ip, 'ip_cap'],
      ['sms:number', to, caps.number, 'number_cap'],
      ['sms:global', '*', caps.global, 'global_cap'],
    ];
  }
  if (sender.owner) {
    // The owner's budget stands apart from the shared and global ones, which strangers can use up.
    return [
      ['sms:ip', sender.ip, caps.ip, 'ip_cap'],
      ['sms:number:owner', to, caps.number, 'number_cap'],
    ];
  }
  return [
    ['sms:ip', sender.ip, caps.ip, 'ip_cap'],
    ['sms:number', to, caps.number, 'number_cap'],
    ['sms:global', '*', caps.global, 'global_cap'],
  ];
}

/** Counts the refusal and audits it once per reason, key and window. */
async function noteRefusal(ctx: GuardContext, db: Executor, refusal: Refusal, who: { sender?: TextSender; targetAccountId?: string | undefined }): Promise<void> {
  ctx.smsRefusals?.inc({ reason: refusal.reason });
  const first = await ctx.limiter.hit('sms:refusal-audited', `${refusal.reason}:${refusal.key}`, { max: 1, windowMs: refusal.windowMs });
  if (!first.ok) return;
  const sender = who.sender;
  await recordAudit(ctx, db, {
    action: 'sms.refused',
    actorKind: sender?.kind === 'admin' ? 'admin' : sender ? 'self' : 'system',
    actorAccountId: sender && sender.kind !== 'ip' ? sender.accountId : null,
    portalId: sender?.kind === 'admin' ? sender.portalId : null,
    targetAccountId: who.targetAccountId ?? null,
    ip: sender?.ip ?? null,
    detail: refusal.reason,
  });
}

function refusalError(refusal: Refusal): AppError {
  if (refusal.reason === 'country_not_allowed') return new AppError('invalid_request', { field: 'phone' }, 'texts to this country are not allowed (LATCHKEY_SMS_COUNTRIES)');
  return new AppError('rate_limited', { retryAfter: refusal.retryAfter }, `SMS guard: ${refusal.reason}`);
}

/**
 * Where a text is asked for, before any transaction: counts one hit against each cap; an admin is also
 * refused a number outside the allowed countries (`invalid_request`, field `phone`) or a spent budget.
 * Throws `rate_limited` with Retry-After when a cap or the budget refuses.
 */
export async function guardText(ctx: GuardContext, request: { to: string; sender: TextSender; targetAccountId?: string }): Promise<void> {
  const { to, sender } = request;
  // A stranger learns nothing from these two, so self-service leaves them to `sendText`, after the account check.
  // A signed-in person typed the number for themselves: country and budget tell them nothing about others.
  const early = sender.kind !== 'ip' ? await unsendable(ctx, ctx.store.db, to) : undefined;
  if (early) {
    await noteRefusal(ctx, ctx.store.db, early, { sender, targetAccountId: request.targetAccountId });
    throw refusalError(early);
  }
  for (const [bucket, key, limit, reason] of capsFor(ctx, to, sender)) {
    const result = await ctx.limiter.hit(bucket, key, limit);
    if (result.ok) continue;
    const refusal: Refusal = { reason, key: `${bucket}:${key}`, windowMs: limit.windowMs, retryAfter: result.retryAfterSeconds };
    await noteRefusal(ctx, ctx.store.db, refusal, { sender, targetAccountId: request.targetAccountId });
    throw refusalError(refusal);
  }
}

/**
 * Queues a text inside the caller's transaction if its country is allowed and today's budget is not spent;
 * else queues nothing and returns why. The only way a text reaches the outbox.
 */
export async function sendText(
  ctx: GuardContext & Pick<FlowContext, 'outbox'>,
  tx: Executor,
  message: { kind: string; to: string; text: string; targetAccountId?: string },
): Promise<TextRefusal | undefined> {
  const refusal = await unsendable(ctx, tx, message.to);
  if (refusal) {
    await noteRefusal(ctx, tx, refusal, { targetAccountId: message.targetAccountId });
    return refusal.reason;
  }
  await ctx.outbox.enqueueSms(tx, message.kind, { to: message.to, text: message.text });
  return undefined;
}

/** For a caller whose request must fail when `sendText` refuses (an admin's, after `guardText` passed and a race spent the budget). */
export async function sendTextOrThrow(ctx: GuardContext & Pick<FlowContext, 'outbox'>, tx: Executor, message: { kind: string; to: string; text: string; targetAccountId?: string }): Promise<void> {
  const reason = await sendText(ctx, tx, message);
  if (reason) throw refusalError({ reason, key: '', windowMs: 0, retryAfter: reason === 'budget_exhausted' ? secondsToNextUtcDay(ctx.clock.now()) : 60 });
}
