import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceCookieValue, readDeviceCookie } from '../../src/http/device-cookie.js';

const key = Buffer.from('device-cookie-test-secret-0123456789abcdef');
const other = Buffer.from('another-secret-another-secret-0123456789ab');
const a = 'a'.repeat(32);
const b = 'b'.repeat(32);

test('device cookie: a signed list of accounts reads back; newest first, at most 8', () => {
  assert.deepEqual([...readDeviceCookie(key, deviceCookieValue(key, [a, b]))], [a, b]);
  const many = Array.from({ length: 12 }, (_, i) => i.toString(16).padStart(32, '0'));
  assert.equal(readDeviceCookie(key, deviceCookieValue(key, many)).size, 8);
});

test('device cookie: forged, re-signed with another key, edited or junk values vouch for nobody', () => {
  const value = deviceCookieValue(key, [a]);
  assert.equal(readDeviceCookie(other, value).size, 0);
  assert.equal(readDeviceCookie(key, value.replace(a, b)).size, 0);
  assert.equal(readDeviceCookie(key, `${b}.${value.split('.')[1]}`).size, 0);
  for (const junk of [undefined, '', '.', 'x', `${a}.`, '.'.repeat(700), `${a},${b}`]) assert.equal(readDeviceCookie(key, junk).size, 0);
});
