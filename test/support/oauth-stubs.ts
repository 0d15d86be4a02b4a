import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * VK ID and Yandex ID as real HTTP servers on 127.0.0.1, following the providers' documented endpoints
 * (id.vk.com: /authorize, POST /oauth2/auth, POST /oauth2/user_info; oauth.yandex.ru: /authorize, POST /token,
 * and login.yandex.ru's GET /info, served here as {base}/info). They check what the real ones check for this
 * flow: client id, redirect URI, PKCE S256 (the verifier against the stored challenge), single-use codes,
 * VK's device_id, and the access token on the profile request.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The urlencoded body's fields (empty for GET). */
  form: Record<string, string>;
  authorization: string | undefined;
}

export interface OAuthStubOptions {
  clientId?: string;
  /** When set, the token request must prove it (form `client_secret` or HTTP Basic). */
  clientSecret?: string;
  /** The one registered redirect URI; authorize refuses any other. */
  redirectUri?: string;
}

export interface OAuthStub {
  /** The endpoint base to configure as the provider's issuer. */
  readonly base: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUri: string;
  /** The profile bound to the next code authorize hands out (a copy is taken then). Drop its id to test `no_subject`. */
  nextUser: Record<string, unknown>;
  /** Authorize redirects back with `error=access_denied`, as when the person presses "Cancel". */
  deny: boolean;
  /** Every request is read and recorded, then never answered (a provider that hangs). */
  slow: boolean;
  /** The profile endpoint refuses every token with 401 `invalid_token`. */
  failProfile: boolean;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Every code and token handed out: none may ever appear in an error. */
  readonly issued: string[];
  /** Stops listening: connections are refused from now on. */
  down(): Promise<void>;
  stop(): Promise<void>;
}

export interface VkIdStub extends OAuthStub {
  /** When set, the token answer echoes this `state` instead of the one sent. */
  tokenState: string | undefined;
}

export type YandexIdStub = OAuthStub;

interface Grant {
  challenge: string;
  redirectUri: string;
  deviceId: string;
  user: Record<string, unknown>;
}

interface Exchange {
  request: RecordedRequest;
  response: http.ServerResponse;
}

type Route = (exchange: Exchange) => void;

export function defaultVkUser(): Record<string, unknown> {
  return {
    user_id: '1234567890',
    first_name: 'Ivan',
    last_name: 'Petrov',
    phone: '79991234567',
    avatar: 'https://sun1-00.userapi.com/s/v1/ig2/avatar.jpg',
    email: 'ivan.petrov@example.ru',
    sex: 2,
    verified: false,
    birthday: '01.02.1990',
  };
}

export function defaultYandexUser(): Record<string, unknown> {
  return {
    id: '1000034426',
    login: 'ivan.petrov',
    default_email: 'ivan.petrov@yandex.ru',
    emails: ['ivan.petrov@yandex.ru', 'ivan@example.ru'],
    real_name: 'Ivan Petrov',
    display_name: 'ivan.petrov',
    default_phone: { id: 12345678, number: '+79037659418' },
    psuid: '1.AAceCw.tbHgw5DtJ9_zeqPrk-Ba2w.qPWSRC5v2t2IaksPJgnge',
  };
}

/** VK ID: `GET /authorize`, `POST /oauth2/auth`, `POST /oauth2/user_info`. */
export async function startVkIdStub(options: OAuthStubOptions = {}): Promise<VkIdStub> {
  const stub = new StubServer(options, defaultVkUser());
  const vk = stub as StubServer & { tokenState: string | undefined };
  vk.tokenState = undefined;
  const tokens = new Map<string, Record<string, unknown>>();

  stub.route('GET /authorize', (exchange) => stub.authorize(exchange, true));

  stub.route('POST /oauth2/auth', ({ request, response }) => {
    const form = request.form;
    if (form.grant_type !== 'authorization_code') return json(response, 400, { error: 'unsupported_grant_type' });
    if (form.client_id !== stub.clientId) return json(response, 401, { error: 'invalid_client' });
    if (!form.state) return json(response, 400, { error: 'invalid_request', error_description: 'state is required' });
    const grant = stub.redeem(form.code);
    if (!grant) return json(response, 400, { error: 'invalid_grant', error_description: 'code is invalid or used' });
    const refusal = grantRefusal(grant, form);
    if (refusal) return json(response, 400, { error: 'invalid_grant', error_description: refusal });
    if (form.device_id !== grant.deviceId) return json(response, 400, { error: 'invalid_grant', error_description: 'device_id mismatch' });
    const accessToken = stub.issue(`vk2.a.${secret()}`);
    tokens.set(accessToken, grant.user);
    const userId = grant.user.user_id;
    json(response, 200, {
      access_token: accessToken,
      refresh_token: stub.issue(`vk2.a.${secret()}`),
      id_token: stub.issue(`eyJ${secret()}.${secret()}.${secret()}`),
      token_type: 'Bearer',
      expires_in: 3600,
      ...(userId === undefined ? {} : { user_id: typeof userId === 'string' && /^\d+$/.test(userId) ? Number(userId) : userId }),
      state: vk.tokenState ?? form.state,
      scope: 'email phone',
    });
  });

  stub.route('POST /oauth2/user_info', ({ request, response }) => {
    const bearer = /^Bearer (.+)$/.exec(request.authorization ?? '')?.[1];
    const token = request.form.access_token ?? bearer;
    if (request.form.client_id !== stub.clientId) return json(response, 400, { error: 'invalid_client' });
    const user = token === undefined ? undefined : tokens.get(token);
    if (!user || stub.failProfile) return json(response, 401, { error: 'invalid_token', error_description: 'access token is invalid or expired' });
    json(response, 200, { user });
  });

  await stub.listen();
  return vk;
}

/** Yandex ID: `GET /authorize`, `POST /token`, and the profile `GET /info` (login.yandex.ru in production). */
export async function startYandexIdStub(options: OAuthStubOptions = {}): Promise<YandexIdStub> {
  const stub = new StubServer(options, defaultYandexUser());
  const tokens = new Map<string, Record<string, unknown>>();

  stub.route('GET /authorize', (exchange) => stub.authorize(exchange, false));

  stub.route('POST /token', ({ request, response }) => {
    const form = request.form;
    const basic = /^Basic (.+)$/.exec(request.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':') : [];
    if (form.grant_type !== 'authorization_code') return json(response, 400, { error: 'unsupported_grant_type' });
    if ((form.client_id ?? basicId) !== stub.clientId) return json(response, 400, { error: 'invalid_client', error_description: 'Client not found' });
    if (stub.clientSecret !== undefined && (form.client_secret ?? basicSecret) !== stub.clientSecret) {
      return json(response, 400, { error: 'invalid_client', error_description: 'Wrong client secret' });
    }
    const grant = stub.redeem(form.code);
    if (!grant) return json(response, 400, { error: 'invalid_grant', error_description: 'Code has expired' });
    const refusal = grantRefusal(grant, form);
    if (refusal) return json(response, 400, { error: 'invalid_grant', error_description: refusal });
    const accessToken = stub.issue(`y0_${secret()}`);
    tokens.set(accessToken, grant.user);
    json(response, 200, { access_token: accessToken, expires_in: 31536000, refresh_token: stub.issue(`1:${secret()}`), token_type: 'bearer' });
  });

  stub.route('GET /info', ({ request, response }) => {
    const token = /^OAuth (.+)$/.exec(request.authorization ?? '')?.[1];
    const user = token === undefined ? undefined : tokens.get(token);
    if (!user || stub.failProfile) return json(response, 401, { error: 'invalid_token', error_description: 'OAuth token is invalid or expired' });
    if ((request.query.format ?? 'json') !== 'json') return json(response, 400, { error: 'unsupported format' });
    json(response, 200, { ...user, client_id: stub.clientId });
  });

  await stub.listen();
  return stub;
}

/** A token request's PKCE and redirect URI checks against the stored grant (RFC 7636 §4.6, RFC 6749 §4.1.3). */
function grantRefusal(grant: Grant, form: Record<string, string>): string | undefined {
  if (!form.code_verifier || !/^[A-Za-z0-9._~-]{43,128}$/.test(form.code_verifier)) return 'code_verifier missing or malformed';
  if (createHash('sha256').update(form.code_verifier).digest('base64url') !== grant.challenge) return 'code_verifier does not match code_challenge';
  if (form.redirect_uri !== undefined && form.redirect_uri !== grant.redirectUri) return 'redirect_uri mismatch';
  return undefined;
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

function json(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

class StubServer implements OAuthStub {
  base = '';
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly redirectUri: string;
  nextUser: Record<string, unknown>;
  deny = false;
  slow = false;
  failProfile = false;
  readonly requests: RecordedRequest[] = [];
  readonly issued: string[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly grants = new Map<string, Grant>();
  private closed = false;
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://stub');
      const text = Buffer.concat(chunks).toString('utf8');
      const urlencoded = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ?? false;
      const recorded: RecordedRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        form: urlencoded ? Object.fromEntries(new URLSearchParams(text)) : {},
        authorization: request.headers.authorization,
      };
      this.requests.push(recorded);
      if (this.slow) return; // read, never answered; stop() drops the connection
      const route = this.routes.get(`${recorded.method} ${recorded.path}`);
      if (!route) return json(response, 404, { error: 'not_found' });
      if (recorded.method === 'POST' && !urlencoded) return json(response, 400, { error: 'invalid_request', error_description: 'form body expected' });
      route({ request: recorded, response });
    });
  });

  constructor(options: OAuthStubOptions, user: Record<string, unknown>) {
    this.clientId = options.clientId ?? 'latchkey-test-client';
    this.clientSecret = options.clientSecret;
    this.redirectUri = options.redirectUri ?? 'http://127.0.0.1:3000/auth/test/callback';
    this.nextUser = user;
  }

  route(key: string, handler: Route): void {
    this.routes.set(key, handler);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The authorization endpoint: the person "signs in and allows" at once (or cancels, with `deny`). */
  authorize({ request, response }: Exchange, withDeviceId: boolean): void {
    const q = request.query;
    // An unknown client or redirect URI is shown as an error page, never redirected to (RFC 6749 §4.1.2.1).
    if (q.client_id !== this.clientId) return json(response, 400, { error: 'invalid_client' });
    if (q.redirect_uri !== this.redirectUri) return json(response, 400, { error: 'invalid_request', error_description: 'redirect_uri is not registered' });
    const back = new URL(this.redirectUri);
    const redirect = (params: Record<string, string>) => {
      for (const [name, value] of Object.entries(params)) back.searchParams.set(name, value);
      if (q.state !== undefined) back.searchParams.set('state', q.state);
      response.writeHead(302, { location: back.toString() }).end();
    };
    if (q.response_type !== 'code') return redirect({ error: 'unsupported_response_type' });
    if (q.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge ?? '')) {
      return redirect({ error: 'invalid_request', error_description: 'PKCE S256 code_challenge required' });
    }
    if (this.deny) return redirect({ error: 'access_denied', error_description: 'User denied access' });
    const code = this.issue(secret());
    const deviceId = randomUUID();
    this.grants.set(code, { challenge: q.code_challenge as string, redirectUri: this.redirectUri, deviceId, user: structuredClone(this.nextUser) });
    redirect(withDeviceId ? { code, device_id: deviceId, type: 'code_v2', expires_in: '600' } : { code });
  }

  /** Takes a code out: it answers once, whatever the outcome of that request. */
  redeem(code: string | undefined): Grant | undefined {
    if (code === undefined) return undefined;
    const grant = this.grants.get(code);
    this.grants.delete(code);
    return grant;
  }

  issue(value: string): string {
    this.issued.push(value);
    return value;
  }

  async down(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
  }

  stop(): Promise<void> {
    return this.down();
  }
}
