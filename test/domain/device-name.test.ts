import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceName } from '../../src/domain/device-name.js';

const UA = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  edgeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  chromeIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  yandexWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36',
  headlessLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36',
};

describe('device name from the user agent', () => {
  it('names the common browsers and systems', () => {
    assert.equal(deviceName(UA.chromeWindows), 'Chrome on Windows');
    assert.equal(deviceName(UA.edgeWindows), 'Edge on Windows');
    assert.equal(deviceName(UA.safariIphone), 'Safari on iPhone');
    assert.equal(deviceName(UA.chromeIphone), 'Chrome on iPhone');
    assert.equal(deviceName(UA.firefoxLinux), 'Firefox on Linux');
    assert.equal(deviceName(UA.chromeAndroid), 'Chrome on Android');
    assert.equal(deviceName(UA.safariMac), 'Safari on macOS');
    assert.equal(deviceName(UA.yandexWindows), 'Yandex Browser on Windows');
    assert.equal(deviceName(UA.headlessLinux), 'Chrome on Linux');
  });

  it('says "Unknown browser" for nothing or for gibberish, in the words it is given', () => {
    assert.equal(deviceName(undefined), 'Unknown browser');
    assert.equal(deviceName(''), 'Unknown browser');
    assert.equal(deviceName('x'.repeat(5000)), 'Unknown browser');
    assert.equal(deviceName('lightpanda/1.0', { on: 'на', unknown: 'Неизвестный браузер' }), 'Неизвестный браузер');
    assert.equal(deviceName(UA.firefoxLinux, { on: 'на', unknown: 'Неизвестный браузер' }), 'Firefox на Linux');
  });
});
