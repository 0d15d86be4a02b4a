/**
 * The OpenID Connect workloads of `npm run bench`: the token endpoint (refresh_token grant: repeatable with
 * one token, since a confidential client's refresh token is not rotated) and userinfo, on Latchkey's
 * provider and on a raw oidc-provider with its in-memory adapter (bench/oidc-raw.ts).
 *
 * Latchkey's tokens come from a real sign-in: `latchkey client add` registers the bench client, one seeded
 * account signs in (POST /api/v1/session), and the authorization code flow with PKCE runs over HTTP with
 * `prompt=consent` and `offline_access`, as a portal application does.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { BENCH_PASSWORD, BENCH_PORTAL, REPO_ROOT, existingLogin } from './env.js';
import { HOST, type RequestSpec } from './load.js';

export interface OidcTokens {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  accessToken: string;
}

const CALLBACK = 'http://127.0.0.1:9/callback';
const CLIENT_ID = 'bench-app';

/** `latchkey client add` against the bench database (the CLI an operator runs); returns the printed secret. */
export function registerBenchClient(env: NodeJS.ProcessEnv): { clientId: string; clientSecret: string } {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'latchkey.js'), 'client', 'add', CLIENT_ID, '--portal', BENCH_PORTAL, '--redirect-uri', CALLBACK], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  const secret = /^client_secret=(\S+)$/m.exec(result.stdout ?? '')?.[1];
  if (result.status !== 0 || !secret) throw new Error(`latchkey client add failed (${result.status}):\n${result.stderr}`);
  return { clientId: CLIENT_ID, clientSecret: secret };
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Signs one seeded account in and runs the code flow on Latchkey at `port`; returns its refresh and access tokens. */
export async function latchkeyTokens(port: number, client: { clientId: string; clientSecret: string }): Promise<OidcTokens> {
  const origin = `http://${HOST}:${port}`;
  const cookies = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}) => {
    // Redirects name the public URL (no server there in the bench): the same path on the node.
    const target = new URL(url, origin);
    const local = new URL(target.pathname + target.search, origin);
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(local, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  const signedIn = await request('/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ login: existingLogin(0), password: BENCH_PASSWORD }) });
  if (signedIn.status !== 200) throw new Error(`sign-in for the OIDC bench answered ${signedIn.status}: ${(await signedIn.text()).slice(0, 200)}`);
  const verifier = crypto.randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: crypto.randomBytes(16).toString('base64url'),
  });
  let response = await request(`/oidc/auth?${query}`);
  for (let hops = 0; hops < 10; hops++) {
    const location = response.headers.get('location');
    if (!location || location.startsWith(CALLBACK)) break;
    response = await request(location);
  }
  const code = new URL(response.headers.get('location') ?? CALLBACK).searchParams.get('code');
  if (!code) throw new Error(`the code flow for the OIDC bench ended without a code: ${response.status} ${response.headers.get('location') ?? (await response.text()).slice(0, 200)}`);
  const exchanged = await request('/oidc/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.clientId, client.clientSecret) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }).toString(),
  });
  const tokens = (await exchanged.json()) as { refresh_token?: string; access_token?: string };
  if (!tokens.refresh_token || !tokens.access_token) throw new Error(`the OIDC bench's code exchange gave no refresh token: ${JSON.stringify(tokens).slice(0, 200)}`);
  return { ...client, refreshToken: tokens.refresh_token, accessToken: tokens.access_token };
}

/** POST /oidc/token, grant_type=refresh_token: a new access token and ID token each time. */
export function refreshRequest(tokens: OidcTokens): () => RequestSpec {
  const spec: RequestSpec = {
    method: 'POST',
    path: '/oidc/token',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(tokens.clientId, tokens.clientSecret) },
  };
  return () => spec;
}

/** GET /oidc/me with the access token. */
export function userinfoRequest(tokens: OidcTokens): () => RequestSpec {
  const spec: RequestSpec = { method: 'GET', path: '/oidc/me', headers: { authorization: `Bearer ${tokens.accessToken}` } };
  return () => spec;
}
