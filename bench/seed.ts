/**
 * Child process: seeds the bench database through the operator flows (the same code `latchkey user add`
 * runs); every account gets a verified e-mail and a verified phone, as operator-added contacts do.
 * Argon2 is paid once: accounts are added without a password, then given one precomputed hash of
 * BENCH_PASSWORD through the accounts repository. Prints one JSON line with what it did.
 */
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { addPortal, addUser } from '../src/flows/operator.js';
import { hashNewPassword } from '../src/flows/password-change.js';
import { iso } from '../src/kernel/clock.js';
import { loggerOptions } from '../src/kernel/logger.js';
import { setPasswordHash } from '../src/store/accounts.repo.js';
import { ACCOUNT_COUNT, BENCH_PASSWORD, BENCH_PORTAL, existingEmail, existingLogin, existingPhone } from './env.js';

const started = performance.now();
const config = loadConfig(process.env);
const deps = await buildDeps(config, { logger: pino(loggerOptions('warn')) });
try {
  await addPortal(deps, { slug: BENCH_PORTAL, title: 'Bench portal' });
  // One real hash through the policy check; every account gets this same string.
  const hash = await hashNewPassword(deps, BENCH_PASSWORD, { login: existingLogin(0), email: existingEmail(0), name: null });
  const at = iso(deps.clock.now());
  for (let i = 0; i < ACCOUNT_COUNT; i += 1) {
    const account = await addUser(deps, {
      login: existingLogin(i),
      email: existingEmail(i),
      phone: existingPhone(i),
      locale: i % 2 === 0 ? 'en' : 'ru',
      portals: [{ slug: BENCH_PORTAL, role: 'employee' }],
    });
    await setPasswordHash(deps.store.db, account.id, hash, at);
  }
  process.stdout.write(`${JSON.stringify({ accounts: ACCOUNT_COUNT, ms: Math.round(performance.now() - started) })}\n`);
} finally {
  await deps.close();
}
