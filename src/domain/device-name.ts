/**
 * A readable name for the browser behind a User-Agent header ("Chrome on Windows", "Safari on iPhone"), for the
 * session list and the "new sign-in" notice. A rough guess is enough: the IP and times sit beside it. Order
 * matters, since most browsers carry other browsers' tokens (Edge says "Chrome", Chrome says "Safari").
 */
const BROWSERS: Array<[RegExp, string]> = [
  [/YaBrowser\//, 'Yandex Browser'],
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/SamsungBrowser\//, 'Samsung Internet'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
  [/Version\/[\d.]+.*Safari\//, 'Safari'],
  [/curl\//, 'curl'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/CrOS/, 'ChromeOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

export interface DeviceName {
  /** The browser's name, or undefined when it is not recognised. */
  browser: string | undefined;
  system: string | undefined;
}

export function deviceOf(userAgent: string | null | undefined): DeviceName {
  const ua = (userAgent ?? '').slice(0, 500);
  return {
    browser: BROWSERS.find(([pattern]) => pattern.test(ua))?.[1],
    system: SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1],
  };
}

/** English words around the names; pages and letters use `deviceOf` with their own "on" and "unknown". */
export function deviceName(userAgent: string | null | undefined, words: { on: string; unknown: string } = { on: 'on', unknown: 'Unknown browser' }): string {
  const { browser, system } = deviceOf(userAgent);
  const name = browser ?? words.unknown;
  return system ? `${name} ${words.on} ${system}` : name;
}
