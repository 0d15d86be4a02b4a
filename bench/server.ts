/**
 * Child process: the real server, started exactly as `latchkey start` does (src/main.ts), configured
 * from the environment the bench gives it. If the bench goes away (its IPC channel closes, even on a
 * SIGKILL of the parent), the server shuts itself down the normal way.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { startServer } from '../src/main.js';

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

try {
  await startServer(loadConfig(process.env));
} catch (error) {
  console.error(`bench server: ${error instanceof ConfigError ? error.problems.join('; ') : String(error)}`);
  process.exit(1);
}
