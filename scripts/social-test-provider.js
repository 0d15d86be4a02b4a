#!/usr/bin/env node
// A social sign-in provider on your own machine, to try "Sign in with …" without registering an app anywhere:
// a real OpenID Connect provider (oidc-provider) whose login form accepts any name. Type an e-mail address as the
// login to arrive with that (verified) e-mail; anything else arrives with no e-mail.
//
//   npm run social:local            # listens on http://127.0.0.1:4000 (PORT=… to change)
//   then start Latchkey with the variables it prints.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 4000);
const latchkey = (process.env.LATCHKEY_PUBLIC_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const issuer = `http://127.0.0.1:${port}`;
const clientId = 'latchkey-local';
const clientSecret = 'latchkey-local-secret';

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [`${latchkey}/auth/local/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The library's own login and consent screens: fine for a provider that only exists on this machine.
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['latchkey-local-provider'] },
  jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'local', use: 'sig', alg: 'RS256' }] },
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, name: sub.split('@')[0], ...(sub.includes('@') ? { email: sub, email_verified: true } : {}) };
      },
    };
  },
});

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`Local sign-in provider at ${issuer} (any login; an e-mail address as login arrives verified).`);
  console.log('Start Latchkey with:');
  console.log(`  LATCHKEY_SOCIAL_LOCAL_ISSUER=${issuer} LATCHKEY_SOCIAL_LOCAL_CLIENT_ID=${clientId} \\`);
  console.log(`  LATCHKEY_SOCIAL_LOCAL_CLIENT_SECRET=${clientSecret} LATCHKEY_SOCIAL_LOCAL_TITLE="Local test provider" npm start`);
});
