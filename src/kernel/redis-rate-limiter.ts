import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createClient } from 'redis';
import { sha256 } from './crypto.js';
import { retryAfter, type Limit, type LimitResult, type RateLimiter } from './rate-limiter.js';

/**
 * One fixed window per key, shared by every node: INCR, start the window's expiry on the first hit, and
 * read what is left of it, atomically in one round trip. A key that somehow lost its expiry gets one
 * again, so no window lasts for ever (SPEC §7 rule 8: no lockout an attacker can make permanent).
 */
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** Reads a window without counting: its count (0 when absent) and what is left of it. */
const PEEK_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
return {count, ttl}
`;

/** Takes back one hit of a live window, never below zero; a window that ended stays ended. */
const REFUND_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 and redis.call('PTTL', KEYS[1]) > 0 then
  count = redis.call('DECR', KEYS[1])
end
return {count, 0}
`;

/** Keys longer than this are hashed, so a 320-character login cannot bloat Redis. */
const MAX_RAW_KEY = 64;

export function redisKey(bucket: string, key: string): string {
  return `latchkey:rl:${bucket}:${key.length > MAX_RAW_KEY ? `h:${sha256(key)}` : key}`;
}

export interface RedisRateLimiterOptions {
  /** Used while Redis is unreachable or slow: per-process windows instead of shared ones. */
  fallback: RateLimiter;
  logger: Logger;
  /** Registry the limiter's metrics join (the app's own). */
  registry?: Registry;
  /** Bound on opening a connection; 1 s by default. */
  connectTimeoutMs?: number;
  /** Bound on one hit's round trip; 500 ms by default. */
  commandTimeoutMs?: number;
  /** After a failed hit, Redis is not asked again for this long (a hung Redis costs one timeout, not one per request); 5 s by default. */
  retryAfterFailureMs?: number;
}

function connectClient(url: string, connectTimeoutMs: number, commandTimeoutMs: number) {
  return createClient({
    url,
    socket: {
      connectTimeout: connectTimeoutMs,
      // Keep trying for ever, at most every 5 s; meanwhile hits use the fallback.
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000),
    },
    // While disconnected a command fails at once instead of queueing behind a reconnect.
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
  });
}
type RedisClient = ReturnType<typeof connectClient>;

/**
 * The client's own command timeout only covers waiting to be written, not waiting for the reply (a hung
 * server), so the round trip is bounded here; a late reply is read and dropped by the client.
 */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Rate limits shared across nodes through Redis (SPEC §8, LATCHKEY_REDIS_URL).
 *
 * When Redis is unreachable, slow or failing, each hit is counted by the per-process fallback limiter
 * instead: limits stay on (per node, so at most N times looser with N nodes) and no request waits longer
 * than the command timeout or fails because of Redis. Every fallback is counted in
 * `latchkey_rate_limit_fallbacks_total`; the switch to and from Redis is logged once each way.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly client: RedisClient;
  private readonly fallback: RateLimiter;
  private readonly logger: Logger;
  private readonly retryAfterFailureMs: number;
  private readonly commandTimeoutMs: number;
  private readonly fallbacks: Counter | undefined;
  private readonly up: Gauge | undefined;
  /** Until when hits go to the fallback without asking Redis (epoch ms). */
  private skipUntil = 0;
  private degraded = false;
  private closed = false;

  constructor(url: string, options: RedisRateLimiterOptions) {
    this.fallback = options.fallback;
    this.logger = options.logger;
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 5000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 500;
    if (options.registry) {
      this.fallbacks = new Counter({
        name: 'latchkey_rate_limit_fallbacks_total',
        help: 'Rate-limit hits counted by the per-process limiter because Redis was unreachable or slow',
        registers: [options.registry],
      });
      this.up = new Gauge({ name: 'latchkey_rate_limit_redis_up', help: '1 while the shared (Redis) rate limiter answers, else 0', registers: [options.registry] });
      this.up.set(0);
    }
    this.client = connectClient(url, options.connectTimeoutMs ?? 1000, this.commandTimeoutMs);
    // Without a listener an 'error' event would crash the process; reconnecting is the client's job.
    this.client.on('error', (error: Error) => this.markDown(error));
    this.client.on('ready', () => this.markUp());
    this.client.connect().catch(() => undefined);
  }

  /** Whether the next hit goes to Redis (shared across nodes) rather than the per-process fallback. */
  get shared(): boolean {
    return !this.closed && this.client.isReady && Date.now() >= this.skipUntil;
  }

  async hit(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    const shared = await this.ask(HIT_SCRIPT, bucket, key, limit);
    if (shared) {
      const [count, ttlMs] = shared;
      return count <= limit.max ? { ok: true } : { ok: false, retryAfterSeconds: retryAfter(ttlMs) };
    }
    return this.fallback.hit(bucket, key, limit);
  }

  async peek(bucket: string, key: string, limit: Limit): Promise<LimitResult> {
    const shared = await this.ask(PEEK_SCRIPT, bucket, key, limit);
    if (shared) {
      const [count, ttlMs] = shared;
      // A key without an expiry (ttl < 0) is treated as a full window; the next hit gives it one again.
      return count < limit.max ? { ok: true } : { ok: false, retryAfterSeconds: retryAfter(ttlMs < 0 ? limit.windowMs : ttlMs) };
    }
    return this.fallback.peek(bucket, key, limit);
  }

  async refund(bucket: string, key: string, limit: Limit): Promise<void> {
    // While Redis is down the hit went to the fallback, so the refund goes there too.
    if (!(await this.ask(REFUND_SCRIPT, bucket, key, limit))) await this.fallback.refund(bucket, key, limit);
  }

  /** Runs one script on the key in Redis: `[count, ttlMs]`, or undefined when the fallback must answer. */
  private async ask(script: string, bucket: string, key: string, limit: Limit): Promise<[number, number] | undefined> {
    if (this.shared) {
      try {
        const reply = (await withTimeout(
          this.client.eval(script, { keys: [redisKey(bucket, key)], arguments: [String(limit.windowMs)] }),
          this.commandTimeoutMs,
        )) as [number, number];
        this.markUp();
        return reply;
      } catch (error) {
        this.skipUntil = Date.now() + this.retryAfterFailureMs;
        this.markDown(error);
      }
    }
    this.fallbacks?.inc();
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // destroy(): do not wait for a Redis that may never answer.
    if (this.client.isOpen) this.client.destroy();
  }

  private markDown(error: unknown): void {
    this.up?.set(0);
    if (this.degraded || this.closed) return;
    this.degraded = true;
    this.logger.error(
      { reason: error instanceof Error ? error.message : String(error) },
      'rate limits: Redis unreachable, counting per process until it is back (LATCHKEY_REDIS_URL)',
    );
  }

  private markUp(): void {
    this.up?.set(1);
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.warn('rate limits: Redis is back, limits are shared again');
  }
}
