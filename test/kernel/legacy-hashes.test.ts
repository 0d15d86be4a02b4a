import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BITRIX_PREFIX, bitrixHashKind, verifyBitrixHash } from '../../src/kernel/legacy-hashes.js';
import { createArgon2Hasher } from '../../src/kernel/password-hasher.js';
import { sha512Crypt } from '../../src/kernel/sha512-crypt.js';
import { bitrixBareMd5, bitrixSaltedMd5, bitrixSha512 } from '../support/bitrix-hashes.js';

describe('SHA-512 crypt', () => {
  it("gives the outputs printed in Drepper's specification", () => {
    const vectors: Array<[setting: string, password: string, expected: string]> = [
      ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
      ['$6$rounds=10000$saltstringsaltstring', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
      ['$6$rounds=5000$toolongsaltstring', 'This is just a test', '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
      ['$6$rounds=1400$anotherlongsaltstring', 'a very much longer text to encrypt.  This one even stretches over morethan one line.', '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1'],
      ['$6$rounds=77777$short', 'we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
      ['$6$rounds=123456$asaltof16chars..', 'a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
      ['$6$rounds=10$roundstoolow', 'the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
    ];
    for (const [setting, password, expected] of vectors) assert.equal(sha512Crypt(password, setting), expected, setting);
  });

  it('agrees with openssl passwd -6 on Cyrillic, short and long passwords', (t) => {
    if (spawnSync('openssl', ['version']).status !== 0) return t.skip('no openssl on this machine');
    for (const [salt, password] of [['abcdefgh12345678', 'пароль-сотрудника'], ['Xy7./Q', 'p'], ['0123456789abcdef', 'x'.repeat(200)]] as const) {
      const expected = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n` }).stdout.toString().trim();
      assert.equal(sha512Crypt(password, `$6$${salt}$`), expected, salt);
    }
  });
});

describe('Bitrix password hashes', () => {
  const password = 'Qwerty-bitrix-2019';

  it('tells the three forms apart and refuses anything else', () => {
    assert.equal(bitrixHashKind(bitrixSha512(password)), 'sha512crypt');
    assert.equal(bitrixHashKind(bitrixSaltedMd5(password)), 'salted_md5');
    assert.equal(bitrixHashKind(bitrixBareMd5(password)), 'md5');
    for (const other of ['', 'secret', '$2y$10$abcdefghijklmnopqrstuu', '$6$short$tooshort', 'x'.repeat(39), `${'a'.repeat(8)}${'z'.repeat(32)}`, '$6$rounds=9999999999$salt$' + 'a'.repeat(86), sha512Crypt('x', '$6$rounds=50000$salt')]) {
      assert.equal(bitrixHashKind(other), undefined, other);
    }
  });

  it('verifies each form against the right password only', () => {
    for (const hash of [bitrixSha512(password), bitrixSaltedMd5(password), bitrixBareMd5(password), bitrixBareMd5(password).toUpperCase()]) {
      assert.equal(verifyBitrixHash(`${BITRIX_PREFIX}${hash}`, password), true, hash);
      assert.equal(verifyBitrixHash(`${BITRIX_PREFIX}${hash}`, `${password}x`), false, hash);
      assert.equal(verifyBitrixHash(`${BITRIX_PREFIX}${hash}`, ''), false, hash);
      // Without the mark a hash is never taken for a Bitrix one.
      assert.equal(verifyBitrixHash(hash, password), false, hash);
    }
    // A salt with the punctuation Bitrix's randString uses.
    assert.equal(verifyBitrixHash(`${BITRIX_PREFIX}${bitrixSaltedMd5('пароль', 'a;b,"c<>')}`, 'пароль'), true);
  });

  it('the argon2id hasher verifies an imported hash, costing one argon2id verification like any other', async () => {
    const hasher = await createArgon2Hasher(1);
    const stored = `${BITRIX_PREFIX}${bitrixBareMd5(password)}`;
    const time = async (run: () => Promise<boolean>) => {
      const start = process.hrtime.bigint();
      const ok = await run();
      return { ok, ms: Number(process.hrtime.bigint() - start) / 1e6 };
    };
    await hasher.verifyDummy(password); // warm: the dummy hash is made once
    // Interleaved rounds and medians: one busy moment of a shared machine must not decide the comparison.
    const rounds: Array<{ legacy: number; wrong: number; unknown: number }> = [];
    for (let i = 0; i < 5; i += 1) {
      const legacy = await time(() => hasher.verify(stored, password));
      const wrong = await time(() => hasher.verify(stored, 'wrong-password'));
      const unknown = await time(() => hasher.verifyDummy(password));
      assert.equal(legacy.ok, true);
      assert.equal(wrong.ok, false);
      rounds.push({ legacy: legacy.ms, wrong: wrong.ms, unknown: unknown.ms });
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const [legacy, wrong, unknown] = [median(rounds.map((r) => r.legacy)), median(rounds.map((r) => r.wrong)), median(rounds.map((r) => r.unknown))];
    // A bare md5 takes microseconds, an argon2id verification milliseconds: with the dummy verification beside
    // it, a legacy check costs what an unknown account does (the margin covers a noisy machine, not a 1000x gap).
    assert.ok(legacy > unknown / 5 && wrong > unknown / 5, `legacy ${legacy} ms, wrong ${wrong} ms, unknown ${unknown} ms`);
    const argon = await hasher.hash(password);
    assert.equal(await hasher.verify(argon, password), true);
  });
});
