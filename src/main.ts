import type { ServerResponse } from 'node:http';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { buildDeps } from './deps.js';

/** `latchkey start`: migrate, serve, drain the outbox in this process, stop cleanly on SIGINT/SIGTERM. */
export async function startServer(config: Config): Promise<void> {
  const deps = await buildDeps(config);
  const app = await buildApp(deps);
  // Requests being answered right now; the outbox worker in this process defers to them (outbox.worker.ts).
  let inFlight = 0;
  app.server.on('request', (_request, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', () => (inFlight -= 1));
  });
  deps.worker.yieldWhile(() => inFlight > 0);
  await app.listen({ host: config.host, port: config.port });
  deps.worker.start();
  deps.logger.info(
    { url: config.publicUrl.toString(), edition: config.edition, database: config.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres', devOutbox: config.dev },
    'latchkey ready',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, 'shutting down');
    await app.close();
    await deps.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
