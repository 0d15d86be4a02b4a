import assert from 'node:assert/strict';
import fs from 'node:fs';
import { freeLoopbackPort } from '../../scripts/free-port.js';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { ConfigError, loadConfig } from '../../src/config.js';
import { buildDeps } from '../../src/deps.js';
import { MemoryRateLimiter } from '../../src/kernel/rate-limiter.js';
import { RedisRateLimiter, redisKey, type RedisRateLimiterOptions } from '../../src/kernel/redis-rate-limiter.js';
import { systemClock } from '../../src/kernel/clock.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';

function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function fallbackCount(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('latchkey_rate_limit_fallbacks_total')?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('RedisRateLimiter (real redis-server)', () => {
  let redis: TestRedis;
  let raw: ReturnType<typeof createClient>;
  const limiters: RedisRateLimiter[] = [];
  let n = 0;
  /** A fresh bucket per test, so tests never share windows. */
  const bucket = () => `test${++n}:b`;

  const limiter = (url: string, extra: Partial<RedisRateLimiterOptions> = {}) => {
    const { logger, lines } = captureLogger();
    const registry = new Registry();
    const made = new RedisRateLimiter(url, { fallback: new MemoryRateLimiter(systemClock), logger, registry, ...extra });
    limiters.push(made);
    return { limiter: made, lines, registry };
  };
  const ready = async (url: string) => {
    const made = limiter(url);
    await waitUntil(() => made.limiter.shared);
    return made;
  };

  before(async () => {
    redis = await startRedis();
    raw = createClient({ url: redis.url });
    await raw.connect();
  });
  after(async () => {
    for (const made of limiters) await made.close();
    await raw?.close();
    await redis?.stop();
  });

  it('counts one fixed window across nodes (two clients), with Retry-After from the window left', async () => {
    const a = await ready(redis.url);
    const b = await ready(redis.url);
    const b1 = bucket();
    const limit = { max: 3, windowMs: 60_000 };
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await (i % 2 === 0 ? a : b).limiter.hit(b1, 'olga', limit));
    assert.deepEqual(results.slice(0, 3), [{ ok: true }, { ok: true }, { ok: true }]);
    for (const result of results.slice(3)) {
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.retryAfterSeconds >= 1 && result.retryAfterSeconds <= 60, JSON.stringify(result));
    }
    assert.deepEqual(await a.limiter.hit(b1, 'other', limit), { ok: true }, 'keys are separate');
    assert.deepEqual(await b.limiter.hit(bucket(), 'olga', limit), { ok: true }, 'buckets are separate');
    assert.equal(await fallbackCount(a.registry), 0);
    assert.equal(await fallbackCount(b.registry), 0);
    assert.equal(await raw.get(`latchkey:rl:${b1}:olga`), '6');
    const ttl = await raw.pTTL(`latchkey:rl:${b1}:olga`);
    assert.ok(ttl > 0 && ttl <= 60_000, `window expiry ${ttl}`);
  });

  it('counts parallel hits from two nodes atomically: exactly max pass', async () => {
    const a = await ready(redis.url);
    const b = await ready(redis.url);
    const b1 = bucket();
    const limit = { max: 10, windowMs: 60_000 };
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).limiter.hit(b1, 'k', limit)));
    assert.equal(results.filter((r) => r.ok).length, 10);
  });

  it('peek reads a shared window without counting: spent at max hits, on every node', async () => {
    const a = await ready(redis.url);
    const b = await ready(redis.url);
    const b1 = bucket();
    const limit = { max: 2, windowMs: 60_000 };
    for (let i = 0; i < 4; i++) assert.deepEqual(await b.limiter.peek(b1, 'anna', limit), { ok: true });
    assert.equal(await raw.exists(`latchkey:rl:${b1}:anna`), 0, 'peeking writes nothing');
    await a.limiter.hit(b1, 'anna', limit);
    assert.deepEqual(await b.limiter.peek(b1, 'anna', limit), { ok: true });
    await a.limiter.hit(b1, 'anna', limit);
    const spent = await b.limiter.peek(b1, 'anna', limit);
    assert.ok(!spent.ok && spent.retryAfterSeconds >= 1 && spent.retryAfterSeconds <= 60, JSON.stringify(spent));
    assert.equal(await raw.get(`latchkey:rl:${b1}:anna`), '2', 'peeks counted nothing');
    assert.deepEqual(await a.limiter.peek(b1, 'other', limit), { ok: true }, 'keys are separate');
    assert.equal(await fallbackCount(b.registry), 0);
  });

  it('peek falls back to the per-process limiter too while Redis is unreachable', async () => {
    const closedPort = await freeLoopbackPort();
    const down = limiter(`redis://127.0.0.1:${closedPort}`);
    const limit = { max: 1, windowMs: 60_000 };
    assert.deepEqual(await down.limiter.peek('pf', 'k', limit), { ok: true });
    await down.limiter.hit('pf', 'k', limit);
    assert.equal((await down.limiter.peek('pf', 'k', limit)).ok, false, 'the fallback window is read');
    assert.equal(await fallbackCount(down.registry), 3);
    await down.limiter.close();
  });

  it('ends a window by itself', async () => {
    const a = await ready(redis.url);
    const b1 = bucket();
    const limit = { max: 1, windowMs: 300 };
    assert.deepEqual(await a.limiter.hit(b1, 'k', limit), { ok: true });
    assert.equal((await a.limiter.hit(b1, 'k', limit)).ok, false);
    await waitUntil(async () => (await raw.exists(`latchkey:rl:${b1}:k`)) === 0, 10_000);
    assert.deepEqual(await a.limiter.hit(b1, 'k', limit), { ok: true });
  });

  it('namespaces keys and hashes long ones; a key that lost its expiry gets one again', async () => {
    assert.equal(redisKey('recovery:ip', '10.0.0.1'), 'latchkey:rl:recovery:ip:10.0.0.1');
    const long = `${'x'.repeat(300)}@example.com`;
    assert.match(redisKey('recovery:login', long), /^latchkey:rl:recovery:login:h:[0-9a-f]{64}$/);
    assert.notEqual(redisKey('b', `${long}1`), redisKey('b', `${long}2`));
    const a = await ready(redis.url);
    const b1 = bucket();
    await a.limiter.hit(b1, long, { max: 5, windowMs: 60_000 });
    assert.equal(await raw.get(redisKey(b1, long)), '1');
    await raw.set(`latchkey:rl:${b1}:stuck`, '100');
    const result = await a.limiter.hit(b1, 'stuck', { max: 5, windowMs: 60_000 });
    assert.equal(result.ok, false);
    const ttl = await raw.pTTL(`latchkey:rl:${b1}:stuck`);
    assert.ok(ttl > 0 && ttl <= 60_000, `expiry restored: ${ttl}`);
  });

  it('falls back to per-process limits at once when Redis is unreachable, logging once', async () => {
    // A port nobody listens on.
    const closedPort = await freeLoopbackPort();
    const down = limiter(`redis://127.0.0.1:${closedPort}`);
    const limit = { max: 2, windowMs: 60_000 };
    const started = Date.now();
    assert.deepEqual(await down.limiter.hit('b', 'k', limit), { ok: true });
    assert.deepEqual(await down.limiter.hit('b', 'k', limit), { ok: true });
    const third = await down.limiter.hit('b', 'k', limit);
    assert.equal(third.ok, false, 'limits still hold, per process');
    assert.ok(Date.now() - started < 5000, 'no hit waits for a dead Redis');
    assert.equal(await fallbackCount(down.registry), 3);
    await waitUntil(() => down.lines.some((l) => l.includes('Redis unreachable')), 5000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(down.lines.filter((l) => l.includes('Redis unreachable')).length, 1, 'one error line, not one per reconnect');
    const closing = Date.now();
    await down.limiter.close();
    assert.ok(Date.now() - closing < 2000, 'close() does not wait for a dead Redis');
  });

  it('a hung Redis costs one bounded timeout, then hits skip it until it answers again', async () => {
    const hung = limiter(redis.url, { commandTimeoutMs: 300, retryAfterFailureMs: 500 });
    await waitUntil(() => hung.limiter.shared);
    const b1 = bucket();
    const limit = { max: 100, windowMs: 60_000 };
    redis.pause();
    try {
      const started = Date.now();
      assert.deepEqual(await hung.limiter.hit(b1, 'k', limit), { ok: true });
      assert.deepEqual(await hung.limiter.hit(b1, 'k', limit), { ok: true });
      assert.ok(Date.now() - started < 5000, `bounded by the command timeout (took ${Date.now() - started} ms)`);
      assert.equal(await fallbackCount(hung.registry), 2);
      assert.ok(hung.lines.some((l) => l.includes('Redis unreachable')));
    } finally {
      redis.resume();
    }
    // Back: hits are counted in Redis again.
    await waitUntil(async () => {
      await hung.limiter.hit(b1, 'shared', limit);
      return (await raw.exists(`latchkey:rl:${b1}:shared`)) === 1;
    }, 15_000, 100);
    await waitUntil(() => hung.lines.some((l) => l.includes('Redis is back')), 5000);
  });

  it('LATCHKEY_REDIS_URL must be a redis:// or rediss:// URL', () => {
    assert.equal(loadConfig({ LATCHKEY_REDIS_URL: 'redis://127.0.0.1:6379' }).redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(loadConfig({ LATCHKEY_REDIS_URL: 'rediss://cache.internal:6380' }).redisUrl, 'rediss://cache.internal:6380');
    assert.equal(loadConfig({}).redisUrl, undefined);
    for (const bad of ['http://127.0.0.1:6379', '127.0.0.1:6379', 'redis//x']) {
      assert.throws(() => loadConfig({ LATCHKEY_REDIS_URL: bad }), (error: unknown) => error instanceof ConfigError && error.message.includes('LATCHKEY_REDIS_URL'), bad);
    }
  });

  it('the composition root shares limits through Redis when LATCHKEY_REDIS_URL is set, and close() releases the client', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-redis-deps-'));
    const env = { LATCHKEY_DATA_DIR: dir, LATCHKEY_DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, LATCHKEY_SECRET: 'redis-deps-secret-redis-deps-secret-0123' };
    try {
      const shared = await buildDeps(loadConfig({ ...env, LATCHKEY_REDIS_URL: redis.url }), { logger: pino({ level: 'silent' }) });
      assert.ok(shared.limiter instanceof RedisRateLimiter);
      await waitUntil(() => (shared.limiter as RedisRateLimiter).shared);
      await shared.close();
      assert.equal((shared.limiter as RedisRateLimiter).shared, false);
      const off = await buildDeps(loadConfig({ ...env, LATCHKEY_REDIS_URL: redis.url, LATCHKEY_RATE_LIMITS: 'off' }), { logger: pino({ level: 'silent' }) });
      assert.ok(!(off.limiter instanceof RedisRateLimiter), 'rate limits off: no Redis client at all');
      await off.close();
      const single = await buildDeps(loadConfig(env), { logger: pino({ level: 'silent' }) });
      assert.ok(single.limiter instanceof MemoryRateLimiter);
      await single.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
