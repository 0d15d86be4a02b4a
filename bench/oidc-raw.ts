/**
 * Child process: a raw `oidc-provider` with its default in-memory adapter, configured as Latchkey's provider
 * is (src/oidc/provider.ts: scopes, claims, PKCE, lifetimes, an RS256 and an ES256 key), one confidential
 * client, and an account whose claims come from memory. The bench sets its token and userinfo rates beside
 * Latchkey's: the difference is what Latchkey's storage (PostgreSQL rows, membership checks) costs.
 *
 * Serves on 127.0.0.1:$BENCH_PORT; GET /bench/tokens answers (once it is ready) a refresh token and an access
 * token minted for the client through the library's own models. Stops when the bench goes (IPC closes).
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { JWK } from 'oidc-provider';
import { CLAIMS, SCOPES } from '../src/oidc/claims.js';

process.on('disconnect', () => process.exit(0));

const RAW_CLIENT = { id: 'bench-app', secret: 'bench-raw-client-secret-0123456789abcdef', redirectUri: 'http://127.0.0.1:9/callback' };

const port = Number(process.env.BENCH_PORT);
const issuer = `http://127.0.0.1:${port}`;
const { default: Provider } = await import('oidc-provider');
const keys = [
  { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'rs256-1', alg: 'RS256', use: 'sig' },
  { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'es256-1', alg: 'ES256', use: 'sig' },
] as JWK[];
const accountId = 'bench-account';
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: RAW_CLIENT.id,
      client_secret: RAW_CLIENT.secret,
      redirect_uris: [RAW_CLIENT.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, name: 'Bench User', preferred_username: 'user0000', locale: 'en', email: 'user0000@example.org', email_verified: true, portal: { slug: 'bench', role: 'employee' } }),
  }),
  jwks: { keys },
  pkce: { required: () => true },
  responseTypes: ['code'],
  scopes: SCOPES,
  claims: CLAIMS,
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, RefreshToken: 14 * 24 * 3600 },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true }, introspection: { enabled: true } },
  routes: { token: '/oidc/token', userinfo: '/oidc/me', jwks: '/oidc/jwks' },
});

// What a code exchange with `offline_access` would have left: a grant, a refresh token and an access token.
const client = await provider.Client.find(RAW_CLIENT.id);
if (!client) throw new Error('the bench client is missing');
const grant = new provider.Grant({ accountId, clientId: RAW_CLIENT.id });
grant.addOIDCScope('openid profile email offline_access');
const grantId = await grant.save();
const scope = 'openid profile email offline_access';
const refreshToken = await new provider.RefreshToken({ accountId, client, grantId, scope, gty: 'authorization_code', authTime: Math.floor(Date.now() / 1000) }).save();
// The memory adapter keeps at most 1000 entries (an LRU): the token phase's thousands of new access tokens push
// out any minted before it, so each call mints a fresh access token for the phase that follows.
const mintAccessToken = () => new provider.AccessToken({ accountId, client, grantId, scope, gty: 'authorization_code' }).save();

const handle = provider.callback();
http
  .createServer((request, response) => {
    if (request.url === '/bench/tokens') {
      void mintAccessToken().then((accessToken) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ refreshToken, accessToken, clientId: RAW_CLIENT.id, clientSecret: RAW_CLIENT.secret })),
      );
      return;
    }
    void handle(request, response);
  })
  .listen(port, '127.0.0.1');
