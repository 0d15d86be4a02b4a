import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Deps } from './deps.js';
import { adminApiRoutes } from './http/admin-api.js';
import { adminPageRoutes } from './http/admin-pages.js';
import { apiRoutes } from './http/api.js';
import { boxRoutes } from './http/box.js';
import { devOutboxRoutes } from './http/dev-outbox.js';
import { invitationApiRoutes, invitationPageRoutes } from './http/invitations.js';
import { notMeApiRoutes, notMePageRoutes } from './http/not-me.js';
import { oidcRoutes } from './http/oidc.js';
import { loadDeviceCookie } from './http/device-cookie.js';
import { clientErrorHandler, sendError } from './http/errors.js';
import { openApiRoute, registerOpenApi } from './http/openapi.js';
import { opsRoutes } from './http/ops.js';
import { pageRoutes } from './http/pages.js';
import { sessionApiRoutes, sessionPageRoutes } from './http/sessions.js';
import { contactChangeApiRoutes, contactChangePageRoutes, emailConfirmRoutes } from './http/contact-change.js';
import { securityHeaders } from './http/security.js';
import { secondFactorApiRoutes, secondFactorPageRoutes } from './http/second-factor.js';
import { socialRoutes } from './http/social.js';
import { AppError } from './kernel/errors.js';
import { logoOrigin } from './ui/brand.js';

/** 64 KiB is far more than any form or JSON body here needs; larger bodies get 413 before parsing. */
const BODY_LIMIT = 64 * 1024;

/** Builds the HTTP app over its dependencies; never listens (src/main.ts does). */
export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; naming the base type keeps the instance type the plugins expect.
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 200 },
    // Types are checked, never coerced: an array or a number where a string belongs is a 400.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    return503OnClosing: true,
    // Refusals Fastify or Node make before any route runs (a bad percent-escape or an over-long segment in
    // the path, a malformed request line, oversized headers, a body that never arrives) are problems too.
    frameworkErrors: (error, request, reply) => sendError(error, request, reply),
    clientErrorHandler,
    // One access line per request, written by our onResponse hook with secrets cut out of the URL.
    logController: new LogController({ disableRequestLogging: true }),
    // The client's address comes from X-Forwarded-For only when the connection is from a trusted proxy
    // (SPEC §7 rule 21); otherwise every client behind a TLS proxy would share one set of per-IP limits.
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
  });
  app.decorateRequest('auth', null);
  // Filled by the onRequest hook below; a getter default would be shared between requests.
  app.decorateRequest('knownAccounts', null as unknown as ReadonlySet<string>);
  await app.register(cookie);
  app.addHook('onRequest', loadDeviceCookie(deps.secretKey));
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  // Before the routes: the generator collects them as they are added.
  await registerOpenApi(app, deps);

  app.addHook('onSend', securityHeaders(deps.config.publicUrl.protocol === 'https:', logoOrigin(deps.config.brand)));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    deps.metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
    request.log.info({ req: request, res: reply, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new AppError('not_found'), request, reply));

  await app.register(opsRoutes, { deps, metrics: false });
  await app.register(apiRoutes, { deps, prefix: '/api/v1' });
  await app.register(adminApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(pageRoutes, { deps });
  await app.register(boxRoutes, { deps });
  await app.register(socialRoutes, { deps });
  await app.register(adminPageRoutes, { deps });
  await app.register(invitationApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(invitationPageRoutes, { deps });
  await app.register(oidcRoutes, { deps });
  await app.register(secondFactorApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(secondFactorPageRoutes, { deps });
  await app.register(sessionApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(sessionPageRoutes, { deps });
  await app.register(notMeApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(notMePageRoutes, { deps });
  await app.register(contactChangeApiRoutes, { deps, prefix: '/api/v1' });
  await app.register(contactChangePageRoutes, { deps });
  await app.register(emailConfirmRoutes, { deps });
  if (deps.config.dev) await app.register(devOutboxRoutes, { deps });
  await openApiRoute(app);
  return app;
}

/** The management listener's app (SPEC §3 LATCHKEY_MANAGEMENT_*): /metrics, /healthz, /readyz, nothing else. */
export async function buildManagementApp(deps: Deps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new AppError('not_found'), request, reply));
  await app.register(opsRoutes, { deps, metrics: true });
  return app;
}
