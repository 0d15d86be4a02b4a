/**
 * A small browser without a page: real HTTP over loopback, a cookie jar keyed like a browser's (host and
 * path, not port), redirects followed by hand so a test can stop at, read or change any hop.
 */
export interface Hop {
  url: URL;
  status: number;
  /** The next URL: a redirect's Location, or an immediate Refresh header's. */
  location: string | undefined;
  body: string;
  headers: Headers;
}

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

export class Browserless {
  readonly cookies: StoredCookie[] = [];

  cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  cookie(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }

  setCookie(name: string, value: string, url: URL, path = '/'): void {
    this.store({ name, value, host: url.hostname, path }, false);
  }

  private store(cookie: StoredCookie, expired: boolean): void {
    const index = this.cookies.findIndex((c) => c.name === cookie.name && c.host === cookie.host && c.path === cookie.path);
    if (index >= 0) this.cookies.splice(index, 1);
    if (!expired) this.cookies.push(cookie);
  }

  /** One request, no redirect followed; Set-Cookie lands in the jar. */
  async request(url: URL | string, init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {}): Promise<Hop> {
    const target = new URL(url);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= target.origin;
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(target, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = val || '/';
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now()) expired = true;
      }
      this.store({ name, value, host: target.hostname, path }, expired);
    }
    // Where the browser goes next: a redirect's Location, or an immediate Refresh (`0;url=…`), which browsers
    // follow as well (Latchkey continues to an application's pending sign-in that way after a form).
    const refresh = /^\s*0\s*;\s*url=(.+)$/i.exec(response.headers.get('refresh') ?? '')?.[1];
    const location = response.headers.get('location') ?? refresh ?? undefined;
    return { url: target, status: response.status, location: location === undefined ? undefined : new URL(location, target).toString(), body: await response.text(), headers: response.headers };
  }

  /**
   * Follows redirects (GET after each, as browsers do after 302/303) until a page answers; `until` stops
   * before requesting a URL the test wants to look at or change. Returns every hop.
   */
  async follow(first: Hop, until?: (url: URL) => boolean, maxHops = 20): Promise<Hop[]> {
    const hops = [first];
    let current = first;
    while (current.location && hops.length < maxHops) {
      const next = new URL(current.location);
      if (until?.(next)) break;
      current = await this.request(next);
      hops.push(current);
    }
    return hops;
  }
}

/** The `_csrf` value of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}
