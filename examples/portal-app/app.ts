import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import { LogoutTokenError, verifyLogoutToken } from './logout-token.js';

/**
 * A portal application that signs people in with Latchkey (SPEC §10), on node:http and openid-client:
 *
 *   GET  /                     who is signed in: ID token claims and userinfo (name, login, e-mail, portal)
 *   GET  /login                starts the authorization code flow (PKCE S256, state, nonce)
 *   GET  /callback             Latchkey sends the browser back here with a code (or an error)
 *   POST /logout               ends the app's session, then Latchkey's (RP-initiated logout)
 *   GET  /signed-out           where Latchkey sends the browser after signing out
 *   POST /backchannel-logout   Latchkey says a session ended: a signed logout token, checked, then the
 *                              matching app sessions end (by sid, else by sub)
 *
 * Sessions and sign-ins in progress live in memory: a restart signs everyone out of the app (not of Latchkey).
 */

export interface PortalAppConfig {
  /** Latchkey's public URL (its issuer). */
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** Where this app is reached from the browser; redirect URIs are built from it, never from the Host header. */
  appUrl: URL;
}

export interface AppSession {
  id: string;
  sub: string;
  sid: string | undefined;
  idToken: string;
  claims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
}

/** A sign-in in progress, keyed by its state. */
export interface SignInAttempt {
  verifier: string;
  nonce: string;
  expiresAt: number;
}

export interface PortalApp {
  server: http.Server;
  /** Live app sessions by id (tests look in). */
  sessions: Map<string, AppSession>;
  /** Sign-ins in progress by state (tests look in). */
  attempts: Map<string, SignInAttempt>;
}

const SESSION_COOKIE = 'portal_app_session';
const ATTEMPT_COOKIE = 'portal_app_state';
const ATTEMPT_TTL_MS = 10 * 60_000;
const SCOPE = 'openid profile email phone';
const isHttp = (url: URL) => url.protocol === 'http:';

type Lang = 'en' | 'ru';

const TEXT = {
  en: {
    title: 'Portal app',
    intro: 'An example application of a portal. It knows nobody until Latchkey tells it who arrived.',
    signIn: 'Sign in with Latchkey',
    signOut: 'Sign out',
    welcome: 'Signed in',
    name: 'Name',
    login: 'Login',
    email: 'E-mail',
    phone: 'Phone',
    portal: 'Portal',
    role: { admin: 'administrator', employee: 'employee' } as Record<string, string>,
    verified: 'verified',
    unverified: 'not verified',
    idToken: 'ID token claims',
    userinfo: 'Userinfo',
    signedOut: 'You are signed out of the app and of Latchkey.',
    failed: 'Sign-in did not work',
    again: 'Try again',
    expired: 'This sign-in is unknown or expired. Start again.',
    answered: 'Latchkey answered',
  },
  ru: {
    title: 'Приложение портала',
    intro: 'Пример приложения портала. Оно никого не знает, пока Latchkey не скажет, кто пришёл.',
    signIn: 'Войти через Latchkey',
    signOut: 'Выйти',
    welcome: 'Вы вошли',
    name: 'Имя',
    login: 'Логин',
    email: 'Эл. почта',
    phone: 'Телефон',
    portal: 'Портал',
    role: { admin: 'администратор', employee: 'сотрудник' } as Record<string, string>,
    verified: 'подтверждён',
    unverified: 'не подтверждён',
    idToken: 'Утверждения ID-токена',
    userinfo: 'Userinfo',
    signedOut: 'Вы вышли из приложения и из Latchkey.',
    failed: 'Войти не получилось',
    again: 'Попробовать ещё раз',
    expired: 'Этот вход неизвестен или устарел. Начните заново.',
    answered: 'Ответ Latchkey',
  },
};

const escape = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(lang: Lang, body: string): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${TEXT[lang].title}</title><link rel="icon" href="data:,">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; font-weight: 600; }
  main { max-width: 760px; margin: 24px auto; padding: 0 16px; }
  section { background: #fff; border-radius: 8px; padding: 20px; margin-bottom: 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  h1 { font-size: 1.5rem; margin: 0 0 12px; }
  h2 { font-size: 1.1rem; margin: 0 0 8px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
  dt { color: #5b6475; } dd { margin: 0; overflow-wrap: anywhere; }
  pre { background: #f4f5f7; padding: 12px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 13px; margin: 0; }
  .button { display: inline-block; background: #2f6fde; color: #fff; border: 0; border-radius: 6px; padding: 10px 18px; font: inherit; text-decoration: none; cursor: pointer; }
  .error { color: #b3261e; }
</style></head>
<body><header>${TEXT[lang].title}</header><main>${body}</main></body></html>`;
}

function langOf(request: http.IncomingMessage, session?: AppSession): Lang {
  const locale = session?.userinfo.locale ?? session?.claims.locale;
  if (locale === 'ru' || locale === 'en') return locale;
  const query = new URL(request.url ?? '/', 'http://x').searchParams.get('lang');
  if (query === 'ru' || query === 'en') return query;
  return /^\s*ru\b/i.test(request.headers['accept-language'] ?? '') ? 'ru' : 'en';
}

function cookiesOf(request: http.IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
  }
  return jar;
}

async function readBody(request: http.IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new LogoutTokenError('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function createPortalApp(config: PortalAppConfig): PortalApp {
  const sessions = new Map<string, AppSession>();
  const attempts = new Map<string, SignInAttempt>();
  const seenLogoutTokens = new Map<string, number>();
  const secure = config.appUrl.protocol === 'https:';
  const at = (path: string) => new URL(path, config.appUrl).href;
  const cookie = (name: string, value: string, maxAge: number) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

  // Discovery on first use (and again after a failure), so the app may start before Latchkey does.
  let discovered: Promise<oidc.Configuration> | undefined;
  const provider = () => {
    discovered ??= oidc
      .discovery(config.issuer, config.clientId, config.clientSecret, oidc.ClientSecretBasic(config.clientSecret), isHttp(config.issuer) ? { execute: [oidc.allowInsecureRequests] } : {})
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };
  let jwks: JsonWebKey[] | undefined;
  const keys = async (refresh: boolean) => {
    if (jwks && !refresh) return jwks;
    const uri = (await provider()).serverMetadata().jwks_uri;
    if (!uri) throw new LogoutTokenError('the provider publishes no jwks_uri');
    const response = await fetch(uri);
    jwks = ((await response.json()) as { keys: JsonWebKey[] }).keys;
    return jwks;
  };

  const send = (response: http.ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(html);
  };
  const redirect = (response: http.ServerResponse, location: string, headers: Record<string, string | string[]> = {}) => {
    response.writeHead(303, { location, 'cache-control': 'no-store', ...headers }).end();
  };
  const failure = (lang: Lang, detail: string, error?: string) =>
    page(
      lang,
      `<section data-testid="app-error"><h1>${TEXT[lang].failed}</h1>${error ? `<p>${TEXT[lang].answered}: <code data-testid="app-error-code">${escape(error)}</code></p>` : ''}<p class="error">${escape(detail)}</p><p><a class="button" href="/login">${TEXT[lang].again}</a></p></section>`,
    );

  function home(lang: Lang, session: AppSession | undefined): string {
    const t = TEXT[lang];
    if (!session) {
      return page(lang, `<section><h1>${t.title}</h1><p>${t.intro}</p><p><a class="button" href="/login" data-testid="app-sign-in">${t.signIn}</a></p></section>`);
    }
    const info = session.userinfo;
    const portal = info.portal as { slug?: string; role?: string } | undefined;
    const contact = (value: unknown, verified: unknown) => (value ? `${escape(value)} (${verified ? t.verified : t.unverified})` : '—');
    const rows: Array<[string, string, string]> = [
      ['name', t.name, escape(info.name ?? '—')],
      ['login', t.login, escape(info.preferred_username ?? '—')],
      ['email', t.email, contact(info.email, info.email_verified)],
      ['phone', t.phone, contact(info.phone_number, info.phone_number_verified)],
      ['portal', t.portal, portal ? `${escape(portal.slug)} — ${escape(t.role[portal.role ?? ''] ?? portal.role)}` : '—'],
    ];
    return page(
      lang,
      `<section><h1 data-testid="app-welcome">${t.welcome}: ${escape(info.name ?? info.preferred_username ?? session.sub)}</h1>
<dl>${rows.map(([id, label, value]) => `<dt>${label}</dt><dd data-testid="app-${id}">${value}</dd>`).join('')}</dl>
<form method="post" action="/logout" style="margin-top:16px"><button class="button" type="submit" data-testid="app-sign-out">${t.signOut}</button></form></section>
<section><h2>${t.idToken}</h2><pre data-testid="app-claims">${escape(JSON.stringify(session.claims, null, 2))}</pre></section>
<section><h2>${t.userinfo}</h2><pre data-testid="app-userinfo">${escape(JSON.stringify(info, null, 2))}</pre></section>`,
    );
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', config.appUrl);
    const jar = cookiesOf(request);
    const session = sessions.get(jar.get(SESSION_COOKIE) ?? '');
    const lang = langOf(request, session);
    const route = `${request.method ?? 'GET'} ${url.pathname}`;

    if (route === 'GET /') return send(response, 200, home(lang, session));

    if (route === 'GET /login') {
      const latchkey = await provider();
      const state = oidc.randomState();
      const verifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const now = Date.now();
      for (const [key, attempt] of attempts) if (attempt.expiresAt < now) attempts.delete(key);
      attempts.set(state, { verifier, nonce, expiresAt: now + ATTEMPT_TTL_MS });
      const parameters: Record<string, string> = {
        redirect_uri: at('/callback'),
        scope: SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      // "Am I still signed in at Latchkey?" without showing anything (prompt=none), or "ask me again" (prompt=login).
      const prompt = url.searchParams.get('prompt');
      if (prompt === 'none' || prompt === 'login') parameters.prompt = prompt;
      return redirect(response, oidc.buildAuthorizationUrl(latchkey, parameters).href, { 'set-cookie': cookie(ATTEMPT_COOKIE, state, ATTEMPT_TTL_MS / 1000) });
    }

    if (route === 'GET /callback') {
      const state = url.searchParams.get('state') ?? '';
      const attempt = attempts.get(state);
      // The state must be the one this browser started with, and is used once.
      if (!attempt || jar.get(ATTEMPT_COOKIE) !== state || attempt.expiresAt < Date.now()) return send(response, 400, failure(lang, TEXT[lang].expired));
      attempts.delete(state);
      const clear = cookie(ATTEMPT_COOKIE, '', 0);
      const error = url.searchParams.get('error');
      if (error) return send(response, 400, failure(lang, url.searchParams.get('error_description') ?? '', error), { 'set-cookie': clear });
      const latchkey = await provider();
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(latchkey, url, { pkceCodeVerifier: attempt.verifier, expectedState: state, expectedNonce: attempt.nonce, idTokenExpected: true });
      } catch (problem) {
        const code = problem instanceof oidc.ResponseBodyError ? problem.error : undefined;
        return send(response, 400, failure(lang, problem instanceof Error ? problem.message : String(problem), code), { 'set-cookie': clear });
      }
      // openid-client has checked the ID token's iss, aud, exp and nonce; it came straight from the token
      // endpoint, so its signature needs no check of its own (OpenID Connect Core 3.1.3.7).
      const claims: Record<string, unknown> = { ...tokens.claims() };
      const sub = String(claims.sub);
      const userinfo = await oidc.fetchUserInfo(latchkey, tokens.access_token, sub);
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, { id, sub, sid: typeof claims.sid === 'string' ? claims.sid : undefined, idToken: tokens.id_token ?? '', claims, userinfo: { ...userinfo } });
      return redirect(response, '/', { 'set-cookie': [clear, cookie(SESSION_COOKIE, id, 8 * 3600)] });
    }

    if (route === 'POST /logout') {
      const clear = cookie(SESSION_COOKIE, '', 0);
      if (!session) return redirect(response, '/', { 'set-cookie': clear });
      sessions.delete(session.id);
      // Latchkey asks the person to confirm, ends its session, then sends the browser to /signed-out.
      const end = oidc.buildEndSessionUrl(await provider(), { id_token_hint: session.idToken, post_logout_redirect_uri: at('/signed-out') });
      return redirect(response, end.href, { 'set-cookie': clear });
    }

    if (route === 'GET /signed-out') {
      return send(response, 200, page(lang, `<section><h1 data-testid="app-signed-out">${TEXT[lang].signedOut}</h1><p><a class="button" href="/login">${TEXT[lang].signIn}</a></p></section>`));
    }

    if (route === 'POST /backchannel-logout') {
      const answer = (status: number, body?: unknown) => {
        response.writeHead(status, { 'cache-control': 'no-store', ...(body ? { 'content-type': 'application/json' } : {}) }).end(body ? JSON.stringify(body) : undefined);
      };
      try {
        if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) throw new LogoutTokenError('expected a form body');
        const token = new URLSearchParams(await readBody(request)).get('logout_token');
        if (!token) throw new LogoutTokenError('no logout_token');
        const latchkey = await provider();
        const now = Math.floor(Date.now() / 1000);
        const claims = await verifyLogoutToken(token, { issuer: latchkey.serverMetadata().issuer, clientId: latchkey.clientMetadata().client_id, keys, nowSeconds: now });
        // A token is accepted once: a replay within its lifetime is refused.
        for (const [jti, until] of seenLogoutTokens) if (until < now) seenLogoutTokens.delete(jti);
        if (claims.jti) {
          if (seenLogoutTokens.has(claims.jti)) throw new LogoutTokenError('logout token replayed');
          seenLogoutTokens.set(claims.jti, now + 600);
        }
        for (const [id, candidate] of sessions) {
          if (candidate.sub !== (claims.sub ?? candidate.sub)) continue;
          if (claims.sid ? candidate.sid === claims.sid : candidate.sub === claims.sub) sessions.delete(id);
        }
        return answer(200);
      } catch (problem) {
        if (!(problem instanceof LogoutTokenError)) throw problem;
        return answer(400, { error: 'invalid_request', error_description: problem.message });
      }
    }

    send(response, 404, page(lang, `<section><h1>404</h1><p><a href="/">${TEXT[lang].title}</a></p></section>`));
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      console.error(error);
      if (!response.headersSent) send(response, 502, failure(langOf(request), error instanceof Error ? error.message : String(error)));
      else response.destroy();
    });
  });
  return { server, sessions, attempts };
}
