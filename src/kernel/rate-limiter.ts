import type { Clock } from './clock.js';

export interface Limit {
  /** Requests allowed per window. */
  max: number;
  windowMs: number;
}

export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Counts hits per key in fixed windows; windows end by themselves, so no victim is locked out for good.
 * Two ways to use it: `hit` counts every request and refuses past the limit (messages sent); for secrets
 * checked, `peek` asks whether the key's budget of failures is spent without counting, and `hit` counts
 * one failure only once the secret proved wrong (SPEC §7 rule 20: a right secret never counts).
 */
export interface RateLimiter {
  /** Counts one hit; refused once the window holds more than `max`. */
  hit(bucket: string, key: string, limit: Limit): Promise<LimitResult>;
  /** Counts nothing; refused while the window already holds `max` hits or more (the budget is spent). */
  peek(bucket: string, key: string, limit: Limit): Promise<LimitResult>;
  /**
   * Takes back one hit of the current window (never below zero): an attempt counted before its secret was
   * checked, which then proved right. Counting first and refunding keeps a burst of parallel guesses inside
   * the budget, where "check, then count" would let every request of the burst through the check.
   */
  refund(bucket: string, key: string, limit: Limit): Promise<void>;
}

export const noRateLimits: RateLimiter = { hit: async () => ({ ok: true }), peek: async () => ({ ok: true }), refund: async () => undefined };

/** Whole seconds until a window ends, at least one (for `Retry-After`). */
export function retryAfter(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

/** One process's counters (a Redis-backed limiter shares them across nodes; see SPEC §8). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  constructor(private readonly clock: Clock) {}

  async hit(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    const now = this.clock.now().getTime();
    this.sweep(now);
    const id = `${bucket}\u0000${key}`;
    let window = this.windows.get(id);
    if (!window || now - window.start >= limit.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(id, window);
    }
    window.count += 1;
    if (window.count <= limit.max) return { ok: true };
    return { ok: false, retryAfterSeconds: retryAfter(window.start + limit.windowMs - now) };
  }

  async peek(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    const now = this.clock.now().getTime();
    const window = this.windows.get(`${bucket}\u0000${key}`);
    if (!window || now - window.start >= limit.windowMs || window.count < limit.max) return { ok: true };
    return { ok: false, retryAfterSeconds: retryAfter(window.start + limit.windowMs - now) };
  }

  async refund(bucket: string, key: string, limit: Limit): Promise<void> {
    const window = this.windows.get(`${bucket}\u0000${key}`);
    if (window && this.clock.now().getTime() - window.start < limit.windowMs && window.count > 0) window.count -= 1;
  }

  /** Drops finished windows now and then, so memory stays bounded under a flood of distinct keys. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const maxWindow = 24 * 3600_000;
    for (const [id, window] of this.windows) if (now - window.start >= maxWindow) this.windows.delete(id);
  }
}
