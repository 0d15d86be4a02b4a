import type { Limit } from '../kernel/rate-limiter.js';
import { AppError } from '../kernel/errors.js';
import type { FlowContext } from './context.js';

/** Counts one hit in each bucket; the first exceeded one answers `rate_limited` with its Retry-After. */
export async function enforce(ctx: Pick<FlowContext, 'limiter'>, checks: Array<[bucket: string, key: string, limit: Limit]>): Promise<void> {
  for (const [bucket, key, limit] of checks) {
    const result = await ctx.limiter.hit(bucket, key, limit);
    if (!result.ok) throw new AppError('rate_limited', { retryAfter: result.retryAfterSeconds });
  }
}
