import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { freeLoopbackPort } from './browser.js';

/** The person the provider signs in next, as the provider knows them. */
export interface ProviderUser {
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
}

/**
 * A real OpenID Connect provider (oidc-provider) on a loopback port. Its login and consent screens are
 * replaced by an automatic answer: it signs in `nextUser` and grants what was asked, or, with `cancel`,
 * answers `access_denied` as when a person presses "Cancel" at the provider.
 */
export class TestOidcProvider {
  nextUser: ProviderUser = { sub: 'user-1', email: 'user1@example.org', emailVerified: true, name: 'User One' };
  cancel = false;
  private server: http.Server | undefined;

  private constructor(
    readonly issuer: string,
    readonly port: number,
    private readonly provider: Provider,
  ) {}

  static async start(options: { clientId: string; clientSecret: string; redirectUris: string[] }): Promise<TestOidcProvider> {
    const port = await freeLoopbackPort();
    const issuer = `http://127.0.0.1:${port}`;
    const users = new Map<string, ProviderUser>();
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: options.clientId,
          client_secret: options.clientSecret,
          redirect_uris: options.redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      pkce: { required: () => true },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      cookies: { keys: ['latchkey-test-provider-cookie-key'] },
      // Its own signing key (oidc-provider's built-in development keys print a warning at every start).
      jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
      async findAccount(_ctx, sub) {
        const user = users.get(sub) ?? { sub };
        return {
          accountId: sub,
          async claims() {
            return {
              sub,
              ...(user.email === undefined ? {} : { email: user.email, email_verified: user.emailVerified ?? false }),
              ...(user.name === undefined ? {} : { name: user.name }),
            };
          },
        };
      },
    });
    const test = new TestOidcProvider(issuer, port, provider);
    const callback = provider.callback();
    test.server = http.createServer((req, res) => {
      if (req.url?.startsWith('/interaction/')) {
        test.answerInteraction(req, res, users).catch((error: unknown) => {
          res.statusCode = 500;
          res.end(String(error));
        });
        return;
      }
      callback(req, res);
    });
    await new Promise<void>((resolve) => test.server?.listen(port, '127.0.0.1', resolve));
    return test;
  }

  private async answerInteraction(req: http.IncomingMessage, res: http.ServerResponse, users: Map<string, ProviderUser>): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (this.cancel) {
      await this.provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false });
      return;
    }
    const user = this.nextUser;
    users.set(user.sub, user);
    const grant = new this.provider.Grant({ accountId: user.sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await this.provider.interactionFinished(req, res, { login: { accountId: user.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  /** Stops answering: connections are refused, as when the provider is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get address(): AddressInfo | undefined {
    return this.server?.address() as AddressInfo | undefined;
  }
}

/** A server that accepts connections and never answers: a provider that hangs. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(() => {
    /* never answers */
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
