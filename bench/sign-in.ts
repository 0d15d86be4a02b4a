/**
 * The bench's sign-in request, as `npm run bench` (bench/run.ts) and bench/profile.ts both send it: people
 * coming back in a browser they used before, the usual case, so each carries its account's device cookie
 * (lk_device, src/http/device-cookie.ts) signed with the server's secret. A browser new to the account also
 * gets a "new sign-in" letter queued; the evidence phases' plain sign-in measures that one.
 */
import pg from 'pg';
import { DEVICE_COOKIE, deviceCookieValue } from '../src/http/device-cookie.js';
import { ACCOUNT_COUNT, BENCH_PASSWORD, existingLogin } from './env.js';
import type { RequestSpec } from './load.js';

/** Each seeded account's device cookie header, by login. */
export async function loadDeviceCookies(databaseUrl: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const logins = Array.from({ length: ACCOUNT_COUNT }, (_, i) => existingLogin(i));
    const { rows } = await client.query<{ id: string; login: string }>('SELECT id, login FROM accounts WHERE login = ANY($1::text[])', [logins]);
    const secretKey = Buffer.from(env.LATCHKEY_SECRET ?? '', 'utf8');
    return new Map(rows.map((row) => [row.login, `${DEVICE_COOKIE}=${deviceCookieValue(secretKey, [row.id])}`]));
  } finally {
    await client.end();
  }
}

/** The i-th sign-in; with `cookies` (loadDeviceCookies) from the account's own browser, else from a new one. */
export function signInRequest(cookies: ReadonlyMap<string, string> = new Map()): (i: number) => RequestSpec {
  return (i) => {
    const cookie = cookies.get(existingLogin(i));
    return { method: 'POST', path: '/api/v1/session', body: JSON.stringify({ login: existingLogin(i), password: BENCH_PASSWORD }), ...(cookie ? { headers: { cookie } } : {}) };
  };
}
