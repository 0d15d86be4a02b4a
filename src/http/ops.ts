import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { ping } from '../store/db.js';

/**
 * Liveness and readiness (the database answers), on both listeners; Prometheus metrics only on the management
 * listener (SPEC §7 rule 21): its counters move only for real accounts, so on the public port they would tell
 * who has an account.
 */
export async function opsRoutes(app: FastifyInstance, opts: { deps: Deps; metrics: boolean }): Promise<void> {
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
  if (!opts.metrics) return;
  app.get('/metrics', async (_request, reply) => reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()));
}
