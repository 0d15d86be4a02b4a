import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { ping } from '../store/db.js';

/** Liveness, readiness (the database answers) and Prometheus metrics. */
export async function opsRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await Promise.race([ping(deps.store.db), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
      return { status: 'ready' };
    } catch {
      return reply.status(503).type('application/problem+json').send({ type: 'about:blank', title: 'Temporarily unavailable', status: 503, code: 'unavailable' });
    }
  });
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
}
