import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidEmail, isValidLogin, loginKey, normalizePhone, parseIdentifier } from '../../src/domain/identifiers.js';
import { localeFromAcceptLanguage } from '../../src/domain/locale.js';

describe('identifiers', () => {
  it('compares logins case-folded after NFKC', () => {
    assert.equal(loginKey('Ivan'), loginKey('IVAN'));
    assert.equal(loginKey('ｉｖａｎ'), 'ivan');
    assert.equal(loginKey('Иван'), 'иван');
  });

  it('tells an e-mail, a phone and a login apart by shape', () => {
    assert.deepEqual(parseIdentifier(' Ivan@Example.COM ', 'RU'), { kind: 'email', key: 'ivan@example.com' });
    assert.deepEqual(parseIdentifier('8 (916) 123-45-67', 'RU'), { kind: 'phone', key: '+79161234567' });
    assert.deepEqual(parseIdentifier('+7 916 123 45 67', 'RU'), { kind: 'phone', key: '+79161234567' });
    assert.deepEqual(parseIdentifier('Ivan', 'RU'), { kind: 'login', key: 'ivan' });
  });

  it('normalises phone numbers to E.164 with a default region', () => {
    assert.equal(normalizePhone('(202) 555-0143', 'US'), '+12025550143');
    assert.equal(normalizePhone('12345', 'RU'), undefined);
    assert.equal(normalizePhone('call me', 'RU'), undefined);
  });

  it('validates logins and e-mails', () => {
    assert.ok(isValidLogin('ivan.petrov'));
    assert.ok(isValidLogin('Иван'));
    assert.ok(!isValidLogin('9ivan'), 'a login never starts like a phone number');
    assert.ok(!isValidLogin('ivan@corp'), 'a login never looks like an e-mail');
    assert.ok(!isValidLogin('x'));
    assert.ok(isValidEmail('anna@example.com'));
    assert.ok(!isValidEmail('anna@localhost'));
    assert.ok(!isValidEmail('a b@example.com'));
  });

  it('picks the language from Accept-Language with q-values', () => {
    assert.equal(localeFromAcceptLanguage('ru-RU,ru;q=0.9,en;q=0.8'), 'ru');
    assert.equal(localeFromAcceptLanguage('de-DE,en;q=0.5,ru;q=0.7'), 'ru');
    assert.equal(localeFromAcceptLanguage('de-DE'), 'en');
    assert.equal(localeFromAcceptLanguage(undefined), 'en');
    assert.equal(localeFromAcceptLanguage('ru;q=0'), 'en');
  });
});
