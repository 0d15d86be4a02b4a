import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { deleteExpiredModels } from '../oidc/adapter.js';
import { answerInteraction } from '../oidc/interactions.js';
import { endSessionAfterProviderLogout, recordProviderSession } from '../oidc/logout.js';
import { INTERACTION_PATH, OIDC_PREFIX, createProvider } from '../oidc/provider.js';
import { loadSession } from './auth.js';
import { rememberLang } from './request.js';
import { SESSION_COOKIE } from './security.js';

/**
 * Headers for the provider's own responses (hijacked, so the app's onSend hook does not see them). The
 * library adds the hash of its one inline script (form_post) to script-src; form-action stays open
 * because form_post answers to the client's redirect URI.
 */
const PROVIDER_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Authorization responses carry codes in the URL: no Referer leaves with them.
  'referrer-policy': 'no-referrer',
};

/** How often expired codes, tokens, sessions and interactions are deleted. */
const CLEANUP_INTERVAL_MS = 10 * 60_000;

/**
 * The OpenID Connect provider (SPEC §10) in the Fastify app: discovery at the root and the endpoints under
 * /oidc are the library's (a Koa app, given the raw request whose body is still unread); the interaction
 * page /oidc/interaction/<uid> is Latchkey's.
 */
export async function oidcRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const provider = await createProvider(deps);
  const secure = deps.config.publicUrl.protocol === 'https:';
  const publicHost = deps.config.publicUrl.host;

  provider.use(async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    // An application got a code: its sid and grant end with this browser's Latchkey session (src/oidc/logout.ts).
    if ((route === 'authorization' || route === 'resume') && ctx.oidc.entities.AuthorizationCode) {
      await recordProviderSession(deps, ctx.oidc, ctx.cookies.get(SESSION_COOKIE, { signed: false }));
    }
    // RP-initiated logout ends the Latchkey session too, once the person confirmed "sign me out", and with it
    // every application signed in under it (their logout tokens go from the outbox).
    if (route === 'end_session_confirm' && ctx.status < 400 && ctx.oidc.params?.logout) {
      const ended = { uid: ctx.oidc.session?.uid, accountId: ctx.oidc.session?.accountId };
      if (await endSessionAfterProviderLogout(deps, ended, ctx.cookies.get(SESSION_COOKIE, { signed: false }))) {
        ctx.append('set-cookie', `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`);
      }
    }
  });
  const handle = provider.callback();

  const hand = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const raw = request.raw;
    // Endpoint URLs in discovery and redirects come from LATCHKEY_PUBLIC_URL, never from the Host header.
    raw.headers.host = publicHost;
    if (provider.proxy) {
      raw.headers['x-forwarded-host'] = publicHost;
      raw.headers['x-forwarded-proto'] = deps.config.publicUrl.protocol.replace(':', '');
    }
    for (const [name, value] of Object.entries(PROVIDER_HEADERS)) reply.raw.setHeader(name, value);
    await handle(raw, reply.raw);
  };

  await app.register(async (library) => {
    // The library reads and parses bodies itself: nothing here may consume the stream first.
    library.removeAllContentTypeParsers();
    library.addContentTypeParser('*', (_request, _payload, done) => done(null));
    library.all('/.well-known/openid-configuration', hand);
    library.all(`${OIDC_PREFIX}/*`, hand);
  });

  await app.register(async (pages) => {
    pages.addHook('preValidation', loadSession(deps));
    pages.addHook('preValidation', async (request, reply) => rememberLang(request, reply));
    pages.get<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid`, (request, reply) => answerInteraction(deps, provider, request, reply));
  });

  let cleanup: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    cleanup = setInterval(() => {
      deleteExpiredModels(deps.store.db, deps.clock.now()).catch((error: unknown) => deps.logger.warn({ err: error }, 'oidc cleanup failed'));
    }, CLEANUP_INTERVAL_MS);
    cleanup.unref();
  });
  app.addHook('onClose', async () => clearInterval(cleanup));
}
