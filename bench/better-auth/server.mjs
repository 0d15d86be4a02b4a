/**
 * Better Auth (the version pinned in ./package.json) as the bench's comparison server: e-mail + password
 * on PostgreSQL through node-postgres, served by Node's http server through `toNodeHandler`, set up the
 * way its documentation shows, with what makes the comparison fair:
 *   - password hashing: argon2id through @node-rs/argon2 with Latchkey's parameters (m=19456 KiB, t=2,
 *     p=1) instead of Better Auth's default scrypt, so both pay the same for one hash;
 *   - `sendResetPassword` does nothing (Latchkey's letters go to its development outbox), rate limits
 *     off (Latchkey runs with LATCHKEY_RATE_LIMITS=off), logger off (Latchkey logs at `warn`, and Better
 *     Auth warns on every unknown e-mail), telemetry off;
 *   - a node-postgres pool of 10 connections, as Latchkey's; the bench gives both the same
 *     UV_THREADPOOL_SIZE.
 *
 *   node server.mjs seed <count>   create Better Auth's tables (its migration API) and <count> users
 *                                  user0000@example.org … with one precomputed hash of the bench password;
 *                                  prints one JSON line
 *   node server.mjs serve          listen on 127.0.0.1:$BENCH_PORT (ready: GET /api/auth/ok)
 *
 * Environment: BENCH_DATABASE_URL, BENCH_PORT, BENCH_PASSWORD.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { hash, verify } from '@node-rs/argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import pg from 'pg';

/** Latchkey's ARGON2_OPTIONS (src/kernel/password-hasher.ts); algorithm 2 is argon2id. */
const ARGON2 = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PUBLIC_URL = 'http://localhost:3000';

const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: 10 });
pool.on('error', () => undefined);

const options = {
  baseURL: PUBLIC_URL,
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  database: pool,
  emailAndPassword: {
    enabled: true,
    sendResetPassword: async () => undefined,
    password: {
      hash: (password) => hash(password, ARGON2),
      verify: ({ hash: stored, password }) => verify(stored, password),
    },
  },
  rateLimit: { enabled: false },
  logger: { disabled: true },
  telemetry: { enabled: false },
};

const [command = 'serve', countArg = '1000'] = process.argv.slice(2);

if (command === 'seed') {
  const started = performance.now();
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  const count = Number(countArg);
  const stored = await hash(process.env.BENCH_PASSWORD ?? '', ARGON2);
  // What sign-up would write (a user and its credential account), without paying one hash per user.
  await pool.query(
    `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
     SELECT 'u' || lpad(g::text, 7, '0'), 'User ' || g, 'user' || lpad(g::text, 4, '0') || '@example.org', true, now(), now()
     FROM generate_series(0, $1::int - 1) AS g`,
    [count],
  );
  await pool.query(
    `INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
     SELECT 'a' || lpad(g::text, 7, '0'), 'u' || lpad(g::text, 7, '0'), 'credential', 'u' || lpad(g::text, 7, '0'), $2, now(), now()
     FROM generate_series(0, $1::int - 1) AS g`,
    [count, stored],
  );
  await pool.query('ANALYZE');
  await pool.end();
  process.stdout.write(`${JSON.stringify({ users: count, ms: Math.round(performance.now() - started) })}\n`);
} else {
  const auth = betterAuth(options);
  const server = http.createServer(toNodeHandler(auth));
  const stop = () => server.close(() => void pool.end().finally(() => process.exit(0)));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The bench gone (its IPC channel closed, even after a SIGKILL): stop too.
  process.on('disconnect', stop);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
}
