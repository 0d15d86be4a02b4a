import { limits } from '../domain/limits.js';
import type { Limit } from '../kernel/rate-limiter.js';
import { AppError } from '../kernel/errors.js';
import type { FlowContext } from './context.js';

/**
 * The key of one of an account's own failure budgets: after `latchkey user unlock` (issue 14, item 11) the
 * account's stamp makes it a new key, so every node and Redis start counting afresh.
 */
export function accountBudgetKey(key: string, account: { failures_reset_at: string | null } | undefined): string {
  return account?.failures_reset_at ? `${key}#${account.failures_reset_at}` : key;
}

/** Counts one hit in each bucket; the first exceeded one answers `rate_limited` with its Retry-After. */
export async function enforce(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<void> {
  for (const [bucket, key, limit] of checks) {
    const result = await ctx.limiter.hit(bucket, key, limit);
    if (!result.ok) throw new AppError('rate_limited', { retryAfter: result.retryAfterSeconds });
  }
}

/**
 * Secrets checked (SPEC §7 rule 20): refuses with `rate_limited` when one of these budgets of failures is
 * already spent; counts nothing, so a right secret that passes never costs anyone a try.
 */
export async function assertBudgetsLeft(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<void> {
  for (const [bucket, key, limit] of checks) {
    const result = await ctx.limiter.peek(bucket, key, limit);
    if (!result.ok) throw new AppError('rate_limited', { retryAfter: result.retryAfterSeconds });
  }
}

/**
 * Counts one failure (a wrong secret) in every bucket; returns the `rate_limited` refusal when one of them
 * is now past its budget, so the caller can answer it instead of the plain failure.
 */
export async function countFailure(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<AppError | undefined> {
  let refusal: AppError | undefined;
  for (const [bucket, key, limit] of checks) {
    const result = await ctx.limiter.hit(bucket, key, limit);
    if (!result.ok && !refusal) refusal = new AppError('rate_limited', { retryAfter: result.retryAfterSeconds });
  }
  return refusal;
}

/**
 * A secret about to be checked (SPEC §7 rules 8 and 20): counts the attempt in every bucket now, before the
 * check, so a burst of parallel guesses cannot all pass a budget that only later failures would fill; returns
 * the `rate_limited` refusal when a budget is spent. When the secret proves right, `refundAttempt` takes the
 * hits back: a right secret never counts.
 */
export async function countAttempt(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<AppError | undefined> {
  return countFailure(ctx, checks);
}

export async function refundAttempt(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<void> {
  for (const [bucket, key, limit] of checks) await ctx.limiter.refund(bucket, key, limit);
}

/** The caps every "send me a way back" request shares, whatever the channel (SPEC §7 rule 8). */
export async function enforceRecoveryRequestLimits(ctx: Pick<FlowContext, 'limiter'>, identifierKey: string, ip: string): Promise<void> {
  await enforce(ctx, [
    ['recovery:ip', ip, limits.recoveryPerIp],
    ['recovery:login', identifierKey, limits.recoveryPerLogin],
    ['recovery:global', '*', limits.recoveryGlobal],
  ]);
}
