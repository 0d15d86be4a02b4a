import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPassword, normalizePassword } from '../../src/domain/password-policy.js';

describe('password policy (SPEC §7 rule 9)', () => {
  it('accepts a long passphrase with no composition rules', () => {
    assert.deepEqual(checkPassword('correct horse battery staple'), []);
    assert.deepEqual(checkPassword('всё-будет-хорошо-2026'), []);
  });

  it('counts length after NFKC, 8 to 256 characters', () => {
    assert.deepEqual(checkPassword('a7#kd9!'), ['too_short']);
    assert.deepEqual(checkPassword('a7#kd9!q'), []);
    // Eight full-width letters are eight characters after NFKC, and are compared in their NFKC form.
    assert.equal(normalizePassword('ｐａｓｓｗｏｒｄ'), 'password');
    assert.deepEqual(checkPassword('ｐａｓｓｗｏｒｄ'), ['common']);
    assert.deepEqual(checkPassword('x'.repeat(256)), []);
    assert.deepEqual(checkPassword('x'.repeat(257)), ['too_long']);
    assert.deepEqual(checkPassword('x'.repeat(10_000)), ['too_long']);
  });

  it('lets a portal policy raise the minimum', () => {
    assert.deepEqual(checkPassword('a7#kd9!qz', { minLength: 12 }), ['too_short']);
  });

  it('refuses common and breached passwords, whatever the case, also with digits appended', () => {
    for (const weak of ['password', 'Password123', 'qwerty123', 'ЙЦУКЕН123', 'iloveyou', '1q2w3e4r5t', 'sunshine!']) {
      assert.ok(checkPassword(weak).includes('common'), weak);
    }
  });

  it("refuses the account's own login, e-mail name or name", () => {
    const context = { login: 'ivanov', email: 'i.petrov@example.com', name: 'Anna Karenina' };
    assert.deepEqual(checkPassword('ivanov-2026-spring', context), ['contains_personal_data']);
    assert.deepEqual(checkPassword('Petrov!forever!', context), ['contains_personal_data']);
    assert.deepEqual(checkPassword('karenina-on-rails', context), ['contains_personal_data']);
    assert.deepEqual(checkPassword('totally-unrelated-words', context), []);
  });

  it('stays fast on hostile input (bounded time)', () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i += 1) checkPassword('ab'.repeat(128), { login: 'a'.repeat(64), email: `${'b'.repeat(64)}@x.io`, name: 'c '.repeat(100) });
    checkPassword('\u1e9b\u0323'.repeat(500_000));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Generous bound: this guards against an accidental quadratic path, not a benchmark.
    assert.ok(ms < 2000, `${ms} ms`);
  });
});
