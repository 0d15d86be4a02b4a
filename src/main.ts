import { buildApp, buildManagementApp } from './app.js';
import type { Config } from './config.js';
import { buildDeps } from './deps.js';
import { requestPressure } from './kernel/request-pressure.js';
import { markServing } from './store/server-lock.js';

/** `latchkey start`: migrate, serve, drain the outbox in this process, stop cleanly on SIGINT/SIGTERM. */
export async function startServer(config: Config): Promise<void> {
  // `latchkey restore` refuses while this mark says a server runs on the database (a killed one's counts for nothing).
  const unmarkServing = markServing(config.databaseUrl);
  process.once('exit', unmarkServing);
  const deps = await buildDeps(config);
  const app = await buildApp(deps);
  const management = await buildManagementApp(deps);
  // The outbox worker in this process defers to requests while they saturate it (outbox.worker.ts).
  const pressure = requestPressure(app.server);
  deps.worker.yieldWhile(pressure.pressing);
  try {
    await management.listen({ host: config.management.host, port: config.management.port });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // Nothing may keep the process alive after a failed start: close what opened, then say which setting.
    const managementUp = management.server.listening;
    await management.close();
    await app.close();
    await deps.close();
    const busy = (error as { code?: string }).code === 'EADDRINUSE';
    const which = managementUp ? `LATCHKEY_HOST/LATCHKEY_PORT (${config.host}:${config.port})` : `LATCHKEY_MANAGEMENT_HOST/LATCHKEY_MANAGEMENT_PORT (${config.management.host}:${config.management.port})`;
    throw new Error(busy ? `${which}: the address is in use by another process` : `${which}: ${(error as Error).message}`);
  }
  const managementAddress = management.server.address();
  deps.worker.start();
  deps.logger.info(
    {
      url: config.publicUrl.toString(),
      management: typeof managementAddress === 'object' && managementAddress ? `${managementAddress.address}:${managementAddress.port}` : config.management.port,
      edition: config.edition,
      database: config.databaseUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres', devOutbox: config.dev,
    },
    'latchkey ready',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, 'shutting down');
    await app.close();
    await management.close();
    await deps.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  stopWithLauncher(() => void stop('launcher exited'));
}

/**
 * Under `npx latchkey start` (or a `start` script without `exec`) npm runs this process through a shell
 * that does not pass signals on: stopping npm left the server running, re-parented (issue 14, item 2). A
 * process npm started (it sets `npm_command`) therefore stops when its parent goes away. Started directly
 * (systemd, a shell, a test) nothing changes.
 */
function stopWithLauncher(stop: () => void): void {
  if (process.env.npm_command === undefined) return;
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(watch);
      stop();
    }
  }, 500);
  watch.unref();
}
