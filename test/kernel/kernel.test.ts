import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sealer, newSecretToken, safeEqual } from '../../src/kernel/crypto.js';
import { cryptoRandom, type Random } from '../../src/kernel/random.js';
import { MemoryRateLimiter } from '../../src/kernel/rate-limiter.js';
import { FakeClock } from '../support/clock.js';

describe('kernel', () => {
  it('makes 256-bit URL-safe tokens from the injected randomness', () => {
    const scripted: Random = { bytes: (n) => Buffer.alloc(n, 7), int: () => 0 };
    assert.equal(newSecretToken(scripted), Buffer.alloc(32, 7).toString('base64url'));
    const a = newSecretToken(cryptoRandom);
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(a, newSecretToken(cryptoRandom));
  });

  it('compares secrets in constant time and exactly', () => {
    assert.ok(safeEqual('abc', 'abc'));
    assert.ok(!safeEqual('abc', 'abd'));
    assert.ok(!safeEqual('abc', 'abcd'));
  });

  it('seals outbox payloads so only the secret holder can read them', () => {
    const sealer = new Sealer(Buffer.from('k'.repeat(32)), cryptoRandom);
    const sealed = sealer.seal('link https://x/recover/email/SECRET');
    assert.ok(!sealed.includes('SECRET'));
    assert.equal(sealer.open(sealed), 'link https://x/recover/email/SECRET');
    const other = new Sealer(Buffer.from('o'.repeat(32)), cryptoRandom);
    assert.throws(() => other.open(sealed));
  });

  it('rate limiter: fixed windows per key that end by themselves', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(clock);
    const limit = { max: 2, windowMs: 60_000 };
    assert.deepEqual(await limiter.hit('b', 'k', limit), { ok: true });
    assert.deepEqual(await limiter.hit('b', 'k', limit), { ok: true });
    assert.deepEqual(await limiter.hit('b', 'k', limit), { ok: false, retryAfterSeconds: 60 });
    assert.deepEqual(await limiter.hit('b', 'other', limit), { ok: true }, 'keys are separate');
    clock.advance(30_000);
    assert.deepEqual(await limiter.hit('b', 'k', limit), { ok: false, retryAfterSeconds: 30 });
    clock.advance(30_000);
    assert.deepEqual(await limiter.hit('b', 'k', limit), { ok: true });
  });

  it('rate limiter: peek says whether a budget of failures is spent without counting anything', async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(clock);
    const limit = { max: 2, windowMs: 60_000 };
    for (let i = 0; i < 5; i++) assert.deepEqual(await limiter.peek('f', 'k', limit), { ok: true }, 'peeking never spends the budget');
    await limiter.hit('f', 'k', limit);
    assert.deepEqual(await limiter.peek('f', 'k', limit), { ok: true });
    await limiter.hit('f', 'k', limit);
    assert.deepEqual(await limiter.peek('f', 'k', limit), { ok: false, retryAfterSeconds: 60 }, 'max failures: spent');
    assert.deepEqual(await limiter.peek('f', 'other', limit), { ok: true }, 'keys are separate');
    clock.advance(45_000);
    assert.deepEqual(await limiter.peek('f', 'k', limit), { ok: false, retryAfterSeconds: 15 });
    clock.advance(15_000);
    assert.deepEqual(await limiter.peek('f', 'k', limit), { ok: true }, 'the window ends by itself');
    assert.deepEqual(await limiter.hit('f', 'k', limit), { ok: true }, 'a new window after it');
  });
});
