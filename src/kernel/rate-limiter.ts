import type { Clock } from './clock.js';

export interface Limit {
  /** Requests allowed per window. */
  max: number;
  windowMs: number;
}

export type LimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Counts hits per key in fixed windows; windows end by themselves, so no victim is locked out for good. */
export interface RateLimiter {
  hit(bucket: string, key: string, limit: Limit): Promise<LimitResult>;
}

export const noRateLimits: RateLimiter = { hit: async () => ({ ok: true }) };

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
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((window.start + limit.windowMs - now) / 1000)) };
  }

  /** Drops finished windows now and then, so memory stays bounded under a flood of distinct keys. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    const maxWindow = 24 * 3600_000;
    for (const [id, window] of this.windows) if (now - window.start >= maxWindow) this.windows.delete(id);
  }
}
