/**
 * Child process: turns the second factor on for seeded accounts TWO_FACTOR_FROM … ACCOUNT_COUNT-1 (bench/env.ts),
 * each with its own known TOTP secret (`benchTotpSecret`), sealed as the enrolment flow seals it. Written
 * straight into second_factors (confirmed): enrolling through the flows would cost two argon2id hashes
 * per account. Prints one JSON line with what it did.
 */
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { buildDeps } from '../src/deps.js';
import { iso } from '../src/kernel/clock.js';
import { Sealer } from '../src/kernel/crypto.js';
import { loggerOptions } from '../src/kernel/logger.js';
import { ACCOUNT_COUNT, TWO_FACTOR_FROM, benchTotpSecret, existingLogin } from './env.js';

const started = performance.now();
const config = loadConfig(process.env);
const deps = await buildDeps(config, { logger: pino(loggerOptions('warn')) });
try {
  const sealer = new Sealer(deps.secretKey, deps.random, 'totp');
  const at = iso(deps.clock.now());
  const indexes = Array.from({ length: ACCOUNT_COUNT - TWO_FACTOR_FROM }, (_, k) => TWO_FACTOR_FROM + k);
  const accounts = await deps.store.db
    .selectFrom('accounts')
    .select(['id', 'login'])
    .where('login', 'in', indexes.map((i) => existingLogin(i)))
    .execute();
  const idOf = new Map(accounts.map((row) => [row.login, row.id]));
  const rows = indexes.map((i) => {
    const id = idOf.get(existingLogin(i));
    if (!id) throw new Error(`no account ${existingLogin(i)}`);
    return { account_id: id, totp_secret_sealed: sealer.seal(benchTotpSecret(i)), created_at: at, confirmed_at: at, last_step: 0 };
  });
  await deps.store.db.insertInto('second_factors').values(rows).execute();
  process.stdout.write(`${JSON.stringify({ accounts: rows.length, ms: Math.round(performance.now() - started) })}\n`);
} finally {
  await deps.close();
}
